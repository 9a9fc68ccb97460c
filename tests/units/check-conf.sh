#!/bin/bash
# Checks the default configuration files in conf/ against the real daemons:
#   1. each daemon loads crio.conf without a warning, and its --print-config output equals its
#      built-in defaults;
#   2. with every commented-out key of crio.conf uncommented, the output still equals the
#      defaults (each default written in the file is the real one), and the file lists every
#      key that --print-config prints;
#   3. the paths in the units (sockets, StateDirectory=, CacheDirectory=) and in storage.conf
#      match the built-in defaults;
#   4. policy.json and the CNI files are JSON with the fields that containers-policy.json(5) and
#      the CNI specification require, and name plugins that the host has installed;
#   5. registries.conf and storage.conf are valid TOML (when python3 has tomllib).
# Exits 77 (skipped) when jq is missing.
set -euo pipefail

usage() {
  echo "usage: $0 --conf-dir DIR --units-dir DIR --cri BIN --imaged BIN --stored BIN" \
    "--conmon BIN" >&2
  exit 2
}

conf_dir="" units_dir="" cri="" imaged="" stored="" conmon=""
while [ $# -gt 0 ]; do
  case "$1" in
    --conf-dir) conf_dir=$2 ;;
    --units-dir) units_dir=$2 ;;
    --cri) cri=$2 ;;
    --imaged) imaged=$2 ;;
    --stored) stored=$2 ;;
    --conmon) conmon=$2 ;;
    *) usage ;;
  esac
  shift 2
done
[ -n "$conf_dir" ] && [ -n "$units_dir" ] && [ -n "$cri" ] && [ -n "$imaged" ] &&
  [ -n "$stored" ] && [ -n "$conmon" ] || usage

if ! command -v jq >/dev/null 2>&1; then
  echo "SKIP: jq not found (Debian package jq); the configuration files are not checked"
  exit 77
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/crio-conf.XXXXXX")
mkdir -p "$work/no-drop-ins"
trap 'rm -rf "$work"' EXIT

failures=0
fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

# Writes the effective configuration of one daemon for a configuration file to $work/NAME.toml,
# with no drop-in folder and no --root. Any output on stderr (a warning) fails the check.
print_config() {
  local name=$1 binary=$2 config=$3
  shift 3
  local out=$work/$name.toml err=$work/$name.err
  if ! "$binary" --config "$config" --config-dir "$work/no-drop-ins" --print-config "$@" \
    >"$out" 2>"$err"; then
    fail "$name --config $config --print-config failed: $(cat "$err")"
    return
  fi
  if [ -s "$err" ]; then
    fail "$name logged while loading $config:"$'\n'"$(cat "$err")"
  fi
}

