#!/bin/bash
# A CRI PullImage through the whole suite against skopeo, from a local docker-registry.
#
#   bench/pull-image.sh [BUILD_DIR] [LAYERS] [LAYER_MIB]
#
# Builds an OCI image of LAYERS gzip layers of LAYER_MIB MiB of random data each (default
# 5 x 45 MiB, about 225 MiB) once, and keeps it in ${XDG_CACHE_HOME:-~/.cache}/crio-bench for
# later runs. Pushes it to docker-registry on a free 127.0.0.1 port (plain HTTP), starts
# crio-stored, crio-imaged and crio-cri as run.sh does under a temporary --root, then times:
#   1. one CRI PullImage of the image (bench/cri-pull), into empty storage and an empty download
#      cache: download, verification, unpacking and commit;
#   2. skopeo copy docker://... dir:... of the same image (download and verification only).
# Prints both times, their ratio, and the proportional set size (PSS, from
# /proc/PID/smaps_rollup) of each daemon, idle after the pull. Needs root, docker-registry,
# skopeo, gzip. Everything runs on loopback; the temporary folder is removed.
set -euo pipefail

BUILD_DIR=$(realpath "${1:-build}")
LAYERS=${2:-5}
LAYER_MIB=${3:-45}
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/crio-bench/pull-image-${LAYERS}x${LAYER_MIB}
WORK=$(mktemp -d /tmp/crio-pull-bench-XXXXXX)
chmod 755 "$WORK"
PIDS=()

cleanup() {
  local i
  # crio-cri first, so that it does not report its peers going away.
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    kill "${PIDS[i]}" 2>/dev/null || true
    wait "${PIDS[i]}" 2>/dev/null || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { print b - a }'; }
divide() { awk -v a="$1" -v b="$2" 'BEGIN { print a / b }'; }
sha() { sha256sum "$1" | cut -d' ' -f1; }

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_for() {
  for _ in $(seq 1 200); do
    if eval "$1"; then return 0; fi
    sleep 0.05
  done
  echo "timed out waiting for: $1" >&2
  exit 1
}

# Writes the OCI layout to $1. Layers are random data, so every build is a different image.
build_image() {
  local layout=$1 scratch=$1.scratch layers_json="" diff_ids="" i digest size
  mkdir -p "$layout/blobs/sha256" "$scratch"
  echo '{"imageLayoutVersion":"1.0.0"}' > "$layout/oci-layout"
  for i in $(seq 1 "$LAYERS"); do
    mkdir -p "$scratch/rootfs$i/data"
    head -c "${LAYER_MIB}M" /dev/urandom > "$scratch/rootfs$i/data/blob$i"
    tar --sort=name --mtime=@0 --owner=0 --group=0 -C "$scratch/rootfs$i" -cf "$scratch/layer$i.tar" .
    diff_ids+="${diff_ids:+,}\"sha256:$(sha "$scratch/layer$i.tar")\""
    gzip -1 -n "$scratch/layer$i.tar"
    digest=$(sha "$scratch/layer$i.tar.gz")
    size=$(stat -c %s "$scratch/layer$i.tar.gz")
    mv "$scratch/layer$i.tar.gz" "$layout/blobs/sha256/$digest"
    rm -rf "$scratch/rootfs$i"
    layers_json+="${layers_json:+,}{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"sha256:$digest\",\"size\":$size}"
  done
  printf '{"architecture":"amd64","os":"linux","config":{"Cmd":["/bin/sh"]},"rootfs":{"type":"layers","diff_ids":[%s]}}' \
    "$diff_ids" > "$scratch/config.json"
  local config_digest manifest_digest
  config_digest=$(sha "$scratch/config.json")
  cp "$scratch/config.json" "$layout/blobs/sha256/$config_digest"
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[%s]}' \
    "$config_digest" "$(stat -c %s "$scratch/config.json")" "$layers_json" > "$scratch/manifest.json"
  manifest_digest=$(sha "$scratch/manifest.json")
  cp "$scratch/manifest.json" "$layout/blobs/sha256/$manifest_digest"
  printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"bench"}}]}' \
    "$manifest_digest" "$(stat -c %s "$scratch/manifest.json")" > "$layout/index.json"
  rm -rf "$scratch"
}

