// A procedural generator of ARC-like tasks, for training the embedded model and for measuring how
// it generalises to rules it never trained on.
//
// A *family* is a named rule with random parameters (e.g. "rotate": a quarter or half turn;
// "gravity": cells fall towards one edge). GenerateTask draws the rule's parameters once per task,
// then draws 4-6 input grids and computes each output by applying the rule, so every task is
// correct by construction: 3-5 demonstrations and one test pair whose output is known. A task's
// demonstrations and test pair always follow one rule with one set of parameters.
//
// The background is always colour 0 (ARC's convention; training's colour permutations keep 0
// fixed). Every generated task satisfies, beyond ValidateTask:
//   - no two pairs have the same input (demonstrations differ, the test input is new);
//   - no pair has output == input (every family changes its input; there is no identity family);
//   - every grid has at most Difficulty::max_side rows and columns and at most
//     Difficulty::max_colours distinct non-background colours; the grids named by the family's
//     SizePromise also have at least Difficulty::min_side rows and columns.
// Degenerate draws are rejected and redrawn from the same seeded stream, so the result is a pure
// function of (family, seed, difficulty) on every platform: all randomness comes from arc::Rng and
// no step depends on unordered iteration or unstable sorting.
//
// HELD-OUT families (HeldOutFamilies()), never used for training, to measure generalisation:
//   colour_swap         two colours trade places                     (kin: colour_map)
//   diagonal_rays       pixels shoot diagonal rays to the edge        (kin: connect_to_edge)
//   hollow_objects      solid rectangles lose their interior          (kin: outline_objects)
//   mirror_tile         2x2 mirror tiling of the input                (kin: tile, reflect_concat)
//   corners_to_box      two same-coloured corners become a box        (kin: lines_between_points)
//   recolour_by_marker  objects take the colour of a corner marker     (kin: colour_map)
//   count_holes_bar     a bar as long as the number of enclosed holes  (kin: count_objects_bar)
// TrainingFamilies() is every other family. The list is fixed: changing it invalidates every
// generalisation number measured before, so do it only with a new model card.
//
// Tasks of random programs of the search DSL, with their own held-out program shapes, are in
// gen/program_tasks.h; train/pretrain_data.h mixes both.
//
// Thread safety: the free functions are pure and thread-safe. A TaskStream is a value with a
// position; one thread uses it at a time (copies are independent).
#ifndef ARC_GEN_GENERATOR_H_
#define ARC_GEN_GENERATOR_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/data/grid.h"

