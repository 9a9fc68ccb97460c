#!/bin/bash
# Unpack throughput of crio-stored against `tar -xzf` on the same gzip layer (~200 MB compressed,
# made from this machine's /usr unless a blob is given). Run as root from the repository root
# after building: bench/unpack-layer.sh [BLOB.tar.gz]
#
# Both sides start with the blob in the page cache and write to the same filesystem; each runs
# RUNS times and the median is printed. crio-stored's "unpack" is the same work as tar (plus the
# SHA-256 of the uncompressed stream and the per-entry checks); its "import" adds what makes it
# crash-safe: syncfs of the layer, rename, and the SQLite commit. tar's time has no sync, so
# "tar+sync" is printed too.
set -euo pipefail

BUILD=${BUILD:-build}
RUNS=${RUNS:-3}
BIN=$BUILD/bench/unpack-layer
[ -x "$BIN" ] || { echo "build first: $BIN is missing" >&2; exit 1; }

# WORKDIR=/dev/shm takes the disk out of the comparison (it is noisy on shared VMs).
WORK=$(mktemp -d "${WORKDIR:-/var/tmp}/crio-unpack-bench-XXXXXX")
trap 'rm -rf "$WORK"' EXIT

BLOB=${1:-}
if [ -z "$BLOB" ]; then
  BLOB=$WORK/layer.tar.gz
  echo "making a layer from /usr ..." >&2
  # About 200 MB of gzip here: binaries (big files) and headers and Python modules (many
  # small ones). tar's complaints about files changing under it do not matter.
  { tar -C / -cf - usr/bin usr/include usr/lib/python3.11 2>/dev/null || true; } \
    | gzip -6 > "$BLOB"
fi
DIFF_ID="sha256:$(gzip -dc "$BLOB" | sha256sum | cut -d' ' -f1)"
ENTRIES=$(gzip -dc "$BLOB" | tar -tf - | wc -l)
echo "blob: $(du -m "$BLOB" | cut -f1) MB gzip, $((($(gzip -dc "$BLOB" | wc -c)) / 1048576)) MB tar, $ENTRIES entries"
cat "$BLOB" > /dev/null  # page cache

now() { date +%s.%N; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

run_tar() {
  local dest=$WORK/tar; rm -rf "$dest"; mkdir "$dest"; sync
  local t0=$(now); tar -xzf "$BLOB" -C "$dest"; local t1=$(now); sync; local t2=$(now)
  echo "$(echo "$t1 - $t0" | bc) $(echo "$t2 - $t0" | bc)"
}
run_unpack() {
  local dest=$WORK/unpack; rm -rf "$dest"; mkdir "$dest"; sync
  "$BIN" unpack "$BLOB" "$DIFF_ID" "$dest" | sed 's/seconds=\([0-9.]*\).*/\1/'
}
run_import() {
  local root=$WORK/store; rm -rf "$root"; mkdir "$root"; sync
  "$BIN" import "$BLOB" "$DIFF_ID" "$root" 2>/dev/null | sed 's/seconds=\([0-9.]*\).*/\1/'
}

: > "$WORK/tar.times"; : > "$WORK/tarsync.times"; : > "$WORK/unpack.times"; : > "$WORK/import.times"
for i in $(seq "$RUNS"); do
  read -r t ts < <(run_tar); echo "$t" >> "$WORK/tar.times"; echo "$ts" >> "$WORK/tarsync.times"
  run_unpack >> "$WORK/unpack.times"
  run_import >> "$WORK/import.times"
done
rm -rf "$WORK/tar" "$WORK/unpack" "$WORK/store"

TAR=$(median < "$WORK/tar.times")
TARSYNC=$(median < "$WORK/tarsync.times")
UNPACK=$(median < "$WORK/unpack.times")
IMPORT=$(median < "$WORK/import.times")
for kind in tar tarsync unpack import; do
  echo "samples $kind: $(tr '\n' ' ' < "$WORK/$kind.times")"
done
printf "tar -xzf:              %6.2f s\n" "$TAR"
printf "tar -xzf + sync:       %6.2f s\n" "$TARSYNC"
printf "crio-stored unpack:    %6.2f s   ratio to tar %.2f\n" "$UNPACK" "$(echo "$UNPACK / $TAR" | bc -l)"
printf "crio-stored import:    %6.2f s   ratio to tar+sync %.2f\n" "$IMPORT" "$(echo "$IMPORT / $TARSYNC" | bc -l)"
