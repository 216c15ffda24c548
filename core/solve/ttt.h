// Test-time training: fits a task's LoRA adapter on its rendered TTT samples (core/solve/ttt_data.h
// rendered through a PromptFormat), the base model frozen and shared.
//
// The loop follows the MIT recipe (reference mit-ttt-pipeline.md §3.4-3.7): the adapter starts
// from its initial state (LoraAdapter::Reset, no reload of the base); samples are shuffled each
// epoch by a seeded generator and cut into batches of `batch_size`; gradients accumulate over
// `grad_accum` batches per optimizer step; learning rate linear warmup over warmup_fraction of the
// steps then half-cosine to 0. The step itself (right-padded batches, the masked mean
// cross-entropy, optional global-norm clipping, AdamW with decoupled weight decay on every trained
// tensor) is the one pretraining uses: core/model/training.h.
//
// Thread-safety: the base model is only read; the adapter is mutated and must belong to the calling
// job. Progress and cancellation callbacks run on the calling thread, once per optimizer step.
#ifndef ARC_CORE_SOLVE_TTT_H_
#define ARC_CORE_SOLVE_TTT_H_

#include <cstdint>
#include <functional>
#include <vector>

#include <ATen/ATen.h>

#include "absl/status/statusor.h"
#include "core/solve/option_table.h"
#include "core/solve/result.h"
#include "core/text/prompt_format.h"

namespace arc {

class LlamaForCausalLMImpl;
class LoraAdapter;

// The defaults of the user-facing fields are the option table's (core/solve/option_table.h), which
// also holds their ranges.
struct TttTrainOptions {
  double learning_rate = solve_option_default::ttt_lr;  // peak, after warmup (the paper's value)
  double weight_decay = solve_option_default::ttt_weight_decay;  // AdamW, decoupled
  double beta1 = 0.9;
  double beta2 = 0.999;
  double adam_eps = 1e-8;
  int batch_size = solve_option_default::ttt_batch_size;  // samples per forward
  int grad_accum = solve_option_default::ttt_grad_accum;  // batches per optimizer step
  int epochs = solve_option_default::ttt_epochs;          // passes over the samples
  // if > 0, stop after this many optimizer steps
  int max_steps = solve_option_default::ttt_max_steps;
  double warmup_fraction = solve_option_default::ttt_warmup;  // of the optimizer steps
  // if > 0, clip the global gradient norm to this
  double clip_grad_norm = solve_option_default::ttt_clip;
  uint64_t seed = 0;             // batch order
  // Train a LoRA adapter over a float32 CPU model on the direct path (core/model/cpu_trainer.h)
  // when it supports them; false: always libtorch autograd. Same loss and gradients to float32
  // rounding.
  bool direct_cpu = true;
};

absl::Status ValidateTttTrainOptions(const TttTrainOptions& options);

struct TttProgress {
  int step = 0;           // optimizer steps done (1-based after the first)
  int total_steps = 0;
  double loss = 0;        // mean loss of this step's batches
  double learning_rate = 0;
  int64_t tokens = 0;     // tokens processed so far (padded batch tokens)
};

// The counts a solve result reports (core/solve/result.h), plus what only the trainer knows.
struct TttTrainStats : TttTrainCounts {
  int64_t target_tokens = 0;   // tokens that carried loss
  double seconds = 0;
};

// The learning rate at optimizer step `step` (0-based) of `total`: lr * (step+1)/W during the
// W = floor(warmup_fraction * total) warmup steps (the paper's lr * s / W with s counted from 1), then
// lr * 0.5 * (1 + cos(pi * (step - W) / (total - W))).
double LearningRateAt(const TttTrainOptions& options, int step, int total);

// Trains `adapter` (its current state is the starting point: call Reset() first for a fresh task)
// on `samples`. Samples with no target token are skipped. CANCELLED when `is_cancelled` returns
// true (checked before every step); INVALID_ARGUMENT for bad options or no usable sample.
// The general loop: trains `params` (leaf tensors with requires_grad, belonging to `model` or to
// `adapter`) with the forward pass model(tokens, adapter). TrainAdapter calls it with the adapter's
// parameters; full fine-tuning calls it with a private copy of the base model's parameters and no
// adapter (the caller owns that copy; the shared base is never trained).
absl::StatusOr<TttTrainStats> TrainParameters(
    const LlamaForCausalLMImpl& model, const LoraAdapter* adapter, std::vector<at::Tensor> params,
    const std::vector<RenderedPrompt>& samples, const TttTrainOptions& options,
    const std::function<void(const TttProgress&)>& progress,
    const std::function<bool()>& is_cancelled);

absl::StatusOr<TttTrainStats> TrainAdapter(const LlamaForCausalLMImpl& model,
                                           LoraAdapter& adapter,
                                           const std::vector<RenderedPrompt>& samples,
                                           const TttTrainOptions& options,
                                           const std::function<void(const TttProgress&)>& progress,
                                           const std::function<bool()>& is_cancelled);

}  // namespace arc

#endif  // ARC_CORE_SOLVE_TTT_H_
