#include "server/service.h"

#include <chrono>
#include <deque>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "core/data/status_macros.h"
#include "server/logger.h"
#include "server/proto_conversion.h"
#include "server/status_conversion.h"

namespace arc::server {
namespace {

constexpr size_t kMaxRequestIdBytes = 128;
constexpr size_t kMaxTaskIdBytes = 256;

// Why a call ended early, as seen from the server: its deadline passed, or the client went away.
// The client's own timer usually fires first and cancels the call, a moment before the server's
// copy of the deadline (which counts from the request's arrival) has passed: hence the slack.
absl::Status CallEndedReason(const grpc::CallbackServerContext& context) {
  if (context.deadline() <= std::chrono::system_clock::now() + std::chrono::milliseconds(250)) {
    return absl::DeadlineExceededError("the caller's deadline passed");
  }
  return absl::CancelledError("the caller cancelled the call");
}

// The status a job's last event stands for.
absl::Status StatusOfEvent(const v1::SolveEvent& event) {
  if (!event.has_error()) return absl::OkStatus();
  return absl::Status(FromGrpcCode(static_cast<grpc::StatusCode>(event.error().code())),
                      event.error().message());
}

// Connects a reactor to the JobManager's watcher list. The manager holds the link (shared), the
// reactor holds it too and cuts it in OnDone before deleting itself, so no event reaches a deleted
// reactor. The link's mutex is held while the reactor handles an event; reactors only queue work
// for gRPC there (gRPC runs reactions on its own threads, never inside StartWrite/Finish).
template <typename Reactor>
class ReactorLink final : public JobWatcher {
 public:
  explicit ReactorLink(Reactor* reactor) : reactor_(reactor) {}
  void OnEvent(const v1::SolveEvent& event, bool last) override {
    absl::MutexLock lock(&mu_);
    if (reactor_ != nullptr) reactor_->OnJobEvent(event, last);
  }
  void Cut() {
    absl::MutexLock lock(&mu_);
    reactor_ = nullptr;
  }
  // A reactor's OnDone, before it deletes itself: cut first, because the manager may still deliver
  // an event until Unwatch returns.
  void Disconnect(JobManager& jobs, const std::shared_ptr<Job>& job) {
    Cut();
    jobs.Unwatch(job, this);
  }

 private:
  absl::Mutex mu_;
  Reactor* reactor_ ABSL_GUARDED_BY(mu_);
};

// Solve: submit, wait for the job's last event, answer with its result or status.
class SolveReactor final : public grpc::ServerUnaryReactor {
 public:
  SolveReactor(ArcSolverService* service, grpc::CallbackServerContext* context,
               const v1::SolveRequest* request, v1::SolveResponse* response)
      : service_(service), context_(context), response_(response), start_(absl::Now()) {
    absl::StatusOr<JobSpec> spec = service_->MakeSpec(*context_, *request);
    if (!spec.ok()) {
      FinishOnce(spec.status());
      return;
    }
    link_ = std::make_shared<ReactorLink<SolveReactor>>(this);
    absl::StatusOr<std::shared_ptr<Job>> job =
        service_->jobs().Submit(std::move(*spec), JobManager::Mode::kAttached, link_);
    if (!job.ok()) {
      link_.reset();
      FinishOnce(job.status());
      return;
    }
    job_ = std::move(*job);
  }

  void OnJobEvent(const v1::SolveEvent& event, bool last) {
    if (!last || finished_.exchange(true)) return;
    if (event.has_result()) *response_ = event.result();
    Conclude(StatusOfEvent(event));
  }

  void OnCancel() override {
    const absl::Status reason = CallEndedReason(*context_);
    if (job_) service_->jobs().Detach(job_, reason);
    FinishOnce(reason);
  }

  void OnDone() override {
    if (link_) link_->Disconnect(service_->jobs(), job_);
    delete this;
  }

