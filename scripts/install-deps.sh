#!/usr/bin/env bash
# Installs the Debian 12 packages the suite needs to build, run and test, skipping the ones that
# are already installed. Safe to run again; needs root.
set -euo pipefail

BUILD_PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config clang-format
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  capnproto libcapnp-dev
  libsystemd-dev libcap-dev libseccomp-dev
  nlohmann-json3-dev libcli11-dev libtomlplusplus-dev libgtest-dev
  libcurl4-openssl-dev libarchive-dev libssl-dev libsqlite3-dev libzstd-dev zlib1g-dev
)

# What the suite drives at run time: OCI runtimes, CNI plugins, and the tools of the test images
# and test registries.
RUNTIME_PACKAGES=(
  runc crun containernetworking-plugins iproute2 iptables
  docker-registry busybox-static skopeo umoci zstd jq curl openssl gnupg apache2-utils python3
  systemd
)

missing=()
for package in "${BUILD_PACKAGES[@]}" "${RUNTIME_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: these packages are missing and installing them needs root: ${missing[*]}" >&2
  exit 1
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
