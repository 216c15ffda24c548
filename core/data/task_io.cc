#include "core/data/task_io.h"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "core/data/file_util.h"
#include "core/data/json_parse.h"
#include "core/data/status_macros.h"
#include "nlohmann/json.hpp"

namespace arc {
namespace {

using Json = nlohmann::json;

// Task files are small (a 30x30 grid is ~2 KB); this bounds memory on hostile input.
constexpr int64_t kMaxTaskFileBytes = int64_t{64} << 20;
constexpr int64_t kMaxCombinedFileBytes = int64_t{1} << 30;

absl::Status Invalid(absl::string_view path, absl::string_view what) {
  return absl::InvalidArgumentError(path.empty() ? std::string(what) : absl::StrCat(path, ": ", what));
}

std::string Join(absl::string_view prefix, absl::string_view key) {
  return prefix.empty() ? std::string(key) : absl::StrCat(prefix, ".", key);
}

absl::StatusOr<int> ParseCell(const Json& v, const std::string& path) {
  if (v.is_number_integer() || v.is_number_unsigned()) {
    if (v.is_number_unsigned() ? v.get<uint64_t>() > 9 : (v.get<int64_t>() < 0 || v.get<int64_t>() > 9)) {
      return Invalid(path, absl::StrCat(v.dump(), " is not a colour 0..9"));
    }
    return static_cast<int>(v.get<int64_t>());
  }
  if (v.is_number_float()) {
    const double d = v.get<double>();
    if (!std::isfinite(d) || std::floor(d) != d) {
      return Invalid(path, absl::StrCat(v.dump(), " is not an integer"));
    }
    if (d < 0 || d > 9) return Invalid(path, absl::StrCat(v.dump(), " is not a colour 0..9"));
    return static_cast<int>(d);
  }
  return Invalid(path, absl::StrCat("expected an integer colour 0..9, got ", v.type_name()));
}

absl::StatusOr<Grid> ParseGrid(const Json& v, const std::string& path, const TaskLimits& limits) {
  if (!v.is_array()) {
    return Invalid(path, absl::StrCat("expected a grid (array of rows), got ", v.type_name()));
  }
  if (v.empty()) return Invalid(path, "empty grid");
  if (static_cast<int64_t>(v.size()) > limits.max_side) {
    return Invalid(path, absl::StrCat(v.size(), " rows, limit ", limits.max_side));
  }
  size_t width = 0;
  for (size_t r = 0; r < v.size(); ++r) {
    const Json& row = v[r];
    const std::string row_path = absl::StrCat(path, "[", r, "]");
    if (!row.is_array()) {
      return Invalid(row_path, absl::StrCat("expected a row (array of colours), got ", row.type_name()));
    }
    if (row.empty()) return Invalid(row_path, "empty row");
    if (r == 0) {
      width = row.size();
      if (static_cast<int64_t>(width) > limits.max_side) {
        return Invalid(path, absl::StrCat(width, " columns, limit ", limits.max_side));
      }
    } else if (row.size() != width) {
      return Invalid(path, absl::StrCat("row ", r, " has ", row.size(), " cells, expected ", width));
    }
  }
  Grid g(static_cast<int>(v.size()), static_cast<int>(width));
  for (size_t r = 0; r < v.size(); ++r) {
    for (size_t c = 0; c < width; ++c) {
      ARC_ASSIGN_OR_RETURN(const int cell,
                           ParseCell(v[r][c], absl::StrCat(path, "[", r, "][", c, "]")));
      g.set(static_cast<int>(r), static_cast<int>(c), static_cast<uint8_t>(cell));
    }
  }
  return g;
}

absl::StatusOr<const Json*> Member(const Json& obj, const char* key, const std::string& path) {
  const auto it = obj.find(key);
  if (it == obj.end()) return Invalid(path, absl::StrCat("missing key \"", key, "\""));
  return &*it;
}

absl::StatusOr<Task> TaskFromJson(const Json& j, std::string id, const std::string& prefix,
                                  const TaskLimits& limits) {
  if (!j.is_object()) {
    return Invalid(prefix, absl::StrCat("expected a task object with \"train\" and \"test\", got ",
                                        j.type_name()));
  }
  Task task;
  task.id = std::move(id);
  for (const char* part : {"train", "test"}) {
    const bool is_train = part[1] == 'r';
    ARC_ASSIGN_OR_RETURN(const Json* list, Member(j, part, prefix));
    const std::string list_path = Join(prefix, part);
    if (!list->is_array()) {
      return Invalid(list_path,
                     absl::StrCat("expected an array of examples, got ", list->type_name()));
    }
    const int limit = is_train ? limits.max_train_examples : limits.max_test_inputs;
    if (static_cast<int64_t>(list->size()) > limit) {
      return Invalid(list_path, absl::StrCat(list->size(),
                                             is_train ? " demonstrations" : " test inputs",
                                             ", limit ", limit));
    }
    for (size_t i = 0; i < list->size(); ++i) {
      const Json& ex = (*list)[i];
      const std::string ex_path = absl::StrCat(list_path, "[", i, "]");
      if (!ex.is_object()) {
        return Invalid(ex_path, absl::StrCat("expected an object with \"input\"",
                                             is_train ? " and \"output\"" : "", ", got ",
                                             ex.type_name()));
      }
      ARC_ASSIGN_OR_RETURN(const Json* in, Member(ex, "input", ex_path));
      ARC_ASSIGN_OR_RETURN(Grid input, ParseGrid(*in, ex_path + ".input", limits));
      if (is_train) {
        ARC_ASSIGN_OR_RETURN(const Json* out, Member(ex, "output", ex_path));
        ARC_ASSIGN_OR_RETURN(Grid output, ParseGrid(*out, ex_path + ".output", limits));
        task.train.push_back({std::move(input), std::move(output)});
      } else {
        TestCase tc{std::move(input), std::nullopt};
        const auto out = ex.find("output");
        if (out != ex.end()) {
          ARC_ASSIGN_OR_RETURN(tc.output, ParseGrid(*out, ex_path + ".output", limits));
        }
        task.test.push_back(std::move(tc));
      }
    }
  }
  // Counts (at least one of each); grids were checked while parsing.
  if (absl::Status s = ValidateTask(task, limits); !s.ok()) return Invalid(prefix, s.message());
  return task;
}

Json GridToJson(const Grid& g) {
  Json rows = Json::array();
  for (int r = 0; r < g.rows(); ++r) {
    Json row = Json::array();
    for (int c = 0; c < g.cols(); ++c) row.push_back(g.at(r, c));
    rows.push_back(std::move(row));
  }
  return rows;
}

// Prefixes a status message with a file path, keeping the code.
absl::Status WithPath(const absl::Status& s, const std::string& path) {
  return absl::Status(s.code(), absl::StrCat(path, ": ", s.message()));
}

std::string FileStem(const std::string& path) {
  return std::filesystem::path(path).stem().string();
}

}  // namespace

absl::StatusOr<Task> ParseTaskJson(std::string_view json, std::string id,
                                   const TaskLimits& limits) {
  return GuardJson("", [&]() -> absl::StatusOr<Task> {
    ARC_ASSIGN_OR_RETURN(const Json j, ParseJson(json));
    return TaskFromJson(j, std::move(id), "", limits);
  });
}

std::string TaskToJson(const Task& task) {
  Json j;
  j["train"] = Json::array();
  for (const Example& e : task.train) {
    j["train"].push_back({{"input", GridToJson(e.input)}, {"output", GridToJson(e.output)}});
  }
  j["test"] = Json::array();
  for (const TestCase& t : task.test) {
    Json tc = {{"input", GridToJson(t.input)}};
    if (t.output) tc["output"] = GridToJson(*t.output);
    j["test"].push_back(std::move(tc));
  }
  return j.dump();
}

absl::StatusOr<Task> ReadTaskFile(const std::string& path, const TaskLimits& limits) {
  ARC_ASSIGN_OR_RETURN(const std::string text, ReadFile(path, kMaxTaskFileBytes));
  absl::StatusOr<Task> task = ParseTaskJson(text, FileStem(path), limits);
  if (!task.ok()) return WithPath(task.status(), path);
  return task;
}

absl::StatusOr<std::vector<Task>> ReadTaskDirectory(const std::string& dir,
                                                    const TaskLimits& limits) {
  std::error_code ec;
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (entry.is_regular_file() && entry.path().extension() == ".json") {
      files.push_back(entry.path().string());
    }
  }
  if (ec) return absl::NotFoundError(absl::StrCat(dir, ": ", ec.message()));
  if (files.empty()) return absl::InvalidArgumentError(absl::StrCat(dir, ": no *.json task files"));
  std::sort(files.begin(), files.end());
  std::vector<Task> tasks;
  tasks.reserve(files.size());
  for (const std::string& f : files) {
    ARC_ASSIGN_OR_RETURN(Task t, ReadTaskFile(f, limits));
    tasks.push_back(std::move(t));
  }
  return tasks;
}