namespace arc {

// Knobs that families honour where they mean something.
struct Difficulty {
  int min_side = 3;     // smallest side of the grids a family promises (see SizePromise), 1..30
  int max_side = 10;    // largest side of every grid, min_side..30
  int max_objects = 4;  // most objects in one input, for families built from objects; 1..30
  int max_colours = 4;  // most distinct non-background colours in any one grid; 1..9
};

// INVALID_ARGUMENT naming the field and its range when a knob is out of range.
absl::Status ValidateDifficulty(const Difficulty& difficulty);

// Which grids of a family's tasks have sides within [min_side, max_side]. Every grid is always at
// most max_side; the others may be smaller than min_side (a crop, a count bar, the small input of
// a scale-up).
enum class SizePromise {
  kAllGrids,  // inputs and outputs
  kInputs,    // inputs only (outputs are smaller: crops, bars, quadrants)
  kOutputs,   // outputs only (inputs are smaller: scale-up, tiling)
};

// A family as the registry describes it.
struct FamilyInfo {
  std::string name;
  std::string rule;       // one line: what a solver must do
  bool held_out = false;  // in HeldOutFamilies()
  SizePromise sizes = SizePromise::kAllGrids;
  // The smallest Difficulty knobs the family can work with (GenerateTask answers
  // FAILED_PRECONDITION below them).
  int needs_max_side = 1;
  int needs_max_colours = 1;
  int needs_max_objects = 1;
};

// Every family, in the registry's fixed order.
const std::vector<FamilyInfo>& Families();
std::vector<std::string> FamilyNames();
// The held-out families listed at the top of this file, in registry order.
std::vector<std::string> HeldOutFamilies();
// FamilyNames() minus HeldOutFamilies(), in registry order.
std::vector<std::string> TrainingFamilies();

// OK when `family` can generate at `difficulty`; INVALID_ARGUMENT for an unknown family (the
// message lists the names) or an invalid difficulty; FAILED_PRECONDITION naming the knob and the
// value the family needs, e.g. "fill_enclosed needs max_colours >= 2, got 1".
absl::Status CheckFeasible(const std::string& family, const Difficulty& difficulty);

// One task of `family`, a pure function of its arguments. The task id is "<family>_<seed>".
// Errors: those of CheckFeasible; INTERNAL if no non-degenerate task came out of the bounded
// redraws (a bug in the family; the tests draw every family at several difficulties).
absl::StatusOr<Task> GenerateTask(const std::string& family, uint64_t seed,
                                  const Difficulty& difficulty = {});

// The seed of the index-th task of a run seeded with `seed` (arc-generate uses it, so the file
// <family>_<seed>_<index>.json holds GenerateTask(family, TaskSeed(seed, index), difficulty)).
uint64_t TaskSeed(uint64_t seed, int64_t index);

// ---------------------------------------------------------------------------------------------
// A deterministic, endless stream of generated tasks for training.

// One step of a curriculum: `num_tasks` tasks at `difficulty`; the last stage lasts forever (its
// num_tasks is ignored).
struct CurriculumStage {
  int64_t num_tasks = 0;
  Difficulty difficulty;
};

// Small grids first: 3..6 sides (2 objects, 3 colours) for 50k tasks, 3..8 (3, 4) for the next
// 100k, then 3..10 (4, 5) for ever. In the compact format (H*(W+1) tokens per grid) the tasks
// average about 250, 350 and 480 tokens per stage (90th percentile 350, 490, 690; max 950).
std::vector<CurriculumStage> DefaultCurriculum();

struct TaskStreamOptions {
  uint64_t seed = 0;
  // Families to mix; empty means TrainingFamilies(). Duplicates weight a family more.
  std::vector<std::string> families;
  // Empty means DefaultCurriculum().
  std::vector<CurriculumStage> curriculum;
  // Held-out families are refused (INVALID_ARGUMENT) unless this is set, e.g. for validation
  // streams that measure generalisation.
  bool allow_held_out = false;
};

class TaskStream {
 public:
  // INVALID_ARGUMENT for an unknown or (without allow_held_out) held-out family, an invalid stage
  // difficulty, a non-positive num_tasks in a non-final stage, or a stage where no listed family
  // is feasible. Families infeasible at a stage's difficulty are skipped during that stage.
  static absl::StatusOr<TaskStream> Create(TaskStreamOptions options);

  // Task `index` (>= 0) of the stream: a pure function of (options, index), so a training run
  // resumes by Seek(saved position). The family is drawn uniformly from the families feasible at
  // the index's stage; the id is "<family>_<task seed>". Never fails: should the drawn family fail
  // 16 task seeds in a row (not observed at any difficulty CheckFeasible accepts), the stage's
  // next family is used.
  Task At(int64_t index) const;
  // The family drawn for `index`, without generating the task (what At uses; see At).
  const std::string& FamilyAt(int64_t index) const;
  const Difficulty& DifficultyAt(int64_t index) const;

  // At(position()), then advances.
  Task Next();
  int64_t position() const { return position_; }
  void Seek(int64_t position) { position_ = position; }

 private:
  struct Stage {
    int64_t end = 0;  // first index after the stage (the last stage: unbounded)
    Difficulty difficulty;
    std::vector<std::string> families;  // feasible ones, in option order
  };
  const Stage& StageAt(int64_t index) const;
  // The stage's family index for `index`; fixed per index, so FamilyAt agrees with At.
  size_t FamilySlot(const Stage& stage, int64_t index) const;

  explicit TaskStream(uint64_t seed) : seed_(seed) {}
  uint64_t seed_;
  std::vector<Stage> stages_;
  int64_t position_ = 0;
};

}  // namespace arc

#endif  // ARC_GEN_GENERATOR_H_