 private:
  void FinishOnce(const absl::Status& status) {
    if (finished_.exchange(true)) return;
    Conclude(status);
  }
  // Counted before the status goes out, so that a client that has its answer sees it counted.
  void Conclude(const absl::Status& status) {
    service_->RecordRequest("Solve", ToGrpcCode(status.code()), start_);
    AddRetryTrailer(status, *context_);
    Finish(ToGrpcStatus(status));
  }

  ArcSolverService* const service_;
  grpc::CallbackServerContext* const context_;
  v1::SolveResponse* const response_;
  const absl::Time start_;
  std::shared_ptr<Job> job_;
  std::shared_ptr<ReactorLink<SolveReactor>> link_;
  std::atomic<bool> finished_{false};
};

// Writes a job's events to a server stream, one write in flight at a time. Progress events that
// pile up behind a slow reader are coalesced (only the newest of a run is kept); phase changes,
// queue positions and the last event are never dropped.
class EventStreamReactor : public grpc::ServerWriteReactor<v1::SolveEvent> {
 public:
  void OnJobEvent(const v1::SolveEvent& event, bool last) {
    absl::MutexLock lock(&mu_);
    if (finished_ || cancelled_) return;
    const bool progress = event.has_ttt_progress() || event.has_inference_progress();
    if (progress && !pending_.empty() && pending_.back().event_case() == event.event_case()) {
      pending_.back() = event;
    } else {
      pending_.push_back(event);
    }
    if (last) {
      got_last_ = true;
      final_status_ = status_from_job_ ? StatusOfEvent(event) : absl::OkStatus();
    }
    PumpLocked();
  }

  void OnWriteDone(bool ok) override {
    absl::MutexLock lock(&mu_);
    writing_ = false;
    if (!ok) {
      // The stream is broken (client gone); OnCancel says why.
      if (!finished_) FinishLocked(absl::CancelledError("the stream was closed"));
      return;
    }
    PumpLocked();
  }

  void OnCancel() override {
    const absl::Status reason = CallEndedReason(*context_);
    OnCallEnded(reason);
    absl::MutexLock lock(&mu_);
    cancelled_ = true;
    cancel_reason_ = reason;
    pending_.clear();
    if (!writing_ && !finished_) FinishLocked(reason);
  }

  void OnDone() override {
    if (link_) link_->Disconnect(service_->jobs(), job_);
    delete this;
  }

 protected:
  EventStreamReactor(ArcSolverService* service, grpc::CallbackServerContext* context,
                     const char* method, bool status_from_job)
      : service_(service),
        context_(context),
        method_(method),
        status_from_job_(status_from_job),
        start_(absl::Now()) {}

  // Submits `spec` and follows the job from its admission on.
  void SubmitAndFollow(JobSpec spec) {
    link_ = std::make_shared<ReactorLink<EventStreamReactor>>(this);
    absl::StatusOr<std::shared_ptr<Job>> job =
        service_->jobs().Submit(std::move(spec), JobManager::Mode::kAttached, link_);
    if (!job.ok()) {
      link_.reset();
      FinishEarly(job.status());
      return;
    }
    job_ = std::move(*job);
  }
  // Follows an existing job; its current state arrives as the first event.
  void Follow(std::shared_ptr<Job> job) {
    job_ = std::move(job);
    link_ = std::make_shared<ReactorLink<EventStreamReactor>>(this);
    service_->jobs().Watch(job_, link_);
  }
  // Ends the call before any event (bad request, refused, unknown job).
  void FinishEarly(const absl::Status& status) {
    absl::MutexLock lock(&mu_);
    AddRetryTrailer(status, *context_);
    FinishLocked(status);
  }
  // The call ended before the job (deadline or cancellation).
  virtual void OnCallEnded(const absl::Status& reason) {}

  ArcSolverService* const service_;
  grpc::CallbackServerContext* const context_;
  std::shared_ptr<Job> job_;

