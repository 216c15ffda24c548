#include "core/data/vote.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"

namespace arc {
namespace {

Grid G(const std::vector<std::vector<int>>& rows) { return Grid::FromRows(rows).value(); }

// Uniform 2x2 grids, one per letter.
const Grid kA = G({{1, 1}, {1, 1}});
const Grid kB = G({{2, 2}, {2, 2}});
const Grid kC = G({{3, 3}, {3, 3}});
const Grid kD = G({{4, 4}, {4, 4}});

// Predictions named "<category>/<index>" so that views are easy to check.
std::vector<Prediction> Preds(const std::vector<std::pair<Grid, std::string>>& items) {
  std::vector<Prediction> out;
  for (size_t i = 0; i < items.size(); ++i) {
    out.push_back(
        Prediction{items[i].first, items[i].second, items[i].second + "/" + std::to_string(i)});
  }
  return out;
}

std::vector<Grid> Grids(const VoteResult& r) {
  std::vector<Grid> out;
  for (const Candidate& c : r.ranked) out.push_back(c.grid);
  return out;
}

std::vector<int> Votes(const VoteResult& r) {
  std::vector<int> out;
  for (const Candidate& c : r.ranked) out.push_back(c.votes);
  return out;
}

using Views = std::vector<std::string>;

TEST(Top3Test, SingleDistinctOutputFillsAllThreeSlots) {
  // Row and column majority of [A, A] are A itself, so both fillers give A.
  EXPECT_EQ(Top3({kA}), (std::vector<Grid>{kA, kA, kA}));
  EXPECT_EQ(Top3({kA, kA}), (std::vector<Grid>{kA, kA, kA}));
  EXPECT_TRUE(Top3({}).empty());
}

TEST(Top3Test, TiedPairGivesSecondOutputNotTheNumpyQuirk) {
  // The paper's code gives (A, A, A) here (argsort tie quirk); we give the second real output.
  EXPECT_EQ(Top3({kA, kB}), (std::vector<Grid>{kA, kB, kA}));
  EXPECT_EQ(Top3({kB, kA}), (std::vector<Grid>{kB, kA, kB}));
  // Counts decide before order: B twice beats A once.
  EXPECT_EQ(Top3({kA, kB, kB}), (std::vector<Grid>{kB, kA, kB}));
  // Three or more distinct: stable by count, ties in first-occurrence order.
  EXPECT_EQ(Top3({kA, kB, kC, kC, kD}), (std::vector<Grid>{kC, kA, kB}));
}

// Rows p=[1 1], q=[2 2], x=[3 3], y=[4 4], z=[5 5].
const Grid kPX = G({{1, 1}, {3, 3}});
const Grid kPY = G({{1, 1}, {4, 4}});
const Grid kQZ = G({{2, 2}, {5, 5}});

TEST(RowColMajorityTest, BuildsAGridNoOutputHas) {
  // Row 0: p twice, q twice -> p (first). Row 1: z twice -> z. [p; z] is none of the outputs.
  const std::vector<Grid> outs = {kPX, kPY, kQZ, kQZ};
  EXPECT_EQ(RowColMajority(outs, /*transpose=*/false), G({{1, 1}, {5, 5}}));
  // Column votes: transposed, every output has identical rows, so QZ (twice) wins both.
  EXPECT_EQ(RowColMajority(outs, /*transpose=*/true), kQZ);
  // Transposed inputs: the column majority is the transpose of the row-majority above.
  EXPECT_EQ(RowColMajority({G({{1, 3}, {1, 3}}), G({{1, 4}, {1, 4}}), G({{2, 5}, {2, 5}}),
                            G({{2, 5}, {2, 5}})},
                           /*transpose=*/true),
            G({{1, 5}, {1, 5}}));
}

TEST(RowColMajorityTest, OtherHeightsOfTheSameWidthVote) {
  const Grid x = G({{7, 7}, {8, 8}, {9, 9}});
  const Grid y = G({{7, 7}, {1, 1}});
  const Grid z = G({{2, 2}, {8, 8}});
  const Grid wide = G({{2, 2, 2}, {1, 1, 1}});
  // Shape 2x2 wins (y, z); x's first two rows vote too: row 0 [7 7] (x, y), row 1 [8 8] (x, z).
  // `wide` has another width and does not vote.
  EXPECT_EQ(RowColMajority({x, y, z, wide}, /*transpose=*/false), G({{7, 7}, {8, 8}}));
  EXPECT_TRUE(RowColMajority({}, /*transpose=*/false).empty());
}

TEST(HierarchicalVoteTest, FillerNeverIntroducesANewGrid) {
  // The row-majority [1 1; 5 5] of these outputs is a new grid, but Top3 only consults fillers
  // with <= 2 distinct outputs, where they equal c1 (see vote.h). So it never reaches the result.
  // all = identity = [PX, PY, QZ, QZ] -> Top3 (QZ, PX, PY) twice; cands QZ 2, PX 2, PY 2 ->
  // (QZ, PX, PY); tie 2 == 2 and identity counts 1 == 1 -> C2 = PY.
  const VoteResult r = HierarchicalVote(
      Preds({{kPX, "identity"}, {kPY, "identity"}, {kQZ, "identity"}, {kQZ, "identity"}}));
  EXPECT_EQ(Grids(r), (std::vector<Grid>{kQZ, kPY, kPX}));
  EXPECT_EQ(Votes(r), (std::vector<int>{2, 1, 1}));
  for (const Candidate& c : r.ranked) EXPECT_FALSE(c.views.empty());
}

TEST(HierarchicalVoteTest, SinglePredictionCategoryCountsThreeTimes) {
  // identity A,A,A,B; transpose B. Raw majority: A (3 vs 2).
  // all = [A,A,A,B,B] -> (A,B,A); identity -> (A,B,A); transpose [B] -> (B,B,B).
  // cands: A 4, B 5 -> C1 = B, C2 = A (C3 = filler B, counts 4 != 5: no tie-break).
  const auto preds = Preds(
      {{kA, "identity"}, {kA, "identity"}, {kA, "identity"}, {kB, "identity"}, {kB, "transpose"}});
  const VoteResult r = HierarchicalVote(preds);
  EXPECT_EQ(r.num_predictions, 5);
  EXPECT_EQ(Grids(r), (std::vector<Grid>{kB, kA}));
  EXPECT_EQ(Votes(r), (std::vector<int>{2, 3}));
  EXPECT_EQ(r.ranked[0].views, (Views{"identity/3", "transpose/4"}));
  EXPECT_EQ(r.ranked[1].views, (Views{"identity/0", "identity/1", "identity/2"}));
  EXPECT_EQ(r.ranked[0].score, 0.0);

  const VoteResult m = MajorityVote(preds);
  EXPECT_EQ(Grids(m), (std::vector<Grid>{kA, kB}));
  EXPECT_EQ(Votes(m), (std::vector<int>{3, 2}));
}

TEST(HierarchicalVoteTest, TwoSingleViewCategories) {
  // identity A,A,B; transpose B; flip_ud B.
  // all = [A,A,B,B,B] -> (B,A,B); identity [A,A,B] -> (A,B,A); transpose, flip_ud -> (B,B,B) each.
  // cands: B 9, A 3 -> (B, A).
  const VoteResult r = HierarchicalVote(Preds(
      {{kA, "identity"}, {kA, "identity"}, {kB, "identity"}, {kB, "transpose"}, {kB, "flip_ud"}}));
  EXPECT_EQ(Grids(r), (std::vector<Grid>{kB, kA}));
  EXPECT_EQ(Votes(r), (std::vector<int>{3, 2}));
  EXPECT_EQ(r.ranked[0].views, (Views{"identity/2", "transpose/3", "flip_ud/4"}));
}

TEST(HierarchicalVoteTest, IdentityTieBreakKeepsC2) {
  // identity A,A,B; transpose C; flip_ud D.
  // all = [A,A,B,C,D] -> (A,B,C); identity -> (A,B,A); C -> (C,C,C); D -> (D,D,D).
  // cands: A 3, B 2, C 4, D 3 -> (C, A, D). Tie 3 == 3; identity A 2 > D 0: keep A.
  const VoteResult r = HierarchicalVote(Preds(
      {{kA, "identity"}, {kA, "identity"}, {kB, "identity"}, {kC, "transpose"}, {kD, "flip_ud"}}));
  EXPECT_EQ(Grids(r), (std::vector<Grid>{kC, kA, kB, kD}));
  EXPECT_EQ(Votes(r), (std::vector<int>{1, 2, 1, 1}));
  const Attempts a = ToAttempts(r);
  EXPECT_EQ(a.attempt_1, kC);
  EXPECT_EQ(a.attempt_2, kA);
}

TEST(HierarchicalVoteTest, IdentityTieBreakTakesC3) {
  // identity [A, D]; transpose [D, C, C] (given interleaved).
  // all = [A,D,D,C,C] -> (D,C,A); identity [A,D] -> (A,D,A); transpose [D,C,C] -> (C,D,C).
  // cands: D 3, C 3, A 3 -> (D, C, A). Tie 3 == 3; identity C 0 < A 1: C2 = A.
  // Without the tie-break attempt 2 would be C, which has more raw votes (2) than A (1).
  const VoteResult r = HierarchicalVote(Preds({{kD, "transpose"},
                                               {kA, "identity"},
                                               {kC, "transpose"},
                                               {kD, "identity"},
                                               {kC, "transpose"}}));
  EXPECT_EQ(Grids(r), (std::vector<Grid>{kD, kA, kC}));
  EXPECT_EQ(Votes(r), (std::vector<int>{2, 1, 2}));
  EXPECT_EQ(r.ranked[0].views, (Views{"transpose/0", "identity/3"}));
}

TEST(HierarchicalVoteTest, EqualIdentityCountsGiveC3) {
  // identity A,B,C: cands A 2, B 2, C 2 -> (A, B, C); tie, identity counts 1 == 1 -> C2 = C.
  const VoteResult r =
      HierarchicalVote(Preds({{kA, "identity"}, {kB, "identity"}, {kC, "identity"}}));
  EXPECT_EQ(Grids(r), (std::vector<Grid>{kA, kC, kB}));
  // An empty category reads as identity.
  EXPECT_EQ(Grids(HierarchicalVote(Preds({{kA, ""}, {kB, ""}, {kC, ""}}))),
            (std::vector<Grid>{kA, kC, kB}));
}

TEST(HierarchicalVoteTest, NoIdentityCategorySkipsTheTieBreak) {
  // Same grids as above, each from its own transformed view: cands A 4, B 4, C 4 -> (A, B, C);
  // the tie would move C2 to C, but without an identity category it is skipped.
  const VoteResult r = HierarchicalVote(Preds({{kA, "transpose"}, {kB, "rot90"}, {kC, "flip_ud"}}));
  EXPECT_EQ(Grids(r), (std::vector<Grid>{kA, kB, kC}));
  EXPECT_EQ(Votes(r), (std::vector<int>{1, 1, 1}));
}

TEST(HierarchicalVoteTest, TieBreakCollapsingOntoC1FallsBackToNextGrid) {
  // identity [C]; rot90 [A, C]; transpose [A].
  // all = [C,A,C,A] -> (C,A,C); identity -> (C,C,C); rot90 [A,C] -> (A,C,A); transpose -> (A,A,A).
  // cands: C 6, A 6 -> (C, A, C) with C3 a filler equal to C1. Tie 6 == 6; identity A 0, C 1:
  // C2 = C3 = C1, so the paper submits C twice. Ranked grids are unique: A becomes attempt 2.
  const VoteResult r =
      HierarchicalVote(Preds({{kA, "rot90"}, {kA, "transpose"}, {kC, "rot90"}, {kC, "identity"}}));
  EXPECT_EQ(Grids(r), (std::vector<Grid>{kC, kA}));
  EXPECT_EQ(Votes(r), (std::vector<int>{2, 2}));
  const Attempts a = ToAttempts(r);
  EXPECT_EQ(a.attempt_1, kC);
  EXPECT_EQ(a.attempt_2, kA);
}

TEST(HierarchicalVoteTest, EmptyAndSingle) {
  const VoteResult empty = HierarchicalVote({});
  EXPECT_TRUE(empty.ranked.empty());
  EXPECT_EQ(empty.num_predictions, 0);
  const Attempts none = ToAttempts(empty);
  EXPECT_EQ(none.attempt_1, G({{0}}));
  EXPECT_EQ(none.attempt_2, G({{0}}));

  const VoteResult one = HierarchicalVote(Preds({{kB, "transpose"}}));
  EXPECT_EQ(Grids(one), (std::vector<Grid>{kB}));
  EXPECT_EQ(one.ranked[0].views, (Views{"transpose/0"}));
  const Attempts a = ToAttempts(one);
  EXPECT_EQ(a.attempt_1, kB);
  EXPECT_EQ(a.attempt_2, kB);
}

TEST(HierarchicalVoteTest, Deterministic) {
  const auto preds = Preds({{kD, "transpose"},
                            {kA, "identity"},
                            {kC, "transpose"},
                            {kD, "identity"},
                            {kC, "transpose"},
                            {kB, "rot90"}});
  const VoteResult r1 = HierarchicalVote(preds);
  const VoteResult r2 = HierarchicalVote(preds);
  ASSERT_EQ(r1.ranked.size(), r2.ranked.size());
  for (size_t i = 0; i < r1.ranked.size(); ++i) {
    EXPECT_EQ(r1.ranked[i].grid, r2.ranked[i].grid);
    EXPECT_EQ(r1.ranked[i].votes, r2.ranked[i].votes);
    EXPECT_EQ(r1.ranked[i].views, r2.ranked[i].views);
  }
}

TEST(HierarchicalVoteTest, ReorderingMattersOnlyThroughTies) {
  // No ties anywhere: every order of the 3x-weight case gives (B, A).
  std::vector<std::pair<Grid, std::string>> items = {
      {kB, "transpose"}, {kA, "identity"}, {kA, "identity"}, {kB, "identity"}, {kA, "identity"}};
  std::sort(items.begin(), items.end(), [](const auto& x, const auto& y) {
    return x.second != y.second ? x.second < y.second : x.first < y.first;
  });
  int orders = 0;
  do {
    const Attempts a = ToAttempts(HierarchicalVote(Preds(items)));
    EXPECT_EQ(a.attempt_1, kB);
    EXPECT_EQ(a.attempt_2, kA);
    ++orders;
  } while (std::next_permutation(items.begin(), items.end(), [](const auto& x, const auto& y) {
    return x.second != y.second ? x.second < y.second : x.first < y.first;
  }));
  EXPECT_EQ(orders, 20);  // 5! / (3! for the equal identity A's)

  // All-tied identity outputs: attempt 1 is the first occurrence, attempt 2 the third (tie-break).
  EXPECT_EQ(Grids(HierarchicalVote(Preds({{kB, "identity"}, {kA, "identity"}, {kC, "identity"}}))),
            (std::vector<Grid>{kB, kC, kA}));
  EXPECT_EQ(Grids(HierarchicalVote(Preds({{kC, "identity"}, {kB, "identity"}, {kA, "identity"}}))),
            (std::vector<Grid>{kC, kA, kB}));
}

TEST(MajorityVoteTest, CountsThenFirstOccurrence) {
  const VoteResult r = MajorityVote(Preds({{kA, "identity"},
                                           {kB, "transpose"},
                                           {kB, "identity"},
                                           {kC, "rot90"},
                                           {kA, "flip_ud"},
                                           {kD, "identity"},
                                           {kD, "identity"},
                                           {kD, "identity"}}));
  EXPECT_EQ(r.num_predictions, 8);
  EXPECT_EQ(Grids(r), (std::vector<Grid>{kD, kA, kB, kC}));
  EXPECT_EQ(Votes(r), (std::vector<int>{3, 2, 2, 1}));
  EXPECT_EQ(r.ranked[1].views, (Views{"identity/0", "flip_ud/4"}));
  EXPECT_EQ(r.ranked[2].views, (Views{"transpose/1", "identity/2"}));
  EXPECT_TRUE(MajorityVote({}).ranked.empty());
}

TEST(HierarchicalVoteTest, DifferentShapesAreDifferentGrids) {
  // Same cells, other shape: never merged. identity [1x4, 2x2, 2x2] -> 2x2 first.
  const Grid flat = G({{1, 1, 1, 1}});
  const VoteResult r =
      HierarchicalVote(Preds({{flat, "identity"}, {kA, "identity"}, {kA, "identity"}}));
  EXPECT_EQ(Grids(r), (std::vector<Grid>{kA, flat}));
}

}  // namespace
}  // namespace arc
