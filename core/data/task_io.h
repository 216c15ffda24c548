// Reading and writing ARC tasks, solutions and submissions as JSON.
//
// Formats:
//   task file      {"train": [{"input": G, "output": G}, ...], "test": [{"input": G, "output"?: G}, ...]}
//                  (the ARC-AGI layout; the task id is the file name without ".json")
//   directory      every *.json task file in it (not recursive), in file-name order
//   challenges     {"<task id>": <task>, ...}  (Kaggle `*_challenges.json`; test outputs usually absent)
//   solutions      {"<task id>": [G, ...one per test input], ...}  (Kaggle `*_solutions.json`)
//   submission     {"<task id>": [{"attempt_1": G, "attempt_2": G}, ...one per test input], ...}
// where G is a list of rows of integers 0..9.
//
// Every parse error is INVALID_ARGUMENT with the JSON path of the fault, e.g.
//   "train[2].output: row 3 has 4 cells, expected 5"
//   "test[0].input: 31 rows, limit 30"
//   "train[0].input[1][2]: 12 is not a colour 0..9"
//   "invalid JSON at byte 57: ..."
//   "train[0].input[0][1]: number 1e3080 is out of range (it overflows a double), at byte 32"
// File readers prefix the file path, and combined files the task id ("<id>.train[0].input: ...").
// No exception escapes (core/data/json_parse.h): a number that overflows a double, nesting deeper
// than 64 levels and any other fault of the JSON library are INVALID_ARGUMENT like the rest.
// Functions are stateless and thread-safe.
#ifndef ARC_CORE_DATA_TASK_IO_H_
#define ARC_CORE_DATA_TASK_IO_H_

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "core/data/grid.h"
#include "core/data/submission.h"

namespace arc {

// Solutions: task id -> the true output of each test input, in test order.
using Solutions = std::map<std::string, std::vector<Grid>>;

// Parses one task in the ARC layout and validates it against `limits`.
absl::StatusOr<Task> ParseTaskJson(std::string_view json, std::string id,
                                   const TaskLimits& limits = {});
// The task in the ARC layout (test outputs written when known). Compact: one grid row per line.
std::string TaskToJson(const Task& task);

// One task file; id = file name without extension.
absl::StatusOr<Task> ReadTaskFile(const std::string& path, const TaskLimits& limits = {});
// Every *.json file of a directory (sorted by name). INVALID_ARGUMENT if there are none.
absl::StatusOr<std::vector<Task>> ReadTaskDirectory(const std::string& dir,
                                                    const TaskLimits& limits = {});
// A Kaggle combined challenges text; tasks sorted by id.
absl::StatusOr<std::vector<Task>> ParseChallengesJson(std::string_view json,
                                                      const TaskLimits& limits = {});
absl::StatusOr<Solutions> ParseSolutionsJson(std::string_view json);

// Fills in test outputs from `solutions`. Every task must have an entry with one grid per test input
// (INVALID_ARGUMENT naming the task otherwise); extra solution entries are ignored.
absl::Status ApplySolutions(const Solutions& solutions, std::vector<Task>& tasks);

// Reads tasks from PATH, detecting the layout: a directory of task files, a single task file (has a
// "train" key) or a combined challenges file. When `solutions_path` is non-empty, the solutions are
// applied (see ApplySolutions).
absl::StatusOr<std::vector<Task>> ReadTasks(const std::string& path,
                                            const std::string& solutions_path = "",
                                            const TaskLimits& limits = {});

std::string SubmissionToJson(const Submission& submission);
absl::StatusOr<Submission> ParseSubmissionJson(std::string_view json);
absl::Status WriteSubmissionFile(const std::string& path, const Submission& submission);
absl::StatusOr<Submission> ReadSubmissionFile(const std::string& path);

}  // namespace arc

#endif  // ARC_CORE_DATA_TASK_IO_H_
