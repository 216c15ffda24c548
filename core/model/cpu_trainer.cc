#include "core/model/cpu_trainer.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <c10/util/Exception.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <memory>
#include <utility>
#include <vector>

#include "core/model/cpu_decoder.h"
#include "core/model/cpu_kernels.h"
#include "core/model/interrupt.h"
#include "core/model/llama.h"
#include "core/model/lora.h"
#include "core/model/training.h"

namespace arc {
namespace {

using cpu::Gemm;
using cpu::Grow;
using cpu::Linear;
using cpu::RmsNorm;
using cpu::RmsNormBackward;
using cpu::Rope;
using cpu::Swiglu;
using cpu::SwigluBackward;

// Query rows per block of attention, forward and backward.
constexpr int64_t kQueryBlockRows = 64;

// The projections of a block, in the order the forward meets them.
constexpr std::array<ProjectionKind, 7> kBlockKinds = {
    ProjectionKind::kQ,    ProjectionKind::kK,  ProjectionKind::kV,   ProjectionKind::kO,
    ProjectionKind::kGate, ProjectionKind::kUp, ProjectionKind::kDown};

// A frozen projection W (out, in) and, when the adapter targets it, its A (r, in) and B (out, r).
struct FrozenProjection {
  const float* w = nullptr;
  int64_t out = 0, in = 0, rank = 0;
  at::Tensor a, b;  // undefined when not targeted
};

const float* Data(const at::Tensor& t) {
  TORCH_CHECK(
      t.defined() && t.device().is_cpu() && t.scalar_type() == at::kFloat && t.is_contiguous(),
      "CpuLoraTrainer: a weight is not a contiguous float32 CPU tensor");
  return t.data_ptr<float>();
}

// The gradient buffer of an adapter tensor, created as zeros when the last step dropped it.
float* GradOf(const at::Tensor& p) {
  if (!p.grad().defined()) p.mutable_grad() = at::zeros_like(p, at::MemoryFormat::Contiguous);
  TORCH_CHECK(p.grad().is_contiguous(), "CpuLoraTrainer: a gradient is not contiguous");
  return p.grad().data_ptr<float>();
}

}  // namespace

struct CpuLoraTrainer::Impl {
  struct Layer {
    const float* input_norm = nullptr;
    const float* post_norm = nullptr;
    std::array<FrozenProjection, 7> proj;  // indexed like kBlockKinds (== ProjectionKind values)
  };
  // What the forward keeps for the backward, per layer; n packed tokens.
  struct Saved {
    std::vector<float> x_in;               // (n, C) the block's input
    std::vector<float> inv1;               // (n) RMSNorm 1/rms of x_in
    std::vector<float> q;                  // (n, H, D) rotated
    std::vector<float> k;                  // (n, Hkv, D) rotated
    std::vector<float> v;                  // (n, Hkv, D)
    std::vector<float> att;                // (n, H, D) attention output
    std::vector<float> lse;                // (n, H) log-sum-exp of each query row's scores
    std::vector<float> x_mid;              // (n, C) after the attention residual
    std::vector<float> inv2;               // (n)
    std::vector<float> gate;               // (n, F) before silu
    std::vector<float> up;                 // (n, F)
    std::array<std::vector<float>, 7> xa;  // (n, r) x A^T of each targeted projection
  };

  int64_t layers_count, hidden, inter, heads, kv_heads, head_dim, vocab;
  double eps;
  float lora_scale;
  const float* embed;
  const float* final_norm;
  FrozenProjection lm_head;
  std::vector<Layer> layers;
  const LlamaModelImpl* trunk;
  at::Tensor cos, sin;  // (P, D/2) rotary tables, grown to the longest row seen
  std::vector<Saved> saved;
  // Work buffers, grown on demand and reused across steps.
  std::vector<float> x_final, h, act, d_up, dx, dh, dq, dk, dv, d_att, dxa;
  std::vector<float> picked, picked_inv, normed, xa_head, logits, dnormed, dpicked;
  std::vector<int64_t> position;  // (n) each packed token's position in its row

  void EnsureTables(int64_t length) {
    if (cos.defined() && cos.size(0) >= length) return;
    LlamaModelImpl::RotaryTables tables = trunk->CpuRotaryTables(length);
    cos = std::move(tables.cos);
    sin = std::move(tables.sin);
  }

