// KvCache: preallocated key/value buffers for incremental decoding with the Llama decoder.
//
// Per layer, K and V are (B, Hkv, Tmax, D) buffers in the model's dtype and device. Slots
// [0, length()) are filled. Alongside them the cache keeps, per sequence, which slots hold real
// tokens (key_mask, so left padding stays masked for every later step) and the position id of the
// next real token (next_position), so a step after a left-padded prefill continues each sequence's
// own positions.
//
// Protocol (driven by LlamaForCausalLMImpl::forward with a cache): the model reads length(),
// key_mask() and next_position() to build the step's positions and mask, each layer calls Append()
// with its new K/V, and the model calls Commit() once all layers are done. Prefill is one forward
// with the whole (left-padded) prompt batch; each decoding step is a forward with one token per
// sequence.
//
// Not thread-safe: a cache belongs to one decoding job. Create it inside the same
// c10::InferenceMode (or NoGradGuard) scope as the forwards that use it.
#ifndef ARC_CORE_MODEL_KV_CACHE_H_
#define ARC_CORE_MODEL_KV_CACHE_H_

#include <ATen/ATen.h>

#include <cstdint>
#include <utility>
#include <vector>

#include "core/model/model_config.h"

namespace arc {

class KvCache {
 public:
  // Allocates num_hidden_layers x 2 buffers of (batch_size, num_key_value_heads, max_length,
  // head_dim) with `options` (the model's dtype and device). Requires batch_size, max_length > 0.
  KvCache(const ModelConfig& config, int64_t batch_size, int64_t max_length,
          const at::TensorOptions& options);

  int64_t batch_size() const { return batch_size_; }
  int64_t capacity() const { return capacity_; }
  int64_t length() const { return length_; }
  int64_t num_layers() const { return static_cast<int64_t>(keys_.size()); }
  // (B, capacity) bool: slot s of sequence b holds a real token (false for pads and unused slots).
  const at::Tensor& key_mask() const { return key_mask_; }
  // (B) int64: the position id the next real token of each sequence gets.
  const at::Tensor& next_position() const { return next_position_; }
  // Bytes held by the K/V buffers.
  int64_t bytes() const;

  // Writes this step's k, v (B, Hkv, T, D) at slots [length(), length() + T) of `layer` and returns
  // views of slots [0, length() + T). Throws c10::Error when the step would exceed capacity().
  std::pair<at::Tensor, at::Tensor> Append(int64_t layer, const at::Tensor& k, const at::Tensor& v);
  // Ends a step of T tokens whose 0/1 mask is `step_mask` (B, T): records it in key_mask, advances
  // next_position by the number of real tokens and length() by T.
  void Commit(const at::Tensor& step_mask);

  // Keeps only the sequences `rows` (int64 indices, in that order): used to drop finished sequences
  // from a decoding batch. Strictly increasing rows (what decoding passes) are compacted in place
  // within the existing buffers; any other order copies the buffers.
  void KeepRows(const at::Tensor& rows);
  // Empties the cache (length 0, masks cleared) without freeing the buffers.
  void Reset();

 private:
  int64_t batch_size_;
  int64_t capacity_;
  int64_t length_ = 0;
  std::vector<at::Tensor> keys_;    // per layer (B, Hkv, Tmax, D)
  std::vector<at::Tensor> values_;  // per layer (B, Hkv, Tmax, D)
  at::Tensor key_mask_;             // (B, Tmax) bool
  at::Tensor next_position_;        // (B) int64
};

}  // namespace arc

#endif  // ARC_CORE_MODEL_KV_CACHE_H_
