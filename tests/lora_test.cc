// Tests of LoRA adapters over a shared, frozen base: identity at init, the update formula,
// training touches only adapter tensors, adapters do not interfere (also concurrently), Reset,
// PEFT save/load.
#include "core/model/lora.h"

#include <c10/core/InferenceMode.h>
#include <gtest/gtest.h>
#include <torch/optim/adamw.h>

#include <cmath>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "core/data/file_util.h"
#include "core/model/tensor_io.h"
#include "nlohmann/json.hpp"
#include "tests/model_test_util.h"
#include "tests/test_util.h"

namespace arc {
namespace {

using Json = nlohmann::json;
using K = ProjectionKind;

const std::vector<ProjectionKind> kAllTargets = {K::kQ,    K::kK,  K::kV,    K::kO,
                                                 K::kGate, K::kUp, K::kDown, K::kLmHead};

ModelConfig TinyConfig() { return arc::testing::TinyModelConfig(/*tied=*/false); }

LlamaForCausalLM Base() {
  LlamaForCausalLM model = CreateLlama(TinyConfig()).value();
  model->InitializeWeights(/*seed=*/42, /*std=*/0.2);
  return model;
}

std::unique_ptr<LoraAdapter> MakeAdapter(uint64_t seed, std::vector<ProjectionKind> targets,
                                         int64_t rank = 4, double alpha = 8.0) {
  LoraConfig c;
  c.rank = rank;
  c.alpha = alpha;
  c.targets = std::move(targets);
  c.seed = seed;
  absl::StatusOr<std::unique_ptr<LoraAdapter>> a = LoraAdapter::Create(TinyConfig(), c);
  EXPECT_TRUE(a.ok()) << a.status();
  return std::move(a).value();
}

at::Tensor Tokens() {
  return at::tensor(std::vector<int64_t>{1, 5, 9, 3, 17, 4, 4, 12, 19, 7, 1, 2, 3, 4, 5, 6},
                    at::kLong)
      .view({2, 8});
}

// One AdamW step of next-token cross-entropy on Tokens() through `adapter`.
void TrainSteps(const LlamaForCausalLM& model, LoraAdapter& adapter, int steps) {
  torch::optim::AdamW opt(adapter.Parameters(),
                          torch::optim::AdamWOptions(/*lr=*/1e-2).weight_decay(0.01));
  const at::Tensor tokens = Tokens();
  for (int s = 0; s < steps; ++s) {
    opt.zero_grad();
    const at::Tensor logits = model->forward(tokens, {}, &adapter);  // (B, T, V)
    const at::Tensor loss = at::cross_entropy_loss(logits.narrow(1, 0, 7).reshape({-1, 20}),
                                                   tokens.narrow(1, 1, 7).reshape({-1}));
    loss.backward();
    opt.step();
  }
}

std::map<std::string, at::Tensor> Snapshot(
    const std::vector<std::pair<std::string, at::Tensor>>& named) {
  std::map<std::string, at::Tensor> out;
  for (const auto& [n, t] : named) out[n] = t.detach().clone();
  return out;
}

std::map<std::string, at::Tensor> Snapshot(const std::map<std::string, at::Tensor>& named) {
  std::map<std::string, at::Tensor> out;
  for (const auto& [n, t] : named) out[n] = t.detach().clone();
  return out;
}

TEST(LoraTest, FreshAdapterLeavesTheBaseExactlyUnchanged) {
  LlamaForCausalLM model = Base();
  auto adapter = MakeAdapter(1, kAllTargets);
  c10::InferenceMode guard;
  EXPECT_TRUE(model->forward(Tokens(), {}, adapter.get()).equal(model->forward(Tokens())));
}

TEST(LoraTest, InitialisationIsKaimingUniformAndSeeded) {
  auto a = MakeAdapter(7, {K::kQ, K::kDown}, /*rank=*/8);
  auto b = MakeAdapter(7, {K::kQ, K::kDown}, /*rank=*/8);
  auto c = MakeAdapter(8, {K::kQ, K::kDown}, /*rank=*/8);
  const LoraWeights* q = a->Find(1, K::kQ);
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q->a.sizes(), (std::vector<int64_t>{8, 64}));
  EXPECT_EQ(q->b.sizes(), (std::vector<int64_t>{64, 8}));
  EXPECT_TRUE(q->b.equal(at::zeros({64, 8})));
  EXPECT_TRUE(q->a.requires_grad());
  // U(-1/sqrt(in), 1/sqrt(in)): down_proj has in = 128.
  const at::Tensor down = a->Find(0, K::kDown)->a;
  EXPECT_LE(down.abs().max().item<double>(), 1.0 / std::sqrt(128.0));
  EXPECT_NEAR(down.std().item<double>(), 1.0 / std::sqrt(128.0) / std::sqrt(3.0), 0.01);
  EXPECT_EQ(a->Find(0, K::kV), nullptr);
  EXPECT_EQ(a->Find(0, K::kLmHead), nullptr);
  const auto na = a->NamedParameters(), nb = b->NamedParameters(), nc = c->NamedParameters();
  ASSERT_EQ(na.size(), 8u);
  for (size_t i = 0; i < na.size(); ++i) {
    EXPECT_TRUE(na[i].second.equal(nb[i].second)) << na[i].first;
  }
  EXPECT_FALSE(na[0].second.equal(nc[0].second));
  EXPECT_EQ(a->NumParameters(), 2 * (8 * 64 + 64 * 8 + 8 * 128 + 64 * 8));
}

TEST(LoraTest, UpdateIsScaledBTimesA) {
  LlamaForCausalLM model = Base();
  auto adapter = MakeAdapter(3, {K::kLmHead}, /*rank=*/4, /*alpha=*/6.0);
  EXPECT_DOUBLE_EQ(adapter->scale(), 1.5);
  {
    at::NoGradGuard no_grad;
    at::Tensor b = adapter->Find(0, K::kLmHead)->b;
    b.copy_(at::linspace(-1, 1, b.numel()).view(b.sizes()));
  }
  c10::InferenceMode guard;
  const at::Tensor hidden = model->Hidden(Tokens());  // (B, T, C)
  const LoraWeights* w = adapter->Find(0, K::kLmHead);
  const at::Tensor want =
      model->Logits(hidden) + 1.5 * at::matmul(at::matmul(hidden, w->a.t()), w->b.t());
  EXPECT_TRUE(at::allclose(model->forward(Tokens(), {}, adapter.get()), want, 1e-5, 1e-5));
}

TEST(LoraTest, TrainingChangesOnlyAdapterTensors) {
  LlamaForCausalLM model = Base();
  const auto base_before = Snapshot(model->StateDict());
  auto adapter = MakeAdapter(5, {K::kQ, K::kV, K::kGate, K::kUp, K::kDown});
  const auto lora_before = Snapshot(adapter->NamedParameters());
  TrainSteps(model, *adapter, 1);
  for (const auto& [name, t] : model->StateDict()) {
    EXPECT_TRUE(t.equal(base_before.at(name))) << name;  // bit-identical
    EXPECT_FALSE(t.grad().defined()) << name;
  }
  int changed = 0;
  for (const auto& [name, t] : adapter->NamedParameters()) {
    changed += t.equal(lora_before.at(name)) ? 0 : 1;
    EXPECT_TRUE(t.grad().defined()) << name;
  }
  EXPECT_EQ(changed, 20);  // every A (weight decay) and every B (gradient) moved
  c10::InferenceMode guard;
  EXPECT_FALSE(model->forward(Tokens(), {}, adapter.get()).equal(model->forward(Tokens())));
}

TEST(LoraTest, AdaptersOnOneBaseDoNotInterfere) {
  LlamaForCausalLM model = Base();
  auto trained = MakeAdapter(1, {K::kQ, K::kV, K::kO});
  auto fresh = MakeAdapter(2, {K::kQ, K::kV, K::kO});
  TrainSteps(model, *trained, 2);
  c10::InferenceMode guard;
  const at::Tensor base = model->forward(Tokens());
  EXPECT_TRUE(model->forward(Tokens(), {}, fresh.get()).equal(base));
  EXPECT_FALSE(model->forward(Tokens(), {}, trained.get()).equal(base));
}

TEST(LoraTest, ConcurrentTrainingMatchesSequential) {
  LlamaForCausalLM model = Base();
  const std::vector<ProjectionKind> targets = {K::kQ, K::kV, K::kGate, K::kLmHead};
  auto seq1 = MakeAdapter(11, targets), seq2 = MakeAdapter(12, targets);
  TrainSteps(model, *seq1, 3);
  TrainSteps(model, *seq2, 3);
  auto par1 = MakeAdapter(11, targets), par2 = MakeAdapter(12, targets);
  std::thread t1([&] { TrainSteps(model, *par1, 3); });
  std::thread t2([&] { TrainSteps(model, *par2, 3); });
  t1.join();
  t2.join();
  const auto a = seq1->NamedParameters(), b = par1->NamedParameters();
  const auto c = seq2->NamedParameters(), d = par2->NamedParameters();
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_TRUE(at::allclose(a[i].second, b[i].second, 0, 1e-6)) << a[i].first;
    EXPECT_TRUE(at::allclose(c[i].second, d[i].second, 0, 1e-6)) << c[i].first;
  }
}