  // y (n, out) = x W^T [+ scale (x A^T) B^T] [+ y]; keeps x A^T in xa for the backward.
  void Project(const FrozenProjection& p, const float* x, int64_t n, float* y, bool accumulate,
               std::vector<float>& xa) {
    Linear(n, p.out, p.in, 1.0f, x, p.w, accumulate ? 1.0f : 0.0f, y);
    if (p.rank == 0) return;
    Grow(xa, n * p.rank);
    Linear(n, p.rank, p.in, 1.0f, x, Data(p.a), 0.0f, xa.data());         // (n, r)
    Linear(n, p.out, p.rank, lora_scale, xa.data(), Data(p.b), 1.0f, y);  // (n, out)
  }

  // dx (n, in) [+]= dy W [+ scale (dy B) A]; adds the A and B gradients, given the forward's input
  // x (n, in) and its x A^T.
  void ProjectBackward(const FrozenProjection& p, const float* x, const float* xa, const float* dy,
                       int64_t n, float* dxo, bool accumulate) {
    Gemm(false, false, n, p.in, p.out, 1.0f, dy, p.out, p.w, p.in, accumulate ? 1.0f : 0.0f, dxo,
         p.in);
    if (p.rank == 0) return;
    const int64_t r = p.rank;
    Grow(dxa, n * r);
    Gemm(false, false, n, r, p.out, 1.0f, dy, p.out, Data(p.b), r, 0.0f, dxa.data(), r);  // (n, r)
    // dB (out, r) += scale dy^T (x A^T); dA (r, in) += scale (dy B)^T x.
    Gemm(true, false, p.out, r, n, lora_scale, dy, p.out, xa, r, 1.0f, GradOf(p.b), r);
    Gemm(true, false, r, p.in, n, lora_scale, dxa.data(), r, x, p.in, 1.0f, GradOf(p.a), p.in);
    Gemm(false, false, n, p.in, r, lora_scale, dxa.data(), r, Data(p.a), p.in, 1.0f, dxo, p.in);
  }

  void AttentionForward(Saved& s, const std::vector<int64_t>& offset);
  void AttentionBackward(const Saved& s, const std::vector<int64_t>& offset);
  double Run(const TrainingBatch& batch, double grad_scale);
};

void CpuLoraTrainer::Impl::AttentionForward(Saved& s, const std::vector<int64_t>& offset) {
  const int64_t d = head_dim, nh = heads, hkv = kv_heads, g = nh / hkv;
  const float scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(d)));
  const int64_t rows_count = static_cast<int64_t>(offset.size()) - 1;
  at::parallel_for(0, rows_count * nh, 1, [&](int64_t begin, int64_t end) {
    std::vector<float> scores;
    for (int64_t task = begin; task < end; ++task) {
      const int64_t r = task / nh, head = task % nh, kvh = head / g;
      const int64_t t = offset[r + 1] - offset[r];
      const float* q = s.q.data() + (offset[r] * nh + head) * d;
      const float* keys = s.k.data() + (offset[r] * hkv + kvh) * d;
      const float* values = s.v.data() + (offset[r] * hkv + kvh) * d;
      float* out = s.att.data() + (offset[r] * nh + head) * d;
      float* lse = s.lse.data() + offset[r] * nh + head;
      Grow(scores, std::min(t, kQueryBlockRows) * t);
      // Blocks of query rows, each against the keys up to its last row: the causal upper triangle
      // beyond a block is never computed.
      for (int64_t i0 = 0; i0 < t; i0 += kQueryBlockRows) {
        const int64_t rows = std::min(kQueryBlockRows, t - i0), seen = i0 + rows;
        Gemm(false, true, rows, seen, d, scale, q + i0 * nh * d, nh * d, keys, hkv * d, 0.0f,
             scores.data(), seen);  // (rows, seen)
        for (int64_t i = 0; i < rows; ++i) {
          float* p = scores.data() + i * seen;
          const int64_t visible = i0 + i + 1;
          lse[(i0 + i) * nh] = cpu::Softmax(p, visible);
          std::fill(p + visible, p + seen, 0.0f);
        }
        Gemm(false, false, rows, d, seen, 1.0f, scores.data(), seen, values, hkv * d, 0.0f,
             out + i0 * nh * d, nh * d);  // (rows, D)
      }
    }
  });
}

