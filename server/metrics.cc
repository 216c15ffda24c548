#include "server/metrics.h"

#include <dirent.h>
#include <google/protobuf/stubs/common.h>
#include <grpcpp/grpcpp.h>
#include <prometheus/text_serializer.h>
#include <torch/version.h>
#include <unistd.h>

#include <exception>
#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "core/data/enum_names.h"

#ifdef ARC_SERVER_WITH_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#endif

#ifndef ARC_VERSION
#define ARC_VERSION "unknown"
#endif

namespace arc::server {
namespace {

constexpr const char* kMethods[] = {"Solve",    "SolveStream", "SubmitTask", "GetJob",
                                    "WatchJob", "CancelJob",   "ListJobs",   "GetServerInfo"};
constexpr const char* kPhases[] = {"queue",     "search",   "ttt_data",
                                   "ttt_train", "inference", "selection"};

prometheus::MetricFamily Single(const std::string& name, const std::string& help,
                                prometheus::MetricType type, double value) {
  prometheus::MetricFamily f;
  f.name = name;
  f.help = help;
  f.type = type;
  prometheus::ClientMetric m;
  if (type == prometheus::MetricType::Counter) {
    m.counter.value = value;
  } else {
    m.gauge.value = value;
  }
  f.metric.push_back(std::move(m));
  return f;
}

// The process_* metrics of the Prometheus client libraries, read from /proc at scrape time.
class ProcessCollector final : public prometheus::Collectable {
 public:
  std::vector<prometheus::MetricFamily> Collect() const override {
    std::vector<prometheus::MetricFamily> out;
    std::ifstream stat_file("/proc/self/stat");
    std::string stat((std::istreambuf_iterator<char>(stat_file)), std::istreambuf_iterator<char>());
    // The command name (field 2) is parenthesised and may contain spaces: split after its ')'.
    const size_t close = stat.rfind(')');
    if (close == std::string::npos) return out;
    std::vector<std::string> f = absl::StrSplit(stat.substr(close + 2), ' ', absl::SkipEmpty());
    // f[0] is field 3 (state); field k is f[k - 3].
    auto field = [&f](int k) -> double {
      double v = 0;
      if (k - 3 < static_cast<int>(f.size())) (void)absl::SimpleAtod(f[k - 3], &v);
      return v;
    };
    const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
    const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
    out.push_back(Single("process_cpu_seconds_total", "User and system CPU time in seconds.",
                         prometheus::MetricType::Counter, (field(14) + field(15)) / ticks));
    out.push_back(Single("process_resident_memory_bytes", "Resident memory size in bytes.",
                         prometheus::MetricType::Gauge, field(24) * page));
    out.push_back(Single("process_virtual_memory_bytes", "Virtual memory size in bytes.",
                         prometheus::MetricType::Gauge, field(23)));
    out.push_back(Single("process_threads", "Threads of the process.",
                         prometheus::MetricType::Gauge, field(20)));
    if (boot_time_ > 0) {
      out.push_back(Single("process_start_time_seconds",
                           "Start time of the process since the Unix epoch in seconds.",
                           prometheus::MetricType::Gauge, boot_time_ + field(22) / ticks));
    }
    int fds = 0;
    if (DIR* dir = opendir("/proc/self/fd")) {
      while (dirent* e = readdir(dir)) fds += e->d_name[0] != '.';
      closedir(dir);
      --fds;  // the directory stream itself
    }
    out.push_back(
        Single("process_open_fds", "Open file descriptors.", prometheus::MetricType::Gauge, fds));
    return out;
  }

  ProcessCollector() {
    std::ifstream in("/proc/stat");
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind("btime ", 0) == 0) (void)absl::SimpleAtod(line.substr(6), &boot_time_);
    }
  }

 private:
  double boot_time_ = 0;
};

