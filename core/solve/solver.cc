#include "core/solve/solver.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "core/model/decode.h"
#include "core/data/status_macros.h"

namespace arc {
namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

PromptInput SampleInput(const Task& sample) {
  PromptInput in;
  in.demonstrations = sample.train;
  in.query_input = sample.test[0].input;
  in.query_output = sample.test[0].output;
  return in;
}

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

// The selection mode's vote (product-of-experts modes re-rank the hierarchical vote afterwards).
VoteResult Vote(SelectionMode mode, const std::vector<Prediction>& predictions) {
  return mode == SelectionMode::kMajority ? MajorityVote(predictions) : HierarchicalVote(predictions);
}

}  // namespace

void PlaceAsSecond(const Candidate& candidate, std::vector<Candidate>& ranked) {
  auto same = std::find_if(ranked.begin(), ranked.end(),
                           [&](const Candidate& c) { return c.grid == candidate.grid; });
  if (same == ranked.begin() && !ranked.empty()) return;  // already attempt 1
  Candidate moved = same == ranked.end() ? candidate : *same;
  if (same != ranked.end()) ranked.erase(same);
  ranked.insert(ranked.begin() + std::min<size_t>(1, ranked.size()), std::move(moved));
}

std::string_view SolvePhaseName(SolvePhase phase) {
  switch (phase) {
    case SolvePhase::kTttData: return "ttt_data";
    case SolvePhase::kTttTrain: return "ttt_train";
    case SolvePhase::kInference: return "inference";
    case SolvePhase::kSelection: return "selection";
  }
  return "";
}

Attempts SolveResult::AttemptsFor(int test_index) const {
  VoteResult r;
  r.ranked = tests[test_index].candidates;
  return ToAttempts(r);
}

Solver::Solver(std::shared_ptr<const ArcModel> model) : model_(std::move(model)) {}

absl::Status Solver::EnsureAdapter(const LoraConfig& config) {
  const bool same = adapter_ && adapter_config_.rank == config.rank &&
                    adapter_config_.alpha == config.alpha &&
                    adapter_config_.dropout == config.dropout &&
                    adapter_config_.targets == config.targets && adapter_config_.seed == config.seed &&
                    adapter_config_.dtype == config.dtype;
  if (same) {
    adapter_->Reset();
    return absl::OkStatus();
  }
  adapter_.reset();
  ARC_ASSIGN_OR_RETURN(adapter_,
                       LoraAdapter::Create(model_->net->config(), config, model_->net->options()));
  adapter_config_ = config;
  return absl::OkStatus();
}