// With P the recomputed probabilities and dO the output gradient, per block of query rows:
//   dV += P^T dO,  dS = P * (dO V^T - rowsum(dO * O)),  dQ = scale dS K,  dK += scale dS^T Q.
// Tasks are (row, KV head) pairs, so the query heads that share a KV head add into its dK and dV
// on one thread.
void CpuLoraTrainer::Impl::AttentionBackward(const Saved& s, const std::vector<int64_t>& offset) {
  const int64_t d = head_dim, nh = heads, hkv = kv_heads, g = nh / hkv;
  const float scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(d)));
  const int64_t rows_count = static_cast<int64_t>(offset.size()) - 1;
  at::parallel_for(0, rows_count * hkv, 1, [&](int64_t begin, int64_t end) {
    std::vector<float> probs, dprobs;
    for (int64_t task = begin; task < end; ++task) {
      const int64_t r = task / hkv, kvh = task % hkv;
      const int64_t t = offset[r + 1] - offset[r];
      const float* keys = s.k.data() + (offset[r] * hkv + kvh) * d;
      const float* values = s.v.data() + (offset[r] * hkv + kvh) * d;
      float* dkeys = dk.data() + (offset[r] * hkv + kvh) * d;
      float* dvalues = dv.data() + (offset[r] * hkv + kvh) * d;
      for (int64_t i = 0; i < t; ++i) {
        std::fill(dkeys + i * hkv * d, dkeys + i * hkv * d + d, 0.0f);
        std::fill(dvalues + i * hkv * d, dvalues + i * hkv * d + d, 0.0f);
      }
      Grow(probs, std::min(t, kQueryBlockRows) * t);
      Grow(dprobs, std::min(t, kQueryBlockRows) * t);
      for (int64_t head = kvh * g; head < (kvh + 1) * g; ++head) {
        const float* q = s.q.data() + (offset[r] * nh + head) * d;
        const float* o = s.att.data() + (offset[r] * nh + head) * d;
        const float* grad = d_att.data() + (offset[r] * nh + head) * d;
        const float* lse = s.lse.data() + offset[r] * nh + head;
        float* dquery = dq.data() + (offset[r] * nh + head) * d;
        for (int64_t i0 = 0; i0 < t; i0 += kQueryBlockRows) {
          const int64_t rows = std::min(kQueryBlockRows, t - i0), seen = i0 + rows;
          Gemm(false, true, rows, seen, d, scale, q + i0 * nh * d, nh * d, keys, hkv * d, 0.0f,
               probs.data(), seen);
          Gemm(false, true, rows, seen, d, 1.0f, grad + i0 * nh * d, nh * d, values, hkv * d, 0.0f,
               dprobs.data(), seen);  // dO V^T
          for (int64_t i = 0; i < rows; ++i) {
            const float* oi = o + (i0 + i) * nh * d;
            const float* gi = grad + (i0 + i) * nh * d;
            float dot = 0;
#pragma omp simd reduction(+ : dot)
            for (int64_t j = 0; j < d; ++j) dot += oi[j] * gi[j];
            float* p = probs.data() + i * seen;
            float* dp = dprobs.data() + i * seen;
            const int64_t visible = i0 + i + 1;
            cpu::AttentionGradientRow(p, dp, visible, lse[(i0 + i) * nh], dot);
            std::fill(p + visible, p + seen, 0.0f);
            std::fill(dp + visible, dp + seen, 0.0f);
          }
          Gemm(true, false, seen, d, rows, 1.0f, probs.data(), seen, grad + i0 * nh * d, nh * d,
               1.0f, dvalues, hkv * d);  // dV += P^T dO
          Gemm(false, false, rows, d, seen, scale, dprobs.data(), seen, keys, hkv * d, 0.0f,
               dquery + i0 * nh * d, nh * d);  // dQ = scale dS K
          Gemm(true, false, seen, d, rows, scale, dprobs.data(), seen, q + i0 * nh * d, nh * d,
               1.0f, dkeys, hkv * d);  // dK += scale dS^T Q
        }
      }
    }
  });
}

