#include "core/data/score.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace arc {
namespace {

Grid G(const std::vector<std::vector<int>>& rows) { return Grid::FromRows(rows).value(); }

const Grid kA = G({{1, 2}, {3, 4}});
const Grid kB = G({{5}});
const Grid kC = G({{6, 6, 6}});
const Grid kWrong = G({{9}});

// A task whose demonstrations do not matter for scoring; one test case per known output.
Task MakeTask(const std::string& id, const std::vector<Grid>& outputs) {
  Task t;
  t.id = id;
  t.train.push_back(Example{G({{0}}), G({{0}})});
  for (const Grid& o : outputs) t.test.push_back(TestCase{G({{0}}), o});
  return t;
}

TEST(AttemptsTest, MatchesEitherAttemptExactly) {
  EXPECT_TRUE((Attempts{kA, kWrong}).Matches(kA));
  EXPECT_TRUE((Attempts{kWrong, kA}).Matches(kA));
  EXPECT_FALSE((Attempts{kWrong, kB}).Matches(kA));
  EXPECT_FALSE((Attempts{G({{1, 2}}), G({{1}, {2}})}).Matches(G({{1, 2, 0}})));  // shape counts
}

TEST(ScoreTest, AllOrNothingVersusFractional) {
  // t1: 1 input, right on attempt 2. t2: 2 inputs, first right on attempt 1, second wrong.
  // t3: 1 input, wrong.
  const std::vector<Task> tasks = {MakeTask("t1", {kA}), MakeTask("t2", {kB, kC}),
                                   MakeTask("t3", {kA})};
  const Submission sub = {
      {"t1", {{kWrong, kA}}}, {"t2", {{kB, kWrong}, {kWrong, kWrong}}}, {"t3", {{kB, kC}}}};
  const ScoreReport r = ScoreSubmission(sub, tasks).value();
  EXPECT_EQ(r.num_tasks, 3);
  EXPECT_EQ(r.num_test_inputs, 4);
  EXPECT_EQ(r.num_submitted_inputs, 4);
  EXPECT_EQ(r.num_correct_inputs, 2);
  EXPECT_DOUBLE_EQ(r.pass2_all_or_nothing, 1.0 / 3.0);
  EXPECT_DOUBLE_EQ(r.pass2_fractional, (1.0 + 0.5 + 0.0) / 3.0);
  EXPECT_DOUBLE_EQ(r.per_prediction, 2.0 / 4.0);

  ASSERT_EQ(r.tasks.size(), 3u);
  EXPECT_EQ(r.tasks[0].id, "t1");
  EXPECT_EQ(r.tasks[0].correct, (std::vector<bool>{true}));
  EXPECT_TRUE(r.tasks[0].submitted);
  EXPECT_TRUE(r.tasks[0].all_correct);
  EXPECT_DOUBLE_EQ(r.tasks[0].fraction, 1.0);
  EXPECT_EQ(r.tasks[1].id, "t2");
  EXPECT_EQ(r.tasks[1].correct, (std::vector<bool>{true, false}));
  EXPECT_TRUE(r.tasks[1].submitted);
  EXPECT_FALSE(r.tasks[1].all_correct);
  EXPECT_DOUBLE_EQ(r.tasks[1].fraction, 0.5);
  EXPECT_EQ(r.tasks[2].correct, (std::vector<bool>{false}));
  EXPECT_DOUBLE_EQ(r.tasks[2].fraction, 0.0);
}

TEST(ScoreTest, ExactShapeRequired) {
  // Same cells in another shape are wrong.
  const std::vector<Task> tasks = {MakeTask("t", {G({{1, 2, 3, 4}})})};
  const Submission sub = {{"t", {{G({{1, 2}, {3, 4}}), G({{1}, {2}, {3}, {4}})}}}};
  const ScoreReport r = ScoreSubmission(sub, tasks).value();
  EXPECT_EQ(r.num_correct_inputs, 0);
  EXPECT_DOUBLE_EQ(r.pass2_all_or_nothing, 0.0);
  EXPECT_DOUBLE_EQ(r.per_prediction, 0.0);
}

TEST(ScoreTest, MissingTaskIsWrongAndNotSubmittedExtraKeysIgnored) {
  const std::vector<Task> tasks = {MakeTask("t1", {kA}), MakeTask("t2", {kB, kC})};
  const Submission sub = {{"t1", {{kA, kA}}}, {"unknown", {{kB, kB}, {kC, kC}}}};
  const ScoreReport r = ScoreSubmission(sub, tasks).value();
  EXPECT_EQ(r.num_tasks, 2);
  EXPECT_EQ(r.num_test_inputs, 3);
  EXPECT_EQ(r.num_submitted_inputs, 1);
  EXPECT_EQ(r.num_correct_inputs, 1);
  EXPECT_DOUBLE_EQ(r.pass2_all_or_nothing, 0.5);
  EXPECT_DOUBLE_EQ(r.pass2_fractional, 0.5);
  EXPECT_DOUBLE_EQ(r.per_prediction, 1.0);
  EXPECT_FALSE(r.tasks[1].submitted);
  EXPECT_EQ(r.tasks[1].correct, (std::vector<bool>{false, false}));
}

TEST(ScoreTest, ShortSubmissionCountsMissingEntriesAsWrongAndUnsubmitted) {
  // t2 has 3 test inputs but only 2 entries, both right: fractional credit 2/3, no full credit.
  // Extra entries (t1 has 2 for 1 input) are ignored.
  const std::vector<Task> tasks = {MakeTask("t1", {kA}), MakeTask("t2", {kA, kB, kC})};
  const Submission sub = {{"t1", {{kA, kWrong}, {kB, kB}}}, {"t2", {{kA, kWrong}, {kWrong, kB}}}};
  const ScoreReport r = ScoreSubmission(sub, tasks).value();
  EXPECT_EQ(r.num_test_inputs, 4);
  EXPECT_EQ(r.num_submitted_inputs, 3);
  EXPECT_EQ(r.num_correct_inputs, 3);
  EXPECT_DOUBLE_EQ(r.pass2_all_or_nothing, 0.5);
  EXPECT_DOUBLE_EQ(r.pass2_fractional, (1.0 + 2.0 / 3.0) / 2.0);
  EXPECT_DOUBLE_EQ(r.per_prediction, 1.0);
  EXPECT_TRUE(r.tasks[0].submitted);
  EXPECT_FALSE(r.tasks[1].submitted);
  EXPECT_FALSE(r.tasks[1].all_correct);
  EXPECT_EQ(r.tasks[1].correct, (std::vector<bool>{true, true, false}));
}

TEST(ScoreTest, NothingSubmittedAndNoTasks) {
  const ScoreReport r = ScoreSubmission({}, {MakeTask("t", {kA})}).value();
  EXPECT_EQ(r.num_submitted_inputs, 0);
  EXPECT_DOUBLE_EQ(r.per_prediction, 0.0);
  EXPECT_DOUBLE_EQ(r.pass2_fractional, 0.0);

  const ScoreReport none = ScoreSubmission({{"t", {{kA, kA}}}}, {}).value();
  EXPECT_EQ(none.num_tasks, 0);
  EXPECT_DOUBLE_EQ(none.pass2_all_or_nothing, 0.0);
  EXPECT_TRUE(none.tasks.empty());
}

TEST(ScoreTest, MissingOutputIsAnError) {
  Task t = MakeTask("abc123", {kA, kB});
  t.test[1].output.reset();
  const auto r = ScoreSubmission({{"abc123", {{kA, kA}, {kB, kB}}}}, {MakeTask("ok", {kA}), t});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(r.status().message(), "task abc123 test[1]: no known output to score against");
}

TEST(ScoreTest, TaskWithoutTestInputsIsAnError) {
  Task t = MakeTask("empty", {});
  const auto r = ScoreSubmission({}, {t});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "task empty: no test inputs to score");
}

}  // namespace
}  // namespace arc
