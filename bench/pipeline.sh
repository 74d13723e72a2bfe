#!/usr/bin/env bash
# The steps of `kamal-dev deploy --count 1` as a plain shell pipeline, with no kamal-dev and no
# Temporal in it: the baseline the benchmark measures kamal-dev against (bench/deploy.ts drives it).
#
#   pipeline.sh ID PROJECT_DIR WORK_DIR
#
# WORK_DIR holds what kamal-dev would have made before a deploy: the SSH key (id_ed25519[.pub]), the
# bootstrap scripts of src/docker/bootstrap.ts (bootstrap-install.sh, bootstrap-start.sh), the
# transformed compose file (compose.yaml) and the run-time env file (secrets.env, mode 600).
# Environment: APP_IMAGE (the tag to build and push), BASE_IMAGE, VM_IMAGE, LABEL (docker label key=value on everything made here),
# RAILS_MASTER_KEY (build secret). Prints `mark STEP EPOCH_SECONDS` after each step.
set -euo pipefail
id=$1 project=$2 work=$3
image=$APP_IMAGE
stack="/opt/kamal-dev/rails-app"
mark() { echo "mark $1 $(date +%s.%N)"; }
mark start

docker buildx build --progress=plain --file "$project/.devcontainer/Dockerfile" \
  --build-arg "BASE_IMAGE=$BASE_IMAGE" --build-arg APP_ENV=development \
  --secret id=RAILS_MASTER_KEY,env=RAILS_MASTER_KEY \
  --label "$LABEL" --tag "$image" --load "$project" >"$work/$id.build.log" 2>&1
mark build
docker push "$image" >"$work/$id.push.log"
mark push

# The VM, with the options of src/providers/docker.ts.
docker run -d --name "$id" --label "$LABEL" \
  -e "KAMAL_DEV_VM_NAME=$id" -e KAMAL_DEV_SSH_USER=root -e "KAMAL_DEV_SSH_PUBLIC_KEY=$(cat "$work/id_ed25519.pub")" \
  -v /var/lib/docker \
  --cap-add SYS_ADMIN --cap-add NET_ADMIN --cap-add SYS_PTRACE \
  --security-opt seccomp=unconfined --security-opt apparmor=unconfined \
  --device-cgroup-rule='a *:* rwm' -v /sys/fs/cgroup:/sys/fs/cgroup:rw \
  --tmpfs /run --tmpfs /tmp -p 127.0.0.1::22 "$VM_IMAGE" >/dev/null
port=$(docker port "$id" 22/tcp | head -1 | sed 's/.*://')
mark provision

# One multiplexed connection for every step, as kamal-dev keeps one per VM.
ssh_opts=(-i "$work/id_ed25519" -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null
  -o LogLevel=ERROR -o ControlMaster=auto -o "ControlPath=$work/$id.ssh" -o ControlPersist=300)
on_vm() { ssh "${ssh_opts[@]}" -p "$port" root@127.0.0.1 "$@"; }
trap 'ssh "${ssh_opts[@]}" -p "$port" -O exit root@127.0.0.1 2>/dev/null || true' EXIT
until on_vm true 2>/dev/null; do sleep 0.5; done
mark ssh

on_vm sh -s <"$work/bootstrap-install.sh" >"$work/$id.bootstrap.log" 2>&1
on_vm sh -s <"$work/bootstrap-start.sh" >>"$work/$id.bootstrap.log" 2>&1
mark bootstrap

on_vm mkdir -p "$stack/env" "$stack/workspace"
scp -q "${ssh_opts[@]}" -P "$port" "$work/compose.yaml" "$work/secrets.env" "root@127.0.0.1:$stack/"
scp -q "${ssh_opts[@]}" -P "$port" "$project/.devcontainer/app.env" "root@127.0.0.1:$stack/env/app.env"
tar -C "$project" --exclude=.kamal --exclude=node_modules -cf - . | on_vm tar -x --no-same-owner -C "$stack/workspace" -f -
mark upload

compose="docker compose -p rails-app --project-directory $stack -f $stack/compose.yaml --env-file $stack/secrets.env"
# Its own connection: the remote forward to the local registry lives as long as the pull and up.
ssh "${ssh_opts[@]}" -o ControlPath=none -o ExitOnForwardFailure=yes -R 127.0.0.1:5555:127.0.0.1:5555 -p "$port" root@127.0.0.1 \
  "$compose pull && $compose up -d --remove-orphans" >"$work/$id.compose.log" 2>&1
mark compose

# Healthy: both services running, none starting or unhealthy.
until on_vm "$compose ps --all --format '{{.Service}} {{.State}} {{.Health}}'" |
  awk '$2 == "running" && ($3 == "" || $3 == "healthy") { ok++ } END { exit ok == 2 ? 0 : 1 }'; do
  sleep 1
done
mark verify
