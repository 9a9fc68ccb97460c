#!/usr/bin/env bash
# Times a pod's life through the whole suite against the floor of the same work done directly,
# and measures the suite's memory with pods running.
#
#   bench/lifecycle.sh [--iterations N] [--memory-pods M] [--build DIR] [--log-level LEVEL]
#                      [--keep-logs DIR]
#
# N timed iterations (default 20, at most 500) of, in alternating order:
#   ours:  RunPodSandbox + CreateContainer + StartContainer of a busybox `sleep 3600` container in
#          a CNI-networked pod with one hostPort, then StopContainer (timeout 0) + RemoveContainer
#          + StopPodSandbox + RemovePodSandbox, all from one client process (bench/cri-lifecycle);
#   floor: a pinned network namespace, CNI ADD of the same conflist, an overlay of the same image's
#          layer, `runc run -d` of an equivalent bundle, then runc kill + delete, unmount, CNI DEL
#          and unpinning (bench/lifecycle-floor.h).
# Then M pods (default 10) run at once, and the PSS of one crio-conmon and of each daemon is
# printed. The suite runs under a temporary --root next to a throwaway docker-registry on
# 127.0.0.1 with the busybox image of scripts/demo-image.sh, pulled once before timing. The CNI
# network is a test-only bridge, crb-br0 on 10.244.217.0/24, with host-local and portmap. The
# suite's run dir and the floor's bundles are on a tmpfs, as /run is on a normal host. State,
# layers and logs are on the disk of /tmp.
#
# Needs root, runc, umoci, skopeo, docker-registry and containernetworking-plugins. Everything it
# makes is removed on exit, also after Ctrl-C: pods, mounts, namespaces, the bridge, the iptables
# rules and chains portmap adds, ip_forward's old value, the registry and the temporary folder.
# It holds the lock of the network integration tests, which change the same iptables tables.
set -euo pipefail
cd "$(dirname "$0")/.."

NETWORK=crio-lifecycle-bench
BRIDGE=crb-br0
SUBNET=10.244.217.0/24
GATEWAY=10.244.217.1
NETWORK_LOCK=/tmp/crio-network-test.lock

usage() {
  sed -n '2,27p' "$0" | sed 's/^# \{0,1\}//'
  exit "${1:-0}"
}

iterations=20
memory_pods=10
build=build
log_level=warn
keep_logs=""
while [ $# -gt 0 ]; do
  case "$1" in
    --iterations) iterations="${2:?--iterations needs a value}"; shift 2 ;;
    --memory-pods) memory_pods="${2:?--memory-pods needs a value}"; shift 2 ;;
    --build) build="${2:?--build needs a value}"; shift 2 ;;
    --log-level) log_level="${2:?--log-level needs a value}"; shift 2 ;;
    --keep-logs) keep_logs="${2:?--keep-logs needs a value}"; shift 2 ;;
    -h|--help) usage 0 ;;
    *) echo "lifecycle.sh: unknown argument $1" >&2; usage 2 ;;
  esac
done

if [ "$(id -u)" -ne 0 ]; then
  echo "lifecycle.sh: run as root: it mounts, makes namespaces, a bridge and iptables rules" >&2
  exit 1
fi
for tool in runc umoci skopeo docker-registry iptables ip6tables ip; do
  if ! command -v "$tool" >/dev/null; then
    echo "lifecycle.sh: needs $tool" >&2
    exit 1
  fi
done
for plugin in bridge host-local portmap; do
  if [ ! -x "/usr/lib/cni/$plugin" ]; then
    echo "lifecycle.sh: needs /usr/lib/cni/$plugin (Debian package containernetworking-plugins)" >&2
    exit 1
  fi
done

export CCACHE_BASEDIR="$PWD"
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" --target crio-stored crio-imaged crio-cri crio-conmon cri-lifecycle \
  >/dev/null
build=$(realpath "$build")

exec 9>"$NETWORK_LOCK"
if ! flock -w 600 9; then
  echo "lifecycle.sh: $NETWORK_LOCK is held by another run for more than 10 minutes" >&2
  exit 1
fi

work=""
ip_forward=""
client_pid=""
registry_pid=""
daemon_pids=()

