#!/usr/bin/env bash
# Builds a busybox image with umoci, starts a throwaway docker-registry on a random loopback port
# serving it, and prints "PID REFERENCE" (the registry's pid and the image's reference).
#
#   scripts/demo-image.sh DIR
set -euo pipefail
dir="$1"
layout="$dir/layout"

umoci init --layout "$layout"
umoci new --image "$layout:busybox"
umoci unpack --rootless --image "$layout:busybox" "$dir/bundle" >/dev/null
mkdir -p "$dir/bundle/rootfs/bin"
cp /bin/busybox "$dir/bundle/rootfs/bin/busybox"
ln -s busybox "$dir/bundle/rootfs/bin/sh"
umoci repack --image "$layout:busybox" "$dir/bundle"
umoci config --image "$layout:busybox" --config.cmd /bin/sh --config.env PATH=/bin

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$dir/registry"
cat > "$dir/registry.yml" <<YAML
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $dir/registry
http:
  addr: 127.0.0.1:$port
YAML
docker-registry serve "$dir/registry.yml" >"$dir/registry.log" 2>&1 &
registry=$!
for _ in $(seq 1 100); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
  sleep 0.05
done

reference="127.0.0.1:$port/demo/busybox:1"
skopeo copy --quiet --dest-tls-verify=false "oci:$layout:busybox" "docker://$reference" >&2
echo "$registry $reference"
