// Tests of the blocked attention (core/model/attention.h): outputs and gradients against the
// explicit attention written out here with plain autograd ops (every score materialised, every KV
// head repeated for its query heads), for every block size from one query row to all of them, with
// grouped KV heads, causal and padded masks and a KV-cache offset.
#include "core/model/attention.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <ostream>
#include <vector>

namespace arc {
namespace {

// (B, 1, T, S) bool "query t may not see key s": causal over slots offset + t, plus, for each row,
// `pads[row]` left-padded keys nobody sees; a query that then sees nothing sees every key (as
// LlamaModelImpl::MakeContext does for pad queries).
at::Tensor Blocked(int64_t b, int64_t t, int64_t offset, const std::vector<int64_t>& pads) {
  const int64_t s = offset + t;
  at::Tensor allowed = at::arange(s).unsqueeze(0).le(at::arange(offset, s).unsqueeze(1));  // (T, S)
  allowed = allowed.unsqueeze(0).expand({b, t, s}).clone();
  for (int64_t r = 0; r < b && !pads.empty(); ++r) allowed[r].narrow(1, 0, pads[r]).fill_(false);
  allowed = allowed.logical_or(allowed.any(-1, /*keepdim=*/true).logical_not());
  return allowed.logical_not().unsqueeze(1);  // (B, 1, T, S)
}

// softmax(q k^T / sqrt(D), masked) v with K and V repeated per query head: (B, T, H*D).
at::Tensor Reference(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                     const at::Tensor& blocked) {
  const int64_t b = q.size(0), t = q.size(1), h = q.size(2), d = q.size(3);
  const int64_t g = h / k.size(1);
  const at::Tensor kh = k.repeat_interleave(g, 1), vh = v.repeat_interleave(g, 1);  // (B,H,S,D)
  at::Tensor scores = at::matmul(q.transpose(1, 2), kh.transpose(2, 3)) / std::sqrt(double(d));
  scores = scores.masked_fill(blocked, -std::numeric_limits<double>::infinity());  // (B,H,T,S)
  return at::matmul(at::softmax(scores, -1), vh).transpose(1, 2).reshape({b, t, h * d});
}

struct Case {
  int64_t b, t, h, hkv, d, offset;
  std::vector<int64_t> pads;  // empty: causal only
};

void PrintTo(const Case& c, std::ostream* os) {
  *os << "B" << c.b << " T" << c.t << " H" << c.h << " Hkv" << c.hkv << " D" << c.d << " offset "
      << c.offset << (c.pads.empty() ? " causal" : " padded");
}

class BlockedAttentionTest : public ::testing::TestWithParam<Case> {};

TEST_P(BlockedAttentionTest, MatchesTheExplicitAttentionAndItsGradients) {
  const Case c = GetParam();
  at::manual_seed(7);
  const int64_t s = c.offset + c.t;
  const at::Tensor q0 = at::randn({c.b, c.t, c.h, c.d}, at::kDouble);
  const at::Tensor k0 = at::randn({c.b, c.hkv, s, c.d}, at::kDouble);
  const at::Tensor v0 = at::randn({c.b, c.hkv, s, c.d}, at::kDouble);
  const at::Tensor blocked = Blocked(c.b, c.t, c.offset, c.pads);
  // Pad queries (which see no real key) are compared neither in value nor through the gradient:
  // the model never reads them, and the blocks may give them other keys to look at.
  at::Tensor real = at::ones({c.b, c.t, 1}, at::kDouble);
  for (int64_t r = 0; r < c.b && !c.pads.empty(); ++r) {
    for (int64_t t = 0; t < c.t; ++t) {
      if (c.offset + t < c.pads[r]) real[r][t] = 0;
    }
  }
  const at::Tensor dout = at::randn({c.b, c.t, c.h * c.d}, at::kDouble) * real;
  const AttentionMask mask{c.pads.empty() ? blocked.narrow(0, 0, 1) : blocked, c.offset,
                           c.pads.empty()};

  // The reference in float64; the blocked attention in float32, as the model runs it.
  at::Tensor q = q0.clone().requires_grad_(), k = k0.clone().requires_grad_(),
             v = v0.clone().requires_grad_();
  const at::Tensor want = Reference(q, k, v, blocked);
  want.backward(dout);
  ASSERT_GT((want * real).abs().max().item<double>(), 0.1);

  // One row per block, a few rows, and everything in one block.
  for (int64_t budget : {int64_t{1}, c.b * c.h * s * 3, int64_t{1} << 30}) {
    SCOPED_TRACE(::testing::Message() << "block elements " << budget);
    at::Tensor qf = q0.to(at::kFloat).requires_grad_(), kf = k0.to(at::kFloat).requires_grad_(),
               vf = v0.to(at::kFloat).requires_grad_();
    const at::Tensor got = BlockedAttention(qf, kf, vf, mask, budget);
    ASSERT_EQ(got.sizes(), want.sizes());
    EXPECT_EQ(got.scalar_type(), at::kFloat);
    got.backward(dout.to(at::kFloat));
    EXPECT_LT(((got.to(at::kDouble) - want) * real).abs().max().item<double>(), 2e-6);
    EXPECT_LT((qf.grad().to(at::kDouble) - q.grad()).abs().max().item<double>(), 1e-5);
    EXPECT_LT((kf.grad().to(at::kDouble) - k.grad()).abs().max().item<double>(), 1e-5);
    EXPECT_LT((vf.grad().to(at::kDouble) - v.grad()).abs().max().item<double>(), 1e-5);

    // Without grad the same values, and nothing is recorded.
    c10::InferenceMode inference;
    const at::Tensor plain =
        BlockedAttention(q0.to(at::kFloat), k0.to(at::kFloat), v0.to(at::kFloat), mask, budget);
    EXPECT_FALSE(plain.requires_grad());
    EXPECT_TRUE(at::equal(plain, got.detach()));
  }
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, BlockedAttentionTest,
    ::testing::Values(Case{2, 9, 4, 2, 8, 0, {}},       // causal, two query heads per KV head
                      Case{1, 7, 2, 2, 4, 0, {}},       // causal, one query head per KV head
                      Case{3, 6, 4, 1, 8, 0, {0, 2, 5}},  // left padding, every query on one head
                      Case{2, 5, 4, 2, 8, 4, {}},       // a KV cache holds 4 earlier tokens
                      Case{2, 1, 4, 2, 8, 6, {0, 3}}));  // a decoding step over a padded cache

TEST(BlockedAttentionTest, KeysOnlyNeedNoQueryGradient) {
  // The first layer's keys and values come from frozen weights over the embeddings: only q
  // requires grad, and the backward must not fail for the others.
  at::manual_seed(3);
  const at::Tensor q = at::randn({1, 5, 2, 4}).requires_grad_();
  const at::Tensor k = at::randn({1, 2, 5, 4}), v = at::randn({1, 2, 5, 4});
  const AttentionMask mask{Blocked(1, 5, 0, {}), 0, true};
  BlockedAttention(q, k, v, mask, 1).sum().backward();
  ASSERT_TRUE(q.grad().defined());
  EXPECT_FALSE(k.grad().defined());
  EXPECT_GT(q.grad().abs().sum().item<double>(), 0);
}

TEST(BlockedAttentionTest, BlockRowsKeepTheScoresUnderTheBudget) {
  // 2 sequences x 8 heads x 900 keys = 14400 elements per query row.
  EXPECT_EQ(AttentionBlockRows(2, 8, 900, 900, int64_t{1} << 22), 225);  // at most 291 rows: 4 blocks of 225
  EXPECT_LE(2 * 8 * 225 * 900, int64_t{1} << 22);
  EXPECT_EQ(AttentionBlockRows(2, 8, 900, 900, 1), 1);           // never fewer than one row
  EXPECT_EQ(AttentionBlockRows(16, 8, 64, 64, int64_t{1} << 22), 64);  // small: one block
  EXPECT_EQ(AttentionBlockRows(1, 8, 10, 10, 8 * 10 * 3), 3);   // 3, 3, 3, 1 -> 4 blocks of 3
}

}  // namespace
}  // namespace arc
