// WorkerPool: the threads that run jobs. Each worker takes the next job from the JobManager, solves
// it with a Solver over the shared, read-only ArcModel, and hands the result back; nothing else in
// the server runs model code (the gRPC handlers only validate, convert and enqueue).
//
// A worker builds its Solver when a job starts and destroys it when the job ends, so the job's
// LoRA adapter (and the optimizer state and caches the solve made) is freed with the job, whether
// it finished, failed or was cancelled; an idle server holds no adapter (arc_adapters_resident 0).
// The solver reports to a per-job SolveObserver (worker_pool.cc) that forwards progress to the
// JobManager and polls the job's cancel token (and the job's wall-clock limit) before every
// training micro-batch, decode step and search round. Exceptions
// escaping the model code (c10::Error, std::exception) fail the job with INTERNAL and never take
// the worker down.
//
// Thread-safety: Start and Join are called by the owner (ArcServer) from one thread; workers
// themselves only talk to the thread-safe JobManager and Metrics.
#ifndef ARC_SERVER_WORKER_POOL_H_
#define ARC_SERVER_WORKER_POOL_H_

#include <memory>
#include <thread>
#include <vector>

#include "absl/time/time.h"
#include "core/model/arc_model.h"
#include "server/job_manager.h"
#include "server/metrics.h"

namespace arc::server {

struct WorkerPoolOptions {
  int workers = 1;
  int threads = 1;  // torch intra-op threads of each worker (at::set_num_threads on its thread)
  // A job still running this long after it started is cancelled with DEADLINE_EXCEEDED (checked
  // where the cancel token is: every micro-batch and decode step); 0: no limit.
  absl::Duration job_timeout = absl::ZeroDuration();
};

class WorkerPool {
 public:
  // `jobs` and `metrics` must outlive the pool.
  WorkerPool(std::shared_ptr<const ArcModel> model, WorkerPoolOptions options, JobManager* jobs,
             Metrics* metrics);
  ~WorkerPool();  // joins (the JobManager must have been closed, or this blocks)

  void Start();
  // Returns when every worker has exited, i.e. after JobManager::Close().
  void Join();

 private:
  void Run(int index);

  const std::shared_ptr<const ArcModel> model_;
  const WorkerPoolOptions options_;
  JobManager* const jobs_;
  Metrics* const metrics_;
  std::vector<std::thread> threads_;
};

}  // namespace arc::server

#endif  // ARC_SERVER_WORKER_POOL_H_
