// Conversions between the wire types of proto/arc/v1/arc_solver.proto and the core types.
//
// Requests: the task (structured `task` or raw `task_json`) becomes an arc::Task validated against
// the server's TaskLimits, and the request's SolveOptions become a core SolveOptions: the server's
// defaults with the request's set fields on top, each checked against its valid range and the
// server's limits. Both directions follow the option table (core/solve/option_table.h): each row
// names its proto field, read and written by reflection, with the table's range and choices. Every fault is INVALID_ARGUMENT naming the field by its proto path:
//   "task.train[0].input: row 1 has 2 cells, expected 3"
//   "task_json: train[0].input[0][0]: 12 is not a colour 0..9"
//   "options.ttt_options.max_steps: 5000 is above the server limit 500"
//   "options.inference.batch_size: 0 is outside 1..64"
// Responses: SolveResult -> SolveResponse, core options -> proto (GetServerInfo's defaults).
//
// Stateless functions; thread-safe.
#ifndef ARC_SERVER_PROTO_CONVERSION_H_
#define ARC_SERVER_PROTO_CONVERSION_H_

#include <string>

#include "absl/status/statusor.h"
#include "arc/v1/arc_solver.pb.h"
#include "core/data/grid.h"
#include "core/solve/solver.h"
#include "server/server_options.h"

namespace arc::server {

// Grid <-> rows of digit strings. `path` prefixes error messages ("task.train[0].input").
absl::StatusOr<Grid> GridFromProto(const v1::Grid& grid, const std::string& path,
                                   const TaskLimits& limits);
v1::Grid GridToProto(const Grid& grid);

// The request's task, from `task` or `task_json`, validated; its id is the request's task_id.
absl::StatusOr<Task> TaskFromRequest(const v1::SolveRequest& request, const TaskLimits& limits);
v1::Task TaskToProto(const Task& task);

// `defaults` with the request's overrides applied and checked (see the header comment). When the
// resolved ttt max_steps is 0 ("the epochs decide") it becomes limits.ttt_steps, and the views per
// test input are capped at limits.views, so no request exceeds the server's budget.
absl::StatusOr<SolveOptions> ResolveSolveOptions(const v1::SolveOptions& request,
                                                 const SolveOptions& defaults,
                                                 const OptionLimits& limits);
// Every field set (GetServerInfo.defaults).
v1::SolveOptions SolveOptionsToProto(const SolveOptions& options);
// A human-readable line of the limits (GetServerInfo.limits).
std::string DescribeLimits(const OptionLimits& limits, const TaskLimits& task_limits);

// The result of a finished job. The job manager measures the time queued and the total (from
// admission to the result).
v1::SolveResponse ResultToProto(const SolveResult& result, const std::string& job_id,
                                double queue_seconds, double total_seconds);

v1::Phase PhaseToProto(SolvePhase phase);

}  // namespace arc::server

#endif  // ARC_SERVER_PROTO_CONVERSION_H_
