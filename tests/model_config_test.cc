#include "core/model/model_config.h"

#include <gtest/gtest.h>

#include <string>

#include "absl/strings/match.h"
#include "core/text/tokenizer.h"
#include "nlohmann/json.hpp"

namespace arc {
namespace {

using Json = nlohmann::json;

// A Llama-3.2-1B-like config.json (the fields transformers writes).
Json Llama32Config() {
  return Json::parse(R"({
    "architectures": ["LlamaForCausalLM"],
    "attention_bias": false,
    "attention_dropout": 0.0,
    "bos_token_id": 128000,
    "eos_token_id": [128001, 128008, 128009],
    "head_dim": 64,
    "hidden_act": "silu",
    "hidden_size": 2048,
    "initializer_range": 0.02,
    "intermediate_size": 8192,
    "max_position_embeddings": 131072,
    "mlp_bias": false,
    "model_type": "llama",
    "num_attention_heads": 32,
    "num_hidden_layers": 16,
    "num_key_value_heads": 8,
    "pretraining_tp": 1,
    "rms_norm_eps": 1e-05,
    "rope_scaling": {
      "factor": 32.0,
      "high_freq_factor": 4.0,
      "low_freq_factor": 1.0,
      "original_max_position_embeddings": 8192,
      "rope_type": "llama3"
    },
    "rope_theta": 500000.0,
    "tie_word_embeddings": true,
    "torch_dtype": "bfloat16",
    "transformers_version": "4.45.0.dev0",
    "use_cache": true,
    "vocab_size": 128256
  })");
}

Json Minimal() {
  return Json::parse(R"({"model_type": "llama", "vocab_size": 20, "hidden_size": 64,
    "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4})");
}

std::string ErrorOf(const Json& j) {
  absl::StatusOr<ModelConfig> c = ParseModelConfig(j.dump());
  EXPECT_FALSE(c.ok());
  if (c.ok()) return "";
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(c.status().message());
}

// ErrorOf Minimal() with `key` set to `value`.
std::string ErrorWith(const std::string& key, const Json& value) {
  Json j = Minimal();
  j[key] = value;
  return ErrorOf(j);
}

TEST(ModelConfigTest, ParsesLlama32) {
  absl::StatusOr<ModelConfig> c = ParseModelConfig(Llama32Config().dump());
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->vocab_size, 128256);
  EXPECT_EQ(c->hidden_size, 2048);
  EXPECT_EQ(c->intermediate_size, 8192);
  EXPECT_EQ(c->num_hidden_layers, 16);
  EXPECT_EQ(c->num_attention_heads, 32);
  EXPECT_EQ(c->num_key_value_heads, 8);
  EXPECT_EQ(c->head_dim, 64);
  EXPECT_DOUBLE_EQ(c->rms_norm_eps, 1e-5);
  EXPECT_DOUBLE_EQ(c->rope_theta, 500000.0);
  ASSERT_TRUE(c->rope_scaling.has_value());
  EXPECT_DOUBLE_EQ(c->rope_scaling->factor, 32.0);
  EXPECT_DOUBLE_EQ(c->rope_scaling->low_freq_factor, 1.0);
  EXPECT_DOUBLE_EQ(c->rope_scaling->high_freq_factor, 4.0);
  EXPECT_EQ(c->rope_scaling->original_max_position_embeddings, 8192);
  EXPECT_EQ(c->max_position_embeddings, 131072);
  EXPECT_TRUE(c->tie_word_embeddings);
  EXPECT_EQ(c->bos_token_id, 128000);
  EXPECT_EQ(c->eos_token_ids, (std::vector<int64_t>{128001, 128008, 128009}));
  // Llama-3.2-1B has 1.236B parameters with tied embeddings.
  EXPECT_EQ(c->NumParameters(), 1235814400);
}

