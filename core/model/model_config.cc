#include "core/model/model_config.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "core/data/file_util.h"
#include "core/data/json_parse.h"
#include "core/data/status_macros.h"
#include "core/text/tokenizer.h"
#include "nlohmann/json.hpp"

namespace arc {
namespace {

using Json = nlohmann::json;

absl::Status Invalid(absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat("config.json: ", message));
}

// JSON type names for error messages ("string", "number", ...), as nlohmann spells them.
std::string TypeName(const Json& j) { return j.type_name(); }

// An integer field: nullopt when absent or null (and not required).
absl::StatusOr<std::optional<int64_t>> GetInt(const Json& j, const char* key, bool required) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) {
    if (required) return Invalid(absl::StrCat("missing required field '", key, "'"));
    return std::optional<int64_t>();
  }
  if (!it->is_number_integer()) {
    return Invalid(absl::StrCat("field '", key, "' must be an integer, got ", TypeName(*it)));
  }
  if (it->is_number_unsigned() &&
      it->get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return Invalid(absl::StrCat("field '", key, "' is out of range, got ", it->dump()));
  }
  return std::optional<int64_t>(it->get<int64_t>());
}

absl::StatusOr<std::optional<double>> GetNumber(const Json& j, const std::string& prefix,
                                                const char* key, bool required) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) {
    if (required) return Invalid(absl::StrCat("missing required field '", prefix, key, "'"));
    return std::optional<double>();
  }
  if (!it->is_number()) {
    return Invalid(absl::StrCat("field '", prefix, key, "' must be a number, got ", TypeName(*it)));
  }
  return std::optional<double>(it->get<double>());
}

absl::StatusOr<std::optional<bool>> GetBool(const Json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::optional<bool>();
  if (!it->is_boolean()) {
    return Invalid(absl::StrCat("field '", key, "' must be a boolean, got ", TypeName(*it)));
  }
  return std::optional<bool>(it->get<bool>());
}

absl::StatusOr<std::optional<std::string>> GetString(const Json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::optional<std::string>();
  if (!it->is_string()) {
    return Invalid(absl::StrCat("field '", key, "' must be a string, got ", TypeName(*it)));
  }
  return std::optional<std::string>(it->get<std::string>());
}

