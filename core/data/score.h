// pass@2 scoring of a Submission against tasks whose test outputs are known (reference
// mit-ttt-pipeline.md section 6, the paper's arclib/eval.py).
//
// A test input is correct iff its true output equals attempt_1 or attempt_2 exactly (shape and
// every cell). The report carries the paper's three counts:
// - pass2_all_or_nothing: a task scores 1 only when every one of its test inputs is submitted and
//   correct, else 0; averaged over the tasks given (the paper's "Competition Accuracy" with its
//   default, and the number the paper reports);
// - pass2_fractional: a task scores correct_i / n_i; averaged over the tasks given (Kaggle's
//   fractional credit, the paper's `subpoints=True`);
// - per_prediction: correct test inputs / submitted test inputs (0 when nothing was submitted).
// (The paper's fourth number, a mean normalised Hamming distance, is not computed here.)
//
// Coverage rules:
// - A task missing from the submission: all its test inputs are wrong and not submitted.
// - A task with fewer submission entries than test inputs: entry i answers test input i; the test
//   inputs without an entry are wrong and not submitted. Entries beyond the last test input are
//   ignored.
// - Submission keys that name no task in `tasks` are ignored.
// - Tasks are scored in the order given, one TaskScore each (duplicate ids are scored twice).
//
// Errors (nothing is scored when one is returned):
// - FAILED_PRECONDITION "task <id> test[<i>]: no known output to score against" for the first test
//   input (in task order) without an output;
// - INVALID_ARGUMENT "task <id>: no test inputs to score" for a task with no test inputs (its
//   fractional credit would be 0/0).
//
// Pure functions of their arguments; thread-safe.
#ifndef ARC_CORE_DATA_SCORE_H_
#define ARC_CORE_DATA_SCORE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/data/grid.h"
#include "core/data/submission.h"

namespace arc {

struct TaskScore {
  std::string id;
  std::vector<bool> correct;  // per test input, in test order
  bool submitted = false;     // the submission has an entry for every test input of the task
  double fraction = 0;        // correct test inputs / test inputs
  bool all_correct = false;   // every test input correct (so also every one submitted)
};

struct ScoreReport {
  int num_tasks = 0;
  int num_test_inputs = 0;       // over all tasks
  int num_submitted_inputs = 0;  // test inputs that have a submission entry
  int num_correct_inputs = 0;
  double pass2_all_or_nothing = 0;  // Σ_tasks [all test inputs correct and submitted] / #tasks
                                    // (the paper's number); 0 when there are no tasks
  double pass2_fractional = 0;      // Σ_tasks (correct_i / n_i) / #tasks (Kaggle); 0 when no tasks
  double per_prediction = 0;        // correct test inputs / submitted test inputs (0 when none
                                    // submitted)
  std::vector<TaskScore> tasks;     // in the order of `tasks`
};

absl::StatusOr<ScoreReport> ScoreSubmission(const Submission& submission,
                                            const std::vector<Task>& tasks);

}  // namespace arc

#endif  // ARC_CORE_DATA_SCORE_H_
