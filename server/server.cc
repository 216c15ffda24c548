#include "server/server.h"

#include <ATen/Context.h>
#include <ATen/Parallel.h>
#include <c10/util/Exception.h>
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/impl/server_builder_option.h>
#include <grpcpp/impl/server_builder_plugin.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "core/data/status_macros.h"
#include "server/logger.h"
#include "server/proto_conversion.h"

#ifndef ARC_VERSION
#define ARC_VERSION "unknown"
#endif

namespace arc::server {
namespace {

constexpr char kServiceName[] = "arc.v1.ArcSolver";

// Linking grpc++_reflection registers its builder plugin at static initialisation, so every
// server would serve reflection; this option drops the plugin from one builder.
class WithoutReflection final : public grpc::ServerBuilderOption {
 public:
  void UpdateArguments(grpc::ChannelArguments*) override {}
  void UpdatePlugins(std::vector<std::unique_ptr<grpc::ServerBuilderPlugin>>* plugins) override {
    plugins->erase(std::remove_if(plugins->begin(), plugins->end(),
                                  [](const std::unique_ptr<grpc::ServerBuilderPlugin>& p) {
                                    return p->name() == "proto_server_reflection";
                                  }),
                   plugins->end());
  }
};

int WorkerThreads(const ServerOptions& o) {
  if (o.threads > 0) return o.threads;
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  return std::max(1, cores / o.workers);
}

absl::StatusOr<ModelOptions> DeviceOptions(const std::string& device, const std::string& dtype,
                                           const std::string& model_dir) {
  ModelOptions m;
  try {
    m.device = at::Device(device);
  } catch (const c10::Error& e) {
    return absl::InvalidArgumentError(absl::StrCat("--device: \"", device, "\" is not a device"));
  }
  if (m.device.is_cuda()) {
    if (!at::hasCUDA()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "--device: ", device, " requested, but this libtorch build or machine has no CUDA"));
    }
  }
  absl::StatusOr<at::ScalarType> chosen = ChooseModelDtype(model_dir, dtype, m.device);
  if (!chosen.ok()) {
    return absl::Status(chosen.status().code(),
                        absl::StrCat("--dtype: ", chosen.status().message()));
  }
  m.dtype = *chosen;
  return m;
}

}  // namespace

Task WarmupTask() {
  auto g = [](std::vector<std::vector<int>> rows) { return Grid::FromRows(rows).value(); };
  Task t;
  t.id = "warmup";
  t.train.push_back({g({{1, 0}, {0, 2}}), g({{2, 0}, {0, 1}})});
  t.train.push_back({g({{0, 1}, {1, 2}}), g({{0, 2}, {2, 1}})});
  t.test.push_back({g({{2, 1}, {0, 0}}), std::nullopt});
  return t;
}

SolveOptions WarmupOptions(const SolveOptions& defaults) {
  SolveOptions o = defaults;  // the same LoRA targets, format and selection code paths
  o.ttt_data.max_samples = 2;
  o.ttt_data.augment = false;
  o.ttt_data.permute_n = 0;
  o.train.max_steps = 1;
  o.train.batch_size = 1;
  o.train.grad_accum = 1;
  o.views.permutations = 0;
  o.views.transforms.clear();
  o.inference.batch_size = 1;
  o.selection.poe_top_k = 1;
  o.selection.poe_views = 1;
  o.include_views = false;
  return o;
}

ArcServer::ArcServer(ServerOptions options) : options_(std::move(options)) {}

