#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole suite in the foreground with built-in
# defaults: crio-stored, crio-imaged and crio-cri, serving CRI on /run/crio/crio.sock (or
# DIR/run/crio/crio.sock with --root DIR). Ctrl-C stops every daemon.
#
#   ./run.sh [--root DIR] [--config FILE] [--config-dir DIR] [--log-level LEVEL] [--demo]
#
# --demo runs the suite under a temporary root next to a throwaway docker-registry holding a
# busybox image, runs a pod with a container that prints a line, shows its status and log, and
# cleans up.
set -euo pipefail
cd "$(dirname "$0")"

usage() {
  sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'
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
demo=0
while [ $# -gt 0 ]; do
  case "$1" in
    --root) need_value "$@"; root="$2"; daemon_args+=(--root "$2"); shift 2 ;;
    --config|--config-dir|--log-level) need_value "$@"; daemon_args+=("$1" "$2"); shift 2 ;;
    --demo) demo=1; shift ;;
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

demo_dir=""
registry_pid=""
if [ "$demo" -eq 1 ]; then
  demo_dir=$(mktemp -d /tmp/crio-demo-XXXXXX)
  chmod 755 "$demo_dir"
  if [ -z "$root" ]; then
    root="$demo_dir/root"
    daemon_args+=(--root "$root")
  fi
  read -r registry_pid image < <(scripts/demo-image.sh "$demo_dir/image") || true
  if [ -z "${image:-}" ]; then
    echo "run.sh: building or serving the demo image failed" >&2
    rm -rf "$demo_dir"
    exit 1
  fi
  mkdir -p "$root/etc/crio"
  if [ ! -e "$root/etc/crio/crio.conf" ]; then
    printf '[crio.image]\ninsecure_registries = ["%s"]\n' "${image%%/*}" >"$root/etc/crio/crio.conf"
  fi
fi

pids=()
stopping=0
stop_all() {
  trap - INT TERM EXIT
  stopping=1
  rm -f "$started_marker"
  # crio-cri first, so it does not report its peers going away.
  local i
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    kill -TERM "${pids[i]}" 2>/dev/null || true
    wait "${pids[i]}" 2>/dev/null || true
  done
  if [ -n "$registry_pid" ]; then
    kill -TERM "$registry_pid" 2>/dev/null || true
    wait "$registry_pid" 2>/dev/null || true
  fi
  if [ -n "$demo_dir" ]; then
    # crio-cri leaves its namespace folder bind-mounted on itself when it stops.
    awk -v dir="$demo_dir/" 'index($5, dir) == 1 { print $5 }' /proc/self/mountinfo | sort -r |
      while read -r mountpoint; do umount -l "$mountpoint" || true; done
    rm -rf "$demo_dir"
  fi
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
  echo "run.sh: installed conf/policy.json (accepts every image) in $root/etc/containers;" \
    "[crio.image] signature_policy overrides it" >&2
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

if [ "$demo" -eq 1 ]; then
  status=0
  build/crio-cri/cri-demo "$root/run/crio/crio.sock" "$image" "$demo_dir/pod-logs" || status=$?
  exit "$status"
fi

echo "run.sh: serving CRI on unix://$root/run/crio/crio.sock (Ctrl-C stops the suite)" >&2
# Returns when any daemon exits; the trap then stops the others. A daemon that exits on its own
# (not through Ctrl-C) makes run.sh fail with its status.
status=0
wait -n "${pids[@]}" || status=$?
# A signal to run.sh also ends `wait -n` (status 128+N) after the trap stopped every daemon.
if [ "$stopping" -eq 1 ]; then
  exit 0
fi
if [ "$status" -ne 0 ]; then
  echo "run.sh: a daemon exited with status $status; stopping the others" >&2
fi
exit "$status"