TEST(ModelConfigTest, DefaultsOfOptionalFields) {
  absl::StatusOr<ModelConfig> c = ParseModelConfig(Minimal().dump());
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->num_key_value_heads, 4);
  EXPECT_EQ(c->head_dim, 16);
  EXPECT_DOUBLE_EQ(c->rms_norm_eps, 1e-6);
  EXPECT_DOUBLE_EQ(c->rope_theta, 10000.0);
  EXPECT_FALSE(c->rope_scaling.has_value());
  EXPECT_EQ(c->max_position_embeddings, 2048);
  EXPECT_FALSE(c->tie_word_embeddings);
  EXPECT_FALSE(c->bos_token_id.has_value());
  EXPECT_TRUE(c->eos_token_ids.empty());
}

TEST(ModelConfigTest, ArchitecturesAloneIdentifyLlama) {
  Json j = Minimal();
  j.erase("model_type");
  j["architectures"] = {"LlamaForCausalLM"};
  j["eos_token_id"] = 2;
  j["rope_scaling"] = nullptr;
  absl::StatusOr<ModelConfig> c = ParseModelConfig(j.dump());
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->eos_token_ids, std::vector<int64_t>{2});
}

TEST(ModelConfigTest, RoundTripsThroughToJson) {
  absl::StatusOr<ModelConfig> c = ParseModelConfig(Llama32Config().dump());
  ASSERT_TRUE(c.ok());
  absl::StatusOr<ModelConfig> again = ParseModelConfig(c->ToJson());
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->ToJson(), c->ToJson());
  EXPECT_EQ(again->eos_token_ids, c->eos_token_ids);
  EXPECT_EQ(again->rope_scaling->original_max_position_embeddings, 8192);
  const Json j = Json::parse(c->ToJson());
  EXPECT_EQ(j["model_type"], "llama");
  EXPECT_EQ(j["architectures"], Json::array({"LlamaForCausalLM"}));
  EXPECT_EQ(j["rope_scaling"]["rope_type"], "llama3");
}

TEST(ModelConfigTest, RefusesOtherArchitectures) {
  EXPECT_EQ(ErrorWith("model_type", "mistral"),
            "config.json: model_type 'mistral' is not supported (only 'llama')");
  EXPECT_EQ(ErrorWith("architectures", {"LlamaForSequenceClassification"}),
            "config.json: architectures [\"LlamaForSequenceClassification\"] is not supported "
            "(only [\"LlamaForCausalLM\"])");
  Json j = Minimal();
  j.erase("model_type");
  EXPECT_EQ(ErrorOf(j),
            "config.json: neither model_type nor architectures is set (expected model_type "
            "'llama')");
}

TEST(ModelConfigTest, RefusesUnsupportedValues) {
  EXPECT_EQ(ErrorWith("hidden_act", "gelu"),
            "config.json: hidden_act 'gelu' is not supported (only 'silu')");
  EXPECT_EQ(ErrorWith("attention_bias", true),
            "config.json: attention_bias must be false (biases are not supported)");
  EXPECT_EQ(ErrorWith("mlp_bias", true),
            "config.json: mlp_bias must be false (biases are not supported)");
  EXPECT_EQ(ErrorWith("rope_scaling", {{"rope_type", "linear"}, {"factor", 2.0}}),
            "config.json: rope_scaling.rope_type 'linear' is not supported (only 'llama3')");
  EXPECT_EQ(ErrorWith("rope_scaling", {{"type", "dynamic"}, {"factor", 2.0}}),
            "config.json: rope_scaling.rope_type 'dynamic' is not supported (only 'llama3')");
  EXPECT_EQ(ErrorWith("rope_scaling", {{"rope_type", "llama3"},
                                       {"factor", 8.0},
                                       {"low_freq_factor", 1.0},
                                       {"high_freq_factor", 4.0}}),
            "config.json: missing required field 'rope_scaling.original_max_position_embeddings'");
  EXPECT_EQ(ErrorWith("rope_scaling", {{"rope_type", "llama3"}, {"factor", "8"}}),
            "config.json: field 'rope_scaling.factor' must be a number, got string");
}

