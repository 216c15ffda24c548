// The arc-client subcommands. Each takes the parsed command line and an open Connection, writes
// results to `out` and progress and errors to `err`, and returns the process exit code.
//
// Exit codes: 0 success; 1 an RPC failed (the gRPC code and message are printed), or a job, eval
// task or load call failed; 2 a bad input file (usage errors are caught earlier by
// ParseCommandLine); 3 `health` answered but not SERVING.
//
// Commands run on the calling thread; eval and load start their own worker threads and join them
// before returning.
#ifndef ARC_CLIENT_COMMANDS_H_
#define ARC_CLIENT_COMMANDS_H_

#include <optional>
#include <ostream>
#include <string>

#include "absl/status/statusor.h"
#include "arc/v1/arc_solver.pb.h"
#include "client/cli.h"
#include "client/connection.h"
#include "core/data/grid.h"

namespace arc::client {

enum ExitCode : int { kExitOk = 0, kExitFailure = 1, kExitUsage = 2, kExitNotServing = 3 };

// Where a command writes, and whether those are terminals (progress bars, colours).
struct Terminal {
  std::ostream& out;
  std::ostream& err;
  bool out_tty = false;
  bool err_tty = false;
};

// Dispatches on options.command.
int RunCommand(const CliOptions& options, Connection& connection, Terminal& term);

int RunSolve(const CliOptions& options, Connection& connection, Terminal& term);
int RunEval(const CliOptions& options, Connection& connection, Terminal& term);
int RunSubmit(const CliOptions& options, Connection& connection, Terminal& term);
int RunGet(const CliOptions& options, Connection& connection, Terminal& term);
int RunWatch(const CliOptions& options, Connection& connection, Terminal& term);
int RunCancel(const CliOptions& options, Connection& connection, Terminal& term);
int RunList(const CliOptions& options, Connection& connection, Terminal& term);
int RunInfo(const CliOptions& options, Connection& connection, Terminal& term);
int RunHealth(const CliOptions& options, Connection& connection, Terminal& term);
int RunLoad(const CliOptions& options, Connection& connection, Terminal& term);

// A request for the task file at `path` (read and validated locally, so that the task can be shown
// next to the answer): structured, or with --task_json the file's own text. With --task_json a
// file that does not parse locally is still sent (the server's verdict is the one that counts)
// and `task` comes back empty.
struct TaskRequest {
  v1::SolveRequest request;
  std::optional<Task> task;
};
absl::StatusOr<TaskRequest> BuildTaskRequest(const CliOptions& options, const std::string& path);

// The SolveRequest for an in-memory task (eval): structured, named by task.id, a fresh request id.
v1::SolveRequest RequestForTask(const CliOptions& options, const Task& task);

// "arc-client: <what> failed: CODE: message" (plus the attempt count when retried).
std::string RpcError(const std::string& what, const grpc::Status& status, int attempts = 1);

// The deadline for a call of this command starting now.
absl::Time CallDeadline(const CliOptions& options);

}  // namespace arc::client

#endif  // ARC_CLIENT_COMMANDS_H_
