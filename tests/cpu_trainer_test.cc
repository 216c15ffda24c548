// Tests of the direct float32 CPU LoRA training step (core/model/cpu_trainer.h) against libtorch
// autograd through the same model: the loss and every adapter gradient on packed rows of different
// lengths (several attention blocks), with tied and untied heads, a whole optimizer step through
// TrainStep, TTT's use of it, cancellation, and what it refuses.
#include "core/model/cpu_trainer.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <c10/util/Exception.h>
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/data/rng.h"
#include "core/model/interrupt.h"
#include "core/model/lora.h"
#include "core/model/training.h"
#include "core/solve/ttt.h"
#include "tests/model_test_util.h"

namespace arc {
namespace {

LlamaForCausalLM Model(bool tied) {
  LlamaForCausalLM model = CreateLlama(arc::testing::TinyModelConfig(tied)).value();
  model->InitializeWeights(/*seed=*/7, /*std=*/0.2);
  return model;
}

// An adapter on every projection and the LM head, with non-zero B so every gradient is non-zero.
std::unique_ptr<LoraAdapter> Adapter(const LlamaForCausalLM& model, uint64_t seed = 3) {
  LoraConfig config;
  config.rank = 4;
  config.alpha = 8;
  config.seed = seed;
  config.targets = {ProjectionKind::kQ,    ProjectionKind::kK,     ProjectionKind::kV,
                    ProjectionKind::kO,    ProjectionKind::kGate,  ProjectionKind::kUp,
                    ProjectionKind::kDown, ProjectionKind::kLmHead};
  auto adapter = LoraAdapter::Create(model->config(), config).value();
  at::NoGradGuard no_grad;
  at::Generator generator = at::detail::createCPUGenerator(seed);
  for (const auto& [name, t] : adapter->NamedParameters()) {
    if (name.find("lora_B") != std::string::npos) t.normal_(0.0, 0.3, generator);
  }
  return adapter;
}

// Samples of the given lengths with random tokens and a loss mask on about half the positions
// (always on the last one).
std::vector<RenderedPrompt> Samples(const std::vector<int>& lengths, int64_t vocab, uint64_t seed) {
  Rng rng(seed);
  std::vector<RenderedPrompt> out;
  for (int n : lengths) {
    RenderedPrompt p;
    for (int t = 0; t < n; ++t) {
      p.ids.push_back(static_cast<int>(rng.Below(static_cast<uint64_t>(vocab))));
      p.loss_mask.push_back(t == n - 1 || rng.Below(2) == 0);
    }
    p.prompt_length = n / 2;
    p.answer_end = n;
    out.push_back(std::move(p));
  }
  return out;
}

TrainingBatch Batch(const std::vector<RenderedPrompt>& samples) {
  std::vector<const RenderedPrompt*> rows;
  for (const RenderedPrompt& p : samples) rows.push_back(&p);
  return MakeTrainingBatch(rows, /*pad_id=*/0);
}

std::map<std::string, at::Tensor> Gradients(const LoraAdapter& adapter) {
  std::map<std::string, at::Tensor> out;
  for (const auto& [name, t] : adapter.NamedParameters()) {
    out.emplace(name, t.grad().defined() ? t.grad().clone() : at::Tensor());
    t.mutable_grad().reset();
  }
  return out;
}

void ExpectSameLossAndGradients(bool tied, const std::vector<int>& lengths) {
  LlamaForCausalLM model = Model(tied);
  auto adapter = Adapter(model);
  const std::vector<RenderedPrompt> samples = Samples(lengths, model->config().vocab_size, 11);
  const TrainingBatch batch = Batch(samples);
  const double scale = 0.5;

  const at::Tensor loss = MaskedLoss(*model, adapter.get(), batch);
  (loss * scale).backward();
  const std::map<std::string, at::Tensor> want = Gradients(*adapter);

  CpuLoraTrainer trainer(*model, *adapter);
  const double got_loss = trainer.LossAndGradients(batch, scale);
  const std::map<std::string, at::Tensor> got = Gradients(*adapter);
  EXPECT_NEAR(got_loss, loss.item<double>(), 1e-5 * std::abs(loss.item<double>()));
  for (const auto& [name, g] : want) {
    ASSERT_TRUE(g.defined()) << name;
    ASSERT_TRUE(got.at(name).defined()) << name;
    const double top = g.abs().max().item<double>();
    ASSERT_GT(top, 0) << name;
    // Float32 sums in another order: about 1e-6 of the largest entry measured.
    EXPECT_LT((got.at(name) - g).abs().max().item<double>(), 1e-4 * top)
        << name << ": max difference " << (got.at(name) - g).abs().max().item<double>()
        << " of gradients up to " << top;
  }
}

TEST(CpuLoraTrainerTest, LossAndGradientsMatchAutograd) {
  // 150 tokens: three blocks of query rows; 1 token of loss in a 2-token row.
  ExpectSameLossAndGradients(/*tied=*/false, {37, 150, 2, 64});
}

TEST(CpuLoraTrainerTest, LossAndGradientsMatchAutogradWithTiedHead) {
  ExpectSameLossAndGradients(/*tied=*/true, {65, 9});
}

TEST(CpuLoraTrainerTest, GradientsAccumulateAcrossCalls) {
  LlamaForCausalLM model = Model(false);
  auto adapter = Adapter(model);
  const TrainingBatch batch = Batch(Samples({20, 31}, model->config().vocab_size, 5));
  CpuLoraTrainer trainer(*model, *adapter);
  trainer.LossAndGradients(batch, 1.0);
  const std::map<std::string, at::Tensor> once = Gradients(*adapter);
  trainer.LossAndGradients(batch, 0.25);
  trainer.LossAndGradients(batch, 0.75);
  const std::map<std::string, at::Tensor> twice = Gradients(*adapter);
  for (const auto& [name, g] : once) {
    const double top = g.abs().max().item<double>();
    EXPECT_LT((twice.at(name) - g).abs().max().item<double>(), 1e-5 * top) << name;
  }
  EXPECT_GT(trainer.saved_bytes(), 0);
}

// A whole TTT run on the direct path ends where the autograd run ends, to float32 rounding.
TEST(CpuLoraTrainerTest, TrainAdapterMatchesAutograd) {
  LlamaForCausalLM model = Model(false);
  const std::vector<RenderedPrompt> samples =
      Samples({30, 45, 12, 70, 25}, model->config().vocab_size, 9);
  TttTrainOptions options;
  options.batch_size = 2;
  options.epochs = 2;
  options.learning_rate = 1e-3;
  options.clip_grad_norm = 1.0;
  std::map<std::string, at::Tensor> trained[2];
  double last_loss[2] = {0, 0};
  for (int direct = 0; direct < 2; ++direct) {
    auto adapter = Adapter(model);
    options.direct_cpu = direct == 1;
    const TttTrainStats stats = TrainAdapter(*model, *adapter, samples, options, {}, {}).value();
    EXPECT_EQ(stats.steps, 6);
    last_loss[direct] = stats.last_loss;
    for (const auto& [name, t] : adapter->NamedParameters()) trained[direct][name] = t.clone();
  }
  EXPECT_NEAR(last_loss[1], last_loss[0], 1e-4 * last_loss[0]);
  for (const auto& [name, t] : trained[0]) {
    EXPECT_TRUE(at::allclose(trained[1].at(name), t, 1e-4, 1e-5))
        << name << ": max difference " << (trained[1].at(name) - t).abs().max().item<float>();
  }
}

TEST(CpuLoraTrainerTest, CancellationStopsTheStep) {
  LlamaForCausalLM model = Model(false);
  auto adapter = Adapter(model);
  const TrainingBatch batch = Batch(Samples({40, 40}, model->config().vocab_size, 2));
  const at::Tensor before = adapter->Parameters()[0].clone();
  std::map<std::string, at::Tensor> params;
  for (const auto& [name, t] : adapter->NamedParameters()) params.emplace(name, t);
  AdamW optimizer(params, AdamWOptions{});
  CpuLoraTrainer trainer(*model, *adapter);
  TrainStepOptions options;
  options.learning_rate = 1e-2;
  options.direct = &trainer;
  int polls = 0;
  options.is_cancelled = [&polls] { return ++polls > 2; };  // trips at the forward's 2nd layer
  const absl::StatusOr<TrainStepResult> r =
      TrainStep(*model, adapter.get(), optimizer, {batch}, options);
  ASSERT_EQ(r.status().code(), absl::StatusCode::kCancelled) << r.status();
  EXPECT_TRUE(at::equal(adapter->Parameters()[0], before));
  for (const at::Tensor& t : adapter->Parameters()) EXPECT_FALSE(t.grad().defined());
}

TEST(CpuLoraTrainerTest, SupportsOnlyFloat32CpuAdaptersWithoutDropout) {
  LlamaForCausalLM model = Model(false);
  auto adapter = Adapter(model);
  EXPECT_TRUE(CpuLoraTrainer::Supports(*model, adapter.get()));
  EXPECT_FALSE(CpuLoraTrainer::Supports(*model, nullptr));
  LoraConfig dropout;
  dropout.dropout = 0.1;
  auto with_dropout = LoraAdapter::Create(model->config(), dropout).value();
  EXPECT_FALSE(CpuLoraTrainer::Supports(*model, with_dropout.get()));
  ModelOptions bf16;
  bf16.dtype = at::kBFloat16;
  LlamaForCausalLM half = CreateLlama(model->config(), bf16).value();
  auto half_adapter = LoraAdapter::Create(model->config(), LoraConfig{}, bf16).value();
  EXPECT_FALSE(CpuLoraTrainer::Supports(*half, half_adapter.get()));
  EXPECT_THROW(CpuLoraTrainer(*half, *half_adapter), c10::Error);
}

TEST(CpuLoraTrainerTest, RejectsTokensOutsideTheVocabulary) {
  LlamaForCausalLM model = Model(false);
  auto adapter = Adapter(model);
  std::vector<RenderedPrompt> samples = Samples({10}, model->config().vocab_size, 1);
  samples[0].ids[4] = static_cast<int>(model->config().vocab_size);
  CpuLoraTrainer trainer(*model, *adapter);
  EXPECT_THROW(trainer.LossAndGradients(Batch(samples), 1.0), c10::Error);
}

}  // namespace
}  // namespace arc
