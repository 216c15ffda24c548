// Fuzz target: the Kaggle files (core/data/task_io.h). Every input goes to all three parsers:
// challenges, solutions and submission. Never crashes or throws; a refusal is INVALID_ARGUMENT; an
// accepted submission survives SubmissionToJson and back, accepted challenges and solutions give
// tasks and grids that validate and ApplySolutions never crashes on them.
#include "core/data/task_io.h"
#include "fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using arc::fuzz::Check;
  using arc::fuzz::CheckRefusal;
  const std::string_view text = arc::fuzz::AsText(data, size);

  absl::StatusOr<std::vector<arc::Task>> tasks = arc::ParseChallengesJson(text);
  CheckRefusal(tasks.status(), "ParseChallengesJson");
  if (tasks.ok()) {
    for (const arc::Task& t : *tasks) Check(arc::ValidateTask(t).ok(), "challenge tasks validate");
  }

  const absl::StatusOr<arc::Solutions> solutions = arc::ParseSolutionsJson(text);
  CheckRefusal(solutions.status(), "ParseSolutionsJson");
  if (solutions.ok() && tasks.ok()) {
    CheckRefusal(arc::ApplySolutions(*solutions, *tasks), "ApplySolutions");
  }

  const absl::StatusOr<arc::Submission> submission = arc::ParseSubmissionJson(text);
  CheckRefusal(submission.status(), "ParseSubmissionJson");
  if (submission.ok()) {
    const absl::StatusOr<arc::Submission> back =
        arc::ParseSubmissionJson(arc::SubmissionToJson(*submission));
    Check(back.ok() && back->size() == submission->size(), "SubmissionToJson round-trips");
    for (const auto& [id, attempts] : *submission) {
      const std::vector<arc::Attempts>& again = back->at(id);
      Check(again.size() == attempts.size(), "submission attempts round-trip");
      for (size_t i = 0; i < attempts.size(); ++i) {
        Check(again[i].attempt_1 == attempts[i].attempt_1 &&
                  again[i].attempt_2 == attempts[i].attempt_2,
              "submission grids round-trip");
      }
    }
  }
  return 0;
}
