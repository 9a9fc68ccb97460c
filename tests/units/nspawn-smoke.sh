#!/bin/bash
# Boots systemd as PID 1 of a systemd-nspawn container with the suite installed, and checks the
# units under a real service manager (tests/units/nspawn-inside.sh lists the checks).
#
# The container's root file system is Debian bookworm (minbase) with systemd, curl and the
# libraries the daemons link, built with mmdebstrap into /var/cache/crio-suite on the first run.
# That run downloads the packages through apt and takes a minute or more; later runs reuse the
# cache, mounted read-only under a tmpfs overlay (--volatile=overlay), and take seconds.
# The suite comes from a staged `cmake --install`, bound into the container read-only.
#
# Exits 77 (skipped) when not run as root, when mmdebstrap or systemd-nspawn is missing, or when
# the install prefix is not /usr/local (binding another prefix would hide the container's own
# files).
set -euo pipefail

usage() {
  echo "usage: $0 --cmake CMAKE --build-dir DIR --bindir DIR --unit-dir DIR" >&2
  exit 2
}

cmake_command="" build_dir="" bindir="" unit_dir=""
while [ $# -gt 0 ]; do
  case "$1" in
    --cmake) cmake_command=$2 ;;
    --build-dir) build_dir=$2 ;;
    --bindir) bindir=$2 ;;
    --unit-dir) unit_dir=$2 ;;
    *) usage ;;
  esac
  shift 2
done
[ -n "$cmake_command" ] && [ -n "$build_dir" ] && [ -n "$bindir" ] && [ -n "$unit_dir" ] || usage

skip() {
  echo "SKIP: $*"
  exit 77
}

[ "$(id -u)" -eq 0 ] || skip "systemd-nspawn needs root"
command -v systemd-nspawn >/dev/null 2>&1 || skip "systemd-nspawn not found (Debian package systemd-container)"
command -v mmdebstrap >/dev/null 2>&1 || skip "mmdebstrap not found (Debian package mmdebstrap)"
[ "$bindir" = /usr/local/bin ] ||
  skip "binaries install to $bindir; this test binds /usr/local into the container"

here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/crio-nspawn.XXXXXX")
trap 'rm -rf "$work"' EXIT

# ---------------------------------------------------------------------------------------------
# Root file system, built once per package list.

# The Debian packages that contain the shared libraries the daemons link.
library_packages() {
  local library path packages=()
  for library in $(ldd "$build_dir"/crio-*/crio-* | awk '/=> \// { print $3 }' | sort -u); do
    path=$(readlink -f "$library")
    # dpkg records merged-/usr files under either /usr/lib or /lib.
    packages+=("$(dpkg -S "$path" 2>/dev/null || dpkg -S "${path#/usr}" 2>/dev/null || true)")
  done
  printf '%s\n' "${packages[@]}" | cut -d: -f1 | grep -v '^$' | sort -u
}

packages=$( (printf '%s\n' systemd systemd-sysv curl; library_packages) | sort -u | paste -sd,)
cache=/var/cache/crio-suite
rootfs=$cache/nspawn-bookworm-$(echo "$packages" | sha256sum | cut -c1-16)
if [ ! -x "$rootfs/lib/systemd/systemd" ]; then
  echo "building $rootfs with mmdebstrap (once): $packages"
  mkdir -p "$cache"
  rm -rf "$rootfs.partial"
  mmdebstrap --quiet --variant=minbase --include="$packages" bookworm "$rootfs.partial"
  mv "$rootfs.partial" "$rootfs"
fi

# ---------------------------------------------------------------------------------------------
# The suite and the smoke test, at the paths the container reads.

stage=$work/stage
if ! install_log=$(DESTDIR=$stage "$cmake_command" --install "$build_dir" 2>&1); then
  echo "$install_log" >&2
  echo "FAIL: cmake --install $build_dir failed" >&2
  exit 1
fi

# /etc/systemd/system of the container: the suite's units and the unit that runs the checks.
units=$work/units
mkdir "$units"
cp "$stage$unit_dir"/crio-* "$units/"
cat >"$units/crio-smoke.service" <<'EOF'
[Unit]
Description=Smoke test of the crio suite's units

[Service]
Type=oneshot
ExecStart=/smoke/nspawn-inside.sh
EOF

# The checks' log and the container's journal come back through this folder.
mkdir "$work/out"
status=0
SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1 timeout -k 10 180 systemd-nspawn \
  --quiet \
  --directory="$rootfs" \
  --volatile=overlay \
  --keep-unit \
  --register=no \
  --private-network \
  --console=passive \
  --system-call-filter='@keyring bpf' \
  --bind-ro="$stage/usr/local:/usr/local" \
  --bind-ro="$units:/etc/systemd/system" \
  --bind-ro="$here:/smoke" \
  --bind="$work/out:/smoke-out" \
  --boot -- systemd.unit=crio-smoke.service >"$work/out/console" 2>&1 || status=$?

cat "$work/out/log" 2>/dev/null || echo "FAIL: the checks wrote no log" >&2
if [ "$status" -ne 0 ]; then
  echo "--- console of the container" >&2
  cat "$work/out/console" >&2 || true
  echo "--- journal of the container" >&2
  cat "$work/out/journal" >&2 2>/dev/null || true
  echo "FAIL: the container exited with status $status (124: timed out)" >&2
  exit 1
fi
echo "nspawn smoke test: all checks passed"
