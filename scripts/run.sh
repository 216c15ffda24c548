#!/usr/bin/env bash
# The project's main job, from a clean machine: installs what is missing, builds, starts arc-server,
# solves a bundled sample task through arc-client (streaming progress: the program search, then TTT
# and inference when no program explains the task; then the ranked grids with each answer's expert
# and program), prints the server's info and a few metrics, and stops the server with SIGTERM (it
# drains, exit 0).
#
# The model: the embedded models/default (3.17M parameters, see models/default/MODEL_CARD.md), at the
# TTT defaults tuned for it, beside the program search (both experts, the default). The sample task
# is answered right by a program the search finds. Should the model
# directory be missing (a partial checkout), a seeded random tiny model from arc-init-model is used.
#
# Environment: BUILD_DIR (build), MODEL (a model directory; default models/default if it exists,
# else the random tiny model), TASK (examples/flip.json), PORT (50151), METRICS_PORT (9564).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
BUILD_DIR="${BUILD_DIR:-build}"
TASK="${TASK:-examples/flip.json}"
PORT="${PORT:-50151}"
METRICS_PORT="${METRICS_PORT:-9564}"
export OMP_WAIT_POLICY=PASSIVE

scripts/setup.sh --check >/dev/null 2>&1 || scripts/setup.sh
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$BUILD_DIR" -j "$(nproc)" --target arc-server arc-client arc-init-model

MODEL="${MODEL:-}"
if [[ -z "$MODEL" ]]; then
  if [[ -f models/default/config.json ]]; then
    MODEL=models/default
  else
    MODEL="$BUILD_DIR/models/arc-tiny-random"
    [[ -f "$MODEL/config.json" ]] || "$BUILD_DIR/tools/arc-init-model" --preset tiny --out "$MODEL"
    echo "run: models/default is missing; using the random tiny model $MODEL (it solves nothing)"
  fi
fi

LOG="$BUILD_DIR/arc-server.log"
"$BUILD_DIR/server/arc-server" --model "$MODEL" --address "127.0.0.1:$PORT" \
  --metrics_address "127.0.0.1:$METRICS_PORT" --workers 1 --threads 1 >"$LOG" 2>&1 &
SERVER=$!
trap 'kill -TERM $SERVER 2>/dev/null || true' EXIT

CLIENT=("$BUILD_DIR/client/arc-client" --server "127.0.0.1:$PORT")
for _ in $(seq 1 120); do
  "${CLIENT[@]}" --deadline 2 --retries 0 health >/dev/null 2>&1 && break
  kill -0 $SERVER 2>/dev/null || { cat "$LOG"; echo "run: arc-server exited"; exit 1; }
  sleep 0.5
done
"${CLIENT[@]}" info
echo
"${CLIENT[@]}" --deadline 300 solve "$TASK" --stream
echo
echo "metrics (http://127.0.0.1:$METRICS_PORT/metrics):"
curl -s "http://127.0.0.1:$METRICS_PORT/metrics" | grep -E '^arc_(jobs_total|ttt_steps_total|search_programs_total|search_tasks_total|requests_total\{.*Solve)' || true

kill -TERM $SERVER
trap - EXIT
wait $SERVER && echo "run: arc-server drained and exited 0"
