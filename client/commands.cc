#include "client/commands.h"

#include <filesystem>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "client/convert.h"
#include "client/load.h"
#include "client/render.h"
#include "core/data/file_util.h"
#include "core/data/task_io.h"
#include "core/report/html_report.h"

namespace arc::client {
namespace {

RenderOptions RenderOptionsFor(const CliOptions& options, const Terminal& term) {
  RenderOptions r;
  r.color = ShouldColor(options.color, term.out_tty);
  r.max_width = TerminalWidth();
  r.max_candidate_grids = options.max_candidates;
  return r;
}

// Live progress: on a terminal one line redrawn in place, otherwise one line per event.
class ProgressLine {
 public:
  explicit ProgressLine(Terminal& term) : term_(term) {}
  ~ProgressLine() { Done(); }

  void Show(const std::string& line) {
    if (term_.err_tty) {
      term_.err << "\r\x1b[K" << line << std::flush;
      drawn_ = true;
    } else {
      term_.err << line << "\n" << std::flush;
    }
  }
  void Done() {
    if (drawn_) term_.err << "\n" << std::flush;
    drawn_ = false;
  }

 private:
  Terminal& term_;
  bool drawn_ = false;
};

// The --html page of one result (core/report/html_report.h), named on stderr (stdout may be JSON).
int WriteHtml(const CliOptions& options, const v1::SolveResponse& response, const Task* task,
              Terminal& term) {
  absl::StatusOr<nlohmann::json> entry = SolveResponseToJson(response, task);
  if (!entry.ok()) {
    term.err << "arc-client: the server's result: " << entry.status().message() << "\n";
    return kExitFailure;
  }
  std::vector<Task> tasks;
  if (task != nullptr) {
    tasks.push_back(*task);
    tasks.back().id = response.task_id();  // the entry's id (--task_id may rename it)
  }
  HtmlReportOptions html;
  html.title = absl::StrCat("arc-client solve ", response.task_id());
  const nlohmann::json report = {{"tasks", nlohmann::json::array({*std::move(entry)})}};
  if (absl::Status s = WriteHtmlReport(options.html, report, tasks, html); !s.ok()) {
    term.err << "arc-client: --html: " << s.message() << "\n";
    return kExitFailure;
  }
  term.err << "html: " << options.html << "\n";
  return kExitOk;
}

// The result as text: the solve-result JSON (--json, core/solve/result_json.h) or the rendering;
// then the --html page when asked for.
int PrintResult(const CliOptions& options, const v1::SolveResponse& response, const Task* task,
                Terminal& term) {
  if (!options.json) {
    term.out << FormatSolveResponse(response, task, RenderOptionsFor(options, term));
  } else {
    absl::StatusOr<std::string> json = SolveResponseJson(response, task);
    if (!json.ok()) {
      term.err << "arc-client: the server's result: " << json.status().message() << "\n";
      return kExitFailure;
    }
    term.out << *json << "\n";
  }
  term.out.flush();
  return options.html.empty() ? kExitOk : WriteHtml(options, response, task, term);
}

// Reads a stream of SolveEvents (SolveStream or WatchJob) with progress, then prints the result.
int FinishStream(const CliOptions& options, const std::string& what, const grpc::Status& status,
                 const std::optional<v1::SolveResponse>& result,
                 const std::optional<v1::JobError>& job_error, const Task* task, Terminal& term) {
  if (!status.ok()) {
    term.err << RpcError(what, status) << "\n";
    return kExitFailure;
  }
  if (job_error) {
    term.err << "arc-client: job failed: " << StatusCodeName(job_error->code()) << ": "
             << job_error->message() << "\n";
    return kExitFailure;
  }
  if (!result) {
    term.err << "arc-client: " << what << " ended without a result\n";
    return kExitFailure;
  }
  return PrintResult(options, *result, task, term);
}

grpc::Status StreamEvents(
    Connection& connection, const CliOptions& options,
    const std::function<std::unique_ptr<grpc::ClientReader<v1::SolveEvent>>(grpc::ClientContext&)>&
        open,
    std::optional<v1::SolveResponse>& result, std::optional<v1::JobError>& job_error,
    Terminal& term) {
  ProgressLine progress(term);
  return connection.Stream<v1::SolveEvent>(CallDeadline(options), open,
                                           [&](const v1::SolveEvent& e) {
                                             if (e.has_result()) {
                                               result = e.result();
                                             } else if (e.has_error()) {
                                               job_error = e.error();
                                             }
                                             std::string line = FormatEvent(e);
                                             if (!e.job_id().empty())
                                               line = absl::StrCat(e.job_id(), "  ", line);
                                             progress.Show(line);
                                           });
}

}  // namespace

absl::Time CallDeadline(const CliOptions& options) {
  return absl::Now() +
         absl::Seconds(options.deadline_seconds.value_or(DefaultDeadlineSeconds(options.command)));
}

std::string RpcError(const std::string& what, const grpc::Status& status, int attempts) {
  std::string s =
      absl::StrCat("arc-client: ", what, " failed: ", StatusCodeName(status.error_code()), ": ",
                   status.error_message());
  if (attempts > 1) absl::StrAppend(&s, " (after ", attempts, " attempts)");
  return s;
}

namespace {

// One unary RPC through the connection's retries, before the --deadline. False after printing
// `arc-client: <what> failed: ...` (with the attempts) on stderr: the command exits kExitFailure.
template <typename Rpc>
bool CallOrReport(const CliOptions& options, Connection& connection, Terminal& term,
                  const std::string& what, Rpc&& rpc) {
  int attempts = 0;
  const grpc::Status status =
      connection.Call(CallDeadline(options), std::forward<Rpc>(rpc), &attempts);
  if (status.ok()) return true;
  term.err << RpcError(what, status, attempts) << "\n";
  return false;
}

}  // namespace

absl::StatusOr<TaskRequest> BuildTaskRequest(const CliOptions& options, const std::string& path) {
  TaskRequest out;
  v1::SolveRequest& req = out.request;
  absl::StatusOr<Task> task = ReadTaskFile(path);
  if (options.task_json) {
    absl::StatusOr<std::string> text = ReadFile(path);
    if (!text.ok()) return text.status();
    req.set_task_json(*std::move(text));
    if (task.ok()) out.task = *std::move(task);
  } else {
    if (!task.ok()) return task.status();
    *req.mutable_task() = TaskToProto(*task);
    out.task = *std::move(task);
  }
  req.set_task_id(!options.task_id.empty() ? options.task_id
                                           : std::filesystem::path(path).stem().string());
  req.set_request_id(options.request_id.empty() ? NewRequestId() : options.request_id);
  *req.mutable_options() = options.solve_options;
  return out;
}

v1::SolveRequest RequestForTask(const CliOptions& options, const Task& task) {
  v1::SolveRequest req;
  *req.mutable_task() = TaskToProto(task);
  req.set_task_id(task.id);
  req.set_request_id(NewRequestId());
  *req.mutable_options() = options.solve_options;
  return req;
}

int RunSolve(const CliOptions& options, Connection& connection, Terminal& term) {
  absl::StatusOr<TaskRequest> tr = BuildTaskRequest(options, options.args[0]);
  if (!tr.ok()) {
    term.err << "arc-client: " << tr.status().message() << "\n";
    return kExitUsage;
  }
  const Task* task = tr->task ? &*tr->task : nullptr;
  if (options.stream) {
    std::optional<v1::SolveResponse> result;
    std::optional<v1::JobError> job_error;
    const grpc::Status status = StreamEvents(
        connection, options,
        [&](grpc::ClientContext& ctx) {
          return connection.solver().SolveStream(&ctx, tr->request);
        },
        result, job_error, term);
    return FinishStream(options, "SolveStream", status, result, job_error, task, term);
  }
  v1::SolveResponse response;
  if (!CallOrReport(options, connection, term, "Solve", [&](grpc::ClientContext& ctx) {
        response.Clear();
        return connection.solver().Solve(&ctx, tr->request, &response);
      })) {
    return kExitFailure;
  }
  return PrintResult(options, response, task, term);
}

int RunSubmit(const CliOptions& options, Connection& connection, Terminal& term) {
  absl::StatusOr<TaskRequest> tr = BuildTaskRequest(options, options.args[0]);
  if (!tr.ok()) {
    term.err << "arc-client: " << tr.status().message() << "\n";
    return kExitUsage;
  }
  v1::Job job;
  if (!CallOrReport(options, connection, term, "SubmitTask", [&](grpc::ClientContext& ctx) {
        return connection.solver().SubmitTask(&ctx, tr->request, &job);
      })) {
    return kExitFailure;
  }
  term.out << (options.json ? ToJson(job) + "\n" : FormatJob(job));
  return kExitOk;
}

int RunGet(const CliOptions& options, Connection& connection, Terminal& term) {
  v1::GetJobRequest req;
  req.set_job_id(options.args[0]);
  v1::Job job;
  if (!CallOrReport(options, connection, term, "GetJob", [&](grpc::ClientContext& ctx) {
        return connection.solver().GetJob(&ctx, req, &job);
      })) {
    return kExitFailure;
  }
  if (options.json) {
    term.out << ToJson(job) << "\n";
    return kExitOk;
  }
  term.out << FormatJob(job);
  if (job.has_result()) {
    term.out << "\n" << FormatSolveResponse(job.result(), nullptr, RenderOptionsFor(options, term));
  }
  return kExitOk;
}

int RunWatch(const CliOptions& options, Connection& connection, Terminal& term) {
  v1::WatchJobRequest req;
  req.set_job_id(options.args[0]);
  std::optional<v1::SolveResponse> result;
  std::optional<v1::JobError> job_error;
  const grpc::Status status = StreamEvents(
      connection, options,
      [&](grpc::ClientContext& ctx) { return connection.solver().WatchJob(&ctx, req); }, result,
      job_error, term);
  return FinishStream(options, "WatchJob", status, result, job_error, nullptr, term);
}

int RunCancel(const CliOptions& options, Connection& connection, Terminal& term) {
  v1::CancelJobRequest req;
  req.set_job_id(options.args[0]);
  v1::Job job;
  if (!CallOrReport(options, connection, term, "CancelJob", [&](grpc::ClientContext& ctx) {
        return connection.solver().CancelJob(&ctx, req, &job);
      })) {
    return kExitFailure;
  }
  term.out << (options.json ? ToJson(job) + "\n" : FormatJob(job));
  return kExitOk;
}

int RunList(const CliOptions& options, Connection& connection, Terminal& term) {
  v1::ListJobsRequest req;
  req.set_state(options.state);
  req.set_limit(options.limit);
  v1::ListJobsResponse resp;
  if (!CallOrReport(options, connection, term, "ListJobs", [&](grpc::ClientContext& ctx) {
        return connection.solver().ListJobs(&ctx, req, &resp);
      })) {
    return kExitFailure;
  }
  term.out << (options.json ? ToJson(resp) + "\n" : FormatJobList(resp));
  return kExitOk;
}

int RunInfo(const CliOptions& options, Connection& connection, Terminal& term) {
  v1::GetServerInfoRequest req;
  v1::ServerInfo info;
  if (!CallOrReport(options, connection, term, "GetServerInfo", [&](grpc::ClientContext& ctx) {
        return connection.solver().GetServerInfo(&ctx, req, &info);
      })) {
    return kExitFailure;
  }
  term.out << (options.json ? ToJson(info) + "\n" : FormatServerInfo(info));
  return kExitOk;
}

int RunHealth(const CliOptions& options, Connection& connection, Terminal& term) {
  grpc::health::v1::HealthCheckRequest req;
  req.set_service(options.service);
  grpc::health::v1::HealthCheckResponse resp;
  // A server that is not serving answers the check, so only transport failures are retried.
  if (!CallOrReport(options, connection, term, "health Check", [&](grpc::ClientContext& ctx) {
        return connection.health().Check(&ctx, req, &resp);
      })) {
    return kExitFailure;
  }
  term.out << grpc::health::v1::HealthCheckResponse::ServingStatus_Name(resp.status()) << "\n";
  return resp.status() == grpc::health::v1::HealthCheckResponse::SERVING ? kExitOk
                                                                         : kExitNotServing;
}

int RunLoad(const CliOptions& options, Connection& connection, Terminal& term) {
  absl::StatusOr<TaskRequest> tr = BuildTaskRequest(options, options.args[0]);
  if (!tr.ok()) {
    term.err << "arc-client: " << tr.status().message() << "\n";
    return kExitUsage;
  }
  LoadOptions lo;
  lo.concurrency = options.concurrency;
  lo.total = options.total;
  lo.duration = absl::Seconds(options.duration_seconds);
  lo.rate = options.rate;
  const absl::Duration timeout =
      absl::Seconds(options.deadline_seconds.value_or(DefaultDeadlineSeconds("load")));
  term.err << "load: Solve on " << connection.target().address << ", concurrency " << lo.concurrency
           << ", "
           << (lo.total > 0 ? absl::StrCat(lo.total, " calls")
                            : absl::StrCat(options.duration_seconds, " s"))
           << (lo.rate > 0 ? absl::StrCat(", ", lo.rate, " calls/s") : std::string()) << "\n";
  // No retries: the report is about what the server answers to each call. Every call gets its own
  // request id, or the server would return one job for all of them.
  const LoadReport report = client::RunLoad(lo, [&]() {
    v1::SolveRequest req = tr->request;
    req.set_request_id(NewRequestId());
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
    v1::SolveResponse resp;
    return connection.solver().Solve(&ctx, req, &resp);
  });
  term.out << FormatLoadReport(report);
  const auto ok = report.codes.find(0);
  const int64_t ok_count = ok == report.codes.end() ? 0 : ok->second;
  return ok_count == report.count ? kExitOk : kExitFailure;
}

int RunCommand(const CliOptions& options, Connection& connection, Terminal& term) {
  const std::string& c = options.command;
  if (c == "solve") return RunSolve(options, connection, term);
  if (c == "eval") return RunEval(options, connection, term);
  if (c == "submit") return RunSubmit(options, connection, term);
  if (c == "get") return RunGet(options, connection, term);
  if (c == "watch") return RunWatch(options, connection, term);
  if (c == "cancel") return RunCancel(options, connection, term);
  if (c == "list") return RunList(options, connection, term);
  if (c == "info") return RunInfo(options, connection, term);
  if (c == "health") return RunHealth(options, connection, term);
  if (c == "load") return RunLoad(options, connection, term);
  term.err << "arc-client: unknown command \"" << c << "\"\n";
  return kExitUsage;
}

}  // namespace arc::client
