#include "core/model/attention.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/custom_function.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/model/interrupt.h"

namespace arc {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// The shapes of one call. Queries are kept as (B, Hkv, T, G, D): a block of query rows is then a
// view (B, Hkv, rows * G, D) whose G query heads of one KV head share that head's keys in one
// matmul, without copying K or V per query head.
struct Geometry {
  int64_t b, t, h, hkv, g, d, s;
  int64_t rows;  // query rows per block
};

Geometry GeometryOf(const at::Tensor& q, const at::Tensor& k, int64_t max_block_elements) {
  Geometry x;
  x.b = q.size(0);
  x.t = q.size(1);
  x.h = q.size(2);
  x.d = q.size(3);
  x.hkv = k.size(1);
  x.s = k.size(2);
  x.g = x.h / x.hkv;
  x.rows = AttentionBlockRows(x.b, x.h, x.t, x.s, max_block_elements);
  return x;
}

// q (B, T, H, D) -> scaled by 1/sqrt(D), as (B, Hkv, T, G, D) contiguous. Scaling the queries
// instead of the scores saves a pass over every score.
at::Tensor GroupedScaledQueries(const at::Tensor& q, const Geometry& x) {
  return (q * (1.0 / std::sqrt(static_cast<double>(x.d))))
      .reshape({x.b, x.t, x.hkv, x.g, x.d})
      .permute({0, 2, 1, 3, 4})
      .contiguous();  // (B, Hkv, T, G, D)
}

// The probabilities of query rows [t0, t0 + rows) over keys [0, s1), (B, Hkv, rows * G, s1)
// float32, from qb (B, Hkv, rows * G, D) scaled and kb (B, Hkv, s1, D).
at::Tensor BlockProbabilities(const at::Tensor& qb, const at::Tensor& kb, const AttentionMask& mask,
                              const Geometry& x, int64_t t0, int64_t rows, int64_t s1) {
  at::Tensor scores = at::matmul(qb, kb.transpose(2, 3));  // (B, Hkv, rows*G, s1)
  if (scores.scalar_type() != at::kFloat) scores = scores.to(at::kFloat);
  // Without padding only keys after the block's first query slot can be masked.
  const int64_t from = mask.causal_only ? std::min(s1, mask.offset + t0 + 1) : 0;
  if (from < s1) {
    const at::Tensor blocked =
        mask.blocked.narrow(2, t0, rows).narrow(3, from, s1 - from).unsqueeze(3);  // (B|1,1,r,1,w)
    scores.view({x.b, x.hkv, rows, x.g, s1})
        .narrow(4, from, s1 - from)
        .masked_fill_(blocked, -std::numeric_limits<float>::infinity());
  }
  return at::_softmax(scores, -1, /*half_to_float=*/false);  // (B, Hkv, rows*G, s1) float32
}

// The forward pass over all blocks; qg from GroupedScaledQueries, k and v (B, Hkv, S, D). When
// everything is one block and `one_block_probs` is given, the probabilities are stored there: they
// are within the block budget, and keeping them spares the backward their recomputation.
at::Tensor BlockedForward(const at::Tensor& qg, const at::Tensor& k, const at::Tensor& v,
                          const AttentionMask& mask, const Geometry& x,
                          at::Tensor* one_block_probs = nullptr) {
  const at::Tensor out = at::empty({x.b, x.t, x.hkv, x.g, x.d}, qg.options());  // (B,T,Hkv,G,D)
  for (int64_t t0 = 0; t0 < x.t; t0 += x.rows) {
    if (t0 > 0) PollForwardInterrupt();  // a cancelled job stops between blocks
    const int64_t rows = std::min(x.rows, x.t - t0);
    const int64_t s1 = mask.offset + t0 + rows;  // keys up to the block's last query slot
    const at::Tensor qb = qg.narrow(2, t0, rows).reshape({x.b, x.hkv, rows * x.g, x.d});
    const at::Tensor probs = BlockProbabilities(qb, k.narrow(2, 0, s1), mask, x, t0, rows, s1);
    if (one_block_probs != nullptr && rows == x.t) *one_block_probs = probs;
    const at::Tensor ob = at::matmul(probs.to(qg.scalar_type()), v.narrow(2, 0, s1));
    // (B, Hkv, rows*G, D) -> (B, rows, Hkv, G, D)
    out.narrow(1, t0, rows).copy_(ob.view({x.b, x.hkv, rows, x.g, x.d}).permute({0, 2, 1, 3, 4}));
  }
  return out.view({x.b, x.t, x.h * x.d});  // (B, T, H*D)
}

class BlockedAttentionFunction : public torch::autograd::Function<BlockedAttentionFunction> {
 public:
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& q, const at::Tensor& k,
                            const at::Tensor& v, const at::Tensor& blocked, int64_t offset,
                            bool causal_only, int64_t max_block_elements) {
    const Geometry x = GeometryOf(q, k, max_block_elements);
    const AttentionMask mask{blocked, offset, causal_only};
    ctx->save_for_backward({q, k, v});
    ctx->saved_data["blocked"] = blocked;
    ctx->saved_data["offset"] = offset;
    ctx->saved_data["causal_only"] = causal_only;
    ctx->saved_data["max_block_elements"] = max_block_elements;
    at::Tensor probs;
    at::Tensor out = BlockedForward(GroupedScaledQueries(q, x), k, v, mask, x, &probs);
    if (probs.defined()) ctx->saved_data["probs"] = probs;
    return out;
  }

