// Tests of batched greedy decoding and continuation scoring against naive full-recomputation
// loops over the same model.
#include "core/model/decode.h"

#include <c10/core/InferenceMode.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <atomic>
#include <set>
#include <vector>

#include "core/model/lora.h"
#include "tests/model_test_util.h"

namespace arc {
namespace {

ModelConfig TinyConfig() { return arc::testing::TinyModelConfig(/*tied=*/true); }

LlamaForCausalLM Model() {
  LlamaForCausalLM model = CreateLlama(TinyConfig()).value();
  model->InitializeWeights(/*seed=*/123, /*std=*/0.3);
  return model;
}

const std::vector<std::vector<int64_t>> kPrompts = {
    {1, 5, 9, 3}, {1, 11}, {1, 18, 16, 10, 5, 5, 9}, {1, 2, 3, 4, 5}, {7}};

struct Naive {
  std::vector<int64_t> tokens;
  double sum_logprob = 0;
};

// Greedy decoding by recomputing the whole sequence every step (no cache, no batch).
Naive NaiveGreedy(const LlamaForCausalLM& model, const LoraAdapter* adapter,
                  const std::vector<int64_t>& prompt, int64_t max_new,
                  std::set<int64_t> stops = {}) {
  c10::InferenceMode guard;
  std::vector<int64_t> seq = prompt;
  Naive out;
  for (int64_t i = 0; i < max_new; ++i) {
    const at::Tensor logits =
        model->forward(at::tensor(seq, at::kLong).unsqueeze(0), {}, adapter)[0][-1];  // (V)
    const int64_t next = logits.argmax().item<int64_t>();
    out.sum_logprob += at::log_softmax(logits, -1)[next].item<double>();
    if (stops.count(next)) break;
    out.tokens.push_back(next);
    seq.push_back(next);
  }
  return out;
}

TEST(DecodeTest, MatchesNaiveGreedyInBatchesAndAlone) {
  LlamaForCausalLM model = Model();
  DecodeOptions options;
  options.max_new_tokens = 8;
  options.max_batch_size = 3;  // two chunks
  absl::StatusOr<std::vector<DecodeResult>> batched =
      GreedyDecode(*model, nullptr, kPrompts, options);
  ASSERT_TRUE(batched.ok()) << batched.status();
  ASSERT_EQ(batched->size(), kPrompts.size());
  for (size_t i = 0; i < kPrompts.size(); ++i) {
    const Naive want = NaiveGreedy(model, nullptr, kPrompts[i], 8);
    const DecodeResult& got = (*batched)[i];
    EXPECT_EQ(got.tokens, want.tokens) << "prompt " << i;
    EXPECT_NEAR(got.sum_logprob, want.sum_logprob, 1e-4);
    EXPECT_EQ(got.finish_reason, FinishReason::kMaxNewTokens);
    EXPECT_EQ(got.prompt_tokens, static_cast<int64_t>(kPrompts[i].size()));
    EXPECT_EQ(got.generated_tokens, 8);
    EXPECT_EQ(got.stop_token, -1);
    auto alone = GreedyDecode(*model, nullptr, {kPrompts[i]}, options);
    ASSERT_TRUE(alone.ok());
    EXPECT_EQ((*alone)[0].tokens, got.tokens);
  }
}

TEST(DecodeTest, StopsOnStopTokensPerSequence) {
  LlamaForCausalLM model = Model();
  // Use the third token greedy produces for prompt 0 as the stop token.
  const Naive free_run = NaiveGreedy(model, nullptr, kPrompts[0], 8);
  const int64_t stop = free_run.tokens[2];
  const auto first = std::find(free_run.tokens.begin(), free_run.tokens.end(), stop);
  DecodeOptions options;
  options.max_new_tokens = 8;
  options.stop_token_ids = {stop};
  auto results = GreedyDecode(*model, nullptr, kPrompts, options);
  ASSERT_TRUE(results.ok()) << results.status();
  const DecodeResult& r0 = (*results)[0];
  EXPECT_EQ(r0.finish_reason, FinishReason::kStopToken);
  EXPECT_EQ(r0.stop_token, stop);
  EXPECT_EQ(r0.tokens, std::vector<int64_t>(free_run.tokens.begin(), first));
  EXPECT_EQ(r0.generated_tokens, static_cast<int64_t>(r0.tokens.size()) + 1);
  for (size_t i = 0; i < kPrompts.size(); ++i) {
    const Naive want = NaiveGreedy(model, nullptr, kPrompts[i], 8, {stop});
    EXPECT_EQ((*results)[i].tokens, want.tokens) << "prompt " << i;
    EXPECT_NEAR((*results)[i].sum_logprob, want.sum_logprob, 1e-4) << "prompt " << i;
  }
}

// Allows only tokens 3, 4 and 5, and ends every sequence after 4 tokens.
class FourOfThreeFourFive : public TokenConstraint {
 public:
  std::vector<int64_t> AllowedTokens(int64_t prompt_index,
                                     const std::vector<int64_t>& generated) const override {
    calls_++;
    if (generated.size() >= 4) return {};
    return {3, 4, 5};
  }
  mutable std::atomic<int> calls_{0};
};

TEST(DecodeTest, ConstraintRestrictsTokens) {
  LlamaForCausalLM model = Model();
  FourOfThreeFourFive constraint;
  DecodeOptions options;
  options.max_new_tokens = 10;
  options.constraint = &constraint;
  auto results = GreedyDecode(*model, nullptr, kPrompts, options);
  ASSERT_TRUE(results.ok()) << results.status();
  for (const DecodeResult& r : *results) {
    EXPECT_EQ(r.tokens.size(), 4u);
    EXPECT_EQ(r.generated_tokens, 4);
    EXPECT_EQ(r.finish_reason, FinishReason::kConstraint);
    for (int64_t t : r.tokens) EXPECT_TRUE(t == 3 || t == 4 || t == 5) << t;
  }
  EXPECT_EQ(constraint.calls_.load(), 5 * 5);
  // The constrained choice is the best allowed token; its log-prob is the unconstrained model's.
  c10::InferenceMode guard;
  std::vector<int64_t> seq = kPrompts[0];
  double sum = 0;
  for (int64_t t : (*results)[0].tokens) {
    const at::Tensor logits = model->forward(at::tensor(seq, at::kLong).unsqueeze(0))[0][-1];
    const at::Tensor allowed = logits.index_select(0, at::tensor(std::vector<int64_t>{3, 4, 5}));
    EXPECT_EQ(t, 3 + allowed.argmax().item<int64_t>());
    sum += at::log_softmax(logits, -1)[t].item<double>();
    seq.push_back(t);
  }
  EXPECT_NEAR((*results)[0].sum_logprob, sum, 1e-4);
}

TEST(DecodeTest, CancellationReturnsCancelled) {
  LlamaForCausalLM model = Model();
  const int layers = static_cast<int>(TinyConfig().num_hidden_layers);
  int polls = 0;
  DecodeOptions options;
  options.max_new_tokens = 10;
  // The chunk check, one per block of the prefill, then before steps 0 and 1, each followed by
  // a forward pass that polls once per block.
  options.is_cancelled = [&] { return ++polls > 3 + 3 * layers; };
  auto results = GreedyDecode(*model, nullptr, kPrompts, options);
  EXPECT_EQ(results.status().code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(results.status().message(), "decoding cancelled after 2 steps");
  // Cancelled in the middle of the prefill's forward pass: it stops before the second block.
  polls = 0;
  options.is_cancelled = [&] { return ++polls > 2; };
  results = GreedyDecode(*model, nullptr, kPrompts, options);
  EXPECT_EQ(results.status().message(), "decoding cancelled in a forward pass");
  EXPECT_EQ(polls, 3);
  options.is_cancelled = [] { return true; };
  EXPECT_EQ(GreedyDecode(*model, nullptr, kPrompts, options).status().message(),
            "decoding cancelled before a batch");
  ScoreOptions score_options;
  score_options.is_cancelled = [] { return true; };
  EXPECT_EQ(ScoreContinuations(*model, nullptr, {{{1}, {2}}}, score_options).status().code(),
            absl::StatusCode::kCancelled);
}

TEST(DecodeTest, RejectsBadInputs) {
  LlamaForCausalLM model = Model();
  DecodeOptions options;
  auto r = GreedyDecode(*model, nullptr, {{1, 2}, {}}, options);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "prompt 1 is empty");
  r = GreedyDecode(*model, nullptr, {{1, 20}}, options);
  EXPECT_EQ(r.status().message(), "prompt 0 token 1 is 20, outside the vocabulary [0, 20)");
  options.max_new_tokens = 0;
  EXPECT_EQ(GreedyDecode(*model, nullptr, {{1}}, options).status().message(),
            "max_new_tokens must be positive, got 0");
  options = DecodeOptions();
  options.stop_token_ids = {-1};
  EXPECT_EQ(GreedyDecode(*model, nullptr, {{1}}, options).status().message(),
            "stop token -1 is outside the vocabulary [0, 20)");
  auto s = ScoreContinuations(*model, nullptr, {{{}, {1}}});
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.status().message(), "request 0 has an empty prompt");
  EXPECT_EQ(ScoreContinuations(*model, nullptr, {{{1}, {1, 30}}}).status().message(),
            "request continuation 0 token 1 is 30, outside the vocabulary [0, 20)");
}

TEST(DecodeTest, ScoresMatchNaiveLogLikelihood) {
  LlamaForCausalLM model = Model();
  const std::vector<ScoreRequest> requests = {{{1, 5, 9}, {3, 4, 5}},
                                              {{1}, {7}},
                                              {{1, 2, 3, 4, 5, 6, 7}, {8, 9}},
                                              {{4, 4}, {}},
                                              {{1, 18, 16}, {10, 5, 5, 9, 2}}};
  ScoreOptions options;
  options.max_batch_size = 2;
  absl::StatusOr<std::vector<double>> scores =
      ScoreContinuations(*model, nullptr, requests, options);
  ASSERT_TRUE(scores.ok()) << scores.status();
  options.max_batch_size = 16;
  absl::StatusOr<std::vector<double>> one_batch =
      ScoreContinuations(*model, nullptr, requests, options);
  ASSERT_TRUE(one_batch.ok());
  c10::InferenceMode guard;
  for (size_t i = 0; i < requests.size(); ++i) {
    std::vector<int64_t> seq = requests[i].prompt;
    seq.insert(seq.end(), requests[i].continuation.begin(), requests[i].continuation.end());
    const at::Tensor lp =
        at::log_softmax(model->forward(at::tensor(seq, at::kLong).unsqueeze(0))[0], -1);  // (T, V)
    double want = 0;
    const size_t p = requests[i].prompt.size();
    for (size_t k = 0; k < requests[i].continuation.size(); ++k) {
      want += lp[p - 1 + k][requests[i].continuation[k]].item<double>();
    }
    EXPECT_NEAR((*scores)[i], want, 1e-4) << "request " << i;
    EXPECT_NEAR((*one_batch)[i], want, 1e-4) << "request " << i;
  }
  EXPECT_EQ((*scores)[3], 0.0);
}

TEST(DecodeTest, DecodedLogProbEqualsScore) {
  LlamaForCausalLM model = Model();
  DecodeOptions options;
  options.max_new_tokens = 6;
  auto decoded = GreedyDecode(*model, nullptr, kPrompts, options);
  ASSERT_TRUE(decoded.ok());
  std::vector<ScoreRequest> requests;
  for (size_t i = 0; i < kPrompts.size(); ++i)
    requests.push_back({kPrompts[i], (*decoded)[i].tokens});
  auto scores = ScoreContinuations(*model, nullptr, requests);
  ASSERT_TRUE(scores.ok());
  for (size_t i = 0; i < kPrompts.size(); ++i) {
    EXPECT_NEAR((*scores)[i], (*decoded)[i].sum_logprob, 1e-4);
  }
}

TEST(DecodeTest, AdapterIsUsed) {
  LlamaForCausalLM model = Model();
  LoraConfig config;
  config.targets = {ProjectionKind::kLmHead};
  config.rank = 2;
  auto adapter = LoraAdapter::Create(TinyConfig(), config).value();
  {
    // A large row 6 of B moves token 6.s logit by a lot.
    at::NoGradGuard no_grad;
    adapter->Find(0, ProjectionKind::kLmHead)->a.fill_(0.1);
    adapter->Find(0, ProjectionKind::kLmHead)->b[6].fill_(100.0);
  }
  DecodeOptions options;
  options.max_new_tokens = 5;
  auto with = GreedyDecode(*model, adapter.get(), kPrompts, options);
  ASSERT_TRUE(with.ok());
  for (size_t i = 0; i < kPrompts.size(); ++i) {
    const Naive want = NaiveGreedy(model, adapter.get(), kPrompts[i], 5);
    EXPECT_EQ((*with)[i].tokens, want.tokens);
    EXPECT_NEAR((*with)[i].sum_logprob, want.sum_logprob, 1e-4);
  }
  // Sanity: the adapter changed at least one decoded sequence.
  auto without = GreedyDecode(*model, nullptr, kPrompts, options);
  bool differs = false;
  for (size_t i = 0; i < kPrompts.size(); ++i) differs |= (*with)[i].tokens != (*without)[i].tokens;
  EXPECT_TRUE(differs);
}

// Allows a different set per prompt and step (so the batch's union is wider than any row's), and
// ends a sequence after 5 tokens.
class RowDependentGrammar : public TokenConstraint {
 public:
  std::vector<int64_t> AllowedTokens(int64_t prompt_index,
                                     const std::vector<int64_t>& generated) const override {
    if (generated.size() >= 5) return {};
    const int64_t base = (prompt_index * 3 + static_cast<int64_t>(generated.size())) % 12;
    return {base + 1, base + 4, base + 7};
  }
};

TEST(DecodeTest, RestrictedStepChoosesWhatTheFullVocabularyStepChooses) {
  LlamaForCausalLM model = Model();
  LoraConfig config;
  config.targets = {ProjectionKind::kQ, ProjectionKind::kLmHead};
  config.rank = 2;
  auto adapter = LoraAdapter::Create(TinyConfig(), config).value();
  {
    at::NoGradGuard no_grad;
    adapter->Find(0, ProjectionKind::kLmHead)->a.fill_(0.2);
    adapter->Find(0, ProjectionKind::kLmHead)->b.normal_(0.0, 3.0);
  }
  RowDependentGrammar grammar;
  DecodeOptions options;
  options.max_new_tokens = 8;
  options.max_batch_size = 3;
  options.constraint = &grammar;
  for (const LoraAdapter* a : {static_cast<const LoraAdapter*>(nullptr),
                               static_cast<const LoraAdapter*>(adapter.get())}) {
    auto full = GreedyDecode(*model, a, kPrompts, options);
    options.restrict_to_allowed = true;
    auto restricted = GreedyDecode(*model, a, kPrompts, options);
    options.restrict_to_allowed = false;
    ASSERT_TRUE(full.ok() && restricted.ok());
    for (size_t i = 0; i < kPrompts.size(); ++i) {
      EXPECT_EQ((*restricted)[i].tokens, (*full)[i].tokens) << "prompt " << i;
      EXPECT_EQ((*restricted)[i].finish_reason, FinishReason::kConstraint);
      EXPECT_EQ((*restricted)[i].generated_tokens, 5);
      // The restricted log-prob is renormalised over each step's allowed tokens.
      c10::InferenceMode guard;
      std::vector<int64_t> seq = kPrompts[i];
      double sum = 0, sum_full = 0;
      for (int64_t t : (*restricted)[i].tokens) {
        const std::vector<int64_t> ids =
            grammar.AllowedTokens(static_cast<int64_t>(i), {seq.begin() + kPrompts[i].size(),
                                                            seq.end()});
        const at::Tensor logits =
            model->forward(at::tensor(seq, at::kLong).unsqueeze(0), {}, a)[0][-1];  // (V)
        const at::Tensor allowed = logits.index_select(0, at::tensor(ids, at::kLong));
        const int64_t k = std::find(ids.begin(), ids.end(), t) - ids.begin();
        sum += at::log_softmax(allowed, -1)[k].item<double>();
        sum_full += at::log_softmax(logits, -1)[t].item<double>();
        seq.push_back(t);
      }
      // Sums of large log-probabilities (the adapter's head update is big): a relative tolerance
      // for the cached decode against the naive recomputation.
      EXPECT_NEAR((*restricted)[i].sum_logprob, sum, 1e-4 + 1e-5 * std::abs(sum)) << "prompt " << i;
      EXPECT_NEAR((*full)[i].sum_logprob, sum_full, 1e-4 + 1e-5 * std::abs(sum_full))
          << "prompt " << i;
      EXPECT_GT((*restricted)[i].sum_logprob, (*full)[i].sum_logprob);
    }
  }
  // LogitsOver is the full product's columns, adapter included.
  c10::InferenceMode guard;
  const at::Tensor hidden = model->Hidden(at::tensor(kPrompts[2], at::kLong).unsqueeze(0));
  const at::Tensor ids = at::tensor(std::vector<int64_t>{19, 0, 7, 7}, at::kLong);
  EXPECT_TRUE(at::allclose(model->LogitsOver(hidden, ids, adapter.get()),
                           model->Logits(hidden, adapter.get()).index_select(-1, ids), 1e-5,
                           1e-5));
}

}  // namespace
}  // namespace arc
