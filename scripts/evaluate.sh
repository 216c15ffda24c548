#!/usr/bin/env bash
# Evaluates a model with arc-solve the way models/default/MODEL_CARD.md and README.md report it:
# pass@2 and seconds per task for each expert setting (MODES):
#   base    the model alone, no TTT (voting over views; --experts ttt --no_ttt)
#   ttt     the TTT expert alone (--experts ttt)
#   search  the program search alone (--experts search)
#   both    both experts, arc-solve's default (--experts both)
# on the sets
#   held_out        generated tasks of the 7 held-out families (never trained on), HELD_OUT_COUNT each
#   train_families  one generated task of each of the 39 training families (same difficulty)
#   held_out_programs  PROGRAM_COUNT (21) tasks of random DSL programs of a held-out shape
#                   (gen/program_tasks.h: arc-generate --programs held_out; never trained on)
#   dev_small       the dev-split tasks whose grids are all at most 10x10 (measurement only)
#   dev             all 100 dev-split tasks (measurement only); the summary also reports its
#                   small-grid subset (the dev_small tasks) from the same run
# The generated sets use the first curriculum stage's difficulty (sides 3-6, 2 objects, 3 colours).
# Extra arguments go to every arc-solve call (e.g. --ttt_lr 3e-3 when tuning on held-out families).
#
# Environment: MODEL (models/default), OUT (build/eval/<model name>), BUILD_DIR (build), THREADS (2),
# SETS ("held_out train_families dev_small"; add held_out_programs), MODES ("base ttt search both"),
# HELD_OUT_COUNT (3), PROGRAM_COUNT (21), GEN_SEED (424242; tune with another seed so that the reported tasks stay unseen).
# Output: OUT/<set>-<mode>.json (arc-solve reports), OUT/<set>-<mode>.log and OUT/summary.md.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
BUILD_DIR="${BUILD_DIR:-build}"
MODEL="${MODEL:-models/default}"
OUT="${OUT:-$BUILD_DIR/eval/$(basename "$MODEL")}"
THREADS="${THREADS:-2}"
SETS="${SETS:-held_out train_families dev_small}"
MODES="${MODES:-base ttt search both}"
HELD_OUT_COUNT="${HELD_OUT_COUNT:-3}"
PROGRAM_COUNT="${PROGRAM_COUNT:-21}"
GEN_SEED="${GEN_SEED:-424242}"
ARC_DIR="${ARC_DIR:-../shared/data/arc-agi-1}"
export OMP_WAIT_POLICY=PASSIVE
PY=/usr/bin/python3
[[ -x "$PY" ]] || PY=python3

[[ -f "$MODEL/config.json" ]] || { echo "evaluate: no model at $MODEL" >&2; exit 2; }
for t in arc-solve arc-generate; do
  [[ -x "$BUILD_DIR/tools/$t" ]] || { echo "evaluate: build $BUILD_DIR/tools/$t first" >&2; exit 2; }
done
mkdir -p "$OUT"
STAGE1=(--min_side 3 --max_side 6 --max_objects 2 --max_colours 3)

task_dir() {  # prints the folder holding set $1's tasks, creating it on first use
  local dir="$OUT/tasks/$1"
  if [[ ! -d "$dir" ]]; then
    case "$1" in
      held_out)
        "$BUILD_DIR/tools/arc-generate" --family held_out --count "$HELD_OUT_COUNT" --seed "$GEN_SEED" \
          "${STAGE1[@]}" --out "$dir" >/dev/null ;;
      train_families)
        "$BUILD_DIR/tools/arc-generate" --family training --count 1 --seed "$((GEN_SEED + 1))" \
          "${STAGE1[@]}" --out "$dir" >/dev/null ;;
      held_out_programs)
        "$BUILD_DIR/tools/arc-generate" --programs held_out --count "$PROGRAM_COUNT" \
          --seed "$((GEN_SEED + 2))" "${STAGE1[@]}" --out "$dir" >/dev/null ;;
      dev_small|dev)
        "$PY" - "$ARC_DIR" "$dir" "$1" <<'PYEOF'
import json, os, shutil, sys
root, out, name = sys.argv[1], sys.argv[2], sys.argv[3]
os.makedirs(out, exist_ok=True)
for i in json.load(open(os.path.join(root, "splits.json")))["dev"]:
    src = os.path.join(root, "training", i + ".json")
    t = json.load(open(src))
    grids = [g for p in t["train"] + t["test"] for g in (p["input"], p["output"])]
    if name == "dev" or all(len(g) <= 10 and len(g[0]) <= 10 for g in grids):
        shutil.copy(src, out)
