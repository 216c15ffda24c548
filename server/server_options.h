// ServerOptions: everything arc-server is configured with (main.cc fills it from flags; tests fill
// it directly), and OptionLimits, the server-side bounds on per-request option overrides.
//
// A request's SolveOptions start from `defaults` and may override fields within `limits`
// (server/proto_conversion.h); values above a limit are refused with INVALID_ARGUMENT naming the
// field and the limit, never silently clamped. The defaults must themselves lie within the limits
// (ValidateServerOptions).
//
// Plain values; copy freely.
#ifndef ARC_SERVER_SERVER_OPTIONS_H_
#define ARC_SERVER_SERVER_OPTIONS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "core/data/grid.h"
#include "server/admission.h"
#include "server/auth.h"
#include "core/solve/options.h"

namespace arc::server {

struct OptionLimits {
  int ttt_steps = 1000;           // optimizer steps per task; also the cap when max_steps is 0
  int ttt_samples = 1000;         // TTT samples per task (ttt_options.max_samples)
  int ttt_batch_size = 32;        // ttt_options.batch_size
  int lora_rank = 128;            // ttt_options.lora_rank
  int views = 64;                 // inference views per test input (ViewOptions::max_views)
  int inference_batch_size = 64;  // inference.batch_size (views decoded together)
  int new_tokens = 4096;          // inference.max_new_tokens
  int search_work = 20000;        // search.work_millions (the search's deterministic budget)
};

// Which option of the table (core/solve/option_table.h) each per-request limit bounds, and the
// limit's flag. `views` bounds no option (it caps ViewOptions::max_views).
struct LimitedOption {
  const char* option;      // a row of the option table, e.g. "ttt_max_steps"
  const char* limit_flag;  // e.g. "limit_ttt_steps"
  int OptionLimits::*limit;
};
inline constexpr LimitedOption kLimitedOptions[] = {
    {"ttt_max_steps", "limit_ttt_steps", &OptionLimits::ttt_steps},
    {"ttt_max_samples", "limit_ttt_samples", &OptionLimits::ttt_samples},
    {"ttt_batch_size", "limit_ttt_batch_size", &OptionLimits::ttt_batch_size},
    {"lora_rank", "limit_lora_rank", &OptionLimits::lora_rank},
    {"infer_batch_size", "limit_infer_batch_size", &OptionLimits::inference_batch_size},
    {"max_new_tokens", "limit_new_tokens", &OptionLimits::new_tokens},
    {"search_work", "limit_search_work", &OptionLimits::search_work},
};

// The server's bound on the option named `option` in `limits`, or nullopt when it has none.
std::optional<int64_t> OptionLimit(const OptionLimits& limits, std::string_view option);

struct ServerOptions {
  // gRPC listen address (port 0: pick one). Loopback by default: beyond it the server needs TLS or
  // tokens, or --insecure (server/auth.h). A port already in use is an error (no SO_REUSEPORT).
  std::string address = "127.0.0.1:50051";
  std::string metrics_address = "0.0.0.0:9464";  // Prometheus /metrics; empty: no exporter
  std::string model_dir = "models/default";
  std::string device = "cpu";  // "cpu", "cuda" or "cuda:N"
  // "auto", "float32" or "bfloat16": the precision the weights are held and computed in
  // (ChooseModelDtype, core/model/arc_model.h).
  std::string dtype = "auto";
  int workers = 1;             // jobs solved at once, each by its own thread
  int threads = 0;             // torch intra-op threads per worker; 0: cores / workers
  int queue_capacity = 16;     // jobs waiting beyond the running ones
  SolveOptions defaults;       // what a request without overrides gets
  OptionLimits limits;
  TaskLimits task_limits;
  SecurityOptions security;  // TLS, mTLS, tokens, --insecure, reflection (server/auth.h)
  CostLimits costs;          // admission by estimated memory and compute (server/admission.h)
  // A running job is cancelled (DEADLINE_EXCEEDED) this long after it started; 0: no limit.
  absl::Duration job_timeout = absl::Minutes(30);
  absl::Duration job_ttl = absl::Minutes(10);        // finished jobs are kept this long
  int max_finished_jobs = 10000;                     // and at most this many (oldest dropped first)
  int list_jobs_limit = 1000;                        // ListJobs returns at most this many
  int64_t max_message_bytes = 4 << 20;               // largest request gRPC accepts
  absl::Duration drain_timeout = absl::Seconds(30);  // on SIGTERM: wait this long for jobs
  bool warmup = true;                                // one tiny solve before reporting SERVING
};

// INVALID_ARGUMENT naming the option (as its flag) and the fault.
absl::Status ValidateServerOptions(const ServerOptions& options);

}  // namespace arc::server

#endif  // ARC_SERVER_SERVER_OPTIONS_H_
