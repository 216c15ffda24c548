#!/usr/bin/env bash
# arc-bench against PyTorch eager, side by side in one run, on the shapes of issue 15: arc-bench's
# small-kv4 (d256, ff704, 6 layers, 8 heads, 4 KV heads, vocab 16, seq 64, LoRA r8 on q, v, gate,
# up, down) and ../shared/bench/torch_eager_bench.py (the same model and phases in Python, Debian's
# python3-torch 1.13, which scripts/setup.sh installs). Prints one table: tokens per second of both
# and the ratio C++ / eager per phase and batch, plus arc-bench's share of the sgemm peak.
#
#   bench/eager_compare.sh                    # 1 thread, batches 1 and 16
#   THREADS=2 BATCHES=1,4,16 bench/eager_compare.sh
#
# The ratios move with the machine's load: run it on idle cores (the script prints the load
# average). Both sides run each phase for at least MIN_SECONDS (default 1) and alternate, arc-bench
# first; REPEAT (default 1) runs the pair again and keeps each side's best figure.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${BUILD:-$ROOT/build}"
EAGER="${EAGER:-$ROOT/../shared/bench/torch_eager_bench.py}"
THREADS="${THREADS:-1}"
BATCHES="${BATCHES:-1,16}"
MIN_SECONDS="${MIN_SECONDS:-1}"
REPEAT="${REPEAT:-1}"
PY=/usr/bin/python3
for f in "$BUILD/tools/arc-bench" "$EAGER"; do
  [[ -e "$f" ]] || { echo "eager_compare.sh: $f is missing (build the project; ../shared beside it)" >&2; exit 1; }
done
"$PY" -c 'import torch' 2>/dev/null ||
  { echo "eager_compare.sh: $PY has no torch: apt-get install python3-torch (scripts/setup.sh)" >&2; exit 1; }

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
echo "== $(nproc) cores, $THREADS thread(s), load average $(cut -d' ' -f1-3 /proc/loadavg)"
for ((i = 0; i < REPEAT; i++)); do
  OMP_NUM_THREADS="$THREADS" "$BUILD/tools/arc-bench" --configs small-kv4 --threads "$THREADS" \
    --batches "$BATCHES" --seq_len 64 --new_tokens 32 --min_seconds "$MIN_SECONDS" --json \
    > "$TMP/cpp.$i.json"
  OMP_NUM_THREADS="$THREADS" "$PY" "$EAGER" --threads "$THREADS" --batches "$BATCHES" \
    --seq_len 64 --new_tokens 32 --min_seconds "$MIN_SECONDS" > "$TMP/eager.$i.jsonl"
done

"$PY" - "$TMP" "$REPEAT" <<'EOF'
import json, sys
tmp, repeat = sys.argv[1], int(sys.argv[2])
cpp, eager, peak = {}, {}, 0.0
for i in range(repeat):
    j = json.load(open(f"{tmp}/cpp.{i}.json"))
    peak = max(peak, j["matmul_peak_gflops"])
    for r in j["rows"]:
        k = (r["phase"], r["batch"])
        if r["tokens_per_second"] > cpp.get(k, (0,))[0]:
            cpp[k] = (r["tokens_per_second"], r["gflops"])
    for line in open(f"{tmp}/eager.{i}.jsonl"):
        r = json.loads(line)
        k = (r["phase"], r["batch"])
        eager[k] = max(eager.get(k, 0.0), r["tokens_per_second"])
print(f"sgemm peak (1024^3 at::mm, same run): {peak:.1f} GFLOP/s")
print(f"{'phase':8} {'batch':>5} {'C++ tok/s':>10} {'eager tok/s':>12} {'C++/eager':>10} {'C++ %peak':>10}")
for phase in ("forward", "train", "decode"):
    for (p, b) in sorted(k for k in cpp if k[0] == phase):
        c, g = cpp[(p, b)]
        e = eager.get((p, b))
        ratio = f"{c / e:.2f}x" if e else "-"
        print(f"{p:8} {b:>5} {c:>10.0f} {e or 0:>12.0f} {ratio:>10} {100 * g / peak:>9.1f}%")
EOF
