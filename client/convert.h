// Conversions between core's task types (core/data/grid.h) and the wire messages of arc.v1
// (proto/arc/v1/arc_solver.proto), plus the names the CLI prints and parses for enums.
//
// A wire Grid is one digit string per row ({"rows": ["012", "340"]}). Parsing it reports the first
// fault as INVALID_ARGUMENT, prefixed with the caller's path:
//   "<path>: empty grid"                                  no rows
//   "<path>.rows[1]: empty row"
//   "<path>: row 2 has 4 cells, expected 5"              ragged
//   "<path>.rows[1][3]: 'x' is not a colour digit 0..9"
// Size limits (30x30, example counts) are checked by TaskFromProto through core's ValidateTask.
//
// Pure functions; thread-safe.
#ifndef ARC_CLIENT_CONVERT_H_
#define ARC_CLIENT_CONVERT_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "arc/v1/arc_solver.pb.h"
#include "core/data/grid.h"
#include "core/data/submission.h"
#include "core/solve/result.h"

namespace arc::client {

v1::Grid GridToProto(const Grid& grid);
absl::StatusOr<Grid> GridFromProto(const v1::Grid& grid, const std::string& path);

// Demonstrations and test inputs, with the test outputs that are known.
v1::Task TaskToProto(const Task& task);
// The task named `id`, validated against `limits`; errors carry the field path ("train[0].input").
absl::StatusOr<Task> TaskFromProto(const v1::Task& task, std::string id,
                                   const TaskLimits& limits = {});

// The two attempts per test input of a response, for a submission. A missing or empty attempt
// becomes a 1x1 grid of 0 (a submission needs a grid for every slot); `num_tests` entries are
// returned whatever the response holds. INVALID_ARGUMENT when an attempt is malformed
// ("predictions[0].attempt_1: ...").
absl::StatusOr<std::vector<Attempts>> AttemptsFromResponse(const v1::SolveResponse& response,
                                                           int num_tests);

// The response as core's SolveResult (core/solve/result.h), so that it prints as the same JSON as
// arc-solve's report (core/solve/result_json.h). The wire has no full_finetune or
// adapter_parameters: they stay false and 0. INVALID_ARGUMENT naming the field when a grid is
// malformed ("predictions[0].candidates[1].grid: empty grid").
absl::StatusOr<SolveResult> SolveResultFromResponse(const v1::SolveResponse& response);

// "queued", "running", "succeeded", "failed", "cancelled" ("unspecified" for 0).
std::string JobStateName(v1::JobState state);
// The inverse (also accepts the enum's full name, e.g. JOB_STATE_RUNNING); INVALID_ARGUMENT
// "--state: \"x\" is not one of queued, running, succeeded, failed, cancelled".
absl::StatusOr<v1::JobState> ParseJobState(absl::string_view name);
// "queued", "ttt_data", "ttt_train", "inference", "selection", "done".
std::string PhaseName(v1::Phase phase);
// A grpc::StatusCode / google.rpc.Code value as its name ("RESOURCE_EXHAUSTED"); "CODE_<n>" when
// unknown.
std::string StatusCodeName(int code);

}  // namespace arc::client

#endif  // ARC_CLIENT_CONVERT_H_
