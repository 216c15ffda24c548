#include "core/data/grid.h"

#include "absl/hash/hash.h"
#include "gtest/gtest.h"

namespace arc {
namespace {

Grid G(const std::vector<std::vector<int>>& rows) { return Grid::FromRows(rows).value(); }

TEST(GridTest, FromRowsAndAccessors) {
  Grid g = G({{1, 2, 3}, {4, 5, 6}});
  EXPECT_EQ(g.rows(), 2);
  EXPECT_EQ(g.cols(), 3);
  EXPECT_EQ(g.at(1, 2), 6);
  EXPECT_EQ(g.Row(1), (std::vector<uint8_t>{4, 5, 6}));
  EXPECT_EQ(g.ToRows(), (std::vector<std::vector<int>>{{1, 2, 3}, {4, 5, 6}}));
}

TEST(GridTest, FromRowsErrors) {
  EXPECT_EQ(Grid::FromRows({}).status().message(), "empty grid");
  EXPECT_EQ(Grid::FromRows({{}}).status().message(), "empty grid");
  EXPECT_EQ(Grid::FromRows({{1, 2}, {3}}).status().message(), "row 1 has 1 cells, expected 2");
  EXPECT_EQ(Grid::FromRows({{1, 10}}).status().message(), "[0][1]: 10 is not a colour 0..9");
  EXPECT_EQ(Grid::FromRows({{1, 10}}).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(GridTest, NumpyStyleString) {
  EXPECT_EQ(G({{7}}).ToString(), "[[7]]");
  EXPECT_EQ(G({{0, 1, 2}, {3, 4, 5}}).ToString(), "[[0 1 2]\n [3 4 5]]");
}

TEST(GridTest, EqualityOrderAndHash) {
  Grid a = G({{1, 2}}), b = G({{1, 2}}), c = G({{1}, {2}});
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);  // same cells, other shape
  EXPECT_EQ(absl::Hash<Grid>()(a), absl::Hash<Grid>()(b));
  EXPECT_TRUE(c < a || a < c);
}

Task SmallTask() {
  Task t;
  t.id = "x";
  t.train.push_back({G({{1, 2}}), G({{2, 1}})});
  t.test.push_back({G({{3, 4}}), std::nullopt});
  return t;
}

TEST(GridTest, ValidateTaskNamesThePath) {
  TaskLimits limits;
  Task t = SmallTask();
  EXPECT_TRUE(ValidateTask(t, limits).ok());

  Task big = t;
  big.test[0].input = Grid(31, 2);
  EXPECT_EQ(ValidateTask(big, limits).message(), "test[0].input: 31 rows, limit 30");
  big.test[0].input = Grid(3, 40);
  EXPECT_EQ(ValidateTask(big, limits).message(), "test[0].input: 40 columns, limit 30");

  Task no_train = t;
  no_train.train.clear();
  EXPECT_EQ(ValidateTask(no_train, limits).message(),
            "train: no demonstrations, need at least 1");
  Task no_test = t;
  no_test.test.clear();
  EXPECT_EQ(ValidateTask(no_test, limits).message(), "test: no test inputs, need at least 1");

  TaskLimits tight;
  tight.max_train_examples = 1;
  Task two = t;
  two.train.push_back(two.train[0]);
  EXPECT_EQ(ValidateTask(two, tight).message(), "train: 2 demonstrations, limit 1");

  Task empty_out = t;
  empty_out.train[0].output = Grid();
  EXPECT_EQ(ValidateTask(empty_out, limits).message(), "train[0].output: empty grid");
}

TEST(GridTest, ContentHashIsStableAndIgnoresId) {
  Task t = SmallTask();
  // Pinned: FNV-1a 64 over the canonical encoding documented in grid.h.
  EXPECT_EQ(ContentHash(t), ContentHash(SmallTask()));
  EXPECT_EQ(ContentHash(t).size(), 16u);
  Task renamed = t;
  renamed.id = "other";
  EXPECT_EQ(ContentHash(renamed), ContentHash(t));
  Task solved = t;
  solved.test[0].output = G({{4, 3}});
  EXPECT_NE(ContentHash(solved), ContentHash(t));
  Task reshaped = t;
  reshaped.train[0].input = G({{1}, {2}});
  EXPECT_NE(ContentHash(reshaped), ContentHash(t));
}

TEST(GridTest, MaxRowsAndCols) {
  Task t = SmallTask();
  t.test[0].output = Grid(5, 1);
  EXPECT_EQ(t.MaxRows(), 5);
  EXPECT_EQ(t.MaxCols(), 2);
}

}  // namespace
}  // namespace arc
