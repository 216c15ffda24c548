#!/usr/bin/env bash
# The project's main job, from a clean machine: installs what is missing, builds, starts arc-server,
# solves a bundled sample task through arc-client (streaming TTT progress, then the ranked grids),
# prints the server's info and a few metrics, and stops the server with SIGTERM (it drains, exit 0).
#
# The model: until the embedded model of issue 6 is trained and committed under models/, this uses a
# seeded RANDOM tiny model made by arc-init-model (the one the pipeline's tests use). It exercises the
# whole service (TTT, views, voting, metrics) but solves nothing: expect "wrong" verdicts.
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
    echo "run: no embedded model yet; using the random tiny model $MODEL (it solves nothing)"
  fi
fi

LOG="$BUILD_DIR/arc-server.log"
"$BUILD_DIR/server/arc-server" --model "$MODEL" --address "127.0.0.1:$PORT" \
  --metrics_address "127.0.0.1:$METRICS_PORT" --workers 1 --threads 1 \
  --ttt_max_steps 40 --ttt_max_samples 64 >"$LOG" 2>&1 &
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
curl -s "http://127.0.0.1:$METRICS_PORT/metrics" | grep -E '^arc_(jobs_total|ttt_steps_total|requests_total\{.*Solve)' || true

kill -TERM $SERVER
trap - EXIT
wait $SERVER && echo "run: arc-server drained and exited 0"