absl::StatusOr<SolveResult> Solver::Solve(const Task& task, const SolveOptions& options_in,
                                          const std::function<void(const SolveProgress&)>& progress,
                                          const std::function<bool()>& is_cancelled) {
  ARC_RETURN_IF_ERROR(ValidateTask(task));
  SolveOptions o = options_in;
  o.ttt_data.seed = o.lora.seed = o.train.seed = o.views.seed = o.seed;
  ARC_RETURN_IF_ERROR(ValidateSolveOptions(o));

  const PromptFormat& format = *model_->format;
  const LlamaForCausalLMImpl& base = *model_->net;
  LlamaForCausalLM tuned{nullptr};  // the task's private copy under full fine-tuning
  const int64_t context = model_->MaxSequenceLength();
  SolveResult result;
  result.task_id = task.id;
  result.task_hash = ContentHash(task);
  SolveProgress report;
  auto emit = [&](SolvePhase phase) {
    report.phase = phase;
    if (progress) progress(report);
  };

  // 1-2. Test-time training.
  const LoraAdapter* adapter = nullptr;
  if (o.ttt && task.train.size() >= 2) {
    auto start = Clock::now();
    emit(SolvePhase::kTttData);
    TttDataOptions data_options = o.ttt_data;
    data_options.max_tokens = static_cast<int>(std::min<int64_t>(data_options.max_tokens, context + 1));
    TokenCounter counter = [&format](const Task& sample) {
      absl::StatusOr<int> n = format.CountTokens(SampleInput(sample));
      return n.ok() ? *n : std::numeric_limits<int>::max();
    };
    ARC_ASSIGN_OR_RETURN(TttData data, BuildTttData(task, data_options, counter));
    result.data_stats = data.stats;
    std::vector<RenderedPrompt> rendered;
    rendered.reserve(data.samples.size());
    for (const TttSample& s : data.samples) {
      ARC_ASSIGN_OR_RETURN(RenderedPrompt r, format.Render(SampleInput(s.task), o.loss_mask));
      rendered.push_back(std::move(r));
    }
    result.seconds.ttt_data = SecondsSince(start);

    if (!rendered.empty()) {
      start = Clock::now();
      emit(SolvePhase::kTttTrain);
      auto on_step = [&](const TttProgress& p) {
        report.ttt = p;
        emit(SolvePhase::kTttTrain);
      };
      if (o.full_finetune) {
        const int64_t params = base.config().NumParameters();
        if (params > o.full_finetune_max_parameters) {
          return absl::FailedPreconditionError(absl::StrCat(
              "full_finetune: the model has ", params, " parameters, limit ",
              o.full_finetune_max_parameters, "; use LoRA"));
        }
        try {
          ARC_ASSIGN_OR_RETURN(tuned, CreateLlama(base.config(), base.options()));
          ARC_RETURN_IF_ERROR(tuned->LoadStateDict(base.StateDict()));
          std::vector<at::Tensor> trainable;
          for (auto& [name, t] : tuned->StateDict()) trainable.push_back(t.set_requires_grad(true));
          ARC_ASSIGN_OR_RETURN(result.train_stats,
                               TrainParameters(*tuned, nullptr, std::move(trainable), rendered,
                                               o.train, on_step, is_cancelled));
        } catch (const c10::Error& e) {
          return absl::InternalError(absl::StrCat("full_finetune: ", e.what_without_backtrace()));
        }
        result.adapter_parameters = params;
        result.full_finetune = true;
      } else {
        ARC_RETURN_IF_ERROR(EnsureAdapter(o.lora));
        result.adapter_parameters = adapter_->NumParameters();
        ARC_ASSIGN_OR_RETURN(result.train_stats, TrainAdapter(base, *adapter_, rendered, o.train,
                                                              on_step, is_cancelled));
        adapter = adapter_.get();
      }
      result.ttt = true;
      result.seconds.ttt_train = SecondsSince(start);
    }
  }

  // 3. Inference over views, with the adapter or the fine-tuned copy.
  const LlamaForCausalLMImpl& infer = tuned ? *tuned : base;
  auto start = Clock::now();
  struct TestViews {
    std::vector<View> views;
    std::vector<std::vector<int64_t>> prompts;
    int max_new_tokens = 0;
    int leave_out = 0;
  };
  std::vector<TestViews> per_test(task.test.size());
  const int n = static_cast<int>(task.train.size());
  for (size_t ti = 0; ti < task.test.size(); ++ti) {
    TestViews& tv = per_test[ti];
    tv.max_new_tokens = o.inference.max_new_tokens > 0
                            ? o.inference.max_new_tokens
                            : AutoMaxNewTokens(format, task, static_cast<int>(ti));
    int64_t shortest = std::numeric_limits<int64_t>::max();
    for (int leave_out = std::min(o.views.leave_out, n - 1); leave_out < n; ++leave_out) {
      ViewOptions vo = o.views;
      vo.leave_out = leave_out;
      ARC_ASSIGN_OR_RETURN(std::vector<View> views, BuildViews(task, static_cast<int>(ti), vo));
      for (View& v : views) {
        ARC_ASSIGN_OR_RETURN(RenderedPrompt r, format.Render(ViewInput(v)));
        shortest = std::min<int64_t>(shortest, r.prompt_length);
        if (r.prompt_length + tv.max_new_tokens > context) continue;
        tv.prompts.emplace_back(r.ids.begin(), r.ids.begin() + r.prompt_length);
        tv.views.push_back(std::move(v));
      }
      if (!tv.views.empty()) {
        tv.leave_out = leave_out;
        break;
      }
    }
    if (tv.views.empty()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "test[", ti, "]: no view fits the model's context of ", context,
          " tokens: the shortest prompt (one demonstration) has ", shortest, " tokens and the answer needs up to ",
          tv.max_new_tokens));
    }
    report.views_total += static_cast<int>(tv.views.size());
  }
  const bool base_attempt = result.ttt && o.selection.base_attempt;
  if (base_attempt) report.views_total *= 2;  // a second pass with the base model
  emit(SolvePhase::kInference);

  GridConstraint constraint(format);
  DecodeOptions decode;
  for (int id : format.StopTokens()) decode.stop_token_ids.push_back(id);
  decode.pad_token_id = format.tokenizer().pad_id();
  decode.max_batch_size = o.inference.batch_size;
  decode.is_cancelled = is_cancelled;
  const bool has_grammar = o.inference.constrained && format.AllowedNextTokens({}).ok();
  decode.constraint = has_grammar ? &constraint : nullptr;

  // Decodes every view of every test input with `net` (+ `with`), appending the valid, inverted
  // outputs to `out`. `record`: also the per-test view counts, invalid outputs and view list.
  auto decode_views = [&](const LlamaForCausalLMImpl& net, const LoraAdapter* with,
                          std::vector<std::vector<Prediction>>& out, bool record) -> absl::Status {
    for (size_t ti = 0; ti < task.test.size(); ++ti) {
      TestViews& tv = per_test[ti];
      TestResult& tr = result.tests[ti];
      if (record) {
        tr.num_views = static_cast<int>(tv.views.size());
        tr.leave_out = tv.leave_out;
      }
      decode.max_new_tokens = tv.max_new_tokens;
      for (size_t begin = 0; begin < tv.prompts.size(); begin += o.inference.batch_size) {
        const size_t end = std::min(tv.prompts.size(), begin + o.inference.batch_size);
        std::vector<std::vector<int64_t>> chunk(tv.prompts.begin() + begin, tv.prompts.begin() + end);
        ARC_ASSIGN_OR_RETURN(std::vector<DecodeResult> decoded, GreedyDecode(net, with, chunk, decode));
        for (size_t k = 0; k < decoded.size(); ++k) {
          const View& view = tv.views[begin + k];
          const DecodeResult& d = decoded[k];
          result.prompt_tokens += d.prompt_tokens;
          result.generated_tokens += d.generated_tokens;
          ViewPrediction vp{view.id, view.category, false, Grid(), ""};
          if (d.finish_reason != FinishReason::kStopToken) {
            vp.error = absl::StrCat("no stop token within ", tv.max_new_tokens, " tokens");
          } else {
            std::vector<int> tokens(d.tokens.begin(), d.tokens.end());
            absl::StatusOr<Grid> grid = format.ParseOutput(tokens);
            if (grid.ok()) {
              vp.valid = true;
              vp.output = InvertOutput(view, *grid);
              out[ti].push_back({vp.output, view.category, view.id});
            } else {
              vp.error = std::string(grid.status().message());
            }
          }
          if (record && !vp.valid) ++tr.invalid_outputs;
          if (record && o.include_views) tr.views.push_back(std::move(vp));
        }
        report.views_done += static_cast<int>(decoded.size());
        emit(SolvePhase::kInference);
      }
    }
    return absl::OkStatus();
  };

  std::vector<std::vector<Prediction>> predictions(task.test.size());
  std::vector<std::vector<Prediction>> base_predictions(task.test.size());
  result.tests.resize(task.test.size());
  ARC_RETURN_IF_ERROR(decode_views(infer, adapter, predictions, /*record=*/true));
  if (base_attempt) {
    ARC_RETURN_IF_ERROR(decode_views(base, nullptr, base_predictions, /*record=*/false));
  }
  result.seconds.inference = SecondsSince(start);

  // 4. Selection.
  start = Clock::now();
  emit(SolvePhase::kSelection);
  for (size_t ti = 0; ti < task.test.size(); ++ti) {
    const VoteResult vote = Vote(o.selection.mode, predictions[ti]);
    std::vector<Candidate> ranked = vote.ranked;
    const bool poe = o.selection.mode == SelectionMode::kPoe ||
                     o.selection.mode == SelectionMode::kVotesThenPoe;
    if (poe && !ranked.empty()) {
      const size_t k = std::min<size_t>(ranked.size(), o.selection.poe_top_k);
      // Demonstrations of the first view of the fitted leave-out level, under each dihedral view.
      const View& first = per_test[ti].views.front();
      std::vector<ScoreRequest> requests;
      std::vector<size_t> owner;
      for (size_t c = 0; c < k; ++c) {
        for (int m = 0; m < o.selection.poe_views; ++m) {
          const Dihedral d = kAllDihedral[m];
          PromptInput in;
          for (int j : first.demonstrations) {
            in.demonstrations.push_back({ApplyDihedral(d, task.train[j].input),
                                         ApplyDihedral(d, task.train[j].output)});
          }
          in.query_input = ApplyDihedral(d, task.test[ti].input);
          in.query_output = ApplyDihedral(d, ranked[c].grid);
          absl::StatusOr<RenderedPrompt> r = format.Render(in);
          if (!r.ok() || r->answer_end > context) continue;
          requests.push_back({std::vector<int64_t>(r->ids.begin(), r->ids.begin() + r->prompt_length),
                              std::vector<int64_t>(r->ids.begin() + r->prompt_length,
                                                   r->ids.begin() + r->answer_end)});
          owner.push_back(c);
        }
      }
      ScoreOptions so;
      so.max_batch_size = o.inference.batch_size;
      so.pad_token_id = format.tokenizer().pad_id();
      so.is_cancelled = is_cancelled;
      ARC_ASSIGN_OR_RETURN(std::vector<double> scores, ScoreContinuations(infer, adapter, requests, so));
      for (size_t c = 0; c < k; ++c) ranked[c].score = 0;
      for (size_t i = 0; i < scores.size(); ++i) ranked[owner[i]].score += scores[i];
      auto by_score = [](const Candidate& a, const Candidate& b) { return a.score > b.score; };
      auto by_votes = [](const Candidate& a, const Candidate& b) {
        return a.votes != b.votes ? a.votes > b.votes : a.score > b.score;
      };
      if (o.selection.mode == SelectionMode::kPoe) {
        std::stable_sort(ranked.begin(), ranked.begin() + k, by_score);
      } else {
        std::stable_sort(ranked.begin(), ranked.begin() + k, by_votes);
      }
    }
    if (base_attempt) {
      const VoteResult base_vote = Vote(o.selection.mode, base_predictions[ti]);
      if (!base_vote.ranked.empty()) PlaceAsSecond(base_vote.ranked.front(), ranked);
    }
    result.tests[ti].candidates = std::move(ranked);
  }
  result.seconds.selection = SecondsSince(start);
  return result;
}

}  // namespace arc