PYEOF
        ;;
      *) echo "evaluate: unknown set $1" >&2; exit 2 ;;
    esac
  fi
  echo "$dir"
}

for set in $SETS; do
  dir="$(task_dir "$set")"
  for mode in $MODES; do
    case "$mode" in
      base) flags=(--experts ttt --no_ttt) ;;
      ttt) flags=(--experts ttt) ;;
      search) flags=(--experts search) ;;
      both) flags=(--experts both) ;;
      *) echo "evaluate: unknown mode $mode" >&2; exit 2 ;;
    esac
    echo "== $set / $mode: $(ls "$dir" | wc -l) tasks"
    "$BUILD_DIR/tools/arc-solve" --model "$MODEL" --tasks "$dir" --threads "$THREADS" "${flags[@]}" \
      --report "$OUT/$set-$mode.json" --out "$OUT/$set-$mode-submission.json" "$@" \
      | tee "$OUT/$set-$mode.log" | grep -E "^tasks|^mean" ||
      echo "   arc-solve failed on some tasks (a task too long for the model's context fails the TTT" \
           "expert alone); each failure is in $OUT/$set-$mode.json"
  done
done

"$PY" - "$OUT" "$MODEL" "$ARC_DIR" <<'PYEOF'
import collections, json, os, sys
out, model, arc_dir = sys.argv[1], sys.argv[2], sys.argv[3]

def small(task_id):  # every grid of the ARC task at most 10x10 (the dev_small rule)
    t = json.load(open(os.path.join(arc_dir, "training", task_id + ".json")))
    grids = [g for p in t["train"] + t["test"] for g in (p["input"], p["output"])]
    return all(len(g) <= 10 and len(g[0]) <= 10 for g in grids)

def solved(t):
    return "tests" in t and all(x["correct"] for x in t["tests"])

rows, fam = [], collections.defaultdict(dict)
sets = [("held_out", "held_out", None), ("train_families", "train_families", None),
        ("held_out_programs", "held_out_programs", None),
        ("dev_small", "dev_small", None), ("dev", "dev", None),
        ("dev (small-grid subset)", "dev", small)]
for label, set_, keep in sets:
    row = {"set": label}
    for mode in ("base", "ttt", "search", "both"):
        path = os.path.join(out, f"{set_}-{mode}.json")
        if not os.path.exists(path):
            continue
        tasks = json.load(open(path))["tasks"]
        if keep:
            tasks = [t for t in tasks if keep(t["id"])]
        if not tasks:
            continue
        seconds = [t["seconds"] for t in tasks]
        row["n"] = len(tasks)
        row[mode] = (sum(map(solved, tasks)), sum(seconds) / len(tasks), max(seconds))
        if set_ == "held_out":
            for t in tasks:
                f = t["id"].rsplit("_", 2)[0]
                k, n = fam[f].get(mode, (0, 0))
                fam[f][mode] = (k + solved(t), n + 1)
    if "n" in row:
        rows.append(row)
def cell(r, mode):
    if mode not in r:
        return "-", "-"
    k, s, m = r[mode]
    return f"{k}/{r['n']} = {k / r['n']:.3f}", f"{s:.1f} / {m:.1f}"
modes = ("base", "ttt", "search", "both")
names = {"base": "no TTT", "ttt": "TTT", "search": "search", "both": "search + TTT"}
lines = [f"Model `{model}`; pass@2 all-or-nothing per task; seconds per task as mean / max.", "",
         "| set | tasks | " + " | ".join(f"{names[m]} pass@2 | s/task" for m in modes) + " |",
         "|---|---|" + "---|---|" * len(modes)]
for r in rows:
    lines.append(f"| {r['set']} | {r['n']} | " + " | ".join(" | ".join(cell(r, m)) for m in modes) + " |")
if fam:
    lines += ["", "| held-out family | " + " | ".join(names[m] for m in modes) + " |",
              "|---|" + "---|" * len(modes)]
    for f in sorted(fam):
        got = ["%d/%d" % fam[f][m] if m in fam[f] else "-" for m in modes]
        lines.append(f"| {f} | " + " | ".join(got) + " |")
text = "\n".join(lines) + "\n"
open(os.path.join(out, "summary.md"), "w").write(text)
print(text)
PYEOF
