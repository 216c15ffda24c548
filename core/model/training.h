// The training step shared by test-time training (core/solve/ttt.h: a LoRA adapter or a private
// copy of the weights, per task) and base-model pretraining (train/: every weight, a long run):
//
//   - MakeTrainingBatch: rendered samples (token ids + loss mask) -> one right-padded batch. Causal
//     attention needs no mask: a real token never sees a later pad.
//   - TargetLogits / MaskedLoss: the masked next-token cross-entropy, the mean over every target
//     token of the batch (a token whose loss_mask is 1, predicted from the previous position).
//     Only the positions that carry loss go through the LM head.
//   - LrSchedule / WarmupCosineLearningRate: linear warmup, then a half cosine to a floor.
//   - AdamW: decoupled weight decay, its state plain named tensors (so a checkpoint is exact), and
//     global gradient-norm clipping.
//   - TrainStep: one optimizer step: forward and backward of one or more batches (gradient
//     accumulation), clipping, the update.
//
// What differs between the two trainers is a parameter: which tensors train (the AdamW's
// parameters; the forward pass goes through `adapter` when there is one), which get weight decay,
// how many batches accumulate, and the two roundings noted at LrSchedule::ramp and GradNormSum,
// kept so that each trainer's results stay bit-for-bit what they were before the loop was shared.
// Data order, epochs, budgets, checkpoints and progress reporting are the callers'.
//
// Thread-safety: none of this is thread-safe. The model is only read (its tensors may be the
// parameters being trained, in which case the caller owns it for the run); the optimizer's
// parameters are written in place. One thread drives a run.
#ifndef ARC_CORE_MODEL_TRAINING_H_
#define ARC_CORE_MODEL_TRAINING_H_

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/text/prompt_format.h"

namespace arc {

class CpuLoraTrainer;
class LlamaForCausalLMImpl;
class LoraAdapter;

// ---------------------------------------------------------------------------------------------
// Batches and the loss.

// One right-padded batch of rendered samples: tokens (B, T) and, flattened as row * T + t, the
// positions t whose next token ids[t+1] carries loss, with those ids.
struct TrainingBatch {
  at::Tensor tokens;            // (B, T) int64, on the CPU
  at::Tensor positions;         // (N) int64 into the flattened (B*T)
  at::Tensor targets;           // (N) int64
  std::vector<int> row_of;      // (N) the sample row of each target
  std::vector<uint8_t> answer;  // (N) 1 when the target lies in [prompt_length, answer_end)
  std::vector<int64_t> lengths; // (B) each row's real tokens (the rest of the row is padding)
  int64_t real_tokens = 0;      // sum of the rows' lengths
  int64_t padded_tokens = 0;    // B * T
};

// `rows` must be non-empty, each with ids.size() == loss_mask.size() (the caller checks).
TrainingBatch MakeTrainingBatch(const std::vector<const RenderedPrompt*>& rows, int64_t pad_id);

// Tokens of `sample` that carry loss (loss_mask[t] == 1 for t >= 1; position 0 has no predecessor).
int64_t CountLossTokens(const RenderedPrompt& sample);

// Logits (N, V) float32 at the batch's loss positions, through `adapter` when it is not null.
// Builds the autograd graph unless the caller holds a NoGradGuard.
at::Tensor TargetLogits(const LlamaForCausalLMImpl& model, const LoraAdapter* adapter,
                        const TrainingBatch& batch);

// The mean cross-entropy of TargetLogits against the targets: a scalar float32 tensor.
at::Tensor MaskedLoss(const LlamaForCausalLMImpl& model, const LoraAdapter* adapter,
                      const TrainingBatch& batch);

// ---------------------------------------------------------------------------------------------
// The learning-rate schedule.

struct LrSchedule {
  double peak = 1.5e-3;
  int64_t warmup_steps = 100;  // linear ramp over the first steps: peak * (step + 1) / warmup
  double min_ratio = 0.1;      // the cosine ends at peak * min_ratio
  // How the ramp rounds. Both trainers' past results depend on it bit for bit, so both stay:
  // pretraining multiplies peak by the fraction (step+1)/warmup, TTT (the paper's lr * s / W)
  // divides the product peak * (step+1) by warmup. The values agree to the last bit or two.
  enum class Ramp { kPeakTimesFraction, kPeakTimesStepOverWarmup };
  Ramp ramp = Ramp::kPeakTimesFraction;
};

// At optimizer step `step` (0-based): r * c with r = the ramp during the first warmup_steps steps
// (then peak) and c = min_ratio + (1 - min_ratio) * 0.5 * (1 + cos(pi * clamp(progress, 0, 1))).
// `progress` is the caller's fraction of the decay done: pretraining passes its budget fraction
// (steps, tokens or time, so no total step count is needed); TTT passes 0 during warmup and then
// (step - warmup) / (total - warmup), so its cosine starts after the ramp.
double WarmupCosineLearningRate(const LrSchedule& schedule, int64_t step, double progress);

// ---------------------------------------------------------------------------------------------
// The optimizer.

struct AdamWOptions {
  double beta1 = 0.9;
  double beta2 = 0.95;
  double eps = 1e-8;
  double weight_decay = 0.05;  // decoupled
  // Pretraining decays matrices (dim >= 2) only, not norms; TTT decays every parameter it trains
  // (as torch.optim.AdamW does).
  bool decay_vectors = false;
};

// How the global gradient norm is summed. kNormOfNorms is torch.nn.utils.clip_grad_norm_ (float32
// norm of the per-tensor norms; clips when max_norm / (norm + 1e-6) < 1). kDoubleSumOfSquares is
// TTT's: per-tensor float32 sums of squares added in double (one host sync per tensor); clips when
// norm > max_norm. Kept apart for bit-identical results, like LrSchedule::ramp.
enum class GradNormSum { kNormOfNorms, kDoubleSumOfSquares };

// torch.optim.AdamW's update, written out so that its state is plain named tensors. Parameters are
// visited in name order (which fixes the summation order of the gradient norm). Not thread-safe;
// the parameters are trained in place.
class AdamW {
 public:
  // `params`: leaf tensors with requires_grad, by name (gradients are read from .grad()).
  AdamW(std::map<std::string, at::Tensor> params, AdamWOptions options);