 private:
  void PumpLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (finished_ || writing_) return;
    if (cancelled_) {
      FinishLocked(cancel_reason_);
      return;
    }
    if (pending_.empty()) {
      if (got_last_) FinishLocked(final_status_);
      return;
    }
    current_ = std::move(pending_.front());
    pending_.pop_front();
    if (pending_.empty() && got_last_) {
      finished_ = true;
      service_->RecordRequest(method_, ToGrpcCode(final_status_.code()), start_);
      StartWriteAndFinish(&current_, grpc::WriteOptions(), ToGrpcStatus(final_status_));
      return;
    }
    writing_ = true;
    StartWrite(&current_);
  }

  void FinishLocked(const absl::Status& status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    finished_ = true;
    service_->RecordRequest(method_, ToGrpcCode(status.code()), start_);
    Finish(ToGrpcStatus(status));
  }

  const char* const method_;
  const bool status_from_job_;  // SolveStream ends with the job's status, WatchJob with OK
  const absl::Time start_;
  std::shared_ptr<ReactorLink<EventStreamReactor>> link_;
  absl::Mutex mu_;
  std::deque<v1::SolveEvent> pending_ ABSL_GUARDED_BY(mu_);
  v1::SolveEvent current_ ABSL_GUARDED_BY(mu_);  // the write in flight
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool got_last_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status final_status_ ABSL_GUARDED_BY(mu_);
  absl::Status cancel_reason_ ABSL_GUARDED_BY(mu_);
};

// SolveStream: submit and stream the job's events; the job's status ends the stream.
class SolveStreamReactor final : public EventStreamReactor {
 public:
  SolveStreamReactor(ArcSolverService* service, grpc::CallbackServerContext* context,
                     const v1::SolveRequest* request)
      : EventStreamReactor(service, context, "SolveStream", /*status_from_job=*/true) {
    absl::StatusOr<JobSpec> spec = service_->MakeSpec(*context_, *request);
    if (!spec.ok()) {
      FinishEarly(spec.status());
      return;
    }
    SubmitAndFollow(std::move(*spec));
  }

 private:
  void OnCallEnded(const absl::Status& reason) override {
    if (job_) service_->jobs().Detach(job_, reason);
  }
};

// WatchJob: stream an existing job's events from now on.
class WatchJobReactor final : public EventStreamReactor {
 public:
  WatchJobReactor(ArcSolverService* service, grpc::CallbackServerContext* context,
                  const v1::WatchJobRequest* request)
      : EventStreamReactor(service, context, "WatchJob", /*status_from_job=*/false) {
    absl::StatusOr<std::string> owner = service_->Identify(*context_);
    if (!owner.ok()) {
      FinishEarly(owner.status());
      return;
    }
    absl::StatusOr<std::shared_ptr<Job>> job = service_->jobs().Find(request->job_id(), *owner);
    if (!job.ok()) {
      FinishEarly(job.status());
      return;
    }
    Follow(std::move(*job));
  }
};

}  // namespace

ArcSolverService::ArcSolverService(const ServerOptions* options, JobManager* jobs, Metrics* metrics,
                                   const Authenticator* auth)
    : options_(options), jobs_(jobs), metrics_(metrics), auth_(auth) {}

void ArcSolverService::SetReady(v1::ServerInfo info, std::unique_ptr<const JobCostModel> costs) {
  {
    absl::MutexLock lock(&info_mu_);
    info_ = std::move(info);
    costs_ = std::move(costs);
  }
  ready_.store(true);
}

absl::StatusOr<std::string> ArcSolverService::Identify(
    const grpc::CallbackServerContext& context) const {
  if (auth_ == nullptr) return std::string(kAnonymousIdentity);
  absl::StatusOr<std::string> who = auth_->Identify(context);
  if (!who.ok()) {
    LogLine(LogLevel::kWarning, "unauthenticated")
        .Add("peer", context.peer())
        .Add("error", who.status().message());
  }
  return who;
}

