// The visual report: one self-contained HTML page (inline CSS, no script, no network, no external
// font) of solved ARC tasks, written by `arc-solve --html` and `arc-client solve|eval --html`.
//
// It renders from one neutral input, the report JSON of docs/JSON.md: {"tasks": [entry, ...],
// "model", "failed", "score"} where every entry is the solve-result JSON of
// core/solve/result_json.h (the optional keys may be absent), plus the tasks themselves for what a
// result does not hold (demonstrations, test inputs, expected outputs). Both tools build that JSON
// anyway (arc-solve's --report, arc-client's --json), so one renderer serves both.
//
// The page holds a summary table (task linked to its section, correct, tests right, seconds,
// expert, TTT) and per task a section with the demonstrations, and per test input the input, the
// expected output when known, the ranked candidates as grids (up to max_candidate_grids; every
// candidate in the table below them) with votes, expert, program text, a right/wrong mark and the
// cells that differ from the expected output; then the program search's counts and the TTT loss
// curve as an inline SVG.
//
// The DOM is the contract for tests and scripts (tests/html_report_test.cc, html_report_e2e.py):
//   <section class="task" id="task-<i>" data-task="<id>" data-correct="true|false|unknown">
//   <div class="test" data-test="<k>" data-correct="true|false|unknown">
//   <table class="grid" data-role="train-input|train-output|test-input|expected|candidate"
//          data-rows="R" data-cols="C" [data-index="<demonstration>"] [data-test="<k>"]
//          [data-rank="<1-based>" data-expert="search|ttt|search+ttt"
//           data-correct="true|false|unknown" data-diff="<cells that differ>"]>
//     <tr><td data-c="<colour 0..9>" [class="diff" data-want="<expected colour>"]>
//   <span class="mark" data-correct="true|false">      (a candidate's or a test's verdict)
//   <code class="program">                             (search answers)
//   <svg class="loss" data-steps="N"><polyline data-role="loss-curve">
//   <table class="summary"><tr data-task="<id>" data-correct="...">
// Cells have the standard ARC palette (0 black, 1 blue, 2 red, 3 green, 4 yellow, 5 grey,
// 6 magenta, 7 orange, 8 sky, 9 maroon); a checkbox at the top shows the digits in the cells.
//
// Depends only on core/data (target arc_core_report, torch-free). Pure functions except
// WriteHtmlReport; thread-safe.
#ifndef ARC_CORE_REPORT_HTML_REPORT_H_
#define ARC_CORE_REPORT_HTML_REPORT_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/data/grid.h"
#include "nlohmann/json.hpp"

namespace arc {

struct HtmlReportOptions {
  std::string title = "ARC solve report";  // the page's <title> and heading
  int max_candidate_grids = 6;             // candidates drawn as grids per test input
};

// The page for `report` ({"tasks": [...]} as above). An entry's task is the one of `tasks` with
// its id (the first); an entry without one shows its answers only, with the verdicts the JSON's
// "correct" fields give. INVALID_ARGUMENT naming the JSON path when the report is malformed, e.g.
// "tasks[1].tests[0].candidates[2].grid: row 1 has 2 cells, expected 3".
absl::StatusOr<std::string> RenderHtmlReport(const nlohmann::json& report,
                                             const std::vector<Task>& tasks,
                                             const HtmlReportOptions& options = {});

// RenderHtmlReport, written atomically to `path`.
absl::Status WriteHtmlReport(const std::string& path, const nlohmann::json& report,
                             const std::vector<Task>& tasks, const HtmlReportOptions& options = {});

}  // namespace arc

#endif  // ARC_CORE_REPORT_HTML_REPORT_H_
