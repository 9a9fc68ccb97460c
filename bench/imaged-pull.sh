#!/bin/bash
# Pull throughput of crio-imaged against skopeo, from a local docker-registry.
#
#   bench/imaged-pull.sh [BUILD_DIR] [LAYERS] [LAYER_MIB]
#
# Builds an OCI image of LAYERS gzip layers of LAYER_MIB MiB of random data each (default
# 5 x 45 MiB, about 225 MiB), pushes it to docker-registry on 127.0.0.1 (plain HTTP), then times:
#   1. crio-imaged: resolve + fetch of the config and every layer at once (bench/imaged-pull),
#      into an empty cache, as crio-cri drives a pull;
#   2. the same again, served from crio-imaged's cache;
#   3. skopeo copy docker://... dir:... of the same image.
# and prints the times and the ratio of 1 to 3. Needs root (crio-imaged switches to the user nobody),
# docker-registry, skopeo, gzip. Everything runs on loopback; the temporary folder is removed.
set -euo pipefail

BUILD_DIR=$(realpath "${1:-build}")
LAYERS=${2:-5}
LAYER_MIB=${3:-45}
WORK=$(mktemp -d /tmp/crio-imaged-bench-XXXXXX)
chmod 755 "$WORK"
PIDS=()

cleanup() {
  for pid in "${PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { print b - a }'; }
divide() { awk -v a="$1" -v b="$2" 'BEGIN { print a / b }'; }

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

sha() { sha256sum "$1" | cut -d' ' -f1; }

echo "building an image of $LAYERS layers of $LAYER_MIB MiB" >&2
LAYOUT=$WORK/layout
mkdir -p "$LAYOUT/blobs/sha256"
echo '{"imageLayoutVersion":"1.0.0"}' > "$LAYOUT/oci-layout"
layers_json=""
diff_ids=""
for i in $(seq 1 "$LAYERS"); do
  mkdir -p "$WORK/rootfs$i/data"
  head -c "${LAYER_MIB}M" /dev/urandom > "$WORK/rootfs$i/data/blob$i"
  tar --sort=name --mtime=@0 --owner=0 --group=0 -C "$WORK/rootfs$i" -cf "$WORK/layer$i.tar" .
  diff_ids+="${diff_ids:+,}\"sha256:$(sha "$WORK/layer$i.tar")\""
  gzip -1 -n "$WORK/layer$i.tar"
  digest=$(sha "$WORK/layer$i.tar.gz")
  size=$(stat -c %s "$WORK/layer$i.tar.gz")
  mv "$WORK/layer$i.tar.gz" "$LAYOUT/blobs/sha256/$digest"
  rm -rf "$WORK/rootfs$i"
  layers_json+="${layers_json:+,}{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"sha256:$digest\",\"size\":$size}"
done
printf '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[%s]}}' \
  "$diff_ids" > "$WORK/config.json"
config_digest=$(sha "$WORK/config.json")
cp "$WORK/config.json" "$LAYOUT/blobs/sha256/$config_digest"
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[%s]}' \
  "$config_digest" "$(stat -c %s "$WORK/config.json")" "$layers_json" > "$WORK/manifest.json"
manifest_digest=$(sha "$WORK/manifest.json")
cp "$WORK/manifest.json" "$LAYOUT/blobs/sha256/$manifest_digest"
printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"bench"}}]}' \
  "$manifest_digest" "$(stat -c %s "$WORK/manifest.json")" > "$LAYOUT/index.json"
total_bytes=$(du -cb "$LAYOUT"/blobs/sha256/* | tail -1 | cut -f1)

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
skopeo copy --quiet --dest-tls-verify=false "oci:$LAYOUT:bench" \
  "docker://127.0.0.1:$PORT/bench/image:latest"
REFERENCE=127.0.0.1:$PORT/bench/image:latest

ROOT=$WORK/imaged-root
mkdir -p "$ROOT/etc/crio"
printf '[crio.image]\ninsecure_registries = ["127.0.0.1:%s"]\n' "$PORT" > "$ROOT/etc/crio/crio.conf"
mkdir -p "$ROOT/etc/containers"
cp "$(dirname "$0")/../conf/policy.json" "$ROOT/etc/containers/policy.json"
"$BUILD_DIR/crio-imaged/crio-imaged" --root "$ROOT" --listen "$ROOT/imaged.sock" \
  > "$WORK/imaged.log" 2>&1 &
PIDS+=($!)
wait_for "test -S $ROOT/imaged.sock"

echo "pulling $REFERENCE ($total_bytes bytes)" >&2
cold=$("$BUILD_DIR/bench/imaged-pull" --socket "$ROOT/imaged.sock" --reference "$REFERENCE")
cached=$("$BUILD_DIR/bench/imaged-pull" --socket "$ROOT/imaged.sock" --reference "$REFERENCE" \
  --verify)
imaged_seconds=$(echo "$cold" | sed -n 's/.* total_s=\([0-9.e-]*\).*/\1/p')
cached_seconds=$(echo "$cached" | sed -n 's/.* total_s=\([0-9.e-]*\).*/\1/p')
echo "$cached" | grep -q "verified=yes" || { echo "verification failed: $cached" >&2; exit 1; }

start=$(now)
skopeo copy --quiet --src-tls-verify=false "docker://$REFERENCE" "dir:$WORK/skopeo-dir"
skopeo_seconds=$(elapsed "$start" "$(now)")

mib=$(divide "$total_bytes" 1048576)
printf 'image: %d layers, %.1f MiB\n' "$LAYERS" "$mib"
printf 'crio-imaged pull (empty cache):  %6.2f s  %7.1f MiB/s\n' "$imaged_seconds" \
  "$(divide "$mib" "$imaged_seconds")"
printf 'crio-imaged pull (cached):       %6.2f s\n' "$cached_seconds"
printf 'skopeo copy to dir:              %6.2f s  %7.1f MiB/s\n' "$skopeo_seconds" \
  "$(divide "$mib" "$skopeo_seconds")"
printf 'ratio crio-imaged / skopeo:      %6.2f\n' "$(divide "$imaged_seconds" "$skopeo_seconds")"
