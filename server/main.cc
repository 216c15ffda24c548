// arc-server: the ARC test-time-training gRPC service (see server/server.h for the lifecycle and
// proto/arc/v1/arc_solver.proto for the API).
//
//   arc-server [--model DIR] [--address 127.0.0.1:50051] [--metrics_address 0.0.0.0:9464]
//              [--tls_cert PEM --tls_key PEM [--tls_client_ca PEM]] [--token_file FILE] [--insecure]
//              [--device cpu|cuda[:N]] [--workers N] [--threads N] [--queue_capacity N] [options]
//
// SIGTERM or SIGINT drains: new jobs get UNAVAILABLE, health turns NOT_SERVING, jobs in flight get
// --drain_timeout to finish and are cancelled after it; then the process exits 0. A second signal
// during the drain exits at once with status 1. The default model, models/default, is found from
// any directory (tools/flags/paths.h).
#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <iostream>
#include <string>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "tools/flags/paths.h"
#include "tools/flags/solve_flags.h"
#include "tools/flags/usage.h"
#include "core/data/status_macros.h"
#include "server/logger.h"
#include "server/server.h"

// Serving.
ABSL_FLAG(std::string, address, "127.0.0.1:50051",
          "gRPC listen address host:port (port 0 picks one; a port in use is an error). Beyond "
          "loopback (e.g. 0.0.0.0:50051) it needs --tls_cert/--tls_key or --token_file, or "
          "--insecure");
ABSL_FLAG(std::string, metrics_address, "0.0.0.0:9464",
          "Prometheus /metrics listen address host:port; empty disables the exporter");
ABSL_FLAG(std::string, model, arc::kDefaultModelDir,
          "model directory (Hugging Face layout + tokenizer); the default, the embedded model, is "
          "also found next to the binary");
ABSL_FLAG(std::string, device, "cpu", "cpu, cuda or cuda:N");
ABSL_FLAG(std::string, dtype, "auto",
          "auto, float32 or bfloat16: the weights' precision in memory and compute (auto: "
          "bfloat16 on CUDA; on the CPU bfloat16 for a bfloat16 checkpoint when this CPU has "
          "AVX-512, libtorch's fast bfloat16 path, else float32)");
ABSL_FLAG(int, workers, 1, "jobs solved at once, one worker thread and solver each");
ABSL_FLAG(int, threads, 0, "torch intra-op threads per worker (0 = cores / workers)");
ABSL_FLAG(int, queue_capacity, 16, "jobs waiting for a worker before RESOURCE_EXHAUSTED");
ABSL_FLAG(absl::Duration, job_ttl, absl::Minutes(10), "how long finished jobs are kept");
ABSL_FLAG(int, max_finished_jobs, 10000, "finished jobs kept at most (oldest dropped first)");
ABSL_FLAG(int64_t, max_message_bytes, 4 << 20, "largest request accepted, bytes");
ABSL_FLAG(absl::Duration, drain_timeout, absl::Seconds(30),
          "on SIGTERM/SIGINT: time for jobs in flight to finish before they are cancelled");
// Transport security and identities (server/auth.h, docs/SECURITY.md).
ABSL_FLAG(std::string, tls_cert, "", "PEM certificate chain of the server: serve TLS (with --tls_key)");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of --tls_cert");
ABSL_FLAG(std::string, tls_client_ca, "",
          "PEM CA bundle: require client certificates signed by it (mutual TLS); the "
          "certificate's CN is the caller's identity");
ABSL_FLAG(std::string, token_file, "",
          "bearer tokens, one \"TOKEN IDENTITY\" per line: every ArcSolver call needs "
          "\"authorization: Bearer TOKEN\"; jobs belong to the token's identity");
ABSL_FLAG(bool, insecure, false,
          "allow listening beyond loopback with neither TLS nor tokens (plaintext, every caller "
          "\"anonymous\")");
ABSL_FLAG(bool, reflection, true, "serve grpc.reflection (grpcurl, ghz) on the gRPC port");
// Admission by cost and the wall-clock limit (server/admission.h).
ABSL_FLAG(int64_t, max_job_memory_mb, 8192,
          "refuse (RESOURCE_EXHAUSTED) a job whose estimated peak memory is above this, MiB");