absl::StatusOr<std::unique_ptr<ArcServer>> ArcServer::Start(ServerOptions options) {
  ARC_RETURN_IF_ERROR(ValidateServerOptions(options));
  std::unique_ptr<ArcServer> s(new ArcServer(std::move(options)));
  const ServerOptions& o = s->options_;
  s->metrics_ = std::make_unique<Metrics>();
  if (!o.metrics_address.empty())
    ARC_RETURN_IF_ERROR(s->metrics_->StartExporter(o.metrics_address));
  JobManagerOptions jm;
  jm.queue_capacity = o.queue_capacity;
  jm.workers = o.workers;
  jm.job_ttl = o.job_ttl;
  jm.max_finished_jobs = o.max_finished_jobs;
  s->jobs_ = std::make_unique<JobManager>(jm, s->metrics_.get());
  ARC_ASSIGN_OR_RETURN(s->auth_, Authenticator::Create(o.security));
  ARC_ASSIGN_OR_RETURN(std::shared_ptr<grpc::ServerCredentials> credentials,
                       MakeServerCredentials(o.security));
  s->service_ = std::make_unique<ArcSolverService>(&s->options_, s->jobs_.get(), s->metrics_.get(),
                                                   s->auth_.get());

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  if (!o.security.reflection) builder.SetOption(std::make_unique<WithoutReflection>());
  builder.AddListeningPort(o.address, credentials, &s->port_);
  // A port another process listens on is an error, not a silently shared port: gRPC sets
  // SO_REUSEPORT by default, which lets a second server bind the same port and steal half the
  // connections.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  // Notice clients that vanished without closing their connection (a dead host, a cut network):
  // the Solve calls of a dead client end, and so do their jobs.
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, 20000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10000);
  builder.RegisterService(s->service_.get());
  // Larger requests fail in gRPC itself with RESOURCE_EXHAUSTED, before any handler runs.
  builder.SetMaxReceiveMessageSize(static_cast<int>(o.max_message_bytes));
  // Clients keep minute-long calls alive with pings; accept them every 10 s, also between calls.
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 10000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  s->server_ = builder.BuildAndStart();
  if (!s->server_ || s->port_ == 0) {
    return absl::UnavailableError(absl::StrCat(
        "--address: cannot listen on \"", o.address,
        "\": the port is in use by another process, or the address is not one of this machine"));
  }
  s->server_->GetHealthCheckService()->SetServingStatus("liveness", true);
  s->SetServing(false);
  LogLine(LogLevel::kInfo, "listening")
      .Add("address", o.address)
      .Add("port", s->port_)
      .Add("metrics_port", s->metrics_port())
      .Add("tls", o.security.tls_cert.empty() ? "off"
                  : o.security.tls_client_ca.empty() ? "tls" : "mtls")
      .Add("tokens", s->auth_->num_tokens())
      .Add("reflection", o.security.reflection)
      .Add("version", ARC_VERSION);
  if (!IsLoopbackAddress(o.address) && o.security.tls_cert.empty()) {
    LogLine(LogLevel::kWarning, "plaintext")
        .Add("address", o.address)
        .Add("note", o.security.token_file.empty()
                         ? "--insecure: no TLS and no tokens; anyone who reaches the port owns it"
                         : "tokens travel without TLS: terminate TLS in front of this port");
  }
  return s;
}

ArcServer::~ArcServer() {
  if (server_) {
    Shutdown();
  } else if (jobs_) {
    jobs_->Close();  // Start() failed before serving anything
  }
}

void ArcServer::SetServing(bool serving) {
  grpc::HealthCheckServiceInterface* health = server_->GetHealthCheckService();
  health->SetServingStatus("", serving);
  health->SetServingStatus(kServiceName, serving);
  metrics_->serving().Set(serving ? 1 : 0);
}

absl::Status ArcServer::LoadModel() {
  ARC_ASSIGN_OR_RETURN(ModelOptions device,
                       DeviceOptions(options_.device, options_.dtype, options_.model_dir));
  LogLine(LogLevel::kInfo, "model_loading")
      .Add("dir", options_.model_dir)
      .Add("device", options_.device)
      .Add("dtype", device.dtype == at::kBFloat16 ? "bfloat16" : "float32");
  const absl::Time start = absl::Now();
  absl::StatusOr<std::shared_ptr<const ArcModel>> model = absl::UnknownError("not loaded");
  try {
    model = LoadArcModel(options_.model_dir, device);
  } catch (const c10::Error& e) {
    model = absl::InternalError(e.what_without_backtrace());
  }
  if (!model.ok()) {
    return absl::Status(model.status().code(), absl::StrCat("--model ", options_.model_dir, ": ",
                                                            model.status().message()));
  }
  LogLine(LogLevel::kInfo, "model_loaded")
      .Add("name", (*model)->name)
      .Add("parameters", (*model)->NumParameters())
      .Add("seconds", absl::ToDoubleSeconds(absl::Now() - start));
  return UseModel(*std::move(model));
}

