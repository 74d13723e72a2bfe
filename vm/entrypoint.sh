#!/bin/bash
# PID 1 of a local VM. Inputs (environment): KAMAL_DEV_VM_NAME, KAMAL_DEV_SSH_USER (default root),
# KAMAL_DEV_SSH_PUBLIC_KEY. Runs on every start, so each step is idempotent.
set -euo pipefail
user="${KAMAL_DEV_SSH_USER:-root}"

# Host keys are made per VM on first boot (never baked into the image, so no two VMs share one).
ssh-keygen -A >/dev/null

if [ "$user" = root ]; then
  home=/root
else
  id "$user" >/dev/null 2>&1 || useradd --create-home --shell /bin/bash "$user"
  echo "$user ALL=(ALL) NOPASSWD:ALL" >/etc/sudoers.d/kamal-dev && chmod 440 /etc/sudoers.d/kamal-dev
  home=$(getent passwd "$user" | cut -d: -f6)
fi
install -d -m 700 -o "$user" -g "$user" "$home/.ssh"
printf '%s\n' "${KAMAL_DEV_SSH_PUBLIC_KEY:?KAMAL_DEV_SSH_PUBLIC_KEY is required}" >"$home/.ssh/authorized_keys"
chown "$user:$user" "$home/.ssh/authorized_keys" && chmod 600 "$home/.ssh/authorized_keys"

# The inner engine's cgroups live under /<vm name>, apart from the outer engine's. daemon.json works
# whichever way the engine is started (init script, systemd, by hand).
mkdir -p /etc/docker
printf '{"cgroup-parent": "/%s"}\n' "${KAMAL_DEV_VM_NAME:-kamal-dev-vm}" >/etc/docker/daemon.json

mkdir -p /run/sshd
/usr/sbin/sshd
# After a stop/start the engine that bootstrap installed comes back with the VM. Started directly,
# as bootstrap does: Debian's init script raises `ulimit -n` beyond what a container may.
if command -v dockerd >/dev/null; then setsid dockerd >>/var/log/dockerd.log 2>&1 </dev/null & fi

trap 'exit 0' TERM INT
sleep infinity &
wait
