#!/usr/bin/env bash
# Configures and builds the suite in ./build (one tree for everything, with ccache).
# Extra arguments go to cmake's configure step.
set -euo pipefail
cd "$(dirname "$0")/.."

export CCACHE_BASEDIR="$PWD"
# Share cached objects between checkouts in different folders (a CI clone, say): paths in
# debug information may then name the other checkout, which nothing here relies on.
export CCACHE_NOHASHDIR=1
export CCACHE_DIR="${CCACHE_DIR:-${HOME:-/root}/.cache/ccache}"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
cmake --build build -j "$(nproc)"