absl::Status CheckArchitecture(const Json& j) {
  ARC_ASSIGN_OR_RETURN(std::optional<std::string> model_type, GetString(j, "model_type"));
  if (model_type.has_value() && *model_type != "llama") {
    return Invalid(absl::StrCat("model_type '", *model_type, "' is not supported (only 'llama')"));
  }
  auto arch = j.find("architectures");
  const bool has_arch = arch != j.end() && !arch->is_null();
  if (has_arch) {
    if (!arch->is_array()) {
      return Invalid(absl::StrCat("field 'architectures' must be an array, got ", TypeName(*arch)));
    }
    bool found = false;
    for (const Json& a : *arch)
      found = found || (a.is_string() && a.get<std::string>() == "LlamaForCausalLM");
    if (!found) {
      return Invalid(absl::StrCat("architectures ", arch->dump(),
                                  " is not supported (only [\"LlamaForCausalLM\"])"));
    }
  }
  if (!model_type.has_value() && !has_arch) {
    return Invalid("neither model_type nor architectures is set (expected model_type 'llama')");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<Llama3RopeScaling>> ParseRopeScaling(const Json& j) {
  auto it = j.find("rope_scaling");
  if (it == j.end() || it->is_null()) return std::optional<Llama3RopeScaling>();
  if (!it->is_object()) {
    return Invalid(
        absl::StrCat("field 'rope_scaling' must be an object or null, got ", TypeName(*it)));
  }
  const Json& rs = *it;
  // transformers writes "rope_type"; older configs write "type".
  std::string type;
  for (const char* key : {"rope_type", "type"}) {
    auto t = rs.find(key);
    if (t != rs.end() && !t->is_null()) {
      if (!t->is_string()) {
        return Invalid(
            absl::StrCat("field 'rope_scaling.", key, "' must be a string, got ", TypeName(*t)));
      }
      type = t->get<std::string>();
      break;
    }
  }
  if (type.empty()) return Invalid("rope_scaling has no 'rope_type' (only 'llama3' is supported)");
  if (type != "llama3") {
    return Invalid(
        absl::StrCat("rope_scaling.rope_type '", type, "' is not supported (only 'llama3')"));
  }
  Llama3RopeScaling s;
  const std::string prefix = "rope_scaling.";
  ARC_ASSIGN_OR_RETURN(auto factor, GetNumber(rs, prefix, "factor", true));
  ARC_ASSIGN_OR_RETURN(auto low, GetNumber(rs, prefix, "low_freq_factor", true));
  ARC_ASSIGN_OR_RETURN(auto high, GetNumber(rs, prefix, "high_freq_factor", true));
  auto orig = rs.find("original_max_position_embeddings");
  if (orig == rs.end() || orig->is_null()) {
    return Invalid("missing required field 'rope_scaling.original_max_position_embeddings'");
  }
  if (!orig->is_number_integer()) {
    return Invalid(absl::StrCat(
        "field 'rope_scaling.original_max_position_embeddings' must be an integer, got ",
        TypeName(*orig)));
  }
  s.factor = *factor;
  s.low_freq_factor = *low;
  s.high_freq_factor = *high;
  s.original_max_position_embeddings = orig->get<int64_t>();
  return std::optional<Llama3RopeScaling>(s);
}

absl::Status CheckPositive(const char* name, int64_t v) {
  if (v <= 0) return absl::InvalidArgumentError(absl::StrCat(name, " must be positive, got ", v));
  return absl::OkStatus();
}

// Positive and at most `limit`. The limits are far above any released Llama (hidden 16384, MLP
// 53248, 128 heads of 128, 126 layers, vocabulary 256k, context 128k) and keep every size product
// computed from a config (parameter counts, tensor shapes, FLOPs) inside int64.
absl::Status CheckSize(const char* name, int64_t v, int64_t limit) {
  ARC_RETURN_IF_ERROR(CheckPositive(name, v));
  if (v > limit) {
    return absl::InvalidArgumentError(absl::StrCat(name, " must be at most ", limit, ", got ", v));
  }
  return absl::OkStatus();
}

constexpr int64_t kMaxWidth = int64_t{1} << 20;      // hidden_size, intermediate_size
constexpr int64_t kMaxHeadDim = int64_t{1} << 16;    // head_dim
constexpr int64_t kMaxHeads = int64_t{1} << 10;      // attention and KV heads
constexpr int64_t kMaxLayers = int64_t{1} << 12;     // num_hidden_layers
constexpr int64_t kMaxVocab = int64_t{1} << 24;      // vocab_size
constexpr int64_t kMaxPositions = int64_t{1} << 24;  // context lengths

// A decoder with head_dim = hidden / heads, rms_norm_eps 1e-5 and the default 2048-token context.
ModelConfig Shape(int64_t vocab, int64_t layers, int64_t hidden, int64_t heads, int64_t kv_heads,
                  int64_t mlp) {
  ModelConfig c;
  c.vocab_size = vocab;
  c.num_hidden_layers = layers;
  c.hidden_size = hidden;
  c.num_attention_heads = heads;
  c.num_key_value_heads = kv_heads;
  c.intermediate_size = mlp;
  c.head_dim = hidden / heads;
  c.rms_norm_eps = 1e-5;
  return c;
}

// `shape` (over the compact tokenizer's vocabulary) with that tokenizer's BOS, EOS and PAD ids.
NamedModelConfig Compact(absl::string_view name, absl::string_view description, ModelConfig shape) {
  shape.bos_token_id = kCompactBos;
  shape.eos_token_ids = {kCompactEos};
  shape.pad_token_id = kCompactPad;
  return {name, description, /*compact=*/true, std::move(shape)};
}

// `shape` over the Llama-3 vocabulary with Llama-3.2's rope, tied embeddings and special ids (the
// values of meta-llama/Llama-3.2-1B-Instruct's config.json).
NamedModelConfig Llama3(absl::string_view name, absl::string_view description, ModelConfig shape) {
  shape.rope_theta = 500000.0;
  shape.rope_scaling = Llama3RopeScaling{/*factor=*/32.0, /*low_freq_factor=*/1.0,
                                         /*high_freq_factor=*/4.0,
                                         /*original_max_position_embeddings=*/8192};
  shape.max_position_embeddings = 131072;
  shape.tie_word_embeddings = true;
  shape.bos_token_id = 128000;
  shape.eos_token_ids = {128001, 128008, 128009};
  return {name, description, /*compact=*/false, std::move(shape), /*llama3=*/true};
}

}  // namespace

absl::Status CheckTokenId(absl::string_view name, int64_t id, int64_t vocab) {
  if (id < 0 || id >= vocab) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, " ", id, " is outside the vocabulary [0, ", vocab, ")"));
  }
  return absl::OkStatus();
}

