#!/usr/bin/env bash
# Makes sure a Podman service answers Docker's API at /run/azlon-podman/podman.sock (the Podman
# test tier, test/podman/), with the busybox base image the tests build FROM.
set -euo pipefail

log() { printf '[setup-podman] %s\n' "$*" >&2; }
SOCKET="${AZLON_TEST_PODMAN_SOCKET:-/run/azlon-podman/podman.sock}"
BUSYBOX_IMAGE="${AZLON_TEST_BUSYBOX_IMAGE:-busybox:latest}"

if ! command -v podman >/dev/null 2>&1; then
  log "installing Debian's podman"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends podman >/dev/null
fi

# This VM's hard limit on open files is below Podman's default for containers ("error setting
# rlimit type 7"): name limits it can set.
conf=/etc/containers/containers.conf
mkdir -p /etc/containers
if ! grep -q '^default_ulimits' "$conf" 2>/dev/null; then
  log "setting default_ulimits in $conf"
  printf '[containers]\ndefault_ulimits = ["nofile=1024:1024","nproc=4096:4096"]\n' >>"$conf"
fi

# Node is on every machine this runs on; curl may not be.
up() {
  node -e 'require("http").get({socketPath: process.argv[1], path: "/_ping", timeout: 5000}, (r) => process.exit(r.statusCode === 200 ? 0 : 1)).on("error", () => process.exit(1)).on("timeout", () => process.exit(1))' "$SOCKET" 2>/dev/null
}
if ! up; then
  mkdir -p "$(dirname "$SOCKET")"
  rm -f "$SOCKET"
  log "starting podman system service at $SOCKET"
  # From /: the service outlives this shell, and its containers' conmon fails ("Failed to get
  # working directory") once the folder it started in is gone (a CI checkout removed after).
  (cd / && exec setsid podman system service --time=0 "unix://$SOCKET") >/tmp/azlon-podman.log 2>&1 </dev/null &
  for _ in $(seq 1 60); do
    up && break
    sleep 1
  done
  if ! up; then
    log "podman did not answer within 60 s; its log:"
    tail -n 40 /tmp/azlon-podman.log >&2 || true
    exit 1
  fi
fi
log "podman: $(podman --version)"

# No registry answers here: the base image comes over from the Docker engine.
if ! podman image exists "$BUSYBOX_IMAGE"; then
  log "copying $BUSYBOX_IMAGE from the Docker engine"
  docker save "$BUSYBOX_IMAGE" | podman load >/dev/null
fi
log "ready: $SOCKET"
