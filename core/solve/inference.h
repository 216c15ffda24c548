// Inference over views, the third step of a solve (core/solve/solver.h): for each test input the
// views (core/solve/views.h) that fit the model's context, decoded greedily in batches with the
// adapted model, each output parsed by the prompt format and inverted into the task's frame.
// Invalid outputs are counted and explained, never fatal.
//
// Thread-safety: the model is only read; the functions are safe to call from the solve's thread
// while other threads use the same model with other adapters.
#ifndef ARC_CORE_SOLVE_INFERENCE_H_
#define ARC_CORE_SOLVE_INFERENCE_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "core/data/vote.h"
#include "core/model/llama.h"
#include "core/model/lora.h"
#include "core/solve/observer.h"
#include "core/solve/result.h"
#include "core/solve/solver.h"
#include "core/solve/views.h"
#include "core/text/prompt_format.h"

namespace arc {

// The network a pass runs: the base with an optional adapter, or a fully fine-tuned copy. Borrowed.
struct InferenceModel {
  const LlamaForCausalLMImpl* net = nullptr;
  const LoraAdapter* adapter = nullptr;  // may be null
};

// The views of one test input that fit the context, with their prompts.
struct TestViews {
  std::vector<View> views;
  std::vector<std::vector<int64_t>> prompts;  // prompt tokens, one per view
  int max_new_tokens = 0;                     // the answer budget
  int leave_out = 0;                          // demonstrations left out per view
};

// For every test input: its views at `views.leave_out`, keeping those whose prompt plus the answer
// budget fit `context_tokens`; when none fits, the views are rebuilt with one more demonstration
// left out, as the paper does. The budget is `inference.max_new_tokens` or, when 0, the largest
// output the demonstrations make plausible. FAILED_PRECONDITION (with the token counts) when no
// view fits even with one demonstration.
absl::StatusOr<std::vector<TestViews>> FitViews(const Task& task, const PromptFormat& format,
                                                int64_t context_tokens, const ViewOptions& views,
                                                const InferenceOptions& inference);

// One pass over every view of every test input.
struct DecodedViews {
  std::vector<std::vector<Prediction>> predictions;  // per test input: the valid, inverted outputs
  std::vector<int> invalid_outputs;                  // per test input
  std::vector<std::vector<ViewPrediction>> views;    // per test input, every view (keep_views)
  int64_t prompt_tokens = 0;
  int64_t generated_tokens = 0;
};

// Counts decoded views over the passes of one solve and reports each batch to the observer.
class InferenceProgress {
 public:
  InferenceProgress(SolveObserver& observer, int views_total)
      : observer_(observer), total_(views_total) {}
  void Start() { observer_.OnInference(done_, total_); }
  void Add(int views) {
    done_ += views;
    observer_.OnInference(done_, total_);
  }

 private:
  SolveObserver& observer_;
  const int total_;
  int done_ = 0;
};

// Decodes `tests` with `model` in batches of `inference.batch_size`; the decode polls
// `observer.IsCancelled()` before every step (CANCELLED).
absl::StatusOr<DecodedViews> DecodeViews(const InferenceModel& model, const PromptFormat& format,
                                         const std::vector<TestViews>& tests,
                                         const InferenceOptions& inference, bool keep_views,
                                         SolveObserver& observer, InferenceProgress& progress);

}  // namespace arc

#endif  // ARC_CORE_SOLVE_INFERENCE_H_
