#!/usr/bin/env bash
# Makes sure a Docker engine answers and the local base images the tests use exist.
# No container registry is reachable here, so base images are made locally by import.
set -euo pipefail

log() { printf '[setup-docker] %s\n' "$*" >&2; }

# The images the tests build FROM (test/helpers/images.ts names the same ones).
BUSYBOX_IMAGE="${AZLON_TEST_BUSYBOX_IMAGE:-busybox:latest}"
PYTHON_IMAGE="${AZLON_TEST_PYTHON_IMAGE:-azlon-test-python:3.11}"

apt_install() {
  log "installing Debian packages: $*"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

engine_up() { docker info >/dev/null 2>&1; }

if ! engine_up; then
  if ! command -v dockerd >/dev/null 2>&1; then
    apt_install docker.io
  fi
  if ! command -v docker >/dev/null 2>&1; then
    apt_install docker.io
  fi
  log "starting dockerd"
  # Detached so that it outlives this script; a stale pid file or socket from a killed
  # dockerd is fine (it starts again over them).
  setsid dockerd >/tmp/azlon-dockerd.log 2>&1 </dev/null &
  for _ in $(seq 1 60); do
    engine_up && break
    sleep 1
  done
  if ! engine_up; then
    log "dockerd did not answer within 60 s; its log:"
    tail -n 40 /tmp/azlon-dockerd.log >&2 || true
    exit 1
  fi
fi
log "engine: $(docker version --format '{{.Server.Version}} (API {{.Server.APIVersion}})')"

# Leftovers of killed sessions, and only those: the engine may be shared, and another user's
# run, live, has containers too. A failed sweep does not stop the setup.
bash "$(dirname "$0")/sweep-docker.sh" || log "could not sweep leftover azlon containers"

have_image() { docker image inspect "$1" >/dev/null 2>&1; }

if ! have_image "$BUSYBOX_IMAGE"; then
  if ! dpkg -s busybox-static >/dev/null 2>&1; then apt_install busybox-static; fi
  log "making $BUSYBOX_IMAGE from Debian's busybox-static"
  root=$(mktemp -d)
  mkdir -p "$root/bin" "$root/tmp" "$root/etc" "$root/root"
  chmod 1777 "$root/tmp"
  cp /bin/busybox "$root/bin/busybox"
  for applet in $("$root/bin/busybox" --list); do
    [ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$root/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
  tar -C "$root" -c . | docker import \
    -c 'ENV PATH=/bin' -c 'CMD ["sh"]' - "$BUSYBOX_IMAGE" >/dev/null
  rm -rf "$root"
fi

if ! have_image "$PYTHON_IMAGE"; then
  if ! command -v debootstrap >/dev/null 2>&1; then apt_install debootstrap; fi
  # The mirror comes from this machine's own apt sources (deb822 or one-line format).
  mirror=$(grep -hE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | grep -v security | head -n1 || true)
  if [ -z "$mirror" ]; then
    mirror=$(grep -hE '^deb ' /etc/apt/sources.list 2>/dev/null | awk '{print $2}' | grep -v security | head -n1 || true)
  fi
  if [ -z "$mirror" ]; then
    log "no Debian mirror found in /etc/apt sources; cannot make $PYTHON_IMAGE"
    exit 1
  fi
  log "making $PYTHON_IMAGE with debootstrap (about a minute)"
  root=$(mktemp -d)
  debootstrap --variant=minbase --include=python3 bookworm "$root" "$mirror" >/tmp/azlon-debootstrap.log 2>&1 || {
    tail -n 30 /tmp/azlon-debootstrap.log >&2
    exit 1
  }
  rm -rf "$root/var/cache/apt/archives/"*.deb "$root/var/lib/apt/lists/"*
  tar -C "$root" -c . | docker import -c 'CMD ["python3"]' - "$PYTHON_IMAGE" >/dev/null
  rm -rf "$root"
fi
log "base images ready: $BUSYBOX_IMAGE, $PYTHON_IMAGE"
