#include "core/solve/result_json.h"

#include <cstdio>
#include <cstdlib>
#include <utility>

namespace arc {
namespace {

using Json = nlohmann::json;

Json GridJson(const Grid& g) { return g.ToRows(); }

// A float loss as the shortest decimal that keeps 6 significant digits: a float widened to double
// prints with 17 digits (2.3455998897552490), 6 are plenty for a curve and keep reports small.
double ShortLoss(float loss) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.6g", static_cast<double>(loss));
  return std::strtod(text, nullptr);
}

// The expected output of test input `k`, or null when `task` is absent or does not know it.
const Grid* ExpectedOutput(const Task* task, size_t k) {
  if (task == nullptr || k >= task->test.size() || !task->test[k].output) return nullptr;
  return &*task->test[k].output;
}

Json TttJson(const SolveResult& r) {
  const TttDataCounts& d = r.data_stats;
  const TttTrainCounts& t = r.train_stats;
  Json losses = Json::array();
  for (float loss : t.losses) losses.push_back(ShortLoss(loss));
  return {{"enabled", r.ttt},
          {"samples", t.samples},
          {"steps", t.steps},
          {"first_loss", t.first_loss},
          {"last_loss", t.last_loss},
          {"losses", std::move(losses)},
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
          {"ttt_skipped", s.ttt_skipped},
          {"ttt_skipped_because", s.ttt_skipped_because}};
}

Json TestJson(const SolveResult& r, size_t k, const Task* task) {
  const TestResult& tr = r.tests[k];
  const Attempts attempts = r.AttemptsFor(static_cast<int>(k));
  const Grid* expected = ExpectedOutput(task, k);
  // null, not false, where the expected output is unknown: "not scored" is not "wrong".
  auto correct = [expected](const Grid& g) { return expected ? Json(g == *expected) : Json(); };
  Json candidates = Json::array();
  for (const Candidate& c : tr.candidates) {
    Json candidate = {{"grid", GridJson(c.grid)},
                      {"votes", c.votes},
                      {"score", c.score},
                      {"views", c.views},
                      {"expert", c.expert},
                      {"correct", correct(c.grid)}};
    if (!c.program.empty()) {
      candidate["program"] = c.program;
      candidate["explained"] = c.explained;
    }
    candidates.push_back(std::move(candidate));
  }
  Json out = {{"attempts", {GridJson(attempts.attempt_1), GridJson(attempts.attempt_2)}},
              {"candidates", std::move(candidates)},
              {"views", tr.num_views},
              {"invalid_outputs", tr.invalid_outputs},
              {"leave_out", tr.leave_out},
              {"correct", expected ? Json(attempts.Matches(*expected)) : Json()}};
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
  // The task is right when every test input is, wrong when one is wrong, else (an output unknown)
  // null.
  bool any_wrong = false, any_unknown = r.tests.empty();
  for (size_t k = 0; k < r.tests.size(); ++k) {
    tests.push_back(TestJson(r, k, context.task));
    const Json& c = tests.back()["correct"];
    any_wrong = any_wrong || (c.is_boolean() && !c.get<bool>());
    any_unknown = any_unknown || c.is_null();
  }
  Json correct = any_wrong ? Json(false) : any_unknown ? Json() : Json(true);
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
              {"correct", std::move(correct)},
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

namespace {

bool AllNumbers(const Json& array) {
  for (const Json& x : array) {
    if (!x.is_number()) return false;
  }
  return true;
}

void AppendJsonText(const Json& j, int indent, std::string& out) {
  const std::string pad(static_cast<size_t>(indent) + 2, ' ');
  if (j.is_object() && !j.empty()) {
    out += "{\n";
    bool first = true;
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (!first) out += ",\n";
      first = false;
      out += pad;
      out += Json(it.key()).dump();
      out += ": ";
      AppendJsonText(it.value(), indent + 2, out);
    }
    out += "\n" + std::string(static_cast<size_t>(indent), ' ') + "}";
  } else if (j.is_array() && !j.empty() && AllNumbers(j)) {
    out += "[";
    for (size_t i = 0; i < j.size(); ++i) {
      if (i > 0) out += ", ";
      out += j[i].dump();
    }
    out += "]";
  } else if (j.is_array() && !j.empty()) {
    out += "[\n";
    for (size_t i = 0; i < j.size(); ++i) {
      if (i > 0) out += ",\n";
      out += pad;
      AppendJsonText(j[i], indent + 2, out);
    }
    out += "\n" + std::string(static_cast<size_t>(indent), ' ') + "]";
  } else {
    out += j.dump();
  }
}

}  // namespace

std::string JsonText(const nlohmann::json& json) {
  std::string out;
  AppendJsonText(json, 0, out);
  return out;
}

}  // namespace arc
