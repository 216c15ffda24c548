#include "core/solve/ttt.h"

#include <chrono>
#include <cmath>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/data/range_check.h"
#include "core/data/rng.h"
#include "core/model/cpu_trainer.h"
#include "core/model/llama.h"
#include "core/model/lora.h"
#include "core/model/training.h"

namespace arc {
namespace {

absl::Status Range(const char* field, double v, double lo, double hi) {
  return CheckRange(absl::StrCat("ttt option ", field), v, lo, hi);
}

}  // namespace

absl::Status ValidateTttTrainOptions(const TttTrainOptions& o) {
  for (absl::Status s :
       {Range("learning_rate", o.learning_rate, 0, 1), Range("weight_decay", o.weight_decay, 0, 10),
        Range("beta1", o.beta1, 0, 0.999999), Range("beta2", o.beta2, 0, 0.999999),
        Range("adam_eps", o.adam_eps, 1e-12, 1), Range("batch_size", o.batch_size, 1, 256),
        Range("grad_accum", o.grad_accum, 1, 64), Range("epochs", o.epochs, 1, 100),
        Range("max_steps", o.max_steps, 0, 1000000),
        Range("warmup_fraction", o.warmup_fraction, 0, 1),
        Range("clip_grad_norm", o.clip_grad_norm, 0, 1e6)}) {
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

double LearningRateAt(const TttTrainOptions& o, int step, int total) {
  const int warmup = static_cast<int>(std::floor(o.warmup_fraction * total));
  const int decay = std::max(1, total - warmup);
  // The cosine starts after the ramp (progress 0 during it), down to 0.
  const double progress = step < warmup ? 0.0 : static_cast<double>(step - warmup) / decay;
  return WarmupCosineLearningRate(LrSchedule{o.learning_rate, warmup, /*min_ratio=*/0,
                                             LrSchedule::Ramp::kPeakTimesStepOverWarmup},
                                  step, progress);
}

absl::StatusOr<TttTrainStats> TrainAdapter(const LlamaForCausalLMImpl& model, LoraAdapter& adapter,
                                           const std::vector<RenderedPrompt>& samples,
                                           const TttTrainOptions& o,
                                           const std::function<void(const TttProgress&)>& progress,
                                           const std::function<bool()>& is_cancelled) {
  adapter.SetTraining(true);
  absl::StatusOr<TttTrainStats> stats =
      TrainParameters(model, &adapter, adapter.Parameters(), samples, o, progress, is_cancelled);
  adapter.SetTraining(false);
  return stats;
}

absl::StatusOr<TttTrainStats> TrainParameters(
    const LlamaForCausalLMImpl& model, const LoraAdapter* adapter, std::vector<at::Tensor> params,
    const std::vector<RenderedPrompt>& samples, const TttTrainOptions& o,
    const std::function<void(const TttProgress&)>& progress,
    const std::function<bool()>& is_cancelled) {
  if (absl::Status s = ValidateTttTrainOptions(o); !s.ok()) return s;
  const auto start = std::chrono::steady_clock::now();
  TttTrainStats stats;
  std::vector<int> usable;
  for (size_t i = 0; i < samples.size(); ++i) {
    if (samples[i].ids.size() != samples[i].loss_mask.size()) {
      return absl::InvalidArgumentError(absl::StrCat("ttt sample ", i, ": ", samples[i].ids.size(),
                                                     " ids but ", samples[i].loss_mask.size(),
                                                     " loss-mask entries"));
    }
    if (CountLossTokens(samples[i]) > 0) usable.push_back(static_cast<int>(i));
  }
  if (usable.empty()) {
    return absl::InvalidArgumentError("ttt: no sample has a token that carries loss");
  }
  stats.samples = static_cast<int>(usable.size());
  const int batches_per_epoch = (stats.samples + o.batch_size - 1) / o.batch_size;
  const int steps_per_epoch = (batches_per_epoch + o.grad_accum - 1) / o.grad_accum;
  int total_steps = steps_per_epoch * o.epochs;
  if (o.max_steps > 0) total_steps = std::min(total_steps, o.max_steps);

  if (params.empty()) return absl::InvalidArgumentError("ttt: no parameters to train");
  // Named by position so that AdamW's name order is the caller's order (the gradient norm's
  // summation order). Every parameter is decayed, as torch.optim.AdamW does.
  std::map<std::string, at::Tensor> named;
  for (size_t i = 0; i < params.size(); ++i) named.emplace(absl::StrFormat("%06d", i), params[i]);
  std::optional<AdamW> optimizer;
  try {
    optimizer.emplace(std::move(named), AdamWOptions{o.beta1, o.beta2, o.adam_eps, o.weight_decay,
                                                     /*decay_vectors=*/true});
  } catch (const c10::Error& e) {
    return absl::InternalError(absl::StrCat("ttt: libtorch: ", e.what_without_backtrace()));
  }
  std::unique_ptr<CpuLoraTrainer> direct;
  if (o.direct_cpu && adapter != nullptr && CpuLoraTrainer::Supports(model, adapter)) {
    direct = std::make_unique<CpuLoraTrainer>(model, *adapter);
  }
  const int64_t pad_id = 0;  // never attended to by a real token (right padding, causal)
  Rng order_rng = Rng(o.seed).Fork(/*stream=*/7);
  std::vector<int> order;
  size_t cursor = 0;
  for (int step = 0; step < total_steps; ++step) {
    if (is_cancelled && is_cancelled()) {
      return absl::CancelledError(
          absl::StrCat("ttt cancelled at step ", step, " of ", total_steps));
    }
    // Up to grad_accum batches; an epoch boundary ends the step early.
    std::vector<TrainingBatch> batches;
    for (int micro = 0; micro < o.grad_accum; ++micro) {
      if (cursor >= order.size()) {  // new epoch: a fresh seeded shuffle
        order = usable;
        order_rng.Shuffle(order);
        cursor = 0;
      }
      std::vector<const RenderedPrompt*> rows;
      while (cursor < order.size() && static_cast<int>(rows.size()) < o.batch_size) {
        rows.push_back(&samples[order[cursor++]]);
      }
      batches.push_back(MakeTrainingBatch(rows, pad_id));
      if (cursor >= order.size() && micro + 1 < o.grad_accum) break;
    }
    TrainStepOptions step_options;
    step_options.learning_rate = LearningRateAt(o, step, total_steps);
    step_options.grad_accum = o.grad_accum;
    step_options.clip_grad_norm = o.clip_grad_norm;
    step_options.norm_sum = GradNormSum::kDoubleSumOfSquares;
    // Polled inside the step too (every micro-batch, and layer by layer in backward), so a step of
    // many micro-batches cannot delay a cancellation.
    step_options.is_cancelled = is_cancelled;
    step_options.direct = direct.get();
    absl::StatusOr<TrainStepResult> r =
        TrainStep(model, adapter, *optimizer, batches, step_options);
    if (!r.ok() && r.status().code() == absl::StatusCode::kCancelled) {
      return absl::CancelledError(absl::StrCat("ttt cancelled at step ", step, " of ", total_steps,
                                               ": ", r.status().message()));
    }
    if (!r.ok())
      return absl::Status(r.status().code(), absl::StrCat("ttt: ", r.status().message()));
    stats.tokens += r->padded_tokens;
    stats.target_tokens += r->loss_tokens;
    if (step == 0) stats.first_loss = r->loss;
    stats.last_loss = r->loss;
    stats.losses.push_back(static_cast<float>(r->loss));
    stats.steps = step + 1;
    if (progress) {
      progress({step + 1, total_steps, r->loss, step_options.learning_rate, stats.tokens});
    }
  }
  stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return stats;
}

}  // namespace arc