void ArcSolverService::RecordRequest(absl::string_view method, grpc::StatusCode code,
                                     absl::Time start) {
  metrics_->ObserveRequest(method, GrpcCodeName(code), absl::ToDoubleSeconds(absl::Now() - start));
}

grpc::ServerUnaryReactor* ArcSolverService::Answer(grpc::CallbackServerContext* context,
                                                   absl::string_view method, absl::Time start,
                                                   const absl::Status& status) {
  AddRetryTrailer(status, *context);
  RecordRequest(method, ToGrpcCode(status.code()), start);
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(ToGrpcStatus(status));
  return reactor;
}

absl::StatusOr<JobSpec> ArcSolverService::MakeSpec(grpc::CallbackServerContext& context,
                                                   const v1::SolveRequest& request) const {
  JobSpec spec;
  ARC_ASSIGN_OR_RETURN(spec.owner, Identify(context));
  spec.request_id = request.request_id();
  if (spec.request_id.empty()) {
    // ghz and other tools set ids as metadata: -m '{"x-request-id":"{{.UUID}}"}'.
    const auto& md = context.client_metadata();
    auto it = md.find("x-request-id");
    if (it != md.end()) spec.request_id.assign(it->second.data(), it->second.size());
  }
  if (spec.request_id.size() > kMaxRequestIdBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("request_id: ", spec.request_id.size(), " bytes, limit ", kMaxRequestIdBytes));
  }
  if (request.task_id().size() > kMaxTaskIdBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("task_id: ", request.task_id().size(), " bytes, limit ", kMaxTaskIdBytes));
  }
  ARC_ASSIGN_OR_RETURN(spec.task, TaskFromRequest(request, options_->task_limits));
  ARC_ASSIGN_OR_RETURN(
      spec.options, ResolveSolveOptions(request.options(), options_->defaults, options_->limits));
  // The cost bounds (server/admission.h); before the model is loaded the JobManager refuses anyway.
  const JobCostModel* costs = nullptr;
  {
    absl::MutexLock lock(&info_mu_);
    costs = costs_.get();
  }
  if (costs != nullptr) {
    const JobCost cost = costs->Estimate(spec.task, spec.options);
    ARC_RETURN_IF_ERROR(AdmitJobCost(cost, options_->costs));
    LogLine(LogLevel::kDebug, "job_cost").Add("owner", spec.owner).Add("cost", cost.Describe());
  }
  return spec;
}

grpc::ServerUnaryReactor* ArcSolverService::Solve(grpc::CallbackServerContext* context,
                                                  const v1::SolveRequest* request,
                                                  v1::SolveResponse* response) {
  return new SolveReactor(this, context, request, response);
}

grpc::ServerWriteReactor<v1::SolveEvent>* ArcSolverService::SolveStream(
    grpc::CallbackServerContext* context, const v1::SolveRequest* request) {
  return new SolveStreamReactor(this, context, request);
}

grpc::ServerUnaryReactor* ArcSolverService::SubmitTask(grpc::CallbackServerContext* context,
                                                       const v1::SolveRequest* request,
                                                       v1::Job* response) {
  const absl::Time start = absl::Now();
  absl::StatusOr<JobSpec> spec = MakeSpec(*context, *request);
  if (!spec.ok()) return Answer(context, "SubmitTask", start, spec.status());
  absl::StatusOr<std::shared_ptr<Job>> job =
      jobs_->Submit(std::move(*spec), JobManager::Mode::kDetached);
  if (!job.ok()) return Answer(context, "SubmitTask", start, job.status());
  *response = (*job)->ToProto(/*with_result=*/false);
  return Answer(context, "SubmitTask", start, absl::OkStatus());
}