  // Per block, with P the recomputed probabilities and dO the output gradient:
  //   dV += P^T dO,  dS = softmax_backward(dO V^T, P),  dQs = dS K,  dK += dS^T Qs,
  // Qs the scaled queries, so dQ = dQs / sqrt(D).
  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    const variable_list saved = ctx->get_saved_variables();
    const at::Tensor &q = saved[0], &k = saved[1], &v = saved[2];
    const AttentionMask mask{ctx->saved_data["blocked"].toTensor(),
                             ctx->saved_data["offset"].toInt(),
                             ctx->saved_data["causal_only"].toBool()};
    const Geometry x = GeometryOf(q, k, ctx->saved_data["max_block_elements"].toInt());
    const bool need_q = ctx->needs_input_grad(0), need_k = ctx->needs_input_grad(1),
               need_v = ctx->needs_input_grad(2);
    const at::Tensor qg = GroupedScaledQueries(q, x);  // (B, Hkv, T, G, D)
    const at::Tensor grad = grad_outputs[0]
                                .reshape({x.b, x.t, x.hkv, x.g, x.d})
                                .permute({0, 2, 1, 3, 4})
                                .contiguous();  // (B, Hkv, T, G, D)
    at::Tensor dq = need_q ? at::empty_like(qg) : at::Tensor();     // (B, Hkv, T, G, D)
    at::Tensor dk = need_k ? at::zeros_like(k, at::MemoryFormat::Contiguous) : at::Tensor();
    at::Tensor dv = need_v ? at::zeros_like(v, at::MemoryFormat::Contiguous) : at::Tensor();
    const auto kept = ctx->saved_data.find("probs");  // one block: kept by the forward
    for (int64_t t0 = 0; t0 < x.t; t0 += x.rows) {
      // CPU backward runs on the thread that called backward(), where TrainStep's check lives.
      if (t0 > 0) PollForwardInterrupt();
      const int64_t rows = std::min(x.rows, x.t - t0);
      const int64_t s1 = mask.offset + t0 + rows;
      const at::Tensor qb = qg.narrow(2, t0, rows).reshape({x.b, x.hkv, rows * x.g, x.d});
      const at::Tensor kb = k.narrow(2, 0, s1), vb = v.narrow(2, 0, s1);  // (B, Hkv, s1, D)
      const at::Tensor gb = grad.narrow(2, t0, rows).reshape({x.b, x.hkv, rows * x.g, x.d});
      const at::Tensor probs = kept != ctx->saved_data.end()
                                   ? kept->second.toTensor()
                                   : BlockProbabilities(qb, kb, mask, x, t0, rows, s1);  // float32
      if (need_v) {
        dv.narrow(2, 0, s1).add_(at::matmul(probs.to(v.scalar_type()).transpose(2, 3), gb));
      }
      if (!need_q && !need_k) continue;
      at::Tensor dprobs = at::matmul(gb, vb.transpose(2, 3));  // (B, Hkv, rows*G, s1)
      if (dprobs.scalar_type() != at::kFloat) dprobs = dprobs.to(at::kFloat);
      const at::Tensor dscores =
          at::_softmax_backward_data(dprobs, probs, -1, at::kFloat).to(q.scalar_type());
      if (need_q) {
        dq.narrow(2, t0, rows).copy_(
            at::matmul(dscores, kb).view({x.b, x.hkv, rows, x.g, x.d}));
      }
      if (need_k) dk.narrow(2, 0, s1).add_(at::matmul(dscores.transpose(2, 3), qb));
    }
    if (need_q) {
      dq = dq.permute({0, 2, 1, 3, 4})
               .mul(1.0 / std::sqrt(static_cast<double>(x.d)))
               .reshape({x.b, x.t, x.h, x.d});  // (B, T, H, D)
    }
    return {dq, dk, dv, at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

}  // namespace

int64_t AttentionBlockRows(int64_t b, int64_t h, int64_t t, int64_t s,
                           int64_t max_block_elements) {
  const int64_t per_row = std::max<int64_t>(1, b * h * s);
  const int64_t most = std::clamp<int64_t>(max_block_elements / per_row, 1, std::max<int64_t>(1, t));
  const int64_t blocks = (t + most - 1) / most;
  return (t + blocks - 1) / blocks;  // even blocks: no short tail
}

at::Tensor BlockedAttention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                            const AttentionMask& mask, int64_t max_block_elements) {
  TORCH_CHECK(q.dim() == 4 && k.dim() == 4 && v.dim() == 4 && k.sizes() == v.sizes(),
              "attention wants q (B, T, H, D), k and v (B, Hkv, S, D); got ", q.sizes(), ", ",
              k.sizes(), ", ", v.sizes());
  TORCH_CHECK(q.size(2) % k.size(1) == 0 && q.size(3) == k.size(3) &&
                  k.size(2) == mask.offset + q.size(1),
              "attention shapes disagree: q ", q.sizes(), ", k ", k.sizes(), ", offset ",
              mask.offset);
  const bool differentiable =
      at::GradMode::is_enabled() && (q.requires_grad() || k.requires_grad() || v.requires_grad());
  if (differentiable) {
    return BlockedAttentionFunction::apply(q, k, v, mask.blocked, mask.offset, mask.causal_only,
                                           max_block_elements);
  }
  const Geometry x = GeometryOf(q, k, max_block_elements);
  return BlockedForward(GroupedScaledQueries(q, x), k, v, mask, x);
}

}  // namespace arc