  // One update at learning rate `lr` for every parameter with a defined gradient.
  void Step(double lr);
  // Drops every gradient (the next backward allocates fresh ones).
  void ZeroGrad();
  // Scales gradients so their global L2 norm is at most max_norm (1e-6 guard); returns the norm
  // before clipping. max_norm <= 0 only measures.
  double ClipGradNorm(double max_norm, GradNormSum sum = GradNormSum::kNormOfNorms);

  // "exp_avg/<name>", "exp_avg_sq/<name>" (the parameter's dtype and shape) and "step/<name>"
  // (int64, shape [1]) for every parameter.
  std::map<std::string, at::Tensor> StateTensors() const;
  // Replaces the state from StateTensors() output. All-or-nothing: NOT_FOUND `missing tensor "x"`,
  // INVALID_ARGUMENT for a wrong shape or dtype or an unexpected tensor; the state is unchanged
  // then.
  absl::Status LoadStateTensors(std::map<std::string, at::Tensor> tensors);

 private:
  struct Slot {
    at::Tensor param, exp_avg, exp_avg_sq;
    int64_t step = 0;
    bool decay = false;
  };
  AdamWOptions options_;
  std::map<std::string, Slot> slots_;
};

// ---------------------------------------------------------------------------------------------
// The step.

struct TrainStepOptions {
  double learning_rate = 0;
  // Each batch's loss is divided by this before backward (TTT keeps dividing by its grad_accum
  // when an epoch boundary leaves a step fewer batches).
  int grad_accum = 1;
  double clip_grad_norm = 0;  // > 0: clip the global gradient norm to this
  GradNormSum norm_sum = GradNormSum::kNormOfNorms;
  // Polled before and after each batch's forward pass and, with an adapter, from each adapter
  // tensor's gradient hook during backward; true: CANCELLED, no update applied, gradients dropped.
  std::function<bool()> is_cancelled;
  // Not null: forward and backward run on this direct CPU path (core/model/cpu_trainer.h; built by
  // the caller for the same model and adapter, reused across steps) instead of autograd. Its
  // forward and backward poll is_cancelled (through the forward interrupt) before every layer.
  CpuLoraTrainer* direct = nullptr;
};

struct TrainStepResult {
  double loss = 0;       // mean of the batches' mean losses
  double grad_norm = 0;  // before clipping; measured always with kNormOfNorms, else when clipping
  int64_t real_tokens = 0;
  int64_t padded_tokens = 0;
  int64_t loss_tokens = 0;
};

// One optimizer step: zero the gradients, MaskedLoss and backward for each of `batches`
// (non-empty), clip, AdamW update at options.learning_rate, drop the gradients. The forward pass
// goes through `adapter` when it is not null. INTERNAL on a libtorch failure; CANCELLED when
// options.is_cancelled says so (the parameters are then unchanged).
absl::StatusOr<TrainStepResult> TrainStep(const LlamaForCausalLMImpl& model,
                                          const LoraAdapter* adapter, AdamW& optimizer,
                                          const std::vector<TrainingBatch>& batches,
                                          const TrainStepOptions& options);

}  // namespace arc

#endif  // ARC_CORE_MODEL_TRAINING_H_
