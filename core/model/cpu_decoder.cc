#include "core/model/cpu_decoder.h"

#include <ATen/Parallel.h>
#include <c10/util/Exception.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <utility>

#include "core/model/cpu_kernels.h"
#include "core/model/interrupt.h"
#include "core/model/lora.h"

namespace arc {
namespace {

using cpu::Gemm;
using cpu::Grow;
using cpu::Linear;
using cpu::RmsNorm;
using cpu::Rope;
using cpu::Softmax;

bool IsCpuFloat(const at::Tensor& t) {
  return t.defined() && t.device().is_cpu() && t.scalar_type() == at::kFloat && t.is_contiguous();
}

// One query row against s cached keys and values (each (s, d) contiguous): the decoding step's
// attention, in plain loops (a BLAS call per head costs more than the few thousand multiply-adds).
// scores: scratch of s floats.
void AttendOne(const float* q, const float* keys, const float* values, int64_t s, int64_t d,
               float scale, float* scores, float* out) {
  for (int64_t j = 0; j < s; ++j) {
    const float* k = keys + j * d;
    float dot = 0;
#pragma omp simd reduction(+ : dot)
    for (int64_t i = 0; i < d; ++i) dot += q[i] * k[i];
    scores[j] = dot * scale;
  }
  Softmax(scores, s);
  std::fill(out, out + d, 0.0f);
  for (int64_t j = 0; j < s; ++j) {
    const float p = scores[j];
    const float* v = values + j * d;
#pragma omp simd
    for (int64_t i = 0; i < d; ++i) out[i] += p * v[i];
  }
}

// Query rows per block of a prefill's attention (see Extend).
constexpr int64_t kQueryBlockRows = 64;

}  // namespace

bool CpuDecoder::Supports(const LlamaForCausalLMImpl& model, const LoraAdapter* adapter) {
  if (!cpu::kHaveBlas) return false;
  if (!model.options().device.is_cpu() || model.options().dtype != at::kFloat) return false;
  if (adapter == nullptr) return true;
  if (adapter->training() && adapter->config().dropout > 0) return false;
  for (const at::Tensor& t : adapter->Parameters()) {
    if (!IsCpuFloat(t)) return false;
  }
  return true;
}

CpuDecoder::CpuDecoder(const LlamaForCausalLMImpl& model, const LoraAdapter* adapter,
                       const std::vector<int64_t>& capacities) {
  TORCH_CHECK(Supports(model, adapter), "CpuDecoder: unsupported model or adapter");
  const ModelConfig& c = model.config();
  layers_count_ = c.num_hidden_layers;
  hidden_ = c.hidden_size;
  inter_ = c.intermediate_size;
  heads_ = c.num_attention_heads;
  kv_heads_ = c.num_key_value_heads;
  head_dim_ = c.head_dim;
  vocab_ = c.vocab_size;
  eps_ = c.rms_norm_eps;
  if (adapter != nullptr) lora_scale_ = static_cast<float>(adapter->scale());

  auto data = [](const at::Tensor& t) {
    TORCH_CHECK(IsCpuFloat(t), "CpuDecoder: a weight is not a contiguous float32 CPU tensor");
    return t.data_ptr<float>();
  };
  const LlamaModelImpl& trunk = *model.model;
  embed_ = data(trunk.embed_tokens->weight);
  final_norm_ = data(trunk.norm->weight);
  for (int64_t l = 0; l < layers_count_; ++l) {
    const LlamaDecoderLayerImpl& block = *trunk.blocks()[l];
    Layer layer;
    layer.input_norm = data(block.input_layernorm->weight);
    layer.post_norm = data(block.post_attention_layernorm->weight);
    auto make = [&](const Projection& module, ProjectionKind kind) {
      ProjectionWeights p;
      p.w = data(module->weight);
      p.out = module->weight.size(0);
      p.in = module->weight.size(1);
      if (adapter != nullptr) {
        if (const LoraWeights* w = adapter->Find(l, kind)) {
          p.a = data(w->a);
          p.b = data(w->b);
          p.rank = w->a.size(0);
        }
      }
      return p;
    };
    const LlamaAttentionImpl& attn = *block.self_attn;
    const LlamaMlpImpl& mlp = *block.mlp;
    layer.q = make(attn.q_proj, ProjectionKind::kQ);
    layer.k = make(attn.k_proj, ProjectionKind::kK);
    layer.v = make(attn.v_proj, ProjectionKind::kV);
    layer.o = make(attn.o_proj, ProjectionKind::kO);
    layer.gate = make(mlp.gate_proj, ProjectionKind::kGate);
    layer.up = make(mlp.up_proj, ProjectionKind::kUp);
    layer.down = make(mlp.down_proj, ProjectionKind::kDown);
    layers_.push_back(layer);
  }

  int64_t max_capacity = 1;
  for (int64_t cap : capacities) {
    TORCH_CHECK(cap > 0, "CpuDecoder: a row's capacity must be positive, got ", cap);
    max_capacity = std::max(max_capacity, cap);
  }
  const LlamaModelImpl::RotaryTables tables = trunk.CpuRotaryTables(max_capacity);
  cos_ = tables.cos;  // (P, D/2)
  sin_ = tables.sin;  // (P, D/2)

  const int64_t per_slot = layers_count_ * 2 * kv_heads_ * head_dim_;
  for (int64_t cap : capacities) {
    Row row;
    row.capacity = cap;
    row.cache.reset(new float[per_slot * cap]);
    row.last.assign(hidden_, 0.0f);
    rows_.push_back(std::move(row));
  }
}

int64_t CpuDecoder::length(int64_t row) const { return rows_.at(row).length; }

int64_t CpuDecoder::cache_bytes() const {
  int64_t slots = 0;
  for (const Row& r : rows_) slots += r.capacity;
  return slots * layers_count_ * 2 * kv_heads_ * head_dim_ * static_cast<int64_t>(sizeof(float));
}

float* CpuDecoder::CacheAt(Row& row, int64_t layer, int kv, int64_t head) {
  return row.cache.get() + ((layer * 2 + kv) * kv_heads_ + head) * row.capacity * head_dim_;
}

void CpuDecoder::Project(const ProjectionWeights& p, const float* x, int64_t n, float* y,
                         bool accumulate) {
  Linear(n, p.out, p.in, 1.0f, x, p.w, accumulate ? 1.0f : 0.0f, y);
  if (p.a == nullptr) return;
  Grow(lora_, n * p.rank);
  Linear(n, p.rank, p.in, 1.0f, x, p.a, 0.0f, lora_.data());          // (n, r)
  Linear(n, p.out, p.rank, lora_scale_, lora_.data(), p.b, 1.0f, y);  // (n, out)
}

at::Tensor CpuDecoder::Extend(const std::vector<std::vector<int64_t>>& tokens) {
  TORCH_CHECK(tokens.size() == rows_.size(), "CpuDecoder: ", tokens.size(), " token lists for ",
              rows_.size(), " rows");
  const int64_t c = hidden_, d = head_dim_, h = heads_, hkv = kv_heads_, g = h / hkv;
  // Packed layout: the new tokens of row 0, then row 1, ...; offset[r] is row r's first.
  std::vector<int64_t> offset(rows_.size() + 1, 0), position;
  for (size_t r = 0; r < rows_.size(); ++r) {
    const int64_t t = static_cast<int64_t>(tokens[r].size());
    TORCH_CHECK(rows_[r].length + t <= rows_[r].capacity, "CpuDecoder: row ", r, " holds ",
                rows_[r].length, " tokens, ", t, " more exceed its capacity ", rows_[r].capacity);
    for (int64_t i = 0; i < t; ++i) {
      TORCH_CHECK(tokens[r][i] >= 0 && tokens[r][i] < vocab_, "CpuDecoder: token ", tokens[r][i],
                  " is outside the vocabulary [0, ", vocab_, ")");
      position.push_back(rows_[r].length + i);
    }
    offset[r + 1] = offset[r] + t;
  }
  const int64_t n = offset.back();
  if (n > 0) {
    Grow(x_, n * c);
    Grow(h_, n * c);
    Grow(q_, n * h * d);
    Grow(k_, n * hkv * d);
    Grow(v_, n * hkv * d);
    Grow(att_, n * h * d);
    Grow(gate_, n * inter_);
    Grow(up_, n * inter_);
    for (size_t r = 0; r < rows_.size(); ++r) {
      for (size_t i = 0; i < tokens[r].size(); ++i) {
        std::memcpy(x_.data() + (offset[r] + i) * c, embed_ + tokens[r][i] * c, c * sizeof(float));
      }
    }
    const float scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(d)));
    for (int64_t l = 0; l < layers_count_; ++l) {
      PollForwardInterrupt();
      const Layer& layer = layers_[l];
      // Attention: x += o(attention(rope(q), rope(k), v)) of RMSNorm(x).
      RmsNorm(x_.data(), n, c, layer.input_norm, eps_, h_.data());
      Project(layer.q, h_.data(), n, q_.data(), false);
      Project(layer.k, h_.data(), n, k_.data(), false);
      Project(layer.v, h_.data(), n, v_.data(), false);
      Rope(q_.data(), n, h, d, position.data(), cos_.data_ptr<float>(), sin_.data_ptr<float>());
      Rope(k_.data(), n, hkv, d, position.data(), cos_.data_ptr<float>(), sin_.data_ptr<float>());
      for (size_t r = 0; r < rows_.size(); ++r) {
        Row& row = rows_[r];
        for (int64_t i = offset[r]; i < offset[r + 1]; ++i) {
          const int64_t slot = row.length + (i - offset[r]);
          for (int64_t head = 0; head < hkv; ++head) {
            std::memcpy(CacheAt(row, l, 0, head) + slot * d, k_.data() + (i * hkv + head) * d,
                        d * sizeof(float));
            std::memcpy(CacheAt(row, l, 1, head) + slot * d, v_.data() + (i * hkv + head) * d,
                        d * sizeof(float));
          }
        }
      }
      // One task per (row, query head): scores against the row's cache, causal softmax, mix of V.
      const int64_t tasks = static_cast<int64_t>(rows_.size()) * h;
      at::parallel_for(0, tasks, 1, [&](int64_t begin, int64_t end) {
        std::vector<float> scores;
        for (int64_t task = begin; task < end; ++task) {
          const int64_t r = task / h, head = task % h;
          Row& row = rows_[r];
          const int64_t t = offset[r + 1] - offset[r];
          if (t == 0) continue;
          const int64_t s = row.length + t;
          const float* q = q_.data() + (offset[r] * h + head) * d;
          const float* keys = CacheAt(row, l, 0, head / g);
          const float* values = CacheAt(row, l, 1, head / g);
          float* out = att_.data() + (offset[r] * h + head) * d;
          if (t == 1) {
            Grow(scores, s);
            AttendOne(q, keys, values, s, d, scale, scores.data(), out);
            continue;
          }
          // Blocks of query rows, each against the keys up to its last row's slot: the causal
          // upper triangle beyond a block is never computed (about half the work of a prefill).
          Grow(scores, std::min(t, kQueryBlockRows) * s);
          for (int64_t i0 = 0; i0 < t; i0 += kQueryBlockRows) {
            const int64_t rows = std::min(kQueryBlockRows, t - i0);
            const int64_t keys_seen = row.length + i0 + rows;  // slots [0, keys_seen)
            Gemm(false, true, rows, keys_seen, d, scale, q + i0 * h * d, h * d, keys, d, 0.0f,
                 scores.data(), keys_seen);  // (rows, keys_seen)
            for (int64_t i = 0; i < rows; ++i) {
              float* p = scores.data() + i * keys_seen;
              const int64_t visible = row.length + i0 + i + 1;  // causal: slots [0, visible)
              Softmax(p, visible);
              std::fill(p + visible, p + keys_seen, 0.0f);
            }
            Gemm(false, false, rows, d, keys_seen, 1.0f, scores.data(), keys_seen, values, d, 0.0f,
                 out + i0 * h * d, h * d);  // (rows, D)
          }
        }
      });
      Project(layer.o, att_.data(), n, x_.data(), /*accumulate=*/true);
      // MLP: x += down(silu(gate(h)) * up(h)) of RMSNorm(x).
      RmsNorm(x_.data(), n, c, layer.post_norm, eps_, h_.data());
      Project(layer.gate, h_.data(), n, gate_.data(), false);
      Project(layer.up, h_.data(), n, up_.data(), false);
      cpu::Swiglu(gate_.data(), up_.data(), n * inter_, gate_.data());
      Project(layer.down, gate_.data(), n, x_.data(), /*accumulate=*/true);
    }
    for (size_t r = 0; r < rows_.size(); ++r) {
      rows_[r].length += offset[r + 1] - offset[r];
      if (offset[r + 1] > offset[r]) {
        RmsNorm(x_.data() + (offset[r + 1] - 1) * c, 1, c, final_norm_, eps_, rows_[r].last.data());
      }
    }
  }
  at::Tensor out = at::empty({rows(), c}, at::kFloat);  // (rows, C)
  float* data = out.data_ptr<float>();
  for (size_t r = 0; r < rows_.size(); ++r) {
    std::memcpy(data + r * c, rows_[r].last.data(), c * sizeof(float));
  }
  return out;
}

