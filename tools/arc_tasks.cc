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
#include <cstdio>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/data/augment.h"
#include "core/data/grid.h"
#include "core/data/score.h"
#include "core/data/task_io.h"
#include "core/data/vote.h"

ABSL_FLAG(std::string, solutions, "", "Kaggle solutions file giving the test outputs");
ABSL_FLAG(std::string, out, "", "baseline: write the Kaggle submission here");
ABSL_FLAG(std::string, submission, "", "score: the submission file to score");
ABSL_FLAG(std::string, vote, "hierarchical", "baseline: hierarchical or majority");
ABSL_FLAG(bool, verbose, false, "print one line per task");

namespace arc {
namespace {

constexpr char kUsage[] =
    "arc-tasks check|baseline|score PATH [flags]\n"
    "  check     validate tasks and print a summary\n"
    "  baseline  symbolic dihedral/colour-map baseline, writes a submission (--out)\n"
    "  score     score --submission FILE against the tasks of PATH";

int Fail(const absl::Status& s) {
  std::cerr << "arc-tasks: " << s << "\n";
  return s.code() == absl::StatusCode::kInvalidArgument ? 2 : 1;
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
  if (const std::string out = absl::GetFlag(FLAGS_out); !out.empty()) {
    if (absl::Status s = WriteSubmissionFile(out, submission); !s.ok()) return Fail(s);
    std::cout << "submission written to " << out << "\n";
  }
  bool all_known = true;
  for (const Task& t : tasks)
    for (const TestCase& tc : t.test) all_known = all_known && tc.output.has_value();
  if (!all_known) return 0;
  absl::StatusOr<ScoreReport> report = ScoreSubmission(submission, tasks);
  if (!report.ok()) return Fail(report.status());
  std::cout << absl::StrFormat(
      "pass@2 %.4f (all-or-nothing), %.4f (fractional); per prediction %d/%d = %.4f\n",
      report->pass2_all_or_nothing, report->pass2_fractional, report->num_correct_inputs,
      report->num_submitted_inputs, report->per_prediction);
  return 0;
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

}  // namespace
}  // namespace arc

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(arc::kUsage);
  std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  if (args.size() != 3) {
    std::cerr << "usage: " << arc::kUsage << "\n";
    return 2;
  }
  const std::string command = args[1];
  if (command != "check" && command != "baseline" && command != "score") {
    std::cerr << "arc-tasks: unknown command \"" << command << "\"\nusage: " << arc::kUsage << "\n";
    return 2;
  }
  absl::StatusOr<std::vector<arc::Task>> tasks =
      arc::ReadTasks(args[2], absl::GetFlag(FLAGS_solutions));
  if (!tasks.ok()) return arc::Fail(tasks.status());
  if (command == "check") return arc::Check(*tasks);
  if (command == "baseline") return arc::Baseline(*tasks);
  return arc::Score(*tasks);
}