# Deletes what portmap left of this run's network in the nat table of `cmd`. First the rules
# whose comment names the network, and the per-pod chains they jump to: CNI DEL removes both, but
# they stay when a run is killed. Then the top-level CNI-HOSTPORT-* chains and their jumps, but
# only when this run created them and no other CNI network has a rule in them.
remove_portmap_rules() {
  local cmd=$1 line chain
  local chains=()
  while read -r line; do
    chain=$(sed -n 's/.* -j \(CNI-[A-Z]*-[0-9a-f]*\)$/\1/p' <<<"$line")
    eval "$cmd -w -t nat -D ${line#-A }" || true
    if [ -n "$chain" ]; then chains+=("$chain"); fi
  done < <("$cmd" -w -t nat -S | grep -F "name: \\\"$NETWORK\\\"" || true)
  for chain in "${chains[@]}"; do
    "$cmd" -w -t nat -F "$chain" 2>/dev/null || true
    "$cmd" -w -t nat -X "$chain" 2>/dev/null || true
  done
  if grep -qxF -- "-N CNI-HOSTPORT-DNAT" "$work/rules-$cmd-nat" ||
    "$cmd" -w -t nat -S CNI-HOSTPORT-DNAT 2>/dev/null | grep -q '^-A'; then
    return 0
  fi
  while read -r line; do
    eval "$cmd -w -t nat -D ${line#-A }" || true
  done < <("$cmd" -w -t nat -S |
    grep -E '^-A (PREROUTING|OUTPUT|POSTROUTING) .*-j CNI-HOSTPORT-(DNAT|MASQ)$' || true)
  for chain in CNI-HOSTPORT-DNAT CNI-HOSTPORT-SETMARK CNI-HOSTPORT-MASQ; do
    "$cmd" -w -t nat -F "$chain" 2>/dev/null || true
    "$cmd" -w -t nat -X "$chain" 2>/dev/null || true
  done
}