double CpuLoraTrainer::Impl::Run(const TrainingBatch& batch, double grad_scale) {
  const int64_t c = hidden, hd = heads * head_dim, kvd = kv_heads * head_dim, f = inter;
  const int64_t b = batch.tokens.size(0), t_pad = batch.tokens.size(1);
  TORCH_CHECK(static_cast<int64_t>(batch.lengths.size()) == b, "CpuLoraTrainer: the batch has ", b,
              " rows but ", batch.lengths.size(), " lengths");
  std::vector<int64_t> offset(b + 1, 0);
  for (int64_t r = 0; r < b; ++r) {
    TORCH_CHECK(batch.lengths[r] > 0 && batch.lengths[r] <= t_pad, "CpuLoraTrainer: row ", r,
                " has length ", batch.lengths[r], " outside [1, ", t_pad, "]");
    offset[r + 1] = offset[r] + batch.lengths[r];
  }
  const int64_t n = offset.back();
  EnsureTables(t_pad);
  position.resize(n);
  for (int64_t r = 0; r < b; ++r) {
    for (int64_t i = 0; i < batch.lengths[r]; ++i) position[offset[r] + i] = i;
  }

  // Embeddings into layer 0's input.
  for (Saved& s : saved) {
    Grow(s.x_in, n * c);
    Grow(s.inv1, n);
    Grow(s.q, n * hd);
    Grow(s.k, n * kvd);
    Grow(s.v, n * kvd);
    Grow(s.att, n * hd);
    Grow(s.lse, n * heads);
    Grow(s.x_mid, n * c);
    Grow(s.inv2, n);
    Grow(s.gate, n * f);
    Grow(s.up, n * f);
  }
  Grow(x_final, n * c);
  Grow(h, n * c);
  Grow(act, n * f);
  const at::Tensor tokens = batch.tokens.contiguous();
  const int64_t* ids = tokens.data_ptr<int64_t>();
  for (int64_t r = 0; r < b; ++r) {
    for (int64_t i = 0; i < batch.lengths[r]; ++i) {
      const int64_t id = ids[r * t_pad + i];
      TORCH_CHECK(id >= 0 && id < vocab, "CpuLoraTrainer: token ", id,
                  " is outside the vocabulary [0, ", vocab, ")");
      std::memcpy(saved[0].x_in.data() + (offset[r] + i) * c, embed + id * c, c * sizeof(float));
    }
  }

  // Forward.
  const float* cos_table = cos.data_ptr<float>();
  const float* sin_table = sin.data_ptr<float>();
  for (int64_t l = 0; l < layers_count; ++l) {
    PollForwardInterrupt();
    const Layer& layer = layers[l];
    Saved& s = saved[l];
    auto& xa = s.xa;
    RmsNorm(s.x_in.data(), n, c, layer.input_norm, eps, h.data(), s.inv1.data());
    Project(layer.proj[0], h.data(), n, s.q.data(), false, xa[0]);
    Project(layer.proj[1], h.data(), n, s.k.data(), false, xa[1]);
    Project(layer.proj[2], h.data(), n, s.v.data(), false, xa[2]);
    Rope(s.q.data(), n, heads, head_dim, position.data(), cos_table, sin_table);
    Rope(s.k.data(), n, kv_heads, head_dim, position.data(), cos_table, sin_table);
    AttentionForward(s, offset);
    std::memcpy(s.x_mid.data(), s.x_in.data(), n * c * sizeof(float));
    Project(layer.proj[3], s.att.data(), n, s.x_mid.data(), true, xa[3]);
    RmsNorm(s.x_mid.data(), n, c, layer.post_norm, eps, h.data(), s.inv2.data());
    Project(layer.proj[4], h.data(), n, s.gate.data(), false, xa[4]);
    Project(layer.proj[5], h.data(), n, s.up.data(), false, xa[5]);
    Swiglu(s.gate.data(), s.up.data(), n * f, act.data());
    float* out = l + 1 < layers_count ? saved[l + 1].x_in.data() : x_final.data();
    std::memcpy(out, s.x_mid.data(), n * c * sizeof(float));
    Project(layer.proj[6], act.data(), n, out, true, xa[6]);
  }

  // The loss positions: final norm, LM head, cross-entropy.
  const int64_t m = batch.targets.size(0);
  TORCH_CHECK(m > 0, "CpuLoraTrainer: the batch has no target token");
  const at::Tensor positions = batch.positions.contiguous(), targets = batch.targets.contiguous();
  const int64_t* pos = positions.data_ptr<int64_t>();
  const int64_t* target = targets.data_ptr<int64_t>();
  std::vector<int64_t> packed(m);
  Grow(picked, m * c);
  Grow(picked_inv, m);
  Grow(normed, m * c);
  Grow(logits, m * vocab);
  for (int64_t i = 0; i < m; ++i) {
    const int64_t r = pos[i] / t_pad, t = pos[i] % t_pad;
    TORCH_CHECK(r < b && t < batch.lengths[r], "CpuLoraTrainer: target ", i,
                " lies outside its row");
    TORCH_CHECK(target[i] >= 0 && target[i] < vocab, "CpuLoraTrainer: target token ", target[i],
                " is outside the vocabulary [0, ", vocab, ")");
    packed[i] = offset[r] + t;
    std::memcpy(picked.data() + i * c, x_final.data() + packed[i] * c, c * sizeof(float));
  }
  RmsNorm(picked.data(), m, c, final_norm, eps, normed.data(), picked_inv.data());
  Project(lm_head, normed.data(), m, logits.data(), false, xa_head);
  double loss = 0;
  const float dscale = static_cast<float>(grad_scale / static_cast<double>(m));
  for (int64_t i = 0; i < m; ++i) {
    float* li = logits.data() + i * vocab;
    const float picked_logit = li[target[i]];
    loss += cpu::Softmax(li, vocab) - picked_logit;  // li now holds the probabilities
    li[target[i]] -= 1.0f;
    for (int64_t j = 0; j < vocab; ++j) li[j] *= dscale;  // d loss * grad_scale / d logits
  }
  loss /= static_cast<double>(m);

  // Backward.
  Grow(dnormed, m * c);
  Grow(dpicked, m * c);
  Grow(dx, n * c);
  Grow(dh, n * c);
  Grow(d_up, n * f);
  Grow(d_att, n * hd);
  Grow(dq, n * hd);
  Grow(dk, n * kvd);
  Grow(dv, n * kvd);
  ProjectBackward(lm_head, normed.data(), xa_head.data(), logits.data(), m, dnormed.data(), false);
  std::fill(dpicked.begin(), dpicked.begin() + m * c, 0.0f);
  RmsNormBackward(picked.data(), picked_inv.data(), m, c, final_norm, dnormed.data(),
                  dpicked.data());
  std::fill(dx.begin(), dx.begin() + n * c, 0.0f);
  for (int64_t i = 0; i < m; ++i) {
    float* row = dx.data() + packed[i] * c;
    const float* src = dpicked.data() + i * c;
    for (int64_t j = 0; j < c; ++j) row[j] += src[j];
  }
  for (int64_t l = layers_count - 1; l >= 0; --l) {
    PollForwardInterrupt();
    const Layer& layer = layers[l];
    const Saved& s = saved[l];
    const auto& xa = s.xa;
    // MLP: out = x_mid + down(silu(gate) * up) of h2 = RMSNorm(x_mid).
    RmsNorm(s.x_mid.data(), n, c, layer.post_norm, eps, h.data());
    Swiglu(s.gate.data(), s.up.data(), n * f, act.data());
    ProjectBackward(layer.proj[6], act.data(), xa[6].data(), dx.data(), n, d_up.data(), false);
    // d_up holds d(act); split it into d(gate) (into act, no longer needed) and d(up).
    SwigluBackward(s.gate.data(), s.up.data(), n * f, d_up.data(), act.data());
    ProjectBackward(layer.proj[4], h.data(), xa[4].data(), act.data(), n, dh.data(), false);
    ProjectBackward(layer.proj[5], h.data(), xa[5].data(), d_up.data(), n, dh.data(), true);
    RmsNormBackward(s.x_mid.data(), s.inv2.data(), n, c, layer.post_norm, dh.data(), dx.data());
    // Attention: x_mid = x_in + o(attention(rope(q), rope(k), v)) of h1 = RMSNorm(x_in).
    ProjectBackward(layer.proj[3], s.att.data(), xa[3].data(), dx.data(), n, d_att.data(), false);
    AttentionBackward(s, offset);
    Rope(dq.data(), n, heads, head_dim, position.data(), cos_table, sin_table, /*inverse=*/true);
    Rope(dk.data(), n, kv_heads, head_dim, position.data(), cos_table, sin_table, true);
    RmsNorm(s.x_in.data(), n, c, layer.input_norm, eps, h.data());
    ProjectBackward(layer.proj[0], h.data(), xa[0].data(), dq.data(), n, dh.data(), false);
    ProjectBackward(layer.proj[1], h.data(), xa[1].data(), dk.data(), n, dh.data(), true);
    ProjectBackward(layer.proj[2], h.data(), xa[2].data(), dv.data(), n, dh.data(), true);
    RmsNormBackward(s.x_in.data(), s.inv1.data(), n, c, layer.input_norm, dh.data(), dx.data());
  }
  return loss;
}

