// Batch solving: arc-solve's work without a server. A list of tasks is solved one after another
// with one Solver; for each task one line is printed (id, TTT loss first and last, seconds,
// correct or not when the outputs are known), then the mean seconds per task by phase and, when
// every test output is known, the score (pass@2 all-or-nothing and fractional, per prediction).
// The Kaggle submission and the JSON report (its task entries are core/solve/result_json.h's) are
// written by WriteBatchFiles. On a terminal a progress bar with an ETA is drawn on stderr, fed by
// the solve's SolveObserver.
//
// Text printed to `out` (the formats arc-solve has always printed; tests and scripts read them):
//   "<id padded to 10> ttt loss 1.234 -> 0.056 (24 steps)    1.9s  correct"
//   "<id padded to 10> FAILED <status>"
//   "mean seconds per task: ttt_data 0.12  ttt_train 1.50  inference 0.30  selection 0.01"
//   "tasks 2  pass@2 0.5000 (all-or-nothing)  0.5000 (fractional)  per prediction 1/2 = 0.5000"
//   "submission: <path>", "report: <path>", "html: <path>"
//
// Thread-safety: the functions run on the calling thread and use the solver exclusively.
#ifndef ARC_CORE_SOLVE_BATCH_SOLVE_H_
#define ARC_CORE_SOLVE_BATCH_SOLVE_H_

#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/data/grid.h"
#include "core/data/submission.h"
#include "core/solve/solver.h"
#include "nlohmann/json.hpp"

namespace arc {

// The tasks of `loaded` whose ids are in `ids` (every task when `ids` is empty), in their order,
// then the first `limit` of them (0 = all). INVALID_ARGUMENT `no task "x" in <source>` for an id
// that `loaded` lacks.
absl::StatusOr<std::vector<Task>> SelectTasks(std::vector<Task> loaded,
                                              const std::vector<std::string>& ids, int limit,
                                              const std::string& source);

struct BatchResult {
  Submission submission;  // every task; a failed one gets 1x1 zero grids
  nlohmann::json report;  // {"model", "tasks": [entry per task], "failed", "score" (when known)}
  int failed = 0;         // tasks whose solve returned an error
};

struct BatchOptions {
  bool progress_bar = true;  // drawn on stderr when it is a terminal
  // Called after each task and when a task's program search is done (arc-solve: return the heap's
  // free pages to the OS, so neither the search's states nor one large task set the footprint of
  // what follows). May be empty.
  std::function<void()> release_memory;
};

// Solves `tasks` in order with `solver` and `options`, printing to `out` as described above. An
// error is returned only when scoring fails; a failed solve is a FAILED line and a report entry.
absl::StatusOr<BatchResult> SolveTasks(Solver& solver, const std::vector<Task>& tasks,
                                       const SolveOptions& options, std::ostream& out,
                                       const BatchOptions& batch = {});

// Writes the submission to `submission_path` and the report (indented JSON) to `report_path`,
// each skipped when its path is empty, and names each file written on `out`.
absl::Status WriteBatchFiles(const BatchResult& result, const std::string& submission_path,
                             const std::string& report_path, std::ostream& out);

// Writes the report as one self-contained HTML page (core/report/html_report.h) with the
// demonstrations and expected outputs of `tasks` to `html_path` and names it on `out` ("html:
// <path>"); nothing when the path is empty.
absl::Status WriteBatchHtml(const BatchResult& result, const std::vector<Task>& tasks,
                            const std::string& html_path, std::ostream& out);

}  // namespace arc

#endif  // ARC_CORE_SOLVE_BATCH_SOLVE_H_
