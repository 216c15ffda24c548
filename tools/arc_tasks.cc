// arc-tasks: offline utilities over ARC task files, with no model involved.
//
//   arc-tasks check PATH [--solutions FILE]
//       Reads and validates every task (a task file, a directory, or a Kaggle challenges file) and
//       prints a summary: tasks, demonstrations, test inputs, grid sizes, content hashes.
//   arc-tasks baseline PATH [--solutions FILE] [--out submission.json] [--vote hierarchical|majority]
//       A symbolic baseline that exercises the augmentation, voting and scoring layers end to end:
//       every dihedral transform (optionally followed by a colour map learned from the
//       demonstrations) that explains all demonstrations of a task predicts the test output;
//       predictions are voted, a copy of the test input is the fallback, and the Kaggle
//       submission is written. With known test outputs the pass@2 report is printed.
//   arc-tasks score --submission FILE PATH [--solutions FILE]
//       Scores a Kaggle submission against tasks with known test outputs.
//   arc-tasks search PATH [--task_ids a,b] [--split dev|pretrain --max_side N] [--depth N]
//                    [--max_work W] [--max_stack_steps N] [--time_budget S] [--threads N] [--views a,b] [--out FILE] [--verbose]
//       The program search (core/search) on every task: one line per task (solved or not, the
//       best program, seconds), then pass@2, mean seconds per task and programs per second.
#include <algorithm>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <functional>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "core/data/augment.h"
#include "core/data/file_util.h"
#include "core/data/grid.h"
#include "core/data/json_parse.h"
#include "core/data/score.h"
#include "core/data/status_macros.h"
#include "core/data/task_io.h"
#include "core/data/vote.h"
#include "core/search/dsl.h"
#include "core/search/search.h"
#include "nlohmann/json.hpp"
#include "tools/flags/usage.h"

ABSL_FLAG(std::string, solutions, "", "Kaggle solutions file giving the test outputs");
ABSL_FLAG(std::string, out, "", "baseline, search: write the Kaggle submission here");
ABSL_FLAG(std::string, submission, "", "score: the submission file to score");
ABSL_FLAG(std::string, vote, "hierarchical", "baseline: hierarchical or majority");
ABSL_FLAG(bool, verbose, false, "print one line per task");
ABSL_FLAG(std::vector<std::string>, task_ids, {}, "search: only these task ids");
ABSL_FLAG(std::string, split, "",
          "search: only the tasks of this split (pretrain or dev) of splits.json beside PATH");
ABSL_FLAG(int, max_side, 0, "search: only tasks whose grids are all at most this side (0: all)");
ABSL_FLAG(int, depth, arc::search::SearchOptions().max_depth, "search: primitives per program");
ABSL_FLAG(int64_t, max_work, arc::search::SearchOptions().max_work,
          "search: work units per task (the deterministic budget)");
ABSL_FLAG(double, time_budget,
          absl::ToDoubleSeconds(arc::search::SearchOptions().time_budget),
          "search: seconds per task, a hard safety stop (results may then vary)");
ABSL_FLAG(int64_t, max_nodes, arc::search::SearchOptions().max_nodes,
          "search: distinct states per view");
ABSL_FLAG(int, threads, 1, "search: worker threads per task");
ABSL_FLAG(int, max_stack_steps, arc::search::SearchOptions().max_stack_steps,
          "search: layers of a stacked answer (0 or 1: no stacking)");
ABSL_FLAG(std::vector<std::string>, views, arc::search::SearchOptions().views,
          "search: task views searched");

