// Tests of the Llama decoder: Hugging Face parameter names, golden logits against the independent
// float64 reference (tests/golden/llama_reference.py), left-padded batches, KV-cached steps,
// state-dict loading errors, model-directory round trips, bf16.
#include "core/model/llama.h"

#include <c10/core/InferenceMode.h>
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "core/data/file_util.h"
#include "core/model/kv_cache.h"
#include "core/model/tensor_io.h"
#include "nlohmann/json.hpp"
#include "tests/model_test_util.h"
#include "tests/test_util.h"

namespace arc {
namespace {

using Json = nlohmann::json;

constexpr double kGoldenTolerance = 1e-4;  // absolute, on logits of magnitude <= ~8

ModelConfig TinyConfig(bool tied) {
  ModelConfig c = arc::testing::TinyModelConfig(tied);
  c.bos_token_id = 1;
  c.eos_token_ids = {2};
  return c;
}

LlamaForCausalLM RandomModel(bool tied, uint64_t seed, ModelOptions options = {}) {
  LlamaForCausalLM model = CreateLlama(TinyConfig(tied), options).value();
  model->InitializeWeights(seed, /*std=*/0.2);
  return model;
}

const Json& Expected() {
  static const Json* j = [] {
    absl::StatusOr<std::string> text =
        ReadFile(std::string(ARC_SOURCE_DIR) + "/tests/golden/llama_expected.json");
    EXPECT_TRUE(text.ok()) << text.status();
    return new Json(Json::parse(text.value()));
  }();
  return *j;
}

LlamaForCausalLM LoadVariant(const std::string& name, const ModelOptions& options = {}) {
  const Json& v = Expected()["variants"][name];
  const std::string dir = std::string(ARC_TESTDATA_DIR) + "/";
  absl::StatusOr<ModelConfig> config = LoadModelConfig(dir + v["config"].get<std::string>());
  EXPECT_TRUE(config.ok()) << config.status();
  absl::StatusOr<std::map<std::string, at::Tensor>> tensors =
      LoadTensors(dir + v["weights"].get<std::string>());
  EXPECT_TRUE(tensors.ok()) << tensors.status();
  LlamaForCausalLM model = CreateLlama(*config, options).value();
  absl::Status loaded = model->LoadStateDict(*tensors);
  EXPECT_TRUE(loaded.ok()) << loaded;
  return model;
}

// The reference logits of sequence `i` under `variant`, (T, V) double.
at::Tensor ExpectedLogits(const std::string& variant, size_t i) {
  const Json& rows = Expected()["variants"][variant]["logits"][i];
  std::vector<double> flat;
  for (const Json& r : rows) {
    for (const Json& x : r) flat.push_back(x.get<double>());
  }
  return at::tensor(flat, at::kDouble).view({static_cast<int64_t>(rows.size()), -1});
}

std::vector<std::vector<int64_t>> Sequences() {
  return Expected()["sequences"].get<std::vector<std::vector<int64_t>>>();
}

// Left-pads `seqs` into (tokens, mask).
std::pair<at::Tensor, at::Tensor> LeftPad(const std::vector<std::vector<int64_t>>& seqs,
                                          int64_t pad) {
  size_t len = 0;
  for (const auto& s : seqs) len = std::max(len, s.size());
  const int64_t b = static_cast<int64_t>(seqs.size()), t = static_cast<int64_t>(len);
  at::Tensor tokens = at::full({b, t}, pad, at::kLong);
  at::Tensor mask = at::zeros({b, t}, at::kLong);
  for (int64_t i = 0; i < b; ++i) {
    const int64_t n = static_cast<int64_t>(seqs[i].size());
    for (int64_t k = 0; k < n; ++k) tokens[i][t - n + k] = seqs[i][k];
    mask[i].narrow(0, t - n, n).fill_(1);
  }
  return {tokens, mask};
}

at::Tensor Row(const std::vector<int64_t>& s) {
  return at::tensor(s, at::kLong).unsqueeze(0);  // (1, T)
}

double MaxAbsDiff(const at::Tensor& a, const at::Tensor& b) {
  return (a.to(at::kDouble) - b.to(at::kDouble)).abs().max().item<double>();
}

TEST(LlamaTest, ParameterNamesAreHuggingFaces) {
  for (bool tied : {false, true}) {
    LlamaForCausalLM model = CreateLlama(TinyConfig(tied)).value();
    std::vector<std::string> names;
    std::vector<std::vector<int64_t>> shapes;
    for (const auto& item : model->named_parameters()) {
      names.push_back(item.key());
      shapes.push_back(item.value().sizes().vec());
      EXPECT_FALSE(item.value().requires_grad()) << item.key();
    }
    std::vector<std::string> want = {"model.embed_tokens.weight"};
    std::vector<std::vector<int64_t>> want_shapes = {{20, 64}};
    for (int l = 0; l < 2; ++l) {
      const std::string p = "model.layers." + std::to_string(l) + ".";
      for (const auto& [n, s] : std::vector<std::pair<std::string, std::vector<int64_t>>>{
               {"self_attn.q_proj.weight", {64, 64}},
               {"self_attn.k_proj.weight", {32, 64}},
               {"self_attn.v_proj.weight", {32, 64}},
               {"self_attn.o_proj.weight", {64, 64}},
               {"mlp.gate_proj.weight", {128, 64}},
               {"mlp.up_proj.weight", {128, 64}},
               {"mlp.down_proj.weight", {64, 128}},
               {"input_layernorm.weight", {64}},
               {"post_attention_layernorm.weight", {64}}}) {
        want.push_back(p + n);
        want_shapes.push_back(s);
      }
    }
    want.push_back("model.norm.weight");
    want_shapes.push_back({64});
    if (!tied) {
      want.push_back("lm_head.weight");
      want_shapes.push_back({20, 64});
    }
    EXPECT_EQ(names, want) << "tied=" << tied;
    EXPECT_EQ(shapes, want_shapes);
    int64_t count = 0;
    for (const auto& item : model->named_parameters()) count += item.value().numel();
    EXPECT_EQ(count, model->config().NumParameters());
  }
}

// Each sequence's logits in `logits` (B, 13, V), the left-padded batch's forward, and the sequence
// run alone without padding or mask, match the reference's.
void ExpectGoldenLogits(const LlamaForCausalLM& model, const std::string& name,
                        const std::vector<std::vector<int64_t>>& seqs, const at::Tensor& logits) {
  for (size_t i = 0; i < seqs.size(); ++i) {
    const int64_t n = static_cast<int64_t>(seqs[i].size()), pad = 13 - n;
    const at::Tensor expected = ExpectedLogits(name, i);  // (n, V)
    EXPECT_LT(MaxAbsDiff(logits[i].narrow(0, pad, n), expected), kGoldenTolerance)
        << "sequence " << i;
    EXPECT_LT(MaxAbsDiff(model->forward(Row(seqs[i]))[0], expected), kGoldenTolerance)
        << "sequence " << i << " alone";
  }
}

TEST(LlamaTest, GoldenLogitsLeftPaddedBatch) {
  const auto seqs = Sequences();
  const auto [tokens, mask] = LeftPad(seqs, Expected()["pad_token_id"].get<int64_t>());
  for (const std::string name : {"tied", "untied", "untied_llama3"}) {
    SCOPED_TRACE(name);
    LlamaForCausalLM model = LoadVariant(name);
    c10::InferenceMode guard;
    const at::Tensor logits = model->forward(tokens, mask);  // (B, T, V)
    ASSERT_EQ(logits.sizes(), (std::vector<int64_t>{3, 13, 20}));
    ASSERT_EQ(logits.scalar_type(), at::kFloat);
    ExpectGoldenLogits(model, name, seqs, logits);
  }
}

TEST(LlamaTest, GoldenLogitsWithOneQueryRowPerAttentionBlock) {
  // The smallest attention blocks (core/model/attention.h): one query row at a time against the
  // keys it can see, for the padded batch and each sequence alone, still match the reference.
  ModelOptions options;
  options.attention_block_elements = 1;
  const auto seqs = Sequences();
  const auto [tokens, mask] = LeftPad(seqs, Expected()["pad_token_id"].get<int64_t>());
  for (const std::string name : {"tied", "untied_llama3"}) {
    SCOPED_TRACE(name);
    LlamaForCausalLM model = LoadVariant(name, options);
    c10::InferenceMode guard;
    ExpectGoldenLogits(model, name, seqs, model->forward(tokens, mask));
  }
}

TEST(LlamaTest, LlamaThreeScalingChangesTheLogits) {
  // Guards the fixture itself: the rope_scaling variant must differ from plain RoPE by far more
  // than the tolerance, or the golden test would not test the scaling.
  const Json& a = Expected()["variants"]["untied"]["logits"][0];
  const Json& b = Expected()["variants"]["untied_llama3"]["logits"][0];
  double max_diff = 0;
  for (size_t t = 0; t < a.size(); ++t) {
    for (size_t v = 0; v < a[t].size(); ++v) {
      max_diff = std::max(max_diff, std::abs(a[t][v].get<double>() - b[t][v].get<double>()));
    }
  }
  EXPECT_GT(max_diff, 100 * kGoldenTolerance);
}

TEST(LlamaTest, LoadsModelDirectories) {
  for (const std::string name : {"tied", "untied"}) {
    absl::StatusOr<LlamaForCausalLM> model =
        LoadLlamaDir(std::string(ARC_TESTDATA_DIR) + "/golden/" + name);
    ASSERT_TRUE(model.ok()) << model.status();
    c10::InferenceMode guard;
    const std::vector<int64_t> seq = Sequences()[1];
    EXPECT_LT(MaxAbsDiff((*model)->forward(Row(seq))[0], ExpectedLogits(name, 1)),
              kGoldenTolerance);
  }
  EXPECT_EQ(LoadLlamaDir("/nonexistent").status().code(), absl::StatusCode::kNotFound);
}

TEST(LlamaTest, SaveLoadDirectoryRoundTripIsExact) {
  LlamaForCausalLM model = RandomModel(/*tied=*/false, 7);
  const std::string dir = testing::TempDir("llama_dir");
  ASSERT_TRUE(SaveLlamaDir(model, dir).ok());
  absl::StatusOr<LlamaForCausalLM> again = LoadLlamaDir(dir);
  ASSERT_TRUE(again.ok()) << again.status();
  for (const auto& [name, t] : model->StateDict()) {
    EXPECT_TRUE(t.equal((*again)->StateDict().at(name))) << name;
  }
  EXPECT_EQ((*again)->config().ToJson(), model->config().ToJson());
}

TEST(LlamaTest, LoadStateDictErrors) {
  LlamaForCausalLM model = RandomModel(/*tied=*/false, 1);
  const at::Tensor before = model->StateDict().at("model.norm.weight").clone();
  std::map<std::string, at::Tensor> sd;
  for (const auto& [k, v] : model->StateDict()) sd[k] = v.clone();

  auto missing = sd;
  missing.erase("model.layers.1.mlp.up_proj.weight");
  absl::Status s = model->LoadStateDict(missing);
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(s.message(), "missing tensor \"model.layers.1.mlp.up_proj.weight\"");

  auto misshapen = sd;
  misshapen["model.layers.0.self_attn.k_proj.weight"] = at::zeros({64, 64});
  s = model->LoadStateDict(misshapen);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(),
            "tensor \"model.layers.0.self_attn.k_proj.weight\": shape [64, 64], expected [32, 64]");