#ifdef ARC_SERVER_WITH_CUDA
// The torch caching allocator's view of one device, read at scrape time.
class CudaMemoryCollector final : public prometheus::Collectable {
 public:
  explicit CudaMemoryCollector(int device) : device_(device) {}
  std::vector<prometheus::MetricFamily> Collect() const override {
    // Index 0 of the stat arrays is the aggregate over pool types in every libtorch version.
    const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(device_);
    auto family = [this](const std::string& name, const std::string& help, double value) {
      prometheus::MetricFamily f = Single(name, help, prometheus::MetricType::Gauge, value);
      f.metric[0].label.push_back({"device", absl::StrCat("cuda:", device_)});
      return f;
    };
    return {family("arc_cuda_memory_allocated_bytes", "CUDA memory in use by tensors, bytes.",
                   static_cast<double>(stats.allocated_bytes[0].current)),
            family("arc_cuda_memory_reserved_bytes",
                   "CUDA memory reserved by the caching allocator, bytes.",
                   static_cast<double>(stats.reserved_bytes[0].current))};
  }

 private:
  int device_;
};
#endif

}  // namespace

const std::vector<double>& Metrics::DurationBuckets() {
  static const std::vector<double>* buckets =
      new std::vector<double>{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
                              2.5,   5,      10,    20,   30,    60,   120, 180,  300, 600};
  return *buckets;
}

absl::string_view JobOutcomeName(JobOutcome outcome) {
  static constexpr EnumName<JobOutcome> kNames[] = {
      {JobOutcome::kSucceeded, "succeeded"},
      {JobOutcome::kFailed, "failed"},
      {JobOutcome::kCancelled, "cancelled"},
      {JobOutcome::kDeadlineExceeded, "deadline_exceeded"},
  };
  return NameOf(kNames, outcome, "failed");
}

Metrics::Metrics() : registry_(std::make_shared<prometheus::Registry>()) {
  using prometheus::BuildCounter;
  using prometheus::BuildGauge;
  using prometheus::BuildHistogram;
  prometheus::Registry& r = *registry_;
  requests_ = &BuildCounter()
                   .Name("arc_requests_total")
                   .Help("RPCs answered, by method and gRPC status code.")
                   .Register(r);
  request_duration_ = &BuildHistogram()
                           .Name("arc_request_duration_seconds")
                           .Help("RPC handling time from arrival to status, seconds.")
                           .Register(r);
  for (const char* m : kMethods) {
    requests_->Add({{"method", m}, {"code", "OK"}});
    request_duration_->Add({{"method", m}}, DurationBuckets());
  }
  phase_duration_ = &BuildHistogram()
                         .Name("arc_phase_duration_seconds")
                         .Help(
                             "Time per job in each phase (queue, search, ttt_data, ttt_train, "
                             "inference, selection), seconds.")
                         .Register(r);
  for (const char* p : kPhases) phase_duration_->Add({{"phase", p}}, DurationBuckets());
  job_duration_ = &BuildHistogram()
                       .Name("arc_job_duration_seconds")
                       .Help("Time per job from admission to its result, seconds.")
                       .Register(r)
                       .Add({}, DurationBuckets());
  jobs_ = &BuildCounter().Name("arc_jobs_total").Help("Finished jobs by outcome.").Register(r);
  for (JobOutcome o : {JobOutcome::kSucceeded, JobOutcome::kFailed, JobOutcome::kCancelled,
                       JobOutcome::kDeadlineExceeded}) {
    jobs_->Add({{"outcome", std::string(JobOutcomeName(o))}});
  }
  auto gauge = [&r](const char* name, const char* help) {
    return &BuildGauge().Name(name).Help(help).Register(r).Add({});
  };
  auto counter = [&r](const char* name, const char* help) {
    return &BuildCounter().Name(name).Help(help).Register(r).Add({});
  };
  queue_depth_ = gauge("arc_queue_depth", "Jobs waiting for a worker.");
  queue_capacity_ = gauge("arc_queue_capacity", "Jobs the queue holds before refusing work.");
  jobs_in_flight_ = gauge("arc_jobs_in_flight", "Jobs being solved by a worker.");
  workers_ = gauge("arc_workers", "Worker threads (jobs solved at once).");
  adapters_resident_ = gauge("arc_adapters_resident", "LoRA adapters allocated.");
  ttt_last_loss_ = gauge("arc_ttt_last_loss", "Training loss of the latest TTT step.");
  serving_ = gauge("arc_serving", "1 when the health status is SERVING, else 0.");
  model_parameters_ = gauge("arc_model_parameters", "Parameters of the base model.");
  ttt_steps_ = counter("arc_ttt_steps_total", "TTT optimizer steps.");
  ttt_tokens_ = counter("arc_ttt_tokens_total", "Tokens through the model during TTT.");
  ttt_samples_ = counter("arc_ttt_samples_total", "TTT samples of finished jobs.");
  prompt_tokens_ = counter("arc_prompt_tokens_total", "Prompt tokens of inference views.");
  search_programs_ = counter("arc_search_programs_total", "Programs the search tried.");
  auto& search_tasks = BuildCounter()
                           .Name("arc_search_tasks_total")
                           .Help("Tasks searched, by whether a program explained them.")
                           .Register(r);
  search_explained_ = &search_tasks.Add({{"explained", "true"}});
  search_unexplained_ = &search_tasks.Add({{"explained", "false"}});
  generated_tokens_ = counter("arc_generated_tokens_total", "Tokens generated by inference.");
  BuildGauge()
      .Name("arc_build_info")
      .Help("Build versions; always 1.")
      .Register(r)
      .Add({{"version", ARC_VERSION},
            {"torch", TORCH_VERSION},
            {"grpc", grpc::Version()},
            {"protobuf", google::protobuf::internal::VersionString(GOOGLE_PROTOBUF_VERSION)}})
      .Set(1);
  model_info_ =
      &BuildGauge().Name("arc_model_info").Help("The served model; always 1.").Register(r);
  absl::MutexLock lock(&collectors_mu_);
  collectors_.push_back(std::make_shared<ProcessCollector>());
}

