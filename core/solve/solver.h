// Solver: the whole per-task pipeline on one ArcModel: two experts (core/solve/experts.h), the
// program search (induction) and the MIT test-time-training paper's pipeline (transduction), as
// named steps (Solve in solver.cc reads as this list):
//
//   0. search     with experts both or search: the program search (core/search/search.h) over the
//                 demonstrations, within its deterministic work budget; with experts both and
//                 skip_ttt_when_explained, steps 1-4 are skipped when a program explains every
//                 demonstration for every test input; the test inputs' views are then fitted to
//                 the model's context (step 3's FitViews) before any training, and with experts
//                 both a task too long for the model skips steps 1-4 and keeps the search's
//                 answers (SearchCounts::ttt_skipped_because says why);
//   1. ttt_data   BuildTttData from the demonstrations (core/solve/ttt_data.h), rendered through
//                 the model's prompt format with the loss mask (samples over the token budget
//                 dropped);
//   2. ttt_train  adapt: the solver's LoRA adapter is reset to its initial state and trained on
//                 them (core/solve/ttt.h), or a private copy of the base under full fine-tuning;
//                 skipped with ttt = false (the paper's no-TTT baseline);
//   3. inference  infer views (core/solve/inference.h): for each test input, BuildViews
//                 (core/solve/views.h); views whose prompt plus the answer budget do not fit the
//                 model's context are dropped, and when none fits the views are rebuilt with one
//                 more demonstration left out, as the paper does; all views are decoded greedily
//                 in batches with the adapted model; each output is parsed and inverted; invalid
//                 outputs are counted, never fatal;
//   4. selection  select (core/solve/selection.h): hierarchical vote (or majority), optionally
//                 re-ranked by product-of-experts scoring: the adapted model's summed
//                 log-likelihood of each of the top K candidates under M dihedral views of the task
//                 (reference arc-anchors.md §2.2); optionally the base model's own top candidate as
//                 attempt 2 (SelectionOptions::base_attempt);
//   5. merge      the experts' answers merged by one rule (core/solve/experts.h): verified
//                 programs first, then the TTT vote, then partial programs; every candidate names
//                 its expert, and search answers carry their program.
//
// Progress and cancellation go through one SolveObserver (core/solve/observer.h); the result is a
// SolveResult (core/solve/result.h, printed as JSON by core/solve/result_json.h).
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
#include "core/solve/observer.h"
#include "core/solve/options.h"
#include "core/solve/result.h"
#include "core/solve/ttt.h"
#include "core/solve/ttt_data.h"
#include "core/solve/views.h"
#include "core/data/vote.h"

namespace arc {

struct TestViews;  // core/solve/inference.h

// Moves `candidate` (matched by grid) to ranked[1], inserting it when absent; nothing changes when
// it is already ranked[0]. An inserted candidate keeps its own votes and views.
void PlaceAsSecond(const Candidate& candidate, std::vector<Candidate>& ranked);


class Solver {
 public:
  explicit Solver(std::shared_ptr<const ArcModel> model);

  // Solves `task` (validated against TaskLimits), reporting to `observer` (may be null; see
  // core/solve/observer.h for the calls and their order). The cancel check runs before every
  // training step, decode step and scoring batch; a cancelled solve returns CANCELLED and leaves
  // the solver usable. FAILED_PRECONDITION (with the token counts) when no view fits the model's
  // context even with one demonstration.
  absl::StatusOr<SolveResult> Solve(const Task& task, const SolveOptions& options,
                                    SolveObserver* observer = nullptr);

  const ArcModel& model() const { return *model_; }

 private:
  struct Adaptation;  // what step 2 produced (solver.cc)

  // Step 2: trains the adapter (or a full copy of the base) on the rendered TTT samples.
  absl::StatusOr<Adaptation> Adapt(const std::vector<RenderedPrompt>& samples,
                                   const SolveOptions& options, SolveObserver& observer);
  absl::Status EnsureAdapter(const LoraConfig& config);
  // Steps 1-4, the TTT expert, over the test inputs' views already fitted to the context
  // (FitViews, core/solve/inference.h): fills result.tests (candidates ranked by the TTT
  // selection), the TTT statistics, token counts and phase seconds.
  absl::Status Transduce(const Task& task, const SolveOptions& options,
                         std::vector<TestViews> views, SolveObserver& observer,
                         SolveResult& result);

  std::shared_ptr<const ArcModel> model_;
  std::unique_ptr<LoraAdapter> adapter_;  // created on first use, Reset() per task
  LoraConfig adapter_config_;
};

}  // namespace arc

#endif  // ARC_CORE_SOLVE_SOLVER_H_
