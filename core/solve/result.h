// SolveResult: what one solve of one task produced, as plain values: per test input the ranked
// candidates (the first two are the attempts), what test-time training did, the phase timings and
// the token counts. The Solver (core/solve/solver.h) fills it; the server converts it to its wire
// type; the client converts that back (client/convert.h); reports print it as JSON
// (core/solve/result_json.h).
//
// This header and its target (arc_core_solve_result) depend only on core/data: no libtorch, so the
// client can hold and print a result without the model layer. The training and data counts are
// the subset of TttTrainStats (core/solve/ttt.h) and TttDataStats (core/solve/ttt_data.h) that a
// result reports.
//
// Value types; no synchronisation.
#ifndef ARC_CORE_SOLVE_RESULT_H_
#define ARC_CORE_SOLVE_RESULT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "core/data/grid.h"
#include "core/data/submission.h"
#include "core/data/vote.h"

namespace arc {

struct ViewPrediction {
  std::string view;       // view id
  std::string category;
  bool valid = false;
  Grid output;            // inverted into the task's frame when valid
  std::string error;      // why the output was rejected, when not valid
};

struct TestResult {
  std::vector<Candidate> candidates;   // ranked; [0] and [1] are the attempts
  int num_views = 0;
  int invalid_outputs = 0;
  int leave_out = 0;                   // demonstrations left out per view (after context fitting)
  std::vector<ViewPrediction> views;   // only with include_views
};

// The TTT data set: how many leave-n tasks there were, what augmentation and the filters did, and
// what was selected (zero without TTT).
struct TttDataCounts {
  int base_leave1 = 0;          // leave-one-out tasks before augmentation
  int base_leave2 = 0;
  int augmented = 0;            // augmented tasks kept (both leave-n), before dedup
  int dropped_oversize = 0;     // augmented tasks with a grid over max_side
  int duplicates = 0;           // removed by the two dedup passes
  int dropped_over_tokens = 0;  // samples at or over the token limit
  int selected_leave1 = 0;      // in the final set
  int selected_leave2 = 0;
};

// The training run (zero without TTT).
struct TttTrainCounts {
  int samples = 0;
  int steps = 0;
  double first_loss = 0;  // first optimizer step's loss
  double last_loss = 0;   // last optimizer step's loss
  int64_t tokens = 0;     // tokens through the model (with padding)
  // Every optimizer step's loss, in order (the loss curve of reports): one float per step, so a
  // few hundred steps cost a few kilobytes on the wire. Empty without TTT.
  std::vector<float> losses;
};

// The program search (zero when it did not run).
struct SearchCounts {
  bool enabled = false;            // the search ran
  bool explained = false;          // a program explains every demonstration, every test input
  int64_t programs = 0;            // primitive applications tried
  int64_t nodes = 0;               // distinct intermediate states
  int depth_completed = 0;
  bool stopped_by_deadline = false;  // the wall-clock safety stop fired (the result may vary)
  bool ttt_skipped = false;        // TTT did not run (experts both): ttt_skipped_because says why
  // "the search explains the task" (skip_ttt_when_explained), or the transduction expert's
  // FAILED_PRECONDITION (the task does not fit the model's context), whose answers are then the
  // search's alone. Empty when TTT ran.
  std::string ttt_skipped_because;
};

struct PhaseSeconds {
  double search = 0;
  double ttt_data = 0;
  double ttt_train = 0;
  double inference = 0;
  double selection = 0;
};

struct SolveResult {
  std::string task_id;
  std::string task_hash;               // ContentHash
  std::vector<TestResult> tests;       // one per test input
  bool ttt = false;                    // whether adaptation ran
  bool full_finetune = false;          // adaptation trained a full copy instead of LoRA
  TttDataCounts data_stats;
  TttTrainCounts train_stats;
  SearchCounts search;
  PhaseSeconds seconds;
  int64_t prompt_tokens = 0;           // decoded prompts, all views
  int64_t generated_tokens = 0;
  int64_t adapter_parameters = 0;

  // The two attempts of test input `test_index` (a missing one is filled as ToAttempts does).
  Attempts AttemptsFor(int test_index) const;
};

}  // namespace arc

#endif  // ARC_CORE_SOLVE_RESULT_H_
