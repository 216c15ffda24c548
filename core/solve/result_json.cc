#include "core/solve/result_json.h"

#include <utility>

namespace arc {
namespace {

using Json = nlohmann::json;

Json GridJson(const Grid& g) { return g.ToRows(); }

Json TttJson(const SolveResult& r) {
  const TttDataCounts& d = r.data_stats;
  const TttTrainCounts& t = r.train_stats;
  return {{"enabled", r.ttt},
          {"samples", t.samples},
          {"steps", t.steps},
          {"first_loss", t.first_loss},
          {"last_loss", t.last_loss},
          {"tokens", t.tokens},
          {"data",
           {{"base_leave1", d.base_leave1},
            {"base_leave2", d.base_leave2},
            {"augmented", d.augmented},
            {"dropped_oversize", d.dropped_oversize},
            {"duplicates", d.duplicates},
            {"dropped_over_tokens", d.dropped_over_tokens},
            {"selected_leave1", d.selected_leave1},
            {"selected_leave2", d.selected_leave2}}}};
}

Json SearchJson(const SearchCounts& s) {
  return {{"enabled", s.enabled},
          {"explained", s.explained},
          {"programs", s.programs},
          {"nodes", s.nodes},
          {"depth_completed", s.depth_completed},
          {"stopped_by_deadline", s.stopped_by_deadline},
          {"ttt_skipped", s.ttt_skipped}};
}

Json TestJson(const SolveResult& r, size_t k, const Task* task) {
  const TestResult& tr = r.tests[k];
  const Attempts attempts = r.AttemptsFor(static_cast<int>(k));
  Json candidates = Json::array();
  for (const Candidate& c : tr.candidates) {
    Json candidate = {{"grid", GridJson(c.grid)},
                      {"votes", c.votes},
                      {"score", c.score},
                      {"views", c.views},
                      {"expert", c.expert}};
    if (!c.program.empty()) {
      candidate["program"] = c.program;
      candidate["explained"] = c.explained;
    }
    candidates.push_back(std::move(candidate));
  }
  // null, not false, where the expected output is unknown: "not scored" is not "wrong".
  Json correct;
  if (task != nullptr && k < task->test.size() && task->test[k].output) {
    correct = attempts.Matches(*task->test[k].output);
  }
  Json out = {{"attempts", {GridJson(attempts.attempt_1), GridJson(attempts.attempt_2)}},
              {"candidates", std::move(candidates)},
              {"views", tr.num_views},
              {"invalid_outputs", tr.invalid_outputs},
              {"leave_out", tr.leave_out},
              {"correct", std::move(correct)}};
  if (!tr.views.empty()) {
    Json views = Json::array();
    for (const ViewPrediction& v : tr.views) {
      views.push_back({{"view", v.view},
                       {"category", v.category},
                       {"valid", v.valid},
                       {"output", v.valid ? GridJson(v.output) : Json()},
                       {"error", v.error}});
    }
    out["view_predictions"] = std::move(views);
  }
  return out;
}

}  // namespace

nlohmann::json SolveResultToJson(const SolveResult& r, const ResultContext& context) {
  Json tests = Json::array();
  for (size_t k = 0; k < r.tests.size(); ++k) tests.push_back(TestJson(r, k, context.task));
  Json out = {{"id", r.task_id},
              {"seconds", context.seconds},
              {"hash", r.task_hash},
              {"ttt", TttJson(r)},
              {"search", SearchJson(r.search)},
              {"phase_seconds",
               {{"search", r.seconds.search},
                {"ttt_data", r.seconds.ttt_data},
                {"ttt_train", r.seconds.ttt_train},
                {"inference", r.seconds.inference},
                {"selection", r.seconds.selection}}},
              {"prompt_tokens", r.prompt_tokens},
              {"generated_tokens", r.generated_tokens},
              {"tests", std::move(tests)}};
  if (!context.job_id.empty()) {
    out["job"] = {{"id", context.job_id}, {"queue_seconds", context.queue_seconds}};
  }
  return out;
}

nlohmann::json SolveErrorToJson(const std::string& task_id, double seconds,
                                const absl::Status& error) {
  return {{"id", task_id}, {"seconds", seconds}, {"error", error.ToString()}};
}

}  // namespace arc
