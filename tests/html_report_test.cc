// The HTML report (core/report/html_report.h) rendered from hand-built results through their JSON
// (core/solve/result_json.h): the DOM contract (grids, cells, marks, programs, the loss curve, the
// summary table), escaping, self-containment and the errors for a malformed report. The same page
// in a real browser: tests/html_report_browser_test.py.
#include "core/report/html_report.h"

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/solve/result_json.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace arc {
namespace {

using ::arc::testing::G;
using Json = nlohmann::json;

int Count(const std::string& haystack, const std::string& needle) {
  int n = 0;
  for (size_t at = haystack.find(needle); at != std::string::npos;
       at = haystack.find(needle, at + needle.size())) {
    ++n;
  }
  return n;
}

// The flip task: two demonstrations, one test input with its output.
Task Flip(const std::string& id) {
  Task t;
  t.id = id;
  t.train.push_back({G({{1, 0}, {2, 0}}), G({{0, 1}, {0, 2}})});
  t.train.push_back({G({{3, 4, 0}}), G({{0, 4, 3}})});
  t.test.push_back({G({{5, 0, 0}, {0, 6, 0}}), G({{0, 0, 5}, {0, 6, 0}})});
  return t;
}

// Solved: the search's program is attempt 1.
SolveResult Solved(const std::string& id) {
  SolveResult r;
  r.task_id = id;
  r.task_hash = "h-solved";
  r.search = {true, true, 120, 30, 1, false, true};
  TestResult t;
  t.candidates.push_back({G({{0, 0, 5}, {0, 6, 0}}), 0, {}, 0, "search", "flip_lr(x)", 2});
  r.tests = {t};
  return r;
}

// Wrong: TTT's attempt 1 has one wrong cell, attempt 2 the wrong shape, #3 is right but too late;
// the TTT loss per step is known.
SolveResult Wrong(const std::string& id) {
  SolveResult r;
  r.task_id = id;
  r.task_hash = "h-wrong";
  r.ttt = true;
  r.train_stats = {8, 4, 2.0, 0.5, 640, {2.0f, 1.5f, 0.75f, 0.5f}};
  TestResult t;
  t.candidates.push_back(
      {G({{0, 0, 5}, {0, 7, 0}}), 5, {"a", "b", "c", "d", "e"}, 0, "ttt", "", 0});
  t.candidates.push_back({G({{5}}), 2, {"f", "g"}, 0, "ttt", "", 0});
  t.candidates.push_back({G({{0, 0, 5}, {0, 6, 0}}), 1, {"h"}, 0, "ttt", "", 0});
  t.num_views = 8;
  r.tests = {t};
  return r;
}

// A report of a solved task, a wrong one and a failed one, as arc-solve writes it.
Json Report(const std::vector<Task>& tasks) {
  ResultContext solved, wrong;
  solved.seconds = 0.25;
  solved.task = &tasks[0];
  wrong.seconds = 3.5;
  wrong.task = &tasks[1];
  return {{"model", "tiny"},
          {"tasks", Json::array({SolveResultToJson(Solved(tasks[0].id), solved),
                                 SolveResultToJson(Wrong(tasks[1].id), wrong),
                                 SolveErrorToJson("broken", 1.0, absl::CancelledError("stop"))})},
          {"failed", 1}};
}

TEST(HtmlReportTest, GridsCellsMarksAndProgramsAreInTheDom) {
  const std::vector<Task> tasks = {Flip("solved"), Flip("wrong")};
  absl::StatusOr<std::string> html = RenderHtmlReport(Report(tasks), tasks);
  ASSERT_TRUE(html.ok()) << html.status();
  const std::string& h = *html;
  EXPECT_TRUE(absl::StartsWith(h, "<!DOCTYPE html>")) << h.substr(0, 100);

  // Three sections with their verdicts; the summary links to each.
  EXPECT_EQ(Count(h, "<section class=\"task"), 3);
  EXPECT_NE(h.find(R"(<section class="task" id="task-0" data-task="solved" data-correct="true">)"),
            std::string::npos);
  EXPECT_NE(h.find(R"(<section class="task" id="task-1" data-task="wrong" data-correct="false">)"),
            std::string::npos);
  EXPECT_NE(h.find(R"(<section class="task failed" id="task-2" data-task="broken")"),
            std::string::npos);
  EXPECT_NE(h.find("CANCELLED: stop"), std::string::npos);
  for (int i = 0; i < 3; ++i)
    EXPECT_NE(h.find(absl::StrCat("href=\"#task-", i, "\"")), std::string::npos);
  EXPECT_NE(
      h.find(R"(<tr data-task="solved" data-correct="true"><td><a href="#task-0">solved</a></td>)"
             R"(<td>&#10003;</td><td>1/1</td><td>0.25</td><td>search</td><td>off</td></tr>)"),
      std::string::npos)
      << h;
  EXPECT_NE(h.find("1 of 2 correct"), std::string::npos);

  // Demonstrations and test grids of both tasks: 2 pairs each, an input and an expected output.
  EXPECT_EQ(Count(h, R"(data-role="train-input")"), 4);
  EXPECT_EQ(Count(h, R"(data-role="train-output")"), 4);
  EXPECT_EQ(Count(h, R"(data-role="test-input")"), 2);
  EXPECT_EQ(Count(h, R"(data-role="expected")"), 2);
  // Candidates: one for the solved task, three for the wrong one.
  EXPECT_EQ(Count(h, R"(data-role="candidate")"), 4);
  EXPECT_NE(
      h.find(R"(<table class="grid" data-role="candidate" data-rows="2" data-cols="3" )"
             R"(data-test="0" data-rank="1" data-expert="search" data-correct="true" )"
             R"(data-diff="0" style="--cell:22px"><tr><td data-c="0"></td><td data-c="0"></td>)"
             R"(<td data-c="5"></td></tr>)"),
      std::string::npos)
      << h;
  EXPECT_NE(h.find(R"(<code class="program">flip_lr(x)</code>)"), std::string::npos);
  EXPECT_NE(h.find("program search: explained, 120 programs, 30 states, depth 1, TTT skipped"),
            std::string::npos);

  // The wrong attempt: one differing cell, marked with the colour it should have.
  EXPECT_NE(h.find(R"(data-rank="1" data-expert="ttt" data-correct="false" data-diff="1")"),
            std::string::npos);
  EXPECT_EQ(Count(h, "class=\"diff\""), 1);
  EXPECT_NE(h.find(R"(<td data-c="7" class="diff" data-want="6" title="7, expected 6"></td>)"),
            std::string::npos);
  EXPECT_NE(h.find(R"(data-rank="2" data-expert="ttt" data-correct="false" data-diff="shape")"),
            std::string::npos);
  EXPECT_NE(h.find(R"(<span class="mark" data-correct="false">&#10007; wrong, 1 cell</span>)"),
            std::string::npos);
  EXPECT_NE(h.find(R"(<span class="mark" data-correct="false">&#10007; wrong shape</span>)"),
            std::string::npos);
  // #3 is right, but not an attempt: the test input is wrong.
  EXPECT_NE(h.find(R"(data-rank="3" data-expert="ttt" data-correct="true" data-diff="0")"),
            std::string::npos);
  EXPECT_NE(h.find(R"(<div class="test" data-test="0" data-correct="false">)"), std::string::npos);

  // The loss curve: four steps, four points from (48, 10) at the top to (350, 98) at the bottom.
  EXPECT_NE(h.find(R"(<svg class="loss" data-steps="4")"), std::string::npos);
  EXPECT_NE(h.find(R"(points="48.0,10.0 148.7,39.3 249.3,83.3 350.0,98.0")"), std::string::npos)
      << h;
  EXPECT_NE(h.find("8 samples, 4 steps, 640 tokens, loss 2.0000 &rarr; 0.5000"), std::string::npos);

  // Self-contained: no script, no link, nothing fetched.
  EXPECT_EQ(h.find("<script"), std::string::npos);
  EXPECT_EQ(h.find("<link"), std::string::npos);
  EXPECT_EQ(h.find("src="), std::string::npos);
  EXPECT_EQ(h.find("http"), std::string::npos);
  EXPECT_EQ(h.find("@import"), std::string::npos);
  // The ARC palette.
  EXPECT_NE(h.find(R"(td[data-c="1"]{background:#0074D9;color:#fff})"), std::string::npos);
  EXPECT_NE(h.find(R"(td[data-c="9"]{background:#870C25;color:#fff})"), std::string::npos);
}

TEST(HtmlReportTest, WithoutTheTaskTheJsonVerdictsAreShown) {
  const std::vector<Task> tasks = {Flip("solved"), Flip("wrong")};
  absl::StatusOr<std::string> html = RenderHtmlReport(Report(tasks), {});
  ASSERT_TRUE(html.ok()) << html.status();
  EXPECT_EQ(Count(*html, R"(data-role="train-input")"), 0);
  EXPECT_EQ(Count(*html, R"(data-role="expected")"), 0);
  EXPECT_EQ(Count(*html, "class=\"diff\""), 0);  // cells need the expected output
  EXPECT_NE(html->find(R"(data-task="solved" data-correct="true")"), std::string::npos);
  EXPECT_NE(html->find(R"(data-rank="1" data-expert="ttt" data-correct="false")"),
            std::string::npos);
  EXPECT_NE(html->find("task not given"), std::string::npos);
}

TEST(HtmlReportTest, CandidateGridsAreLimitedAndTextIsEscaped) {
  std::vector<Task> tasks = {Flip("a&b"), Flip("<wrong>")};
  HtmlReportOptions options;
  options.title = "eval \"x\"";
  options.max_candidate_grids = 1;
  absl::StatusOr<std::string> html = RenderHtmlReport(Report(tasks), tasks, options);
  ASSERT_TRUE(html.ok()) << html.status();
  EXPECT_EQ(Count(*html, R"(data-role="candidate")"), 2);  // one per test input
  EXPECT_EQ(Count(*html, "<tr data-rank="), 4);            // every candidate in the tables
  EXPECT_NE(html->find("<title>eval &quot;x&quot;</title>"), std::string::npos);
  EXPECT_NE(html->find(R"(data-task="a&amp;b")"), std::string::npos);
  EXPECT_NE(html->find(R"(data-task="&lt;wrong&gt;")"), std::string::npos);
  EXPECT_EQ(html->find("<wrong>"), std::string::npos);
}

TEST(HtmlReportTest, AMalformedReportNamesThePath) {
  const std::vector<Task> tasks = {Flip("solved"), Flip("wrong")};
  Json report = Report(tasks);
  report["tasks"][1]["tests"][0]["candidates"][2]["grid"] = Json::parse("[[1, 2], [3]]");
  absl::StatusOr<std::string> html = RenderHtmlReport(report, tasks);
  EXPECT_EQ(html.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(html.status().message(),
            "tasks[1].tests[0].candidates[2].grid: row 1 has 1 cells, expected 2");

  report = Report(tasks);
  report["tasks"][0]["tests"][0]["candidates"][0]["grid"][0][1] = 12;
  EXPECT_EQ(RenderHtmlReport(report, tasks).status().message(),
            "tasks[0].tests[0].candidates[0].grid: [0][1]: 12 is not a colour 0..9");
  report = Report(tasks);
  report["tasks"][1]["ttt"]["losses"] = "x";
  EXPECT_EQ(RenderHtmlReport(report, tasks).status().message(),
            "tasks[1].ttt.losses: not an array");
  EXPECT_EQ(RenderHtmlReport(Json::object(), tasks).status().message(),
            "tasks: missing or not an array");
}

}  // namespace
}  // namespace arc
