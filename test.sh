#!/usr/bin/env bash
# Installs what is missing, builds with warnings as errors, and runs every test: unit tests,
# then the integration tests that start the real daemons as processes.
#
#   ./test.sh [ctest arguments...]     e.g. ./test.sh -L unit, ./test.sh -R Foundation
set -euo pipefail
cd "$(dirname "$0")"

scripts/install-deps.sh
scripts/build.sh -DCRIO_WERROR=ON

cd build
ctest --output-on-failure --timeout 300 -j "$(nproc)" "$@"