ABSL_FLAG(int64_t, max_job_token_steps, 100000000,
          "refuse a job whose estimated token-steps (3 x training tokens + inference tokens) are "
          "above this");
ABSL_FLAG(double, max_step_gflop, 50,
          "refuse a job whose largest micro-batch or prefill batch (the work between two "
          "cancellation checks) is estimated above this many GFLOP");
ABSL_FLAG(absl::Duration, job_timeout, absl::Minutes(30),
          "cancel a job (DEADLINE_EXCEEDED) this long after it started running; 0 = no limit");
ABSL_FLAG(std::string, log_level, "info", "debug, info, warning or error");
ABSL_FLAG(bool, warmup, true, "run a tiny warm-up solve before reporting SERVING");
// Default options of a request (a request overrides them within the limits below): the option
// table's flags (--ttt, --seed, --ttt_*, --lora_*, --views_*, --selection, ...; tools/flags/
// solve_flags.h, shared with arc-solve) over the model directory's solve_options.json.

ABSL_FLAG(int, limit_ttt_steps, 1000, "most TTT optimizer steps a request may ask for");
ABSL_FLAG(int, limit_ttt_samples, 1000, "most TTT samples a request may ask for");
ABSL_FLAG(int, limit_ttt_batch_size, 32, "largest TTT batch a request may ask for");
ABSL_FLAG(int, limit_lora_rank, 128, "largest LoRA rank a request may ask for");
ABSL_FLAG(int, limit_views, 64, "most inference views per test input");
ABSL_FLAG(int, limit_infer_batch_size, 64, "largest inference batch a request may ask for");
ABSL_FLAG(int, limit_new_tokens, 4096, "largest max_new_tokens a request may ask for");
ABSL_FLAG(int, limit_search_work, 20000,
          "largest search budget (millions of work units) a request may ask for");

