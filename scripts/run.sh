#!/usr/bin/env bash
# The project's main job, from a clean machine: installs what is missing, builds, and runs the
# pipeline that exists so far on the ARC-AGI-1 training set in ../shared/data/arc-agi-1:
#   1. arc-tasks check     every task parses and validates;
#   2. arc-tasks baseline  the symbolic dihedral/colour-map baseline through voting, written as a
#                          Kaggle submission (build/baseline_submission.json) and scored (pass@2).
# When the gRPC service lands, this script starts arc-server with the embedded model and solves a
# sample task through arc-client instead.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
BUILD_DIR="${BUILD_DIR:-build}"
DATA="${ARC_DATA_DIR:-$ROOT/../shared/data/arc-agi-1}"

scripts/setup.sh --check >/dev/null 2>&1 || scripts/setup.sh
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$BUILD_DIR" -j "$(nproc)" --target arc-tasks

"$BUILD_DIR/tools/arc-tasks" check "$DATA/training"
"$BUILD_DIR/tools/arc-tasks" baseline "$DATA/training" --out "$BUILD_DIR/baseline_submission.json"
