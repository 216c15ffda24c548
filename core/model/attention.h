// Grouped-query attention computed in blocks of query rows, for the Llama decoder (core/llama.h).
//
// The explicit attention of a (B, T) batch materialises float32 scores and probabilities of shape
// (B, H, T, S) per layer, and autograd keeps the probabilities of every layer until backward: for
// the TTT batches of a 10x10 task (2 x 900 tokens, 8 heads) that is 52 MB per tensor, several
// alive at once in each layer's forward and backward, and one per layer held from the forward to
// the backward. BlockedAttention instead walks the queries in blocks whose score tensor holds at
// most `max_block_elements` elements, and its backward recomputes each block's probabilities from
// the saved queries and keys (as FlashAttention does, here with libtorch's own matmul and softmax
// kernels), so what a layer keeps for backward is q, k and v, and what any step holds at once is a
// few block-sized tensors, whatever the sequence length. (When the whole call is one block, its
// probabilities are within the budget and are kept for backward instead of recomputed.)
//
// A query at slot offset + t never sees a key past its own slot (the mask is causal), so a block
// of queries multiplies against the keys up to its last slot only: on long sequences that skips
// about half of the score and value products of the unblocked computation.
//
// Results equal the explicit computation up to float summation order (each row's softmax still
// runs over all of its keys at once). Rows a mask leaves without any key must not occur (the model
// lets a pad query see every key instead; see LlamaModelImpl::MakeContext).
//
// Thread safety: a pure function of its inputs; the autograd node it records keeps references to
// q, k and v (not copies), so they must not be modified in place before backward.
#ifndef ARC_CORE_MODEL_ATTENTION_H_
#define ARC_CORE_MODEL_ATTENTION_H_

#include <ATen/ATen.h>

#include <cstdint>

namespace arc {

// What masks the scores of one attention call.
struct AttentionMask {
  // (B or 1, 1, T, S) bool: true where query t must NOT see key s.
  at::Tensor blocked;
  // Slot of query 0 among the S keys (the KV cache's length; 0 without a cache): query t sits at
  // slot offset + t and S = offset + T.
  int64_t offset = 0;
  // `blocked` is exactly "key slot > query slot" (no padding): only keys past a block's first
  // query slot can be masked, so the rest of the block's scores skip the mask pass.
  bool causal_only = false;
};

// Softmax(q k^T / sqrt(D) masked) v for q (B, T, H, D) and k, v (B, Hkv, S, D), H a multiple of
// Hkv (query head h reads KV head h / (H / Hkv)); returns (B, T, H*D) in q's dtype. Scores and
// softmax are float32 whatever the dtype. Differentiable in q, k and v when grad mode is on and
// any of them requires grad; otherwise nothing is saved.
at::Tensor BlockedAttention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                            const AttentionMask& mask, int64_t max_block_elements);

// Query rows per block for B sequences, H heads and S keys so that a block's (B, H, rows, S)
// scores hold at most max_block_elements elements (at least one row), spread evenly over the T
// queries.
int64_t AttentionBlockRows(int64_t b, int64_t h, int64_t t, int64_t s,
                           int64_t max_block_elements);

}  // namespace arc

#endif  // ARC_CORE_MODEL_ATTENTION_H_