namespace arc::server {
namespace {

absl::StatusOr<ServerOptions> OptionsFromFlags() {
  ServerOptions o;
  o.address = absl::GetFlag(FLAGS_address);
  o.metrics_address = absl::GetFlag(FLAGS_metrics_address);
  o.model_dir = absl::GetFlag(FLAGS_model);
  if (!o.model_dir.empty()) {
    ARC_ASSIGN_OR_RETURN(o.model_dir, ResolveModelDir(o.model_dir));
  }
  o.device = absl::GetFlag(FLAGS_device);
  o.dtype = absl::GetFlag(FLAGS_dtype);
  o.workers = absl::GetFlag(FLAGS_workers);
  o.threads = absl::GetFlag(FLAGS_threads);
  o.queue_capacity = absl::GetFlag(FLAGS_queue_capacity);
  o.job_ttl = absl::GetFlag(FLAGS_job_ttl);
  o.max_finished_jobs = absl::GetFlag(FLAGS_max_finished_jobs);
  o.max_message_bytes = absl::GetFlag(FLAGS_max_message_bytes);
  o.drain_timeout = absl::GetFlag(FLAGS_drain_timeout);
  o.warmup = absl::GetFlag(FLAGS_warmup);
  o.security.tls_cert = absl::GetFlag(FLAGS_tls_cert);
  o.security.tls_key = absl::GetFlag(FLAGS_tls_key);
  o.security.tls_client_ca = absl::GetFlag(FLAGS_tls_client_ca);
  o.security.token_file = absl::GetFlag(FLAGS_token_file);
  o.security.insecure = absl::GetFlag(FLAGS_insecure);
  o.security.reflection = absl::GetFlag(FLAGS_reflection);
  o.costs.max_job_bytes = absl::GetFlag(FLAGS_max_job_memory_mb) << 20;
  o.costs.max_job_token_steps = absl::GetFlag(FLAGS_max_job_token_steps);
  o.costs.max_step_gflop = absl::GetFlag(FLAGS_max_step_gflop);
  o.job_timeout = absl::GetFlag(FLAGS_job_timeout);

  // Built-in < the model's solve_options.json < flags given; a request overrides within the limits.
  ARC_ASSIGN_OR_RETURN(const SolveOptions model_defaults, LoadModelSolveOptions(o.model_dir));
  ARC_ASSIGN_OR_RETURN(o.defaults, SolveOptionsFromFlags(model_defaults));

  o.limits.ttt_steps = absl::GetFlag(FLAGS_limit_ttt_steps);
  o.limits.ttt_samples = absl::GetFlag(FLAGS_limit_ttt_samples);
  o.limits.ttt_batch_size = absl::GetFlag(FLAGS_limit_ttt_batch_size);
  o.limits.lora_rank = absl::GetFlag(FLAGS_limit_lora_rank);
  o.limits.views = absl::GetFlag(FLAGS_limit_views);
  o.limits.inference_batch_size = absl::GetFlag(FLAGS_limit_infer_batch_size);
  o.limits.new_tokens = absl::GetFlag(FLAGS_limit_new_tokens);
  o.limits.search_work = absl::GetFlag(FLAGS_limit_search_work);
  // The view cap is a server budget, not a default; defaults stay within it.
  o.defaults.views.max_views = std::min(o.defaults.views.max_views, o.limits.views);
  ARC_RETURN_IF_ERROR(ValidateServerOptions(o));
  return o;
}

int Fail(const absl::Status& s) {
  LogLine(LogLevel::kError, "fatal")
      .Add("code", absl::StatusCodeToString(s.code()))
      .Add("error", s.message());
  return s.code() == absl::StatusCode::kInvalidArgument ? 2 : 1;
}

int Run() {
  absl::StatusOr<LogLevel> level = ParseLogLevel(absl::GetFlag(FLAGS_log_level));
  if (!level.ok()) {
    std::cerr << "arc-server: --" << level.status().message() << "\n";
    return 2;
  }
  SetLogLevel(*level);
  absl::StatusOr<ServerOptions> options = OptionsFromFlags();
  if (!options.ok()) return Fail(options.status());

  // Signals are taken by one thread with sigwait: block them here, before any thread exists, so
  // every thread (gRPC's, torch's, the workers) inherits the mask.
  // (Static: the signal thread outlives this function.)
  static sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  absl::StatusOr<std::unique_ptr<ArcServer>> server = ArcServer::Start(*std::move(options));
  if (!server.ok()) return Fail(server.status());

  static absl::Notification stop;
  std::thread signal_thread([s = server->get()] {
    int sig = 0;
    sigwait(&signals, &sig);
    LogLine(LogLevel::kInfo, "signal").Add("signal", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    s->BeginDrain();
    stop.Notify();
    sigwait(&signals, &sig);
    LogLine(LogLevel::kWarning, "signal_again").Add("action", "exit without draining");
    std::_Exit(1);
  });
  signal_thread.detach();  // blocks in sigwait until the process ends

  if (absl::Status s = (*server)->LoadModel(); !s.ok()) {
    const int rc = Fail(s);
    (*server)->Shutdown();
    return rc;
  }
  stop.WaitForNotification();
  (*server)->Shutdown();
  return 0;
}

}  // namespace
}  // namespace arc::server

int main(int argc, char** argv) {
  const arc::ToolHelp help{
      "arc-server",
      "the ARC test-time-training gRPC service (arc.v1.ArcSolver, grpc.health.v1, reflection) "
      "with Prometheus metrics. Workers own the model and solve queued jobs: the program search, "
      "then test-time training and inference over views, voting. SIGTERM or SIGINT drains: new "
      "jobs are refused, jobs in flight get --drain_timeout, then the process exits 0. Request "
      "defaults: built-in < the model's solve_options.json < a solve flag given < the request, "
      "within the --limit_* flags.",
      "arc-server [--model DIR] [--address HOST:PORT] [--metrics_address HOST:PORT] "
      "[--tls_cert PEM --tls_key PEM [--tls_client_ca PEM]] [--token_file FILE] [--insecure] "
      "[--device cpu|cuda[:N]] [--workers N] [--threads N] [--queue_capacity N] [solve options] "
      "[limits]",
      {},
      {arc::SolveFlagsSection()},
      ""};
  if (!arc::ParseFlagsOnlyCommandLine(argc, argv, help)) return 2;
  arc::ApplyProcessFlags();
  return arc::server::Run();
}
