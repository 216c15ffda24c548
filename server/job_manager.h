// JobManager: the server's job table and bounded queue, between the gRPC handlers (which submit,
// watch and cancel jobs) and the workers (which take jobs, report progress and finish them).
//
//   admission     Submit() refuses work it cannot hold: RESOURCE_EXHAUSTED when `queue_capacity`
//                 jobs are already waiting (with a retry delay; see status_conversion.h),
//                 UNAVAILABLE once StopAdmitting() was called (draining). Running jobs do not count
//                 against the capacity; at most `workers` of them run.
//   ownership     every job belongs to the identity that submitted it (server/auth.h); Find and
//                 List see only the caller's jobs, another identity's job is NOT_FOUND, exactly
//                 as an unknown id (so ids of others' jobs cannot even be confirmed). Job ids are
//                 128 random bits (NewJobId), not a sequence.
//   idempotency   a non-empty request_id maps, per owner, to its job while the job is kept: a
//                 retry gets the same job (a different task under the same id is
//                 INVALID_ARGUMENT); another owner's equal request_id is another job. A job that ended
//                 cancelled (caller gone, deadline, CancelJob, drain) does not pin its id: a retry
//                 starts a fresh job.
//   cancellation  each job has a cancel token that the worker's solver polls before every training
//                 and decode step. A queued job is cancelled at once; a running one stops at its
//                 next step. A job made by Solve/SolveStream is cancelled when the last such caller
//                 detaches (deadline or cancellation); one made or claimed by SubmitTask runs on.
//   events        watchers (streaming RPCs, waiting Solve calls) receive SolveEvents in order:
//                 queued position, phase changes, TTT and inference progress, and a last event with
//                 the result or the error.
//   retention     finished jobs are kept for `job_ttl` (and at most `max_finished_jobs`), then
//                 dropped; NOT_FOUND after that.
// The manager also keeps the job-level metrics (queue depth, jobs in flight, phase durations, TTT
// and token counters, outcomes) and writes the one log line per finished job.
//
// Thread-safety: all methods are thread-safe. Lock order: the manager's mutex, then a job's.
// Watchers are called with the job's mutex held (that is what orders the events) and therefore must
// not call back into the manager or block.
#ifndef ARC_SERVER_JOB_MANAGER_H_
#define ARC_SERVER_JOB_MANAGER_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "arc/v1/arc_solver.pb.h"
#include "core/data/grid.h"
#include "core/solve/observer.h"
#include "core/solve/result.h"
#include "core/solve/solver.h"
#include "server/metrics.h"

namespace arc::server {

// A validated request, ready to run.
struct JobSpec {
  std::string owner = "anonymous";  // the caller's identity (server/auth.h)
  std::string request_id;           // may be empty (no idempotency)
  Task task;               // validated; task.id is the request's task_id
  SolveOptions options;    // resolved against the server's defaults and limits
};

// Receives a job's events. See the thread-safety note above.
class JobWatcher {
 public:
  virtual ~JobWatcher() = default;
  // `last` marks the final event (result or error); nothing follows it.
  virtual void OnEvent(const v1::SolveEvent& event, bool last) = 0;
};

class Job {
 public:
  const std::string& id() const { return id_; }
  const std::string& owner() const { return owner_; }
  const std::string& request_id() const { return request_id_; }
  const std::string& task_hash() const { return task_hash_; }
  const Task& task() const { return task_; }
  const SolveOptions& options() const { return options_; }

  // The cancel token (polled by the solver).
  bool cancel_requested() const { return cancel_requested_.load(std::memory_order_relaxed); }

  // The job as the API shows it; the result only when `with_result`.
  v1::Job ToProto(bool with_result) const;
  bool done() const;
  // OK when succeeded; the failure or cancellation reason otherwise; UNKNOWN while not done.
  absl::Status status() const;

  Job(std::string id, uint64_t seq, JobSpec spec, absl::Time created);

 private:
  friend class JobManager;

  // Seconds queued, in all and running, at `now` (a job that never `ran` was queued until `now`).
  struct Times {
    double queue_seconds = 0;
    double total_seconds = 0;
    double run_seconds = 0;
  };

  void Emit(const v1::SolveEvent& event, bool last) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  v1::SolveEvent FinalEvent() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  Times TimesAt(absl::Time now, bool ran) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string id_;
  const std::string owner_;
  const uint64_t seq_;  // admission order
  const std::string request_id_;
  const Task task_;
  const SolveOptions options_;
  const std::string task_hash_;
  const absl::Time created_;
  std::atomic<bool> cancel_requested_{false};

  mutable absl::Mutex mu_;
  v1::JobState state_ ABSL_GUARDED_BY(mu_) = v1::JOB_STATE_QUEUED;
  v1::Phase phase_ ABSL_GUARDED_BY(mu_) = v1::PHASE_QUEUED;
  absl::Time started_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  absl::Time finished_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  v1::SolveResponse result_ ABSL_GUARDED_BY(mu_);
  absl::Status status_ ABSL_GUARDED_BY(mu_) = absl::UnknownError("not finished");
  absl::Status cancel_reason_ ABSL_GUARDED_BY(mu_);  // OK until cancelled
  std::vector<std::shared_ptr<JobWatcher>> watchers_ ABSL_GUARDED_BY(mu_);
  int attached_ ABSL_GUARDED_BY(mu_) = 0;       // Solve/SolveStream callers waiting on it
  bool detached_ ABSL_GUARDED_BY(mu_) = false;  // SubmitTask made or claimed it
  int last_ttt_step_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t last_ttt_tokens_ ABSL_GUARDED_BY(mu_) = 0;
};

struct JobManagerOptions {
  int queue_capacity = 16;
  int workers = 1;  // for the retry-delay estimate
  absl::Duration job_ttl = absl::Minutes(10);
  int max_finished_jobs = 10000;
};

class JobManager {
 public:
  // How a caller relates to the job it submits.
  enum class Mode {
    kAttached,  // Solve, SolveStream: the caller waits; the job is cancelled when all such leave
    kDetached,  // SubmitTask: the job runs whether or not anybody waits
  };

