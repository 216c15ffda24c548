// The one JSON form of a solve result (core/solve/result_json.h) on hand-built results: every key
// and value, the failed-task entry, and what the optional parts add.
#include "core/solve/result_json.h"

#include <string>

#include "absl/status/status.h"
#include "gtest/gtest.h"
#include "tests/result_test_util.h"

namespace arc {
namespace {

Grid G(std::vector<std::vector<int>> rows) { return Grid::FromRows(rows).value(); }

// Two test inputs: the first with two candidates (a TTT one, then a search answer with its program)
// and its output known (attempt 2 right), the second with one candidate and its output unknown.
SolveResult HandBuilt() {
  SolveResult r = testing::HandBuiltResultHeader();
  r.search = {true, false, 1234, 56, 2, false, false};
  r.seconds = {0.75, 0.5, 1.5, 2.5, 0.125};
  TestResult t0;
  t0.candidates.push_back({G({{1, 2}}), 3, {"s0/p0/identity", "s0/p1/identity"}, -1.5, "ttt"});
  t0.candidates.push_back({G({{3}}), 0, {"transpose"}, 0, "search", "crop(x)", 1});
  t0.num_views = 4;
  t0.invalid_outputs = 1;
  t0.leave_out = 1;
  TestResult t1;
  t1.candidates.push_back({G({{5}}), 2, {"s0/p0/identity"}, 0, "ttt"});
  t1.num_views = 2;
  r.tests = {t0, t1};
  return r;
}

Task TaskWithOutputs() {
  Task t;
  t.id = "abc";
  t.train.push_back({G({{0}}), G({{0}})});
  t.test.push_back({G({{0}}), G({{3}})});
  t.test.push_back({G({{0}}), std::nullopt});
  return t;
}

TEST(ResultJsonTest, WritesEveryFieldOfAHandBuiltResult) {
  const Task task = TaskWithOutputs();
  ResultContext context;
  context.seconds = 6.75;
  context.task = &task;
  EXPECT_EQ(
      SolveResultToJson(HandBuilt(), context).dump(),
      R"({"correct":null,"generated_tokens":40,"hash":"h1","id":"abc",)"
      R"("phase_seconds":{"inference":2.5,"search":0.75,"selection":0.125,"ttt_data":0.5,"ttt_train":1.5},)"
      R"("prompt_tokens":300,)"
      R"("search":{"depth_completed":2,"enabled":true,"explained":false,"nodes":56,"programs":1234,)"
      R"("stopped_by_deadline":false,"ttt_skipped":false,"ttt_skipped_because":""},"seconds":6.75,)"
      R"("tests":[{"attempts":[[[1,2]],[[3]]],)"
      R"("candidates":[{"correct":false,"expert":"ttt","grid":[[1,2]],"score":-1.5,"views":["s0/p0/identity","s0/p1/identity"],"votes":3},)"
      R"j({"correct":true,"expert":"search","explained":1,"grid":[[3]],"program":"crop(x)","score":0.0,"views":["transpose"],"votes":0}],)j"
      R"("correct":true,"invalid_outputs":1,"leave_out":1,"views":4},)"
      R"({"attempts":[[[5]],[[5]]],"candidates":[{"correct":null,"expert":"ttt","grid":[[5]],"score":0.0,"views":["s0/p0/identity"],"votes":2}],)"
      R"("correct":null,"invalid_outputs":0,"leave_out":0,"views":2}],)"
      R"("ttt":{"data":{"augmented":3,"base_leave1":1,"base_leave2":2,"dropped_over_tokens":6,)"
      R"("dropped_oversize":4,"duplicates":5,"selected_leave1":7,"selected_leave2":8},)"
      R"("enabled":true,"first_loss":2.5,"last_loss":0.25,"losses":[2.5,1.25,0.25],"samples":9,)"
      R"("steps":10,"tokens":11}})");
}

// The task's "correct": every test input right; false as soon as one is wrong, null while an
// output is unknown. Losses print with 6 significant digits, not a float's 17.
TEST(ResultJsonTest, TaskVerdictAndShortLosses) {
  Task task = TaskWithOutputs();
  task.test[1].output = G({{5}});
  ResultContext context;
  context.task = &task;
  SolveResult r = HandBuilt();
  r.train_stats.losses = {2.3456f, 0.1f};
  nlohmann::json j = SolveResultToJson(r, context);
  EXPECT_EQ(j["correct"], true) << j.dump();
  EXPECT_EQ(j["ttt"]["losses"].dump(), "[2.3456,0.1]");
  task.test[1].output = G({{6}});
  j = SolveResultToJson(r, context);
  EXPECT_EQ(j["correct"], false) << j.dump();
  EXPECT_EQ(j["tests"][1]["candidates"][0]["correct"], false) << j.dump();
  task.test[0].output.reset();
  EXPECT_EQ(SolveResultToJson(r, context)["correct"], false) << "a wrong test input decides";
  task.test[1].output = G({{5}});
  EXPECT_TRUE(SolveResultToJson(r, context)["correct"].is_null());
}

TEST(ResultJsonTest, WithoutTheTaskCorrectIsNull) {
  const nlohmann::json j = SolveResultToJson(HandBuilt(), {});
  EXPECT_TRUE(j["tests"][0]["correct"].is_null());
  EXPECT_TRUE(j["tests"][1]["correct"].is_null());
  EXPECT_TRUE(j["tests"][0]["candidates"][1]["correct"].is_null());
  EXPECT_TRUE(j["correct"].is_null());
  EXPECT_FALSE(j.contains("job"));
  EXPECT_FALSE(j["tests"][0].contains("view_predictions"));
}

TEST(ResultJsonTest, ServerJobAndViewPredictionsAreAdded) {
  SolveResult r = HandBuilt();
  r.tests[0].views.push_back({"s0/p0/identity", "identity", true, G({{1, 2}}), ""});
  r.tests[0].views.push_back({"s0/p0/transpose", "transpose", false, Grid(), "no stop token"});
  ResultContext context;
  context.job_id = "job-7";
  context.queue_seconds = 0.25;
  const nlohmann::json j = SolveResultToJson(r, context);
  EXPECT_EQ(j["job"].dump(), R"({"id":"job-7","queue_seconds":0.25})");
  EXPECT_EQ(j["tests"][0]["view_predictions"].dump(),
            R"([{"category":"identity","error":"","output":[[1,2]],"valid":true,"view":"s0/p0/identity"},)"
            R"({"category":"transpose","error":"no stop token","output":null,"valid":false,)"
            R"("view":"s0/p0/transpose"}])");
  EXPECT_FALSE(j["tests"][1].contains("view_predictions"));
}

// The text form: indented, a list of numbers on one line, a grid one row per line; the same JSON.
TEST(ResultJsonTest, JsonTextKeepsGridRowsTogether) {
  const nlohmann::json j = {{"grid", {{0, 1}, {2, 3}}},
                            {"losses", {2.5, 0.25}},
                            {"views", {"a", "b"}},
                            {"empty", nlohmann::json::array()},
                            {"none", nullptr},
                            {"o", nlohmann::json::object()}};
  EXPECT_EQ(JsonText(j),
            "{\n"
            "  \"empty\": [],\n"
            "  \"grid\": [\n"
            "    [0, 1],\n"
            "    [2, 3]\n"
            "  ],\n"
            "  \"losses\": [2.5, 0.25],\n"
            "  \"none\": null,\n"
            "  \"o\": {},\n"
            "  \"views\": [\n"
            "    \"a\",\n"
            "    \"b\"\n"
            "  ]\n"
            "}");
  const nlohmann::json result = SolveResultToJson(HandBuilt(), {});
  EXPECT_EQ(nlohmann::json::parse(JsonText(result)), result);
}

TEST(ResultJsonTest, FailedTaskEntry) {
  EXPECT_EQ(SolveErrorToJson("abc", 1.5, absl::CancelledError("stop")).dump(),
            R"({"error":"CANCELLED: stop","id":"abc","seconds":1.5})");
}

}  // namespace
}  // namespace arc