namespace arc {
namespace {

int Fail(const absl::Status& s) {
  std::cerr << "arc-tasks: " << s << "\n";
  return s.code() == absl::StatusCode::kInvalidArgument ? 2 : 1;
}

// The end of `baseline` and `search`, and their exit code: writes the submission to --out (when
// given), then, when every test output is known, scores it and prints the score with `print`.
int WriteAndScore(const Submission& submission, const std::vector<Task>& tasks,
                  const std::function<std::string(const ScoreReport&)>& print) {
  if (const std::string out = absl::GetFlag(FLAGS_out); !out.empty()) {
    if (absl::Status s = WriteSubmissionFile(out, submission); !s.ok()) return Fail(s);
    std::cout << "submission written to " << out << "\n";
  }
  for (const Task& t : tasks) {
    for (const TestCase& tc : t.test) {
      if (!tc.output.has_value()) return 0;  // nothing to score
    }
  }
  absl::StatusOr<ScoreReport> report = ScoreSubmission(submission, tasks);
  if (!report.ok()) return Fail(report.status());
  std::cout << print(*report);
  return 0;
}

int Check(const std::vector<Task>& tasks) {
  int demos = 0, tests = 0, with_outputs = 0, max_side = 0;
  for (const Task& t : tasks) {
    demos += static_cast<int>(t.train.size());
    tests += static_cast<int>(t.test.size());
    for (const TestCase& tc : t.test) with_outputs += tc.output.has_value();
    max_side = std::max({max_side, t.MaxRows(), t.MaxCols()});
    if (absl::GetFlag(FLAGS_verbose)) {
      std::cout << absl::StrFormat("%-12s %s  %d demonstrations, %d test inputs, max %dx%d\n", t.id,
                                   ContentHash(t), t.train.size(), t.test.size(), t.MaxRows(),
                                   t.MaxCols());
    }
  }
  std::cout << absl::StrFormat(
      "%d tasks valid: %d demonstrations, %d test inputs (%d with known outputs), largest side %d\n",
      tasks.size(), demos, tests, with_outputs, max_side);
  return 0;
}

// A colour map (not necessarily a permutation) taking `from` onto `to` cell by cell, consistent with
// `map`; false when some colour would need two images.
bool LearnColours(const Grid& from, const Grid& to, std::array<int, kNumColours>& map) {
  if (from.rows() != to.rows() || from.cols() != to.cols()) return false;
  for (size_t i = 0; i < from.cells().size(); ++i) {
    int& m = map[from.cells()[i]];
    if (m == -1) m = to.cells()[i];
    if (m != to.cells()[i]) return false;
  }
  return true;
}

// Predictions of every dihedral(+colour map) rule consistent with all demonstrations.
std::vector<Prediction> SymbolicPredictions(const Task& task, const Grid& test_input) {
  std::vector<Prediction> out;
  for (Dihedral d : kAllDihedral) {
    std::array<int, kNumColours> map;
    map.fill(-1);
    bool ok = true;
    for (const Example& e : task.train) ok = ok && LearnColours(ApplyDihedral(d, e.input), e.output, map);
    if (!ok) continue;
    Grid pred = ApplyDihedral(d, test_input);
    bool recoloured = false;
    for (int r = 0; r < pred.rows(); ++r) {
      for (int c = 0; c < pred.cols(); ++c) {
        const int m = map[pred.at(r, c)];
        if (m != -1 && m != pred.at(r, c)) {
          pred.set(r, c, static_cast<uint8_t>(m));
          recoloured = true;
        }
      }
    }
    const std::string name(DihedralName(d));
    out.push_back({pred, name, recoloured ? name + "+colours" : name});
  }
  return out;
}

int Baseline(const std::vector<Task>& tasks) {
  const std::string mode = absl::GetFlag(FLAGS_vote);
  if (mode != "hierarchical" && mode != "majority") {
    return Fail(absl::InvalidArgumentError(
        absl::StrCat("--vote: \"", mode, "\" is not one of hierarchical, majority")));
  }
  Submission submission;
  int explained = 0;
  for (const Task& t : tasks) {
    std::vector<Attempts>& attempts = submission[t.id];
    bool any = false;
    for (const TestCase& tc : t.test) {
      std::vector<Prediction> preds = SymbolicPredictions(t, tc.input);
      any = any || !preds.empty();
      if (preds.empty()) preds.push_back({tc.input, "identity", "copy-input"});
      const VoteResult r = mode == "majority" ? MajorityVote(preds) : HierarchicalVote(preds);
      attempts.push_back(ToAttempts(r));
      if (absl::GetFlag(FLAGS_verbose)) {
        std::cout << t.id << ": " << preds.size() << " predictions, attempt 1 from "
                  << (r.ranked[0].views.empty() ? "filler" : r.ranked[0].views[0]) << "\n";
      }
    }
    explained += any;
  }
  std::cout << absl::StrFormat("%d of %d tasks explained by a dihedral/colour rule\n", explained,
                               tasks.size());
  return WriteAndScore(submission, tasks, [](const ScoreReport& r) {
    return absl::StrFormat(
        "pass@2 %.4f (all-or-nothing), %.4f (fractional); per prediction %d/%d = %.4f\n",
        r.pass2_all_or_nothing, r.pass2_fractional, r.num_correct_inputs, r.num_submitted_inputs,
        r.per_prediction);
  });
}

int Score(const std::vector<Task>& tasks) {
  const std::string path = absl::GetFlag(FLAGS_submission);
  if (path.empty()) return Fail(absl::InvalidArgumentError("--submission: required for score"));
  absl::StatusOr<Submission> submission = ReadSubmissionFile(path);
  if (!submission.ok()) return Fail(submission.status());
  absl::StatusOr<ScoreReport> report = ScoreSubmission(*submission, tasks);
  if (!report.ok()) return Fail(report.status());
  if (absl::GetFlag(FLAGS_verbose)) {
    for (const TaskScore& ts : report->tasks) {
      std::cout << absl::StrFormat("%-12s %s %.2f\n", ts.id, ts.all_correct ? "correct" : "wrong",
                                   ts.fraction);
    }
  }
  std::cout << absl::StrFormat(
      "%d tasks, %d test inputs: pass@2 %.4f (all-or-nothing), %.4f (fractional); "
      "per prediction %.4f\n",
      report->num_tasks, report->num_test_inputs, report->pass2_all_or_nothing,
      report->pass2_fractional, report->per_prediction);
  return 0;
}

// The ids listed under `split` in splits.json, found beside PATH (PATH itself, its parent or its
// grandparent: PATH is usually .../arc-agi-1/training).
absl::StatusOr<std::vector<std::string>> SplitIds(const std::string& path, const std::string& split) {
  std::filesystem::path dir = std::filesystem::path(path);
  for (int up = 0; up < 3; ++up, dir = dir.parent_path()) {
    const std::filesystem::path file = dir / "splits.json";
    if (!std::filesystem::exists(file)) continue;
    ARC_ASSIGN_OR_RETURN(const std::string text, ReadFile(file.string(), int64_t{1} << 24));
    absl::StatusOr<nlohmann::json> j = ParseJson(text);
    if (!j.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--split: ", file.string(), ": ", j.status().message()));
    }
    const auto list = j->is_object() ? j->find(split) : j->end();
    if (!j->is_object() || list == j->end() || !list->is_array()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--split: ", file.string(), " has no list \"", split, "\""));
    }
    std::vector<std::string> ids;
    for (size_t i = 0; i < list->size(); ++i) {
      if (!(*list)[i].is_string()) {
        return absl::InvalidArgumentError(absl::StrCat("--split: ", file.string(), ": ", split, "[",
                                                       i, "]: expected a task id string"));
      }
      ids.push_back((*list)[i].get<std::string>());
    }
    return ids;
  }
  return absl::NotFoundError(absl::StrCat("--split: no splits.json beside ", path));
}