cleanup() {
  trap - INT TERM EXIT
  local i pid runc_root mountpoint id
  [ -n "$work" ] || return 0
  if [ -n "$client_pid" ]; then
    kill -TERM "$client_pid" 2>/dev/null || true
    wait "$client_pid" 2>/dev/null || true
  fi

  # Pods the client could not remove, through the CRI while the daemons still run.
  if [ ${#daemon_pids[@]} -eq 3 ] && [ -S "$root/run/crio/crio.sock" ]; then
    timeout 120 "$build/bench/cri-lifecycle" --socket "$root/run/crio/crio.sock" --cleanup \
      2>/dev/null || true
  fi

  # crio-cri first, so that it does not report its peers going away.
  for ((i = ${#daemon_pids[@]} - 1; i >= 0; i--)); do
    kill -TERM "${daemon_pids[i]}" 2>/dev/null || true
    wait "${daemon_pids[i]}" 2>/dev/null || true
  done

  # Monitors and containers that outlived their daemon: only those below this run's folder.
  for pid in $(pgrep -f "$work/" || true); do
    kill -KILL "$pid" 2>/dev/null || true
  done
  for runc_root in "$work/floor/runc" "$root/run/crio/runtimes/runc"; do
    [ -d "$runc_root" ] || continue
    for id in $(runc --root "$runc_root" list -q 2>/dev/null || true); do
      runc --root "$runc_root" delete --force "$id" 2>/dev/null || true
    done
  done
  awk -v dir="$work/" 'index($5, dir) == 1 { print $5 }' /proc/self/mountinfo | sort -r |
    while read -r mountpoint; do umount -l "$mountpoint" 2>/dev/null || true; done

  ip link delete "$BRIDGE" 2>/dev/null || true
  for cmd in iptables ip6tables; do
    [ -f "$work/rules-$cmd-nat" ] || continue
    remove_portmap_rules "$cmd"
    if "$cmd" -w -t nat -S | grep -qF -e "name: \\\"$NETWORK\\\"" -e "${SUBNET%.*}."; then
      echo "lifecycle.sh: $cmd -t nat still has rules of $NETWORK" >&2
    fi
  done
  if [ -n "$ip_forward" ]; then echo "$ip_forward" >/proc/sys/net/ipv4/ip_forward; fi

  if [ -n "$keep_logs" ]; then
    mkdir -p "$keep_logs"
    cp "$work"/crio-*.log "$keep_logs/" 2>/dev/null || true
  fi
  if [ -n "$registry_pid" ]; then
    kill -TERM "$registry_pid" 2>/dev/null || true
    wait "$registry_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}

work=$(mktemp -d /tmp/crio-lifecycle-bench-XXXXXX)
chmod 755 "$work"
root=$work/root
trap cleanup EXIT
trap 'exit 130' INT TERM

ip_forward=$(cat /proc/sys/net/ipv4/ip_forward)
for cmd in iptables ip6tables; do
  "$cmd" -w -t nat -S >"$work/rules-$cmd-nat"
done
ip link delete "$BRIDGE" 2>/dev/null || true

wait_for() {
  for _ in $(seq 1 200); do
    if eval "$1"; then return 0; fi
    sleep 0.05
  done
  echo "lifecycle.sh: timed out waiting for: $1" >&2
  exit 1
}

read -r registry_pid image < <(scripts/demo-image.sh "$work/image") || true
if [ -z "${image:-}" ]; then
  echo "lifecycle.sh: building or serving the busybox image failed" >&2
  exit 1
fi

# The floor's copy of the image: its one layer unpacked once, and runc's default spec.
umoci unpack --image "$work/image/layout:busybox" "$work/floor-image" >/dev/null
mkdir -p "$work/floor-spec" "$work/floor" "$work/floor-layers" "$work/logs" "$work/net.d"
(cd "$work/floor-spec" && runc spec)
# Runtime state lives on a tmpfs, as /run does on a normal host, for the suite and for the floor
# alike. State records, layers and logs stay on the disk.
mkdir -p "$root/run"
mount -t tmpfs -o mode=755 crio-bench-run "$root/run"
mount -t tmpfs -o mode=755 crio-bench-floor "$work/floor"
mkdir -p "$work/floor/runc"

cat >"$work/net.d/10-bench.conflist" <<JSON
{"cniVersion": "1.0.0", "name": "$NETWORK", "plugins": [
  {"type": "bridge", "bridge": "$BRIDGE", "isGateway": true, "ipMasq": false, "hairpinMode": true,
   "ipam": {"type": "host-local", "dataDir": "$work/ipam",
            "ranges": [[{"subnet": "$SUBNET", "gateway": "$GATEWAY"}]]}},
  {"type": "portmap", "capabilities": {"portMappings": true}}]}
JSON

mkdir -p "$root/etc/crio" "$root/etc/containers"
chmod 755 "$root"
cp conf/policy.json "$root/etc/containers/policy.json"
cat >"$root/etc/crio/crio.conf" <<TOML
[crio.runtime]
log_level = "$log_level"

[crio.image]
insecure_registries = ["${image%%/*}"]

[crio.network]
network_dir = "$work/net.d"
plugin_dirs = ["/usr/lib/cni"]
TOML

# Each daemon gets a session of its own, so that Ctrl-C reaches only this script and the client,
# and the daemons serve the client's cleanup until the trap stops them.
start_daemon() {
  local name=$1 socket=$2
  setsid "$build/$name/$name" --root "$root" >"$work/$name.log" 2>&1 &
  daemon_pids+=($!)
  daemon_args+=(--daemon "$name=$!")
  wait_for "test -S $socket"
}
daemon_args=()
start_daemon crio-stored "$root/run/crio/stored.sock"
start_daemon crio-imaged "$root/run/crio/imaged/imaged.sock"
start_daemon crio-cri "$root/run/crio/crio.sock"

echo "load average before the run: $(cut -d' ' -f1-3 /proc/loadavg)"
"$build/bench/cri-lifecycle" --socket "$root/run/crio/crio.sock" --image "$image" \
  --conflist "$work/net.d/10-bench.conflist" --runc "$(command -v runc)" \
  --runc-root "$work/floor/runc" --spec "$work/floor-spec/config.json" \
  --lower-dir "$work/floor-image/rootfs" --work-dir "$work/floor" \
  --layer-dir "$work/floor-layers" --log-dir "$work/logs" \
  --iterations "$iterations" --memory-pods "$memory_pods" \
  --conmon "$build/crio-conmon/crio-conmon" "${daemon_args[@]}" &
client_pid=$!
status=0
wait "$client_pid" || status=$?
client_pid=""
echo "load average after the run: $(cut -d' ' -f1-3 /proc/loadavg)"
if [ "$status" -ne 0 ]; then
  echo "lifecycle.sh: the client failed; the daemons' logs:" >&2
  tail -n 20 "$work"/crio-*.log >&2
fi
exit "$status"
