#include "server/worker_pool.h"

#include <ATen/Parallel.h>
#include <c10/util/Exception.h>

#include <exception>
#include <memory>

#include "absl/strings/str_cat.h"
#include "server/logger.h"

namespace arc::server {

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
    bool adapter_counted = false;
    absl::StatusOr<SolveResult> result = absl::UnknownError("not run");
    {
      // The job's solver: its adapter lives exactly as long as the job (see the header).
      auto solver = std::make_unique<Solver>(model_);
      auto progress = [&](const SolveProgress& p) {
        if (p.phase == SolvePhase::kTttTrain && !adapter_counted) {
          adapter_counted = true;
          metrics_->adapters_resident().Increment();
        }
        jobs_->Progress(job, p);
      };
      auto cancelled = [&job] { return job->cancel_requested(); };
      try {
        result = solver->Solve(job->task(), job->options(), progress, cancelled);
      } catch (const c10::Error& e) {
        result = absl::InternalError(absl::StrCat("model error: ", e.what_without_backtrace()));
      } catch (const std::exception& e) {
        result = absl::InternalError(absl::StrCat("solver error: ", e.what()));
      }
      solver.reset();
    }
    if (adapter_counted) metrics_->adapters_resident().Decrement();
    if (!result.ok() && result.status().code() == absl::StatusCode::kInternal) {
      LogLine(LogLevel::kError, "job_internal_error")
          .Add("job_id", job->id())
          .Add("task_hash", job->task_hash())
          .Add("worker", index)
          .Add("error", result.status().message());
    }
    jobs_->Finish(job, std::move(result));
  }
  LogLine(LogLevel::kDebug, "worker_stopped").Add("worker", index);
}

}  // namespace arc::server
