#!/bin/bash
# Installs the Debian packages the suite needs to build and test, skipping those already present.
set -euo pipefail

PACKAGES=(
  # Building crio-imaged: HTTP client, SHA-256, JSON.
  libcurl4-openssl-dev
  libssl-dev
  nlohmann-json3-dev
  # Testing crio-imaged: a registry, image tools and helpers the tests run.
  docker-registry
  skopeo
  busybox-static
  zstd
  apache2-utils
  openssl
  python3
)

missing=()
for package in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "all packages present"
  exit 0
fi
apt-get update
apt-get install -y --no-install-recommends "${missing[@]}"