int Search(std::vector<Task> tasks, const std::string& path) {
  std::set<std::string> keep;
  for (const std::string& id : absl::GetFlag(FLAGS_task_ids)) keep.insert(id);
  if (const std::string split = absl::GetFlag(FLAGS_split); !split.empty()) {
    absl::StatusOr<std::vector<std::string>> ids = SplitIds(path, split);
    if (!ids.ok()) return Fail(ids.status());
    std::set<std::string> in_split(ids->begin(), ids->end());
    if (keep.empty()) {
      keep = in_split;
    } else {
      std::set<std::string> both;
      for (const std::string& id : keep)
        if (in_split.count(id)) both.insert(id);
      keep = both;
    }
  }
  const int max_side = absl::GetFlag(FLAGS_max_side);
  tasks.erase(std::remove_if(tasks.begin(), tasks.end(),
                             [&](const Task& t) {
                               return (!keep.empty() && !keep.count(t.id)) ||
                                      (max_side > 0 &&
                                       std::max(t.MaxRows(), t.MaxCols()) > max_side);
                             }),
              tasks.end());
  if (tasks.empty()) return Fail(absl::InvalidArgumentError("no task left after the filters"));
  search::SearchOptions options;
  options.max_depth = absl::GetFlag(FLAGS_depth);
  options.max_nodes = absl::GetFlag(FLAGS_max_nodes);
  options.max_work = absl::GetFlag(FLAGS_max_work);
  options.time_budget = absl::Seconds(absl::GetFlag(FLAGS_time_budget));
  options.threads = absl::GetFlag(FLAGS_threads);
  options.max_stack_steps = absl::GetFlag(FLAGS_max_stack_steps);
  options.views = absl::GetFlag(FLAGS_views);
  if (absl::Status s = options.Validate(); !s.ok()) return Fail(s);
  std::cout << absl::StrFormat(
      "DSL: %d primitives; depth %d, %d work units per task (safety stop %.0f s), %d thread(s), "
      "views %s\n",
      search::Dsl().size(), options.max_depth, options.max_work,
      absl::ToDoubleSeconds(options.time_budget), options.threads, absl::StrJoin(options.views, ","));
  Submission submission;
  // Wall seconds depend on the machine's load; CPU seconds (all threads) measure the work.
  double total_seconds = 0, max_seconds = 0, total_cpu = 0;
  int64_t programs = 0, peak_bytes = 0, work = 0;
  int explained = 0, deadline_stops = 0;
  for (const Task& t : tasks) {
    const std::clock_t cpu_start = std::clock();
    absl::StatusOr<search::SearchResult> r = search::SearchProgram(t, options);
    if (!r.ok()) return Fail(r.status());
    const double cpu = static_cast<double>(std::clock() - cpu_start) / CLOCKS_PER_SEC;
    total_cpu += cpu;
    std::vector<Attempts>& attempts = submission[t.id];
    bool correct = true, known = true;
    for (size_t i = 0; i < t.test.size(); ++i) {
      const std::vector<search::SearchCandidate>& c = r->tests[i];
      Attempts a;
      a.attempt_1 = c.empty() ? t.test[i].input : c[0].output;
      a.attempt_2 = c.size() > 1 ? c[1].output : a.attempt_1;
      if (t.test[i].output) {
        correct = correct && (a.attempt_1 == *t.test[i].output || a.attempt_2 == *t.test[i].output);
      } else {
        known = false;
      }
      attempts.push_back(std::move(a));
    }
    explained += r->explained;
    total_seconds += r->stats.seconds;
    max_seconds = std::max(max_seconds, r->stats.seconds);
    programs += r->stats.programs_tried;
    work += r->stats.work;
    deadline_stops += r->stats.stopped_by_deadline;
    peak_bytes = std::max(peak_bytes, r->stats.peak_bytes);
    const std::vector<search::SearchCandidate>& best = r->tests[0];
    std::cout << absl::StrFormat(
        "%-10s %-9s %5.2fs %5.2fs cpu %6.0fM work depth %d %s%s\n", t.id,
        !known ? "-" : correct ? "solved" : "wrong", r->stats.seconds, cpu, r->stats.work / 1e6,
        r->stats.depth_completed,
        best.empty() ? "(no program)"
                     : absl::StrCat(best[0].explained, "/", best[0].demonstrations, " [",
                                    best[0].view, "] ", best[0].program),
        r->stats.stopped_by_deadline ? " (stopped by the deadline)"
        : r->stats.stopped_early     ? " (stopped early)"
                                     : "");
  }
  std::cout << absl::StrFormat(
      "%d tasks: %d explained by a program; %.3f s per task (max %.2f), %.3f s CPU per task; "
      "%.0f programs per CPU second; %.1fM work units per CPU second; peak %.0f MB; %d stopped "
      "by the deadline\n",
      tasks.size(), explained, total_seconds / tasks.size(), max_seconds,
      total_cpu / tasks.size(), total_cpu > 0 ? programs / total_cpu : 0.0,
      total_cpu > 0 ? work / total_cpu / 1e6 : 0.0, peak_bytes / 1e6, deadline_stops);
  return WriteAndScore(submission, tasks, [](const ScoreReport& r) {
    return absl::StrFormat("pass@2 %d/%d tasks = %.4f (all-or-nothing), %.4f (fractional)\n",
                           static_cast<int>(r.pass2_all_or_nothing * r.num_tasks + 0.5),
                           r.num_tasks, r.pass2_all_or_nothing, r.pass2_fractional);
  });
}

}  // namespace
}  // namespace arc

