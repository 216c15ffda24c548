#include "server/job_manager.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "server/auth.h"
#include "server/logger.h"
#include "server/proto_conversion.h"
#include "server/status_conversion.h"

namespace arc::server {
namespace {

int64_t UnixMillis(absl::Time t) { return t == absl::InfinitePast() ? 0 : absl::ToUnixMillis(t); }

JobOutcome OutcomeOf(const absl::Status& s, bool cancelled) {
  if (s.ok()) return JobOutcome::kSucceeded;
  if (s.code() == absl::StatusCode::kDeadlineExceeded) return JobOutcome::kDeadlineExceeded;
  if (cancelled || s.code() == absl::StatusCode::kCancelled) return JobOutcome::kCancelled;
  return JobOutcome::kFailed;
}

// Request ids are per owner: the key joins both with a byte neither may contain.
std::string RequestKey(const std::string& owner, const std::string& request_id) {
  return absl::StrCat(owner, std::string(1, '\0'), request_id);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Job

Job::Job(std::string id, uint64_t seq, JobSpec spec, absl::Time created)
    : id_(std::move(id)),
      owner_(std::move(spec.owner)),
      seq_(seq),
      request_id_(std::move(spec.request_id)),
      task_(std::move(spec.task)),
      options_(std::move(spec.options)),
      task_hash_(ContentHash(task_)),
      created_(created) {}

bool Job::done() const {
  absl::MutexLock lock(&mu_);
  return finished_ != absl::InfinitePast();
}

absl::Status Job::status() const {
  absl::MutexLock lock(&mu_);
  return status_;
}

v1::Job Job::ToProto(bool with_result) const {
  v1::Job j;
  j.set_job_id(id_);
  j.set_request_id(request_id_);
  j.set_task_id(task_.id);
  j.set_task_hash(task_hash_);
  j.set_created_unix_ms(UnixMillis(created_));
  absl::MutexLock lock(&mu_);
  j.set_state(state_);
  j.set_phase(phase_);
  j.set_started_unix_ms(UnixMillis(started_));
  j.set_finished_unix_ms(UnixMillis(finished_));
  if (state_ == v1::JOB_STATE_SUCCEEDED && with_result) *j.mutable_result() = result_;
  if (state_ == v1::JOB_STATE_FAILED || state_ == v1::JOB_STATE_CANCELLED) {
    j.mutable_error()->set_code(static_cast<int>(status_.code()));
    j.mutable_error()->set_message(std::string(status_.message()));
  }
  return j;
}

void Job::Emit(const v1::SolveEvent& event, bool last) {
  for (const std::shared_ptr<JobWatcher>& w : watchers_) w->OnEvent(event, last);
}

Job::Times Job::TimesAt(absl::Time now, bool ran) const {
  const absl::Time started = ran ? started_ : now;
  return {absl::ToDoubleSeconds(started - created_), absl::ToDoubleSeconds(now - created_),
          absl::ToDoubleSeconds(now - started)};
}

v1::SolveEvent Job::FinalEvent() const {
  v1::SolveEvent e;
  e.set_job_id(id_);
  if (status_.ok()) {
    *e.mutable_result() = result_;
  } else {
    e.mutable_error()->set_code(static_cast<int>(status_.code()));
    e.mutable_error()->set_message(std::string(status_.message()));
  }
  return e;
}

// ---------------------------------------------------------------------------------------------
// JobManager

JobManager::JobManager(JobManagerOptions options, Metrics* metrics)
    : options_(options), metrics_(metrics) {
  metrics_->queue_capacity().Set(options_.queue_capacity);
}

JobManager::~JobManager() { Close(); }

absl::StatusOr<std::shared_ptr<Job>> JobManager::Submit(JobSpec spec, Mode mode,
                                                        std::shared_ptr<JobWatcher> watcher) {
  const std::string hash = ContentHash(spec.task);
  absl::MutexLock lock(&mu_);
  const absl::Time now = absl::Now();
  Purge(now);
  const std::string request_key = RequestKey(spec.owner, spec.request_id);
  if (!spec.request_id.empty()) {
    auto it = by_request_id_.find(request_key);
    if (it != by_request_id_.end()) {
      std::shared_ptr<Job> existing = it->second;
      bool reuse = false;
      {
        absl::MutexLock job_lock(&existing->mu_);
        if (existing->state_ != v1::JOB_STATE_CANCELLED) {
          if (existing->task_hash_ != hash) {
            return absl::InvalidArgumentError(absl::StrCat(
                "request_id: \"", spec.request_id, "\" belongs to job ", existing->id_,
                " for another task (hash ", existing->task_hash_, ", this one ", hash, ")"));
          }
          if (mode == Mode::kDetached) {
            existing->detached_ = true;
          } else if (existing->finished_ == absl::InfinitePast()) {
            ++existing->attached_;
          }
          reuse = true;
        }
      }
      if (reuse) {
        if (watcher) WatchLocked(existing, std::move(watcher));
        return existing;
      }
      // A cancelled job does not pin its request id: the retry starts afresh below.
    }
  }
  if (!admission_.ok()) return admission_;
  if (static_cast<int>(queue_.size()) >= options_.queue_capacity) {
    const absl::Duration delay = RetryDelay();
    absl::Status s = absl::ResourceExhaustedError(absl::StrCat(
        "queue full: ", queue_.size(), " jobs waiting (capacity ", options_.queue_capacity, "), ",
        running_, " running; retry after ", absl::ToInt64Milliseconds(delay), " ms"));
    SetRetryAfter(s, delay);
    return s;
  }
  const uint64_t seq = next_seq_++;
  // 128 random bits: unguessable, and an id from before a restart is NOT_FOUND, not another job.
  std::string id = NewJobId();
  while (jobs_.contains(id)) id = NewJobId();
  auto job = std::make_shared<Job>(std::move(id), seq, std::move(spec), now);
  {
    absl::MutexLock job_lock(&job->mu_);
    job->attached_ = mode == Mode::kAttached ? 1 : 0;
    job->detached_ = mode == Mode::kDetached;
  }
  jobs_[job->id()] = job;
  if (!job->request_id().empty()) by_request_id_[request_key] = job;
  queue_.push_back(job);
  UpdateGauges();
  if (watcher) WatchLocked(job, std::move(watcher));
  LogLine(LogLevel::kDebug, "job_queued")
      .Add("job_id", job->id())
      .Add("request_id", job->request_id())
      .Add("task_id", job->task().id)
      .Add("task_hash", job->task_hash())
      .Add("position", static_cast<int64_t>(queue_.size() - 1));
  return job;
}

absl::StatusOr<std::shared_ptr<Job>> JobManager::Find(const std::string& id,
                                                      const std::string& owner) {
  absl::MutexLock lock(&mu_);
  Purge(absl::Now());
  auto it = jobs_.find(id);
  if (it == jobs_.end() || it->second->owner() != owner) {
    return absl::NotFoundError(absl::StrCat("job_id: no job \"", id, "\" (unknown or expired)"));
  }
  return it->second;
}

std::vector<std::shared_ptr<Job>> JobManager::List(v1::JobState state, int limit,
                                                   const std::string& owner) {
  std::vector<std::shared_ptr<Job>> out;
  {
    absl::MutexLock lock(&mu_);
    Purge(absl::Now());
    for (const auto& [id, job] : jobs_) {
      if (job->owner() != owner) continue;
      if (state != v1::JOB_STATE_UNSPECIFIED) {
        absl::MutexLock job_lock(&job->mu_);
        if (job->state_ != state) continue;
      }
      out.push_back(job);
    }
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a->seq_ > b->seq_; });
  if (limit > 0 && static_cast<int>(out.size()) > limit) out.resize(limit);
  return out;
}

void JobManager::Cancel(const std::shared_ptr<Job>& job, absl::Status reason) {
  absl::MutexLock lock(&mu_);
  {
    absl::MutexLock job_lock(&job->mu_);
    if (job->finished_ != absl::InfinitePast()) return;
    if (job->cancel_reason_.ok()) job->cancel_reason_ = reason;
    job->cancel_requested_.store(true);
  }
  auto it = std::find(queue_.begin(), queue_.end(), job);
  if (it != queue_.end()) {
    // Never started: it ends here and now rather than when a worker would reach it.
    queue_.erase(it);
    Complete(job, reason, std::nullopt, absl::Now(), /*ran=*/false);
    SendQueuePositions();
  }
}

void JobManager::Detach(const std::shared_ptr<Job>& job, absl::Status reason) {
  bool cancel = false;
  {
    absl::MutexLock job_lock(&job->mu_);
    if (job->attached_ > 0) --job->attached_;
    cancel = job->attached_ == 0 && !job->detached_ && job->finished_ == absl::InfinitePast();
  }
  if (cancel) Cancel(job, std::move(reason));
}

void JobManager::Watch(const std::shared_ptr<Job>& job, std::shared_ptr<JobWatcher> watcher) {
  absl::MutexLock lock(&mu_);
  WatchLocked(job, std::move(watcher));
}

void JobManager::WatchLocked(const std::shared_ptr<Job>& job, std::shared_ptr<JobWatcher> watcher) {
  absl::MutexLock job_lock(&job->mu_);
  if (job->finished_ != absl::InfinitePast()) {
    watcher->OnEvent(job->FinalEvent(), /*last=*/true);
    return;
  }
  v1::SolveEvent e;
  e.set_job_id(job->id_);
  if (job->phase_ == v1::PHASE_QUEUED) {
    // Jobs ahead of it: its index while queued, 0 once a worker has taken it but not yet begun.
    const auto it = std::find(queue_.begin(), queue_.end(), job);
    e.set_queued_position(it == queue_.end() ? 0 : static_cast<int32_t>(it - queue_.begin()));
  } else {
    e.set_phase(job->phase_);
  }
  watcher->OnEvent(e, /*last=*/false);
  job->watchers_.push_back(std::move(watcher));
}

void JobManager::Unwatch(const std::shared_ptr<Job>& job, const JobWatcher* watcher) {
  absl::MutexLock job_lock(&job->mu_);
  auto& w = job->watchers_;
  w.erase(
      std::remove_if(w.begin(), w.end(), [watcher](const auto& p) { return p.get() == watcher; }),
      w.end());
}

bool JobManager::HasWorkOrClosed() const { return closed_ || !queue_.empty(); }
bool JobManager::Idle() const { return queue_.empty() && running_ == 0; }

std::shared_ptr<Job> JobManager::NextJob() {
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(this, &JobManager::HasWorkOrClosed));
  if (closed_) return nullptr;
  std::shared_ptr<Job> job = queue_.front();
  queue_.pop_front();
  ++running_;
  const absl::Time now = absl::Now();
  {
    absl::MutexLock job_lock(&job->mu_);
    job->state_ = v1::JOB_STATE_RUNNING;
    job->started_ = now;
  }
  metrics_->ObservePhase("queue", absl::ToDoubleSeconds(now - job->created_));
  SendQueuePositions();
  UpdateGauges();
  return job;
}

void JobManager::OnPhase(const std::shared_ptr<Job>& job, SolvePhase solve_phase) {
  absl::MutexLock job_lock(&job->mu_);
  const v1::Phase phase = PhaseToProto(solve_phase);
  if (phase == job->phase_) return;
  job->phase_ = phase;
  if (job->watchers_.empty()) return;
  v1::SolveEvent e;
  e.set_job_id(job->id_);
  e.set_phase(phase);
  job->Emit(e, false);
}

void JobManager::OnTttStep(const std::shared_ptr<Job>& job, const TttProgress& p) {
  absl::MutexLock job_lock(&job->mu_);
  if (p.step <= job->last_ttt_step_) return;
  // Counted live, so that the steps of cancelled jobs show too.
  metrics_->ttt_steps().Increment(p.step - job->last_ttt_step_);
  metrics_->ttt_tokens().Increment(static_cast<double>(p.tokens - job->last_ttt_tokens_));
  metrics_->ttt_last_loss().Set(p.loss);
  job->last_ttt_step_ = p.step;
  job->last_ttt_tokens_ = p.tokens;
  if (job->watchers_.empty()) return;
  v1::SolveEvent e;
  e.set_job_id(job->id_);
  v1::TttProgress* t = e.mutable_ttt_progress();
  t->set_step(p.step);
  t->set_total_steps(p.total_steps);
  t->set_loss(p.loss);
  t->set_learning_rate(p.learning_rate);
  t->set_tokens(p.tokens);
  job->Emit(e, false);
}

void JobManager::OnInference(const std::shared_ptr<Job>& job, int views_done, int views_total) {
  absl::MutexLock job_lock(&job->mu_);
  if (job->watchers_.empty()) return;
  v1::SolveEvent e;
  e.set_job_id(job->id_);
  e.mutable_inference_progress()->set_views_done(views_done);
  e.mutable_inference_progress()->set_views_total(views_total);
  job->Emit(e, false);
}

void JobManager::Finish(const std::shared_ptr<Job>& job, absl::StatusOr<SolveResult> result) {
  // The response (every candidate grid as digit strings) is built before any lock is taken: the
  // handlers and the other workers wait on mu_, and nothing in the conversion needs it.
  const absl::Time now = absl::Now();
  std::optional<v1::SolveResponse> response;
  if (result.ok()) {
    Job::Times times;
    {
      absl::MutexLock job_lock(&job->mu_);
      times = job->TimesAt(now, /*ran=*/true);
    }
    response = ResultToProto(*result, job->id(), times.queue_seconds, times.total_seconds);
  }
  absl::MutexLock lock(&mu_);
  Complete(job, result, std::move(response), now, /*ran=*/true);
}

JobManager::Ending JobManager::Settle(Job& job, const absl::Status& status,
                                      std::optional<v1::SolveResponse> response, absl::Time now,
                                      bool ran) {
  Ending end;
  end.status = status;
  absl::MutexLock job_lock(&job.mu_);
  // A solve stopped by the token reports CANCELLED; the job's reason says why (deadline,
  // CancelJob, drain).
  if (!status.ok() && !job.cancel_reason_.ok() &&
      (status.code() == absl::StatusCode::kCancelled || !ran)) {
    end.status = job.cancel_reason_;
    end.cancelled = true;
  }
  end.times = job.TimesAt(now, ran);
  if (end.status.ok()) job.result_ = *std::move(response);
  job.status_ = end.status;
  job.finished_ = now;
  job.phase_ = v1::PHASE_DONE;
  job.state_ = end.status.ok() ? v1::JOB_STATE_SUCCEEDED
               : end.cancelled ? v1::JOB_STATE_CANCELLED
                               : v1::JOB_STATE_FAILED;
  end.ttt_steps = job.last_ttt_step_;
  return end;
}

void JobManager::Complete(const std::shared_ptr<Job>& job, const absl::StatusOr<SolveResult>& result,
                          std::optional<v1::SolveResponse> response, absl::Time now, bool ran) {
  const Ending end = Settle(*job, result.status(), std::move(response), now, ran);
  if (ran) {
    --running_;
    // An average over the last ~10 runs, for the retry delay of a full queue.
    const double run_s = end.times.run_seconds;
    mean_run_seconds_ = mean_run_seconds_ == 0 ? run_s : 0.9 * mean_run_seconds_ + 0.1 * run_s;
  }
  finished_.push_back(job);
  Record(*job, end, result, ran);
  Purge(now);
  UpdateGauges();
  // Last, so that whoever receives the result finds the job counted and the gauges updated.
  // (Watch() cannot slip in between: it takes mu_, which is held here.)
  absl::MutexLock job_lock(&job->mu_);
  job->Emit(job->FinalEvent(), /*last=*/true);
  job->watchers_.clear();
}

void JobManager::Record(const Job& job, const Ending& end,
                        const absl::StatusOr<SolveResult>& result, bool ran) {
  const JobOutcome outcome = OutcomeOf(end.status, end.cancelled);
  metrics_->ObserveJob(outcome, end.times.total_seconds);
  LogLine line(end.status.ok() || end.cancelled ? LogLevel::kInfo : LogLevel::kWarning, "job_done");
  line.Add("job_id", job.id())
      .Add("request_id", job.request_id())
      .Add("task_id", job.task().id)
      .Add("task_hash", job.task_hash())
      .Add("outcome", JobOutcomeName(outcome))
      .Add("code", absl::StatusCodeToString(end.status.code()))
      .Add("queue_s", end.times.queue_seconds)
      .Add("owner", job.owner());
  if (!result.ok()) {
    line.Add("run_s", ran ? end.times.run_seconds : 0.0)
        .Add("total_s", end.times.total_seconds)
        .Add("ttt_steps", end.ttt_steps)
        .Add("error", end.status.message());
    return;
  }
  const SolveResult& r = *result;
  if (r.search.enabled) {
    metrics_->ObservePhase("search", r.seconds.search);
    metrics_->search_programs().Increment(static_cast<double>(r.search.programs));
    metrics_->search_tasks(r.search.explained).Increment();
  }
  if (r.ttt) {
    metrics_->ObservePhase("ttt_data", r.seconds.ttt_data);
    metrics_->ObservePhase("ttt_train", r.seconds.ttt_train);
  }
  if (r.prompt_tokens > 0) {  // the TTT expert's inference ran (not skipped, not search alone)
    metrics_->ObservePhase("inference", r.seconds.inference);
    metrics_->ObservePhase("selection", r.seconds.selection);
  }
  metrics_->ttt_samples().Increment(r.train_stats.samples);
  metrics_->prompt_tokens().Increment(static_cast<double>(r.prompt_tokens));
  metrics_->generated_tokens().Increment(static_cast<double>(r.generated_tokens));
  line.Add("search_s", r.seconds.search)
      .Add("explained", r.search.explained)
      .Add("ttt_data_s", r.seconds.ttt_data)
      .Add("ttt_train_s", r.seconds.ttt_train)
      .Add("inference_s", r.seconds.inference)
      .Add("selection_s", r.seconds.selection)
      .Add("total_s", end.times.total_seconds)
      .Add("ttt", r.ttt)
      .Add("ttt_samples", r.train_stats.samples)
      .Add("ttt_steps", r.train_stats.steps)
      .Add("ttt_first_loss", r.train_stats.first_loss)
      .Add("ttt_last_loss", r.train_stats.last_loss)
      .Add("prompt_tokens", r.prompt_tokens)
      .Add("generated_tokens", r.generated_tokens);
}

void JobManager::StartAdmitting() {
  absl::MutexLock lock(&mu_);
  if (!closed_) admission_ = absl::OkStatus();
}

void JobManager::StopAdmitting(absl::Status reason) {
  absl::MutexLock lock(&mu_);
  admission_ = std::move(reason);
}

bool JobManager::WaitIdle(absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  return mu_.AwaitWithTimeout(absl::Condition(this, &JobManager::Idle), timeout);
}

void JobManager::CancelAll(absl::Status reason) {
  std::vector<std::shared_ptr<Job>> active;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [id, job] : jobs_) {
      absl::MutexLock job_lock(&job->mu_);
      if (job->finished_ == absl::InfinitePast()) active.push_back(job);
    }
  }
  for (const auto& job : active) Cancel(job, reason);
}