Metrics::~Metrics() = default;

absl::Status Metrics::StartExporter(const std::string& address) {
  if (exporter_) return absl::FailedPreconditionError("metrics exporter already started");
  auto exporter = std::make_unique<MetricsExporter>([this] { return Serialize(); });
  if (absl::Status s = exporter->Start(address); !s.ok()) return s;
  exporter_ = std::move(exporter);
  return absl::OkStatus();
}

int Metrics::exporter_port() const { return exporter_ ? exporter_->port() : 0; }

std::string Metrics::Serialize() const {
  std::vector<prometheus::MetricFamily> families = registry_->Collect();
  absl::MutexLock lock(&collectors_mu_);
  for (const auto& c : collectors_) {
    std::vector<prometheus::MetricFamily> more = c->Collect();
    families.insert(families.end(), more.begin(), more.end());
  }
  return prometheus::TextSerializer().Serialize(families);
}

void Metrics::SetModelInfo(const std::string& model, const std::string& format,
                           const std::string& device, int64_t parameters) {
  model_info_->Add({{"model", model}, {"format", format}, {"device", device}}).Set(1);
  model_parameters_->Set(static_cast<double>(parameters));
}

void Metrics::RegisterCudaMemory(int device_index) {
#ifdef ARC_SERVER_WITH_CUDA
  absl::MutexLock lock(&collectors_mu_);
  collectors_.push_back(std::make_shared<CudaMemoryCollector>(device_index));
#else
  (void)device_index;
#endif
}

void Metrics::ObserveRequest(absl::string_view method, absl::string_view code, double seconds) {
  requests_->Add({{"method", std::string(method)}, {"code", std::string(code)}}).Increment();
  request_duration_->Add({{"method", std::string(method)}}, DurationBuckets()).Observe(seconds);
}

void Metrics::ObservePhase(absl::string_view phase, double seconds) {
  phase_duration_->Add({{"phase", std::string(phase)}}, DurationBuckets()).Observe(seconds);
}

void Metrics::ObserveJob(JobOutcome outcome, double seconds) {
  jobs_->Add({{"outcome", std::string(JobOutcomeName(outcome))}}).Increment();
  job_duration_->Observe(seconds);
}

}  // namespace arc::server
