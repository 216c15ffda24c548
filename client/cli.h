// Command-line parsing for arc-client: global options, the subcommand, its positional arguments and
// its options (including the SolveOptions overrides sent to the server).
//
//   arc-client --server TARGET [--deadline SECONDS] [--retries N] [--color auto|always|never]
//              [--tls_ca PEM] [--tls_cert PEM --tls_key PEM] [--tls_server_name NAME]
//              [--token_file FILE | --token TOKEN] <command> [args] [options]
//
// Options may come before or after the command, as --name VALUE or --name=VALUE; booleans as --name
// or --name=true|false. An option that the command does not take is an error. Solve-option flags
// (one per per-request row of the option table core/solve/option_table.h, plus --no_ttt and
// --include_views) set only the SolveOptions fields they name, so the server's defaults hold for
// the rest.
//
// Every error is INVALID_ARGUMENT naming the option and the fault (the caller exits 2), e.g.
//   --seed: "x" is not an integer
//   --stream is not an option of `info`
// Pure functions; thread-safe.
#ifndef ARC_CLIENT_CLI_H_
#define ARC_CLIENT_CLI_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "arc/v1/arc_solver.pb.h"
#include "client/render.h"

namespace arc::client {

struct CliOptions {
  bool help = false;  // --help / -h / `help`: print the usage and exit 0

  // Global.
  std::string server;                      // --server (required for every command)
  std::optional<double> deadline_seconds;  // --deadline; unset = the command's default
  int retries = 3;                         // --retries (unary calls and stream starts)
  ColorMode color = ColorMode::kAuto;      // --color
  // Transport security (client/connection.h ChannelSecurity): PEM paths, the name to verify, the
  // bearer token (--token) or the file holding it (--token_file).
  std::string tls_ca, tls_cert, tls_key, tls_server_name;
  std::string token, token_file;

  std::string command;  // solve, eval, submit, get, watch, cancel, list, info, health, load
  std::vector<std::string> args;  // positional arguments after the command

  // Request building (solve, eval, submit, load).
  v1::SolveOptions solve_options;
  bool task_json = false;  // --task_json: send the raw file text as task_json
  std::string task_id;     // --task_id (default: the file name without .json)
  std::string request_id;  // --request_id (default: a fresh one per call)

  // Output.
  bool stream = false;     // solve --stream
  bool json = false;       // --json
  int max_candidates = 4;  // --candidates: candidate grids drawn per test input

  std::string html;  // --html FILE: the visual report (solve, eval; core/report/html_report.h)

  // eval.
  std::string solutions;  // --solutions
  std::string out;        // --out
  std::string report;     // --report FILE: the JSON report (docs/JSON.md), as arc-solve's
  int concurrency = 1;    // --concurrency (eval, load)
  int limit = 0;          // --limit: eval the first N tasks; list at most N jobs

  // load.
  int64_t total = 0;            // --total
  double duration_seconds = 0;  // --duration
  double rate = 0;              // --rate (calls per second)

  // list.
  v1::JobState state = v1::JOB_STATE_UNSPECIFIED;  // --state

  // health.
  std::string service;  // --service ("" = the whole server)
};

// `args` excludes the program name.
absl::StatusOr<CliOptions> ParseCommandLine(const std::vector<std::string>& args);

// The deadline for one call of `command` when --deadline is not given: 10 s for the quick calls
// (info, health, get, cancel, list, submit), 600 s for the ones that wait for a solve.
double DefaultDeadlineSeconds(const std::string& command);

// The --help text.
std::string UsageText();

}  // namespace arc::client

#endif  // ARC_CLIENT_CLI_H_