TEST(ModelConfigTest, RefusesMissingAndMistypedFields) {
  Json j = Minimal();
  j.erase("hidden_size");
  EXPECT_EQ(ErrorOf(j), "config.json: missing required field 'hidden_size'");
  EXPECT_EQ(ErrorWith("vocab_size", "20"),
            "config.json: field 'vocab_size' must be an integer, got string");
  EXPECT_EQ(ErrorWith("num_hidden_layers", 2.5),
            "config.json: field 'num_hidden_layers' must be an integer, got number");
  EXPECT_EQ(ErrorWith("tie_word_embeddings", 1),
            "config.json: field 'tie_word_embeddings' must be a boolean, got number");
  EXPECT_EQ(
      ErrorWith("eos_token_id", "2"),
      "config.json: field 'eos_token_id' must be an integer or a list of integers, got string");
  EXPECT_EQ(ParseModelConfig("{not json").status().message(),
            "config.json: invalid JSON at byte 3: syntax error while parsing object key - invalid "
            "literal; last read: '{no'; expected string literal");
  EXPECT_EQ(ParseModelConfig("[1]").status().message(),
            "config.json: expected a JSON object, got array");
}

TEST(ModelConfigTest, ValidatesSizes) {
  EXPECT_EQ(ErrorWith("num_key_value_heads", 3),
            "config.json: num_attention_heads (4) must be a multiple of num_key_value_heads (3)");
  EXPECT_EQ(ErrorWith("hidden_size", 0), "config.json: hidden_size must be positive, got 0");
  EXPECT_EQ(ErrorWith("hidden_size", 65),
            "config.json: hidden_size (65) must be a multiple of num_attention_heads (4) when "
            "head_dim is not set");
  EXPECT_EQ(ErrorWith("intermediate_size", -1),
            "config.json: intermediate_size must be positive, got -1");
  EXPECT_EQ(ErrorWith("head_dim", 15),
            "config.json: head_dim (15) must be even for rotary embeddings");
  EXPECT_EQ(ErrorWith("eos_token_id", 20),
            "config.json: eos_token_id 20 is outside the vocabulary [0, 20)");
  EXPECT_EQ(ErrorWith("rope_scaling", {{"rope_type", "llama3"},
                                       {"factor", 8.0},
                                       {"low_freq_factor", 4.0},
                                       {"high_freq_factor", 1.0},
                                       {"original_max_position_embeddings", 64}}),
            "config.json: rope_scaling needs 0 < low_freq_factor < high_freq_factor, got 4 and 1");
}

// A number that overflows a double names its field (regression: nlohmann's out_of_range escaped
// as an exception); an unsigned value beyond int64 is out of range rather than negative.
TEST(ModelConfigTest, NumbersOutOfRangeNameTheField) {
  std::string text = Minimal().dump();
  text.insert(text.size() - 1, R"(,"rope_theta":1e3080)");
  absl::StatusOr<ModelConfig> c = ParseModelConfig(text);
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(c.status().message(),
            "config.json: rope_theta: number 1e3080 is out of range (it overflows a double), at "
            "byte 144");
  EXPECT_EQ(ErrorWith("hidden_size", uint64_t{18446744073709551615u}),
            "config.json: field 'hidden_size' is out of range, got 18446744073709551615");
}

