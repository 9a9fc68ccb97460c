#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole suite in the foreground with built-in
# defaults: crio-stored, crio-imaged and crio-cri, serving CRI on /run/crio/crio.sock (or
# DIR/run/crio/crio.sock with --root DIR). Ctrl-C stops every daemon.
#
#   ./run.sh [--root DIR] [--config FILE] [--config-dir DIR] [--log-level LEVEL]
set -euo pipefail
cd "$(dirname "$0")"

usage() {
  sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'
  exit "${1:-0}"
}

need_value() {
  if [ $# -lt 2 ] || [ -z "$2" ]; then
    echo "run.sh: $1 needs a value" >&2
    usage 2
  fi
}

daemon_args=()
root=""
while [ $# -gt 0 ]; do
  case "$1" in
    --root) need_value "$@"; root="$2"; daemon_args+=(--root "$2"); shift 2 ;;
    --config|--config-dir|--log-level) need_value "$@"; daemon_args+=("$1" "$2"); shift 2 ;;
    -h|--help) usage 0 ;;
    *) echo "run.sh: unknown argument $1" >&2; usage 2 ;;
  esac
done

if [ "$(id -u)" -ne 0 ]; then
  echo "run.sh: run as root: the suite mounts filesystems and manages namespaces" >&2
  exit 1
fi
if [ -n "$root" ] && [ "${root#/}" = "$root" ]; then
  echo "run.sh: --root needs an absolute path" >&2
  exit 2
fi

scripts/install-deps.sh
scripts/build.sh

pids=()
stop_all() {
  trap - INT TERM EXIT
  rm -f "$started_marker"
  # crio-cri first, so it does not report its peers going away.
  local i
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    kill -TERM "${pids[i]}" 2>/dev/null || true
    wait "${pids[i]}" 2>/dev/null || true
  done
}
trap stop_all INT TERM EXIT

# A socket left by an earlier run does not count: the daemon's own is newer than its start.
started_marker=$(mktemp)
wait_for_socket() {
  local path="$1" name="$2" pid="$3"
  for _ in $(seq 1 200); do
    [ -S "$path" ] && [ "$path" -nt "$started_marker" ] && return 0
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "run.sh: $name exited during start; its log is above" >&2
      exit 1
    fi
    sleep 0.05
  done
  echo "run.sh: $name did not create $path within 10 s" >&2
  exit 1
}

# crio-imaged rejects every pull without a policy.json; a fresh --root gets the permissive one
# from conf/. The real /etc is left to the operator.
if [ -n "$root" ] && [ ! -e "$root/etc/containers/policy.json" ]; then
  mkdir -p "$root/etc/containers"
  cp conf/policy.json "$root/etc/containers/policy.json"
  echo "run.sh: installed conf/policy.json (accepts every image) in $root/etc/containers" >&2
fi

build/crio-stored/crio-stored "${daemon_args[@]}" &
pids+=($!)
wait_for_socket "$root/run/crio/stored.sock" crio-stored "$!"
build/crio-imaged/crio-imaged "${daemon_args[@]}" &
pids+=($!)
wait_for_socket "$root/run/crio/imaged/imaged.sock" crio-imaged "$!"
build/crio-cri/crio-cri "${daemon_args[@]}" &
pids+=($!)
wait_for_socket "$root/run/crio/crio.sock" crio-cri "$!"

echo "run.sh: serving CRI on unix://$root/run/crio/crio.sock (Ctrl-C stops the suite)" >&2
# Returns when any daemon exits; the trap then stops the others. A daemon that exits on its own
# (not through Ctrl-C) makes run.sh fail with its status.
status=0
wait -n "${pids[@]}" || status=$?
if [ "$status" -ne 0 ]; then
  echo "run.sh: a daemon exited with status $status; stopping the others" >&2
fi
exit "$status"
