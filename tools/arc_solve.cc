// arc-solve: the whole pipeline offline, without a server.
//
//   arc-solve [--model DIR] --tasks PATH [--solutions FILE] [--out submission.json]
//             [--report report.json] [--limit N] [--task_ids a,b] [--no_ttt] [options]
//
// PATH is a task file, a directory of them or a Kaggle challenges file. For every task: TTT (unless
// --no_ttt, the paper's baseline), inference over views, voting; a line per task (id, TTT loss first
// and last, seconds, correct or not when outputs are known); then a table with pass@2
// (all-or-nothing and fractional), per-prediction accuracy and mean seconds per task by phase.
// Writes the Kaggle submission (--out) and a JSON report (--report). On a terminal a progress bar
// with an ETA is drawn on stderr.
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <ATen/Parallel.h>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "core/model/arc_model.h"
#include "core/data/augment.h"
#include "core/data/file_util.h"
#include "core/data/score.h"
#include "tools/flags/solve_flags.h"
#include "core/solve/solver.h"
#include "core/data/task_io.h"
#include "nlohmann/json.hpp"

ABSL_FLAG(std::string, model, "models/default",
          "model directory (the default is the embedded model, relative to the repository root)");
ABSL_FLAG(std::string, tasks, "", "task file, directory or Kaggle challenges file (required)");
ABSL_FLAG(std::string, solutions, "", "Kaggle solutions file (test outputs) for scoring");
ABSL_FLAG(std::string, out, "", "write the Kaggle submission here");
ABSL_FLAG(std::string, report, "", "write a JSON report here");
ABSL_FLAG(int, limit, 0, "solve only the first N tasks (0 = all)");
ABSL_FLAG(std::string, task_ids, "", "comma-separated task ids to solve (default all)");
ABSL_FLAG(bool, no_ttt, false, "skip test-time training (the paper's baseline; same as --nottt)");
ABSL_FLAG(int, threads, 0, "torch intra-op threads (0 = hardware concurrency)");
// The TTT, inference and selection flags (--ttt_*, --lora_*, --views_*, --selection, --seed, ...)
// come from tools/flags/solve_flags.h, shared with arc-server.

namespace arc {
namespace {

int Fail(const absl::Status& s) {
  std::cerr << "arc-solve: " << s << "\n";
  return s.code() == absl::StatusCode::kInvalidArgument ? 2 : 1;
}

absl::StatusOr<SolveOptions> OptionsFromFlags() {
  // Built-in < the model's solve_options.json < flags given (core/solve/options.h).
  absl::StatusOr<SolveOptions> model_defaults = LoadModelSolveOptions(absl::GetFlag(FLAGS_model));
  if (!model_defaults.ok()) return model_defaults.status();
  absl::StatusOr<SolveOptions> o = SolveOptionsFromFlags(*model_defaults);
  if (!o.ok()) return o.status();
  if (absl::GetFlag(FLAGS_no_ttt)) o->ttt = false;
  if (absl::Status s = ValidateSolveOptions(*o); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("options: ", s.message()));
  }
  return o;
}

nlohmann::json GridJson(const Grid& g) { return g.ToRows(); }

// Draws "[=====>    ] 3/10 task abc 00:12 ETA 00:28" on stderr (terminal only).
class ProgressBar {
 public:
  explicit ProgressBar(int total) : total_(total), tty_(isatty(STDERR_FILENO)), start_(Now()) {}
  void Draw(int done, const std::string& what) {
    if (!tty_) return;
    const double elapsed = Now() - start_;
    const double eta = done > 0 ? elapsed / done * (total_ - done) : 0;
    const int width = 30, filled = total_ > 0 ? width * done / total_ : width;
    std::string bar(filled, '=');
    bar.resize(width, ' ');
    std::fprintf(stderr, "\r[%s] %d/%d %-28.28s %s ETA %s", bar.c_str(), done, total_, what.c_str(),
                 Clock(elapsed).c_str(), done > 0 ? Clock(eta).c_str() : "--:--");
    std::fflush(stderr);
  }
  void Clear() {
    if (tty_) std::fprintf(stderr, "\r%100s\r", "");
  }

 private:
  static double Now() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
  }
  static std::string Clock(double s) {
    const int t = static_cast<int>(s);
    return absl::StrFormat("%02d:%02d", t / 60, t % 60);
  }
  int total_;
  bool tty_;
  double start_;
};

