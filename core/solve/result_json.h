// The one JSON form of a solve result: an entry of `arc-solve --report` and what
// `arc-client solve --json` (and eval's per-task output) prints; docs/JSON.md documents it with an
// example. One task's entry:
//
//   {"id": "0d3d703e", "hash": "...", "seconds": 1.9,
//    "correct": true | false | null,   (every test input right; one wrong; else null: unknown)
//    "ttt": {"enabled": true, "samples": 24, "steps": 24, "first_loss": 1.2, "last_loss": 0.1,
//            "losses": [1.2, ..., 0.1],                   (one per optimizer step, 6 digits)
//            "tokens": 9000, "data": {"base_leave1", "base_leave2", "augmented", "dropped_oversize",
//                                     "duplicates", "dropped_over_tokens", "selected_leave1",
//                                     "selected_leave2"}},
//    "search": {"enabled", "explained", "programs", "nodes", "depth_completed",
//               "stopped_by_deadline", "ttt_skipped"},
//    "phase_seconds": {"search", "ttt_data", "ttt_train", "inference", "selection"},
//    "prompt_tokens": 5000, "generated_tokens": 300,
//    "tests": [{"attempts": [grid, grid],
//               "candidates": [{"grid": grid, "votes": 5, "score": 0, "views": ["s0/p0/identity"],
//                               "expert": "ttt" | "search" | "search+ttt",
//                               "correct": true | false | null,
//                               "program": "crop(x)", "explained": 3}],  (program, explained:
//                                                                         search answers only)
//               "views": 8, "invalid_outputs": 0, "leave_out": 1,
//               "correct": true | false | null,            (null: the test output is unknown)
//               "view_predictions": [{"view", "category", "valid", "output": grid | null,
//                                     "error"}]}],        (only when the result has views)
//    "job": {"id": "job-...", "queue_seconds": 0.01}}    (only for a server job)
//
// A grid is an array of rows of colour numbers, [[0, 1], [2, 3]] (JsonText prints a row per line);
// every number is a JSON number.
// A task that failed is {"id", "seconds", "error": "<status>"}. Keys print sorted (nlohmann's
// default), so the text of two equal results is equal.
//
// Depends only on core/data (target arc_core_solve_result). Pure functions; thread-safe.
#ifndef ARC_CORE_SOLVE_RESULT_JSON_H_
#define ARC_CORE_SOLVE_RESULT_JSON_H_

#include <string>

#include "absl/status/status.h"
#include "core/data/grid.h"
#include "core/solve/result.h"
#include "nlohmann/json.hpp"

namespace arc {

// What a report knows about a result beyond the result itself.
struct ResultContext {
  double seconds = 0;          // the task's wall time: the solve (arc-solve), admission to result
                               // (a server job)
  const Task* task = nullptr;  // with known test outputs, "correct" is true or false
  std::string job_id;          // non-empty: the "job" object is written
  double queue_seconds = 0;    // the job's time in the queue
};

nlohmann::json SolveResultToJson(const SolveResult& result, const ResultContext& context);

// The entry of a task whose solve failed with `error`.
nlohmann::json SolveErrorToJson(const std::string& task_id, double seconds,
                                const absl::Status& error);

// `json` as text indented by two spaces, as nlohmann's dump(2), except that an array of numbers
// stays on one line and an array of such arrays (a grid) prints one row per line:
//   "grid": [
//     [0, 0, 3],
//     [1, 1, 0]
//   ],
// What arc-solve's report file, arc-client's --json and its eval report print.
std::string JsonText(const nlohmann::json& json);

}  // namespace arc

#endif  // ARC_CORE_SOLVE_RESULT_JSON_H_