  auto extra = sd;
  extra["model.layers.2.mlp.up_proj.weight"] = at::zeros({1});
  s = model->LoadStateDict(extra);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "1 unexpected tensor: \"model.layers.2.mlp.up_proj.weight\"");

  auto integer = sd;
  integer["model.norm.weight"] = at::ones({64}, at::kLong);
  s = model->LoadStateDict(integer);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(),
            "tensor \"model.norm.weight\": dtype Long, expected a floating-point type");

  // A failed load leaves the parameters untouched.
  auto changed = missing;
  changed["model.norm.weight"] = at::full({64}, 3.0);
  EXPECT_FALSE(model->LoadStateDict(changed).ok());
  EXPECT_TRUE(model->StateDict().at("model.norm.weight").equal(before));

  // Old checkpoints' rotary buffers are ignored; so is lm_head in a tied model.
  auto with_buffers = sd;
  with_buffers["model.layers.0.self_attn.rotary_emb.inv_freq"] = at::zeros({8});
  EXPECT_TRUE(model->LoadStateDict(with_buffers).ok());
  LlamaForCausalLM tied = CreateLlama(TinyConfig(true)).value();
  EXPECT_TRUE(tied->LoadStateDict(sd).ok());
}

TEST(LlamaTest, KvCachedStepsEqualFullRecomputation) {
  LlamaForCausalLM model = RandomModel(/*tied=*/false, 3);
  c10::InferenceMode guard;
  const std::vector<std::vector<int64_t>> prompts = {
      {1, 4, 7, 9, 3}, {1, 8}, {1, 2, 3, 5, 6, 11, 12}};
  const std::vector<std::vector<int64_t>> continuations = {
      {5, 6, 7, 8, 9, 10}, {11, 12, 13, 14, 15, 16}, {17, 18, 19, 1, 2, 3}};
  auto [tokens, mask] = LeftPad(prompts, 0);
  KvCache cache(model->config(), 3, tokens.size(1) + 6, model->options().tensor_options());
  at::Tensor step_logits = model->LastLogits(tokens, mask, nullptr, &cache);  // (B, V)
  for (int step = 0; step <= 6; ++step) {
    // Full recomputation over prompt + the continuation so far.
    std::vector<std::vector<int64_t>> full = prompts;
    for (size_t i = 0; i < 3; ++i) {
      full[i].insert(full[i].end(), continuations[i].begin(), continuations[i].begin() + step);
    }
    auto [ft, fm] = LeftPad(full, 0);
    const at::Tensor want = model->forward(ft, fm).select(1, ft.size(1) - 1);  // (B, V)
    EXPECT_LT(MaxAbsDiff(step_logits, want), 1e-5) << "step " << step;
    // Each sequence alone agrees with its row of the batch.
    for (size_t i = 0; i < 3; ++i) {
      const at::Tensor alone = model->LastLogits(Row(full[i]))[0];
      EXPECT_LT(MaxAbsDiff(step_logits[i], alone), 1e-5) << "step " << step << " row " << i;
    }
    if (step == 6) break;
    std::vector<int64_t> next;
    for (size_t i = 0; i < 3; ++i) next.push_back(continuations[i][step]);
    step_logits = model->LastLogits(at::tensor(next, at::kLong).view({3, 1}), {}, nullptr, &cache);
  }
  EXPECT_EQ(cache.length(), tokens.size(1) + 6);
  EXPECT_EQ(cache.next_position()[1].item<int64_t>(), 2 + 6);
}

