// Tests of the direct float32 CPU decoding trunk (core/model/cpu_decoder.h) against the libtorch
// model it mirrors: hidden states per row, in pieces, after dropping rows, with every LoRA target,
// and its errors.
#include "core/model/cpu_decoder.h"

#include <c10/core/InferenceMode.h>
#include <c10/util/Exception.h>
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "core/model/decode.h"
#include "core/model/lora.h"
#include "tests/model_test_util.h"

namespace arc {
namespace {

ModelConfig Config() { return arc::testing::TinyModelConfig(/*tied=*/false); }

LlamaForCausalLM Model() {
  LlamaForCausalLM model = CreateLlama(Config()).value();
  model->InitializeWeights(/*seed=*/7, /*std=*/0.3);
  return model;
}

// An adapter on every per-layer projection and the LM head, with non-zero B so it changes outputs.
std::unique_ptr<LoraAdapter> Adapter() {
  LoraConfig config;
  config.rank = 3;
  config.targets = {ProjectionKind::kQ,    ProjectionKind::kK,  ProjectionKind::kV,
                    ProjectionKind::kO,    ProjectionKind::kGate, ProjectionKind::kUp,
                    ProjectionKind::kDown, ProjectionKind::kLmHead};
  auto adapter = LoraAdapter::Create(Config(), config).value();
  at::NoGradGuard no_grad;
  for (const at::Tensor& t : adapter->Parameters()) t.normal_(0.0, 0.5);
  return adapter;
}

const std::vector<std::vector<int64_t>> kPrompts = {
    {1, 5, 9, 3}, {1, 11}, {1, 18, 16, 10, 5, 5, 9}, {7}};

// The libtorch model's final-normed hidden state of the last token of `seq`, run alone.
at::Tensor Reference(const LlamaForCausalLM& model, const LoraAdapter* adapter,
                     const std::vector<int64_t>& seq) {
  const at::Tensor h = model->Hidden(at::tensor(seq, at::kLong).unsqueeze(0), {}, adapter);
  return h[0][-1];  // (C)
}

void ExpectRowsMatch(const LlamaForCausalLM& model, const LoraAdapter* adapter,
                     const std::vector<std::vector<int64_t>>& seqs, const at::Tensor& hidden) {
  ASSERT_EQ(hidden.size(0), static_cast<int64_t>(seqs.size()));
  for (size_t r = 0; r < seqs.size(); ++r) {
    const at::Tensor want = Reference(model, adapter, seqs[r]);
    // Float32 rounding in another order, amplified by the large random adapter: differences of
    // 2e-6 to 4e-5 on values up to 3.3 measured, up to 1.6e-4 when BLAS splits products across
    // threads differently.
    EXPECT_TRUE(at::allclose(hidden[r], want, /*rtol=*/1e-4, /*atol=*/5e-4))
        << "row " << r << ": max difference "
        << (hidden[r] - want).abs().max().item<float>() << " of values up to "
        << want.abs().max().item<float>() << (adapter ? " with" : " without") << " adapter";
  }
}

std::vector<int64_t> Capacities(const std::vector<std::vector<int64_t>>& prompts, int64_t extra) {
  std::vector<int64_t> out;
  for (const auto& p : prompts) out.push_back(static_cast<int64_t>(p.size()) + extra);
  return out;
}

TEST(CpuDecoderTest, SupportsFloat32CpuModelsAndAdapters) {
  LlamaForCausalLM model = Model();
  auto adapter = Adapter();
  EXPECT_TRUE(CpuDecoder::Supports(*model, nullptr));
  EXPECT_TRUE(CpuDecoder::Supports(*model, adapter.get()));
  ModelOptions bf16;
  bf16.dtype = at::kBFloat16;
  LlamaForCausalLM half = CreateLlama(Config(), bf16).value();
  EXPECT_FALSE(CpuDecoder::Supports(*half, nullptr));
  LoraConfig dropout;
  dropout.dropout = 0.1;
  auto with_dropout = LoraAdapter::Create(Config(), dropout).value();
  EXPECT_TRUE(CpuDecoder::Supports(*model, with_dropout.get()));  // dropout is off outside training
  with_dropout->SetTraining(true);
  EXPECT_FALSE(CpuDecoder::Supports(*model, with_dropout.get()));
}

TEST(CpuDecoderTest, HiddenStatesMatchTheLibtorchModelRowByRow) {
  LlamaForCausalLM model = Model();
  auto adapter = Adapter();
  c10::InferenceMode guard;
  for (const LoraAdapter* a : {static_cast<const LoraAdapter*>(nullptr),
                               static_cast<const LoraAdapter*>(adapter.get())}) {
    CpuDecoder decoder(*model, a, Capacities(kPrompts, 3));
    std::vector<std::vector<int64_t>> seqs = kPrompts;
    ExpectRowsMatch(model, a, seqs, decoder.Extend(kPrompts));
    // Two decoding steps of one token per row continue each row's own positions.
    for (int64_t step = 0; step < 2; ++step) {
      std::vector<std::vector<int64_t>> next(seqs.size());
      for (size_t r = 0; r < seqs.size(); ++r) {
        next[r] = {(3 * static_cast<int64_t>(r) + step + 2) % Config().vocab_size};
        seqs[r].push_back(next[r][0]);
      }
      ExpectRowsMatch(model, a, seqs, decoder.Extend(next));
    }
    for (size_t r = 0; r < seqs.size(); ++r) {
      EXPECT_EQ(decoder.length(static_cast<int64_t>(r)), static_cast<int64_t>(seqs[r].size()));
    }
  }
}

TEST(CpuDecoderTest, PiecesAndEmptyRowsGiveTheWholePromptsResult) {
  LlamaForCausalLM model = Model();
  auto adapter = Adapter();
  c10::InferenceMode guard;
  CpuDecoder decoder(*model, adapter.get(), Capacities(kPrompts, 1));
  // Pieces of 3 tokens along each row's prompt; rows whose prompt has ended get nothing and keep
  // their last hidden state.
  at::Tensor hidden;
  for (size_t start = 0; start < 7; start += 3) {
    std::vector<std::vector<int64_t>> pieces(kPrompts.size());
    for (size_t r = 0; r < kPrompts.size(); ++r) {
      for (size_t i = start; i < std::min(start + 3, kPrompts[r].size()); ++i) {
        pieces[r].push_back(kPrompts[r][i]);
      }
    }
    hidden = decoder.Extend(pieces);
  }
  ExpectRowsMatch(model, adapter.get(), kPrompts, hidden);
}

// A prefill's attention runs in blocks of 64 query rows: prompts of 150 and 70 tokens cross block
// boundaries, and a second piece of 100 tokens after 50 starts its blocks past the cached ones.
TEST(CpuDecoderTest, LongPromptsCrossQueryBlocks) {
  LlamaForCausalLM model = Model();
  auto adapter = Adapter();
  c10::InferenceMode guard;
  std::vector<std::vector<int64_t>> prompts(2);
  for (int64_t i = 0; i < 150; ++i) prompts[0].push_back((i * 7 + 3) % Config().vocab_size);
  for (int64_t i = 0; i < 70; ++i) prompts[1].push_back((i * 5 + 1) % Config().vocab_size);
  CpuDecoder whole(*model, adapter.get(), Capacities(prompts, 1));
  ExpectRowsMatch(model, adapter.get(), prompts, whole.Extend(prompts));
  CpuDecoder pieces(*model, adapter.get(), Capacities(prompts, 1));
  pieces.Extend({{prompts[0].begin(), prompts[0].begin() + 50}, {}});
  const at::Tensor hidden =
      pieces.Extend({{prompts[0].begin() + 50, prompts[0].end()}, prompts[1]});
  ExpectRowsMatch(model, adapter.get(), prompts, hidden);
}

TEST(CpuDecoderTest, KeepRowsDropsRowsAndTheRestRunOn) {
  LlamaForCausalLM model = Model();
  c10::InferenceMode guard;
  CpuDecoder decoder(*model, nullptr, Capacities(kPrompts, 2));
  decoder.Extend(kPrompts);
  decoder.KeepRows({1, 3});
  ASSERT_EQ(decoder.rows(), 2);
  const at::Tensor hidden = decoder.Extend({{4}, {12}});
  ExpectRowsMatch(model, nullptr, {{1, 11, 4}, {7, 12}}, hidden);
  EXPECT_THROW(decoder.KeepRows({1, 0}), c10::Error);
  EXPECT_THROW(decoder.KeepRows({2}), c10::Error);
}

TEST(CpuDecoderTest, RejectsTokensOutsideTheVocabularyAndRowsPastCapacity) {
  LlamaForCausalLM model = Model();
  c10::InferenceMode guard;
  CpuDecoder decoder(*model, nullptr, {3, 2});
  EXPECT_THROW(decoder.Extend({{1}, {Config().vocab_size}}), c10::Error);
  EXPECT_THROW(decoder.Extend({{1}, {-1}}), c10::Error);
  EXPECT_THROW(decoder.Extend({{1, 2, 3, 4}, {1}}), c10::Error);
  EXPECT_THROW(decoder.Extend({{1}}), c10::Error);  // one list for two rows
  EXPECT_THROW(CpuDecoder(*model, nullptr, {3, 0}), c10::Error);
}

// A row started from another row's cached prefix and extended with its own remainder has the
// hidden state of its whole prompt run alone.
TEST(CpuDecoderTest, CopyPrefixThenTheRemainderGivesTheWholePromptsResult) {
  LlamaForCausalLM model = Model();
  auto adapter = Adapter();
  c10::InferenceMode guard;
  std::vector<int64_t> a, b;
  for (int64_t i = 0; i < 90; ++i) a.push_back((i * 7 + 3) % Config().vocab_size);
  b.assign(a.begin(), a.begin() + 70);  // shares 70 tokens (crossing a 64-row query block)
  for (int64_t i = 0; i < 12; ++i) b.push_back((i * 5 + 1) % Config().vocab_size);
  CpuDecoder decoder(*model, adapter.get(), {90, 82, 10});
  decoder.Extend({a, {}, {}});
  decoder.CopyPrefix(0, 1, 70);
  EXPECT_EQ(decoder.length(1), 70);
  const at::Tensor hidden = decoder.Extend({{}, {b.begin() + 70, b.end()}, {4, 5}});
  ExpectRowsMatch(model, adapter.get(), {a, b, {4, 5}}, hidden);
  EXPECT_THROW(decoder.CopyPrefix(0, 1, 10), c10::Error);  // row 1 is not empty
  CpuDecoder small(*model, nullptr, {90, 20});
  small.Extend({a, {}});
  EXPECT_THROW(small.CopyPrefix(0, 1, 30), c10::Error);  // past row 1's capacity
  EXPECT_THROW(small.CopyPrefix(1, 0, 0), c10::Error);   // row 0 is not empty
  EXPECT_THROW(small.CopyPrefix(0, 0, 1), c10::Error);   // the same row
}

// GreedyDecode through both trunks: the same tokens, finish reasons and (to rounding) log-probs,
// with an adapter on every target, a batch smaller than the prompts, a chunked prefill and stops.
TEST(CpuDecoderTest, GreedyDecodeDirectEqualsLibtorch) {
  LlamaForCausalLM model = Model();
  auto adapter = Adapter();
  DecodeOptions options;
  options.max_new_tokens = 6;
  options.max_batch_size = 3;
  options.prefill_chunk_tokens = 8;
  options.stop_token_ids = {2};
  for (const LoraAdapter* a : {static_cast<const LoraAdapter*>(nullptr),
                               static_cast<const LoraAdapter*>(adapter.get())}) {
    options.direct_cpu = true;
    auto direct = GreedyDecode(*model, a, kPrompts, options);
    options.direct_cpu = false;
    auto reference = GreedyDecode(*model, a, kPrompts, options);
    ASSERT_TRUE(direct.ok()) << direct.status();
    ASSERT_TRUE(reference.ok()) << reference.status();
    for (size_t i = 0; i < kPrompts.size(); ++i) {
      EXPECT_EQ((*direct)[i].tokens, (*reference)[i].tokens) << "prompt " << i;
      EXPECT_EQ((*direct)[i].finish_reason, (*reference)[i].finish_reason);
      EXPECT_EQ((*direct)[i].generated_tokens, (*reference)[i].generated_tokens);
      EXPECT_NEAR((*direct)[i].sum_logprob, (*reference)[i].sum_logprob, 1e-3);
    }
  }
}

// Views of one task share their first demonstrations: prompts with long common prefixes decode to
// the same tokens whether those prefixes are copied (DecodeOptions::share_prefix_tokens) or
// prefilled for every prompt, on one piece or in chunks, and as through libtorch.
TEST(CpuDecoderTest, SharedPrefixesDecodeAsFullPrefills) {
  LlamaForCausalLM model = Model();
  auto adapter = Adapter();
  std::vector<int64_t> common;
  for (int64_t i = 0; i < 80; ++i) common.push_back((i * 7 + 3) % Config().vocab_size);
  std::vector<std::vector<int64_t>> prompts;
  for (int64_t v = 0; v < 5; ++v) {
    // Prompts 0-2 share 80 tokens, 3 shares 40 with them (then its own), 4 shares nothing.
    std::vector<int64_t> p(common.begin(), common.begin() + (v == 3 ? 40 : 80));
    if (v == 4) p.assign({1, 2});
    for (int64_t i = 0; i < 10 + v; ++i) p.push_back((i * (v + 2) + 1) % Config().vocab_size);
    prompts.push_back(p);
  }
  prompts.push_back(prompts[1]);  // an identical prompt shares all but its last token
  DecodeOptions options;
  options.max_new_tokens = 5;
  options.max_batch_size = 6;
  options.share_prefix_tokens = 0;
  options.direct_cpu = false;
  auto reference = GreedyDecode(*model, adapter.get(), prompts, options);
  ASSERT_TRUE(reference.ok()) << reference.status();
  options.direct_cpu = true;
  for (int64_t chunk : {0, 64}) {
    for (int64_t share : {0, 32}) {
      options.prefill_chunk_tokens = chunk;
      options.share_prefix_tokens = share;
      auto got = GreedyDecode(*model, adapter.get(), prompts, options);
      ASSERT_TRUE(got.ok()) << got.status();
      for (size_t i = 0; i < prompts.size(); ++i) {
        EXPECT_EQ((*got)[i].tokens, (*reference)[i].tokens)
            << "prompt " << i << ", chunk " << chunk << ", share " << share;
        EXPECT_NEAR((*got)[i].sum_logprob, (*reference)[i].sum_logprob, 1e-3);
      }
    }
  }
}

}  // namespace
}  // namespace arc