TEST(LoraTest, ResetRestoresInitialValuesBitExactly) {
  LlamaForCausalLM model = Base();
  auto adapter = MakeAdapter(9, kAllTargets);
  const auto initial = Snapshot(adapter->NamedParameters());
  TrainSteps(model, *adapter, 2);
  adapter->Reset();
  for (const auto& [name, t] : adapter->NamedParameters()) {
    EXPECT_TRUE(t.equal(initial.at(name))) << name;
    EXPECT_FALSE(t.grad().defined()) << name;
    EXPECT_TRUE(t.requires_grad()) << name;
  }
  // Training again from the reset state reproduces the first run.
  auto twin = MakeAdapter(9, kAllTargets);
  TrainSteps(model, *adapter, 2);
  TrainSteps(model, *twin, 2);
  const auto a = adapter->NamedParameters(), b = twin->NamedParameters();
  for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(a[i].second.equal(b[i].second)) << a[i].first;
}

TEST(LoraTest, DropoutOnlyInTrainingModeAndSeeded) {
  LoraConfig c;
  c.rank = 4;
  c.targets = {K::kQ};
  c.dropout = 0.5;
  c.seed = 3;
  auto adapter = LoraAdapter::Create(TinyConfig(), c).value();
  {
    at::NoGradGuard no_grad;
    adapter->Find(0, K::kQ)->b.fill_(0.1);
  }
  const at::Tensor x = at::ones({3, 64});
  const LoraWeights& w = *adapter->Find(0, K::kQ);
  const at::Tensor eval = adapter->Delta(x, w);
  EXPECT_TRUE(adapter->Delta(x, w).equal(eval));
  adapter->SetTraining(true);
  const at::Tensor d1 = adapter->Delta(x, w);
  const at::Tensor d2 = adapter->Delta(x, w);
  EXPECT_FALSE(d1.equal(eval));
  EXPECT_FALSE(d1.equal(d2));
  adapter->Reset();  // restores B = 0 and rewinds the dropout stream
  EXPECT_TRUE(adapter->Delta(x, w).equal(at::zeros({3, 64})));
  {
    at::NoGradGuard no_grad;
    adapter->Find(0, K::kQ)->b.fill_(0.1);
  }
  EXPECT_TRUE(adapter->Delta(x, w).equal(d2));  // the stream continues after the rewind's draw
}