TEST(LlamaTest, KvCacheKeepRowsDropsSequences) {
  LlamaForCausalLM model = RandomModel(/*tied=*/true, 4);
  c10::InferenceMode guard;
  const std::vector<std::vector<int64_t>> prompts = {{1, 4, 7}, {1, 8, 9, 10, 11}, {1, 2}};
  auto [tokens, mask] = LeftPad(prompts, 0);
  KvCache cache(model->config(), 3, 8, model->options().tensor_options());
  model->LastLogits(tokens, mask, nullptr, &cache);
  cache.KeepRows(at::tensor(std::vector<int64_t>{2, 0}, at::kLong));
  EXPECT_EQ(cache.batch_size(), 2);
  const at::Tensor logits = model->LastLogits(
      at::tensor(std::vector<int64_t>{13, 14}, at::kLong).view({2, 1}), {}, nullptr, &cache);
  EXPECT_LT(MaxAbsDiff(logits[0], model->LastLogits(Row({1, 2, 13}))[0]), 1e-5);
  EXPECT_LT(MaxAbsDiff(logits[1], model->LastLogits(Row({1, 4, 7, 14}))[0]), 1e-5);
}

TEST(LlamaTest, HiddenLogitsAndLastLogitsAgreeWithForward) {
  LlamaForCausalLM model = RandomModel(/*tied=*/false, 5);
  c10::InferenceMode guard;
  const at::Tensor tokens = Row({1, 3, 5, 7, 9});
  const at::Tensor full = model->forward(tokens);
  EXPECT_TRUE(model->Logits(model->Hidden(tokens)).equal(full));
  EXPECT_TRUE(model->LastLogits(tokens).equal(full.select(1, 4)));
}

