// Submission: the Kaggle ARC submission, {task_id: [{"attempt_1": grid, "attempt_2": grid}, ...]},
// one entry per test input in test order. Reading and writing live in task_io.h.
#ifndef ARC_CORE_DATA_SUBMISSION_H_
#define ARC_CORE_DATA_SUBMISSION_H_

#include <map>
#include <string>
#include <vector>

#include "core/data/grid.h"

namespace arc {

// The two guesses for one test input.
struct Attempts {
  Grid attempt_1;
  Grid attempt_2;

  // pass@2 for one test input: either attempt equals the expected output.
  bool Matches(const Grid& truth) const { return attempt_1 == truth || attempt_2 == truth; }
};

// task id -> attempts per test input (index = test index). std::map keeps the JSON key order stable.
using Submission = std::map<std::string, std::vector<Attempts>>;

}  // namespace arc

#endif  // ARC_CORE_DATA_SUBMISSION_H_