grpc::ServerUnaryReactor* ArcSolverService::GetJob(grpc::CallbackServerContext* context,
                                                   const v1::GetJobRequest* request,
                                                   v1::Job* response) {
  const absl::Time start = absl::Now();
  absl::StatusOr<std::string> owner = Identify(*context);
  if (!owner.ok()) return Answer(context, "GetJob", start, owner.status());
  absl::StatusOr<std::shared_ptr<Job>> job = jobs_->Find(request->job_id(), *owner);
  if (!job.ok()) return Answer(context, "GetJob", start, job.status());
  *response = (*job)->ToProto(/*with_result=*/true);
  return Answer(context, "GetJob", start, absl::OkStatus());
}

grpc::ServerWriteReactor<v1::SolveEvent>* ArcSolverService::WatchJob(
    grpc::CallbackServerContext* context, const v1::WatchJobRequest* request) {
  return new WatchJobReactor(this, context, request);
}

grpc::ServerUnaryReactor* ArcSolverService::CancelJob(grpc::CallbackServerContext* context,
                                                      const v1::CancelJobRequest* request,
                                                      v1::Job* response) {
  const absl::Time start = absl::Now();
  absl::StatusOr<std::string> owner = Identify(*context);
  if (!owner.ok()) return Answer(context, "CancelJob", start, owner.status());
  absl::StatusOr<std::shared_ptr<Job>> job = jobs_->Find(request->job_id(), *owner);
  if (!job.ok()) return Answer(context, "CancelJob", start, job.status());
  jobs_->Cancel(*job, absl::CancelledError("cancelled by CancelJob"));
  *response = (*job)->ToProto(/*with_result=*/false);
  LogLine(LogLevel::kInfo, "job_cancel_requested")
      .Add("job_id", (*job)->id())
      .Add("owner", *owner)
      .Add("peer", context->peer());
  return Answer(context, "CancelJob", start, absl::OkStatus());
}

grpc::ServerUnaryReactor* ArcSolverService::ListJobs(grpc::CallbackServerContext* context,
                                                     const v1::ListJobsRequest* request,
                                                     v1::ListJobsResponse* response) {
  const absl::Time start = absl::Now();
  absl::StatusOr<std::string> owner = Identify(*context);
  if (!owner.ok()) return Answer(context, "ListJobs", start, owner.status());
  if (!v1::JobState_IsValid(request->state())) {
    return Answer(context, "ListJobs", start,
                  absl::InvalidArgumentError(absl::StrCat(
                      "state: ", static_cast<int>(request->state()), " is not a JobState value")));
  }
  if (request->limit() < 0) {
    return Answer(context, "ListJobs", start,
                  absl::InvalidArgumentError(
                      absl::StrCat("limit: ", request->limit(), " is negative (0 = the maximum)")));
  }
  const int limit = request->limit() == 0 ? options_->list_jobs_limit
                                          : std::min(request->limit(), options_->list_jobs_limit);
  for (const std::shared_ptr<Job>& job : jobs_->List(request->state(), limit, *owner)) {
    *response->add_jobs() = job->ToProto(/*with_result=*/false);
  }
  return Answer(context, "ListJobs", start, absl::OkStatus());
}

grpc::ServerUnaryReactor* ArcSolverService::GetServerInfo(grpc::CallbackServerContext* context,
                                                          const v1::GetServerInfoRequest* request,
                                                          v1::ServerInfo* response) {
  const absl::Time start = absl::Now();
  if (absl::StatusOr<std::string> owner = Identify(*context); !owner.ok()) {
    return Answer(context, "GetServerInfo", start, owner.status());
  }
  if (!ready_.load()) {
    return Answer(context, "GetServerInfo", start,
                  absl::UnavailableError("server is not ready: the model is loading"));
  }
  {
    absl::MutexLock lock(&info_mu_);
    *response = info_;
  }
  return Answer(context, "GetServerInfo", start, absl::OkStatus());
}

}  // namespace arc::server
