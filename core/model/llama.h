// The Llama decoder (Hugging Face LlamaForCausalLM) in libtorch.
//
//   tokens -> embed_tokens -> N x [x + Attention(RMSNorm(x)); x + MLP(RMSNorm(x))] -> norm ->
//   lm_head
//
// Attention is grouped-query attention with rotary position embeddings (Hugging Face rotate_half
// convention, optional Llama-3 frequency scaling); the MLP is SwiGLU, down(silu(gate(x)) * up(x));
// lm_head is tied to embed_tokens when config.tie_word_embeddings. named_parameters() gives exactly
// the Hugging Face names (model.embed_tokens.weight, model.layers.{i}.self_attn.q_proj.weight, ...,
// model.norm.weight, lm_head.weight when untied), so a Hugging Face state dict loads as it is.
//
// Inputs and masks: tokens (B, T) int64 and an optional attention_mask (B, T) of 0/1 for
// left-padded batches; position ids are cumsum(mask) - 1 as Hugging Face computes them for left
// padding. Without a mask every token is real. Right-padded batches need no mask at all: causal
// attention never lets a real token see a later pad.
//
// LoRA: every forward takes an optional `const LoraAdapter*` (core/lora.h). The adapter holds its
// own A/B tensors; the base model is never modified by it, so one base serves many adapters.
//
// Precision: parameters live in ModelOptions::dtype on ModelOptions::device (float32 on the CPU,
// bfloat16 on CUDA). RMSNorm and softmax are computed in float32 whatever the dtype; logits are
// returned as float32.
//
// Ownership and thread safety: LlamaForCausalLM is a torch::nn::ModuleHolder (a shared pointer).
// After construction and loading the model is immutable: every forward method is const and may run
// concurrently from several threads (each with its own KvCache and adapter), provided nobody calls
// LoadStateDict, InitializeWeights or a mutating torch::nn::Module method at the same time. Base
// parameters have requires_grad == false; training goes through an adapter. Construct and load a
// model that will ever be trained through OUTSIDE c10::InferenceMode: parameters created inside it
// are inference tensors, which autograd refuses to save for backward. Forward methods throw
// c10::Error on malformed inputs (wrong shape/dtype), as libtorch modules do; the entry points in
// core/decode.h convert that to absl::Status.
#ifndef ARC_CORE_MODEL_LLAMA_H_
#define ARC_CORE_MODEL_LLAMA_H_

#include <ATen/ATen.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/pimpl.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/model/model_config.h"

namespace arc {

class LoraAdapter;  // core/lora.h
class KvCache;      // core/kv_cache.h

// Where and in which precision the parameters live.
struct ModelOptions {
  // at::kCPU (default) or at::Device(at::kCUDA, index).
  at::Device device = at::kCPU;
  // at::kFloat (default, the CPU choice) or at::kBFloat16 (the CUDA choice).
  at::ScalarType dtype = at::kFloat;
  // With libtorch >= 2, use at::scaled_dot_product_attention; ignored (always the explicit matmul +
  // softmax path) with libtorch 1.x.
  bool use_sdpa = true;
  // The explicit attention (libtorch 1.x, or use_sdpa off) runs in blocks of query rows whose
  // float32 scores hold at most this many elements (4 MB at the default), and its backward
  // recomputes them block by block (core/model/attention.h): attention memory no longer grows with
  // the square of the sequence length. Measured on a TTT-sized step (2 x 900 tokens, models/default),
  // 1M elements peaked 53 MB lower than 4M at the same speed (smaller blocks fragment the heap less).
  int64_t attention_block_elements = int64_t{1} << 20;

  at::TensorOptions tensor_options() const {
    return at::TensorOptions().dtype(dtype).device(device);
  }
};

// Which projection of a block a LoRA adapter (or anything else) attaches to.
enum class ProjectionKind : int { kQ = 0, kK, kV, kO, kGate, kUp, kDown, kLmHead };
inline constexpr int kNumProjectionKinds = 8;

// Per-forward state shared by all blocks: rotary tables, the attention mask and the cache offset.
struct AttentionContext {
  at::Tensor cos;      // (B, T, 1, D), model dtype
  at::Tensor sin;      // (B, T, 1, D), model dtype
  at::Tensor allowed;  // (B, 1, T, S) bool: query t may attend key s; S = offset + T
  at::Tensor blocked;  // (B, 1, T, S) bool: the negation of allowed
  int64_t offset = 0;  // tokens already in the KV cache (0 without a cache)
  bool causal_only = false;  // allowed is exactly "key slot <= query slot" (no padding mask)
};

// y = x W^T with W (out, in); no bias. Created uninitialised (weights are loaded or initialised).
class ProjectionImpl : public torch::nn::Module {
 public:
  ProjectionImpl(int64_t in_features, int64_t out_features, const at::TensorOptions& options);
  at::Tensor forward(const at::Tensor& x) const;
  at::Tensor weight;  // (out, in)
};
TORCH_MODULE(Projection);

// Root-mean-square layer norm, computed in float32: weight * (x / sqrt(mean(x^2) + eps)).
class RMSNormImpl : public torch::nn::Module {
 public:
  RMSNormImpl(int64_t dim, double eps, const at::TensorOptions& options);
  at::Tensor forward(const at::Tensor& x) const;
  at::Tensor weight;  // (C), initialised to ones

