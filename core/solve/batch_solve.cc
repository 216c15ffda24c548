#include "core/solve/batch_solve.h"

#include <unistd.h>

#include <chrono>
#include <functional>
#include <cstdio>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/data/file_util.h"
#include "core/data/score.h"
#include "core/data/task_io.h"
#include "core/report/html_report.h"
#include "core/solve/result_json.h"

namespace arc {
namespace {

double NowSeconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Draws "[=====>    ] 3/10 task abc 00:12 ETA 00:28" on stderr (terminal only), from the solve's
// observer calls: the task and its phase, the TTT step or the views decoded. Calls
// `release_memory` (when set) as a task leaves its search phase, whose states are freed by then.
class ProgressBar final : public SolveObserver {
 public:
  ProgressBar(int total, bool enabled, std::function<void()> release_memory)
      : total_(total),
        tty_(enabled && isatty(STDERR_FILENO)),
        start_(NowSeconds()),
        release_memory_(std::move(release_memory)) {}

  void StartTask(int index, const std::string& id) {
    done_ = index;
    task_ = id;
    phase_ = SolvePhase::kTttData;
    Draw(id);
  }
  void Clear() {
    if (tty_) std::fprintf(stderr, "\r%100s\r", "");
  }

  void OnPhase(SolvePhase phase) override {
    if (phase_ == SolvePhase::kSearch && phase != SolvePhase::kSearch && release_memory_) {
      release_memory_();
    }
    phase_ = phase;
    Draw(PhaseText());
  }
  void OnTttStep(const TttProgress& p) override {
    if (p.total_steps > 0) {
      Draw(absl::StrCat(PhaseText(), " ", p.step, "/", p.total_steps));
    } else {
      Draw(PhaseText());
    }
  }
  void OnInference(int views_done, int views_total) override {
    Draw(absl::StrCat(PhaseText(), " ", views_done, "/", views_total));
  }

 private:
  std::string PhaseText() const { return absl::StrCat(task_, " ", std::string(SolvePhaseName(phase_)));
  }
  static std::string Clock(double s) {
    const int t = static_cast<int>(s);
    return absl::StrFormat("%02d:%02d", t / 60, t % 60);
  }
  void Draw(const std::string& what) {
    if (!tty_) return;
    const double elapsed = NowSeconds() - start_;
    const double eta = done_ > 0 ? elapsed / done_ * (total_ - done_) : 0;
    const int width = 30, filled = total_ > 0 ? width * done_ / total_ : width;
    std::string bar(filled, '=');
    bar.resize(width, ' ');
    std::fprintf(stderr, "\r[%s] %d/%d %-28.28s %s ETA %s", bar.c_str(), done_, total_,
                 what.c_str(), Clock(elapsed).c_str(), done_ > 0 ? Clock(eta).c_str() : "--:--");
    std::fflush(stderr);
  }

