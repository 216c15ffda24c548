// Admission by cost: before a job is queued, the server estimates the memory and compute the
// request's options would take on this model and refuses one over the limits with
// RESOURCE_EXHAUSTED stating the estimate and the limit (no retry hint: the same request will not
// fit later either; change the options).
//
// The estimate is an upper bound computed from the options, the task's token counts (rendered by
// the model's prompt format; no model code runs) and the model's shape:
//
//   T   tokens of one TTT sample: the task's demonstrations as one prompt (a leave-one-out sample
//       holds every pair), x4 when augmenters may upscale grids, capped at the context and at
//       ttt_max_tokens' sample cap;   P  the longest inference prompt (all demonstrations + a test
//       input);   N  answer tokens (max_new_tokens, else the format's tokens for the largest
//       plausible output);   V  views per test input (leave-out subsets x (1 + permutations) x
//       transforms, capped at max_views)
//   micro-batches M = min(max_steps * grad_accum, epochs * ceil(samples / batch))
//   token-steps  = 3 * M * batch * T                     (training: forward + backward ~ 3 passes)
//                + tests * (V + poe_top_k * poe_views) * (P + N)   (inference and re-scoring)
//   train bytes  = 4 * batch * T * L * (16 * hidden + 6 * intermediate + 2 * heads * T)  (saved
//                  activations, the attention probabilities quadratic in T)
//                + 4 * 3 * batch * heads * T^2          (one layer's transient scores in backward)
//                + 4 * 4 * trainable parameters         (weights, gradients, AdamW m and v; LoRA
//                  r * (in + out) per target and layer, or the whole model when full_finetune)
//   infer bytes  = 4 * 2 * L * b * kv_heads * head_dim * (P + N)       (the KV cache of a batch b)
//                + 4 * 3 * heads * Q * P + 4 * Q * (4 * hidden + intermediate)   (one prefill piece
//                  of Q = min(b * P, 2048) tokens over the batch: its scores and activations)
//   bytes        = max(train bytes, infer bytes) + 64 MiB  (the shared model is not counted)
//   step GFLOP   = the largest indivisible unit of work between two cancellation checks, which
//                  are polled before every decoder block of a forward pass and at every LoRA
//                  gradient in backward: one block of a micro-batch, batch * T * (F(T / 2) - 2 *
//                  hidden * vocab) / L, or its LM head, batch * T * 2 * hidden * vocab (the whole
//                  backward, 2 * batch * T * F(T / 2), under full_finetune, which has no hooks), or
//                  one block of a prefill piece, min(b * P, 2048) * (F(P) - 2 * hidden * vocab) / L;
//                  F = ModelConfig::ForwardFlopsPerToken.
// (4 = bytes per float32 value; 2 on bfloat16 devices.) The constants were calibrated against
// measured peak RSS on the CPU (docs/SECURITY.md, "Admission and cost limits").
//
// Thread-safety: a JobCostModel is immutable; Estimate may be called from any thread.
#ifndef ARC_SERVER_ADMISSION_H_
#define ARC_SERVER_ADMISSION_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "core/data/grid.h"
#include "core/model/arc_model.h"
#include "core/solve/options.h"

namespace arc::server {

struct CostLimits {
  int64_t max_job_bytes = int64_t{8} << 30;       // --max_job_memory_mb (8192)
  int64_t max_job_token_steps = 100'000'000;      // --max_job_token_steps
  double max_step_gflop = 50;                     // --max_step_gflop (about 1 s here)
};

struct JobCost {
  int64_t train_tokens_per_sample = 0;  // T
  int64_t prompt_tokens = 0;            // P
  int64_t new_tokens = 0;               // N
  int64_t views = 0;                    // V
  int64_t micro_batches = 0;            // M
  int64_t train_bytes = 0;
  int64_t infer_bytes = 0;
  int64_t bytes = 0;
  int64_t token_steps = 0;
  double step_gflop = 0;
  std::string Describe() const;  // "memory 1.2 GiB, 3.4M token-steps, step 12 GFLOP (T=..., ...)"
};

class JobCostModel {
 public:
  explicit JobCostModel(std::shared_ptr<const ArcModel> model);
  JobCost Estimate(const Task& task, const SolveOptions& options) const;

 private:
  std::shared_ptr<const ArcModel> model_;
  int64_t bytes_per_value_ = 4;
};

// RESOURCE_EXHAUSTED naming the estimate, the limit and the options that drive it, e.g.
//   "job too large: estimated peak memory 19.3 GiB is above --max_job_memory_mb 8192 (8.0 GiB);
//    lower ttt_batch_size (32; T=2048 tokens per sample) ..."
absl::Status AdmitJobCost(const JobCost& cost, const CostLimits& limits);

}  // namespace arc::server

#endif  // ARC_SERVER_ADMISSION_H_
