#include "core/model/training.h"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>
#include <c10/util/Exception.h>

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/data/status_macros.h"
#include "core/model/cpu_trainer.h"
#include "core/model/interrupt.h"
#include "core/model/llama.h"
#include "core/model/lora.h"
#include "core/model/tensor_io.h"

namespace arc {

TrainingBatch MakeTrainingBatch(const std::vector<const RenderedPrompt*>& rows, int64_t pad_id) {
  int64_t t_max = 0;
  for (const RenderedPrompt* p : rows) t_max = std::max<int64_t>(t_max, p->ids.size());
  const int64_t b = static_cast<int64_t>(rows.size());
  std::vector<int64_t> tokens(b * t_max, pad_id), positions, targets;
  TrainingBatch batch;
  for (int64_t r = 0; r < b; ++r) {
    const RenderedPrompt& p = *rows[r];
    for (size_t t = 0; t < p.ids.size(); ++t) {
      tokens[r * t_max + t] = p.ids[t];
      if (t > 0 && p.loss_mask[t]) {
        positions.push_back(r * t_max + static_cast<int64_t>(t) - 1);
        targets.push_back(p.ids[t]);
        batch.row_of.push_back(static_cast<int>(r));
        batch.answer.push_back(static_cast<int>(t) >= p.prompt_length &&
                               static_cast<int>(t) < p.answer_end);
      }
    }
    batch.real_tokens += static_cast<int64_t>(p.ids.size());
    batch.lengths.push_back(static_cast<int64_t>(p.ids.size()));
  }
  batch.tokens = at::tensor(tokens, at::kLong).view({b, t_max});
  batch.positions = at::tensor(positions, at::kLong);
  batch.targets = at::tensor(targets, at::kLong);
  batch.padded_tokens = b * t_max;
  return batch;
}

int64_t CountLossTokens(const RenderedPrompt& p) {
  int64_t n = 0;
  for (size_t t = 1; t < p.loss_mask.size(); ++t) n += p.loss_mask[t] != 0;
  return n;
}

at::Tensor TargetLogits(const LlamaForCausalLMImpl& model, const LoraAdapter* adapter,
                        const TrainingBatch& batch) {
  const at::Device device = model.options().device;
  const at::Tensor hidden = model.Hidden(batch.tokens.to(device), {}, adapter);  // (B, T, C)
  const at::Tensor picked =
      hidden.reshape({-1, hidden.size(-1)}).index_select(0, batch.positions.to(device));  // (N, C)
  return model.Logits(picked, adapter);                                                   // (N, V)
}

at::Tensor MaskedLoss(const LlamaForCausalLMImpl& model, const LoraAdapter* adapter,
                      const TrainingBatch& batch) {
  const at::Tensor logits = TargetLogits(model, adapter, batch);  // (N, V)
  return at::cross_entropy_loss(logits, batch.targets.to(model.options().device));
}

double WarmupCosineLearningRate(const LrSchedule& s, int64_t step, double progress) {
  double rate = s.peak;
  if (step < s.warmup_steps) {
    // The two orders differ in the last bit; see LrSchedule::ramp.
    rate = s.ramp == LrSchedule::Ramp::kPeakTimesStepOverWarmup
               ? s.peak * static_cast<double>(step + 1) / static_cast<double>(s.warmup_steps)
               : s.peak * (static_cast<double>(step + 1) / static_cast<double>(s.warmup_steps));
  }
  const double p = std::clamp(progress, 0.0, 1.0);
  const double cosine = 0.5 * (1.0 + std::cos(M_PI * p));
  return rate * (s.min_ratio + (1.0 - s.min_ratio) * cosine);
}

AdamW::AdamW(std::map<std::string, at::Tensor> params, AdamWOptions options) : options_(options) {
  at::NoGradGuard no_grad;
  for (auto& [name, p] : params) {
    Slot slot;
    slot.param = p;
    slot.exp_avg = at::zeros_like(p, at::MemoryFormat::Contiguous);
    slot.exp_avg_sq = at::zeros_like(p, at::MemoryFormat::Contiguous);
    slot.decay = options_.decay_vectors || p.dim() >= 2;
    slots_.emplace(name, std::move(slot));
  }
}

void AdamW::ZeroGrad() {
  for (auto& [name, s] : slots_) s.param.mutable_grad().reset();
}

double AdamW::ClipGradNorm(double max_norm, GradNormSum sum) {
  at::NoGradGuard no_grad;
  double total = 0;
  bool clip = false;
  if (sum == GradNormSum::kDoubleSumOfSquares) {
    double sum_sq = 0;
    for (auto& [name, s] : slots_) {
      if (s.param.grad().defined()) {
        sum_sq += s.param.grad().to(at::kFloat).pow(2).sum().item<double>();
      }
    }
    total = std::sqrt(sum_sq);
    clip = max_norm > 0 && total > max_norm;
  } else {
    std::vector<at::Tensor> norms;
    for (auto& [name, s] : slots_) {
      if (s.param.grad().defined()) norms.push_back(s.param.grad().norm(2));
    }
    if (norms.empty()) return 0;
    total = at::stack(norms).norm(2).item<double>();
    clip = max_norm > 0 && max_norm / (total + 1e-6) < 1;
  }
  if (clip) {
    const double coef = max_norm / (total + 1e-6);
    for (auto& [name, s] : slots_) {
      if (s.param.grad().defined()) s.param.grad().mul_(coef);
    }
  }
  return total;
}

void AdamW::Step(double lr) {
  at::NoGradGuard no_grad;
  const double b1 = options_.beta1, b2 = options_.beta2;
  for (auto& [name, s] : slots_) {
    const at::Tensor& g = s.param.grad();
    if (!g.defined()) continue;
    ++s.step;
    if (s.decay && options_.weight_decay > 0) s.param.mul_(1.0 - lr * options_.weight_decay);
    s.exp_avg.mul_(b1).add_(g, 1.0 - b1);
    s.exp_avg_sq.mul_(b2).addcmul_(g, g, 1.0 - b2);
    const double bias1 = 1.0 - std::pow(b1, static_cast<double>(s.step));
    const double bias2 = 1.0 - std::pow(b2, static_cast<double>(s.step));
    const at::Tensor denom = (s.exp_avg_sq.sqrt() / std::sqrt(bias2)).add_(options_.eps);
    s.param.addcdiv_(s.exp_avg, denom, -lr / bias1);
  }
}

std::map<std::string, at::Tensor> AdamW::StateTensors() const {
  std::map<std::string, at::Tensor> out;
  for (const auto& [name, s] : slots_) {
    out.emplace("exp_avg/" + name, s.exp_avg);
    out.emplace("exp_avg_sq/" + name, s.exp_avg_sq);
    out.emplace("step/" + name, at::full({1}, s.step, at::kLong));
  }
  return out;
}

absl::Status AdamW::LoadStateTensors(std::map<std::string, at::Tensor> tensors) {
  struct Loaded {
    at::Tensor exp_avg, exp_avg_sq;
    int64_t step;
  };
  std::map<std::string, Loaded> loaded;
  for (const auto& [name, s] : slots_) {
    Loaded l;
    ARC_ASSIGN_OR_RETURN(l.exp_avg, TakeTensor(tensors, "exp_avg/" + name, s.param.sizes()));
    ARC_ASSIGN_OR_RETURN(l.exp_avg_sq, TakeTensor(tensors, "exp_avg_sq/" + name, s.param.sizes()));
    ARC_ASSIGN_OR_RETURN(const at::Tensor step, TakeTensor(tensors, "step/" + name, {1}));
    for (const auto& [what, t] : {std::pair<const char*, const at::Tensor&>{"exp_avg/", l.exp_avg},
                                  {"exp_avg_sq/", l.exp_avg_sq}}) {
      if (t.scalar_type() != s.param.scalar_type()) {
        return absl::InvalidArgumentError(
            absl::StrCat("tensor \"", what, name, "\": dtype ", c10::toString(t.scalar_type()),
                         ", expected ", c10::toString(s.param.scalar_type())));
      }
    }
    if (step.scalar_type() != at::kLong) {
      return absl::InvalidArgumentError(absl::StrCat("tensor \"step/", name, "\": dtype ",
                                                     c10::toString(step.scalar_type()),
                                                     ", expected Long"));
    }
    l.step = step.item<int64_t>();
    loaded.emplace(name, std::move(l));
  }
  ARC_RETURN_IF_ERROR(CheckAllTaken(tensors));
  for (auto& [name, s] : slots_) {
    Loaded& l = loaded.at(name);
    s.exp_avg = l.exp_avg.to(s.param.device()).contiguous();
    s.exp_avg_sq = l.exp_avg_sq.to(s.param.device()).contiguous();
    s.step = l.step;
  }
  return absl::OkStatus();
}

namespace {

// Thrown from a gradient hook to abandon a backward pass once the run is cancelled.
struct BackwardCancelled : std::exception {
  const char* what() const noexcept override { return "cancelled during backward"; }
};

absl::Status Cancelled(size_t done, size_t total, const char* where) {
  return absl::CancelledError(
      absl::StrCat("train step cancelled ", where, " (", done, " of ", total, " micro-batches)"));
}

}  // namespace

absl::StatusOr<TrainStepResult> TrainStep(const LlamaForCausalLMImpl& model,
                                          const LoraAdapter* adapter, AdamW& optimizer,
                                          const std::vector<TrainingBatch>& batches,
                                          const TrainStepOptions& o) {
  if (batches.empty()) return absl::InvalidArgumentError("train step: no batch");
  TrainStepResult result;
  // With a cancellation callback and an adapter, the callback is also polled from a hook on each
  // adapter tensor's gradient, so a backward pass stops layer by layer, not only between
  // micro-batches. (Full fine-tuning has no such hooks: it stops between micro-batches.)
  std::vector<std::pair<at::Tensor, unsigned>> hooks;
  auto remove_hooks = [&hooks] {
    for (auto& [tensor, handle] : hooks) tensor.remove_hook(handle);
    hooks.clear();
  };
  size_t done = 0;
  bool in_backward = false;
  // A forward pass stops before its next decoder block (and blocked attention between query
  // blocks, forward and backward) once the run is cancelled.
  const ScopedForwardInterrupt interrupt(o.is_cancelled);
  try {
    if (o.is_cancelled && adapter != nullptr && o.direct == nullptr) {
      for (const at::Tensor& p : adapter->Parameters()) {
        at::Tensor t = p;
        const unsigned handle = t.register_hook([&o](const at::Tensor& grad) {
          if (o.is_cancelled()) throw BackwardCancelled();
          return grad;
        });
        hooks.emplace_back(t, handle);
      }
    }
    optimizer.ZeroGrad();
    double loss_sum = 0;
    for (const TrainingBatch& batch : batches) {
      if (o.is_cancelled && o.is_cancelled()) {
        remove_hooks();
        optimizer.ZeroGrad();
        return Cancelled(done, batches.size(), "before a micro-batch");
      }
      if (o.direct != nullptr) {
        loss_sum += o.direct->LossAndGradients(batch, 1.0 / o.grad_accum);
      } else {
        const at::Tensor loss = MaskedLoss(model, adapter, batch);
        if (o.is_cancelled && o.is_cancelled()) {  // the forward pass took its time
          remove_hooks();
          optimizer.ZeroGrad();
          return Cancelled(done, batches.size(), "after a forward pass");
        }
        in_backward = true;
        (loss / o.grad_accum).backward();
        in_backward = false;
        loss_sum += loss.item<double>();
      }
      result.real_tokens += batch.real_tokens;
      result.padded_tokens += batch.padded_tokens;
      result.loss_tokens += batch.targets.size(0);
      ++done;
    }
    remove_hooks();
    result.loss = loss_sum / static_cast<double>(batches.size());
    // TTT's sum syncs once per tensor, so it is only paid for when it clips.
    if (o.clip_grad_norm > 0 || o.norm_sum == GradNormSum::kNormOfNorms) {
      result.grad_norm = optimizer.ClipGradNorm(o.clip_grad_norm, o.norm_sum);
    }
    optimizer.Step(o.learning_rate);
    optimizer.ZeroGrad();
  } catch (const std::exception& e) {
    // The autograd engine rethrows a hook's exception on this thread (as itself or wrapped).
    remove_hooks();
    optimizer.ZeroGrad();
    if (dynamic_cast<const ForwardInterrupted*>(&e) != nullptr && !in_backward) {
      return Cancelled(done, batches.size(), "during a forward pass");
    }
    if (o.is_cancelled && o.is_cancelled()) {
      return Cancelled(done, batches.size(), "during a backward pass");
    }
    if (const auto* c = dynamic_cast<const c10::Error*>(&e)) {
      return absl::InternalError(absl::StrCat("libtorch: ", c->what_without_backtrace()));
    }
    return absl::InternalError(absl::StrCat("train step: ", e.what()));
  }
  return result;
}

}  // namespace arc