const std::vector<NamedModelConfig>& NamedModelConfigs() {
  // Shape(vocab, layers, hidden, heads, kv_heads, mlp). The numbers are those each user has always
  // had: changing one changes arc-init-model's files, arc-bench's rows or the golden tests.
  static const std::vector<NamedModelConfig>* const table = new std::vector<NamedModelConfig>{
      Compact("tiny", "1 layer of width 32, 2 heads / 1 KV head, MLP 64: smoke tests",
              Shape(kCompactVocabSize, 1, 32, 2, 1, 64)),
      Compact("small", "6 layers of width 256, 8 heads / 2 KV heads, MLP 704: 4.24M parameters",
              Shape(kCompactVocabSize, 6, 256, 8, 2, 704)),
      {"golden", "2 layers of width 64, 4 heads / 2 KV heads, MLP 128, vocabulary 20: golden tests",
       /*compact=*/false, Shape(20, 2, 64, 4, 2, 128)},
      {"small-kv4", "small with 4 KV heads over a bare 16-token vocabulary: arc-bench, 4.4M",
       /*compact=*/false, Shape(16, 6, 256, 8, 4, 704)},
      Llama3("llama-3.2-1b",
             "Llama-3.2-1B's exact shape: 16 layers of width 2048, 32 heads / 8 KV heads, MLP "
             "8192, vocabulary 128,256, tied, Llama-3 rope scaling: 1.236B",
             Shape(128256, 16, 2048, 32, 8, 8192)),
      Llama3("llama3-2layer",
             "2 layers of width 256, 4 heads / 2 KV heads, MLP 1024 over the Llama-3 vocabulary, "
             "tied: llama-3.2-1b's CI stand-in, 34.9M",
             Shape(128256, 2, 256, 4, 2, 1024)),
  };
  return *table;
}

std::string ModelConfigNames(bool compact_only) {
  std::vector<absl::string_view> names;
  for (const NamedModelConfig& named : NamedModelConfigs()) {
    if (named.compact || !compact_only) names.push_back(named.name);
  }
  return absl::StrJoin(names, ", ");
}

std::string ModelConfigHelp(bool compact_only) {
  size_t width = 0;
  for (const NamedModelConfig& named : NamedModelConfigs())
    width = std::max(width, named.name.size());
  std::string help;
  for (const NamedModelConfig& named : NamedModelConfigs()) {
    if (!named.compact && compact_only) continue;
    absl::StrAppend(&help, "  ", named.name, std::string(width + 2 - named.name.size(), ' '),
                    named.description, "\n");
  }
  return help;
}

absl::StatusOr<ModelConfig> FindModelConfig(absl::string_view name, absl::string_view field,
                                            bool compact_only) {
  for (const NamedModelConfig& named : NamedModelConfigs()) {
    if (named.name == name && (named.compact || !compact_only)) return named.config;
  }
  return absl::InvalidArgumentError(
      absl::StrCat(field, ": \"", name, "\" is not one of ", ModelConfigNames(compact_only)));
}

