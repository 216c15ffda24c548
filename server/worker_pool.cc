#include "server/worker_pool.h"

#include <ATen/Parallel.h>
#include <c10/util/Exception.h>

#include <exception>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "server/logger.h"
#include "tools/flags/heap.h"

namespace arc::server {
namespace {

// A running job's SolveObserver: the solve's phases, TTT steps and inference progress go to the
// JobManager (the job's events and live metrics), the job's cancel token answers IsCancelled, and
// the start of training counts the job's adapter as resident (the worker uncounts it once the
// solver, and with it the adapter, is gone).
class JobObserver final : public SolveObserver {
 public:
  JobObserver(JobManager& jobs, Metrics& metrics, std::shared_ptr<Job> job,
              absl::Duration timeout)
      : jobs_(jobs),
        metrics_(metrics),
        job_(std::move(job)),
        timeout_(timeout),
        deadline_(timeout > absl::ZeroDuration() ? absl::Now() + timeout : absl::InfiniteFuture()) {}

  void OnPhase(SolvePhase phase) override {
    if (phase == SolvePhase::kTttTrain && !adapter_counted_) {
      adapter_counted_ = true;
      metrics_.adapters_resident().Increment();
    }
    jobs_.OnPhase(job_, phase);
  }
  void OnTttStep(const TttProgress& progress) override { jobs_.OnTttStep(job_, progress); }
  void OnInference(int views_done, int views_total) override {
    jobs_.OnInference(job_, views_done, views_total);
  }
  bool IsCancelled() override {
    if (job_->cancel_requested()) return true;
    if (absl::Now() < deadline_) return false;
    jobs_.Cancel(job_, absl::DeadlineExceededError(absl::StrCat(
                           "the job ran longer than --job_timeout ", absl::FormatDuration(timeout_))));
    return true;
  }

  bool adapter_counted() const { return adapter_counted_; }

 private:
  JobManager& jobs_;
  Metrics& metrics_;
  const std::shared_ptr<Job> job_;
  const absl::Duration timeout_;
  const absl::Time deadline_;
  bool adapter_counted_ = false;
};

}  // namespace

WorkerPool::WorkerPool(std::shared_ptr<const ArcModel> model, WorkerPoolOptions options,
                       JobManager* jobs, Metrics* metrics)
    : model_(std::move(model)), options_(options), jobs_(jobs), metrics_(metrics) {}

WorkerPool::~WorkerPool() { Join(); }

void WorkerPool::Start() {
  metrics_->workers().Set(options_.workers);
  for (int i = 0; i < options_.workers; ++i) threads_.emplace_back([this, i] { Run(i); });
}

void WorkerPool::Join() {
  for (std::thread& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

void WorkerPool::Run(int index) {
  // OpenMP's thread count is per calling thread: set it on the worker itself.
  at::set_num_threads(options_.threads);
  LogLine(LogLevel::kDebug, "worker_started").Add("worker", index).Add("threads", options_.threads);
  while (std::shared_ptr<Job> job = jobs_->NextJob()) {
    if (job->cancel_requested()) {
      jobs_->Finish(job, absl::CancelledError("cancelled before it started"));
      continue;
    }
    JobObserver observer(*jobs_, *metrics_, job, options_.job_timeout);
    absl::StatusOr<SolveResult> result = absl::UnknownError("not run");
    {
      // The job's solver: its adapter lives exactly as long as the job (see the header).
      auto solver = std::make_unique<Solver>(model_);
      try {
        result = solver->Solve(job->task(), job->options(), &observer);
      } catch (const c10::Error& e) {
        result = absl::InternalError(absl::StrCat("model error: ", e.what_without_backtrace()));
      } catch (const std::exception& e) {
        result = absl::InternalError(absl::StrCat("solver error: ", e.what()));
      }
      solver.reset();
    }
    if (observer.adapter_counted()) metrics_->adapters_resident().Decrement();
    if (!result.ok() && result.status().code() == absl::StatusCode::kInternal) {
      LogLine(LogLevel::kError, "job_internal_error")
          .Add("job_id", job->id())
          .Add("task_hash", job->task_hash())
          .Add("worker", index)
          .Add("error", result.status().message());
    }
    jobs_->Finish(job, std::move(result));
    // The job's solver, adapter and activations are gone: return their free pages to the OS, so
    // one large job (a long TTT, a big search) does not set the server's footprint for good.
    ReleaseFreedMemory();
  }
  LogLine(LogLevel::kDebug, "worker_stopped").Add("worker", index);
}

}  // namespace arc::server
