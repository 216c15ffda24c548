#include "core/solve/inference.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/data/status_macros.h"
#include "core/model/decode.h"

namespace arc {
namespace {

PromptInput ViewInput(const View& view) {
  PromptInput in;
  in.demonstrations = view.task.train;
  in.query_input = view.task.test[0].input;
  return in;
}

// The format's grid grammar as a decoding constraint.
class GridConstraint final : public TokenConstraint {
 public:
  explicit GridConstraint(const PromptFormat& format) : format_(format) {}
  std::vector<int64_t> AllowedTokens(int64_t /*prompt_index*/,
                                     const std::vector<int64_t>& generated) const override {
    std::vector<int> g(generated.begin(), generated.end());
    absl::StatusOr<std::vector<int>> allowed = format_.AllowedNextTokens(g);
    if (!allowed.ok()) return {};  // ends the sequence; the parse then reports the fault
    return std::vector<int64_t>(allowed->begin(), allowed->end());
  }

 private:
  const PromptFormat& format_;
};

// The answer budget: the largest output the demonstrations make plausible for this test input
// (their largest output side, or the test input's side scaled by the largest output/input ratio),
// square because a transposed view swaps the sides, capped at 30x30.
int AutoMaxNewTokens(const PromptFormat& format, const Task& task, int test_index) {
  double ratio = 1;
  int side = 1;
  for (const Example& e : task.train) {
    side = std::max({side, e.output.rows(), e.output.cols()});
    ratio = std::max({ratio, static_cast<double>(e.output.rows()) / e.input.rows(),
                      static_cast<double>(e.output.cols()) / e.input.cols()});
  }
  const Grid& in = task.test[test_index].input;
  side = std::max(side, static_cast<int>(std::ceil(std::max(in.rows(), in.cols()) * ratio)));
  side = std::min(side, kArcMaxSide);
  return format.AnswerTokens(side, side) + 1;
}

// One test input's views at the smallest leave-out (from the configured one up) where any fits.
absl::StatusOr<TestViews> FitTestViews(const Task& task, int test_index, const PromptFormat& format,
                                       int64_t context, const ViewOptions& options,
                                       int max_new_tokens) {
  TestViews tv;
  tv.max_new_tokens = max_new_tokens;
  const int n = static_cast<int>(task.train.size());
  int64_t shortest = std::numeric_limits<int64_t>::max();
  for (int leave_out = std::min(options.leave_out, n - 1); leave_out < n; ++leave_out) {
    ViewOptions vo = options;
    vo.leave_out = leave_out;
    ARC_ASSIGN_OR_RETURN(std::vector<View> views, BuildViews(task, test_index, vo));
    for (View& v : views) {
      ARC_ASSIGN_OR_RETURN(RenderedPrompt r, format.Render(ViewInput(v)));
      shortest = std::min<int64_t>(shortest, r.prompt_length);
      if (r.prompt_length + tv.max_new_tokens > context) continue;
      tv.prompts.emplace_back(r.ids.begin(), r.ids.begin() + r.prompt_length);
      tv.views.push_back(std::move(v));
    }
    if (!tv.views.empty()) {
      tv.leave_out = leave_out;
      return tv;
    }
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "test[", test_index, "]: no view fits the model's context of ", context,
      " tokens: the shortest prompt (one demonstration) has ", shortest,
      " tokens and the answer needs up to ", tv.max_new_tokens));
}

// A decoded view: its inverted grid when the output parses, else why not.
ViewPrediction ReadOutput(const View& view, const DecodeResult& d, const PromptFormat& format,
                          int max_new_tokens) {
  ViewPrediction vp{view.id, view.category, false, Grid(), ""};
  if (d.finish_reason != FinishReason::kStopToken) {
    vp.error = absl::StrCat("no stop token within ", max_new_tokens, " tokens");
    return vp;
  }
  std::vector<int> tokens(d.tokens.begin(), d.tokens.end());
  absl::StatusOr<Grid> grid = format.ParseOutput(tokens);
  if (!grid.ok()) {
    vp.error = std::string(grid.status().message());
    return vp;
  }
  vp.valid = true;
  vp.output = InvertOutput(view, *grid);
  return vp;
}

}  // namespace

absl::StatusOr<std::vector<TestViews>> FitViews(const Task& task, const PromptFormat& format,
                                                int64_t context_tokens, const ViewOptions& views,
                                                const InferenceOptions& inference) {
  std::vector<TestViews> out;
  for (size_t ti = 0; ti < task.test.size(); ++ti) {
    const int t = static_cast<int>(ti);
    const int budget = inference.max_new_tokens > 0 ? inference.max_new_tokens
                                                    : AutoMaxNewTokens(format, task, t);
    ARC_ASSIGN_OR_RETURN(TestViews tv,
                         FitTestViews(task, t, format, context_tokens, views, budget));
    out.push_back(std::move(tv));
  }
  return out;
}

absl::StatusOr<DecodedViews> DecodeViews(const InferenceModel& model, const PromptFormat& format,
                                         const std::vector<TestViews>& tests,
                                         const InferenceOptions& inference, bool keep_views,
                                         SolveObserver& observer, InferenceProgress& progress) {
  GridConstraint constraint(format);
  DecodeOptions decode;
  for (int id : format.StopTokens()) decode.stop_token_ids.push_back(id);
  decode.pad_token_id = format.tokenizer().pad_id();
  decode.max_batch_size = inference.batch_size;
  decode.is_cancelled = [&observer] { return observer.IsCancelled(); };
  // Long prompts are prefilled in pieces of 2048 tokens over the batch, so a cancellation waits
  // for at most one piece (about 30 GFLOP at a 2048-token context on the embedded model).
  decode.prefill_chunk_tokens = 2048;
  const bool has_grammar = inference.constrained && format.AllowedNextTokens({}).ok();
  decode.constraint = has_grammar ? &constraint : nullptr;
  // Only the grid tokens' logits per step (the same tokens; the views' sum_logprob is not used).
  decode.restrict_to_allowed = true;

  DecodedViews out;
  out.predictions.resize(tests.size());
  out.invalid_outputs.resize(tests.size());
  out.views.resize(tests.size());
  for (size_t ti = 0; ti < tests.size(); ++ti) {
    const TestViews& tv = tests[ti];
    decode.max_new_tokens = tv.max_new_tokens;
    for (size_t begin = 0; begin < tv.prompts.size(); begin += inference.batch_size) {
      const size_t end = std::min(tv.prompts.size(), begin + inference.batch_size);
      std::vector<std::vector<int64_t>> chunk(tv.prompts.begin() + begin, tv.prompts.begin() + end);
      ARC_ASSIGN_OR_RETURN(std::vector<DecodeResult> decoded,
                           GreedyDecode(*model.net, model.adapter, chunk, decode));
      for (size_t k = 0; k < decoded.size(); ++k) {
        const View& view = tv.views[begin + k];
        out.prompt_tokens += decoded[k].prompt_tokens;
        out.generated_tokens += decoded[k].generated_tokens;
        ViewPrediction vp = ReadOutput(view, decoded[k], format, tv.max_new_tokens);
        if (vp.valid) {
          out.predictions[ti].push_back({vp.output, view.category, view.id});
        } else {
          ++out.invalid_outputs[ti];
        }
        if (keep_views) out.views[ti].push_back(std::move(vp));
      }
      progress.Add(static_cast<int>(decoded.size()));
    }
  }
  return out;
}

}  // namespace arc
