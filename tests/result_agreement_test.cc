// One result, two roads: what arc-solve writes into its report (SolveResultToJson of the solver's
// SolveResult) and what arc-client --json prints for the same result after the server's
// conversion to the wire (ResultToProto) and the client's conversion back (SolveResponseJson).
#include <string>

#include "client/convert.h"
#include "client/render.h"
#include "core/solve/result_json.h"
#include "gtest/gtest.h"
#include "server/proto_conversion.h"
#include "tests/result_test_util.h"

namespace arc {
namespace {

Grid G(std::vector<std::vector<int>> rows) { return Grid::FromRows(rows).value(); }

SolveResult Result() {
  SolveResult r = testing::HandBuiltResultHeader();
  r.seconds = {0.5, 1.5, 2.5, 0.125};
  TestResult t;
  t.candidates.push_back({G({{1, 2}, {3, 4}}), 3, {"s0/p0/identity", "s0/p1/identity"}, -1.5});
  t.candidates.push_back({G({{3}}), 1, {"s0/p0/transpose"}, 0});
  t.num_views = 4;
  t.invalid_outputs = 1;
  t.leave_out = 1;
  t.views.push_back({"s0/p0/identity", "identity", true, G({{1, 2}, {3, 4}}), ""});
  t.views.push_back({"s0/p1/flip0", "flip0", false, Grid(), "no stop token within 9 tokens"});
  r.tests = {t, t};
  r.tests[1].candidates.pop_back();
  return r;
}

TEST(ResultAgreementTest, ArcSolveReportAndArcClientJsonAreTheSame) {
  Task task;
  task.id = "abc";
  task.train.push_back({G({{0}}), G({{0}})});
  task.test.push_back({G({{0}}), G({{3}})});
  task.test.push_back({G({{0}}), G({{7}})});
  const SolveResult r = Result();

  ResultContext context;
  context.seconds = 4.5;
  context.task = &task;
  context.job_id = "job-1";
  context.queue_seconds = 0.25;
  const std::string report = JsonText(SolveResultToJson(r, context));

  const v1::SolveResponse wire = server::ResultToProto(r, "job-1", 0.25, 4.5);
  absl::StatusOr<std::string> printed = client::SolveResponseJson(wire, &task);
  ASSERT_TRUE(printed.ok()) << printed.status();
  EXPECT_EQ(*printed, report);

  // Offline (no job) the entry is the same less the "job" object.
  nlohmann::json offline = nlohmann::json::parse(report);
  offline.erase("job");
  context.job_id.clear();
  EXPECT_EQ(SolveResultToJson(r, context), offline);
}

TEST(ResultAgreementTest, AMalformedGridFromTheServerNamesTheField) {
  v1::SolveResponse wire = server::ResultToProto(Result(), "job-1", 0, 1);
  wire.mutable_predictions(1)->mutable_candidates(0)->mutable_grid()->add_rows("123");
  absl::StatusOr<SolveResult> r = client::SolveResultFromResponse(wire);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "predictions[1].candidates[0].grid: row 2 has 3 cells, expected 2")
      << r.status();
}

}  // namespace
}  // namespace arc