TEST(LoraTest, PeftSaveLoadRoundTrip) {
  LlamaForCausalLM model = Base();
  auto adapter = MakeAdapter(4, {K::kQ, K::kV, K::kGate, K::kLmHead}, /*rank=*/4, /*alpha=*/16);
  TrainSteps(model, *adapter, 1);
  const std::string dir = testing::TempDir("lora_peft");
  ASSERT_TRUE(adapter->Save(dir).ok());

  // Exact PEFT names and shapes in the file.
  auto tensors = LoadTensors(dir + "/adapter_model.safetensors").value();
  std::vector<std::string> names;
  for (const auto& [n, t] : tensors) names.push_back(n);
  const std::vector<std::string> want = {
      "base_model.model.lm_head.lora_A.weight",
      "base_model.model.lm_head.lora_B.weight",
      "base_model.model.model.layers.0.mlp.gate_proj.lora_A.weight",
      "base_model.model.model.layers.0.mlp.gate_proj.lora_B.weight",
      "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight",
      "base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight",
      "base_model.model.model.layers.0.self_attn.v_proj.lora_A.weight",
      "base_model.model.model.layers.0.self_attn.v_proj.lora_B.weight",
      "base_model.model.model.layers.1.mlp.gate_proj.lora_A.weight",
      "base_model.model.model.layers.1.mlp.gate_proj.lora_B.weight",
      "base_model.model.model.layers.1.self_attn.q_proj.lora_A.weight",
      "base_model.model.model.layers.1.self_attn.q_proj.lora_B.weight",
      "base_model.model.model.layers.1.self_attn.v_proj.lora_A.weight",
      "base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight"};
  EXPECT_EQ(names, want);
  EXPECT_EQ(tensors.at("base_model.model.model.layers.1.self_attn.v_proj.lora_A.weight").sizes(),
            (std::vector<int64_t>{4, 64}));
  EXPECT_EQ(tensors.at("base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight").sizes(),
            (std::vector<int64_t>{32, 4}));
  EXPECT_EQ(tensors.at("base_model.model.lm_head.lora_B.weight").sizes(),
            (std::vector<int64_t>{20, 4}));

  const Json config = Json::parse(ReadFile(dir + "/adapter_config.json").value());
  EXPECT_EQ(config["peft_type"], "LORA");
  EXPECT_EQ(config["task_type"], "CAUSAL_LM");
  EXPECT_EQ(config["r"], 4);
  EXPECT_EQ(config["lora_alpha"], 16.0);
  EXPECT_EQ(config["lora_dropout"], 0.0);
  EXPECT_EQ(config["bias"], "none");
  EXPECT_EQ(config["target_modules"], Json::array({"q_proj", "v_proj", "gate_proj", "lm_head"}));

  absl::StatusOr<std::unique_ptr<LoraAdapter>> loaded = LoraAdapter::Load(dir, TinyConfig());
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  const auto a = adapter->NamedParameters(), b = (*loaded)->NamedParameters();
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].first, b[i].first);
    EXPECT_TRUE(a[i].second.equal(b[i].second)) << a[i].first;
  }
  // The loaded values are the loaded adapter's reset point.
  (*loaded)->Reset();
  EXPECT_TRUE((*loaded)->NamedParameters()[1].second.equal(a[1].second));
}