int main(int argc, char** argv) {
  const arc::ToolHelp help{
      "arc-tasks",
      "offline utilities over ARC task files, with no model: validate tasks, run a symbolic "
      "baseline, score a Kaggle submission, or run the program search (core/search) on every task. "
      "PATH is a task file, a directory of them or a Kaggle challenges file; --solutions adds the "
      "test outputs of a challenges file. Flags marked `search:` or `baseline:` apply to that "
      "command only.",
      "arc-tasks check|baseline|score|search PATH [flags]",
      {{"check", "validate every task and print a summary (--verbose: a line per task)"},
       {"baseline", "every dihedral transform (+ a learned colour map) that explains all "
                    "demonstrations predicts; vote; pass@2 when outputs are known (--out FILE)"},
       {"score", "score --submission FILE against the tasks of PATH (their test outputs)"},
       {"search", "the program search per task: a line per task (program, seconds), then pass@2 "
                  "(--out FILE)"}},
      {},
      ""};
  const std::vector<std::string> args = arc::ParseToolCommandLine(argc, argv, help);
  if (args.empty()) return arc::UsageError(help, "no command (want check, baseline, score or search)");
  const std::string& command = args[0];
  if (command != "check" && command != "baseline" && command != "score" && command != "search") {
    return arc::UsageError(help, "unknown command \"" + command +
                                     "\" (want check, baseline, score or search)");
  }
  if (args.size() != 2) {
    return arc::UsageError(help, "`" + command + "` takes one PATH, got " +
                                     std::to_string(args.size() - 1) + " arguments");
  }
  absl::StatusOr<std::vector<arc::Task>> tasks =
      arc::ReadTasks(args[1], absl::GetFlag(FLAGS_solutions));
  if (!tasks.ok()) return arc::Fail(tasks.status());
  if (command == "check") return arc::Check(*tasks);
  if (command == "baseline") return arc::Baseline(*tasks);
  if (command == "search") return arc::Search(std::move(*tasks), args[1]);
  return arc::Score(*tasks);
}