  // `metrics` must outlive the manager.
  JobManager(JobManagerOptions options, Metrics* metrics);
  ~JobManager();

  // Admits a job (or returns the job of a kept request_id). A `watcher` given here is registered
  // atomically with the admission, so it sees every event from the queued position on (a Watch()
  // after Submit() could miss the first events of a job that a worker took at once).
  absl::StatusOr<std::shared_ptr<Job>> Submit(JobSpec spec, Mode mode,
                                              std::shared_ptr<JobWatcher> watcher = nullptr);
  // NOT_FOUND for unknown or expired ids and for jobs of another owner (the same message).
  absl::StatusOr<std::shared_ptr<Job>> Find(const std::string& id, const std::string& owner);
  // The owner's jobs, newest first, at most `limit`; JOB_STATE_UNSPECIFIED matches every state.
  std::vector<std::shared_ptr<Job>> List(v1::JobState state, int limit, const std::string& owner);

  // Cancels with `reason` (its code becomes the job's; CANCELLED, DEADLINE_EXCEEDED or
  // UNAVAILABLE). No-op for a finished job.
  void Cancel(const std::shared_ptr<Job>& job, absl::Status reason);
  // A kAttached caller left before the end; cancels with `reason` if it was the last one.
  void Detach(const std::shared_ptr<Job>& job, absl::Status reason);

  // Sends the current state at once (queued position, current phase, or the final event of a
  // finished job), then every later event. The watcher is dropped after the final event.
  void Watch(const std::shared_ptr<Job>& job, std::shared_ptr<JobWatcher> watcher);
  void Unwatch(const std::shared_ptr<Job>& job, const JobWatcher* watcher);

  // Workers: blocks until a job is queued (it is then running) or the manager is closed (nullptr).
  std::shared_ptr<Job> NextJob();
  // Workers, from the job's SolveObserver (server/worker_pool.cc): the solve's progress becomes the
  // job's events (a phase change, a TTT step, views decoded) and the live TTT metrics.
  void OnPhase(const std::shared_ptr<Job>& job, SolvePhase phase);
  void OnTttStep(const std::shared_ptr<Job>& job, const TttProgress& progress);
  void OnInference(const std::shared_ptr<Job>& job, int views_done, int views_total);
  // The result is converted to its proto before any lock is taken; the lock only publishes it.
  void Finish(const std::shared_ptr<Job>& job, absl::StatusOr<SolveResult> result);

  // Admission starts closed (UNAVAILABLE: not ready) until StartAdmitting(); StopAdmitting() closes
  // it again with `reason` (draining). A retry of a kept request_id still gets its job.
  void StartAdmitting();
  void StopAdmitting(absl::Status reason);
  // Waits until no job is queued or running; false on timeout.
  bool WaitIdle(absl::Duration timeout);
  // Cancels every queued and running job with `reason`.
  void CancelAll(absl::Status reason);
  // Cancels what is queued and makes NextJob return nullptr. Idempotent.
  void Close();

  int queued() const;
  int running() const;

 private:
  // How a job ended, as Settle decided under the job's lock.
  struct Ending {
    absl::Status status;
    bool cancelled = false;
    Job::Times times;
    int ttt_steps = 0;
  };

  // Ends a job at `now`: with the worker's result (`ran`; `response` is its proto, built by the
  // caller outside the locks), or with the reason it never ran. Publishes, counts, logs and sends
  // the final event.
  void Complete(const std::shared_ptr<Job>& job, const absl::StatusOr<SolveResult>& result,
                std::optional<v1::SolveResponse> response, absl::Time now, bool ran)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The job's final state (status, result, phase, times) under its own lock.
  Ending Settle(Job& job, const absl::Status& status, std::optional<v1::SolveResponse> response,
                absl::Time now, bool ran) ABSL_LOCKS_EXCLUDED(job.mu_);
  // The job-level metrics and the one log line of a finished job.
  void Record(const Job& job, const Ending& ending, const absl::StatusOr<SolveResult>& result,
              bool ran);
  void Purge(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void WatchLocked(const std::shared_ptr<Job>& job, std::shared_ptr<JobWatcher> watcher)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void SendQueuePositions() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Duration RetryDelay() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void UpdateGauges() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool HasWorkOrClosed() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool Idle() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const JobManagerOptions options_;
  Metrics* const metrics_;

  mutable absl::Mutex mu_;
  uint64_t next_seq_ ABSL_GUARDED_BY(mu_) = 1;
  absl::flat_hash_map<std::string, std::shared_ptr<Job>> jobs_ ABSL_GUARDED_BY(mu_);
  // Keyed by RequestKey(owner, request_id).
  absl::flat_hash_map<std::string, std::shared_ptr<Job>> by_request_id_ ABSL_GUARDED_BY(mu_);
  std::deque<std::shared_ptr<Job>> queue_ ABSL_GUARDED_BY(mu_);
  std::deque<std::shared_ptr<Job>> finished_ ABSL_GUARDED_BY(mu_);  // in finishing order
  int running_ ABSL_GUARDED_BY(mu_) = 0;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status admission_ ABSL_GUARDED_BY(mu_) =  // OK while admitting
      absl::UnavailableError("server is not ready: the model is loading");
  double mean_run_seconds_ ABSL_GUARDED_BY(mu_) = 0;  // moving average of finished runs
};

}  // namespace arc::server

#endif  // ARC_SERVER_JOB_MANAGER_H_
