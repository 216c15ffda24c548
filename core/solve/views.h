// Inference views of a task (reference mit-ttt-pipeline.md §4.1): the transformed versions of the
// real task that the adapted model is asked to solve, and how to map each answer back.
//
// For one test input, with N demonstrations and `leave_out` = L (1 in the paper; 0 = all
// demonstrations):
//   subsets   every way of removing L demonstrations (the rest kept in ascending order);
//   base      for each subset: the subset as is (category "identity"), then `permutations` random
//             demonstration orders of it (also "identity"); duplicates dropped;
//   transform for each transform A in `transforms`: one base view chosen at random (the paper's
//             rng.choice) with A applied to its demonstrations and test input; skipped when the
//             result equals a base view (a symmetric task); category = A's name.
//             With `every_base_per_transform`, A is applied to every base view instead.
// Each view's answer is mapped back with InvertOutput (the inverse dihedral element).
// Deterministic: a fresh Rng(seed) per test input. Pure functions; thread-safe.
#ifndef ARC_CORE_SOLVE_VIEWS_H_
#define ARC_CORE_SOLVE_VIEWS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/data/augment.h"
#include "core/data/grid.h"
#include "core/solve/option_table.h"

namespace arc {

// The paper's five inference transforms: Transpose, Flip(0), Flip(1), Rotate(90), Rotate(180).
std::vector<Dihedral> PaperViewTransforms();
// All seven non-identity dihedral elements.
std::vector<Dihedral> AllViewTransforms();

// The defaults of the user-facing fields are the option table's (core/solve/option_table.h), which
// also holds their ranges.
struct ViewOptions {
  // demonstrations removed per subset: 0 (all used)..N-1
  int leave_out = solve_option_default::views_leave_out;
  // extra demonstration orders per subset
  int permutations = solve_option_default::views_permutations;
  std::vector<Dihedral> transforms = PaperViewTransforms();  // table: views_transforms
  bool every_base_per_transform = false;  // apply each transform to every base view
  int max_views = 64;       // hard bound on views per test input (1..4096)
  uint64_t seed = 0;
};

absl::Status ValidateViewOptions(const ViewOptions& options);

struct View {
  std::string id;          // e.g. "s0/p1/transpose": subset 0, permutation 1, transform
  std::string category;    // "identity" or the transform name (the voting category)
  Dihedral transform = Dihedral::kIdentity;
  std::vector<int> demonstrations;  // indices into the source task, in prompt order
  Task task;               // the transformed demonstrations and the one transformed test input
};

// Views for test input `test_index`. INVALID_ARGUMENT for bad options or index; FAILED_PRECONDITION
// when leave_out leaves no demonstration.
absl::StatusOr<std::vector<View>> BuildViews(const Task& task, int test_index,
                                             const ViewOptions& options);

// Maps a grid predicted for the view back into the source task's frame.
Grid InvertOutput(const View& view, const Grid& predicted);

}  // namespace arc

#endif  // ARC_CORE_SOLVE_VIEWS_H_
