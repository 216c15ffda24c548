// Solver: the whole per-task pipeline of the MIT test-time-training paper on one ArcModel.
//
//   1. ttt_data   BuildTttData from the demonstrations (core/ttt_data.h), rendered through the
//                 model's prompt format with the loss mask (samples over the token budget dropped);
//   2. ttt_train  the solver's LoRA adapter is reset to its initial state and trained on them
//                 (core/ttt.h); skipped with ttt = false (the paper's no-TTT baseline);
//   3. inference  for each test input, BuildViews (core/views.h); views whose prompt plus the answer
//                 budget do not fit the model's context are dropped, and when none fits the views
//                 are rebuilt with one more demonstration left out, as the paper does; all views are
//                 decoded greedily in batches with the adapter; each output is parsed and inverted;
//                 invalid outputs are counted, never fatal;
//   4. selection  hierarchical vote (or majority), optionally re-ranked by product-of-experts
//                 scoring: the adapted model's summed log-likelihood of each of the top K candidates
//                 under M dihedral views of the task (reference arc-anchors.md §2.2); optionally
//                 the base model's own top candidate as attempt 2 (SelectionOptions::base_attempt).
//
// The options (SolveOptions, the option table, validation, a model's solve_options.json) are in
// core/solve/options.h.
//
// Ownership and threads: a Solver holds a shared, read-only ArcModel and its own adapter; it is used
// by one thread at a time (one solver per worker). Several solvers may share one ArcModel.
// Determinism: the same task, options and seed give the same result on the same build and device.
#ifndef ARC_CORE_SOLVE_SOLVER_H_
#define ARC_CORE_SOLVE_SOLVER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/model/arc_model.h"
#include "core/model/lora.h"
#include "core/solve/options.h"
#include "core/solve/ttt.h"
#include "core/solve/ttt_data.h"
#include "core/solve/views.h"
#include "core/data/vote.h"

namespace arc {

// Moves `candidate` (matched by grid) to ranked[1], inserting it when absent; nothing changes when
// it is already ranked[0]. An inserted candidate keeps its own votes and views.
void PlaceAsSecond(const Candidate& candidate, std::vector<Candidate>& ranked);

enum class SolvePhase { kTttData, kTttTrain, kInference, kSelection };
std::string_view SolvePhaseName(SolvePhase phase);

struct SolveProgress {
  SolvePhase phase = SolvePhase::kTttData;
  TttProgress ttt;        // during kTttTrain
  int views_done = 0;     // during kInference, over all test inputs
  int views_total = 0;
};

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

struct PhaseSeconds {
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
  TttDataStats data_stats;
  TttTrainStats train_stats;
  PhaseSeconds seconds;
  int64_t prompt_tokens = 0;           // decoded prompts, all views
  int64_t generated_tokens = 0;
  int64_t adapter_parameters = 0;

  Attempts AttemptsFor(int test_index) const;
};

class Solver {
 public:
  explicit Solver(std::shared_ptr<const ArcModel> model);

  // Solves `task` (validated against TaskLimits). `progress` and `is_cancelled` may be empty; the
  // cancel check runs before every training step and every decode step, and a cancelled solve
  // returns CANCELLED and leaves the solver usable. FAILED_PRECONDITION (with the token counts)
  // when no view fits the model's context even with one demonstration.
  absl::StatusOr<SolveResult> Solve(const Task& task, const SolveOptions& options,
                                    const std::function<void(const SolveProgress&)>& progress = {},
                                    const std::function<bool()>& is_cancelled = {});

  const ArcModel& model() const { return *model_; }

 private:
  absl::Status EnsureAdapter(const LoraConfig& config);

  std::shared_ptr<const ArcModel> model_;
  std::unique_ptr<LoraAdapter> adapter_;  // created on first use, Reset() per task
  LoraConfig adapter_config_;
};

}  // namespace arc

#endif  // ARC_CORE_SOLVE_SOLVER_H_