TEST(LoraTest, LoadRefusesUnsupportedPeftOptions) {
  auto adapter = MakeAdapter(4, {K::kQ});
  const std::string dir = testing::TempDir("lora_bad");
  ASSERT_TRUE(adapter->Save(dir).ok());
  auto with = [&](const std::string& key, const Json& value) {
    Json j = Json::parse(adapter->ConfigJson());
    j[key] = value;
    EXPECT_TRUE(WriteFileAtomic(dir + "/adapter_config.json", j.dump()).ok());
    absl::StatusOr<std::unique_ptr<LoraAdapter>> r = LoraAdapter::Load(dir, TinyConfig());
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
    return std::string(r.status().message());
  };
  const std::string p = dir + "/adapter_config.json: ";
  EXPECT_EQ(with("use_dora", true), p + "'use_dora' is not supported (must be false)");
  EXPECT_EQ(with("use_rslora", true), p + "'use_rslora' is not supported (must be false)");
  EXPECT_EQ(with("bias", "all"), p + "bias \"all\" is not supported (only \"none\")");
  EXPECT_EQ(with("peft_type", "IA3"), p + "peft_type \"IA3\" is not supported (only \"LORA\")");
  EXPECT_EQ(with("layers_to_transform", Json::array({0})),
            p + "'layers_to_transform' is not supported (must be null)");
  EXPECT_EQ(with("target_modules", Json::array({"w1"})),
            p + "unknown LoRA target 'w1' (expected q_proj, k_proj, v_proj, o_proj, gate_proj, "
                "up_proj, down_proj or lm_head)");
  EXPECT_EQ(with("r", 0), p + "rank must be positive, got 0");
  // A rank that disagrees with the tensors is caught by the shape check.
  EXPECT_EQ(with("r", 8), dir +
                              "/adapter_model.safetensors: LoRA tensor "
                              "'base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight' "
                              "has shape [4, 64], expected [8, 64]");
  EXPECT_EQ(LoraAdapter::Load("/nonexistent", TinyConfig()).status().code(),
            absl::StatusCode::kNotFound);
}

TEST(LoraTest, ConfigValidation) {
  LoraConfig c;
  c.rank = 0;
  EXPECT_EQ(LoraAdapter::Create(TinyConfig(), c).status().message(),
            "LoRA rank must be positive, got 0");
  c = LoraConfig();
  c.targets = {K::kQ, K::kQ};
  EXPECT_EQ(LoraAdapter::Create(TinyConfig(), c).status().message(),
            "LoRA targets lists 'q_proj' twice");
  c = LoraConfig();
  c.dropout = 1.0;
  EXPECT_EQ(LoraAdapter::Create(TinyConfig(), c).status().message(),
            "LoRA dropout must be in [0, 1), got 1");
  EXPECT_EQ(PeftTensorName(3, K::kUp, true),
            "base_model.model.model.layers.3.mlp.up_proj.lora_B.weight");
}

}  // namespace
}  // namespace arc
