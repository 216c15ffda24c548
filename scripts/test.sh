#!/usr/bin/env bash
# The project's test command: installs what is missing (scripts/setup.sh), configures, builds and
# runs every registered test with ctest. Exits non-zero on any failure.
#
#   scripts/test.sh                 everything
#   scripts/test.sh -L unit         only tests labelled unit (any ctest arguments pass through)
#
# Environment: BUILD_DIR (default build), JOBS (default nproc).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
BUILD_DIR="${BUILD_DIR:-build}"
# ccache keys on paths relative to the checkout, so a fresh clone elsewhere (CI) reuses the cache.
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$ROOT}"
JOBS="${JOBS:-$(nproc)}"

scripts/setup.sh --check >/dev/null 2>&1 || scripts/setup.sh

cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$BUILD_DIR" -j "$JOBS"
cd "$BUILD_DIR"
ctest --output-on-failure -j "$JOBS" "$@"
