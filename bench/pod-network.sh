#!/usr/bin/env bash
# Times pinning and CNI ADD/DEL of one pod at a time with the real plugins of /usr/lib/cni, on a
# test-only bridge (crt-br0, 10.244.213.0/24). The benchmark removes the bridge afterwards, with
# the iptables chains portmap leaves, and restores the ip_forward value the bridge plugin changes.
#
#   bench/pod-network.sh [--iterations N]     (default 20; needs root)
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
  echo "pod-network.sh: run as root: it creates namespaces, a bridge and iptables rules" >&2
  exit 1
fi
export CCACHE_BASEDIR="$PWD"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build --target network-bench >/dev/null
exec build/tests/integration/network-bench "$@"
