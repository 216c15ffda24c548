#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/ (clang, ASan + UBSan, build directory build-fuzz), writes
# their seed corpora (fuzz/seeds.py) and runs one or all of them for a time. Exits non-zero when a
# target crashes, leaks, trips a sanitizer or breaks an invariant; the input is kept under
# build-fuzz/artifacts/<target>/ (rerun it with `build-fuzz/fuzz/<target> FILE`).
#
#   scripts/fuzz.sh                  every target for 60 s
#   scripts/fuzz.sh all 5            every target for 5 s (a smoke run)
#   scripts/fuzz.sh fuzz_kaggle 300  one target
#   scripts/fuzz.sh --list           the targets
#
# Each run prints the target's executions, executions per second and corpus size. The corpus that
# runs grow is kept in build-fuzz/corpus/<target>/ (the seeds stay apart in build-fuzz/seeds/).
#
# Environment: FUZZ_DIR (default build-fuzz); FUZZ_TORCH=OFF builds without libtorch and so
# without fuzz_solve_request (the target that needs the server's conversion code), which makes the
# first build minutes shorter; JOBS (default nproc); ARC_DATA_DIR (the ARC data for the seeds,
# default ../shared/data/arc-agi-1); FUZZ_ARGS (extra libFuzzer flags, e.g. -only_ascii=1).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
FUZZ_DIR="${FUZZ_DIR:-build-fuzz}"
FUZZ_TORCH="${FUZZ_TORCH:-ON}"
JOBS="${JOBS:-$(nproc)}"
DATA_DIR="${ARC_DATA_DIR:-$ROOT/../shared/data/arc-agi-1}"
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$ROOT}"
# RelWithDebInfo (-g): ccache would hash the build directory; not hashing it lets a checkout
# elsewhere (CI) hit the cache.
export CCACHE_NOHASHDIR="${CCACHE_NOHASHDIR:-true}"

ALL=(fuzz_task_json fuzz_kaggle fuzz_safetensors fuzz_tokenizer_json fuzz_config_json)
[[ "$FUZZ_TORCH" == "ON" ]] && ALL+=(fuzz_solve_request)

if [[ "${1:-}" == "--list" ]]; then
  printf '%s\n' "${ALL[@]}"
  exit 0
fi
if [[ "${1:-}" == "-h" || "${1:-}" == "--help" ]]; then
  sed -n '2,20p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
  exit 0
fi
WHICH="${1:-all}"
SECONDS_PER_TARGET="${2:-60}"
if [[ "$WHICH" == "all" ]]; then
  TARGETS=("${ALL[@]}")
else
  [[ " ${ALL[*]} " == *" $WHICH "* ]] || { echo "fuzz.sh: unknown target $WHICH (--list)" >&2; exit 2; }
  TARGETS=("$WHICH")
fi
command -v clang++ >/dev/null || { echo "fuzz.sh: clang++ not found (scripts/setup.sh)" >&2; exit 2; }

CC=clang CXX=clang++ cmake -S . -B "$FUZZ_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DARC_FUZZ=ON \
  -DARC_BUILD_TESTS=OFF -DARC_WITH_TORCH="$FUZZ_TORCH" >/dev/null
cmake --build "$FUZZ_DIR" -j "$JOBS" --target "${TARGETS[@]}"
/usr/bin/env python3 fuzz/seeds.py --source . --data "$DATA_DIR" --out "$FUZZ_DIR/seeds" >/dev/null

# Leaks are findings; a report names the allocation. Each target's stderr goes to a log file.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
failed=0
printf '%-20s %8s %12s %10s %8s  %s\n' target seconds executions exec/s corpus result
for target in "${TARGETS[@]}"; do
  corpus="$FUZZ_DIR/corpus/$target"
  artifacts="$FUZZ_DIR/artifacts/$target"
  log="$FUZZ_DIR/logs/$target.log"
  mkdir -p "$corpus" "$artifacts" "$(dirname "$log")"
  # -max_len bounds an input (the seeds are at most a few KB; 64 KB leaves room to grow them);
  # -rss_limit_mb and -timeout turn memory blow-ups and hangs into findings.
  status=0
  # shellcheck disable=SC2086
  "$FUZZ_DIR/fuzz/$target" -max_total_time="$SECONDS_PER_TARGET" -max_len=65536 -timeout=10 \
    -rss_limit_mb=2048 -dict=fuzz/json.dict -print_final_stats=1 \
    -artifact_prefix="$artifacts/" ${FUZZ_ARGS:-} "$corpus" "$FUZZ_DIR/seeds/$target" \
    >"$log" 2>&1 || status=$?
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  files=$(find "$corpus" -type f | wc -l)
  if [[ $status -eq 0 ]]; then
    result=ok
  else
    result="FAILED (exit $status; log $log, input under $artifacts/)"
    failed=1
  fi
  printf '%-20s %8s %12s %10s %8s  %s\n' "$target" "$SECONDS_PER_TARGET" "${runs:-?}" \
    "${rate:-?}" "$files" "$result"
  if [[ $status -ne 0 ]]; then
    grep -E 'ERROR|SUMMARY|invariant|runtime error' "$log" | head -5 >&2 || true
  fi
done
exit $failed