 private:
  double eps_;
};
TORCH_MODULE(RMSNorm);

class EmbeddingImpl : public torch::nn::Module {
 public:
  EmbeddingImpl(int64_t vocab_size, int64_t dim, const at::TensorOptions& options);
  at::Tensor forward(const at::Tensor& tokens) const;
  at::Tensor weight;  // (V, C)
};
TORCH_MODULE(Embedding);

class LlamaAttentionImpl : public torch::nn::Module {
 public:
  LlamaAttentionImpl(const ModelConfig& config, int64_t layer, const ModelOptions& options);
  // x (B, T, C) -> (B, T, C). With a cache, appends this step's K/V to the cache's layer buffers.
  at::Tensor forward(const at::Tensor& x, const AttentionContext& ctx, const LoraAdapter* adapter,
                     KvCache* cache) const;

  Projection q_proj{nullptr}, k_proj{nullptr}, v_proj{nullptr}, o_proj{nullptr};

 private:
  int64_t layer_, num_heads_, num_kv_heads_, head_dim_;
  bool use_sdpa_;
  int64_t block_elements_;
};
TORCH_MODULE(LlamaAttention);

class LlamaMlpImpl : public torch::nn::Module {
 public:
  LlamaMlpImpl(const ModelConfig& config, int64_t layer, const ModelOptions& options);
  // x (B, T, C) -> (B, T, C)
  at::Tensor forward(const at::Tensor& x, const LoraAdapter* adapter) const;

  Projection gate_proj{nullptr}, up_proj{nullptr}, down_proj{nullptr};

 private:
  int64_t layer_;
};
TORCH_MODULE(LlamaMlp);

class LlamaDecoderLayerImpl : public torch::nn::Module {
 public:
  LlamaDecoderLayerImpl(const ModelConfig& config, int64_t layer, const ModelOptions& options);
  at::Tensor forward(const at::Tensor& x, const AttentionContext& ctx, const LoraAdapter* adapter,
                     KvCache* cache) const;

  LlamaAttention self_attn{nullptr};
  LlamaMlp mlp{nullptr};
  RMSNorm input_layernorm{nullptr}, post_attention_layernorm{nullptr};
};
TORCH_MODULE(LlamaDecoderLayer);

// The trunk: embeddings, blocks, final norm (Hugging Face LlamaModel, registered as "model").
class LlamaModelImpl : public torch::nn::Module {
 public:
  LlamaModelImpl(const ModelConfig& config, const ModelOptions& options);
  // tokens (B, T) -> final-normed hidden states (B, T, C).
  at::Tensor forward(const at::Tensor& tokens, const at::Tensor& attention_mask,
                     const LoraAdapter* adapter, KvCache* cache) const;

  Embedding embed_tokens{nullptr};
  torch::nn::ModuleList layers{nullptr};
  RMSNorm norm{nullptr};

  // The blocks of `layers`, typed.
  const std::vector<std::shared_ptr<LlamaDecoderLayerImpl>>& blocks() const { return blocks_; }
  // The rotary tables of positions [0, positions) with the operations of MakeContext (angle
  // float(p) * inv_freq[i], Llama-3 scaled when configured; cos and sin in float32), each
  // (positions, D/2) contiguous on the CPU: for the direct CPU paths (cpu_decoder.h, cpu_trainer.h).
  struct RotaryTables {
    at::Tensor cos, sin;
  };
  RotaryTables CpuRotaryTables(int64_t positions) const;

 private:
  AttentionContext MakeContext(const at::Tensor& tokens, const at::Tensor& attention_mask,
                               const KvCache* cache) const;

  ModelConfig config_;
  ModelOptions options_;
  at::Tensor inv_freq_;  // (D/2) float32, Llama-3 scaled when configured
  std::vector<std::shared_ptr<LlamaDecoderLayerImpl>> blocks_;  // == layers, typed
};
TORCH_MODULE(LlamaModel);

class LlamaForCausalLMImpl : public torch::nn::Module {
 public:
  // Requires config.Validate().ok() (use CreateLlama for a checked construction). Parameters are
  // allocated uninitialised (norm weights are ones): call LoadStateDict or InitializeWeights.
  LlamaForCausalLMImpl(const ModelConfig& config, const ModelOptions& options = {});

