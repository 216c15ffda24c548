// ModelConfig: the hyper-parameters of a Llama-architecture decoder, read from and written to a
// Hugging Face `config.json`.
//
// Only the Llama architecture is supported (model_type "llama" or architectures
// ["LlamaForCausalLM"]); any field whose value this implementation cannot honour (another
// architecture, a rope_scaling type other than "llama3", attention/MLP biases, an activation other
// than SiLU) is refused with INVALID_ARGUMENT naming the field, rather than silently computing
// something else. Fields this code does not use (torch_dtype, transformers_version, ...) are
// ignored.
//
// NamedModelConfigs() is the one table of named configurations (tiny, small, golden, small-kv4)
// that arc-init-model, arc-train's --preset, arc-bench and the tests look up by name.
//
// A plain value type: copyable and safe to share between threads; the table is immutable.
#ifndef ARC_CORE_MODEL_MODEL_CONFIG_H_
#define ARC_CORE_MODEL_MODEL_CONFIG_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace arc {

// Llama-3 frequency-dependent rope scaling (rope_scaling.rope_type == "llama3").
struct Llama3RopeScaling {
  double factor = 8.0;
  double low_freq_factor = 1.0;
  double high_freq_factor = 4.0;
  int64_t original_max_position_embeddings = 8192;
};

struct ModelConfig {
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t intermediate_size = 0;
  int64_t num_hidden_layers = 0;
  int64_t num_attention_heads = 0;
  int64_t num_key_value_heads = 0;  // config.json default: num_attention_heads
  int64_t head_dim = 0;             // config.json default: hidden_size / num_attention_heads
  double rms_norm_eps = 1e-6;       // Hugging Face LlamaConfig default
  double rope_theta = 10000.0;
  std::optional<Llama3RopeScaling> rope_scaling;  // nullopt: plain RoPE
  int64_t max_position_embeddings = 2048;
  bool tie_word_embeddings = false;
  std::optional<int64_t> bos_token_id;
  std::vector<int64_t> eos_token_ids;  // config.json: an int or a list
  std::optional<int64_t> pad_token_id;

  // Checks sizes are positive and within bounds far above any released Llama (widths 2^20, head_dim
  // 2^16, heads 2^10, layers 2^12, vocabulary and context 2^24: every size product stays inside
  // int64), heads divide evenly, token ids are inside the vocabulary. The message names the field,
  // e.g. "num_attention_heads (6) must be a multiple of num_key_value_heads (4)".
  absl::Status Validate() const;

  // The Hugging Face config.json text (model_type "llama", architectures ["LlamaForCausalLM"],
  // every field above), pretty-printed with 2-space indentation.
  std::string ToJson() const;

  // Total number of parameters of the decoder (lm_head counted only when untied).
  int64_t NumParameters() const;
  // Dense forward FLOPs per token at sequence position `context` (2 per multiply-add: matmuls of
  // the projections, the LM head and attention scores/values over `context` keys).
  double ForwardFlopsPerToken(int64_t context) const;
};

// Parses config.json text. INVALID_ARGUMENT on malformed JSON (a syntax error names the byte, a
// number that overflows a double the field: "config.json: rope_theta: number 1e3080 is out of
// range ..."), a missing required field (vocab_size, hidden_size, intermediate_size,
// num_hidden_layers, num_attention_heads), a wrongly typed field, an unsupported value, or a
// configuration that fails Validate(). Torch-free (target arc_core_model_config); never throws.
absl::StatusOr<ModelConfig> ParseModelConfig(std::string_view json_text);

// Reads and parses a config.json file (NOT_FOUND when it does not exist).
absl::StatusOr<ModelConfig> LoadModelConfig(const std::string& path);

// OK when 0 <= id < vocab; otherwise INVALID_ARGUMENT "<name> <id> is outside the vocabulary [0,
// <vocab>)".
absl::Status CheckTokenId(absl::string_view name, int64_t id, int64_t vocab);

// ---------------------------------------------------------------------------------------------
// Named configurations.

struct NamedModelConfig {
  absl::string_view name;
  absl::string_view description;  // one line: the shape and who uses it
  // Uses the compact tokenizer's vocabulary and special ids (core/text/tokenizer.h), so
  // arc-init-model and arc-train can build a compact-format model directory from it.
  bool compact = false;
  ModelConfig config;
  // Uses the Llama-3 tokenizer's vocabulary (128,256 ids) and special ids: arc-init-model builds a
  // marc-format directory from it with the real tokenizer.json (its --tokenizer).
  bool llama3 = false;
};

// Every named configuration, in a fixed order:
//   tiny       1 layer of width 32, 2 heads / 1 KV head, MLP 64; compact (10,336 parameters)
//   small      6 layers of width 256, 8 heads / 2 KV heads, MLP 704; compact (4,238,592)
//   golden     2 layers of width 64, 4 heads / 2 KV heads, MLP 128, vocabulary 20 (the golden
//              numerics tests' shape; 77k parameters)
//   small-kv4  small's shape with 4 KV heads over a bare 16-token vocabulary (arc-bench; 4.4M)
//   llama-3.2-1b   Meta's Llama-3.2-1B exactly: vocabulary 128,256, width 2048, 16 layers, 32 heads
//              / 8 KV heads, MLP 8192, tied embeddings, rope_theta 500000 with Llama-3 scaling
//              (factor 32, low 1, high 4, original context 8192), context 131,072 (1.236B)
//   llama3-2layer  2 layers of width 256, 4 heads / 2 KV heads, MLP 1024 over the same real
//              vocabulary, tied, the same rope: the CI stand-in of llama-3.2-1b (34.9M, 33M of them
//              the embedding)
// All use rms_norm_eps 1e-5; the first four a 2048-token context, and the compact ones also carry
// BOS, EOS and PAD; the Llama-3 ones carry Llama-3's BOS 128000 and EOS 128001/128008/128009.
const std::vector<NamedModelConfig>& NamedModelConfigs();

// The names of NamedModelConfigs() (only the compact ones when `compact_only`), joined by ", ".
std::string ModelConfigNames(bool compact_only = false);

// One line per configuration (only the compact ones when `compact_only`), "  <name> <description>",
// the names padded to one width: the list that the tools' --help prints.
std::string ModelConfigHelp(bool compact_only = false);

// The configuration called `name`. INVALID_ARGUMENT naming `field` and listing the names when there
// is none (or, with `compact_only`, when it is not a compact one), e.g. "--preset: \"big\" is not
// one of tiny, small".
absl::StatusOr<ModelConfig> FindModelConfig(absl::string_view name, absl::string_view field,
                                            bool compact_only = false);

// A compact configuration from "WxL": width W (a multiple of 32), L layers (1..64), heads of 32
// (W/32 heads, as many KV heads), MLP 8W/3 rounded up to a multiple of 16, rms_norm_eps 1e-5, a
// 2048-token context. "256x4" is the 3,172,608-parameter model of the feasibility study.
// INVALID_ARGUMENT naming `field` when `spec` is not of that form.
absl::StatusOr<ModelConfig> WidthLayersConfig(absl::string_view spec, absl::string_view field);

}  // namespace arc

#endif  // ARC_CORE_MODEL_MODEL_CONFIG_H_
