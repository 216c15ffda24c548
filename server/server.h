// ArcServer: one arc-server instance, wired together: the metrics exporter, the job manager, the
// gRPC server (ArcSolver service, grpc.health.v1, reflection) and the worker pool over the model.
// main.cc drives it from flags and signals; tests run it in-process.
//
// Lifecycle:
//   Start()      reads the TLS files and tokens (server/auth.h), binds the gRPC port (an address
//                in use is an error) and the metrics port; health NOT_SERVING; job-creating
//                calls answer UNAVAILABLE ("not ready").
//   LoadModel()  loads --model on --device, runs the warm-up solve (--warmup), starts the workers,
//                then health SERVING and jobs are admitted.
//   BeginDrain() stops admitting (UNAVAILABLE), health NOT_SERVING; returns at once.
//   Shutdown()   BeginDrain, waits up to drain_timeout for queued and running jobs, cancels what is
//                left (UNAVAILABLE "server shutting down"), stops the workers and the gRPC server.
//                Idempotent; the destructor calls it.
// Health: the whole-server status ("") and "arc.v1.ArcSolver" follow readiness as above; the
// "liveness" service is SERVING from Start() on (Kubernetes probes can ask for either).
//
// Thread-safety: BeginDrain and Shutdown may be called from any thread, also while LoadModel runs
// (a drain requested during loading wins: the server never reports SERVING). The accessors are
// thread-safe.
#ifndef ARC_SERVER_SERVER_H_
#define ARC_SERVER_SERVER_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "core/model/arc_model.h"
#include "core/data/grid.h"
#include "core/solve/solver.h"
#include "server/job_manager.h"
#include "server/metrics.h"
#include "server/server_options.h"
#include "server/service.h"
#include "server/worker_pool.h"

namespace arc::server {

class ArcServer {
 public:
  static absl::StatusOr<std::unique_ptr<ArcServer>> Start(ServerOptions options);
  ~ArcServer();
  ArcServer(const ArcServer&) = delete;
  ArcServer& operator=(const ArcServer&) = delete;

  // Loads options().model_dir (errors name the directory and the fault), then as UseModel.
  absl::Status LoadModel();
  // Serves `model` (already on its device): warm-up, workers, SERVING.
  absl::Status UseModel(std::shared_ptr<const ArcModel> model);

  void BeginDrain();
  void Shutdown();

  int port() const { return port_; }                              // the bound gRPC port
  int metrics_port() const { return metrics_->exporter_port(); }  // 0 without an exporter
  const ServerOptions& options() const { return options_; }
  Metrics& metrics() { return *metrics_; }
  JobManager& jobs() { return *jobs_; }

 private:
  explicit ArcServer(ServerOptions options);
  void SetServing(bool serving);

  const ServerOptions options_;
  std::unique_ptr<Metrics> metrics_;
  std::unique_ptr<JobManager> jobs_;
  std::unique_ptr<Authenticator> auth_;
  std::unique_ptr<ArcSolverService> service_;
  std::unique_ptr<WorkerPool> workers_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;

  enum class State { kStarting, kServing, kDraining, kStopped };
  absl::Mutex mu_;
  State state_ ABSL_GUARDED_BY(mu_) = State::kStarting;
  absl::Mutex shutdown_mu_;  // serialises Shutdown()
};

// The tiny built-in task of the warm-up solve (2x2 colour swap, two demonstrations).
Task WarmupTask();
// `defaults` cut down to a minimal solve: one TTT step on two samples, identity views only.
SolveOptions WarmupOptions(const SolveOptions& defaults);

}  // namespace arc::server

#endif  // ARC_SERVER_SERVER_H_