TEST(LlamaTest, InitializeWeightsIsSeeded) {
  LlamaForCausalLM a = RandomModel(false, 11), b = RandomModel(false, 11),
                   c = RandomModel(false, 12);
  for (const auto& [name, t] : a->StateDict()) {
    EXPECT_TRUE(t.equal(b->StateDict().at(name))) << name;
  }
  EXPECT_FALSE(a->StateDict().at("lm_head.weight").equal(c->StateDict().at("lm_head.weight")));
  const at::Tensor w = a->StateDict().at("model.layers.0.mlp.gate_proj.weight");
  EXPECT_NEAR(w.std().item<double>(), 0.2, 0.01);
  EXPECT_TRUE(a->StateDict().at("model.norm.weight").equal(at::ones({64})));
}

TEST(LlamaTest, ConcurrentForwardsOnOneModel) {
  LlamaForCausalLM model = RandomModel(false, 6);
  const at::Tensor tokens = Row({1, 3, 5, 7, 9, 11, 13});
  at::Tensor want;
  {
    c10::InferenceMode guard;
    want = model->forward(tokens);
  }
  std::vector<at::Tensor> got(4);
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      c10::InferenceMode guard;
      for (int k = 0; k < 5; ++k) got[i] = model->forward(tokens);
    });
  }
  for (auto& t : threads) t.join();
  for (const at::Tensor& g : got) EXPECT_TRUE(g.equal(want));
}

