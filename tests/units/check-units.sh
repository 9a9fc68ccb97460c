#!/bin/bash
# Checks the installed systemd units of the suite:
#   1. `cmake --install` into a staging DESTDIR puts the binaries, the units and the
#      configuration files where they belong, and enables no unit;
#   2. crio-cri.service and crio-conmon@.service use no directive that gives a unit its own mount
#      namespace, and do not set NoNewPrivileges=yes;
#   3. `systemd-analyze verify` accepts every unit, with ExecStart= pointing at the staged
#      binaries (verify checks that they exist and are executable);
#   4. `systemd-analyze security --offline=true` scores no service above its maximum in
#      exposure-limits.txt.
# Steps 3 and 4 are skipped (exit 77) when systemd-analyze is missing or too old for
# --offline; a failure in step 1 or 2 still fails the test.
set -euo pipefail

usage() {
  echo "usage: $0 --cmake CMAKE --build-dir DIR --bindir DIR --unit-dir DIR --examples-dir DIR" \
    "--default-config ON|OFF" >&2
  exit 2
}

cmake_command="" build_dir="" bindir="" unit_dir="" examples_dir="" default_config=""
while [ $# -gt 0 ]; do
  case "$1" in
    --cmake) cmake_command=$2 ;;
    --build-dir) build_dir=$2 ;;
    --bindir) bindir=$2 ;;
    --unit-dir) unit_dir=$2 ;;
    --examples-dir) examples_dir=$2 ;;
    --default-config) default_config=$2 ;;
    *) usage ;;
  esac
  shift 2
done
[ -n "$cmake_command" ] && [ -n "$build_dir" ] && [ -n "$bindir" ] && [ -n "$unit_dir" ] &&
  [ -n "$examples_dir" ] && [ -n "$default_config" ] || usage

here=$(cd "$(dirname "$0")" && pwd)
limits_file=$here/exposure-limits.txt
binaries=(crio-cri crio-imaged crio-stored crio-conmon)
services=(crio-cri.service crio-imaged.service crio-stored.service crio-conmon@.service)
units=("${services[@]}" crio-cri.socket crio-imaged.socket crio-stored.socket)
# The units that must stay in the host's mount namespace, because their mounts (pinned pod
# namespaces, container root file systems) must be seen by runc and the other daemons.
shared_namespace_units=(crio-cri.service crio-conmon@.service)
# Directives that give a unit a mount namespace of its own in systemd 252: the sandboxing
# options, plus the path and image options that need one by construction.
mount_namespace_directives=(ProtectSystem ProtectHome PrivateTmp PrivateDevices PrivateMounts
  PrivateIPC ProtectKernelTunables ProtectKernelModules ProtectKernelLogs ProtectControlGroups
  ProtectProc ProcSubset ReadWritePaths ReadOnlyPaths InaccessiblePaths ExecPaths NoExecPaths
  BindPaths BindReadOnlyPaths TemporaryFileSystem RootDirectory RootImage MountImages
  ExtensionImages ExtensionDirectories MountFlags LogNamespace DynamicUser)

stage=$(mktemp -d "${TMPDIR:-/tmp}/crio-units.XXXXXX")
trap 'rm -rf "$stage"' EXIT
root=$stage/root

failures=0
fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

# ---------------------------------------------------------------------------------------------
# 1. Staged install.

if ! install_log=$(DESTDIR=$root "$cmake_command" --install "$build_dir" 2>&1); then
  echo "$install_log" >&2
  echo "FAIL: cmake --install $build_dir into DESTDIR=$root failed" >&2
  exit 1
fi

for binary in "${binaries[@]}"; do
  [ -x "$root$bindir/$binary" ] || fail "binary $bindir/$binary was not installed"
done

for unit in "${units[@]}"; do
  [ -f "$root$unit_dir/$unit" ] || fail "unit $unit_dir/$unit was not installed"
done

for service in "${services[@]}"; do
  file=$root$unit_dir/$service
  [ -f "$file" ] || continue
  binary=${service%%[.@]*}
  grep -q "^ExecStart=$bindir/$binary\( \|$\)" "$file" ||
    fail "$service: ExecStart= does not run $bindir/$binary"
done

if grep -rl '@CRIO_[A-Z_]*@' "$root$unit_dir" >/dev/null 2>&1; then
  fail "an installed unit still contains a @CRIO_...@ placeholder"
fi

# Enabling a unit creates a symlink in a .wants or .requires folder; installing must not.
enabled=$(find "$root" \( -name '*.wants' -o -name '*.requires' \) -print)
[ -z "$enabled" ] || fail "installing enabled units: $enabled"

examples=(crio.conf policy.json registries.conf storage.conf cni/10-crio-bridge.conflist
  cni/99-loopback.conf)