  // Logits (B, T, V) float32 for every position.
  at::Tensor forward(const at::Tensor& tokens, const at::Tensor& attention_mask = {},
                     const LoraAdapter* adapter = nullptr, KvCache* cache = nullptr) const;
  // Final-normed hidden states (B, T, C) in the model dtype; pair with Logits() to project only the
  // positions a loss or a score needs.
  at::Tensor Hidden(const at::Tensor& tokens, const at::Tensor& attention_mask = {},
                    const LoraAdapter* adapter = nullptr, KvCache* cache = nullptr) const;
  // hidden (..., C) -> logits (..., V) float32 through lm_head (or the tied embedding).
  at::Tensor Logits(const at::Tensor& hidden, const LoraAdapter* adapter = nullptr) const;
  // hidden (..., C) -> logits (..., K) float32 of the K vocabulary entries `ids` (int64, on the
  // model's device) only: the rows of the LM head (and of the adapter's lm_head B) that `ids` name,
  // so a decoding step restricted to a few tokens skips the full-vocabulary product. Equal to
  // Logits(hidden, adapter).index_select(-1, ids) up to float rounding.
  at::Tensor LogitsOver(const at::Tensor& hidden, const at::Tensor& ids,
                        const LoraAdapter* adapter = nullptr) const;
  // Logits of the last position only, (B, V) float32: the decoding step.
  at::Tensor LastLogits(const at::Tensor& tokens, const at::Tensor& attention_mask = {},
                        const LoraAdapter* adapter = nullptr, KvCache* cache = nullptr) const;

  // Copies a Hugging Face state dict into the parameters (converting dtype and device). Every
  // parameter must be present with its exact shape; a tensor that is not a parameter is an error,
  // except "*.rotary_emb.inv_freq" buffers of old checkpoints and lm_head.weight of a tied model
  // (both ignored, as transformers does). INVALID_ARGUMENT names the tensor.
  // With check_only, only the checks run (names, shapes, dtypes) and nothing is copied.
  absl::Status LoadStateDict(const std::map<std::string, at::Tensor>& tensors,
                             bool check_only = false);
  // The parameters by Hugging Face name (the live tensors, not copies).
  std::map<std::string, at::Tensor> StateDict() const;
  // Seeded initialisation through arc::Rng (identical on every platform): projections and
  // embeddings ~ N(0, std^2) (Hugging Face initializer_range 0.02), norms = 1.
  void InitializeWeights(uint64_t seed, double std = 0.02);

  const ModelConfig& config() const { return config_; }
  const ModelOptions& options() const { return options_; }

  LlamaModel model{nullptr};
  Projection lm_head{nullptr};  // null when tied

 private:
  ModelConfig config_;
  ModelOptions options_;
};
TORCH_MODULE(LlamaForCausalLM);

// Validates `config` and constructs the model; INVALID_ARGUMENT for a bad config, INTERNAL when
// libtorch refuses (e.g. a CUDA device on a CPU-only build).
absl::StatusOr<LlamaForCausalLM> CreateLlama(const ModelConfig& config,
                                             const ModelOptions& options = {});

// A model directory in the Hugging Face layout: config.json plus model.safetensors (or sharded
// model-0000N-of-0000M.safetensors with model.safetensors.index.json). tokenizer.json, when
// present, is the tokenizer's business (core/tokenizer.h) and is neither read nor written here.
// Tensors are read one at a time straight into the parameters (converted to options.dtype), so the
// load peaks near the model's size plus its largest tensor, not at twice the model.
absl::StatusOr<LlamaForCausalLM> LoadLlamaDir(const std::string& dir,
                                              const ModelOptions& options = {});
// Writes config.json (torch_dtype set to the model's dtype) and model.safetensors (tensors in the
// model's dtype, lm_head absent when tied) into `dir`, which must exist. Files are written
// atomically. With max_shard_bytes > 0 the tensors go to model-0000N-of-0000M.safetensors shards
// of at most that size plus model.safetensors.index.json instead (core/model/tensor_io.h).
absl::Status SaveLlamaDir(const LlamaForCausalLM& model, const std::string& dir,
                          int64_t max_shard_bytes = 0);

// The Hugging Face module name of a projection ("q_proj", ..., "lm_head").
const char* ProjectionName(ProjectionKind kind);

}  // namespace arc

#endif  // ARC_CORE_MODEL_LLAMA_H_