TEST(LlamaTest, BFloat16IsCloseToFloat32) {
  LlamaForCausalLM f32 = LoadVariant("untied");
  ModelOptions bf16_options;
  bf16_options.dtype = at::kBFloat16;
  LlamaForCausalLM bf16 = CreateLlama(f32->config(), bf16_options).value();
  ASSERT_TRUE(bf16->LoadStateDict(f32->StateDict()).ok());
  EXPECT_EQ(bf16->StateDict().at("model.norm.weight").scalar_type(), at::kBFloat16);
  c10::InferenceMode guard;
  const auto [tokens, mask] = LeftPad(Sequences(), 0);
  const at::Tensor a = f32->forward(tokens, mask), b = bf16->forward(tokens, mask);
  EXPECT_EQ(b.scalar_type(), at::kFloat);
  EXPECT_FALSE(b.isnan().any().item<bool>());
  // bf16 keeps 8 bits of mantissa: logits of magnitude ~5 agree to a few tenths.
  EXPECT_LT(MaxAbsDiff(a.select(0, 0), b.select(0, 0)), 0.5);
}

TEST(LlamaTest, RejectsMalformedInputs) {
  LlamaForCausalLM model = RandomModel(false, 2);
  c10::InferenceMode guard;
  EXPECT_THROW(model->forward(at::zeros({2, 3}, at::kInt)), c10::Error);
  EXPECT_THROW(model->forward(at::zeros({2, 3}, at::kLong), at::ones({2, 4}, at::kLong)),
               c10::Error);
  EXPECT_EQ(CreateLlama(ModelConfig{}).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace arc
