// Fuzz target: a SolveRequest as the server receives it (protobuf wire bytes), through the
// handler's conversions (server/proto_conversion.h): the task (structured or task_json) and the
// options resolved against the server's defaults and limits. Never crashes or throws; refusals are
// INVALID_ARGUMENT; an accepted task survives TaskToProto and back, accepted options survive
// SolveOptionsToProto and a second resolution unchanged.
#include "arc/v1/arc_solver.pb.h"
#include "fuzz/fuzz_util.h"
#include "server/proto_conversion.h"
#include "server/server_options.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using arc::fuzz::Check;
  using arc::fuzz::CheckRefusal;
  static const arc::server::ServerOptions* const server = new arc::server::ServerOptions();
  arc::v1::SolveRequest request;
  if (!request.ParseFromArray(data, static_cast<int>(size))) return 0;

  const absl::StatusOr<arc::Task> task = arc::server::TaskFromRequest(request, server->task_limits);
  CheckRefusal(task.status(), "TaskFromRequest");
  if (task.ok()) {
    arc::v1::SolveRequest again;
    *again.mutable_task() = arc::server::TaskToProto(*task);
    again.set_task_id(request.task_id());
    const absl::StatusOr<arc::Task> back = arc::server::TaskFromRequest(again, server->task_limits);
    Check(back.ok() && *back == *task, "TaskToProto round-trips an accepted task");
  }

  const absl::StatusOr<arc::SolveOptions> options =
      arc::server::ResolveSolveOptions(request.options(), server->defaults, server->limits);
  CheckRefusal(options.status(), "ResolveSolveOptions");
  if (options.ok()) {
    const arc::v1::SolveOptions proto = arc::server::SolveOptionsToProto(*options);
    const absl::StatusOr<arc::SolveOptions> again =
        arc::server::ResolveSolveOptions(proto, server->defaults, server->limits);
    Check(again.ok(), "resolved options resolve again");
    Check(arc::server::SolveOptionsToProto(*again).SerializeAsString() == proto.SerializeAsString(),
          "resolving is idempotent");
  }
  return 0;
}
