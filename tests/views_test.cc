#include "core/solve/views.h"

#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace arc {
namespace {

using ::arc::testing::G;

Task AsymmetricTask(int n) {
  Task t;
  t.id = "v";
  for (int i = 0; i < n; ++i) {
    t.train.push_back({G({{1, static_cast<int>(i % 9) + 1, 0}, {3, 4, 5}}), G({{i % 10, 2}})});
  }
  t.test.push_back({G({{7, 8, 9}, {0, 0, 1}}), std::nullopt});
  return t;
}

// The paper measured 7, 10, 16, 20 queries for N = 2, 3, 4, 5 (§4.1): up to 3 base views per
// leave-one-out subset (deduplicated: with N = 2 a subset has one demonstration, so permutations
// add nothing) plus one view per transform.
TEST(ViewsTest, CountsMatchThePaper) {
  for (auto [n, expected] : std::vector<std::pair<int, int>>{{2, 7}, {3, 10}, {4, 16}, {5, 20}}) {
    absl::StatusOr<std::vector<View>> v = BuildViews(AsymmetricTask(n), 0, ViewOptions{});
    ASSERT_TRUE(v.ok()) << v.status();
    int base = 0, transformed = 0;
    for (const View& view : *v) (view.category == "identity" ? base : transformed)++;
    EXPECT_EQ(transformed, 5) << n;
    // N=3: subsets of 2 have 2 orders, so at most 2 distinct per subset (6); N>=4 up to 3 each.
    EXPECT_LE(base, 3 * n) << n;
    EXPECT_GE(static_cast<int>(v->size()), expected - 2) << n;
    EXPECT_LE(static_cast<int>(v->size()), 3 * n + 5) << n;
    for (const View& view : *v) EXPECT_EQ(static_cast<int>(view.task.train.size()), n - 1);
  }
}

TEST(ViewsTest, TransformedViewsInvertBack) {
  const Task task = AsymmetricTask(3);
  ViewOptions o;
  o.transforms = AllViewTransforms();
  absl::StatusOr<std::vector<View>> views = BuildViews(task, 0, o);
  ASSERT_TRUE(views.ok());
  const Grid answer = G({{1, 2, 3}, {4, 5, 6}});
  int transformed = 0;
  for (const View& v : *views) {
    // The view's test input is the transformed query; a model that answers the transformed
    // answer is mapped back to the true one.
    EXPECT_EQ(v.task.test[0].input, ApplyDihedral(v.transform, task.test[0].input));
    EXPECT_EQ(InvertOutput(v, ApplyDihedral(v.transform, answer)), answer) << v.id;
    for (size_t k = 0; k < v.demonstrations.size(); ++k) {
      EXPECT_EQ(v.task.train[k].output, ApplyDihedral(v.transform, task.train[v.demonstrations[k]].output));
    }
    transformed += v.category != "identity";
  }
  EXPECT_EQ(transformed, 7);
}

TEST(ViewsTest, SymmetricTaskSkipsNoOpTransforms) {
  // Every grid symmetric under all of D4: every transformed view equals a base view.
  Task t;
  for (int i = 0; i < 3; ++i) t.train.push_back({Grid(3, 3, static_cast<uint8_t>(i)), Grid(1, 1, 1)});
  t.test.push_back({Grid(3, 3, 5), std::nullopt});
  ViewOptions o;
  o.permutations = 0;
  absl::StatusOr<std::vector<View>> v = BuildViews(t, 0, o);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->size(), 3u);
}

TEST(ViewsTest, AllDemonstrationsAndEveryBase) {
  ViewOptions o;
  o.leave_out = 0;
  o.permutations = 1;
  o.every_base_per_transform = true;
  absl::StatusOr<std::vector<View>> v = BuildViews(AsymmetricTask(4), 0, o);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->size(), 2u * 6u);  // 2 base views x (identity + 5 transforms)
  EXPECT_EQ((*v)[0].id, "s0");
  EXPECT_EQ((*v)[1].id, "s0/p1");
  EXPECT_EQ((*v)[2].id, "s0/transpose");
}

TEST(ViewsTest, DeterministicAndValidated) {
  const Task t = AsymmetricTask(4);
  auto a = BuildViews(t, 0, ViewOptions{}), b = BuildViews(t, 0, ViewOptions{});
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_EQ(a->size(), b->size());
  for (size_t i = 0; i < a->size(); ++i) EXPECT_EQ((*a)[i].id, (*b)[i].id);

  EXPECT_EQ(std::string(BuildViews(t, 1, ViewOptions{}).status().message()),
            "test index 1 is outside 0..0");
  ViewOptions o;
  o.leave_out = 4;
  EXPECT_EQ(BuildViews(t, 0, o).status().code(), absl::StatusCode::kFailedPrecondition);
  o = ViewOptions();
  o.transforms = {Dihedral::kIdentity};
  EXPECT_EQ(std::string(BuildViews(t, 0, o).status().message()),
            "view option transforms: identity is always included, list only the other elements");
  o = ViewOptions();
  o.max_views = 3;
  EXPECT_EQ(BuildViews(t, 0, o)->size(), 3u);
}

}  // namespace
}  // namespace arc
