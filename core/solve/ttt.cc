#include "core/solve/ttt.h"

#include <torch/optim/adamw.h>

#include <chrono>
#include <cmath>
#include <numeric>

#include "absl/strings/str_cat.h"
#include "core/model/llama.h"
#include "core/model/lora.h"
#include "core/data/rng.h"

namespace arc {
namespace {

absl::Status Range(const char* field, double v, double lo, double hi) {
  if (v >= lo && v <= hi) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("ttt option ", field, ": ", v, " is outside ", lo, "..", hi));
}

// One padded batch: inputs (B, T) and, for each row, the positions t whose next token ids[t+1] is a
// target, flattened as row * T + t, with the target ids.
struct Batch {
  at::Tensor tokens;     // (B, T) int64
  at::Tensor positions;  // (N) int64 into the flattened (B*T)
  at::Tensor targets;    // (N) int64
  int64_t padded_tokens = 0;
};

Batch MakeBatch(const std::vector<const RenderedPrompt*>& rows, int64_t pad_id) {
  int64_t T = 0;
  for (const RenderedPrompt* p : rows) T = std::max<int64_t>(T, static_cast<int64_t>(p->ids.size()));
  const int64_t B = static_cast<int64_t>(rows.size());
  std::vector<int64_t> tokens(B * T, pad_id), positions, targets;
  for (int64_t b = 0; b < B; ++b) {
    const RenderedPrompt& p = *rows[b];
    for (size_t t = 0; t < p.ids.size(); ++t) {
      tokens[b * T + t] = p.ids[t];
      if (t > 0 && p.loss_mask[t]) {
        positions.push_back(b * T + static_cast<int64_t>(t) - 1);
        targets.push_back(p.ids[t]);
      }
    }
  }
  Batch batch;
  batch.tokens = at::tensor(tokens, at::kLong).view({B, T});
  batch.positions = at::tensor(positions, at::kLong);
  batch.targets = at::tensor(targets, at::kLong);
  batch.padded_tokens = B * T;
  return batch;
}

// Scales all gradients so their global L2 norm is at most max_norm (torch's clip_grad_norm_).
void ClipGradNorm(const std::vector<at::Tensor>& params, double max_norm) {
  double sum_sq = 0;
  for (const at::Tensor& p : params) {
    if (p.grad().defined()) sum_sq += p.grad().to(at::kFloat).pow(2).sum().item<double>();
  }
  const double norm = std::sqrt(sum_sq);
  if (norm <= max_norm) return;
  const double scale = max_norm / (norm + 1e-6);
  for (const at::Tensor& p : params) {
    if (p.grad().defined()) p.grad().mul_(scale);
  }
}

int64_t CountTargets(const RenderedPrompt& p) {
  int64_t n = 0;
  for (size_t t = 1; t < p.loss_mask.size(); ++t) n += p.loss_mask[t] != 0;
  return n;
}

}  // namespace

absl::Status ValidateTttTrainOptions(const TttTrainOptions& o) {
  for (absl::Status s : {Range("learning_rate", o.learning_rate, 0, 1),
                         Range("weight_decay", o.weight_decay, 0, 10),
                         Range("beta1", o.beta1, 0, 0.999999), Range("beta2", o.beta2, 0, 0.999999),
                         Range("adam_eps", o.adam_eps, 1e-12, 1),
                         Range("batch_size", o.batch_size, 1, 256),
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
  if (step < warmup) return o.learning_rate * (step + 1) / warmup;
  const int decay = std::max(1, total - warmup);
  const double progress = static_cast<double>(step - warmup) / decay;
  return o.learning_rate * 0.5 * (1.0 + std::cos(M_PI * progress));
}

absl::StatusOr<TttTrainStats> TrainAdapter(const LlamaForCausalLMImpl& model,
                                           LoraAdapter& adapter,
                                           const std::vector<RenderedPrompt>& samples,
                                           const TttTrainOptions& o,
                                           const std::function<void(const TttProgress&)>& progress,
                                           const std::function<bool()>& is_cancelled) {
  adapter.SetTraining(true);
  absl::StatusOr<TttTrainStats> stats = TrainParameters(model, &adapter, adapter.Parameters(),
                                                        samples, o, progress, is_cancelled);
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
    if (CountTargets(samples[i]) > 0) usable.push_back(static_cast<int>(i));
  }
  if (usable.empty()) {
    return absl::InvalidArgumentError("ttt: no sample has a token that carries loss");
  }
  stats.samples = static_cast<int>(usable.size());
  const int batches_per_epoch = (stats.samples + o.batch_size - 1) / o.batch_size;
  const int steps_per_epoch = (batches_per_epoch + o.grad_accum - 1) / o.grad_accum;
  int total_steps = steps_per_epoch * o.epochs;
  if (o.max_steps > 0) total_steps = std::min(total_steps, o.max_steps);

  try {
    const at::Device device = model.options().device;
    const int64_t pad_id = 0;  // never attended to by a real token (right padding, causal)
    if (params.empty()) return absl::InvalidArgumentError("ttt: no parameters to train");
    torch::optim::AdamW optimizer(params, torch::optim::AdamWOptions(o.learning_rate)
                                              .betas({o.beta1, o.beta2})
                                              .eps(o.adam_eps)
                                              .weight_decay(o.weight_decay));

    Rng order_rng = Rng(o.seed).Fork(/*stream=*/7);
    std::vector<int> order;
    size_t cursor = 0;
    for (int step = 0; step < total_steps; ++step) {
      if (is_cancelled && is_cancelled()) {
        return absl::CancelledError(absl::StrCat("ttt cancelled at step ", step, " of ", total_steps));
      }
      const double lr = LearningRateAt(o, step, total_steps);
      for (auto& group : optimizer.param_groups()) {
        static_cast<torch::optim::AdamWOptions&>(group.options()).lr(lr);
      }
      optimizer.zero_grad();
      double step_loss = 0;
      int step_batches = 0;
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
        Batch batch = MakeBatch(rows, pad_id);
        at::Tensor hidden = model.Hidden(batch.tokens.to(device), {}, adapter);  // (B, T, C)
        at::Tensor picked =
            hidden.reshape({-1, hidden.size(-1)}).index_select(0, batch.positions.to(device));  // (N, C)
        at::Tensor logits = model.Logits(picked, adapter);                                     // (N, V)
        at::Tensor loss = at::cross_entropy_loss(logits, batch.targets.to(device));
        (loss / o.grad_accum).backward();
        step_loss += loss.item<double>();
        ++step_batches;
        stats.tokens += batch.padded_tokens;
        stats.target_tokens += batch.targets.size(0);
        if (cursor >= order.size() && micro + 1 < o.grad_accum) break;  // epoch boundary
      }
      if (o.clip_grad_norm > 0) ClipGradNorm(params, o.clip_grad_norm);
      optimizer.step();
      const double mean_loss = step_loss / step_batches;
      if (step == 0) stats.first_loss = mean_loss;
      stats.last_loss = mean_loss;
      stats.steps = step + 1;
      if (progress) progress({step + 1, total_steps, mean_loss, lr, stats.tokens});
    }
  } catch (const c10::Error& e) {
    return absl::InternalError(absl::StrCat("ttt: libtorch: ", e.what_without_backtrace()));
  }
  stats.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return stats;
}

}  // namespace arc
