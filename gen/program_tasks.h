// Tasks from programs: random, well-typed programs of the search DSL (core/search/dsl.h) run on
// generated inputs, for training the embedded model on far more rules than the hand-written
// families (gen/generator.h) and for measuring how it generalises to program shapes it never saw.
//
// A program is a chain of 1..4 DSL primitives from an image to an image, e.g.
// "scale_2(crop(largest(objects8(x))))": each step's input kind (image or list) is the previous
// step's output kind, an image -> image primitive applied to a list maps over its items (as in the
// search), `recolour_c` only ends a program. Parameters are the primitives' enumerated variants
// (keep_3, smear_ul, ...) and are drawn at random; colour parameters come from the task's palette.
// The primitives that need a canvas size (paste_out, tile_out, ...) get the input's size.
//
// A task draws one input kind (objects, noise, pixels, rectangles, a periodic pattern, two halves
// split by a line), a palette, a program, then 4-6 inputs (3-5 demonstrations and one test pair)
// and runs the program on each. It is kept only if the program is non-trivial on every pair:
//   - the program applies (no step fails) and the output is not blank (all background);
//   - the output differs from the input on every pair;
//   - the outputs are not all equal (the program is not constant on the task);
//   - every step changes the state on at least one pair (the program text has no idle step);
//   - a second run gives the same outputs (deterministic);
//   - inputs are distinct; every grid is at most Difficulty::max_side a side; inputs use at most
//     max_colours non-background colours (an output may add one: recolour_c, or the colour 1 of
//     the and/or/xor primitives).
// Otherwise another program is drawn (the rejection counts say why). When a program's outputs grow
// past max_side (scale_3, tile_3x3, ...), later inputs are drawn smaller, so such programs still
// produce tasks whose inputs may be smaller than min_side.
//
// HELD-OUT program shapes (never produced in training mode, to measure generalisation):
//   primitives   hull, connect_h, connect_v, connect_hv, cols_xor, rows_xor, self_kron,
//                unique_colours, count_colours_row, count_colours_column, count_colours_square
//   consecutive  any gravity_* or fall_* step directly followed by a dihedral step (rot90, ...);
//   steps        crop directly followed by scale_2 or scale_3;
//                keep_c (any c) directly followed by any smear_*
// Each set is closed under the dihedral transforms and colour permutations that training applies
// to whole tasks, so augmentation cannot turn a training program into a held-out one. The list is
// fixed: changing it invalidates every held-out number measured before.
//
// Determinism: GenerateProgramTask is a pure function of (seed, difficulty, options): every draw
// comes from arc::Rng, the DSL's primitives are pure and its table order is fixed.
// Thread safety: the functions are pure and thread-safe.
#ifndef ARC_GEN_PROGRAM_TASKS_H_
#define ARC_GEN_PROGRAM_TASKS_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/data/grid.h"
#include "gen/generator.h"

namespace arc {

enum class ProgramSplit {
  kTraining,  // never a held-out primitive or consecutive pair
  kHeldOut,   // always at least one of them
};

inline constexpr int kMaxProgramDepth = 4;

struct ProgramTaskOptions {
  int min_depth = 1;  // primitives per program, 1..max_depth
  int max_depth = 4;  // min_depth..kMaxProgramDepth
  ProgramSplit split = ProgramSplit::kTraining;
};

// INVALID_ARGUMENT naming the field and its range.
absl::Status ValidateProgramTaskOptions(const ProgramTaskOptions& options);

// Why a drawn program was not kept (the order of the filter above).
enum class ProgramRejection {
  kNotHeldOut,  // held-out mode: the draw used no held-out primitive or pair
  kFailed,      // a step did not apply, or the output was blank
  kTooLarge,    // an output stayed over max_side even on the smallest inputs
  kIdentity,    // output == input on a pair (after redraws of that pair's input)
  kConstant,    // the same output on every pair
  kIdleStep,    // a step changed nothing on any pair
  kNondeterministic,
  kInputs,  // no distinct input within the size and colour limits
};
inline constexpr int kNumProgramRejections = 8;
const char* ProgramRejectionName(ProgramRejection r);

// The fixed held-out sets documented above, by primitive name.
const std::vector<std::string>& HeldOutPrimitives();
// (earlier step, next step) name pairs, expanded over their parameters.
const std::vector<std::pair<std::string, std::string>>& HeldOutStepPairs();
// True when the program (indices into search::Dsl(), innermost first) uses a held-out primitive
// or consecutive pair.
bool IsHeldOutProgram(const std::vector<int>& steps);
// "f3(f2(f1(x)))" for steps {f1, f2, f3}.
std::string ProgramText(const std::vector<int>& steps);
// The steps of a program text as ProgramText writes it; INVALID_ARGUMENT naming an unknown
// primitive or a malformed text.
absl::StatusOr<std::vector<int>> ParseProgramText(std::string_view text);

// Runs the program on one input grid, with the canvas size of the input. nullopt when a step does
// not apply, the result is a list or blank, or the output is over kArcMaxSide.
std::optional<Grid> RunProgram(const std::vector<int>& steps, const Grid& input);

struct ProgramTask {
  Task task;               // id "program_<seed>"; 3-5 demonstrations and one test pair
  std::vector<int> steps;  // indices into search::Dsl(), innermost first
  std::string program;     // ProgramText(steps)
  std::string input_kind;  // objects, noise, pixels, rectangles, pattern, halves
  // Programs drawn before this one was kept, by reason (index: ProgramRejection).
  std::array<int64_t, kNumProgramRejections> rejected{};
};

// One task, a pure function of its arguments. INVALID_ARGUMENT for bad options or difficulty;
// FAILED_PRECONDITION when max_side < 2 (too few distinct inputs); INTERNAL when no program was
// kept in the bounded number of draws (not observed at any valid difficulty; the tests sweep them).
absl::StatusOr<ProgramTask> GenerateProgramTask(uint64_t seed, const Difficulty& difficulty,
                                                const ProgramTaskOptions& options = {});

// The task as an ARC task file (TaskToJson) with two more keys that ARC readers ignore: "program"
// (the program text) and "input_kind".
std::string ProgramTaskToJson(const ProgramTask& task);

// True when `task` passes the non-triviality filter above for `steps` (what GenerateProgramTask
// checks; exposed for the tests). `reason` gets the first failed check.
bool PassesProgramFilter(const std::vector<int>& steps, const Task& task, ProgramRejection* reason);

}  // namespace arc

#endif  // ARC_GEN_PROGRAM_TASKS_H_