absl::Status ArcServer::UseModel(std::shared_ptr<const ArcModel> model) {
  const int threads = WorkerThreads(options_);
  if (options_.warmup) {
    // On this thread, before any worker exists: the first solve pays for allocator growth, kernel
    // selection and lazy initialisation, and a model that cannot solve fails startup here.
    at::set_num_threads(threads);
    const absl::Time start = absl::Now();
    absl::StatusOr<SolveResult> r = absl::UnknownError("not run");
    try {
      Solver solver(model);
      r = solver.Solve(WarmupTask(), WarmupOptions(options_.defaults));
    } catch (const c10::Error& e) {
      r = absl::InternalError(e.what_without_backtrace());
    }
    if (!r.ok()) {
      return absl::Status(r.status().code(),
                          absl::StrCat("warm-up solve failed: ", r.status().message()));
    }
    LogLine(LogLevel::kInfo, "warmup_done")
        .Add("seconds", absl::ToDoubleSeconds(absl::Now() - start));
  }

  const std::string device = model->net->options().device.str();
  metrics_->SetModelInfo(model->name, std::string(model->format->name()), device,
                         model->NumParameters());
  if (model->net->options().device.is_cuda()) {
    metrics_->RegisterCudaMemory(
        model->net->options().device.index() < 0 ? 0 : model->net->options().device.index());
  }
  v1::ServerInfo info;
  info.set_version(ARC_VERSION);
  info.set_model_name(model->name);
  info.set_prompt_format(std::string(model->format->name()));
  info.set_device(device);
  info.set_parameters(model->NumParameters());
  info.set_context_tokens(model->MaxSequenceLength());
  info.set_workers(options_.workers);
  info.set_queue_capacity(options_.queue_capacity);
  info.set_max_message_bytes(options_.max_message_bytes);
  *info.mutable_defaults() = SolveOptionsToProto(options_.defaults);
  info.set_limits(DescribeLimits(options_.limits, options_.task_limits));

  absl::MutexLock lock(&mu_);
  if (state_ != State::kStarting) {
    return absl::OkStatus();  // a drain began while loading: never report SERVING
  }
  workers_ = std::make_unique<WorkerPool>(model,
                                          WorkerPoolOptions{options_.workers, threads,
                                                            options_.job_timeout},
                                          jobs_.get(), metrics_.get());
  workers_->Start();
  service_->SetReady(std::move(info), std::make_unique<JobCostModel>(model));
  jobs_->StartAdmitting();
  SetServing(true);
  state_ = State::kServing;
  LogLine(LogLevel::kInfo, "serving")
      .Add("port", port_)
      .Add("model", model->name)
      .Add("device", device)
      .Add("workers", options_.workers)
      .Add("threads", threads)
      .Add("queue_capacity", options_.queue_capacity);
  return absl::OkStatus();
}

void ArcServer::BeginDrain() {
  absl::MutexLock lock(&mu_);
  if (state_ == State::kDraining || state_ == State::kStopped) return;
  state_ = State::kDraining;
  jobs_->StopAdmitting(absl::UnavailableError("server is draining: not accepting new jobs"));
  SetServing(false);
  LogLine(LogLevel::kInfo, "draining")
      .Add("queued", jobs_->queued())
      .Add("running", jobs_->running())
      .Add("drain_timeout_s", absl::ToDoubleSeconds(options_.drain_timeout));
}

void ArcServer::Shutdown() {
  absl::MutexLock serial(&shutdown_mu_);
  {
    absl::MutexLock lock(&mu_);
    if (state_ == State::kStopped) return;
  }
  BeginDrain();
  const absl::Time start = absl::Now();
  bool drained = jobs_->WaitIdle(options_.drain_timeout);
  if (!drained) {
    jobs_->CancelAll(
        absl::UnavailableError("server shutting down: the job was cancelled at the drain timeout"));
    // Cancellation takes effect at the next training or decode step.
    drained = jobs_->WaitIdle(absl::Seconds(30));
  }
  jobs_->Close();
  if (workers_) workers_->Join();
  // Every job has ended, so every Solve/stream call has been answered; what remains are short
  // calls, health watches and idle connections (a client that is not polling its channel does not
  // see the GOAWAY), which gRPC cancels or closes after a short grace.
  const absl::Time grpc_start = absl::Now();
  server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  server_->Wait();
  LogLine(LogLevel::kDebug, "grpc_stopped")
      .Add("seconds", absl::ToDoubleSeconds(absl::Now() - grpc_start));
  {
    absl::MutexLock lock(&mu_);
    state_ = State::kStopped;
  }
  LogLine(LogLevel::kInfo, "stopped")
      .Add("drain_s", absl::ToDoubleSeconds(absl::Now() - start))
      .Add("clean", drained);
}

}  // namespace arc::server