bool CpuLoraTrainer::Supports(const LlamaForCausalLMImpl& model, const LoraAdapter* adapter) {
  return adapter != nullptr && CpuDecoder::Supports(model, adapter) &&
         adapter->config().dropout == 0;
}

CpuLoraTrainer::CpuLoraTrainer(const LlamaForCausalLMImpl& model, const LoraAdapter& adapter)
    : impl_(std::make_unique<Impl>()) {
  TORCH_CHECK(Supports(model, &adapter), "CpuLoraTrainer: unsupported model or adapter");
  Impl& x = *impl_;
  const ModelConfig& c = model.config();
  x.layers_count = c.num_hidden_layers;
  x.hidden = c.hidden_size;
  x.inter = c.intermediate_size;
  x.heads = c.num_attention_heads;
  x.kv_heads = c.num_key_value_heads;
  x.head_dim = c.head_dim;
  x.vocab = c.vocab_size;
  x.eps = c.rms_norm_eps;
  x.lora_scale = static_cast<float>(adapter.scale());
  const LlamaModelImpl& trunk = *model.model;
  x.embed = Data(trunk.embed_tokens->weight);
  x.final_norm = Data(trunk.norm->weight);
  x.trunk = &trunk;
  auto make = [&](const at::Tensor& weight, int64_t layer, ProjectionKind kind) {
    FrozenProjection p;
    p.w = Data(weight);
    p.out = weight.size(0);
    p.in = weight.size(1);
    if (const LoraWeights* w = adapter.Find(layer, kind)) {
      p.a = w->a;
      p.b = w->b;
      p.rank = w->a.size(0);
      Data(p.a);
      Data(p.b);
    }
    return p;
  };
  for (int64_t l = 0; l < x.layers_count; ++l) {
    const LlamaDecoderLayerImpl& block = *trunk.blocks()[l];
    const LlamaAttentionImpl& attn = *block.self_attn;
    const LlamaMlpImpl& mlp = *block.mlp;
    Impl::Layer layer;
    layer.input_norm = Data(block.input_layernorm->weight);
    layer.post_norm = Data(block.post_attention_layernorm->weight);
    const std::array<const at::Tensor*, 7> weights = {
        &attn.q_proj->weight,   &attn.k_proj->weight, &attn.v_proj->weight,  &attn.o_proj->weight,
        &mlp.gate_proj->weight, &mlp.up_proj->weight, &mlp.down_proj->weight};
    for (size_t i = 0; i < kBlockKinds.size(); ++i) {
      layer.proj[i] = make(*weights[i], l, kBlockKinds[i]);
    }
    x.layers.push_back(std::move(layer));
  }
  x.lm_head = make(model.lm_head ? model.lm_head->weight : trunk.embed_tokens->weight, 0,
                   ProjectionKind::kLmHead);
  x.saved.resize(x.layers_count);
}

CpuLoraTrainer::~CpuLoraTrainer() = default;

double CpuLoraTrainer::LossAndGradients(const TrainingBatch& batch, double grad_scale) {
  return impl_->Run(batch, grad_scale);
}

int64_t CpuLoraTrainer::saved_bytes() const {
  int64_t floats = 0;
  for (const Impl::Saved& s : impl_->saved) {
    for (const std::vector<float>* v :
         {&s.x_in, &s.inv1, &s.q, &s.k, &s.v, &s.att, &s.lse, &s.x_mid, &s.inv2, &s.gate, &s.up}) {
      floats += static_cast<int64_t>(v->size());
    }
    for (const std::vector<float>& v : s.xa) floats += static_cast<int64_t>(v.size());
  }
  return floats * static_cast<int64_t>(sizeof(float));
}

}  // namespace arc