absl::StatusOr<ModelConfig> WidthLayersConfig(absl::string_view spec, absl::string_view field) {
  const std::vector<std::string> parts = absl::StrSplit(spec, 'x');
  int64_t width = 0, layers = 0;
  if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &width) ||
      !absl::SimpleAtoi(parts[1], &layers) || width < 32 || width % 32 != 0 || layers < 1 ||
      layers > 64) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": \"", spec,
        "\" is not WxL with W a multiple of 32 and 1 <= L <= 64 (e.g. 256x4)"));
  }
  const int64_t heads = width / 32;
  return Compact("", "", Shape(kCompactVocabSize, layers, width, heads, heads,
                               (8 * width / 3 + 15) / 16 * 16))
      .config;
}

absl::Status ModelConfig::Validate() const {
  ARC_RETURN_IF_ERROR(CheckSize("vocab_size", vocab_size, kMaxVocab));
  ARC_RETURN_IF_ERROR(CheckSize("hidden_size", hidden_size, kMaxWidth));
  ARC_RETURN_IF_ERROR(CheckSize("intermediate_size", intermediate_size, kMaxWidth));
  ARC_RETURN_IF_ERROR(CheckSize("num_hidden_layers", num_hidden_layers, kMaxLayers));
  ARC_RETURN_IF_ERROR(CheckSize("num_attention_heads", num_attention_heads, kMaxHeads));
  ARC_RETURN_IF_ERROR(CheckSize("num_key_value_heads", num_key_value_heads, kMaxHeads));
  ARC_RETURN_IF_ERROR(CheckSize("head_dim", head_dim, kMaxHeadDim));
  ARC_RETURN_IF_ERROR(CheckSize("max_position_embeddings", max_position_embeddings, kMaxPositions));
  if (num_attention_heads % num_key_value_heads != 0) {
    return absl::InvalidArgumentError(absl::StrCat("num_attention_heads (", num_attention_heads,
                                                   ") must be a multiple of num_key_value_heads (",
                                                   num_key_value_heads, ")"));
  }
  if (head_dim % 2 != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("head_dim (", head_dim, ") must be even for rotary embeddings"));
  }
  if (!(rms_norm_eps > 0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("rms_norm_eps must be positive, got ", rms_norm_eps));
  }
  if (!(rope_theta > 0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("rope_theta must be positive, got ", rope_theta));
  }
  if (rope_scaling.has_value()) {
    const Llama3RopeScaling& s = *rope_scaling;
    if (!(s.factor > 0)) {
      return absl::InvalidArgumentError(
          absl::StrCat("rope_scaling.factor must be positive, got ", s.factor));
    }
    if (!(s.low_freq_factor > 0) || !(s.high_freq_factor > s.low_freq_factor)) {
      return absl::InvalidArgumentError(
          absl::StrCat("rope_scaling needs 0 < low_freq_factor < high_freq_factor, got ",
                       s.low_freq_factor, " and ", s.high_freq_factor));
    }
    ARC_RETURN_IF_ERROR(CheckSize("rope_scaling.original_max_position_embeddings",
                                  s.original_max_position_embeddings, kMaxPositions));
  }
  if (bos_token_id.has_value()) {
    ARC_RETURN_IF_ERROR(CheckTokenId("bos_token_id", *bos_token_id, vocab_size));
  }
  for (int64_t id : eos_token_ids)
    ARC_RETURN_IF_ERROR(CheckTokenId("eos_token_id", id, vocab_size));
  if (pad_token_id.has_value()) {
    ARC_RETURN_IF_ERROR(CheckTokenId("pad_token_id", *pad_token_id, vocab_size));
  }
  return absl::OkStatus();
}