# Lists "table.key" for every key line of a TOML file: the key set of a configuration.
list_keys() {
  awk '
    /^[[:space:]]*\[/ { table = $0; gsub(/[][[:space:]]/, "", table); next }
    /^[[:space:]]*[a-z_]+ = / { print table "." $1 }
  ' "$1" | sort
}

# Uncomments each "# key = value" line of crio.conf, and the continuation lines of a multi-line
# array that such a line opens. Prose and indented examples ("#   key = ...") stay comments.
uncomment_defaults() {
  awk '
    in_array { sub(/^# ?/, ""); print; if ($0 ~ /^[[:space:]]*\]/) in_array = 0; next }
    /^# [a-z_]+ = / { sub(/^# /, ""); print; if ($0 ~ /= \[$/) in_array = 1; next }
    { print }
  ' "$1"
}

# ---------------------------------------------------------------------------------------------
# 1 and 2. crio.conf against each daemon's defaults.

crio_conf=$conf_dir/crio.conf
: >"$work/empty.conf"
uncomment_defaults "$crio_conf" >"$work/uncommented.conf"
if ! grep -q '^default_capabilities = \[$' "$work/uncommented.conf"; then
  fail "uncommenting crio.conf did not produce the multi-line default_capabilities array"
fi

daemons=(crio-cri crio-imaged crio-stored crio-conmon)
declare -A binary_of=([crio-cri]=$cri [crio-imaged]=$imaged [crio-stored]=$stored
  [crio-conmon]=$conmon)
for daemon in "${daemons[@]}"; do
  extra=()
  # crio-conmon requires --socket even when it only prints its configuration.
  [ "$daemon" = crio-conmon ] && extra=(--socket "$work/monitor.sock")
  binary=${binary_of[$daemon]}
  print_config "$daemon-defaults" "$binary" "$work/empty.conf" "${extra[@]}"
  print_config "$daemon-shipped" "$binary" "$crio_conf" "${extra[@]}"
  print_config "$daemon-uncommented" "$binary" "$work/uncommented.conf" "${extra[@]}"
  for variant in shipped uncommented; do
    if ! diff -u "$work/$daemon-defaults.toml" "$work/$daemon-$variant.toml" \
      >"$work/diff" 2>&1; then
      fail "$daemon: crio.conf ($variant) differs from the built-in defaults:"$'\n'"$(cat "$work/diff")"
    fi
  done
done

list_keys "$work/crio-cri-defaults.toml" >"$work/printed-keys"
list_keys "$work/uncommented.conf" >"$work/documented-keys"
missing=$(comm -23 "$work/printed-keys" "$work/documented-keys")
unknown=$(comm -13 "$work/printed-keys" "$work/documented-keys")
[ -z "$missing" ] || fail "keys missing from crio.conf: $(echo $missing)"
[ -z "$unknown" ] || fail "keys in crio.conf that --print-config does not print: $(echo $unknown)"
if ! [ -s "$work/printed-keys" ]; then
  fail "no keys found in the --print-config output of crio-cri"
fi

# ---------------------------------------------------------------------------------------------
# 3. Paths in the units and in storage.conf against the defaults.

# Prints the value of one key of crio-cri's default configuration, unquoted.
default_value() {
  awk -v table="$1" -v key="$2" '
    /^[[:space:]]*\[/ { current = $0; gsub(/[][[:space:]]/, "", current); next }
    current == table && $1 == key { sub(/^[^=]*= /, ""); gsub(/\047/, ""); print }
  ' "$work/crio-cri-defaults.toml"
}

# Checks that a unit sets DIRECTIVE=VALUE on a line of its own.
expect_directive() {
  local unit=$1 directive=$2 value=$3
  grep -qx "$directive=$value" "$units_dir/$unit" ||
    fail "$unit: expected $directive=$value to match the built-in default"
}

expect_directive crio-cri.socket ListenStream "$(default_value crio.api listen)"
expect_directive crio-imaged.socket ListenStream "$(default_value crio.suite imaged_socket)"
expect_directive crio-stored.socket ListenStream "$(default_value crio.suite stored_socket)"
state_dir=$(default_value crio.suite state_dir)
cache_dir=$(default_value crio.suite cache_dir)
storage_root=$(default_value crio root)
expect_directive crio-cri.service StateDirectory "${state_dir#/var/lib/}"
expect_directive crio-imaged.service CacheDirectory "${cache_dir#/var/cache/}"
expect_directive crio-stored.service StateDirectory "${storage_root#/var/lib/}"

storage_conf=$conf_dir/storage.conf
grep -qx "driver = \"$(default_value crio storage_driver)\"" "$storage_conf" ||
  fail "storage.conf: driver differs from [crio] storage_driver"
grep -qx "graphroot = \"$storage_root\"" "$storage_conf" ||
  fail "storage.conf: graphroot differs from [crio] root"
grep -qx "runroot = \"$(default_value crio runroot)\"" "$storage_conf" ||
  fail "storage.conf: runroot differs from [crio] runroot"

# ---------------------------------------------------------------------------------------------
# 4. JSON files.

policy=$conf_dir/policy.json
if ! jq -e '(.default | type == "array" and length > 0)
            and all(.default[]; .type | type == "string")' "$policy" >/dev/null 2>&1; then
  fail "policy.json: not JSON with a non-empty \"default\" list of requirements with a \"type\""
fi

# The folders where Debian and upstream install CNI plugins.
plugin_dirs=(/usr/lib/cni /opt/cni/bin)
have_plugins=false
for dir in "${plugin_dirs[@]}"; do
  [ -x "$dir/bridge" ] && have_plugins=true
done

# Checks that every "type" (plugins and IPAM) in a CNI file names an installed plugin.
check_plugin_types() {
  local file=$1 type found dir
  for type in $(jq -r '.. | objects | .type? // empty' "$file"); do
    found=false
    for dir in "${plugin_dirs[@]}"; do
      [ -x "$dir/$type" ] && found=true
    done
    $found || fail "$(basename "$file"): plugin \"$type\" is not installed in ${plugin_dirs[*]}"
  done
}

cni_files=("$conf_dir"/cni/*.conflist "$conf_dir"/cni/*.conf)
for file in "${cni_files[@]}"; do
  [ -f "$file" ] || continue
  name=$(basename "$file")
  if ! jq -e . "$file" >/dev/null 2>&1; then
    fail "$name: not valid JSON"
    continue
  fi
  case "$file" in
    *.conflist)
      required='(.cniVersion | type == "string") and (.name | type == "string")
                and (.plugins | type == "array" and length > 0)
                and all(.plugins[]; .type | type == "string")'
      ;;
    *)
      required='(.cniVersion | type == "string") and (.name | type == "string")
                and (.type | type == "string")'
      ;;
  esac
  jq -e "$required" "$file" >/dev/null ||
    fail "$name: lacks a field that CNI requires (cniVersion, name, and plugins or type)"
  version=$(jq -r .cniVersion "$file")
  [ "$version" = 1.0.0 ] || fail "$name: cniVersion is \"$version\", expected \"1.0.0\""
  if $have_plugins; then
    check_plugin_types "$file"
  fi
done
[ -f "$conf_dir/cni/10-crio-bridge.conflist" ] || fail "cni/10-crio-bridge.conflist is missing"
[ -f "$conf_dir/cni/99-loopback.conf" ] || fail "cni/99-loopback.conf is missing"
$have_plugins || echo "note: no CNI plugins in ${plugin_dirs[*]}; plugin names not checked"

# ---------------------------------------------------------------------------------------------
# 5. TOML syntax of the containers-* files (tomllib is in Python 3.11 and later).

if command -v python3 >/dev/null 2>&1 && python3 -c 'import tomllib' 2>/dev/null; then
  for file in registries.conf storage.conf; do
    if ! error=$(python3 -c 'import sys, tomllib; tomllib.load(open(sys.argv[1], "rb"))' \
      "$conf_dir/$file" 2>&1); then
      fail "$file: not valid TOML: $error"
    fi
  done
else
  echo "note: python3 with tomllib not found; registries.conf and storage.conf not parsed"
fi

if [ "$failures" -gt 0 ]; then
  echo "$failures check(s) failed" >&2
  exit 1
fi
echo "configuration: all checks passed"
