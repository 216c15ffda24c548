#include "core/solve/ttt_data.h"

#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace arc {
namespace {

// N demonstrations of random 3x4 grids (distinct, asymmetric), and one 7x7 test input whose shape
// no augmentation of a 3x4 grid can produce.
Task RandomTask(int n, uint64_t seed) {
  Rng rng(seed);
  Task t;
  t.id = "rand";
  auto grid = [&rng](int h, int w) {
    Grid g(h, w);
    for (int r = 0; r < h; ++r)
      for (int c = 0; c < w; ++c) g.set(r, c, static_cast<uint8_t>(1 + rng.Below(9)));
    return g;
  };
  for (int i = 0; i < n; ++i) t.train.push_back({grid(3, 4), grid(3, 4)});
  t.test.push_back({Grid(7, 7, 5), std::nullopt});
  return t;
}

// The paper measured 48N leave-one-out samples for random 3x4 grids: N base tasks, 23 augmenters,
// and one permuted copy of each (24 * N * 2). RandomTranslateXY may draw a zero shift, which makes
// its copy a duplicate of the base task; the counts below are exact for these seeds.
TEST(TttDataTest, SampleCountsFollowThePaper) {
  for (int n : {3, 4, 5, 6}) {
    absl::StatusOr<TttData> d = BuildTttData(RandomTask(n, n), TttDataOptions{});
    ASSERT_TRUE(d.ok()) << d.status();
    const TttDataStats& s = d->stats;
    EXPECT_EQ(s.demonstrations, n);
    EXPECT_EQ(s.base_leave1, n);
    EXPECT_EQ(s.base_leave2, n * (n - 1));
    EXPECT_EQ(s.dropped_oversize, 0);
    // 23 augmentations of each leave-1 and leave-2 base task.
    EXPECT_EQ(s.augmented, 23 * (n + n * (n - 1)));
    // Leave-one-out candidates: at most 48N, less only by the duplicates.
    EXPECT_LE(s.candidates_leave1, 48 * n);
    EXPECT_GE(s.candidates_leave1, 48 * n - 4);
    const int expected_total = std::min(250, s.candidates_leave1 + s.candidates_leave2);
    EXPECT_EQ(static_cast<int>(d->samples.size()), expected_total);
    if (48 * n < 250) {
      EXPECT_EQ(s.selected_leave1, s.candidates_leave1);  // all of L1, topped up with L2
      EXPECT_EQ(s.selected_leave2, 250 - s.candidates_leave1);
    } else {
      EXPECT_EQ(s.selected_leave1, 250);
      EXPECT_EQ(s.selected_leave2, 0);
    }
  }
}

TEST(TttDataTest, ExactCountsWithoutAugmentation) {
  TttDataOptions o;
  o.augment = false;
  o.permute_n = 0;
  absl::StatusOr<TttData> d = BuildTttData(RandomTask(4, 1), o);
  ASSERT_TRUE(d.ok());
  // 4 leave-one-out tasks + 12 leave-two-out tasks.
  EXPECT_EQ(d->samples.size(), 16u);
  EXPECT_EQ(d->stats.selected_leave1, 4);
  EXPECT_EQ(d->stats.selected_leave2, 12);
  // Leave-one-out samples come first, in held-out order, with the rest ascending.
  const Task src = RandomTask(4, 1);
  EXPECT_EQ(d->samples[0].task.test[0].input, src.train[0].input);
  EXPECT_EQ(d->samples[0].task.test[0].output, src.train[0].output);
  ASSERT_EQ(d->samples[0].task.train.size(), 3u);
  EXPECT_EQ(d->samples[0].task.train[0], src.train[1]);
  EXPECT_EQ(d->samples[2].task.train[2], src.train[3]);
  for (size_t i = 4; i < 16; ++i) EXPECT_EQ(d->samples[i].task.train.size(), 2u);
}

TEST(TttDataTest, NeverUsesTheTestInput) {
  const Task src = RandomTask(3, 2);
  absl::StatusOr<TttData> d = BuildTttData(src, TttDataOptions{});
  ASSERT_TRUE(d.ok());
  for (const TttSample& s : d->samples) {
    ASSERT_EQ(s.task.test.size(), 1u);
    ASSERT_TRUE(s.task.test[0].output.has_value());
    auto check = [](const Grid& g) { EXPECT_FALSE(g.rows() == 7 && g.cols() == 7); };
    for (const Example& e : s.task.train) {
      check(e.input);
      check(e.output);
    }
    check(s.task.test[0].input);
  }
}

TEST(TttDataTest, DeduplicatesAndDropsOversizeGrids) {
  // All-zero grids: every dihedral augmentation is a duplicate; 16x16 grids do not fit any of the
  // doubling augmenters (32 > 30).
  Task t;
  for (int i = 0; i < 3; ++i) t.train.push_back({Grid(16, 16, 0), Grid(16, 16, 0)});
  t.test.push_back({Grid(2, 2), std::nullopt});
  TttDataOptions o;
  o.leave_two_top_up = false;
  absl::StatusOr<TttData> d = BuildTttData(t, o);
  ASSERT_TRUE(d.ok());
  // Base: 3 tasks, all equal -> 1 unique. Doubling augmenters (Reflect x4, size x3, chain x6,
  // repeat x3 = 16) are dropped for each of the 3 bases; the 7 others are duplicates.
  EXPECT_EQ(d->stats.dropped_oversize, 16 * 3);
  EXPECT_EQ(d->samples.size(), 1u);
}

TEST(TttDataTest, TokenBudgetAndTotalTrim) {
  const Task src = RandomTask(3, 3);
  // One token per cell: a leave-one-out 3x4 sample costs 3 pairs * 24 = 72 cells; doubling
  // augmenters double or quadruple that.
  TokenCounter cells = [](const Task& t) {
    int n = 0;
    for (const Example& e : t.train) n += static_cast<int>(e.input.size() + e.output.size());
    n += static_cast<int>(t.test[0].input.size() + t.test[0].output->size());
    return n;
  };
  TttDataOptions o;
  o.max_tokens = 100;  // keeps only the same-size augmentations (72 cells)
  absl::StatusOr<TttData> d = BuildTttData(src, o, cells);
  ASSERT_TRUE(d.ok());
  EXPECT_GT(d->stats.dropped_over_tokens, 0);
  for (const TttSample& s : d->samples) EXPECT_LT(s.tokens, 100);
  EXPECT_EQ(d->stats.total_tokens, [&] {
    int64_t sum = 0;
    for (const TttSample& s : d->samples) sum += s.tokens;
    return sum;
  }());

  o.max_total_tokens = 1000;
  absl::StatusOr<TttData> trimmed = BuildTttData(src, o, cells);
  ASSERT_TRUE(trimmed.ok());
  EXPECT_LE(trimmed->stats.total_tokens, 1000);
  EXPECT_GT(trimmed->stats.trimmed_total_tokens, 0);
  EXPECT_EQ(trimmed->samples.size() + trimmed->stats.trimmed_total_tokens, d->samples.size());
}

TEST(TttDataTest, DeterministicForASeedAndSeedMatters) {
  const Task src = RandomTask(4, 4);
  TttDataOptions o;
  auto a = BuildTttData(src, o), b = BuildTttData(src, o);
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_EQ(a->samples.size(), b->samples.size());
  for (size_t i = 0; i < a->samples.size(); ++i) EXPECT_EQ(a->samples[i].task, b->samples[i].task);
  o.seed = 1;
  auto c = BuildTttData(src, o);
  bool differs = false;
  for (size_t i = 0; i < a->samples.size() && i < c->samples.size(); ++i) {
    differs = differs || a->samples[i].task != c->samples[i].task;
  }
  EXPECT_TRUE(differs);
}

TEST(TttDataTest, ErrorsNameTheField) {
  Task one;
  one.train.push_back({Grid(1, 1), Grid(1, 1)});
  one.test.push_back({Grid(1, 1), std::nullopt});
  absl::StatusOr<TttData> d = BuildTttData(one, TttDataOptions{});
  EXPECT_EQ(d.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(std::string(d.status().message()),
            "test-time training needs at least 2 demonstrations to hold one out, the task has 1");
  TttDataOptions o;
  o.max_samples = 0;
  EXPECT_EQ(std::string(BuildTttData(RandomTask(2, 0), o).status().message()),
            "ttt data option max_samples: 0 is outside 1..100000");
  o = TttDataOptions();
  o.permute_n = 9;
  EXPECT_EQ(std::string(ValidateTttDataOptions(o).message()),
            "ttt data option permute_n: 9 is outside 0..8");
}

// ttt_translate = marc reaches the samples: the RandomTranslateXY sample of each leave-one-out task
// moves inputs by (0, 3) and outputs by (1, 0), marc's shifts for seed 0 and sides of 4 or more
// (hand-computed in tests/augment_test.cc), whatever the task; the consistent mode moves a pair's
// input and output together.
TEST(TttDataTest, MarcTranslateGivesEveryTaskMarcsShifts) {
  auto roll = [](const Grid& g, int sx, int sy) {
    Grid out(g.rows(), g.cols());
    for (int r = 0; r < g.rows(); ++r)
      for (int c = 0; c < g.cols(); ++c)
        out.set((r + sx) % g.rows(), (c + sy) % g.cols(), g.at(r, c));
    return out;
  };
  for (uint64_t task_seed : {1, 2}) {
    Task task;
    Rng rng(task_seed);
    for (int i = 0; i < 3; ++i) {
      Grid in(4, 5), out(5, 4);
      for (int r = 0; r < 4; ++r)
        for (int c = 0; c < 5; ++c) {
          in.set(r, c, static_cast<uint8_t>(rng.Below(10)));
          out.set(c, r, static_cast<uint8_t>(rng.Below(10)));
        }
      task.train.push_back({in, out});
    }
    TttDataOptions o;
    o.permute_n = 0;
    o.leave_two_top_up = false;
    o.translate = TranslateMode::kMarc;
    absl::StatusOr<TttData> d = BuildTttData(task, o);
    ASSERT_TRUE(d.ok()) << d.status();
    // Every pair of the sample, demonstrations and held-out pair alike, is some original pair
    // with its input rolled by (0, 3) and its output by (1, 0).
    auto is_marc_shifted = [&](const Grid& in, const Grid& out) {
      for (const Example& e : task.train) {
        if (roll(e.input, 0, 3) == in && roll(e.output, 1, 0) == out) return true;
      }
      return false;
    };
    int seen = 0;
    for (const TttSample& s : d->samples) {
      if (s.augmentation != "RandomTranslateXY()") continue;
      ++seen;
      EXPECT_TRUE(is_marc_shifted(s.task.test[0].input, *s.task.test[0].output));
      for (const Example& e : s.task.train) EXPECT_TRUE(is_marc_shifted(e.input, e.output));
    }
    EXPECT_EQ(seen, 3) << "one per leave-one-out task";
  }
}

}  // namespace
}  // namespace arc
