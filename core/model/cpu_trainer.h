// The LoRA training step's forward and backward for a float32 CPU model, written out on raw buffers
// with direct BLAS calls (core/model/cpu_kernels.h) instead of libtorch autograd.
//
// Why: the base weights are frozen, so a LoRA step needs only the input gradients of each frozen
// projection and the small A/B gradients. Autograd pays for a graph of hundreds of nodes, a tensor
// allocation per operation, padded batches and attention probabilities saved per layer; here each
// projection is one sgemm on reused buffers, RMSNorm, rotary embeddings and SwiGLU are one loop
// each with their own backward, sequences are packed without padding, and attention is computed in
// blocks of query rows whose probabilities the backward recomputes from the saved log-sum-exp (the
// flash-attention recipe), so memory grows with the tokens, not with their square.
//
// Exactness: the same function as MaskedLoss (core/model/training.h) through the adapter: the mean
// cross-entropy over the batch's target tokens. Sums run in another order, so the loss and the
// gradients agree with autograd's to float32 rounding (tests compare them), not bit for bit.
//
// Supported: what CpuDecoder::Supports accepts (model on the CPU in float32, a float32 adapter with
// dropout off), with an adapter. The trainer only reads the model and writes the adapter's .grad()
// tensors; the optimizer step is the caller's (TrainStep).
//
// Thread safety: one trainer belongs to one training run; the model and adapter must outlive it and
// keep their tensors (it holds pointers to their data). Matrix products use the BLAS threads;
// attention runs its (row, head) pairs on at::parallel_for (the backward its (row, KV head) pairs).
#ifndef ARC_CORE_MODEL_CPU_TRAINER_H_
#define ARC_CORE_MODEL_CPU_TRAINER_H_

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <memory>
#include <vector>

namespace arc {

class LlamaForCausalLMImpl;
class LoraAdapter;
struct TrainingBatch;

class CpuLoraTrainer {
 public:
  // True when the direct path can train this adapter over this model (see the file comment).
  static bool Supports(const LlamaForCausalLMImpl& model, const LoraAdapter* adapter);

  // Requires Supports(model, &adapter). Throws c10::Error otherwise.
  CpuLoraTrainer(const LlamaForCausalLMImpl& model, const LoraAdapter& adapter);
  ~CpuLoraTrainer();
  CpuLoraTrainer(const CpuLoraTrainer&) = delete;
  CpuLoraTrainer& operator=(const CpuLoraTrainer&) = delete;

  // Forward and backward of `batch` (MakeTrainingBatch's; its rows' `lengths` give the packing):
  // returns the mean cross-entropy over the batch's targets and adds grad_scale times its gradient
  // to every adapter tensor's .grad() (created as zeros when undefined), as loss.backward() on
  // loss * grad_scale would. Polls PollForwardInterrupt() (core/model/interrupt.h) before every
  // layer, forward and backward. Throws c10::Error for a token outside the vocabulary.
  double LossAndGradients(const TrainingBatch& batch, double grad_scale);

  // Bytes of the activations kept for the backward at the largest batch seen so far.
  int64_t saved_bytes() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace arc

#endif  // ARC_CORE_MODEL_CPU_TRAINER_H_
