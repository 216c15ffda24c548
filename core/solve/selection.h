// Selection, the last step of a solve (core/solve/solver.h): from one test input's predictions to
// its ranked candidates. The selection mode's vote (hierarchical, or flat majority), optionally
// re-ranked by product-of-experts scoring: the adapted model's summed log-likelihood of each of the
// top K candidates under M dihedral views of the task (reference arc-anchors.md §2.2); optionally
// the base model's own top candidate as attempt 2 (SelectionOptions::base_attempt, PlaceAsSecond).
//
// Thread-safety: the model is only read (see core/solve/inference.h).
#ifndef ARC_CORE_SOLVE_SELECTION_H_
#define ARC_CORE_SOLVE_SELECTION_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "core/data/vote.h"
#include "core/solve/inference.h"
#include "core/solve/observer.h"
#include "core/solve/solver.h"
#include "core/text/prompt_format.h"

namespace arc {

// One test input to rank.
struct SelectionInput {
  int test_index = 0;
  const std::vector<Prediction>* predictions = nullptr;       // of the adapted model
  const std::vector<Prediction>* base_predictions = nullptr;  // of the base model, or null
  const View* first_view = nullptr;  // its demonstrations are the ones product-of-experts scores
                                     // under (the first view of the fitted leave-out level)
};

// The ranked candidates of `input.test_index` of `task`. Scoring (poe, votes_then_poe) runs
// `model` in batches of `batch_size` and polls `observer.IsCancelled()` before each batch.
absl::StatusOr<std::vector<Candidate>> RankCandidates(const Task& task, const SelectionInput& input,
                                                      const InferenceModel& model,
                                                      const PromptFormat& format,
                                                      int64_t context_tokens,
                                                      const SelectionOptions& options,
                                                      int batch_size, SolveObserver& observer);

}  // namespace arc

#endif  // ARC_CORE_SOLVE_SELECTION_H_
