#!/usr/bin/env bash
# Removes the azlon containers whose owner is gone, by the rule `azlon run` sweeps orphans with
# on every start (src/sandbox/owner.ts isOrphan), so that a shared engine keeps other users'
# live runs: a container goes only once its deadline (azlon.deadline: by then a live owner
# would have removed it itself) has passed and its owner (azlon.owner.pid on azlon.owner.host)
# is not alive here. An owner on another host cannot be asked: its container goes 10 minutes
# after its deadline, for clock differences. A container without a deadline (azlon 0.1) stays,
# for `azlon clean`. It runs before `npm ci` (no azlon to ask), hence in shell.
#
# Usage: sweep-docker.sh [LABEL_FILTER]   (default azlon.run; a test narrows it to its own)
set -euo pipefail

filter="${1:-azlon.run}"
other_host_grace_s=600 # OTHER_HOST_GRACE_MS in src/sandbox/owner.ts
here=$(uname -n)       # what Node's os.hostname() reads too

log() { printf '[sweep-docker] %s\n' "$*" >&2; }
# A label's value as text: anyone who can create a container on the engine chose it.
shown() { printf '%s' "$1" | tr -cd '[:print:]' | cut -c1-100; }

# Whether a process of this number runs here. A zombie has ended (only its exit status is
# left to read), so it counts as gone. Without /proc: kill -0, or ps for another user's process.
alive() {
  local pid=$1 stat
  if [ -d /proc/self ]; then
    stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
    # The state follows the command's name, which ends at the last ")".
    [ "$(printf '%s' "${stat##*) }" | cut -c1)" != "Z" ]
  else
    kill -0 "$pid" 2>/dev/null || ps -p "$pid" >/dev/null 2>&1
  fi
}

# An ISO time (as azlon writes it) in seconds since 1970: GNU date, else BSD date (macOS).
epoch() {
  date -d "$1" +%s 2>/dev/null || date -j -u -f '%Y-%m-%dT%H:%M:%S' "${1%%[.Z]*}" +%s 2>/dev/null
}

# Prints why a container goes, or nothing when it stays, from its owner pid, owner host and
# deadline labels.
why_orphan() {
  local pid=$1 host=$2 deadline=$3 now deadline_s owner
  # GNU date reads "" as today's midnight: an empty deadline is no deadline.
  [ -n "$deadline" ] || return 0
  deadline_s=$(epoch "$deadline") || return 0
  now=$(date +%s)
  owner="pid $(shown "$pid") on $(shown "$host")"
  if [[ "$pid" =~ ^[1-9][0-9]{0,9}$ ]] && [ -n "$host" ] && [ "$host" = "$here" ]; then
    alive "$pid" && return 0
    [ "$now" -gt "$deadline_s" ] || return 0
    echo "its owner ($owner) is gone and its deadline ($(shown "$deadline")) has passed"
  else
    [ "$now" -gt $((deadline_s + other_host_grace_s)) ] || return 0
    echo "its owner ($owner) cannot be asked from here and its deadline ($(shown "$deadline")) passed over 10 minutes ago"
  fi
}

# "|" apart (tabs would run together where a label is empty), and never in a host name or a time.
format='{{index .Config.Labels "azlon.owner.pid"}}|{{index .Config.Labels "azlon.owner.host"}}|{{index .Config.Labels "azlon.deadline"}}'
# An engine that does not answer fails the sweep (set -e), rather than find nothing.
ids=$(docker ps -aq --no-trunc --filter "label=$filter")
for id in $ids; do
  # Gone meanwhile (its owner removed it): nothing to do.
  labels=$(docker inspect --format "$format" "$id" 2>/dev/null) || continue
  IFS='|' read -r pid host deadline <<<"$labels" || true
  why=$(why_orphan "$pid" "$host" "$deadline")
  [ -n "$why" ] || continue
  log "removing container ${id:0:12}: $why"
  docker rm -f -v "$id" >/dev/null 2>&1 || log "could not remove ${id:0:12} (another sweep may have)"
done