// Sizes have upper bounds, so that no product of them (parameter counts, tensor shapes) overflows.
TEST(ModelConfigTest, SizesHaveUpperBounds) {
  EXPECT_EQ(ErrorWith("vocab_size", int64_t{1} << 40),
            "config.json: vocab_size must be at most 16777216, got 1099511627776");
  EXPECT_EQ(ErrorWith("num_hidden_layers", 5000),
            "config.json: num_hidden_layers must be at most 4096, got 5000");
  EXPECT_EQ(ErrorWith("intermediate_size", int64_t{1} << 62),
            "config.json: intermediate_size must be at most 1048576, got 4611686018427387904");
  EXPECT_EQ(ErrorWith("max_position_embeddings", int64_t{1} << 30),
            "config.json: max_position_embeddings must be at most 16777216, got 1073741824");
  // The largest configuration allowed counts its parameters without overflow.
  ModelConfig big = ParseModelConfig(Minimal().dump()).value();
  big.vocab_size = int64_t{1} << 24;
  big.hidden_size = big.intermediate_size = int64_t{1} << 20;
  big.num_hidden_layers = int64_t{1} << 12;
  big.num_attention_heads = big.num_key_value_heads = int64_t{1} << 10;
  big.head_dim = int64_t{1} << 16;
  ASSERT_TRUE(big.Validate().ok()) << big.Validate();
  EXPECT_GT(big.NumParameters(), 0);
}

TEST(ModelConfigTest, ExplicitHeadDimNeedNotDivideHidden) {
  Json j = Minimal();
  j["head_dim"] = 32;  // 4 heads x 32 = 128 != hidden 64, as some Llama variants do
  absl::StatusOr<ModelConfig> c = ParseModelConfig(j.dump());
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->head_dim, 32);
  // embed 20*64 + 2 layers * (q 64*128 + k,v 2*64*128 + o 128*64 + mlp 3*64*128 + norms 128)
  // + final norm 64 + lm_head 20*64.
  EXPECT_EQ(c->NumParameters(), 1280 + 2 * (8192 + 16384 + 8192 + 24576 + 128) + 64 + 1280);
}

TEST(ModelConfigTest, LoadReportsThePath) {
  absl::StatusOr<ModelConfig> c = LoadModelConfig("/nonexistent/config.json");
  EXPECT_EQ(c.status().code(), absl::StatusCode::kNotFound);
  absl::StatusOr<ModelConfig> golden =
      LoadModelConfig(std::string(ARC_TESTDATA_DIR) + "/golden/untied_llama3/config.json");
  ASSERT_TRUE(golden.ok()) << golden.status();
  EXPECT_EQ(golden->rope_scaling->original_max_position_embeddings, 64);
  EXPECT_DOUBLE_EQ(golden->rope_theta, 20000.0);
}