  const int total_;
  const bool tty_;
  const double start_;
  const std::function<void()> release_memory_;
  int done_ = 0;
  std::string task_;
  SolvePhase phase_ = SolvePhase::kTttData;
};

// "correct", "wrong (1/2)", or "" when the outputs are unknown.
std::string Verdict(const Task& task, const std::vector<Attempts>& attempts) {
  if (!task.test[0].output) return "";
  int correct = 0;
  for (size_t k = 0; k < task.test.size(); ++k) {
    correct += task.test[k].output && attempts[k].Matches(*task.test[k].output);
  }
  if (correct == static_cast<int>(task.test.size())) return "correct";
  return absl::StrCat("wrong (", correct, "/", task.test.size(), ")");
}

std::string TttText(const SolveResult& r) {
  if (!r.ttt) return "off";
  return absl::StrFormat("%.3f -> %.3f (%d steps)", r.train_stats.first_loss,
                         r.train_stats.last_loss, r.train_stats.steps);
}

// "", or what the search did: the program behind attempt 1 of the first test input when a program
// explains the task, else "not explained".
std::string SearchText(const SolveResult& r) {
  if (!r.search.enabled) return "";
  if (!r.search.explained) return "  search: not explained";
  const std::vector<Candidate>& c = r.tests.front().candidates;
  const std::string program = c.empty() ? "" : c.front().program;
  return absl::StrCat("  search: ", program, r.search.ttt_skipped ? " (ttt skipped)" : "");
}

bool OutputsKnown(const std::vector<Task>& tasks) {
  for (const Task& t : tasks) {
    for (const TestCase& tc : t.test) {
      if (!tc.output.has_value()) return false;
    }
  }
  return true;
}

void AddSeconds(const PhaseSeconds& s, PhaseSeconds& total) {
  total.search += s.search;
  total.ttt_data += s.ttt_data;
  total.ttt_train += s.ttt_train;
  total.inference += s.inference;
  total.selection += s.selection;
}

}  // namespace

absl::StatusOr<std::vector<Task>> SelectTasks(std::vector<Task> loaded,
                                              const std::vector<std::string>& ids, int limit,
                                              const std::string& source) {
  const std::set<std::string> wanted(ids.begin(), ids.end());
  std::vector<Task> tasks;
  for (Task& t : loaded) {
    if (!wanted.empty() && !wanted.count(t.id)) continue;
    tasks.push_back(std::move(t));
  }
  for (const std::string& id : wanted) {
    bool found = false;
    for (const Task& t : tasks) found = found || t.id == id;
    if (!found) {
      return absl::InvalidArgumentError(absl::StrCat("no task \"", id, "\" in ", source));
    }
  }
  if (limit > 0 && static_cast<int>(tasks.size()) > limit) tasks.resize(limit);
  return tasks;
}

absl::StatusOr<BatchResult> SolveTasks(Solver& solver, const std::vector<Task>& tasks,
                                       const SolveOptions& options, std::ostream& out,
                                       const BatchOptions& batch) {
  BatchResult result;
  nlohmann::json entries = nlohmann::json::array();
  PhaseSeconds total_seconds;
  ProgressBar bar(static_cast<int>(tasks.size()), batch.progress_bar, batch.release_memory);
  for (size_t i = 0; i < tasks.size(); ++i) {
    const Task& task = tasks[i];
    bar.StartTask(static_cast<int>(i), task.id);
    const double start = NowSeconds();
    absl::StatusOr<SolveResult> r = solver.Solve(task, options, &bar);
    const double seconds = NowSeconds() - start;
    bar.Clear();
    if (batch.release_memory) batch.release_memory();
    std::vector<Attempts>& attempts = result.submission[task.id];
    if (!r.ok()) {
      ++result.failed;
      out << absl::StrFormat("%-10s FAILED %s\n", task.id, r.status().ToString());
      attempts.assign(task.test.size(), {Grid(1, 1), Grid(1, 1)});
      entries.push_back(SolveErrorToJson(task.id, seconds, r.status()));
      continue;
    }
    for (size_t k = 0; k < task.test.size(); ++k) {
      attempts.push_back(r->AttemptsFor(static_cast<int>(k)));
    }
    AddSeconds(r->seconds, total_seconds);
    out << absl::StrFormat("%-10s ttt loss %s  %6.1fs  %s%s\n", task.id, TttText(*r), seconds,
                           Verdict(task, attempts), SearchText(*r));
    out.flush();
    ResultContext context;
    context.seconds = seconds;
    context.task = &task;
    entries.push_back(SolveResultToJson(*r, context));
  }

  const double n = static_cast<double>(tasks.size());
  result.report = {{"model", solver.model().name}, {"tasks", entries}, {"failed", result.failed}};
  out << absl::StrFormat(
      "\nmean seconds per task: search %.2f  ttt_data %.2f  ttt_train %.2f  inference %.2f  "
      "selection %.2f\n",
      total_seconds.search / n, total_seconds.ttt_data / n, total_seconds.ttt_train / n, total_seconds.inference / n,
      total_seconds.selection / n);
  if (OutputsKnown(tasks)) {
    absl::StatusOr<ScoreReport> score = ScoreSubmission(result.submission, tasks);
    if (!score.ok()) return score.status();
    out << absl::StrFormat(
        "tasks %d  pass@2 %.4f (all-or-nothing)  %.4f (fractional)  per prediction %d/%d = %.4f\n",
        score->num_tasks, score->pass2_all_or_nothing, score->pass2_fractional,
        score->num_correct_inputs, score->num_submitted_inputs, score->per_prediction);
    result.report["score"] = {{"pass2_all_or_nothing", score->pass2_all_or_nothing},
                              {"pass2_fractional", score->pass2_fractional},
                              {"per_prediction", score->per_prediction}};
  }
  return result;
}

absl::Status WriteBatchFiles(const BatchResult& result, const std::string& submission_path,
                             const std::string& report_path, std::ostream& out) {
  if (!submission_path.empty()) {
    if (absl::Status s = WriteSubmissionFile(submission_path, result.submission); !s.ok()) return s;
    out << "submission: " << submission_path << "\n";
  }
  if (!report_path.empty()) {
    if (absl::Status s = WriteFileAtomic(report_path, JsonText(result.report) + "\n"); !s.ok()) {
      return s;
    }
    out << "report: " << report_path << "\n";
  }
  return absl::OkStatus();
}

absl::Status WriteBatchHtml(const BatchResult& result, const std::vector<Task>& tasks,
                            const std::string& html_path, std::ostream& out) {
  if (html_path.empty()) return absl::OkStatus();
  if (absl::Status s = WriteHtmlReport(html_path, result.report, tasks); !s.ok()) return s;
  out << "html: " << html_path << "\n";
  return absl::OkStatus();
}

}  // namespace arc
