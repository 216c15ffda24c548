#include "core/solve/solver.h"

#include <algorithm>
#include <chrono>
#include <functional>
#include <limits>
#include <optional>
#include <utility>

#include <ATen/Parallel.h>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "core/data/status_macros.h"
#include "core/search/search.h"
#include "core/solve/experts.h"
#include "core/solve/inference.h"
#include "core/solve/selection.h"

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

}  // namespace

std::string_view SolvePhaseName(SolvePhase phase) {
  switch (phase) {
    case SolvePhase::kSearch: return "search";
    case SolvePhase::kTttData: return "ttt_data";
    case SolvePhase::kTttTrain: return "ttt_train";
    case SolvePhase::kInference: return "inference";
    case SolvePhase::kSelection: return "selection";
  }
  return "";
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

// ---------------------------------------------------------------------------------------------
// The steps of Solve, in the paper's order.

namespace {

TttDataCounts CountsOf(const TttDataStats& s) {
  return {s.base_leave1, s.base_leave2,         s.augmented,       s.dropped_oversize,
          s.duplicates,  s.dropped_over_tokens, s.selected_leave1, s.selected_leave2};
}

// Step 1's output: the TTT samples, rendered.
struct TttSamples {
  std::vector<RenderedPrompt> prompts;
  TttDataCounts counts;
};

// Step 1: BuildTttData from the demonstrations, each sample rendered through the model's format
// with the loss mask. Samples longer than the context (plus the shifted target) are dropped there,
// counted by the format's own tokenizer.
absl::StatusOr<TttSamples> BuildTttSamples(const Task& task, const SolveOptions& o,
                                           const PromptFormat& format, int64_t context) {
  TttDataOptions data_options = o.ttt_data;
  data_options.max_tokens = static_cast<int>(std::min<int64_t>(data_options.max_tokens, context + 1));
  TokenCounter counter = [&format](const Task& sample) {
    absl::StatusOr<int> n = format.CountTokens(SampleInput(sample));
    return n.ok() ? *n : std::numeric_limits<int>::max();
  };
  ARC_ASSIGN_OR_RETURN(TttData data, BuildTttData(task, data_options, counter));
  TttSamples out;
  out.counts = CountsOf(data.stats);
  out.prompts.reserve(data.samples.size());
  for (const TttSample& s : data.samples) {
    ARC_ASSIGN_OR_RETURN(RenderedPrompt r, format.Render(SampleInput(s.task), o.loss_mask));
    out.prompts.push_back(std::move(r));
  }
  return out;
}

// Full fine-tuning: a private copy of the base, every parameter trained (the shared base never is).
struct TunedCopy {
  LlamaForCausalLM net{nullptr};
  TttTrainStats stats;
};

absl::StatusOr<TunedCopy> FineTuneCopy(const LlamaForCausalLMImpl& base,
                                       const std::vector<RenderedPrompt>& samples,
                                       const SolveOptions& o,
                                       const std::function<void(const TttProgress&)>& on_step,
                                       const std::function<bool()>& is_cancelled) {
  const int64_t params = base.config().NumParameters();
  if (params > o.full_finetune_max_parameters) {
    return absl::FailedPreconditionError(absl::StrCat("full_finetune: the model has ", params,
                                                      " parameters, limit ",
                                                      o.full_finetune_max_parameters, "; use LoRA"));
  }
  TunedCopy out;
  try {
    ARC_ASSIGN_OR_RETURN(out.net, CreateLlama(base.config(), base.options()));
    ARC_RETURN_IF_ERROR(out.net->LoadStateDict(base.StateDict()));
    std::vector<at::Tensor> trainable;
    for (auto& [name, t] : out.net->StateDict()) trainable.push_back(t.set_requires_grad(true));
    ARC_ASSIGN_OR_RETURN(out.stats, TrainParameters(*out.net, nullptr, std::move(trainable),
                                                    samples, o.train, on_step, is_cancelled));
  } catch (const c10::Error& e) {
    return absl::InternalError(absl::StrCat("full_finetune: ", e.what_without_backtrace()));
  }
  return out;
}

// Step 3's output.
struct Inference {
  std::vector<TestViews> views;       // per test input, the views that fit the context
  DecodedViews adapted;               // decoded with the adapted model
  std::optional<DecodedViews> base;   // decoded with the base model alone (base_attempt)
  int64_t prompt_tokens = 0;          // both passes
  int64_t generated_tokens = 0;
};

// Step 3: decodes every test input's views (fitted to the context before step 1) with the
// adapted model and, for SelectionOptions::base_attempt, once more with the base model alone.
absl::StatusOr<Inference> InferViews(std::vector<TestViews> views, const SolveOptions& o,
                                     const ArcModel& model, const InferenceModel& adapted,
                                     bool base_pass, SolveObserver& observer) {
  const PromptFormat& format = *model.format;
  Inference out;
  out.views = std::move(views);
  int total = 0;
  for (const TestViews& tv : out.views) total += static_cast<int>(tv.views.size());
  if (base_pass) total *= 2;  // a second pass with the base model
  observer.OnPhase(SolvePhase::kInference);
  InferenceProgress progress(observer, total);
  progress.Start();
  ARC_ASSIGN_OR_RETURN(out.adapted, DecodeViews(adapted, format, out.views, o.inference,
                                                o.include_views, observer, progress));
  if (base_pass) {
    const InferenceModel base{&*model.net, nullptr};
    ARC_ASSIGN_OR_RETURN(out.base, DecodeViews(base, format, out.views, o.inference,
                                               /*keep_views=*/false, observer, progress));
  }
  for (const DecodedViews* pass : {&out.adapted, out.base ? &*out.base : nullptr}) {
    if (pass == nullptr) continue;
    out.prompt_tokens += pass->prompt_tokens;
    out.generated_tokens += pass->generated_tokens;
  }
  return out;
}

// What step 3 records per test input (the candidates come from step 4).
std::vector<TestResult> TestResults(const Inference& inference) {
  std::vector<TestResult> tests(inference.views.size());
  for (size_t ti = 0; ti < tests.size(); ++ti) {
    tests[ti].num_views = static_cast<int>(inference.views[ti].views.size());
    tests[ti].leave_out = inference.views[ti].leave_out;
    tests[ti].invalid_outputs = inference.adapted.invalid_outputs[ti];
    tests[ti].views = inference.adapted.views[ti];
  }
  return tests;
}

// Step 4: each test input's ranked candidates.
absl::StatusOr<std::vector<std::vector<Candidate>>> Select(const Task& task, const SolveOptions& o,
                                                           const ArcModel& model,
                                                           const InferenceModel& adapted,
                                                           const Inference& inference,
                                                           SolveObserver& observer) {
  std::vector<std::vector<Candidate>> out;
  for (size_t ti = 0; ti < task.test.size(); ++ti) {
    SelectionInput in;
    in.test_index = static_cast<int>(ti);
    in.predictions = &inference.adapted.predictions[ti];
    in.base_predictions = inference.base ? &inference.base->predictions[ti] : nullptr;
    in.first_view = &inference.views[ti].views.front();
    ARC_ASSIGN_OR_RETURN(std::vector<Candidate> ranked,
                         RankCandidates(task, in, adapted, *model.format, model.MaxSequenceLength(),
                                        o.selection, o.inference.batch_size, observer));
    out.push_back(std::move(ranked));
  }
  return out;
}

// Step 0: the program search over the task's demonstrations, on the worker's torch threads (its
// result does not depend on the thread count).
absl::StatusOr<search::SearchResult> SearchPrograms(const Task& task, const SolveOptions& o,
                                                    SolveObserver& observer, SolveResult& result) {
  const auto start = Clock::now();
  observer.OnPhase(SolvePhase::kSearch);
  search::SearchOptions so;
  so.max_depth = o.search.max_depth;
  so.max_work = static_cast<int64_t>(o.search.work_millions) * 1'000'000;
  so.time_budget = absl::Seconds(o.search.max_seconds);
  so.threads = std::max(1, at::get_num_threads());
  ARC_ASSIGN_OR_RETURN(search::SearchResult found,
                       search::SearchProgram(task, so, [&observer] { return observer.IsCancelled(); }));
  result.search.enabled = true;
  result.search.explained = SearchExplainsTask(found);
  result.search.programs = found.stats.programs_tried;
  result.search.nodes = found.stats.nodes;
  result.search.depth_completed = found.stats.depth_completed;
  result.search.stopped_by_deadline = found.stats.stopped_by_deadline;
  result.seconds.search = SecondsSince(start);
  return found;
}

}  // namespace

struct Solver::Adaptation {
  LlamaForCausalLM tuned{nullptr};        // full fine-tuning's private copy; null with LoRA
  const LoraAdapter* adapter = nullptr;   // the trained adapter (LoRA); null otherwise
  bool full_finetune = false;
  int64_t parameters = 0;                 // trained parameters
  TttTrainCounts counts;
};

absl::StatusOr<Solver::Adaptation> Solver::Adapt(const std::vector<RenderedPrompt>& samples,
                                                 const SolveOptions& o, SolveObserver& observer) {
  const LlamaForCausalLMImpl& base = *model_->net;
  auto on_step = [&observer](const TttProgress& p) { observer.OnTttStep(p); };
  auto is_cancelled = [&observer] { return observer.IsCancelled(); };
  Adaptation out;
  if (o.full_finetune) {
    ARC_ASSIGN_OR_RETURN(TunedCopy copy, FineTuneCopy(base, samples, o, on_step, is_cancelled));
    out.tuned = copy.net;
    out.full_finetune = true;
    out.parameters = base.config().NumParameters();
    out.counts = copy.stats;  // the counts a result reports (TttTrainStats extends them)
    return out;
  }
  ARC_RETURN_IF_ERROR(EnsureAdapter(o.lora));
  ARC_ASSIGN_OR_RETURN(TttTrainStats stats,
                       TrainAdapter(base, *adapter_, samples, o.train, on_step, is_cancelled));
  out.adapter = adapter_.get();
  out.parameters = adapter_->NumParameters();
  out.counts = stats;
  return out;
}

absl::StatusOr<SolveResult> Solver::Solve(const Task& task, const SolveOptions& options,
                                          SolveObserver* observer_or_null) {
  ARC_RETURN_IF_ERROR(ValidateTask(task));
  SolveOptions o = options;
  o.ttt_data.seed = o.lora.seed = o.train.seed = o.views.seed = o.seed;
  ARC_RETURN_IF_ERROR(ValidateSolveOptions(o));
  SolveObserver silent;
  SolveObserver& observer = observer_or_null != nullptr ? *observer_or_null : silent;
  SolveResult result;
  result.task_id = task.id;
  result.task_hash = ContentHash(task);

  // 0. The induction expert: search for programs that explain the demonstrations.
  std::optional<search::SearchResult> found;
  if (UsesSearch(o.experts)) {
    ARC_ASSIGN_OR_RETURN(found, SearchPrograms(task, o, observer, result));
  }
  // 1-4. The transduction expert: TTT data, adapt, infer views, select.
  const bool skip_ttt = o.experts == Experts::kBoth && o.search.skip_ttt_when_explained &&
                        result.search.explained;
  result.search.ttt_skipped = skip_ttt;
  if (skip_ttt) result.search.ttt_skipped_because = "the search explains the task";
  if (UsesTtt(o.experts) && !skip_ttt) {
    // The test inputs' views must fit the model's context, or there is nothing to adapt for. With
    // both experts, a task too long for the model keeps the search's answers alone.
    absl::StatusOr<std::vector<TestViews>> views =
        FitViews(task, *model_->format, model_->MaxSequenceLength(), o.views, o.inference);
    if (!views.ok() && o.experts == Experts::kBoth && absl::IsFailedPrecondition(views.status())) {
      result.search.ttt_skipped = true;
      result.search.ttt_skipped_because = std::string(views.status().message());
    } else {
      ARC_RETURN_IF_ERROR(views.status());
      ARC_RETURN_IF_ERROR(Transduce(task, o, std::move(*views), observer, result));
    }
  }
  result.tests.resize(task.test.size());
  // 5. Merge the experts' answers (core/solve/experts.h).
  for (size_t ti = 0; ti < result.tests.size(); ++ti) {
    static const std::vector<search::SearchCandidate> kNone;
    result.tests[ti].candidates =
        MergeExperts(found ? found->tests[ti] : kNone, std::move(result.tests[ti].candidates));
  }
  return result;
}

absl::Status Solver::Transduce(const Task& task, const SolveOptions& o,
                               std::vector<TestViews> views, SolveObserver& observer,
                               SolveResult& result) {
  // 1-2. Build the TTT data, adapt.
  Adaptation adaptation;
  if (o.ttt && task.train.size() >= 2) {
    auto start = Clock::now();
    observer.OnPhase(SolvePhase::kTttData);
    ARC_ASSIGN_OR_RETURN(TttSamples samples, BuildTttSamples(task, o, *model_->format,
                                                             model_->MaxSequenceLength()));
    result.data_stats = samples.counts;
    result.seconds.ttt_data = SecondsSince(start);
    if (!samples.prompts.empty()) {
      start = Clock::now();
      observer.OnPhase(SolvePhase::kTttTrain);
      ARC_ASSIGN_OR_RETURN(adaptation, Adapt(samples.prompts, o, observer));
      result.ttt = true;
      result.full_finetune = adaptation.full_finetune;
      result.adapter_parameters = adaptation.parameters;
      result.train_stats = adaptation.counts;
      result.seconds.ttt_train = SecondsSince(start);
    }
  }
  const InferenceModel adapted{adaptation.tuned ? adaptation.tuned.get() : &*model_->net,
                               adaptation.adapter};

  // 3. Infer the views.
  auto start = Clock::now();
  ARC_ASSIGN_OR_RETURN(const Inference inference,
                       InferViews(std::move(views), o, *model_, adapted,
                                  result.ttt && o.selection.base_attempt, observer));
  result.tests = TestResults(inference);
  result.prompt_tokens = inference.prompt_tokens;
  result.generated_tokens = inference.generated_tokens;
  result.seconds.inference = SecondsSince(start);

  // 4. Select.
  start = Clock::now();
  observer.OnPhase(SolvePhase::kSelection);
  ARC_ASSIGN_OR_RETURN(std::vector<std::vector<Candidate>> ranked,
                       Select(task, o, *model_, adapted, inference, observer));
  for (size_t ti = 0; ti < ranked.size(); ++ti) result.tests[ti].candidates = std::move(ranked[ti]);
  result.seconds.selection = SecondsSince(start);
  return absl::OkStatus();
}

}  // namespace arc