TEST(NamedModelConfigTest, EachNameKeepsItsShape) {
  // The parameter counts are those arc-init-model printed and arc-bench measured before the table
  // existed; a change here changes their files and rows.
  const std::vector<std::pair<std::string, int64_t>> expected = {
      {"tiny", 10336},          {"small", 4238592},           {"golden", 76608},
      {"small-kv4", 4435200},   {"llama-3.2-1b", 1235814400}, {"llama3-2layer", 34800896}};
  ASSERT_EQ(NamedModelConfigs().size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    const NamedModelConfig& named = NamedModelConfigs()[i];
    EXPECT_EQ(named.name, expected[i].first);
    EXPECT_TRUE(named.config.Validate().ok()) << named.name << ": " << named.config.Validate();
    EXPECT_EQ(named.config.NumParameters(), expected[i].second) << named.name;
    EXPECT_EQ(named.config.max_position_embeddings, named.llama3 ? 131072 : 2048) << named.name;
    EXPECT_DOUBLE_EQ(named.config.rms_norm_eps, 1e-5) << named.name;
    EXPECT_FALSE(named.description.empty()) << named.name;
  }
  const ModelConfig small = FindModelConfig("small", "--preset").value();
  EXPECT_EQ(small.num_hidden_layers, 6);
  EXPECT_EQ(small.num_key_value_heads, 2);
  EXPECT_EQ(small.vocab_size, kCompactVocabSize);
  EXPECT_EQ(small.bos_token_id, kCompactBos);
  EXPECT_EQ(small.eos_token_ids, std::vector<int64_t>{kCompactEos});
  EXPECT_EQ(small.pad_token_id, kCompactPad);
  const ModelConfig golden = FindModelConfig("golden", "--configs").value();
  EXPECT_EQ(golden.vocab_size, 20);
  EXPECT_EQ(golden.head_dim, 16);
  EXPECT_FALSE(golden.bos_token_id.has_value());
  EXPECT_TRUE(golden.eos_token_ids.empty());
  EXPECT_EQ(FindModelConfig("small-kv4", "--configs")->num_key_value_heads, 4);
  // Llama-3.2-1B's config.json (meta-llama/Llama-3.2-1B-Instruct), field by field; its published
  // parameter count is 1.23B with the embedding counted once (tied).
  const ModelConfig l1b = FindModelConfig("llama-3.2-1b", "--preset").value();
  EXPECT_EQ(l1b.vocab_size, 128256);
  EXPECT_EQ(l1b.hidden_size, 2048);
  EXPECT_EQ(l1b.intermediate_size, 8192);
  EXPECT_EQ(l1b.num_hidden_layers, 16);
  EXPECT_EQ(l1b.num_attention_heads, 32);
  EXPECT_EQ(l1b.num_key_value_heads, 8);
  EXPECT_EQ(l1b.head_dim, 64);
  EXPECT_TRUE(l1b.tie_word_embeddings);
  EXPECT_DOUBLE_EQ(l1b.rope_theta, 500000.0);
  ASSERT_TRUE(l1b.rope_scaling.has_value());
  EXPECT_DOUBLE_EQ(l1b.rope_scaling->factor, 32.0);
  EXPECT_DOUBLE_EQ(l1b.rope_scaling->low_freq_factor, 1.0);
  EXPECT_DOUBLE_EQ(l1b.rope_scaling->high_freq_factor, 4.0);
  EXPECT_EQ(l1b.rope_scaling->original_max_position_embeddings, 8192);
  EXPECT_EQ(l1b.bos_token_id, 128000);
  EXPECT_EQ(l1b.eos_token_ids, (std::vector<int64_t>{128001, 128008, 128009}));
  const ModelConfig l2 = FindModelConfig("llama3-2layer", "--preset").value();
  EXPECT_EQ(l2.num_hidden_layers, 2);
  EXPECT_EQ(l2.vocab_size, l1b.vocab_size);
  EXPECT_TRUE(l2.tie_word_embeddings);
  EXPECT_DOUBLE_EQ(l2.rope_scaling->factor, 32.0);
}

TEST(NamedModelConfigTest, UnknownNamesListTheTable) {
  EXPECT_EQ(ModelConfigNames(), "tiny, small, golden, small-kv4, llama-3.2-1b, llama3-2layer");
  EXPECT_EQ(ModelConfigNames(/*compact_only=*/true), "tiny, small");
  absl::StatusOr<ModelConfig> c = FindModelConfig("big", "--configs");
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(c.status().message(),
            "--configs: \"big\" is not one of tiny, small, golden, small-kv4, llama-3.2-1b, "
            "llama3-2layer");
  // golden is no compact configuration: arc-init-model cannot build a compact model from it.
  c = FindModelConfig("golden", "--preset", /*compact_only=*/true);
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(c.status().message(), "--preset: \"golden\" is not one of tiny, small");
  const std::string help = ModelConfigHelp(/*compact_only=*/true);
  EXPECT_TRUE(absl::StrContains(help, "  tiny           1 layer of width 32")) << help;
  EXPECT_FALSE(absl::StrContains(help, "golden")) << help;
  EXPECT_TRUE(absl::StrContains(ModelConfigHelp(), "  small-kv4      small with 4 KV heads"));
}

TEST(NamedModelConfigTest, CheckTokenIdNamesTheIdAndTheVocabulary) {
  EXPECT_TRUE(CheckTokenId("pad_token_id", 15, 16).ok());
  absl::Status s = CheckTokenId("pad_token_id", 16, 16);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "pad_token_id 16 is outside the vocabulary [0, 16)");
  EXPECT_EQ(CheckTokenId("stop token", -1, 16).message(),
            "stop token -1 is outside the vocabulary [0, 16)");
}

}  // namespace
}  // namespace arc