for example in "${examples[@]}"; do
  [ -f "$root$examples_dir/$example" ] || fail "example $examples_dir/$example was not installed"
done

etc_files=(/etc/crio/crio.conf /etc/containers/policy.json /etc/containers/registries.conf
  /etc/containers/storage.conf /etc/cni/net.d/10-crio-bridge.conflist
  /etc/cni/net.d/99-loopback.conf)
if [ "$default_config" = ON ]; then
  for file in "${etc_files[@]}"; do
    [ -f "$root$file" ] || fail "$file was not installed with CRIO_INSTALL_DEFAULT_CONFIG=ON"
  done
elif [ -e "$root/etc" ]; then
  fail "files were installed under /etc with CRIO_INSTALL_DEFAULT_CONFIG=OFF:" \
    "$(cd "$root" && find etc -type f | tr '\n' ' ')"
fi

# ---------------------------------------------------------------------------------------------
# 2. Units that share the host's mount namespace.

for unit in "${shared_namespace_units[@]}"; do
  file=$root$unit_dir/$unit
  [ -f "$file" ] || continue
  for directive in "${mount_namespace_directives[@]}"; do
    if grep -q "^[[:space:]]*$directive=" "$file"; then
      fail "$unit sets $directive=, which gives it a private mount namespace; its mounts" \
        "would be hidden from runc and the other daemons"
    fi
  done
  if grep -qiE '^[[:space:]]*NoNewPrivileges=[[:space:]]*(yes|true|on|1)[[:space:]]*$' "$file"; then
    fail "$unit sets NoNewPrivileges=yes, which containers would inherit (no setuid programs)"
  fi
done

# ---------------------------------------------------------------------------------------------
# 3 and 4 need systemd-analyze.

skip_reason=""
if ! command -v systemd-analyze >/dev/null 2>&1; then
  skip_reason="systemd-analyze not found (Debian package systemd)"
elif ! systemd-analyze security --help 2>&1 | grep -q -- '--offline'; then
  skip_reason="systemd-analyze $(systemd-analyze --version | head -n1) has no --offline"
fi

if [ -z "$skip_reason" ]; then
  # Copies of the units whose ExecStart= runs the staged binaries, so that verify finds them.
  checked=$stage/units
  mkdir "$checked"
  for unit in "${units[@]}"; do
    [ -f "$root$unit_dir/$unit" ] || continue
    sed "s#^ExecStart=$bindir/#ExecStart=$root$bindir/#" "$root$unit_dir/$unit" >"$checked/$unit"
  done

  # verify loads the sockets that the services require from the same folder. On Debian 12
  # (systemd 252) it prints nothing for these units, as root or not and without systemd as
  # PID 1. It exits 0 after warnings such as an unknown key, so any output fails the check.
  verify_args=()
  for unit in "${units[@]}"; do
    [ -f "$checked/$unit" ] && verify_args+=("./$unit")
  done
  if ! verify_output=$(cd "$checked" && systemd-analyze verify "${verify_args[@]}" 2>&1); then
    fail "systemd-analyze verify failed:"$'\n'"$verify_output"
  elif [ -n "$verify_output" ]; then
    fail "systemd-analyze verify printed warnings:"$'\n'"$verify_output"
  fi

  for service in "${services[@]}"; do
    [ -f "$checked/$service" ] || continue
    limit=$(awk -v unit="$service" '$1 == unit { print $2 }' "$limits_file")
    if [ -z "$limit" ]; then
      fail "$service has no maximum exposure in $limits_file"
      continue
    fi
    report=$(systemd-analyze security --offline=true "$checked/$service" 2>&1) || true
    exposure=$(echo "$report" | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
    if [ -z "$exposure" ]; then
      fail "$service: no exposure level in the output of systemd-analyze security:"$'\n'"$report"
      continue
    fi
    echo "$service: exposure $exposure (maximum $limit)"
    if awk -v e="$exposure" -v l="$limit" 'BEGIN { exit !(e > l) }'; then
      echo "$report" >&2
      fail "$service: exposure $exposure is above its maximum $limit; restore the hardening," \
        "or raise the maximum in $limits_file and say why in the commit"
    elif awk -v e="$exposure" -v l="$limit" 'BEGIN { exit !(e + 0.15 < l) }'; then
      echo "note: $service scores well below its maximum; lower it to $exposure + 0.1 in" \
        "$limits_file to keep the gain"
    fi
  done
fi

if [ "$failures" -gt 0 ]; then
  echo "$failures check(s) failed" >&2
  exit 1
fi
if [ -n "$skip_reason" ]; then
  echo "SKIP: $skip_reason; systemd-analyze verify and security were not run"
  exit 77
fi
echo "units: all checks passed"