namespace {

// The walkers of the three combined formats over a parsed tree (the public Parse* functions and
// ReadTasks parse, then call these inside GuardJson).
absl::StatusOr<std::vector<Task>> ChallengesFromJson(const Json& j, const TaskLimits& limits) {
  if (!j.is_object()) {
    return Invalid("", absl::StrCat("expected an object of tasks keyed by id, got ", j.type_name()));
  }
  std::vector<Task> tasks;
  for (auto it = j.begin(); it != j.end(); ++it) {  // nlohmann's object is sorted by key
    ARC_ASSIGN_OR_RETURN(Task t, TaskFromJson(it.value(), it.key(), it.key(), limits));
    tasks.push_back(std::move(t));
  }
  if (tasks.empty()) return Invalid("", "no tasks");
  return tasks;
}

absl::StatusOr<Solutions> SolutionsFromJson(const Json& j) {
  if (!j.is_object()) {
    return Invalid("", absl::StrCat("expected an object of solutions keyed by task id, got ",
                                    j.type_name()));
  }
  TaskLimits limits;
  Solutions out;
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (!it.value().is_array()) {
      return Invalid(it.key(), absl::StrCat("expected an array of grids, got ",
                                            it.value().type_name()));
    }
    std::vector<Grid>& grids = out[it.key()];
    for (size_t i = 0; i < it.value().size(); ++i) {
      ARC_ASSIGN_OR_RETURN(Grid g,
                           ParseGrid(it.value()[i], absl::StrCat(it.key(), "[", i, "]"), limits));
      grids.push_back(std::move(g));
    }
  }
  return out;
}

}  // namespace

