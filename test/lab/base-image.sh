#!/usr/bin/env bash
# Builds a Debian base image from the Debian mirror alone (no container registry is reachable here)
# and tags it with the names Dockerfiles use, so their FROM lines are never pulled. Cached: a no-op
# when the image exists.
set -euo pipefail
name="${1:-debian:bookworm-slim}"
if docker image inspect "$name" >/dev/null 2>&1; then exit 0; fi
mirror=$("$(dirname "$0")/../../scripts/debian-mirror")
rootfs=$(mktemp -d /tmp/kamal-dev-rootfs.XXXXXX)
trap 'rm -rf "$rootfs"' EXIT
debootstrap --variant=minbase --include=ca-certificates bookworm "$rootfs" "$mirror" >/tmp/kamal-dev-debootstrap.log 2>&1 \
  || { tail -20 /tmp/kamal-dev-debootstrap.log >&2; exit 1; }
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
tar -C "$rootfs" -c . | docker import -c 'CMD ["/bin/bash"]' -c 'LABEL kamal-dev.lab=base' - "$name" >/dev/null
for extra in "${@:2}"; do docker tag "$name" "$extra"; done
