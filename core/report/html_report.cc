#include "core/report/html_report.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "core/data/file_util.h"
#include "core/data/status_macros.h"

namespace arc {
namespace {

using Json = nlohmann::json;

// The standard ARC palette, colour 0..9, and a readable digit colour on each.
constexpr const char* kPalette[kNumColours] = {"#000000", "#0074D9", "#FF4136", "#2ECC40",
                                               "#FFDC00", "#AAAAAA", "#F012BE", "#FF851B",
                                               "#7FDBFF", "#870C25"};
constexpr const char* kDigitColour[kNumColours] = {"#fff", "#fff", "#fff", "#000", "#000",
                                                   "#000", "#fff", "#000", "#000", "#fff"};

constexpr char kStyle[] = R"css(
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:16px 24px;
  background:#f4f5f7;color:#1f2328}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:0 0 6px}h3{font-size:15px;margin:14px 0 6px}
.meta{color:#57606a;font-size:13px}
section.task{background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:12px 18px;margin:18px 0}
section.task.failed{border-color:#cf222e}
.row{display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start}
.pair{display:flex;gap:6px;align-items:center;padding:6px;border:1px solid #eaeef2;border-radius:6px}
.arrow{color:#8c959f;font-size:18px}
figure{margin:0;display:inline-flex;flex-direction:column;align-items:flex-start;gap:4px;max-width:360px}
figcaption{font-size:12px;color:#57606a}
table.grid{border-collapse:collapse;border:2px solid #57606a;background:#57606a}
table.grid td{width:var(--cell);height:var(--cell);min-width:var(--cell);padding:0;
  border:1px solid #3d444d;box-sizing:border-box;text-align:center;vertical-align:middle;
  font:600 calc(var(--cell)*0.62)/1 ui-monospace,monospace}
table.grid td.diff{box-shadow:inset 0 0 0 2px #fff,inset 0 0 0 4px #cf222e}
table.grid.shape{border-color:#cf222e;border-style:dashed}
figure.candidate.right table.grid{border-color:#1a7f37}
.mark{font-weight:600}.mark[data-correct="true"]{color:#1a7f37}.mark[data-correct="false"]{color:#cf222e}
code.program{font:12px ui-monospace,monospace;background:#f6f8fa;border:1px solid #d0d7de;
  border-radius:4px;padding:1px 4px;word-break:break-all}
table.list,table.summary{border-collapse:collapse;font-size:13px;margin:6px 0}
table.list td,table.list th,table.summary td,table.summary th{border-bottom:1px solid #eaeef2;
  padding:3px 10px;text-align:left}
table.summary tr[data-correct="true"] td:nth-child(2){color:#1a7f37;font-weight:600}
table.summary tr[data-correct="false"] td:nth-child(2){color:#cf222e;font-weight:600}
svg.loss{background:#fff;border:1px solid #d0d7de;border-radius:4px}
svg.loss text{font:11px system-ui,sans-serif;fill:#57606a}
.error{color:#cf222e;font-family:ui-monospace,monospace}
label.digits{font-size:13px;color:#57606a}
#digits:checked~main table.grid td::after{content:attr(data-c)}
)css";

std::string Escape(absl::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

absl::Status Malformed(const std::string& path, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(path, ": ", what));
}

absl::StatusOr<Grid> GridFromJson(const Json& j, const std::string& path) {
  if (!j.is_array()) return Malformed(path, "not an array of rows");
  std::vector<std::vector<int>> rows;
  for (size_t r = 0; r < j.size(); ++r) {
    if (!j[r].is_array()) return Malformed(absl::StrCat(path, "[", r, "]"), "not an array");
    std::vector<int> row;
    for (size_t c = 0; c < j[r].size(); ++c) {
      if (!j[r][c].is_number_integer()) {
        return Malformed(absl::StrCat(path, "[", r, "][", c, "]"), "not an integer");
      }
      row.push_back(j[r][c].get<int>());
    }
    rows.push_back(std::move(row));
  }
  absl::StatusOr<Grid> g = Grid::FromRows(rows);
  if (!g.ok()) return Malformed(path, g.status().message());
  return g;
}

// Lenient readers for the optional keys: the default when absent or of another type.
double Number(const Json& j, const char* key, double fallback = 0) {
  const auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<double>() : fallback;
}
std::string Text(const Json& j, const char* key) {
  const auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}
std::optional<bool> Flag(const Json& j, const char* key) {
  const auto it = j.find(key);
  if (it == j.end() || !it->is_boolean()) return std::nullopt;
  return it->get<bool>();
}
const Json& Object(const Json& j, const char* key) {
  static const Json kEmpty = Json::object();
  const auto it = j.find(key);
  return it != j.end() && it->is_object() ? *it : kEmpty;
}

std::string Verdict(std::optional<bool> v) { return v ? (*v ? "true" : "false") : "unknown"; }

// AND over verdicts: false wins, then unknown, then true.
std::optional<bool> All(const std::vector<std::optional<bool>>& v) {
  if (v.empty()) return std::nullopt;
  bool unknown = false;
  for (const std::optional<bool>& x : v) {
    if (x && !*x) return false;
    unknown = unknown || !x;
  }
  if (unknown) return std::nullopt;
  return true;
}

// Cell size in pixels: grids up to 8 cells a side get 22 px cells, a 30x30 grid 7 px ones.
int CellPixels(const Grid& g) {
  const int side = std::max({g.rows(), g.cols(), 1});
  return std::clamp(200 / side, 7, 22);
}

struct GridAttrs {
  std::string role;
  std::string extra;               // more attributes, each with a leading space
  const Grid* expected = nullptr;  // cells differing from it are marked (same shape only)
};

// The grid as a table of cells, and how many cells differ from `expected` (-1: another shape).
std::string GridTable(const Grid& g, const GridAttrs& a, int* diff_out = nullptr) {
  int diff = 0;
  const bool compare = a.expected != nullptr;
  const bool same_shape =
      compare && a.expected->rows() == g.rows() && a.expected->cols() == g.cols();
  if (compare && same_shape) {
    for (int r = 0; r < g.rows(); ++r) {
      for (int c = 0; c < g.cols(); ++c) diff += g.at(r, c) != a.expected->at(r, c);
    }
  }
  if (compare && !same_shape) diff = -1;
  std::string out = absl::StrFormat(
      R"(<table class="grid%s" data-role="%s" data-rows="%d" data-cols="%d"%s%s style="--cell:%dpx">)",
      diff < 0 ? " shape" : "", a.role, g.rows(), g.cols(), a.extra,
      compare ? absl::StrCat(" data-diff=\"", diff < 0 ? std::string("shape") : absl::StrCat(diff),
                             "\"")
              : "",
      CellPixels(g));
  for (int r = 0; r < g.rows(); ++r) {
    out += "<tr>";
    for (int c = 0; c < g.cols(); ++c) {
      const int v = g.at(r, c);
      if (same_shape && v != a.expected->at(r, c)) {
        const int want = a.expected->at(r, c);
        absl::StrAppend(&out, "<td data-c=\"", v, "\" class=\"diff\" data-want=\"", want,
                        "\" title=\"", v, ", expected ", want, "\"></td>");
      } else {
        absl::StrAppend(&out, "<td data-c=\"", v, "\"></td>");
      }
    }
    out += "</tr>";
  }
  out += "</table>";
  if (diff_out != nullptr) *diff_out = diff;
  return out;
}

std::string Figure(const std::string& caption, const std::string& body,
                   const std::string& attrs = "") {
  return absl::StrCat("<figure", attrs, "><figcaption>", caption, "</figcaption>", body,
                      "</figure>");
}

std::string Mark(bool right, const std::string& text) {
  return absl::StrCat("<span class=\"mark\" data-correct=\"", right ? "true" : "false", "\">",
                      right ? "&#10003; " : "&#10007; ", text, "</span>");
}

// The loss curve: one point per optimizer step, the y axis from the lowest to the highest loss.
std::string LossSvg(const std::vector<double>& losses) {
  constexpr double kW = 360, kH = 120, kLeft = 48, kRight = 10, kTop = 10, kBottom = 22;
  const double lo = *std::min_element(losses.begin(), losses.end());
  const double hi = *std::max_element(losses.begin(), losses.end());
  const double span = hi > lo ? hi - lo : 1;
  const size_t n = losses.size();
  std::vector<std::string> points;
  for (size_t i = 0; i < n; ++i) {
    const double x = kLeft + (n > 1 ? (kW - kLeft - kRight) * static_cast<double>(i) / (n - 1) : 0);
    const double y = kTop + (kH - kTop - kBottom) * (hi - losses[i]) / span;
    points.push_back(absl::StrFormat("%.1f,%.1f", x, y));
  }
  std::string out = absl::StrFormat(
      R"(<svg class="loss" data-steps="%d" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" )"
      R"(role="img"><title>TTT loss per optimizer step</title>)",
      n, kW, kH, kW, kH);
  absl::StrAppend(
      &out,
      absl::StrFormat(R"(<line x1="%.0f" y1="%.0f" x2="%.0f" y2="%.0f" stroke="#d0d7de"/>)", kLeft,
                      kH - kBottom, kW - kRight, kH - kBottom),
      absl::StrFormat(R"(<line x1="%.0f" y1="%.0f" x2="%.0f" y2="%.0f" stroke="#d0d7de"/>)", kLeft,
                      kTop, kLeft, kH - kBottom),
      absl::StrFormat(R"(<text x="%.0f" y="%.0f" text-anchor="end">%.4g</text>)", kLeft - 4,
                      kTop + 8, hi),
      absl::StrFormat(R"(<text x="%.0f" y="%.0f" text-anchor="end">%.4g</text>)", kLeft - 4,
                      kH - kBottom, lo),
      absl::StrFormat(R"(<text x="%.0f" y="%.0f">step 1</text>)", kLeft, kH - 6),
      absl::StrFormat(R"(<text x="%.0f" y="%.0f" text-anchor="end">step %d</text>)", kW - kRight,
                      kH - 6, n));
  if (n == 1) {
    absl::StrAppend(&out, "<circle data-role=\"loss-curve\" cx=\"", kLeft, "\" cy=\"", kTop,
                    "\" r=\"3\" fill=\"#0969da\"/>");
  } else {
    absl::StrAppend(&out, R"(<polyline data-role="loss-curve" fill="none" stroke="#0969da" )",
                    R"(stroke-width="1.5" points=")", absl::StrJoin(points, " "), "\"/>");
  }
  out += "</svg>";
  return out;
}

// What one entry needs beyond its JSON, and what the summary row shows.
struct TaskSummary {
  std::string id;
  std::string anchor;
  std::optional<bool> correct;
  int tests = 0;
  int tests_right = 0;
  bool tests_known = true;
  double seconds = 0;
  std::string expert;
  std::string ttt;
  bool failed = false;
};

class Renderer {
 public:
  Renderer(const std::vector<Task>& tasks, const HtmlReportOptions& options)
      : tasks_(tasks), options_(options) {}

  absl::Status Entry(const Json& entry, size_t index, std::string& out, TaskSummary& summary) {
    const std::string path = absl::StrCat("tasks[", index, "]");
    if (!entry.is_object()) return Malformed(path, "not an object");
    summary.id = Text(entry, "id");
    summary.anchor = absl::StrCat("task-", index);
    summary.seconds = Number(entry, "seconds");
    const Task* task = FindTask(summary.id);

    if (entry.contains("error")) {
      summary.failed = true;
      summary.correct =
          task != nullptr && TaskOutputsKnown(*task) ? std::optional<bool>(false) : std::nullopt;
      summary.expert = "-";
      summary.ttt = "-";
      absl::StrAppend(&out, "<section class=\"task failed\" id=\"", summary.anchor,
                      "\" data-task=\"", Escape(summary.id), "\" data-correct=\"",
                      Verdict(summary.correct), "\"><h2>", Escape(summary.id),
                      " <span class=\"mark\" data-correct=\"false\">&#10007; failed</span></h2>",
                      "<p class=\"error\">", Escape(Text(entry, "error")), "</p>");
      if (task != nullptr) out += Demonstrations(*task);
      out += "</section>\n";
      return absl::OkStatus();
    }

    const auto tests_it = entry.find("tests");
    if (tests_it == entry.end() || !tests_it->is_array()) {
      return Malformed(path + ".tests", "missing or not an array");
    }
    std::string body;
    std::vector<std::optional<bool>> verdicts;
    std::set<std::string> experts;
    for (size_t k = 0; k < tests_it->size(); ++k) {
      std::optional<bool> verdict;
      ARC_RETURN_IF_ERROR(Test((*tests_it)[k], k, task, absl::StrCat(path, ".tests[", k, "]"), body,
                               verdict, experts));
      verdicts.push_back(verdict);
      summary.tests_known = summary.tests_known && verdict.has_value();
      summary.tests_right += verdict.value_or(false);
    }
    summary.tests = static_cast<int>(tests_it->size());
    summary.correct = All(verdicts);
    if (!summary.correct) summary.correct = Flag(entry, "correct");
    summary.expert = experts.empty() ? "-" : absl::StrJoin(experts, ", ");

    const Json& ttt = Object(entry, "ttt");
    const bool ttt_on = Flag(ttt, "enabled").value_or(false);
    summary.ttt = ttt_on ? absl::StrFormat("%d steps, loss %.3f &rarr; %.3f",
                                           static_cast<int>(Number(ttt, "steps")),
                                           Number(ttt, "first_loss"), Number(ttt, "last_loss"))
                         : "off";

    absl::StrAppend(&out, "<section class=\"task\" id=\"", summary.anchor, "\" data-task=\"",
                    Escape(summary.id), "\" data-correct=\"", Verdict(summary.correct), "\">");
    absl::StrAppend(&out, "<h2>", Escape(summary.id), " ");
    if (summary.correct) {
      out += Mark(*summary.correct, *summary.correct ? "correct" : "wrong");
    }
    absl::StrAppend(&out, "</h2><p class=\"meta\">hash ", Escape(Text(entry, "hash")), " &middot; ",
                    absl::StrFormat("%.2f s", summary.seconds));
    const Json& job = Object(entry, "job");
    if (!Text(job, "id").empty()) absl::StrAppend(&out, " &middot; job ", Escape(Text(job, "id")));
    if (task == nullptr) out += " &middot; task not given: demonstrations not shown";
    out += "</p>";
    if (task != nullptr) out += Demonstrations(*task);
    out += body;
    out += Search(Object(entry, "search"));
    ARC_RETURN_IF_ERROR(Ttt(ttt, path + ".ttt", out));
    out += "</section>\n";
    return absl::OkStatus();
  }

 private:
  const Task* FindTask(const std::string& id) const {
    for (const Task& t : tasks_) {
      if (t.id == id) return &t;
    }
    return nullptr;
  }

  static bool TaskOutputsKnown(const Task& t) {
    for (const TestCase& tc : t.test) {
      if (!tc.output) return false;
    }
    return !t.test.empty();
  }

  static std::string Demonstrations(const Task& task) {
    std::string out =
        absl::StrCat("<h3>Demonstrations (", task.train.size(), ")</h3><div class=\"row\">");
    for (size_t i = 0; i < task.train.size(); ++i) {
      const std::string index = absl::StrCat(" data-index=\"", i, "\"");
      absl::StrAppend(&out, "<div class=\"pair\">",
                      Figure(absl::StrCat("input ", i + 1),
                             GridTable(task.train[i].input, {"train-input", index})),
                      "<span class=\"arrow\">&rarr;</span>",
                      Figure(absl::StrCat("output ", i + 1),
                             GridTable(task.train[i].output, {"train-output", index})),
                      "</div>");
    }
    out += "</div>";
    return out;
  }

  absl::Status Test(const Json& t, size_t k, const Task* task, const std::string& path,
                    std::string& out, std::optional<bool>& verdict,
                    std::set<std::string>& experts) {
    if (!t.is_object()) return Malformed(path, "not an object");
    const TestCase* tc = task != nullptr && k < task->test.size() ? &task->test[k] : nullptr;
    const Grid* expected = tc != nullptr && tc->output ? &*tc->output : nullptr;
    const std::string test_attr = absl::StrCat(" data-test=\"", k, "\"");

    // The verdict: against the task's output when known, else the JSON's.
    std::vector<Grid> attempts;
    if (const auto a = t.find("attempts"); a != t.end() && a->is_array()) {
      for (size_t i = 0; i < a->size(); ++i) {
        absl::StatusOr<Grid> g = GridFromJson((*a)[i], absl::StrCat(path, ".attempts[", i, "]"));
        if (!g.ok()) return g.status();
        attempts.push_back(*std::move(g));
      }
    }
    if (expected != nullptr) {
      verdict = std::any_of(attempts.begin(), attempts.end(),
                            [&](const Grid& g) { return g == *expected; });
    } else {
      verdict = Flag(t, "correct");
    }

    std::string figures;
    if (tc != nullptr) {
      figures += Figure("test input", GridTable(tc->input, {"test-input", test_attr}));
      if (expected != nullptr) {
        figures += Figure("expected", GridTable(*expected, {"expected", test_attr}));
      }
    }
    const auto cands = t.find("candidates");
    if (cands == t.end() || !cands->is_array()) {
      return Malformed(path + ".candidates", "missing or not an array");
    }
    std::string rows;
    for (size_t c = 0; c < cands->size(); ++c) {
      const Json& cand = (*cands)[c];
      const std::string cpath = absl::StrCat(path, ".candidates[", c, "]");
      if (!cand.is_object()) return Malformed(cpath, "not an object");
      const auto grid_it = cand.find("grid");
      if (grid_it == cand.end()) return Malformed(cpath + ".grid", "missing");
      absl::StatusOr<Grid> grid = GridFromJson(*grid_it, cpath + ".grid");
      if (!grid.ok()) return grid.status();
      const std::string expert = Text(cand, "expert");
      const std::string program = Text(cand, "program");
      if (c == 0 && !expert.empty()) experts.insert(expert);
      const std::optional<bool> right =
          expected != nullptr ? std::optional<bool>(*grid == *expected) : Flag(cand, "correct");
      const int rank = static_cast<int>(c) + 1;
      const int votes = static_cast<int>(Number(cand, "votes"));
      const std::string program_html =
          program.empty() ? ""
                          : absl::StrCat("<code class=\"program\">", Escape(program), "</code>");
      int diff = 0;
      std::string grid_html =
          GridTable(*grid,
                    {"candidate",
                     absl::StrCat(test_attr, " data-rank=\"", rank, "\" data-expert=\"",
                                  Escape(expert), "\" data-correct=\"", Verdict(right), "\""),
                     expected},
                    &diff);
      std::string verdict_html;
      if (right) {
        verdict_html =
            Mark(*right, *right     ? "right"
                         : diff < 0 ? "wrong shape"
                         : expected ? absl::StrCat("wrong, ", diff, diff == 1 ? " cell" : " cells")
                                    : "wrong");
      }
      if (static_cast<int>(c) < options_.max_candidate_grids) {
        const std::string caption =
            absl::StrCat("#", rank, c < 2 ? absl::StrCat(" (attempt ", rank, ")") : "",
                         " &middot; ", Escape(expert.empty() ? "-" : expert), " &middot; ", votes,
                         votes == 1 ? " vote " : " votes ", verdict_html,
                         program_html.empty() ? "" : "<br>", program_html);
        figures += Figure(caption, grid_html,
                          absl::StrCat(" class=\"candidate", right.value_or(false) ? " right" : "",
                                       "\" data-rank=\"", rank, "\""));
      }
      const Json views = cand.value("views", Json::array());
      absl::StrAppend(&rows, "<tr data-rank=\"", rank, "\"><td>", rank, "</td><td>", grid->rows(),
                      "x", grid->cols(), "</td><td>", votes, "</td><td>",
                      absl::StrFormat("%.4f", Number(cand, "score")), "</td><td>",
                      views.is_array() ? views.size() : 0, "</td><td>", Escape(expert), "</td><td>",
                      verdict_html.empty() ? "-" : verdict_html, "</td><td>", program_html,
                      "</td></tr>");
    }
    if (cands->empty()) {
      figures += "<p class=\"meta\">no valid prediction from any view</p>";
    }

    absl::StrAppend(&out, "<div class=\"test\"", test_attr, " data-correct=\"", Verdict(verdict),
                    "\"><h3>Test ", k, " ");
    if (verdict) out += Mark(*verdict, *verdict ? "correct" : "wrong");
    absl::StrAppend(&out, " <span class=\"meta\">", static_cast<int>(Number(t, "views")),
                    " views, ", static_cast<int>(Number(t, "invalid_outputs")), " invalid, ",
                    cands->size(), " candidates</span></h3><div class=\"row\">", figures, "</div>");
    if (!cands->empty()) {
      absl::StrAppend(&out,
                      "<table class=\"list candidates\"><thead><tr><th>rank</th><th>shape</th>"
                      "<th>votes</th><th>score</th><th>views</th><th>expert</th><th>verdict</th>"
                      "<th>program</th></tr></thead><tbody>",
                      rows, "</tbody></table>");
    }
    out += "</div>";
    return absl::OkStatus();
  }

  static std::string Search(const Json& s) {
    if (!Flag(s, "enabled").value_or(false)) return "";
    return absl::StrCat(
        "<p class=\"meta search\">program search: ",
        Flag(s, "explained").value_or(false) ? "explained" : "not explained", ", ",
        static_cast<int64_t>(Number(s, "programs")), " programs, ",
        static_cast<int64_t>(Number(s, "nodes")), " states, depth ",
        static_cast<int>(Number(s, "depth_completed")),
        Flag(s, "ttt_skipped").value_or(false) ? ", TTT skipped" : "",
        Flag(s, "stopped_by_deadline").value_or(false) ? ", stopped by the deadline" : "", "</p>");
  }

  static absl::Status Ttt(const Json& t, const std::string& path, std::string& out) {
    if (!Flag(t, "enabled").value_or(false)) {
      out += "<p class=\"meta ttt\">test-time training: off</p>";
      return absl::OkStatus();
    }
    absl::StrAppend(
        &out, "<h3>Test-time training</h3><p class=\"meta ttt\">",
        static_cast<int>(Number(t, "samples")), " samples, ", static_cast<int>(Number(t, "steps")),
        " steps, ", static_cast<int64_t>(Number(t, "tokens")), " tokens, loss ",
        absl::StrFormat("%.4f &rarr; %.4f", Number(t, "first_loss"), Number(t, "last_loss")),
        "</p>");
    std::vector<double> losses;
    if (const auto l = t.find("losses"); l != t.end()) {
      if (!l->is_array()) return Malformed(path + ".losses", "not an array");
      for (size_t i = 0; i < l->size(); ++i) {
        if (!(*l)[i].is_number()) {
          return Malformed(absl::StrCat(path, ".losses[", i, "]"), "not a number");
        }
        const double v = (*l)[i].get<double>();
        if (std::isfinite(v)) losses.push_back(v);
      }
    }
    if (!losses.empty()) out += LossSvg(losses);
    return absl::OkStatus();
  }

  const std::vector<Task>& tasks_;
  const HtmlReportOptions& options_;
};

std::string SummaryTable(const std::vector<TaskSummary>& rows) {
  std::string out =
      "<table class=\"summary\"><thead><tr><th>task</th><th>correct</th><th>tests right</th>"
      "<th>seconds</th><th>expert</th><th>TTT</th></tr></thead><tbody>";
  for (const TaskSummary& r : rows) {
    const std::string mark = r.failed     ? "failed"
                             : !r.correct ? "-"
                             : *r.correct ? "&#10003;"
                                          : "&#10007;";
    absl::StrAppend(&out, "<tr data-task=\"", Escape(r.id), "\" data-correct=\"",
                    Verdict(r.correct), "\"><td><a href=\"#", r.anchor, "\">", Escape(r.id),
                    "</a></td><td>", mark, "</td><td>",
                    r.failed || !r.tests_known ? "-" : absl::StrCat(r.tests_right, "/", r.tests),
                    "</td><td>", absl::StrFormat("%.2f", r.seconds), "</td><td>", Escape(r.expert),
                    "</td><td>", r.ttt, "</td></tr>");
  }
  out += "</tbody></table>";
  return out;
}

}  // namespace

absl::StatusOr<std::string> RenderHtmlReport(const nlohmann::json& report,
                                             const std::vector<Task>& tasks,
                                             const HtmlReportOptions& options) {
  if (!report.is_object()) return Malformed("report", "not an object");
  const auto entries = report.find("tasks");
  if (entries == report.end() || !entries->is_array()) {
    return Malformed("tasks", "missing or not an array");
  }
  Renderer renderer(tasks, options);
  std::vector<TaskSummary> summaries;
  std::string sections;
  for (size_t i = 0; i < entries->size(); ++i) {
    TaskSummary summary;
    if (absl::Status s = renderer.Entry((*entries)[i], i, sections, summary); !s.ok()) return s;
    summaries.push_back(std::move(summary));
  }

  int right = 0, known = 0, failed = 0;
  for (const TaskSummary& s : summaries) {
    right += s.correct.value_or(false);
    known += s.correct.has_value();
    failed += s.failed;
  }
  std::string out = absl::StrCat(
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
      "<title>",
      Escape(options.title), "</title><style>", kStyle);
  for (int c = 0; c < kNumColours; ++c) {
    absl::StrAppend(&out, "td[data-c=\"", c, "\"]{background:", kPalette[c],
                    ";color:", kDigitColour[c], "}");
  }
  absl::StrAppend(&out, "\n</style></head><body>\n",
                  "<input type=\"checkbox\" id=\"digits\"> <label class=\"digits\" "
                  "for=\"digits\">show colour digits</label>\n<main>\n<h1>",
                  Escape(options.title), "</h1>\n<p class=\"meta\">");
  std::vector<std::string> meta;
  if (const std::string model = Text(report, "model"); !model.empty()) {
    meta.push_back(absl::StrCat("model ", Escape(model)));
  }
  meta.push_back(absl::StrCat(summaries.size(), summaries.size() == 1 ? " task" : " tasks"));
  if (known > 0) meta.push_back(absl::StrCat(right, " of ", known, " correct"));
  if (failed > 0) meta.push_back(absl::StrCat(failed, " failed"));
  const Json& score = Object(report, "score");
  if (score.contains("pass2_all_or_nothing")) {
    meta.push_back(absl::StrFormat("pass@2 %.4f (all-or-nothing), %.4f (fractional)",
                                   Number(score, "pass2_all_or_nothing"),
                                   Number(score, "pass2_fractional")));
  }
  absl::StrAppend(&out, absl::StrJoin(meta, " &middot; "), "</p>\n", SummaryTable(summaries), "\n",
                  sections, "</main></body></html>\n");
  return out;
}

absl::Status WriteHtmlReport(const std::string& path, const nlohmann::json& report,
                             const std::vector<Task>& tasks, const HtmlReportOptions& options) {
  absl::StatusOr<std::string> html = RenderHtmlReport(report, tasks, options);
  if (!html.ok()) return html.status();
  return WriteFileAtomic(path, *html);
}

}  // namespace arc
