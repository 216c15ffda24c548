// Metrics: the server's Prometheus metrics (prometheus-cpp) and their /metrics HTTP endpoint
// (server/metrics_exporter.h).
//
// Conventions (reference serving-anchors.md §5): prefix arc_, base units (seconds, bytes), counters
// end in _total, labels have a handful of values. Every labelled series that can be known up front
// is created at start, so a dashboard sees zeros rather than gaps. Histograms share one bucket set
// from 1 ms to 600 s (DurationBuckets()).
//
// clang-format off
//   name                             type       labels           meaning
//   arc_requests_total               counter    method, code     RPCs answered (code: gRPC name)
//   arc_request_duration_seconds     histogram  method           RPC arrival to status
//   arc_phase_duration_seconds       histogram  phase            per job: queue, search, ttt_data,
//                                                                ttt_train, inference, selection
//   arc_job_duration_seconds         histogram  -                per job: admission to result
//   arc_jobs_total                   counter    outcome          finished jobs: succeeded, failed,
//                                                                cancelled, deadline_exceeded
//   arc_queue_depth                  gauge      -                jobs waiting for a worker
//   arc_queue_capacity               gauge      -                --queue_capacity
//   arc_jobs_in_flight               gauge      -                jobs being solved by a worker
//   arc_workers                      gauge      -                worker threads
//   arc_adapters_resident            gauge      -                LoRA adapters allocated (one per
//                                                                job in TTT, freed with the job)
//   arc_ttt_steps_total              counter    -                optimizer steps (cancelled jobs
//                                                                too)
//   arc_ttt_tokens_total             counter    -                tokens through the model in TTT
//   arc_ttt_samples_total            counter    -                TTT samples of finished jobs
//   arc_ttt_last_loss                gauge      -                loss of the latest TTT step
//   arc_search_programs_total        counter    -                programs (primitive applications)
//                                                                the search tried
//   arc_search_tasks_total           counter    explained        searched tasks; explained: true
//                                                                when a program explains every
//                                                                demonstration, else false
//   arc_prompt_tokens_total          counter    -                inference prompt tokens
//   arc_generated_tokens_total       counter    -                inference generated tokens
//   arc_model_parameters             gauge      -                base model parameters
//   arc_serving                      gauge      -                1 when health is SERVING
//   arc_build_info                   gauge      version, torch,  always 1
//                                               grpc, protobuf
//   arc_model_info                   gauge      model, format,   always 1 (once loaded)
//                                               device
//   process_cpu_seconds_total        counter    -                user + system CPU (/proc)
//   process_resident_memory_bytes    gauge      -                RSS (/proc/self/stat)
//   process_virtual_memory_bytes     gauge      -                VSZ
//   process_start_time_seconds       gauge      -                since the Unix epoch
//   process_open_fds                 gauge      -                entries of /proc/self/fd
//   process_threads                  gauge      -                threads of the process
//   arc_cuda_memory_allocated_bytes  gauge      device           torch caching allocator, in use
//   arc_cuda_memory_reserved_bytes   gauge      device           torch caching allocator, reserved
// clang-format on
// The process_* names are the standard ones of the Prometheus client libraries (so stock
// dashboards work), hence no arc_ prefix. The CUDA gauges exist only when the server runs on a
// CUDA device of a CUDA build of libtorch (RegisterCudaMemory).
//
// Thread-safety: every method may be called from any thread (prometheus-cpp metrics are atomic;
// families lock internally).
#ifndef ARC_SERVER_METRICS_H_
#define ARC_SERVER_METRICS_H_

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "server/metrics_exporter.h"

namespace arc::server {

// Finished-job outcomes (arc_jobs_total's label).
enum class JobOutcome { kSucceeded, kFailed, kCancelled, kDeadlineExceeded };

class Metrics {
 public:
  // Histogram upper bounds in seconds, up to the 10-minute cap of a job.
  static const std::vector<double>& DurationBuckets();

  Metrics();
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // Serves /metrics on `address` ("host:port"; port 0 picks a free one). INVALID_ARGUMENT or
  // UNAVAILABLE (port taken) naming the address.
  absl::Status StartExporter(const std::string& address);
  // The exporter's bound port, 0 when none.
  int exporter_port() const;
  // The exposition text of every metric (what /metrics serves).
  std::string Serialize() const;

  // After the model is loaded.
  void SetModelInfo(const std::string& model, const std::string& format, const std::string& device,
                    int64_t parameters);
  // Registers the CUDA allocator gauges for `device_index` (no-op in a CPU-only build).
  void RegisterCudaMemory(int device_index);

  void ObserveRequest(absl::string_view method, absl::string_view code, double seconds);
  // phase: "queue", "search", "ttt_data", "ttt_train", "inference", "selection".
  void ObservePhase(absl::string_view phase, double seconds);
  void ObserveJob(JobOutcome outcome, double seconds);

  prometheus::Gauge& queue_depth() { return *queue_depth_; }
  prometheus::Gauge& queue_capacity() { return *queue_capacity_; }
  prometheus::Gauge& jobs_in_flight() { return *jobs_in_flight_; }
  prometheus::Gauge& workers() { return *workers_; }
  prometheus::Gauge& adapters_resident() { return *adapters_resident_; }
  prometheus::Gauge& ttt_last_loss() { return *ttt_last_loss_; }
  prometheus::Gauge& serving() { return *serving_; }
  prometheus::Counter& ttt_steps() { return *ttt_steps_; }
  prometheus::Counter& ttt_tokens() { return *ttt_tokens_; }
  prometheus::Counter& ttt_samples() { return *ttt_samples_; }
  prometheus::Counter& prompt_tokens() { return *prompt_tokens_; }
  prometheus::Counter& search_programs() { return *search_programs_; }
  // Searched tasks, by whether a program explained every demonstration.
  prometheus::Counter& search_tasks(bool explained) {
    return explained ? *search_explained_ : *search_unexplained_;
  }
  prometheus::Counter& generated_tokens() { return *generated_tokens_; }

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  mutable absl::Mutex collectors_mu_;
  std::vector<std::shared_ptr<prometheus::Collectable>> collectors_  // /proc, CUDA
      ABSL_GUARDED_BY(collectors_mu_);
  std::unique_ptr<MetricsExporter> exporter_;  // last member: stops before the metrics go

  prometheus::Family<prometheus::Counter>* requests_;
  prometheus::Family<prometheus::Histogram>* request_duration_;
  prometheus::Family<prometheus::Histogram>* phase_duration_;
  prometheus::Counter* search_programs_;
  prometheus::Counter* search_explained_;
  prometheus::Counter* search_unexplained_;
  prometheus::Histogram* job_duration_;
  prometheus::Family<prometheus::Counter>* jobs_;
  prometheus::Family<prometheus::Gauge>* model_info_;
  prometheus::Gauge* queue_depth_;
  prometheus::Gauge* queue_capacity_;
  prometheus::Gauge* jobs_in_flight_;
  prometheus::Gauge* workers_;
  prometheus::Gauge* adapters_resident_;
  prometheus::Gauge* ttt_last_loss_;
  prometheus::Gauge* serving_;
  prometheus::Gauge* model_parameters_;
  prometheus::Counter* ttt_steps_;
  prometheus::Counter* ttt_tokens_;
  prometheus::Counter* ttt_samples_;
  prometheus::Counter* prompt_tokens_;
  prometheus::Counter* generated_tokens_;
};

absl::string_view JobOutcomeName(JobOutcome outcome);

}  // namespace arc::server

#endif  // ARC_SERVER_METRICS_H_