void JobManager::Close() {
  absl::MutexLock lock(&mu_);
  if (closed_) return;
  closed_ = true;
  if (admission_.ok()) admission_ = absl::UnavailableError("server shutting down");
  while (!queue_.empty()) {
    std::shared_ptr<Job> job = queue_.front();
    queue_.pop_front();
    const absl::Status reason =
        absl::UnavailableError("server shutting down: the job was cancelled before it started");
    {
      absl::MutexLock job_lock(&job->mu_);
      if (job->cancel_reason_.ok()) job->cancel_reason_ = reason;
      job->cancel_requested_.store(true);
    }
    Complete(job, reason, std::nullopt, absl::Now(), /*ran=*/false);
  }
  UpdateGauges();
}

int JobManager::queued() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(queue_.size());
}

int JobManager::running() const {
  absl::MutexLock lock(&mu_);
  return running_;
}

void JobManager::Purge(absl::Time now) {
  while (!finished_.empty()) {
    const std::shared_ptr<Job>& job = finished_.front();
    absl::Time finished;
    {
      absl::MutexLock job_lock(&job->mu_);
      finished = job->finished_;
    }
    const bool over_count = static_cast<int>(finished_.size()) > options_.max_finished_jobs;
    if (!over_count && finished + options_.job_ttl > now) break;
    jobs_.erase(job->id());
    auto it = by_request_id_.find(RequestKey(job->owner(), job->request_id()));
    if (it != by_request_id_.end() && it->second == job) by_request_id_.erase(it);
    finished_.pop_front();
  }
}

void JobManager::SendQueuePositions() {
  for (size_t i = 0; i < queue_.size(); ++i) {
    Job& job = *queue_[i];
    absl::MutexLock job_lock(&job.mu_);
    if (job.watchers_.empty()) continue;
    v1::SolveEvent e;
    e.set_job_id(job.id_);
    e.set_queued_position(static_cast<int32_t>(i));
    job.Emit(e, false);
  }
}

absl::Duration JobManager::RetryDelay() const {
  // A slot frees when the first running job ends: about one run time over the workers.
  const double seconds = mean_run_seconds_ > 0 ? mean_run_seconds_ / options_.workers : 1.0;
  return absl::Milliseconds(static_cast<int64_t>(std::clamp(seconds, 0.1, 60.0) * 1000));
}

void JobManager::UpdateGauges() {
  metrics_->queue_depth().Set(static_cast<double>(queue_.size()));
  metrics_->jobs_in_flight().Set(running_);
}

}  // namespace arc::server
