#include "core/model/llama.h"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>
#include <c10/util/Exception.h>
#include <torch/version.h>

#include <cmath>
#include <iterator>
#include <limits>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/data/enum_names.h"
#include "core/data/file_util.h"
#include "core/data/rng.h"
#include "core/data/status_macros.h"
#include "core/model/attention.h"
#include "core/model/interrupt.h"
#include "core/model/kv_cache.h"
#include "core/model/lora.h"
#include "core/model/tensor_io.h"
#include "nlohmann/json.hpp"

namespace arc {
namespace {

// W x plus the adapter's update when the adapter targets this projection.
at::Tensor Project(const Projection& proj, const at::Tensor& x, const LoraAdapter* adapter,
                   int64_t layer, ProjectionKind kind) {
  at::Tensor y = proj->forward(x);
  if (adapter != nullptr) {
    if (const LoraWeights* w = adapter->Find(layer, kind)) y = y + adapter->Delta(x, *w);
  }
  return y;
}

// Hugging Face rotate_half: (x1, x2) -> (-x2, x1) over the two halves of the last dimension.
at::Tensor RotateHalf(const at::Tensor& x) {
  const int64_t half = x.size(-1) / 2;
  return at::cat({x.narrow(-1, half, half).neg(), x.narrow(-1, 0, half)}, -1);
}

// x (B, T, h, D), cos/sin (B, T, 1, D).
at::Tensor ApplyRope(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin) {
  return x * cos + RotateHalf(x) * sin;  // (B, T, h, D)
}

// inv_freq[i] = theta^(-2i/D), then the Llama-3 rescaling: long wavelengths divided by `factor`,
// short ones kept, the band between interpolated. Computed in float32 with the same operations as
// transformers, so the angles agree with a Hugging Face run to the last bit as far as possible.
at::Tensor InverseFrequencies(const ModelConfig& c) {
  const int64_t d = c.head_dim;
  const at::Tensor exponent =
      at::arange(0, d, 2, at::kLong).to(at::kFloat) / static_cast<double>(d);
  at::Tensor inv_freq = at::pow(c.rope_theta, exponent).reciprocal();  // (D/2)
  if (!c.rope_scaling.has_value()) return inv_freq;
  const Llama3RopeScaling& s = *c.rope_scaling;
  const double old_len = static_cast<double>(s.original_max_position_embeddings);
  const double low_freq_wavelen = old_len / s.low_freq_factor;
  const double high_freq_wavelen = old_len / s.high_freq_factor;
  const at::Tensor wavelen = (2 * M_PI) / inv_freq;
  at::Tensor scaled = at::where(wavelen > low_freq_wavelen, inv_freq / s.factor, inv_freq);
  const at::Tensor smooth =
      (old_len / wavelen - s.low_freq_factor) / (s.high_freq_factor - s.low_freq_factor);
  const at::Tensor smoothed = (1 - smooth) * scaled / s.factor + smooth * scaled;
  const at::Tensor medium = (wavelen >= high_freq_wavelen).logical_and(wavelen <= low_freq_wavelen);
  return at::where(medium, smoothed, scaled);
}

bool IsNormWeight(const std::string& name) {
  return absl::EndsWith(name, "layernorm.weight") || name == "model.norm.weight";
}

}  // namespace

const char* ProjectionName(ProjectionKind kind) {
  // The module names of Hugging Face Llama checkpoints, which LoRA target lists also use.
  static constexpr EnumName<ProjectionKind> kNames[] = {
      {ProjectionKind::kQ, "q_proj"},       {ProjectionKind::kK, "k_proj"},
      {ProjectionKind::kV, "v_proj"},       {ProjectionKind::kO, "o_proj"},
      {ProjectionKind::kGate, "gate_proj"}, {ProjectionKind::kUp, "up_proj"},
      {ProjectionKind::kDown, "down_proj"}, {ProjectionKind::kLmHead, "lm_head"},
  };
  return NameOf(kNames, kind, "unknown");
}

// ---------------------------------------------------------------------------------------------
// Building blocks

ProjectionImpl::ProjectionImpl(int64_t in_features, int64_t out_features,
                               const at::TensorOptions& options) {
  weight = register_parameter("weight", at::empty({out_features, in_features}, options),
                              /*requires_grad=*/false);
}

at::Tensor ProjectionImpl::forward(const at::Tensor& x) const {
  return at::linear(x, weight);  // (..., in) -> (..., out)
}

RMSNormImpl::RMSNormImpl(int64_t dim, double eps, const at::TensorOptions& options) : eps_(eps) {
  weight = register_parameter("weight", at::ones({dim}, options), /*requires_grad=*/false);
}

at::Tensor RMSNormImpl::forward(const at::Tensor& x) const {
  const at::Tensor h = x.to(at::kFloat);  // (B, T, C) float32
  const at::Tensor inv_rms = at::rsqrt(h.pow(2).mean(-1, /*keepdim=*/true) + eps_);  // (B, T, 1)
  return weight * (h * inv_rms).to(x.scalar_type());                                 // (B, T, C)
}

EmbeddingImpl::EmbeddingImpl(int64_t vocab_size, int64_t dim, const at::TensorOptions& options) {
  weight = register_parameter("weight", at::empty({vocab_size, dim}, options),
                              /*requires_grad=*/false);
}

at::Tensor EmbeddingImpl::forward(const at::Tensor& tokens) const {
  return at::embedding(weight, tokens);  // (B, T) -> (B, T, C)
}

// ---------------------------------------------------------------------------------------------
// Attention

LlamaAttentionImpl::LlamaAttentionImpl(const ModelConfig& config, int64_t layer,
                                       const ModelOptions& options)
    : layer_(layer),
      num_heads_(config.num_attention_heads),
      num_kv_heads_(config.num_key_value_heads),
      head_dim_(config.head_dim),
      use_sdpa_(options.use_sdpa),
      block_elements_(options.attention_block_elements) {
  const at::TensorOptions t = options.tensor_options();
  const int64_t c = config.hidden_size;
  q_proj = register_module("q_proj", Projection(c, num_heads_ * head_dim_, t));
  k_proj = register_module("k_proj", Projection(c, num_kv_heads_ * head_dim_, t));
  v_proj = register_module("v_proj", Projection(c, num_kv_heads_ * head_dim_, t));
  o_proj = register_module("o_proj", Projection(num_heads_ * head_dim_, c, t));
}

at::Tensor LlamaAttentionImpl::forward(const at::Tensor& x, const AttentionContext& ctx,
                                       const LoraAdapter* adapter, KvCache* cache) const {
  const int64_t b = x.size(0), t = x.size(1);
  const int64_t h = num_heads_, hkv = num_kv_heads_, d = head_dim_, g = h / hkv;
  // (B, T, C) -> (B, T, H*D) -> (B, T, H, D); K and V with Hkv heads.
  at::Tensor q = Project(q_proj, x, adapter, layer_, ProjectionKind::kQ).view({b, t, h, d});
  at::Tensor k = Project(k_proj, x, adapter, layer_, ProjectionKind::kK).view({b, t, hkv, d});
  at::Tensor v = Project(v_proj, x, adapter, layer_, ProjectionKind::kV).view({b, t, hkv, d});
  q = ApplyRope(q, ctx.cos, ctx.sin);                                  // (B, T, H, D)
  k = ApplyRope(k, ctx.cos, ctx.sin);                                  // (B, T, Hkv, D)
  k = k.transpose(1, 2);                                               // (B, Hkv, T, D)
  v = v.transpose(1, 2);                                               // (B, Hkv, T, D)
  if (cache != nullptr) {
    std::tie(k, v) = cache->Append(layer_, k, v);  // (B, Hkv, S, D)
  } else {
    k = k.contiguous();  // the blocks below read slices of K and V along time
    v = v.contiguous();
  }
  const int64_t s = k.size(2);

  at::Tensor out;  // (B, T, H*D)
#if TORCH_VERSION_MAJOR >= 2
  if (use_sdpa_) {
    // SDPA wants as many K/V heads as query heads: repeat each KV head for its g query heads.
    const at::Tensor kh =
        k.unsqueeze(2).expand({b, hkv, g, s, d}).reshape({b, h, s, d});  // (B, H, S, D)
    const at::Tensor vh =
        v.unsqueeze(2).expand({b, hkv, g, s, d}).reshape({b, h, s, d});              // (B, H, S, D)
    out = at::scaled_dot_product_attention(q.transpose(1, 2), kh, vh, ctx.allowed);  // (B, H, T, D)
    out = out.transpose(1, 2).reshape({b, t, h * d});                                // (B, T, H*D)
  }
#else
  (void)s;
  (void)g;
#endif
  if (!out.defined()) {
    // Query blocks against the keys each block can see, probabilities recomputed in backward
    // (core/model/attention.h): memory of a few blocks instead of (B, H, T, S) per layer.
    out = BlockedAttention(q, k, v, AttentionMask{ctx.blocked, ctx.offset, ctx.causal_only},
                           block_elements_);  // (B, T, H*D)
  }
  return Project(o_proj, out, adapter, layer_, ProjectionKind::kO);  // (B, T, C)
}

// ---------------------------------------------------------------------------------------------
// MLP and block

LlamaMlpImpl::LlamaMlpImpl(const ModelConfig& config, int64_t layer, const ModelOptions& options)
    : layer_(layer) {
  const at::TensorOptions t = options.tensor_options();
  const int64_t c = config.hidden_size, i = config.intermediate_size;
  gate_proj = register_module("gate_proj", Projection(c, i, t));
  up_proj = register_module("up_proj", Projection(c, i, t));
  down_proj = register_module("down_proj", Projection(i, c, t));
}

at::Tensor LlamaMlpImpl::forward(const at::Tensor& x, const LoraAdapter* adapter) const {
  const at::Tensor gate =
      Project(gate_proj, x, adapter, layer_, ProjectionKind::kGate);                // (B, T, I)
  const at::Tensor up = Project(up_proj, x, adapter, layer_, ProjectionKind::kUp);  // (B, T, I)
  return Project(down_proj, at::silu(gate) * up, adapter, layer_,
                 ProjectionKind::kDown);  // (B, T, C)
}

LlamaDecoderLayerImpl::LlamaDecoderLayerImpl(const ModelConfig& config, int64_t layer,
                                             const ModelOptions& options) {
  const at::TensorOptions t = options.tensor_options();
  self_attn = register_module("self_attn", LlamaAttention(config, layer, options));
  mlp = register_module("mlp", LlamaMlp(config, layer, options));
  input_layernorm =
      register_module("input_layernorm", RMSNorm(config.hidden_size, config.rms_norm_eps, t));
  post_attention_layernorm = register_module("post_attention_layernorm",
                                             RMSNorm(config.hidden_size, config.rms_norm_eps, t));
}

at::Tensor LlamaDecoderLayerImpl::forward(const at::Tensor& x, const AttentionContext& ctx,
                                          const LoraAdapter* adapter, KvCache* cache) const {
  at::Tensor h =
      x + self_attn->forward(input_layernorm->forward(x), ctx, adapter, cache);  // (B, T, C)
  return h + mlp->forward(post_attention_layernorm->forward(h), adapter);        // (B, T, C)
}

// ---------------------------------------------------------------------------------------------
// Trunk

LlamaModelImpl::LlamaModelImpl(const ModelConfig& config, const ModelOptions& options)
    : config_(config), options_(options) {
  const at::TensorOptions t = options.tensor_options();
  embed_tokens =
      register_module("embed_tokens", Embedding(config.vocab_size, config.hidden_size, t));
  layers = register_module("layers", torch::nn::ModuleList());
  for (int64_t l = 0; l < config.num_hidden_layers; ++l) {
    auto block = std::make_shared<LlamaDecoderLayerImpl>(config, l, options);
    layers->push_back(block);
    blocks_.push_back(block);
  }
  norm = register_module("norm", RMSNorm(config.hidden_size, config.rms_norm_eps, t));
  inv_freq_ = InverseFrequencies(config).to(options.device);
}

LlamaModelImpl::RotaryTables LlamaModelImpl::CpuRotaryTables(int64_t positions) const {
  const at::Tensor angles =
      at::arange(positions, at::kLong).to(at::kFloat).unsqueeze(1) * inv_freq_.cpu();  // (P, D/2)
  return {angles.cos().contiguous(), angles.sin().contiguous()};
}

AttentionContext LlamaModelImpl::MakeContext(const at::Tensor& tokens,
                                             const at::Tensor& attention_mask,
                                             const KvCache* cache) const {
  const int64_t b = tokens.size(0), t = tokens.size(1);
  const at::Device device = tokens.device();
  const at::TensorOptions long_opts = at::TensorOptions().dtype(at::kLong).device(device);
  AttentionContext ctx;
  ctx.offset = cache != nullptr ? cache->length() : 0;
  const int64_t s = ctx.offset + t;

  // Positions: cumsum(mask) - 1 continues each sequence's own count; pads get 1 (as transformers
  // does; their outputs are never used).
  at::Tensor positions;  // (B, T) int64
  at::Tensor key_mask;   // (B, S) bool, undefined when every key is real
  if (attention_mask.defined()) {
    const at::Tensor m = attention_mask.to(long_opts);  // (B, T)
    positions = m.cumsum(1) - 1;
    if (cache != nullptr) positions = positions + cache->next_position().to(device).unsqueeze(1);
    positions = positions.masked_fill(m.eq(0), 1);
    key_mask = m.ne(0);
  } else {
    positions = at::arange(t, long_opts).unsqueeze(0).expand({b, t});
    if (cache != nullptr) positions = positions + cache->next_position().to(device).unsqueeze(1);
  }
  if (cache != nullptr && ctx.offset > 0) {
    const at::Tensor step =
        key_mask.defined() ? key_mask : at::ones({b, t}, long_opts.dtype(at::kBool));
    key_mask = at::cat({cache->key_mask().narrow(1, 0, ctx.offset).to(device), step}, 1);  // (B, S)
  }

  const at::Tensor freqs = positions.unsqueeze(-1).to(at::kFloat) * inv_freq_;  // (B, T, D/2)
  const at::Tensor angles = at::cat({freqs, freqs}, -1).unsqueeze(2);           // (B, T, 1, D)
  ctx.cos = angles.cos().to(options_.dtype);
  ctx.sin = angles.sin().to(options_.dtype);

  const at::Tensor query_slot = at::arange(ctx.offset, s, long_opts).unsqueeze(1);  // (T, 1)
  const at::Tensor key_slot = at::arange(s, long_opts).unsqueeze(0);                // (1, S)
  at::Tensor allowed = key_slot.le(query_slot).unsqueeze(0);                        // (1, T, S)
  if (key_mask.defined()) {
    allowed = allowed.logical_and(key_mask.unsqueeze(1));  // (B, T, S)
    // A pad query of a left-padded row sees no key at all; let it see everything instead so its
    // softmax stays finite (its output is never used, but a NaN would leak through 0 * NaN).
    allowed = allowed.logical_or(allowed.any(-1, /*keepdim=*/true).logical_not());
  }
  ctx.allowed = allowed.unsqueeze(1);  // (B or 1, 1, T, S)
  ctx.blocked = ctx.allowed.logical_not();
  ctx.causal_only = !key_mask.defined();
  return ctx;
}

at::Tensor LlamaModelImpl::forward(const at::Tensor& tokens, const at::Tensor& attention_mask,
                                   const LoraAdapter* adapter, KvCache* cache) const {
  TORCH_CHECK(tokens.dim() == 2 && tokens.scalar_type() == at::kLong,
              "tokens must be a (B, T) int64 tensor, got ", tokens.sizes(), " ",
              tokens.scalar_type());
  TORCH_CHECK(tokens.size(1) > 0, "tokens must hold at least one position");
  TORCH_CHECK(!attention_mask.defined() || attention_mask.sizes() == tokens.sizes(),
              "attention_mask must have the shape of tokens ", tokens.sizes(), ", got ",
              attention_mask.sizes());
  TORCH_CHECK(cache == nullptr || cache->batch_size() == tokens.size(0), "KV cache holds ",
              cache == nullptr ? 0 : cache->batch_size(), " sequences, the batch has ",
              tokens.size(0));
  const AttentionContext ctx = MakeContext(tokens, attention_mask, cache);
  at::Tensor h = embed_tokens->forward(tokens);                                  // (B, T, C)
  for (const auto& block : blocks_) {
    PollForwardInterrupt();  // a cancelled job stops within one block (core/model/interrupt.h)
    h = block->forward(h, ctx, adapter, cache);  // (B, T, C)
  }
  if (cache != nullptr) {
    cache->Commit(attention_mask.defined()
                      ? attention_mask
                      : at::ones_like(tokens, at::TensorOptions().dtype(at::kLong)));
  }
  return norm->forward(h);  // (B, T, C)
}

// ---------------------------------------------------------------------------------------------
// Causal LM

LlamaForCausalLMImpl::LlamaForCausalLMImpl(const ModelConfig& config, const ModelOptions& options)
    : config_(config), options_(options) {
  model = register_module("model", LlamaModel(config, options));
  if (!config.tie_word_embeddings) {
    lm_head = register_module(
        "lm_head", Projection(config.hidden_size, config.vocab_size, options.tensor_options()));
  }
}

at::Tensor LlamaForCausalLMImpl::Hidden(const at::Tensor& tokens, const at::Tensor& attention_mask,
                                        const LoraAdapter* adapter, KvCache* cache) const {
  return model->forward(tokens, attention_mask, adapter, cache);  // (B, T, C)
}

at::Tensor LlamaForCausalLMImpl::Logits(const at::Tensor& hidden,
                                        const LoraAdapter* adapter) const {
  at::Tensor logits = lm_head ? lm_head->forward(hidden)
                              : at::linear(hidden, model->embed_tokens->weight);  // (..., V)
  if (adapter != nullptr) {
    if (const LoraWeights* w = adapter->Find(0, ProjectionKind::kLmHead)) {
      logits = logits + adapter->Delta(hidden, *w);
    }
  }
  return logits.to(at::kFloat);  // (..., V) float32
}

at::Tensor LlamaForCausalLMImpl::LogitsOver(const at::Tensor& hidden, const at::Tensor& ids,
                                            const LoraAdapter* adapter) const {
  const at::Tensor& head = lm_head ? lm_head->weight : model->embed_tokens->weight;  // (V, C)
  at::Tensor logits = at::linear(hidden, head.index_select(0, ids));                  // (..., K)
  if (adapter != nullptr) {
    if (const LoraWeights* w = adapter->Find(0, ProjectionKind::kLmHead)) {
      const LoraWeights rows{w->a, w->b.index_select(0, ids)};  // B (K, r)
      logits = logits + adapter->Delta(hidden, rows);
    }
  }
  return logits.to(at::kFloat);  // (..., K) float32
}

at::Tensor LlamaForCausalLMImpl::forward(const at::Tensor& tokens, const at::Tensor& attention_mask,
                                         const LoraAdapter* adapter, KvCache* cache) const {
  return Logits(Hidden(tokens, attention_mask, adapter, cache), adapter);  // (B, T, V)
}

at::Tensor LlamaForCausalLMImpl::LastLogits(const at::Tensor& tokens,
                                            const at::Tensor& attention_mask,
                                            const LoraAdapter* adapter, KvCache* cache) const {
  const at::Tensor hidden = Hidden(tokens, attention_mask, adapter, cache);  // (B, T, C)
  return Logits(hidden.select(1, hidden.size(1) - 1), adapter);              // (B, V)
}

absl::Status LlamaForCausalLMImpl::LoadStateDict(const std::map<std::string, at::Tensor>& tensors,
                                                 bool check_only) {
  at::NoGradGuard no_grad;
  // Take every parameter out of a shallow copy of the map (tensor_io's checked getter), then
  // insist nothing but ignorable leftovers remain; only then copy, so a bad state dict leaves the
  // model untouched.
  std::map<std::string, at::Tensor> remaining = tensors;
  std::vector<std::pair<at::Tensor, at::Tensor>> copies;  // (parameter, source)
  for (auto& item : named_parameters(/*recurse=*/true)) {
    ARC_ASSIGN_OR_RETURN(at::Tensor src, TakeTensor(remaining, item.key(), item.value().sizes()));
    if (!at::isFloatingType(src.scalar_type())) {
      return absl::InvalidArgumentError(absl::StrCat("tensor \"", item.key(), "\": dtype ",
                                                     c10::toString(src.scalar_type()),
                                                     ", expected a floating-point type"));
    }
    copies.emplace_back(item.value(), src);
  }
  for (auto it = remaining.begin(); it != remaining.end();) {
    const bool ignorable = absl::EndsWith(it->first, "rotary_emb.inv_freq") ||
                           (it->first == "lm_head.weight" && config_.tie_word_embeddings);
    it = ignorable ? remaining.erase(it) : std::next(it);
  }
  ARC_RETURN_IF_ERROR(CheckAllTaken(remaining));
  if (check_only) return absl::OkStatus();
  try {
    for (auto& [param, src] : copies) param.copy_(src);
  } catch (const c10::Error& e) {
    return absl::InternalError(
        absl::StrCat("loading the state dict: ", e.what_without_backtrace()));
  }
  return absl::OkStatus();
}

std::map<std::string, at::Tensor> LlamaForCausalLMImpl::StateDict() const {
  std::map<std::string, at::Tensor> out;
  for (const auto& item : named_parameters(/*recurse=*/true)) out.emplace(item.key(), item.value());
  return out;
}

void LlamaForCausalLMImpl::InitializeWeights(uint64_t seed, double std) {
  at::NoGradGuard no_grad;
  Rng rng(seed);
  for (auto& item : named_parameters(/*recurse=*/true)) {
    at::Tensor& p = item.value();
    if (IsNormWeight(item.key())) {
      p.fill_(1.0);
      continue;
    }
    // Box-Muller on Rng draws, in float32 on the CPU; copied to the parameter's dtype and device.
    at::Tensor values = at::empty(p.sizes(), at::TensorOptions().dtype(at::kFloat));
    float* data = values.data_ptr<float>();
    const int64_t n = values.numel();
    for (int64_t i = 0; i < n; i += 2) {
      const double u1 = 1.0 - rng.UniformDouble();  // (0, 1]
      const double u2 = rng.UniformDouble();
      const double r = std * std::sqrt(-2.0 * std::log(u1));
      data[i] = static_cast<float>(r * std::cos(2 * M_PI * u2));
      if (i + 1 < n) data[i + 1] = static_cast<float>(r * std::sin(2 * M_PI * u2));
    }
    p.copy_(values);
  }
}

absl::StatusOr<LlamaForCausalLM> CreateLlama(const ModelConfig& config,
                                             const ModelOptions& options) {
  absl::Status valid = config.Validate();
  if (!valid.ok()) return valid;
  try {
    return LlamaForCausalLM(config, options);
  } catch (const c10::Error& e) {
    return absl::InternalError(absl::StrCat("creating the model: ", e.what_without_backtrace()));
  }
}

absl::StatusOr<LlamaForCausalLM> LoadLlamaDir(const std::string& dir, const ModelOptions& options) {
  ARC_ASSIGN_OR_RETURN(ModelConfig config, LoadModelConfig(dir + "/config.json"));
  ARC_ASSIGN_OR_RETURN(LlamaForCausalLM model, CreateLlama(config, options));
  ARC_ASSIGN_OR_RETURN(const ShardedSafetensors file, ShardedSafetensors::Open(dir));
  // LoadStateDict's checks on the headers alone (empty stand-ins of each tensor's shape and dtype),
  // then one tensor at a time: read (converted to the model's dtype on the CPU), copied into its
  // parameter, freed, so no second copy of the model ever exists.
  std::map<std::string, at::Tensor> headers;
  for (const std::string& name : file.names()) {
    const TensorInfo* info = file.Find(name);
    absl::StatusOr<at::ScalarType> type = ToScalarType(info->dtype);
    if (!type.ok()) {
      return absl::Status(type.status().code(), absl::StrCat(dir, ": tensor \"", name, "\": ",
                                                             type.status().message()));
    }
    headers.emplace(name,
                    at::empty(info->shape, at::TensorOptions().dtype(*type).device(at::kMeta)));
  }
  absl::Status checked = model->LoadStateDict(headers, /*check_only=*/true);
  if (!checked.ok()) {
    return absl::Status(checked.code(), absl::StrCat(dir, ": ", checked.message()));
  }
  try {
    at::NoGradGuard no_grad;
    for (auto& item : model->named_parameters(/*recurse=*/true)) {
      ARC_ASSIGN_OR_RETURN(at::Tensor src, ReadTensor(file, item.key(), options.dtype));
      item.value().copy_(src);
    }
  } catch (const c10::Error& e) {
    return absl::InternalError(
        absl::StrCat(dir, ": loading the weights: ", e.what_without_backtrace()));
  }
  return model;
}

absl::Status SaveLlamaDir(const LlamaForCausalLM& model, const std::string& dir,
                          int64_t max_shard_bytes) {
  // config.json says which dtype the weights are stored in (transformers' torch_dtype).
  nlohmann::json config = nlohmann::json::parse(model->config().ToJson());
  const at::ScalarType dtype = model->options().dtype;
  config["torch_dtype"] = dtype == at::kBFloat16 ? "bfloat16"
                          : dtype == at::kHalf   ? "float16"
                                                 : "float32";
  ARC_RETURN_IF_ERROR(WriteFileAtomic(dir + "/config.json", config.dump(2) + "\n"));
  if (max_shard_bytes > 0) {
    return SaveTensorsSharded(dir, model->StateDict(), max_shard_bytes, {{"format", "pt"}});
  }
  return SaveTensors(dir + "/model.safetensors", model->StateDict(), {{"format", "pt"}});
}

}  // namespace arc
