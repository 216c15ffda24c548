// Augmented copies of a task for the program search, each with the map that takes an answer found
// on the copy back into the task's own frame.
//
// View names (SearchOptions::views):
//   "identity"                     the task itself
//   "rot90" ... "anti_transpose"   every grid under that dihedral element (core/data/augment.h); an
//                                  answer is mapped back with the inverse element
//   "colours"                      colour normalisation: in each pair (and each test input) the
//                                  colours that vary between examples are renamed by how often they
//                                  occur in that input (most frequent first), so that a rule like
//                                  "paint the rare colour over the common one" has one program
//   "colours_transpose"            both of the above
// A view that does not apply (colours: an output uses a varying colour its input lacks) or that
// equals an earlier view is left out.
//
// Pure functions of their arguments; thread-safe.
#ifndef ARC_CORE_SEARCH_TASK_VIEW_H_
#define ARC_CORE_SEARCH_TASK_VIEW_H_

#include <array>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/data/augment.h"
#include "core/data/grid.h"

namespace arc::search {

struct TaskView {
  std::string name;
  Task task;  // the transformed task (test outputs dropped)
  Dihedral dihedral = Dihedral::kIdentity;
  // Per test input, the colour renaming applied to it (identity when none); answers are mapped
  // back through its inverse.
  std::vector<std::array<uint8_t, kNumColours>> test_colours;

  // An answer for test input `i` found on this view, in the task's own frame.
  Grid ToTaskFrame(const Grid& answer, int i) const;
};

// The view names that MakeViews understands, in a fixed order.
const std::vector<std::string>& KnownViews();

// The views named, in that order, skipping the ones that do not apply or repeat an earlier one.
// INVALID_ARGUMENT "views: unknown view \"x\"; known: ..." for a name not in KnownViews().
absl::StatusOr<std::vector<TaskView>> MakeViews(const Task& task,
                                                const std::vector<std::string>& names);

// The colour renaming of one grid under colour normalisation with the given fixed colours (a bit
// per colour that keeps its index): the other colours present, by count descending then index,
// take the free indices in ascending order; absent colours fill the rest. A permutation of 0..9.
std::array<uint8_t, kNumColours> NormalisingMap(const Grid& grid, uint32_t fixed_colours);

}  // namespace arc::search

#endif  // ARC_CORE_SEARCH_TASK_VIEW_H_
