// `arc-client eval`: fans a task set out over the server(s), then scores and writes a submission.
#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "client/commands.h"
#include "client/convert.h"
#include "client/render.h"
#include "core/data/file_util.h"
#include "core/data/score.h"
#include "core/data/task_io.h"
#include "core/report/html_report.h"
#include "core/solve/result_json.h"

namespace arc::client {
namespace {

struct TaskOutcome {
  bool done = false;
  grpc::Status status;
  int attempts = 0;
  double seconds = 0;
  v1::SolveResponse response;
};

bool HasAllOutputs(const Task& task) {
  if (task.test.empty()) return false;
  for (const TestCase& t : task.test) {
    if (!t.output) return false;
  }
  return true;
}

}  // namespace

int RunEval(const CliOptions& options, Connection& connection, Terminal& term) {
  absl::StatusOr<std::vector<Task>> loaded = ReadTasks(options.args[0], options.solutions);
  if (!loaded.ok()) {
    term.err << "arc-client: " << loaded.status().message() << "\n";
    return kExitUsage;
  }
  std::vector<Task> tasks = *std::move(loaded);
  if (options.limit > 0 && static_cast<int>(tasks.size()) > options.limit) {
    tasks.resize(static_cast<size_t>(options.limit));
  }
  const int n = static_cast<int>(tasks.size());
  const int workers = std::min(options.concurrency, std::max(n, 1));
  term.err << "eval: " << n << " tasks on " << connection.target().address << ", concurrency "
           << workers << "\n";

  std::vector<TaskOutcome> outcomes(static_cast<size_t>(n));
  std::atomic<int> next{0};
  std::mutex mu;  // guards the streams, `finished` and the progress bar
  int finished = 0;
  const absl::Time start = absl::Now();
  bool bar_drawn = false;

  auto draw_bar = [&] {
    if (!term.err_tty) return;
    const double elapsed = absl::ToDoubleSeconds(absl::Now() - start);
    const double eta = finished > 0 ? elapsed / finished * (n - finished) : 0;
    term.err << "\r\x1b[K" << ProgressBar(finished, n)
             << absl::StrFormat("  %.0f s, eta %.0f s", elapsed, eta) << std::flush;
    bar_drawn = true;
  };

  auto worker = [&] {
    for (;;) {
      const int i = next.fetch_add(1);
      if (i >= n) return;
      const Task& task = tasks[static_cast<size_t>(i)];
      const v1::SolveRequest req = RequestForTask(options, task);
      TaskOutcome out;
      const absl::Time t0 = absl::Now();
      out.status = connection.Call(
          CallDeadline(options),
          [&](grpc::ClientContext& ctx) {
            out.response.Clear();
            return connection.solver().Solve(&ctx, req, &out.response);
          },
          &out.attempts);
      out.seconds = absl::ToDoubleSeconds(absl::Now() - t0);
      out.done = true;

      // The task's line: outcome, time, TTT steps and, when outputs are known, test inputs right.
      std::string line = absl::StrFormat("%-12s", task.id);
      if (out.status.ok()) {
        absl::StrAppend(&line, absl::StrFormat("  ok  %6.2f s  ttt %d steps", out.seconds,
                                               out.response.ttt().steps()));
        if (HasAllOutputs(task)) {
          absl::StatusOr<std::vector<Attempts>> a =
              AttemptsFromResponse(out.response, static_cast<int>(task.test.size()));
          int right = 0;
          if (a.ok()) {
            for (size_t k = 0; k < task.test.size(); ++k) {
              right += (*a)[k].Matches(*task.test[k].output);
            }
          }
          absl::StrAppend(&line, absl::StrFormat("  correct %d/%d", right, task.test.size()));
        }
      } else {
        absl::StrAppend(&line, "  FAILED  ", StatusCodeName(out.status.error_code()), ": ",
                        out.status.error_message());
        if (out.attempts > 1) absl::StrAppend(&line, " (", out.attempts, " attempts)");
      }
      std::lock_guard<std::mutex> lock(mu);
      outcomes[static_cast<size_t>(i)] = std::move(out);
      ++finished;
      if (bar_drawn) term.err << "\r\x1b[K" << std::flush;
      term.out << absl::StrFormat("[%*d/%d] ", static_cast<int>(absl::StrCat(n).size()), finished,
                                  n)
               << line << "\n"
               << std::flush;
      draw_bar();
    }
  };
  std::vector<std::thread> threads;
  for (int w = 0; w < workers; ++w) threads.emplace_back(worker);
  for (std::thread& t : threads) t.join();
  if (bar_drawn) term.err << "\n";
  const double wall = absl::ToDoubleSeconds(absl::Now() - start);

  // The submission: every task, with 1x1 placeholders where a call failed (Kaggle wants an entry
  // for every test input). The report: every task's solve-result entry (docs/JSON.md), or its
  // error.
  Submission submission;
  nlohmann::json entries = nlohmann::json::array();
  int failed = 0;
  double server_seconds = 0;
  for (int i = 0; i < n; ++i) {
    const Task& task = tasks[static_cast<size_t>(i)];
    const TaskOutcome& o = outcomes[static_cast<size_t>(i)];
    const int tests = static_cast<int>(task.test.size());
    if (!o.status.ok()) {
      ++failed;
      submission[task.id].assign(static_cast<size_t>(tests), Attempts{Grid(1, 1), Grid(1, 1)});
      entries.push_back(
          SolveErrorToJson(task.id, o.seconds,
                           absl::Status(static_cast<absl::StatusCode>(o.status.error_code()),
                                        o.status.error_message())));
      continue;
    }
    server_seconds += o.response.timings().total_seconds();
    absl::StatusOr<std::vector<Attempts>> a = AttemptsFromResponse(o.response, tests);
    const absl::StatusOr<nlohmann::json> entry = a.ok()
                                                     ? SolveResponseToJson(o.response, &task)
                                                     : absl::StatusOr<nlohmann::json>(a.status());
    if (!entry.ok()) {
      term.err << "arc-client: task " << task.id << ": " << entry.status().message() << "\n";
      ++failed;
      submission[task.id].assign(static_cast<size_t>(tests), Attempts{Grid(1, 1), Grid(1, 1)});
      entries.push_back(SolveErrorToJson(task.id, o.seconds, entry.status()));
      continue;
    }
    submission[task.id] = *std::move(a);
    entries.push_back(*entry);
  }
  nlohmann::json json_report = {
      {"server", connection.target().address}, {"tasks", std::move(entries)}, {"failed", failed}};

  term.out << "\n"
           << absl::StrFormat(
                  "tasks %d, failed %d, wall %.2f s, %.3f tasks/s, mean server time %.2f s\n", n,
                  failed, wall, wall > 0 ? n / wall : 0.0,
                  n - failed > 0 ? server_seconds / (n - failed) : 0.0);
  std::vector<Task> scored;
  for (const Task& t : tasks) {
    if (HasAllOutputs(t)) scored.push_back(t);
  }
  if (scored.empty()) {
    term.out << "pass@2: no known test outputs (give --solutions to score)\n";
  } else {
    absl::StatusOr<ScoreReport> report = ScoreSubmission(submission, scored);
    if (!report.ok()) {
      term.err << "arc-client: scoring: " << report.status().message() << "\n";
      return kExitFailure;
    }
    int all_right = 0;
    for (const TaskScore& s : report->tasks) all_right += s.all_correct;
    term.out << absl::StrFormat(
        "pass@2 over %d tasks with known outputs%s:\n"
        "  all-or-nothing  %.4f  (%d/%d tasks)\n"
        "  fractional      %.4f\n"
        "  per prediction  %.4f  (%d/%d test inputs)\n",
        report->num_tasks,
        static_cast<int>(scored.size()) < n
            ? absl::StrCat(" (", n - static_cast<int>(scored.size()), " without)")
            : std::string(),
        report->pass2_all_or_nothing, all_right, report->num_tasks, report->pass2_fractional,
        report->per_prediction, report->num_correct_inputs, report->num_submitted_inputs);
    json_report["score"] = {{"pass2_all_or_nothing", report->pass2_all_or_nothing},
                            {"pass2_fractional", report->pass2_fractional},
                            {"per_prediction", report->per_prediction}};
  }
  if (!options.out.empty()) {
    if (absl::Status s = WriteSubmissionFile(options.out, submission); !s.ok()) {
      term.err << "arc-client: " << s.message() << "\n";
      return kExitFailure;
    }
    term.out << "submission: " << options.out << " (" << submission.size() << " tasks)\n";
  }
  if (!options.report.empty()) {
    if (absl::Status s = WriteFileAtomic(options.report, JsonText(json_report) + "\n"); !s.ok()) {
      term.err << "arc-client: " << s.message() << "\n";
      return kExitFailure;
    }
    term.out << "report: " << options.report << "\n";
  }
  if (!options.html.empty()) {
    HtmlReportOptions html;
    html.title = absl::StrCat("arc-client eval ", options.args[0]);
    if (absl::Status s = WriteHtmlReport(options.html, json_report, tasks, html); !s.ok()) {
      term.err << "arc-client: --html: " << s.message() << "\n";
      return kExitFailure;
    }
    term.out << "html: " << options.html << "\n";
  }
  return failed == 0 ? kExitOk : kExitFailure;
}

}  // namespace arc::client
