// A float32 CPU decoding trunk that runs the Llama decoder (core/model/llama.h) on raw buffers with
// direct BLAS calls, outside the libtorch dispatcher.
//
// Why: a decoding step of a small model is hundreds of tiny operations (a 256-wide model's step at
// batch 1 is about 9 MFLOP). Through libtorch each operation pays dispatcher, allocation and
// autograd-check overhead of microseconds, which is most of the step (arc-bench: 8% of the sgemm
// peak at batch 1). Here a step is one sgemm per projection on preallocated buffers plus plain
// loops for norms, rotary embeddings, softmax and SwiGLU.
//
// Exactness: the same arithmetic as the libtorch path (RMSNorm in float32, the same rotary tables,
// queries scaled by 1/sqrt(D), the LoRA update scale * B(A x) added to W x), but sums run in a
// different order, so hidden states agree to float32 rounding (about 1e-6 relative), not bit for
// bit; decoding tests compare the decoded tokens of both paths.
//
// Layout: sequences are packed, not padded. Each row (a sequence of the decoding batch) has its own
// KV cache of (layers, 2, Hkv, capacity, D) floats and its own length, so prompts of different
// lengths waste nothing on padding and a finished row is dropped without copying the others.
//
// Supported: the model on the CPU in float32 and an adapter (or none) in float32 with dropout off.
// Supports() says so; GreedyDecode (core/model/decode.h) falls back to the libtorch path otherwise.
// Built only when the BLAS header and library were found (ARC_HAVE_CBLAS); without them Supports()
// is false.
//
// Thread safety: a CpuDecoder belongs to one decoding call; it reads the model and adapter, which
// must outlive it and must not change meanwhile. Several decoders may share one model. Matrix
// products use the BLAS threads (torch::set_num_threads); attention runs its (row, head) pairs on
// at::parallel_for.
#ifndef ARC_CORE_MODEL_CPU_DECODER_H_
#define ARC_CORE_MODEL_CPU_DECODER_H_

#include <ATen/ATen.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "core/model/llama.h"

namespace arc {

class LoraAdapter;

class CpuDecoder {
 public:
  // True when the direct path can run this model and adapter (see the file comment).
  static bool Supports(const LlamaForCausalLMImpl& model, const LoraAdapter* adapter);

  // A decoder for `capacities.size()` rows; row r holds at most capacities[r] tokens (prompt plus
  // generated). Requires Supports(model, adapter). Throws c10::Error on bad arguments.
  CpuDecoder(const LlamaForCausalLMImpl& model, const LoraAdapter* adapter,
             const std::vector<int64_t>& capacities);

  int64_t rows() const { return static_cast<int64_t>(rows_.size()); }
  // Tokens held by row r.
  int64_t length(int64_t row) const;
  // Bytes of the KV caches.
  int64_t cache_bytes() const;

  // Appends tokens[r] (may be empty) to row r for every current row and returns the final-normed
  // hidden state of each row's last token, (rows, C) float32; a row given no tokens gets the
  // hidden state of its previous last token. Polls PollForwardInterrupt() before every block (core/
  // model/interrupt.h). Throws c10::Error for a token outside the vocabulary or a row past its
  // capacity, leaving the decoder unusable.
  at::Tensor Extend(const std::vector<std::vector<int64_t>>& tokens);

  // Keeps only the rows `keep` (indices into the current rows, strictly increasing), in that order.
  void KeepRows(const std::vector<int64_t>& keep);

  // Starts the empty row `to` with the first `tokens` cached tokens of row `from` (their keys and
  // values copied, not recomputed): a prompt that shares its first `tokens` tokens with `from`'s
  // then needs only its own remainder extended. The caller vouches that the tokens are the same;
  // row `to` has no last hidden state until it is extended. Throws c10::Error when `to` is not
  // empty, `from` holds fewer tokens or `to`'s capacity is smaller.
  void CopyPrefix(int64_t from, int64_t to, int64_t tokens);

 private:
  struct ProjectionWeights {
    const float* w = nullptr;  // (out, in)
    const float* a = nullptr;  // LoRA A (r, in), or null
    const float* b = nullptr;  // LoRA B (out, r)
    int64_t in = 0, out = 0, rank = 0;
  };
  struct Layer {
    const float* input_norm = nullptr;
    const float* post_norm = nullptr;
    ProjectionWeights q, k, v, o, gate, up, down;
  };
  struct Row {
    std::unique_ptr<float[]> cache;  // (layers, 2, Hkv, capacity, D), uninitialised until written
    int64_t capacity = 0;
    int64_t length = 0;
    std::vector<float> last;  // (C) final-normed hidden state of the last token
  };

  // y (n, out) = x (n, in) W^T [+ scale * (x A^T) B^T] [+ y when accumulate].
  void Project(const ProjectionWeights& p, const float* x, int64_t n, float* y, bool accumulate);
  float* CacheAt(Row& row, int64_t layer, int kv, int64_t head);

  int64_t layers_count_, hidden_, inter_, heads_, kv_heads_, head_dim_, vocab_;
  double eps_;
  float lora_scale_ = 0;
  const float* embed_ = nullptr;       // (V, C)
  const float* final_norm_ = nullptr;  // (C)
  std::vector<Layer> layers_;
  at::Tensor cos_, sin_;  // (max capacity, D/2) float32 rotary tables
  std::vector<Row> rows_;
  // Work buffers, grown on demand and reused across calls.
  std::vector<float> x_, h_, q_, k_, v_, att_, gate_, up_, lora_;
};

}  // namespace arc

#endif  // ARC_CORE_MODEL_CPU_DECODER_H_
