// Grid/task <-> arc.v1 message conversion, enum names.
#include "client/convert.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace arc::client {
namespace {

using ::arc::testing::G;

v1::Grid Rows(std::initializer_list<const char*> rows) {
  v1::Grid g;
  for (const char* r : rows) g.add_rows(r);
  return g;
}

TEST(ClientConvertTest, GridRoundTrip) {
  const Grid g = G({{0, 1, 2}, {3, 4, 9}});
  const v1::Grid p = GridToProto(g);
  ASSERT_EQ(p.rows_size(), 2);
  EXPECT_EQ(p.rows(0), "012");
  EXPECT_EQ(p.rows(1), "349");
  absl::StatusOr<Grid> back = GridFromProto(p, "x");
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, g);
}

TEST(ClientConvertTest, GridErrorsNameTheField) {
  absl::StatusOr<Grid> r = GridFromProto(Rows({"012", "34", "567"}), "train[2].output");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "train[2].output: row 1 has 2 cells, expected 3");

  r = GridFromProto(Rows({"012", "3a5"}), "test[0].input");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "test[0].input.rows[1][1]: 'a' is not a colour digit 0..9");

  r = GridFromProto(Rows({"0\x01"}), "g");
  EXPECT_EQ(r.status().message(), "g.rows[0][1]: '\\x01' is not a colour digit 0..9");

  r = GridFromProto(Rows({"01", ""}), "g");
  EXPECT_EQ(r.status().message(), "g.rows[1]: empty row");

  r = GridFromProto(v1::Grid(), "test[0].output");
  EXPECT_EQ(r.status().message(), "test[0].output: empty grid");

  // Ragged beats a bad digit later on: shapes are checked first.
  r = GridFromProto(Rows({"0x", "1"}), "g");
  EXPECT_EQ(r.status().message(), "g: row 1 has 1 cells, expected 2");
}

TEST(ClientConvertTest, TaskRoundTripKeepsKnownOutputs) {
  Task t;
  t.id = "t1";
  t.train.push_back({G({{1, 0}}), G({{0, 1}})});
  t.train.push_back({G({{2}}), G({{2}})});
  t.test.push_back({G({{3, 4}}), G({{4, 3}})});
  t.test.push_back({G({{5}}), std::nullopt});
  const v1::Task p = TaskToProto(t);
  ASSERT_EQ(p.train_size(), 2);
  ASSERT_EQ(p.test_size(), 2);
  EXPECT_TRUE(p.test(0).has_output());
  EXPECT_FALSE(p.test(1).has_output());
  EXPECT_EQ(p.train(0).output().rows(0), "01");

  absl::StatusOr<Task> back = TaskFromProto(p, "t1");
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->id, "t1");
  EXPECT_EQ(*back, t);
}

TEST(ClientConvertTest, TaskFromProtoValidates) {
  v1::Task p;
  *p.add_train()->mutable_input() = Rows({"1"});
  *p.mutable_train(0)->mutable_output() = Rows({"1", "22"});
  EXPECT_EQ(TaskFromProto(p, "x").status().message(),
            "train[0].output: row 1 has 2 cells, expected 1");

  *p.mutable_train(0)->mutable_output() = Rows({"1"});
  // No test input: core's validation speaks.
  absl::StatusOr<Task> t = TaskFromProto(p, "x");
  EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(t.status().message().find("test"), absl::string_view::npos) << t.status();

  v1::Grid big;
  for (int r = 0; r < 31; ++r) big.add_rows("0");
  *p.add_test()->mutable_input() = big;
  EXPECT_EQ(TaskFromProto(p, "x").status().message(), "test[0].input: 31 rows, limit 30");
}

TEST(ClientConvertTest, AttemptsFromResponseFillsPlaceholders) {
  v1::SolveResponse r;
  v1::TestPrediction* p = r.add_predictions();
  *p->mutable_attempt_1() = Rows({"12"});
  // attempt_2 missing; the second test input has no prediction at all.
  absl::StatusOr<std::vector<Attempts>> a = AttemptsFromResponse(r, 2);
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_EQ(a->size(), 2u);
  EXPECT_EQ((*a)[0].attempt_1, G({{1, 2}}));
  EXPECT_EQ((*a)[0].attempt_2, Grid(1, 1));
  EXPECT_EQ((*a)[1].attempt_1, Grid(1, 1));

  *p->mutable_attempt_2() = Rows({"1", "23"});
  EXPECT_EQ(AttemptsFromResponse(r, 2).status().message(),
            "predictions[0].attempt_2: row 1 has 2 cells, expected 1");
}

TEST(ClientConvertTest, EnumNames) {
  EXPECT_EQ(JobStateName(v1::JOB_STATE_RUNNING), "running");
  EXPECT_EQ(*ParseJobState("succeeded"), v1::JOB_STATE_SUCCEEDED);
  EXPECT_EQ(*ParseJobState("JOB_STATE_CANCELLED"), v1::JOB_STATE_CANCELLED);
  EXPECT_EQ(ParseJobState("done").status().message(),
            "--state: \"done\" is not one of queued, running, succeeded, failed, cancelled");
  EXPECT_EQ(PhaseName(v1::PHASE_TTT_TRAIN), "ttt_train");
  EXPECT_EQ(StatusCodeName(8), "RESOURCE_EXHAUSTED");
  EXPECT_EQ(StatusCodeName(14), "UNAVAILABLE");
  EXPECT_EQ(StatusCodeName(99), "CODE_99");
}

}  // namespace
}  // namespace arc::client
