#include "core/data/score.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace arc {

absl::StatusOr<ScoreReport> ScoreSubmission(const Submission& submission,
                                            const std::vector<Task>& tasks) {
  // Check everything first so that an error never comes with a half-filled report.
  for (const Task& task : tasks) {
    if (task.test.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("task ", task.id, ": no test inputs to score"));
    }
    for (size_t i = 0; i < task.test.size(); ++i) {
      if (!task.test[i].output.has_value()) {
        return absl::FailedPreconditionError(
            absl::StrCat("task ", task.id, " test[", i, "]: no known output to score against"));
      }
    }
  }

  ScoreReport report;
  report.num_tasks = static_cast<int>(tasks.size());
  double all_or_nothing_sum = 0;
  double fractional_sum = 0;
  for (const Task& task : tasks) {
    const auto found = submission.find(task.id);
    const std::vector<Attempts>* entries = found == submission.end() ? nullptr : &found->second;
    const size_t n = task.test.size();

    TaskScore score;
    score.id = task.id;
    score.correct.assign(n, false);
    int correct = 0;
    int submitted = 0;
    for (size_t i = 0; i < n; ++i) {
      if (entries == nullptr || i >= entries->size()) continue;
      ++submitted;
      const Grid& truth = *task.test[i].output;
      const Attempts& a = (*entries)[i];
      if (a.Matches(truth)) {
        score.correct[i] = true;
        ++correct;
      }
    }
    score.submitted = submitted == static_cast<int>(n);
    score.fraction = static_cast<double>(correct) / static_cast<double>(n);
    score.all_correct = correct == static_cast<int>(n);

    report.num_test_inputs += static_cast<int>(n);
    report.num_submitted_inputs += submitted;
    report.num_correct_inputs += correct;
    all_or_nothing_sum += score.all_correct ? 1.0 : 0.0;
    fractional_sum += score.fraction;
    report.tasks.push_back(std::move(score));
  }
  if (report.num_tasks > 0) {
    report.pass2_all_or_nothing = all_or_nothing_sum / report.num_tasks;
    report.pass2_fractional = fractional_sum / report.num_tasks;
  }
  if (report.num_submitted_inputs > 0) {
    report.per_prediction =
        static_cast<double>(report.num_correct_inputs) / report.num_submitted_inputs;
  }
  return report;
}

}  // namespace arc