void CpuDecoder::KeepRows(const std::vector<int64_t>& keep) {
  std::vector<Row> kept;
  int64_t previous = -1;
  for (int64_t r : keep) {
    TORCH_CHECK(r > previous && r < rows(),
                "CpuDecoder: KeepRows wants strictly increasing rows "
                "below ",
                rows());
    kept.push_back(std::move(rows_[r]));
    previous = r;
  }
  rows_ = std::move(kept);
}

void CpuDecoder::CopyPrefix(int64_t from, int64_t to, int64_t tokens) {
  TORCH_CHECK(from >= 0 && from < rows() && to >= 0 && to < rows() && from != to,
              "CpuDecoder: CopyPrefix wants two different rows below ", rows());
  Row& src = rows_[from];
  Row& dst = rows_[to];
  TORCH_CHECK(dst.length == 0, "CpuDecoder: CopyPrefix into row ", to, ", which holds ", dst.length,
              " tokens");
  TORCH_CHECK(tokens >= 0 && tokens <= src.length && tokens <= dst.capacity,
              "CpuDecoder: CopyPrefix of ", tokens, " tokens from a row of ", src.length,
              " into one of capacity ", dst.capacity);
  for (int64_t l = 0; l < layers_count_; ++l) {
    for (int kv = 0; kv < 2; ++kv) {
      for (int64_t head = 0; head < kv_heads_; ++head) {
        std::memcpy(CacheAt(dst, l, kv, head), CacheAt(src, l, kv, head),
                    tokens * head_dim_ * sizeof(float));
      }
    }
  }
  dst.length = tokens;
}

}  // namespace arc
