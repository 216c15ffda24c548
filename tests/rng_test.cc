#include "core/data/rng.h"

#include <algorithm>
#include <map>
#include <numeric>

#include "gtest/gtest.h"

namespace arc {
namespace {

// The stream is part of the determinism contract. These values were computed by an independent
// Python transcription of SplitMix64 + xoshiro256** and the Below/Shuffle rules in rng.h.
TEST(RngTest, FixedStreamForSeed) {
  Rng rng(0);
  EXPECT_EQ(rng.Next(), 0x99ec5f36cb75f2b4ULL);
  EXPECT_EQ(rng.Next(), 0xbf6e1f784956452aULL);
  EXPECT_EQ(rng.Next(), 0x1a5f849d4933e6e0ULL);
}

TEST(RngTest, BelowPermutationAndDoubleArePinned) {
  Rng a(42);
  std::vector<uint64_t> draws;
  for (int i = 0; i < 8; ++i) draws.push_back(a.Below(10));
  EXPECT_EQ(draws, (std::vector<uint64_t>{2, 2, 9, 3, 6, 4, 4, 7}));

  Rng b(7);
  EXPECT_EQ(b.Permutation(10), (std::vector<int>{8, 3, 9, 0, 7, 2, 1, 6, 5, 4}));

  Rng c(123);
  EXPECT_DOUBLE_EQ(c.UniformDouble(), 0.19669435215621578);
  EXPECT_DOUBLE_EQ(c.UniformDouble(), 0.9695722925002218);
}

TEST(RngTest, UniformIntStaysInRangeAndCoversIt) {
  Rng rng(1);
  std::map<int64_t, int> seen;
  for (int i = 0; i < 7000; ++i) {
    const int64_t v = rng.UniformInt(-3, 3);
    ASSERT_GE(v, -3);
    ASSERT_LE(v, 3);
    ++seen[v];
  }
  ASSERT_EQ(seen.size(), 7u);
  for (const auto& [v, n] : seen) {
    EXPECT_GT(n, 800) << v;  // expected 1000 each
    EXPECT_LT(n, 1200) << v;
  }
}

TEST(RngTest, ForkIsIndependentAndDoesNotAdvance) {
  Rng base(5);
  Rng f1 = base.Fork(1);
  Rng f1_again = base.Fork(1);
  Rng f2 = base.Fork(2);
  EXPECT_EQ(f1.Next(), f1_again.Next());
  EXPECT_NE(Rng(5).Fork(1).Next(), f2.Next());
  EXPECT_EQ(base.Next(), Rng(5).Next());
}

TEST(RngTest, PermutationIsAPermutation) {
  Rng rng(9);
  for (int n : {0, 1, 2, 5, 30}) {
    std::vector<int> p = rng.Permutation(n);
    std::sort(p.begin(), p.end());
    std::vector<int> iota(n);
    std::iota(iota.begin(), iota.end(), 0);
    EXPECT_EQ(p, iota);
  }
}

}  // namespace
}  // namespace arc
