// Tests of core/model/training.h, the step shared by TTT and pretraining: batching, the masked loss
// against a loss computed from the full logits, the schedule's values, clipping, AdamW against
// torch.optim.AdamW bit for bit, and gradient accumulation.
#include "core/model/training.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/optim/adamw.h>

#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "core/model/llama.h"
#include "model_test_util.h"

namespace arc {
namespace {

RenderedPrompt Prompt(std::vector<int> ids, std::vector<uint8_t> mask, int prompt_length = 0,
                      int answer_end = 0) {
  RenderedPrompt p;
  p.ids = std::move(ids);
  p.loss_mask = std::move(mask);
  p.prompt_length = prompt_length;
  p.answer_end = answer_end;
  return p;
}

TEST(TrainingBatchTest, RightPadsAndPointsEachTargetAtThePreviousPosition) {
  const RenderedPrompt a = Prompt({1, 2, 3, 4}, {0, 0, 1, 1}, /*prompt_length=*/3,
                                  /*answer_end=*/4);
  const RenderedPrompt b = Prompt({5, 6}, {1, 1});  // position 0 has no predecessor: no target
  const TrainingBatch batch = MakeTrainingBatch({&a, &b}, /*pad_id=*/9);
  EXPECT_TRUE(
      at::equal(batch.tokens, at::tensor({1, 2, 3, 4, 5, 6, 9, 9}, at::kLong).view({2, 4})));
  EXPECT_TRUE(at::equal(batch.positions, at::tensor({1, 2, 4}, at::kLong)));
  EXPECT_TRUE(at::equal(batch.targets, at::tensor({3, 4, 6}, at::kLong)));
  EXPECT_EQ(batch.row_of, (std::vector<int>{0, 0, 1}));
  EXPECT_EQ(batch.answer, (std::vector<uint8_t>{0, 1, 0}));
  EXPECT_EQ(batch.real_tokens, 6);
  EXPECT_EQ(batch.padded_tokens, 8);
  EXPECT_EQ(CountLossTokens(a), 2);
  EXPECT_EQ(CountLossTokens(b), 1);
}

TEST(MaskedLossTest, IsTheMeanNegativeLogLikelihoodOfTheTargetsFromTheFullLogits) {
  const auto model = testing::TinyCompactModel(/*seed=*/3);
  const RenderedPrompt a = Prompt({1, 2, 3, 4, 5}, {0, 0, 1, 0, 1});
  const RenderedPrompt b = Prompt({6, 7, 8}, {0, 1, 1});
  const TrainingBatch batch = MakeTrainingBatch({&a, &b}, /*pad_id=*/0);
  const double loss = MaskedLoss(*model->net, nullptr, batch).item<double>();

  // Independently: every position's logits, then -log softmax at the hand-listed targets. Row b is
  // computed alone, so right padding must not have changed it.
  const at::Tensor la = model->net->forward(at::tensor({1, 2, 3, 4, 5}, at::kLong).view({1, 5}));
  const at::Tensor lb = model->net->forward(at::tensor({6, 7, 8}, at::kLong).view({1, 3}));
  auto nll = [](const at::Tensor& logits, int t, int target) {
    const at::Tensor row = logits[0][t].to(at::kDouble);
    return (row.exp().sum().log() - row[target]).item<double>();
  };
  // Targets: a[2]=3 from position 1, a[4]=5 from 3; b[1]=7 from 0, b[2]=8 from 1.
  const double expected = (nll(la, 1, 3) + nll(la, 3, 5) + nll(lb, 0, 7) + nll(lb, 1, 8)) / 4;
  EXPECT_NEAR(loss, expected, 1e-5);
  EXPECT_GT(loss, 1.0);  // an untrained model: far from 0
}

TEST(ScheduleTest, PretrainingRampCosineAndFloor) {
  const LrSchedule s{1e-3, 10, 0.1};
  EXPECT_DOUBLE_EQ(WarmupCosineLearningRate(s, 0, 0), 1e-4);
  EXPECT_DOUBLE_EQ(WarmupCosineLearningRate(s, 4, 0), 5e-4);
  EXPECT_DOUBLE_EQ(WarmupCosineLearningRate(s, 9, 0), 1e-3);
  EXPECT_DOUBLE_EQ(WarmupCosineLearningRate(s, 50, 0.5), 1e-3 * 0.55);
  EXPECT_DOUBLE_EQ(WarmupCosineLearningRate(s, 100, 1.0), 1e-4);
  EXPECT_DOUBLE_EQ(WarmupCosineLearningRate(s, 100, 3.0), 1e-4);  // progress is clamped
  // The cosine applies during the ramp too: half way through the budget at step 4.
  EXPECT_DOUBLE_EQ(WarmupCosineLearningRate(s, 4, 0.5), 5e-4 * 0.55);
  // The rounding of the ramp, bit for bit: peak * ((step + 1) / warmup).
  const LrSchedule p{1.5e-3, 100, 0};
  for (int step = 0; step < 100; ++step) {
    EXPECT_EQ(WarmupCosineLearningRate(p, step, 0), 1.5e-3 * ((step + 1) / 100.0)) << step;
  }
}

TEST(ScheduleTest, TttRampThenCosineToZero) {
  const LrSchedule s{3e-3, 4, 0, LrSchedule::Ramp::kPeakTimesStepOverWarmup};
  EXPECT_DOUBLE_EQ(WarmupCosineLearningRate(s, 0, 0), 7.5e-4);
  EXPECT_DOUBLE_EQ(WarmupCosineLearningRate(s, 3, 0), 3e-3);
  EXPECT_DOUBLE_EQ(WarmupCosineLearningRate(s, 4, 0), 3e-3);
  EXPECT_DOUBLE_EQ(WarmupCosineLearningRate(s, 6, 0.5), 1.5e-3);
  EXPECT_NEAR(WarmupCosineLearningRate(s, 7, 0.75), 3e-3 * 0.5 * (1 - std::sqrt(0.5)), 1e-18);
  EXPECT_DOUBLE_EQ(WarmupCosineLearningRate(s, 8, 1.0), 0);
  // The paper's lr * s / W, bit for bit, and lr * 0.5 * (1 + cos) after it.
  const LrSchedule t{3e-3, 25, 0, LrSchedule::Ramp::kPeakTimesStepOverWarmup};
  for (int step = 0; step < 25; ++step) {
    EXPECT_EQ(WarmupCosineLearningRate(t, step, 0), 3e-3 * (step + 1) / 25) << step;
  }
  for (double progress : {0.1, 0.3, 0.7, 0.9}) {
    EXPECT_EQ(WarmupCosineLearningRate(t, 30, progress),
              3e-3 * 0.5 * (1.0 + std::cos(M_PI * progress)));
  }
}

// Two parameters with gradients (3, 0) and (0, 4): global norm 5.
std::map<std::string, at::Tensor> GradsOfNormFive() {
  at::Tensor a = at::zeros({2}).set_requires_grad(true);
  at::Tensor b = at::zeros({1, 2}).set_requires_grad(true);
  a.mutable_grad() = at::tensor({3.0f, 0.0f});
  b.mutable_grad() = at::tensor({0.0f, 4.0f}).view({1, 2});
  return {{"a", a}, {"b", b}};
}

TEST(ClipGradNormTest, ScalesToTheLimitAndReportsTheNormBefore) {
  for (GradNormSum sum : {GradNormSum::kNormOfNorms, GradNormSum::kDoubleSumOfSquares}) {
    std::map<std::string, at::Tensor> params = GradsOfNormFive();
    AdamW opt(params, AdamWOptions{});
    EXPECT_NEAR(opt.ClipGradNorm(0, sum), 5.0, 1e-6);  // measures only
    EXPECT_FLOAT_EQ(params["a"].grad()[0].item<float>(), 3.0f);
    EXPECT_NEAR(opt.ClipGradNorm(10, sum), 5.0, 1e-6);  // under the limit: unchanged
    EXPECT_FLOAT_EQ(params["b"].grad()[0][1].item<float>(), 4.0f);
    EXPECT_NEAR(opt.ClipGradNorm(1, sum), 5.0, 1e-6);
    EXPECT_NEAR(params["a"].grad()[0].item<float>(), 0.6f, 1e-6);
    EXPECT_NEAR(params["b"].grad()[0][1].item<float>(), 0.8f, 1e-6);
    EXPECT_NEAR(opt.ClipGradNorm(0, sum), 1.0, 1e-6);
  }
}

TEST(AdamWTest, DecayingEveryParameterIsTorchAdamWBitForBit) {
  at::manual_seed(0);
  const at::Tensor w0 = at::randn({4, 3}), b0 = at::randn({3});
  at::Tensor w1 = w0.clone().set_requires_grad(true), b1 = b0.clone().set_requires_grad(true);
  at::Tensor w2 = w0.clone().set_requires_grad(true), b2 = b0.clone().set_requires_grad(true);
  AdamW ours({{"w", w1}, {"b", b1}}, AdamWOptions{0.9, 0.999, 1e-8, 0.01, /*decay_vectors=*/true});
  torch::optim::AdamW theirs(
      {w2, b2}, torch::optim::AdamWOptions(0.01).betas({0.9, 0.999}).eps(1e-8).weight_decay(0.01));
  const at::Tensor x = at::randn({5, 4});
  for (int step = 0; step < 6; ++step) {
    const double lr = 0.01 * (step + 1) / 6;
    for (auto& group : theirs.param_groups()) {
      static_cast<torch::optim::AdamWOptions&>(group.options()).lr(lr);
    }
    ours.ZeroGrad();
    theirs.zero_grad();
    (at::matmul(x, w1) + b1).pow(2).sum().backward();
    (at::matmul(x, w2) + b2).pow(2).sum().backward();
    ours.Step(lr);
    theirs.step();
    ASSERT_TRUE(at::equal(w1, w2)) << "step " << step;
    ASSERT_TRUE(at::equal(b1, b2)) << "step " << step;
  }
}

TEST(TrainStepTest, AccumulatesBatchesAndReportsTheirMeanLoss) {
  const auto model = testing::TinyCompactModel(/*seed=*/5);
  const RenderedPrompt a = Prompt({1, 2, 3, 4}, {0, 1, 1, 1});
  const RenderedPrompt b = Prompt({5, 6, 7}, {0, 0, 1});
  std::vector<TrainingBatch> batches = {MakeTrainingBatch({&a}, 0), MakeTrainingBatch({&b}, 0)};
  const double la = MaskedLoss(*model->net, nullptr, batches[0]).item<double>();
  const double lb = MaskedLoss(*model->net, nullptr, batches[1]).item<double>();

  std::map<std::string, at::Tensor> params = model->net->StateDict();
  for (auto& [name, p] : params) p.set_requires_grad(true);
  const at::Tensor before = params.at("lm_head.weight").clone();
  AdamW opt(params, AdamWOptions{});
  TrainStepOptions o;
  o.learning_rate = 1e-2;
  o.grad_accum = 2;
  o.clip_grad_norm = 1e-3;  // far below the norm: clipped
  const TrainStepResult r = TrainStep(*model->net, nullptr, opt, batches, o).value();
  EXPECT_DOUBLE_EQ(r.loss, (la + lb) / 2);
  EXPECT_GT(r.grad_norm, 1e-3);
  EXPECT_EQ(r.loss_tokens, 4);
  EXPECT_EQ(r.real_tokens, 7);
  EXPECT_EQ(r.padded_tokens, 7);
  EXPECT_FALSE(at::equal(before, params.at("lm_head.weight")));
  EXPECT_FALSE(params.at("lm_head.weight").grad().defined());  // gradients dropped after the step
  EXPECT_EQ(opt.StateTensors().at("step/lm_head.weight").item<int64_t>(), 1);

  const absl::StatusOr<TrainStepResult> none = TrainStep(*model->net, nullptr, opt, {}, o);
  EXPECT_EQ(none.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(TrainStepTest, CancellationStopsAForwardPassBetweenBlocksAndAppliesNothing) {
  const auto model = testing::TinyCompactModel(/*seed=*/5);
  ASSERT_GE(model->net->config().num_hidden_layers, 2);
  const RenderedPrompt a = Prompt({1, 2, 3, 4}, {0, 1, 1, 1});
  const std::vector<TrainingBatch> batches = {MakeTrainingBatch({&a}, 0)};
  std::map<std::string, at::Tensor> params = model->net->StateDict();
  for (auto& [name, p] : params) p.set_requires_grad(true);
  const at::Tensor before = params.at("lm_head.weight").clone();
  AdamW opt(params, AdamWOptions{});
  TrainStepOptions o;
  o.learning_rate = 1e-2;
  // The check before the micro-batch, then one before each block: true at the second block.
  int polls = 0;
  o.is_cancelled = [&] { return ++polls > 2; };
  const absl::StatusOr<TrainStepResult> r = TrainStep(*model->net, nullptr, opt, batches, o);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(r.status().message(), "train step cancelled during a forward pass (0 of 1 micro-batches)");
  EXPECT_EQ(polls, 3);
  EXPECT_TRUE(at::equal(before, params.at("lm_head.weight")));
  EXPECT_EQ(opt.StateTensors().at("step/lm_head.weight").item<int64_t>(), 0);

  // Outside the step, forward passes are not interrupted: the scope ended with it.
  EXPECT_NO_THROW(MaskedLoss(*model->net, nullptr, batches[0]));
}

}  // namespace
}  // namespace arc