int Run() {
  const std::string tasks_path = absl::GetFlag(FLAGS_tasks);
  if (tasks_path.empty()) return Fail(absl::InvalidArgumentError("--tasks: required"));
  std::string model_dir = absl::GetFlag(FLAGS_model);
  if (model_dir.empty()) return Fail(absl::InvalidArgumentError("--model: empty (a model directory)"));
  absl::StatusOr<SolveOptions> options = OptionsFromFlags();
  if (!options.ok()) return Fail(options.status());

  const int threads = absl::GetFlag(FLAGS_threads) > 0
                          ? absl::GetFlag(FLAGS_threads)
                          : static_cast<int>(std::thread::hardware_concurrency());
  at::set_num_threads(std::max(1, threads));

  absl::StatusOr<std::vector<Task>> loaded = ReadTasks(tasks_path, absl::GetFlag(FLAGS_solutions));
  if (!loaded.ok()) return Fail(loaded.status());
  std::vector<Task> tasks;
  const std::string ids_flag = absl::GetFlag(FLAGS_task_ids);
  std::set<std::string> wanted;
  for (absl::string_view id : absl::StrSplit(ids_flag, ',', absl::SkipEmpty())) wanted.insert(std::string(id));
  for (Task& t : *loaded) {
    if (!wanted.empty() && !wanted.count(t.id)) continue;
    tasks.push_back(std::move(t));
  }
  for (const std::string& id : wanted) {
    bool found = false;
    for (const Task& t : tasks) found = found || t.id == id;
    if (!found) return Fail(absl::InvalidArgumentError(absl::StrCat("--task_ids: no task \"", id, "\" in ", tasks_path)));
  }
  if (absl::GetFlag(FLAGS_limit) > 0 && static_cast<int>(tasks.size()) > absl::GetFlag(FLAGS_limit)) {
    tasks.resize(absl::GetFlag(FLAGS_limit));
  }
  if (tasks.empty()) return Fail(absl::InvalidArgumentError("no tasks to solve"));

  absl::StatusOr<std::shared_ptr<const ArcModel>> model = LoadArcModel(model_dir);
  if (!model.ok()) return Fail(model.status());
  std::cout << absl::StrFormat("model %s: %d parameters, format %s, context %d; %d tasks, %d threads, %s\n",
                               (*model)->name, (*model)->NumParameters(),
                               std::string((*model)->format->name()), (*model)->MaxSequenceLength(),
                               tasks.size(), threads, options->ttt ? "with TTT" : "no TTT");
  Solver solver(*model);

  bool known = true;
  for (const Task& t : tasks)
    for (const TestCase& tc : t.test) known = known && tc.output.has_value();

  Submission submission;
  nlohmann::json report_tasks = nlohmann::json::array();
  PhaseSeconds total_seconds;
  ProgressBar bar(static_cast<int>(tasks.size()));
  int failed = 0;
  for (size_t i = 0; i < tasks.size(); ++i) {
    const Task& task = tasks[i];
    bar.Draw(static_cast<int>(i), task.id);
    auto progress = [&](const SolveProgress& p) {
      std::string what = absl::StrCat(task.id, " ", std::string(SolvePhaseName(p.phase)));
      if (p.phase == SolvePhase::kTttTrain && p.ttt.total_steps > 0) {
        absl::StrAppend(&what, " ", p.ttt.step, "/", p.ttt.total_steps);
      } else if (p.phase == SolvePhase::kInference) {
        absl::StrAppend(&what, " ", p.views_done, "/", p.views_total);
      }
      bar.Draw(static_cast<int>(i), what);
    };
    const auto start = std::chrono::steady_clock::now();
    absl::StatusOr<SolveResult> r = solver.Solve(task, *options, progress);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    bar.Clear();
    std::vector<Attempts>& attempts = submission[task.id];
    nlohmann::json jt = {{"id", task.id}, {"seconds", seconds}};
    if (!r.ok()) {
      ++failed;
      std::cout << absl::StrFormat("%-10s FAILED %s\n", task.id, r.status().ToString());
      for (size_t k = 0; k < task.test.size(); ++k) attempts.push_back({Grid(1, 1), Grid(1, 1)});
      jt["error"] = r.status().ToString();
      report_tasks.push_back(jt);
      continue;
    }
    std::string verdict;
    nlohmann::json jtests = nlohmann::json::array();
    int correct = 0;
    for (size_t k = 0; k < task.test.size(); ++k) {
      attempts.push_back(r->AttemptsFor(static_cast<int>(k)));
      const TestResult& tr = r->tests[k];
      nlohmann::json cands = nlohmann::json::array();
      for (const Candidate& c : tr.candidates) {
        cands.push_back({{"grid", GridJson(c.grid)}, {"votes", c.votes}, {"score", c.score}, {"views", c.views}});
      }
      bool ok = false;
      if (task.test[k].output) {
        ok = attempts.back().Matches(*task.test[k].output);
        correct += ok;
      }
      jtests.push_back({{"views", tr.num_views}, {"invalid_outputs", tr.invalid_outputs},
                        {"leave_out", tr.leave_out}, {"candidates", cands},
                        {"correct", task.test[k].output ? nlohmann::json(ok) : nlohmann::json()}});
    }
    if (task.test[0].output) {
      verdict = correct == static_cast<int>(task.test.size()) ? "correct" : absl::StrCat("wrong (", correct, "/", task.test.size(), ")");
    }
    total_seconds.ttt_data += r->seconds.ttt_data;
    total_seconds.ttt_train += r->seconds.ttt_train;
    total_seconds.inference += r->seconds.inference;
    total_seconds.selection += r->seconds.selection;
    std::cout << absl::StrFormat("%-10s ttt loss %s  %6.1fs  %s\n", task.id,
                                 r->ttt ? absl::StrFormat("%.3f -> %.3f (%d steps)", r->train_stats.first_loss,
                                                          r->train_stats.last_loss, r->train_stats.steps)
                                        : std::string("off"),
                                 seconds, verdict);
    std::cout.flush();
    jt["hash"] = r->task_hash;
    jt["ttt"] = {{"enabled", r->ttt},
                 {"samples", r->train_stats.samples},
                 {"steps", r->train_stats.steps},
                 {"first_loss", r->train_stats.first_loss},
                 {"last_loss", r->train_stats.last_loss},
                 {"tokens", r->train_stats.tokens},
                 {"data", {{"base_leave1", r->data_stats.base_leave1},
                           {"base_leave2", r->data_stats.base_leave2},
                           {"augmented", r->data_stats.augmented},
                           {"dropped_oversize", r->data_stats.dropped_oversize},
                           {"duplicates", r->data_stats.duplicates},
                           {"dropped_over_tokens", r->data_stats.dropped_over_tokens},
                           {"selected_leave1", r->data_stats.selected_leave1},
                           {"selected_leave2", r->data_stats.selected_leave2}}}};
    jt["phase_seconds"] = {{"ttt_data", r->seconds.ttt_data}, {"ttt_train", r->seconds.ttt_train},
                           {"inference", r->seconds.inference}, {"selection", r->seconds.selection}};
    jt["prompt_tokens"] = r->prompt_tokens;
    jt["generated_tokens"] = r->generated_tokens;
    jt["tests"] = jtests;
    report_tasks.push_back(jt);
  }

  const double n = static_cast<double>(tasks.size());
  nlohmann::json report = {{"model", (*model)->name}, {"tasks", report_tasks}, {"failed", failed}};
  std::cout << absl::StrFormat("\nmean seconds per task: ttt_data %.2f  ttt_train %.2f  inference %.2f  selection %.2f\n",
                               total_seconds.ttt_data / n, total_seconds.ttt_train / n,
                               total_seconds.inference / n, total_seconds.selection / n);
  if (known) {
    absl::StatusOr<ScoreReport> score = ScoreSubmission(submission, tasks);
    if (!score.ok()) return Fail(score.status());
    std::cout << absl::StrFormat(
        "tasks %d  pass@2 %.4f (all-or-nothing)  %.4f (fractional)  per prediction %d/%d = %.4f\n",
        score->num_tasks, score->pass2_all_or_nothing, score->pass2_fractional,
        score->num_correct_inputs, score->num_submitted_inputs, score->per_prediction);
    report["score"] = {{"pass2_all_or_nothing", score->pass2_all_or_nothing},
                       {"pass2_fractional", score->pass2_fractional},
                       {"per_prediction", score->per_prediction}};
  }
  if (const std::string out = absl::GetFlag(FLAGS_out); !out.empty()) {
    if (absl::Status s = WriteSubmissionFile(out, submission); !s.ok()) return Fail(s);
    std::cout << "submission: " << out << "\n";
  }
  if (const std::string path = absl::GetFlag(FLAGS_report); !path.empty()) {
    if (absl::Status s = WriteFileAtomic(path, report.dump(2) + "\n"); !s.ok()) return Fail(s);
    std::cout << "report: " << path << "\n";
  }
  return failed == 0 ? 0 : 1;
}

}  // namespace
}  // namespace arc

int main(int argc, char** argv) {
  // --help lists this file's flags and the shared solve flags.
  absl::FlagsUsageConfig usage;
  usage.contains_help_flags = [](absl::string_view file) {
    return absl::EndsWith(file, "tools/arc_solve.cc") || absl::EndsWith(file, "tools/flags/solve_flags.cc");
  };
  absl::SetFlagsUsageConfig(usage);
  absl::SetProgramUsageMessage(
      "arc-solve [--model DIR (default models/default)] --tasks PATH [--solutions FILE] [--out FILE] [--report FILE] [options]");
  std::vector<char*> rest = absl::ParseCommandLine(argc, argv);
  if (rest.size() > 1) {
    std::cerr << "arc-solve: unexpected argument \"" << rest[1] << "\" (flags only; see --help)\n";
    return 2;
  }
  arc::ApplyProcessFlags();
  return arc::Run();
}