if [ "$(uname -m)" != x86_64 ]; then
  echo "pull-image.sh: the image is built for linux/amd64 and this host is $(uname -m)" >&2
  exit 1
fi
if [ ! -f "$CACHE/index.json" ]; then
  echo "building an image of $LAYERS layers of $LAYER_MIB MiB into $CACHE" >&2
  rm -rf "$CACHE"
  build_image "$CACHE.partial"
  mv "$CACHE.partial" "$CACHE"
fi
total_bytes=$(du -cb "$CACHE"/blobs/sha256/* | tail -1 | cut -f1)

PORT=$(free_port)
cat > "$WORK/registry.yml" <<YAML
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $WORK/storage
http:
  addr: 127.0.0.1:$PORT
YAML
docker-registry serve "$WORK/registry.yml" > "$WORK/registry.log" 2>&1 &
PIDS+=($!)
wait_for "curl -sf http://127.0.0.1:$PORT/v2/ > /dev/null"
skopeo copy --quiet --dest-tls-verify=false "oci:$CACHE:bench" \
  "docker://127.0.0.1:$PORT/bench/image:latest"
REFERENCE=127.0.0.1:$PORT/bench/image:latest

ROOT=$WORK/root
mkdir -p "$ROOT/etc/containers"
chmod 755 "$ROOT"
cp "$(dirname "$0")/../conf/policy.json" "$ROOT/etc/containers/policy.json"
printf '[[registry]]\nlocation = "127.0.0.1:%s"\ninsecure = true\n' "$PORT" \
  > "$ROOT/etc/containers/registries.conf"
declare -A DAEMON_PID
start_daemon() {
  local name=$1 socket=$2
  "$BUILD_DIR/$name/$name" --root "$ROOT" > "$WORK/$name.log" 2>&1 &
  PIDS+=($!)
  DAEMON_PID[$name]=$!
  wait_for "test -S $socket"
}
start_daemon crio-stored "$ROOT/run/crio/stored.sock"
start_daemon crio-imaged "$ROOT/run/crio/imaged/imaged.sock"
start_daemon crio-cri "$ROOT/run/crio/crio.sock"
sleep 0.5

echo "pulling $REFERENCE ($total_bytes bytes) through CRI" >&2
pulled=$("$BUILD_DIR/bench/cri-pull" --socket "$ROOT/run/crio/crio.sock" --image "$REFERENCE")
cri_seconds=$(echo "$pulled" | sed -n 's/.* seconds=\([0-9.e-]*\).*/\1/p')

start=$(now)
skopeo copy --quiet --src-tls-verify=false "docker://$REFERENCE" "dir:$WORK/skopeo-dir"
skopeo_seconds=$(elapsed "$start" "$(now)")

sleep 1
mib=$(divide "$total_bytes" 1048576)
printf 'image: %d gzip layers, %.1f MiB compressed\n' "$LAYERS" "$mib"
printf 'CRI PullImage (empty storage):  %6.2f s  %7.1f MiB/s\n' "$cri_seconds" \
  "$(divide "$mib" "$cri_seconds")"
printf 'skopeo copy to dir:             %6.2f s  %7.1f MiB/s\n' "$skopeo_seconds" \
  "$(divide "$mib" "$skopeo_seconds")"
printf 'ratio PullImage / skopeo:       %6.2f\n' "$(divide "$cri_seconds" "$skopeo_seconds")"
for name in crio-cri crio-imaged crio-stored; do
  pss=$(awk '/^Pss:/ { print $2 }' "/proc/${DAEMON_PID[$name]}/smaps_rollup")
  printf 'PSS of idle %-12s %8d KiB\n' "$name:" "$pss"
done