absl::StatusOr<std::vector<Task>> ParseChallengesJson(std::string_view json,
                                                      const TaskLimits& limits) {
  return GuardJson("", [&]() -> absl::StatusOr<std::vector<Task>> {
    ARC_ASSIGN_OR_RETURN(const Json j, ParseJson(json));
    return ChallengesFromJson(j, limits);
  });
}

absl::StatusOr<Solutions> ParseSolutionsJson(std::string_view json) {
  return GuardJson("", [&]() -> absl::StatusOr<Solutions> {
    ARC_ASSIGN_OR_RETURN(const Json j, ParseJson(json));
    return SolutionsFromJson(j);
  });
}

absl::Status ApplySolutions(const Solutions& solutions, std::vector<Task>& tasks) {
  for (Task& t : tasks) {
    const auto it = solutions.find(t.id);
    if (it == solutions.end()) return Invalid(t.id, "no entry in the solutions");
    if (it->second.size() != t.test.size()) {
      return Invalid(t.id, absl::StrCat(it->second.size(), " solutions for ", t.test.size(),
                                        " test inputs"));
    }
    for (size_t i = 0; i < t.test.size(); ++i) t.test[i].output = it->second[i];
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Task>> ReadTasks(const std::string& path,
                                            const std::string& solutions_path,
                                            const TaskLimits& limits) {
  std::vector<Task> tasks;
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    ARC_ASSIGN_OR_RETURN(tasks, ReadTaskDirectory(path, limits));
  } else {
    ARC_ASSIGN_OR_RETURN(const std::string text, ReadFile(path, kMaxCombinedFileBytes));
    absl::StatusOr<std::vector<Task>> parsed =
        GuardJson("", [&]() -> absl::StatusOr<std::vector<Task>> {
          ARC_ASSIGN_OR_RETURN(const Json j, ParseJson(text));
          if (!(j.is_object() && j.contains("train"))) return ChallengesFromJson(j, limits);
          ARC_ASSIGN_OR_RETURN(Task t, TaskFromJson(j, FileStem(path), "", limits));
          return std::vector<Task>{std::move(t)};
        });
    if (!parsed.ok()) return WithPath(parsed.status(), path);
    tasks = std::move(*parsed);
  }
  if (!solutions_path.empty()) {
    ARC_ASSIGN_OR_RETURN(const std::string text, ReadFile(solutions_path, kMaxCombinedFileBytes));
    absl::StatusOr<Solutions> sol = ParseSolutionsJson(text);
    if (!sol.ok()) return WithPath(sol.status(), solutions_path);
    if (absl::Status s = ApplySolutions(*sol, tasks); !s.ok()) return WithPath(s, solutions_path);
  }
  return tasks;
}

std::string SubmissionToJson(const Submission& submission) {
  Json j = Json::object();
  for (const auto& [id, attempts] : submission) {
    Json list = Json::array();
    for (const Attempts& a : attempts) {
      list.push_back({{"attempt_1", GridToJson(a.attempt_1)}, {"attempt_2", GridToJson(a.attempt_2)}});
    }
    j[id] = std::move(list);
  }
  return j.dump();
}

namespace {

absl::StatusOr<Submission> SubmissionFromJson(const Json& j) {
  if (!j.is_object()) {
    return Invalid("", absl::StrCat("expected an object keyed by task id, got ", j.type_name()));
  }
  TaskLimits limits;
  Submission out;
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (!it.value().is_array()) {
      return Invalid(it.key(), absl::StrCat("expected an array of attempts, got ",
                                            it.value().type_name()));
    }
    std::vector<Attempts>& list = out[it.key()];
    for (size_t i = 0; i < it.value().size(); ++i) {
      const Json& a = it.value()[i];
      const std::string p = absl::StrCat(it.key(), "[", i, "]");
      if (!a.is_object()) {
        return Invalid(p, absl::StrCat("expected {\"attempt_1\", \"attempt_2\"}, got ", a.type_name()));
      }
      Attempts at;
      ARC_ASSIGN_OR_RETURN(const Json* a1, Member(a, "attempt_1", p));
      ARC_ASSIGN_OR_RETURN(at.attempt_1, ParseGrid(*a1, p + ".attempt_1", limits));
      ARC_ASSIGN_OR_RETURN(const Json* a2, Member(a, "attempt_2", p));
      ARC_ASSIGN_OR_RETURN(at.attempt_2, ParseGrid(*a2, p + ".attempt_2", limits));
      list.push_back(std::move(at));
    }
  }
  return out;
}

}  // namespace

absl::StatusOr<Submission> ParseSubmissionJson(std::string_view json) {
  return GuardJson("", [&]() -> absl::StatusOr<Submission> {
    ARC_ASSIGN_OR_RETURN(const Json j, ParseJson(json));
    return SubmissionFromJson(j);
  });
}

absl::Status WriteSubmissionFile(const std::string& path, const Submission& submission) {
  return WriteFileAtomic(path, SubmissionToJson(submission));
}

absl::StatusOr<Submission> ReadSubmissionFile(const std::string& path) {
  ARC_ASSIGN_OR_RETURN(const std::string text, ReadFile(path, kMaxCombinedFileBytes));
  absl::StatusOr<Submission> s = ParseSubmissionJson(text);
  if (!s.ok()) return WithPath(s.status(), path);
  return s;
}

}  // namespace arc
