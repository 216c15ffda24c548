#!/usr/bin/env bash
# The project's test command: installs what is missing (scripts/setup.sh), configures, builds and
# runs every registered test with ctest. Exits non-zero on any failure.
#
#   scripts/test.sh                 everything
#   scripts/test.sh -L unit         only tests labelled unit (any ctest arguments pass through)
#   scripts/test.sh --sanitize      ASan + UBSan build (build-asan), the unit and server tests
#   scripts/test.sh --sanitize -L unit -R task_io    ... with ctest arguments of your own
#
# --sanitize configures a separate build directory with -DARC_SANITIZE=address,undefined (every
# target compiled and linked with both; a UBSan finding aborts, a leak fails the test), builds the
# selected tests only, and runs `ctest -L 'unit|server'` unless ctest arguments are given. SANITIZE_TORCH=OFF builds it without
# libtorch (-DARC_WITH_TORCH=OFF: the data, search and text layers, the client, arc-tasks and their
# tests). docs/SECURITY.md lists what it covers.
#
# Environment: BUILD_DIR (default build, or build-asan / build-asan-notorch with --sanitize), JOBS
# (default nproc), SANITIZE_TORCH (ON|OFF, default ON), SANITIZE_CXX (the compiler for --sanitize,
# default the system c++).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# ccache keys on paths relative to the checkout, so a fresh clone elsewhere (CI) reuses the cache.
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$ROOT}"
# The sanitized build carries debug info (-g), for which ccache hashes the build directory by
# default; not hashing it lets a checkout elsewhere (CI) hit the cache there too.
export CCACHE_NOHASHDIR="${CCACHE_NOHASHDIR:-true}"
JOBS="${JOBS:-$(nproc)}"

SANITIZE=0
if [[ "${1:-}" == "--sanitize" ]]; then
  SANITIZE=1
  shift
fi

scripts/setup.sh --check >/dev/null 2>&1 || scripts/setup.sh

if [[ $SANITIZE -eq 0 ]]; then
  BUILD_DIR="${BUILD_DIR:-build}"
  cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$BUILD_DIR" -j "$JOBS"
  cd "$BUILD_DIR"
  ctest --output-on-failure -j "$JOBS" "$@"
  exit
fi

SANITIZE_TORCH="${SANITIZE_TORCH:-ON}"
if [[ "$SANITIZE_TORCH" == "ON" ]]; then
  BUILD_DIR="${BUILD_DIR:-build-asan}"
else
  BUILD_DIR="${BUILD_DIR:-build-asan-notorch}"
fi
compiler=()
[[ -n "${SANITIZE_CXX:-}" ]] && compiler=(-DCMAKE_CXX_COMPILER="$SANITIZE_CXX")
# RelWithDebInfo: -O2 keeps the model tests' run time bearable, -g gives reports file and line.
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DARC_SANITIZE=address,undefined \
  -DARC_WITH_TORCH="$SANITIZE_TORCH" "${compiler[@]}" >/dev/null
# Only the selected tests are built (with what they run, through their dependencies): the
# sanitized build is slow, and most of the project's targets are other labels' tests.
args=("$@")
[[ ${#args[@]} -eq 0 ]] && args=(-L 'unit|server')
mapfile -t selected < <(ctest --test-dir "$BUILD_DIR" -N "${args[@]}" | sed -n 's/^ *Test *#[0-9]*: \([^ ]*\).*/\1/p')
mapfile -t known < <(cmake --build "$BUILD_DIR" --target help | sed -n 's/^\.\.\. \([^ ]*\).*/\1/p')
targets=()
scripts_selected=0
for t in "${selected[@]}"; do
  if [[ " ${known[*]} " == *" $t "* ]]; then targets+=("$t"); else scripts_selected=1; fi
done
# A test without a target of its own (a Python script) runs the project's binaries: build them all.
if [[ $scripts_selected -eq 1 ]]; then
  for t in "${known[@]}"; do [[ "$t" == arc-* ]] && targets+=("$t"); done
fi
start=$(date +%s)
if [[ ${#targets[@]} -gt 0 ]]; then
  cmake --build "$BUILD_DIR" -j "$JOBS" --target "${targets[@]}"
else
  cmake --build "$BUILD_DIR" -j "$JOBS"
fi
built=$(date +%s)
# Leak detection on, with no suppressions: the unit and server tests leak nothing, libtorch, gRPC
# and protobuf included.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
cd "$BUILD_DIR"
status=0
ctest --output-on-failure -j "$JOBS" "${args[@]}" || status=$?
echo "test.sh --sanitize: build $((built - start)) s, tests $(($(date +%s) - built)) s" \
     "($BUILD_DIR, torch $SANITIZE_TORCH)"
exit $status
