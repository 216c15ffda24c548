// The search's Image: conversions, text form, hashing and colour summaries.
#include "core/data/grid.h"
#include "core/search/image.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace arc::search {
namespace {

using ::arc::testing::G;

TEST(ImageTest, GridRoundTripDropsTheOffset) {
  const Grid g = G({{1, 2, 3}, {4, 5, 6}});
  Image img = FromGrid(g);
  EXPECT_EQ(img.w, 3);
  EXPECT_EQ(img.h, 2);
  EXPECT_EQ(img.at(1, 0), 4);
  img.x = 5;
  img.y = 7;
  EXPECT_EQ(ToGrid(img), g);
}

TEST(ImageTest, TextRoundTripKeepsTheOffset) {
  const Image img = ParseImage("@-1,2 012/340");
  EXPECT_EQ(img.x, -1);
  EXPECT_EQ(img.y, 2);
  EXPECT_EQ(img.w, 3);
  EXPECT_EQ(img.h, 2);
  EXPECT_EQ(img.at(1, 1), 4);
  EXPECT_EQ(ImageToString(img), "@-1,2 012/340");
  EXPECT_EQ(ImageToString(ParseImage("5")), "5");
  EXPECT_TRUE(ParseImage("").empty());
  EXPECT_EQ(img.get(-1, 0), 0);
  EXPECT_EQ(img.get(0, 3), 0);
}

TEST(ImageTest, HashAndEqualityIncludeOffsetSizeAndCells) {
  const Image a = ParseImage("12/30");
  Image moved = a;
  moved.x = 1;
  EXPECT_NE(a, moved);
  EXPECT_NE(a.Hash(), moved.Hash());
  EXPECT_TRUE(SameContent(a, moved));
  EXPECT_NE(ParseImage("1230").Hash(), ParseImage("12/30").Hash());
  EXPECT_NE(ParseImage("12/30").Hash(), ParseImage("12/31").Hash());
  EXPECT_EQ(a.Hash(), ParseImage("12/30").Hash());
  // Cells past the first eight take part too.
  EXPECT_NE(ParseImage("000000000/0").Hash(), ParseImage("000000000/1").Hash());
}

TEST(ImageTest, ColourSummaries) {
  const Image img = ParseImage("1102/0009");
  const std::vector<int> counts = ColourCounts(img);
  EXPECT_EQ(counts[0], 4);
  EXPECT_EQ(counts[1], 2);
  EXPECT_EQ(counts[2], 1);
  EXPECT_EQ(counts[9], 1);
  EXPECT_EQ(ColourMask(img), (1u << 0) | (1u << 1) | (1u << 2) | (1u << 9));
}

}  // namespace
}  // namespace arc::search