std::string ModelConfig::ToJson() const {
  Json j = Json::object();
  j["architectures"] = Json::array({"LlamaForCausalLM"});
  j["model_type"] = "llama";
  j["vocab_size"] = vocab_size;
  j["hidden_size"] = hidden_size;
  j["intermediate_size"] = intermediate_size;
  j["num_hidden_layers"] = num_hidden_layers;
  j["num_attention_heads"] = num_attention_heads;
  j["num_key_value_heads"] = num_key_value_heads;
  j["head_dim"] = head_dim;
  j["hidden_act"] = "silu";
  j["attention_bias"] = false;
  j["mlp_bias"] = false;
  j["rms_norm_eps"] = rms_norm_eps;
  j["rope_theta"] = rope_theta;
  if (rope_scaling.has_value()) {
    j["rope_scaling"] = {
        {"rope_type", "llama3"},
        {"factor", rope_scaling->factor},
        {"low_freq_factor", rope_scaling->low_freq_factor},
        {"high_freq_factor", rope_scaling->high_freq_factor},
        {"original_max_position_embeddings", rope_scaling->original_max_position_embeddings}};
  } else {
    j["rope_scaling"] = nullptr;
  }
  j["max_position_embeddings"] = max_position_embeddings;
  j["tie_word_embeddings"] = tie_word_embeddings;
  j["bos_token_id"] = bos_token_id.has_value() ? Json(*bos_token_id) : Json(nullptr);
  if (eos_token_ids.size() == 1) {
    j["eos_token_id"] = eos_token_ids[0];
  } else if (eos_token_ids.empty()) {
    j["eos_token_id"] = nullptr;
  } else {
    j["eos_token_id"] = eos_token_ids;
  }
  j["pad_token_id"] = pad_token_id.has_value() ? Json(*pad_token_id) : Json(nullptr);
  j["torch_dtype"] = "float32";
  return j.dump(2) + "\n";
}

int64_t ModelConfig::NumParameters() const {
  const int64_t c = hidden_size, q = num_attention_heads * head_dim,
                kv = num_key_value_heads * head_dim;
  const int64_t per_layer = c * q + 2 * c * kv + q * c + 3 * c * intermediate_size + 2 * c;
  return vocab_size * c + num_hidden_layers * per_layer + c +
         (tie_word_embeddings ? 0 : vocab_size * c);
}

double ModelConfig::ForwardFlopsPerToken(int64_t context) const {
  const double c = static_cast<double>(hidden_size), q = num_attention_heads * head_dim,
               kv = num_key_value_heads * head_dim;
  const double matmul_params =
      num_hidden_layers * (c * q + 2 * c * kv + q * c + 3 * c * intermediate_size) +
      static_cast<double>(vocab_size) * c;
  const double attention = num_hidden_layers * 2.0 * q * static_cast<double>(context);
  return 2.0 * (matmul_params + attention);
}

