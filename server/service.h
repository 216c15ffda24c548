// ArcSolverService: the arc.v1.ArcSolver gRPC service (proto/arc/v1/arc_solver.proto), on the
// callback API. Handlers validate and convert the request (server/proto_conversion.h), then submit,
// look up, watch or cancel jobs through the JobManager; they never run model code.
//
//   Solve          SolveReactor: submit (attached), wait for the job's last event, answer. The
//                  call's deadline or cancellation detaches it, which cancels the job when no other
//                  caller waits for it (DEADLINE_EXCEEDED or CANCELLED).
//   SolveStream    SolveStreamReactor: submit (attached) and stream every event of the job; the
//                  stream ends with the job's status (an error event precedes a non-OK status).
//   WatchJob       WatchJobReactor: stream an existing job's events from now; OK at the end
//                  whatever the job's outcome (the last event carries it).
//   SubmitTask, GetJob, CancelJob, ListJobs, GetServerInfo: unary, answered at once.
// A request's request_id (or, when empty, its "x-request-id" metadata) makes retries idempotent.
// Identity and ownership (server/auth.h): every ArcSolver call is identified first (UNAUTHENTICATED
// without a valid token when tokens are configured); jobs belong to their submitter, and GetJob,
// WatchJob, CancelJob and ListJobs see only the caller's jobs (another identity's job is
// NOT_FOUND). Job requests are priced before admission (server/admission.h).
// Every RPC is counted in arc_requests_total and arc_request_duration_seconds with its final code.
//
// Readiness: until the model is loaded, job-creating calls and GetServerInfo answer UNAVAILABLE;
// while draining, new jobs are refused with UNAVAILABLE (the JobManager's admission) and everything
// else keeps working, so clients can still fetch the results of jobs that finish during the drain.
//
// Thread-safety: gRPC calls the handlers and reactions from its own threads; the service's state is
// atomic or behind a mutex, and every reactor guards its own.
#ifndef ARC_SERVER_SERVICE_H_
#define ARC_SERVER_SERVICE_H_

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "arc/v1/arc_solver.grpc.pb.h"
#include "server/admission.h"
#include "server/auth.h"
#include "server/job_manager.h"
#include "server/metrics.h"
#include "server/server_options.h"

namespace arc::server {

class ArcSolverService final : public v1::ArcSolver::CallbackService {
 public:
  // `options`, `jobs`, `metrics` and `auth` must outlive the service; a null `auth` makes every
  // caller anonymous.
  ArcSolverService(const ServerOptions* options, JobManager* jobs, Metrics* metrics,
                   const Authenticator* auth = nullptr);

  // The model is loaded and warm: GetServerInfo answers `info`, job requests are priced by `costs`
  // (null: not priced). (Admission of jobs is the JobManager's: closed until the server starts
  // admitting, closed again when draining.)
  void SetReady(v1::ServerInfo info, std::unique_ptr<const JobCostModel> costs = nullptr);
  bool ready() const { return ready_.load(); }

  grpc::ServerUnaryReactor* Solve(grpc::CallbackServerContext* context,
                                  const v1::SolveRequest* request,
                                  v1::SolveResponse* response) override;
  grpc::ServerWriteReactor<v1::SolveEvent>* SolveStream(grpc::CallbackServerContext* context,
                                                        const v1::SolveRequest* request) override;
  grpc::ServerUnaryReactor* SubmitTask(grpc::CallbackServerContext* context,
                                       const v1::SolveRequest* request, v1::Job* response) override;
  grpc::ServerUnaryReactor* GetJob(grpc::CallbackServerContext* context,
                                   const v1::GetJobRequest* request, v1::Job* response) override;
  grpc::ServerWriteReactor<v1::SolveEvent>* WatchJob(grpc::CallbackServerContext* context,
                                                     const v1::WatchJobRequest* request) override;
  grpc::ServerUnaryReactor* CancelJob(grpc::CallbackServerContext* context,
                                      const v1::CancelJobRequest* request,
                                      v1::Job* response) override;
  grpc::ServerUnaryReactor* ListJobs(grpc::CallbackServerContext* context,
                                     const v1::ListJobsRequest* request,
                                     v1::ListJobsResponse* response) override;
  grpc::ServerUnaryReactor* GetServerInfo(grpc::CallbackServerContext* context,
                                          const v1::GetServerInfoRequest* request,
                                          v1::ServerInfo* response) override;

  // For the reactors (service.cc).
  // The caller's identity (server/auth.h); UNAUTHENTICATED without a valid token when required.
  absl::StatusOr<std::string> Identify(const grpc::CallbackServerContext& context) const;
  // Identifies the caller, validates and resolves the request, and prices it (RESOURCE_EXHAUSTED
  // over the cost limits, server/admission.h).
  absl::StatusOr<JobSpec> MakeSpec(grpc::CallbackServerContext& context,
                                   const v1::SolveRequest& request) const;
  JobManager& jobs() { return *jobs_; }
  void RecordRequest(absl::string_view method, grpc::StatusCode code, absl::Time start);

 private:
  // Finishes a unary call on the default reactor.
  grpc::ServerUnaryReactor* Answer(grpc::CallbackServerContext* context, absl::string_view method,
                                   absl::Time start, const absl::Status& status);

  const ServerOptions* const options_;
  JobManager* const jobs_;
  Metrics* const metrics_;
  const Authenticator* const auth_;
  std::atomic<bool> ready_{false};
  mutable absl::Mutex info_mu_;
  v1::ServerInfo info_ ABSL_GUARDED_BY(info_mu_);
  // Set once by SetReady, then only read (the pointer is copied under the lock).
  std::unique_ptr<const JobCostModel> costs_ ABSL_GUARDED_BY(info_mu_);
};

}  // namespace arc::server

#endif  // ARC_SERVER_SERVICE_H_
