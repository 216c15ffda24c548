#include "core/data/augment.h"

#include <set>

#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace arc {
namespace {

using ::arc::testing::G;

Grid RandomGrid(Rng& rng, int max_side = 12) {
  Grid g(static_cast<int>(rng.UniformInt(1, max_side)), static_cast<int>(rng.UniformInt(1, max_side)));
  for (int r = 0; r < g.rows(); ++r)
    for (int c = 0; c < g.cols(); ++c) g.set(r, c, static_cast<uint8_t>(rng.Below(10)));
  return g;
}

TEST(DihedralTest, WorkedExamples) {
  const Grid g = G({{1, 2}, {3, 4}});
  EXPECT_EQ(ApplyDihedral(Dihedral::kIdentity, g), g);
  EXPECT_EQ(ApplyDihedral(Dihedral::kRot90, g), G({{2, 4}, {1, 3}}));   // np.rot90
  EXPECT_EQ(ApplyDihedral(Dihedral::kRot180, g), G({{4, 3}, {2, 1}}));
  EXPECT_EQ(ApplyDihedral(Dihedral::kRot270, g), G({{3, 1}, {4, 2}}));  // np.rot90(g, 3)
  EXPECT_EQ(ApplyDihedral(Dihedral::kFlipUD, g), G({{3, 4}, {1, 2}}));
  EXPECT_EQ(ApplyDihedral(Dihedral::kFlipLR, g), G({{2, 1}, {4, 3}}));
  EXPECT_EQ(ApplyDihedral(Dihedral::kTranspose, g), G({{1, 3}, {2, 4}}));
  EXPECT_EQ(ApplyDihedral(Dihedral::kAntiTranspose, g), G({{4, 2}, {3, 1}}));

  const Grid r = G({{1, 2, 3}, {4, 5, 6}});  // 2x3: shape-changing elements give 3x2
  EXPECT_EQ(ApplyDihedral(Dihedral::kRot90, r), G({{3, 6}, {2, 5}, {1, 4}}));
  EXPECT_EQ(ApplyDihedral(Dihedral::kRot270, r), G({{4, 1}, {5, 2}, {6, 3}}));
  EXPECT_EQ(ApplyDihedral(Dihedral::kTranspose, r), G({{1, 4}, {2, 5}, {3, 6}}));
  EXPECT_EQ(ApplyDihedral(Dihedral::kAntiTranspose, r), G({{6, 3}, {5, 2}, {4, 1}}));
}

TEST(DihedralTest, InverseUndoesEveryElementOnRandomGrids) {
  Rng rng(11);
  for (int trial = 0; trial < 200; ++trial) {
    const Grid g = RandomGrid(rng);
    for (Dihedral d : kAllDihedral) {
      EXPECT_EQ(ApplyDihedral(Inverse(d), ApplyDihedral(d, g)), g) << DihedralName(d);
      EXPECT_EQ(ApplyDihedral(d, ApplyDihedral(Inverse(d), g)), g) << DihedralName(d);
    }
  }
}

TEST(DihedralTest, GroupTableClosesAndMatchesSequentialApplication) {
  Rng rng(12);
  const Grid g = RandomGrid(rng);
  std::set<Dihedral> rotations_generated;
  for (Dihedral a : kAllDihedral) {
    EXPECT_EQ(Compose(a, Dihedral::kIdentity), a);
    EXPECT_EQ(Compose(Dihedral::kIdentity, a), a);
    EXPECT_EQ(Compose(a, Inverse(a)), Dihedral::kIdentity);
    std::set<Dihedral> row;
    for (Dihedral b : kAllDihedral) {
      const Dihedral ab = Compose(a, b);
      row.insert(ab);
      EXPECT_EQ(ApplyDihedral(ab, g), ApplyDihedral(b, ApplyDihedral(a, g)));
      for (Dihedral c : kAllDihedral) {
        EXPECT_EQ(Compose(Compose(a, b), c), Compose(a, Compose(b, c)));  // associative
      }
    }
    EXPECT_EQ(row.size(), 8u);  // each row of the Cayley table is a permutation
  }
  // Known products.
  EXPECT_EQ(Compose(Dihedral::kRot90, Dihedral::kRot90), Dihedral::kRot180);
  EXPECT_EQ(Compose(Dihedral::kRot90, Dihedral::kRot180), Dihedral::kRot270);
  EXPECT_EQ(Compose(Dihedral::kFlipUD, Dihedral::kFlipLR), Dihedral::kRot180);
  EXPECT_EQ(Compose(Dihedral::kTranspose, Dihedral::kRot180), Dihedral::kAntiTranspose);
}

TEST(DihedralTest, NamesRoundTrip) {
  for (Dihedral d : kAllDihedral) EXPECT_EQ(ParseDihedral(DihedralName(d)), d);
  EXPECT_EQ(ParseDihedral("rot45"), std::nullopt);
  EXPECT_EQ(DihedralName(Dihedral::kFlipUD), "flip_ud");
}

TEST(DihedralTest, AppliesToEveryGridOfATask) {
  Task t;
  t.train.push_back({G({{1, 2}}), G({{3, 4, 5}})});
  t.test.push_back({G({{6}, {7}}), G({{8, 9}})});
  Task r = ApplyDihedral(Dihedral::kTranspose, t);
  EXPECT_EQ(r.train[0].input, G({{1}, {2}}));
  EXPECT_EQ(r.train[0].output, G({{3}, {4}, {5}}));
  EXPECT_EQ(r.test[0].input, G({{6, 7}}));
  EXPECT_EQ(r.test[0].output, G({{8}, {9}}));
}

TEST(ColourMapTest, RandomMapsFixZeroAreBijectiveAndInvert) {
  Rng rng(3);
  for (int trial = 0; trial < 500; ++trial) {
    std::bitset<kNumColours> used(rng.Below(1 << kNumColours));
    const ColourMap m = ColourMap::RandomFixingZero(rng, used);
    EXPECT_EQ(m(0), 0);
    std::set<int> image(m.table().begin(), m.table().end());
    EXPECT_EQ(image.size(), 10u);
    EXPECT_TRUE(ColourMap::FromTable(m.table()).ok());
    const Grid g = RandomGrid(rng);
    EXPECT_EQ(m.Inverse().Apply(m.Apply(g)), g);
    EXPECT_EQ(m.Apply(m.Inverse().Apply(g)), g);
  }
}

TEST(ColourMapTest, UsedColoursMoveToUnusedOnesWhileTheyRemain) {
  // With few colours used, the paper's rule sends each used colour to a previously unused one.
  Rng rng(4);
  std::bitset<kNumColours> used;
  used[0] = used[1] = used[2] = true;
  for (int trial = 0; trial < 50; ++trial) {
    const ColourMap m = ColourMap::RandomFixingZero(rng, used);
    EXPECT_NE(m(1), 1);
    EXPECT_NE(m(1), 2);
    EXPECT_NE(m(2), 1);
    EXPECT_NE(m(2), 2);
  }
  // All nine non-zero colours used: the rule swaps them among themselves.
  std::bitset<kNumColours> all;
  all.set();
  std::set<std::array<uint8_t, 10>> distinct;
  for (int trial = 0; trial < 50; ++trial) distinct.insert(ColourMap::RandomFixingZero(rng, all).table());
  EXPECT_GT(distinct.size(), 40u);
}

TEST(ColourMapTest, SameSeedSameMap) {
  std::bitset<kNumColours> used(0b0000110110);
  Rng a(99), b(99);
  EXPECT_EQ(ColourMap::RandomFixingZero(a, used), ColourMap::RandomFixingZero(b, used));
}

TEST(ColourMapTest, FromTableRejectsBadTables) {
  EXPECT_EQ(ColourMap::FromTable({1, 0, 2, 3, 4, 5, 6, 7, 8, 9}).status().message(),
            "colour map: 0 maps to 1, the background colour 0 must stay 0");
  EXPECT_EQ(ColourMap::FromTable({0, 1, 1, 3, 4, 5, 6, 7, 8, 9}).status().message(),
            "colour map: 1 is the image of two colours");
  EXPECT_EQ(ColourMap::FromTable({0, 1, 2, 3, 4, 5, 6, 7, 8, 12}).status().message(),
            "colour map: 9 maps to 12, not a colour 0..9");
  const ColourMap swap = ColourMap::FromTable({0, 2, 1, 3, 4, 5, 6, 7, 8, 9}).value();
  EXPECT_EQ(swap.Apply(G({{0, 1, 2, 3}})), G({{0, 2, 1, 3}}));
}

TEST(ColourMapTest, ColoursUsed) {
  Task t;
  t.train.push_back({G({{1, 0}}), G({{2}})});
  t.test.push_back({G({{3}}), G({{9}})});
  EXPECT_EQ(ColoursUsed(t, false).to_string(), "0000001111");
  EXPECT_EQ(ColoursUsed(t, true).to_string(), "1000001111");
}

TEST(DemonstrationOrderTest, Reorders) {
  Task t;
  for (int i = 0; i < 3; ++i) t.train.push_back({G({{i}}), G({{i}})});
  t.test.push_back({G({{5}}), std::nullopt});
  Task r = ReorderDemonstrations(t, {2, 0, 1});
  EXPECT_EQ(r.train[0].input, G({{2}}));
  EXPECT_EQ(r.train[1].input, G({{0}}));
  EXPECT_EQ(r.train[2].input, G({{1}}));
  EXPECT_EQ(r.test, t.test);
}

TEST(AugmenterTest, SizeChangingAugmentersGiveTheRightShapesAndContent) {
  const Grid g = G({{1, 2}, {3, 4}});
  const AugmentDraw none;
  EXPECT_EQ(MakeReflect(0, false)->Apply(g, none), G({{1, 2}, {3, 4}, {3, 4}, {1, 2}}));
  EXPECT_EQ(MakeReflect(0, true)->Apply(g, none), G({{3, 4}, {1, 2}, {1, 2}, {3, 4}}));
  EXPECT_EQ(MakeReflect(1, false)->Apply(g, none), G({{1, 2, 2, 1}, {3, 4, 4, 3}}));
  EXPECT_EQ(MakeReflect(1, true)->Apply(g, none), G({{2, 1, 1, 2}, {4, 3, 3, 4}}));
  EXPECT_EQ(MakeRepeat(0, 2)->Apply(g, none), G({{1, 2}, {3, 4}, {1, 2}, {3, 4}}));
  EXPECT_EQ(MakeRepeat(1, 2)->Apply(g, none), G({{1, 2, 1, 2}, {3, 4, 3, 4}}));
  EXPECT_EQ(MakeRepeat(2, 2)->Apply(g, none),
            G({{1, 2, 1, 2}, {3, 4, 3, 4}, {1, 2, 1, 2}, {3, 4, 3, 4}}));
  EXPECT_EQ(MakeIncreaseResolution(2)->Apply(g, none),
            G({{1, 1, 2, 2}, {1, 1, 2, 2}, {3, 3, 4, 4}, {3, 3, 4, 4}}));
  EXPECT_EQ(MakeIncreaseHeight(2)->Apply(g, none), G({{1, 2}, {1, 2}, {3, 4}, {3, 4}}));
  EXPECT_EQ(MakeIncreaseWidth(2)->Apply(g, none), G({{1, 1, 2, 2}, {3, 3, 4, 4}}));
  EXPECT_EQ(MakeChain({MakeDihedralAugmenter(Dihedral::kFlipLR), MakeIncreaseWidth(2)})
                ->Apply(g, none),
            G({{2, 2, 1, 1}, {4, 4, 3, 3}}));
}

TEST(AugmenterTest, RandomTranslateRollsTowardHigherIndices) {
  const Grid g = G({{1, 2, 3, 4, 5}, {6, 7, 8, 9, 0}, {0, 0, 0, 0, 1}});
  AugmentDraw draw;
  draw.u0 = 0.5;   // sx = floor(0.5 * min(4, 3)) = 1
  draw.u1 = 0.75;  // sy = floor(0.75 * min(4, 5)) = 3
  EXPECT_EQ(MakeRandomTranslateXY()->Apply(g, draw),
            G({{0, 0, 1, 0, 0}, {3, 4, 5, 1, 2}, {8, 9, 0, 6, 7}}));
  EXPECT_EQ(MakeRandomTranslateXY()->Apply(g, AugmentDraw{}), g);  // zero shift
}

TEST(AugmenterTest, PaperSetHasTwentyThreeInThePapersOrder) {
  std::vector<std::string> names;
  for (const AugmenterPtr& a : PaperTttAugmenters()) names.push_back(a->Name());
  const std::vector<std::string> expected = {
      "Rotate(90)", "Rotate(270)", "Rotate(180)", "Flip(0)", "Flip(1)",
      "Reflect(0,reverse=True)", "Reflect(1,reverse=True)", "Reflect(0,reverse=False)",
      "Reflect(1,reverse=False)", "RandomTranslateXY()", "Transpose()",
      "IncreaseResolution(2)", "IncreaseHeight(2)", "IncreaseWidth(2)",
      "Chain([Rotate(90),IncreaseResolution(2)])", "Chain([Rotate(270),IncreaseResolution(2)])",
      "Chain([Rotate(180),IncreaseResolution(2)])", "Chain([Flip(0),IncreaseResolution(2)])",
      "Chain([Flip(1),IncreaseResolution(2)])", "Chain([Transpose(),IncreaseResolution(2)])",
      "Repeat(0,2)", "Repeat(1,2)", "Repeat(2,2)"};
  EXPECT_EQ(names, expected);
  PaperAugmenterGroups basic_only;
  basic_only.size = basic_only.chain = basic_only.repeat = false;
  EXPECT_EQ(PaperTttAugmenters(basic_only).size(), 11u);
}

TEST(AugmenterTest, AugmentTaskFiltersAt30AndSharesTheDraw) {
  Task t;
  t.train.push_back({Grid(15, 15, 1), Grid(15, 14, 2)});
  t.test.push_back({Grid(3, 3, 1), Grid(16, 2, 3)});
  Rng rng(5);
  // 15 -> 30 fits; the test output's 16 rows -> 32 does not.
  EXPECT_FALSE(AugmentTask(t, *MakeIncreaseHeight(2), rng).has_value());
  t.test[0].output = Grid(15, 2, 3);
  std::optional<Task> up = AugmentTask(t, *MakeIncreaseHeight(2), rng);
  ASSERT_TRUE(up.has_value());
  EXPECT_EQ(up->train[0].input.rows(), 30);
  EXPECT_EQ(up->test[0].output->rows(), 30);
  EXPECT_FALSE(AugmentTask(t, *MakeIncreaseHeight(2), rng, /*max_side=*/29).has_value());

  // Every grid of a task moves by the same shift.
  Task s;
  Grid dot(5, 5);
  dot.set(0, 0, 7);
  s.train.push_back({dot, dot});
  s.test.push_back({dot, std::nullopt});
  for (int trial = 0; trial < 20; ++trial) {
    std::optional<Task> moved = AugmentTask(s, *MakeRandomTranslateXY(), rng);
    ASSERT_TRUE(moved.has_value());
    EXPECT_EQ(moved->train[0].input, moved->train[0].output);
    EXPECT_EQ(moved->train[0].input, moved->test[0].input);
  }
  // Deterministic for a seed.
  Rng a(8), b(8);
  EXPECT_EQ(AugmentTask(s, *MakeRandomTranslateXY(), a), AugmentTask(s, *MakeRandomTranslateXY(), b));
}

// marc's RandomTranslateXY (TranslateMode::kMarc), checked against shifts worked out by hand from
// marc's algorithm: every pair gets a copy of numpy's RandomState(0), whose MT19937 outputs begin
// 2357136044, 2546248239, 3071714933, 3626093760, 2588848963 (low two bits 0, 3, 1, 0, 3).
// randint(0, 4) keeps the low two bits; randint(0, 2) the low bit; randint(0, 3) the low two bits,
// rejecting 3; randint(0, 1) draws nothing.
TEST(AugmenterTest, MarcTranslateReproducesMarcsShifts) {
  const Grid in = G({{1, 2, 3, 4}, {5, 6, 7, 8}, {9, 0, 1, 2}, {3, 4, 5, 6}});
  const Grid out = G({{0, 0, 0, 1}, {0, 0, 2, 0}, {0, 3, 0, 0}, {4, 0, 0, 0}});
  // Input 4x4: sx = 0 (draw 1), sy = 3 (draw 2). Output 4x4: sx = 1 (draw 3), sy = 0 (draw 4).
  const Grid in_shifted = G({{2, 3, 4, 1}, {6, 7, 8, 5}, {0, 1, 2, 9}, {4, 5, 6, 3}});
  const Grid out_shifted = G({{4, 0, 0, 0}, {0, 0, 0, 1}, {0, 0, 2, 0}, {0, 3, 0, 0}});
  const AugmenterPtr marc = MakeRandomTranslateXY(TranslateMode::kMarc, /*seed=*/0);
  EXPECT_EQ(marc->Name(), "RandomTranslateXY()");
  EXPECT_FALSE(marc->UsesRandomness());  // the task's Rng is not advanced, as in marc

  Task t;
  t.train.push_back({in, out});
  t.train.push_back({in, out});
  t.test.push_back({in, out});
  Rng rng(123);
  const uint64_t before = Rng(123).Next();
  std::optional<Task> moved = AugmentTask(t, *marc, rng);
  ASSERT_TRUE(moved.has_value());
  EXPECT_EQ(rng.Next(), before);
  for (const Example& e : moved->train) {  // each pair restarts the same stream
    EXPECT_EQ(e.input, in_shifted);
    EXPECT_EQ(e.output, out_shifted);
  }
  EXPECT_EQ(moved->test[0].input, in_shifted);
  EXPECT_EQ(*moved->test[0].output, out_shifted);

  // Small sides. Input 2x3: sx = randint(0, 2) = 0 (draw 1, low bit 0); sy = randint(0, 3):
  // draw 2 gives 3, rejected, draw 3 gives 1. Output 3x2: sx = randint(0, 3) = 0 (draw 4);
  // sy = randint(0, 2) = 1 (draw 5, low bit 1).
  Task small;
  small.train.push_back({G({{1, 2, 3}, {4, 5, 6}}), G({{1, 2}, {3, 4}, {5, 6}})});
  std::optional<Task> s = AugmentTask(small, *marc, rng);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->train[0].input, G({{3, 1, 2}, {6, 4, 5}}));
  EXPECT_EQ(s->train[0].output, G({{2, 1}, {4, 3}, {6, 5}}));

  // A 1x1 input draws nothing, so its 4x4 output takes draws 1 and 2: (0, 3).
  Task dot;
  dot.train.push_back({G({{7}}), in});
  std::optional<Task> d = AugmentTask(dot, *marc, rng);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->train[0].input, G({{7}}));
  EXPECT_EQ(d->train[0].output, in_shifted);

  // The paper's augmenter list carries the mode; the default stays the consistent translation.
  const std::vector<AugmenterPtr> paper =
      PaperTttAugmenters(PaperAugmenterGroups{}, TranslateMode::kMarc, 0);
  ASSERT_EQ(paper[9]->Name(), "RandomTranslateXY()");
  EXPECT_EQ(paper[9]->Apply(in, AugmentDraw{}), in_shifted);
  EXPECT_TRUE(PaperTttAugmenters()[9]->UsesRandomness());
  EXPECT_EQ(ParseTranslateMode("marc"), TranslateMode::kMarc);
  EXPECT_EQ(ParseTranslateMode("consistent"), TranslateMode::kConsistent);
  EXPECT_FALSE(ParseTranslateMode("paper").has_value());
}

}  // namespace
}  // namespace arc