namespace {

absl::StatusOr<ModelConfig> ConfigFromJson(const Json& j) {
  if (!j.is_object()) return Invalid(absl::StrCat("expected a JSON object, got ", TypeName(j)));
  ARC_RETURN_IF_ERROR(CheckArchitecture(j));

  ARC_ASSIGN_OR_RETURN(std::optional<std::string> act, GetString(j, "hidden_act"));
  if (act.has_value() && *act != "silu") {
    return Invalid(absl::StrCat("hidden_act '", *act, "' is not supported (only 'silu')"));
  }
  for (const char* key : {"attention_bias", "mlp_bias"}) {
    ARC_ASSIGN_OR_RETURN(std::optional<bool> bias, GetBool(j, key));
    if (bias.value_or(false)) {
      return Invalid(absl::StrCat(key, " must be false (biases are not supported)"));
    }
  }

  ModelConfig c;
  ARC_ASSIGN_OR_RETURN(auto vocab, GetInt(j, "vocab_size", true));
  ARC_ASSIGN_OR_RETURN(auto hidden, GetInt(j, "hidden_size", true));
  ARC_ASSIGN_OR_RETURN(auto inter, GetInt(j, "intermediate_size", true));
  ARC_ASSIGN_OR_RETURN(auto layers, GetInt(j, "num_hidden_layers", true));
  ARC_ASSIGN_OR_RETURN(auto heads, GetInt(j, "num_attention_heads", true));
  ARC_ASSIGN_OR_RETURN(auto kv_heads, GetInt(j, "num_key_value_heads", false));
  ARC_ASSIGN_OR_RETURN(auto head_dim, GetInt(j, "head_dim", false));
  ARC_ASSIGN_OR_RETURN(auto max_pos, GetInt(j, "max_position_embeddings", false));
  ARC_ASSIGN_OR_RETURN(auto eps, GetNumber(j, "", "rms_norm_eps", false));
  ARC_ASSIGN_OR_RETURN(auto theta, GetNumber(j, "", "rope_theta", false));
  ARC_ASSIGN_OR_RETURN(auto tie, GetBool(j, "tie_word_embeddings"));
  ARC_ASSIGN_OR_RETURN(c.rope_scaling, ParseRopeScaling(j));
  ARC_ASSIGN_OR_RETURN(c.bos_token_id, GetInt(j, "bos_token_id", false));
  ARC_ASSIGN_OR_RETURN(c.pad_token_id, GetInt(j, "pad_token_id", false));

  c.vocab_size = *vocab;
  c.hidden_size = *hidden;
  c.intermediate_size = *inter;
  c.num_hidden_layers = *layers;
  c.num_attention_heads = *heads;
  c.num_key_value_heads = kv_heads.value_or(*heads);
  if (head_dim.has_value()) {
    c.head_dim = *head_dim;
  } else {
    if (c.num_attention_heads <= 0 || c.hidden_size % c.num_attention_heads != 0) {
      return Invalid(absl::StrCat("hidden_size (", c.hidden_size,
                                  ") must be a multiple of num_attention_heads (",
                                  c.num_attention_heads, ") when head_dim is not set"));
    }
    c.head_dim = c.hidden_size / c.num_attention_heads;
  }
  if (max_pos.has_value()) c.max_position_embeddings = *max_pos;
  if (eps.has_value()) c.rms_norm_eps = *eps;
  if (theta.has_value()) c.rope_theta = *theta;
  c.tie_word_embeddings = tie.value_or(false);

  auto eos = j.find("eos_token_id");
  if (eos != j.end() && !eos->is_null()) {
    if (eos->is_number_integer()) {
      c.eos_token_ids.push_back(eos->get<int64_t>());
    } else if (eos->is_array()) {
      for (const Json& e : *eos) {
        if (!e.is_number_integer()) {
          return Invalid(
              absl::StrCat("field 'eos_token_id' must be an integer or a list of "
                           "integers, got ",
                           eos->dump()));
        }
        c.eos_token_ids.push_back(e.get<int64_t>());
      }
    } else {
      return Invalid(absl::StrCat(
          "field 'eos_token_id' must be an integer or a list of integers, got ", TypeName(*eos)));
    }
  }

  absl::Status valid = c.Validate();
  if (!valid.ok()) return Invalid(valid.message());
  return c;
}

}  // namespace

absl::StatusOr<ModelConfig> ParseModelConfig(std::string_view json_text) {
  // The field readers test every type before reading; GuardJson is the backstop for the library's
  // exceptions.
  return GuardJson("config.json", [&]() -> absl::StatusOr<ModelConfig> {
    absl::StatusOr<Json> j = ParseJson(json_text);
    if (!j.ok())
      return absl::Status(j.status().code(), absl::StrCat("config.json: ", j.status().message()));
    return ConfigFromJson(*j);
  });
}

absl::StatusOr<ModelConfig> LoadModelConfig(const std::string& path) {
  ARC_ASSIGN_OR_RETURN(std::string text, ReadFile(path, /*max_bytes=*/int64_t{1} << 20));
  absl::StatusOr<ModelConfig> config = ParseModelConfig(text);
  if (!config.ok()) {
    return absl::Status(config.status().code(),
                        absl::StrCat(path, ": ", config.status().message()));
  }
  return config;
}

}  // namespace arc
