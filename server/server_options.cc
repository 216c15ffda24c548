#include "server/server_options.h"

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "core/data/status_macros.h"

namespace arc::server {
namespace {

absl::Status Within(const char* flag, int64_t value, int64_t lo, int64_t hi) {
  if (value >= lo && value <= hi) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("--", flag, ": ", value, " is outside ", lo, "..", hi));
}

absl::Status DefaultWithin(const char* flag, int64_t value, const char* limit_flag, int64_t limit) {
  if (value <= limit) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("--", flag, ": the default ", value, " is above --", limit_flag, " ", limit));
}

}  // namespace

std::optional<int64_t> OptionLimit(const OptionLimits& limits, std::string_view option) {
  for (const LimitedOption& l : kLimitedOptions) {
    if (option == l.option) return limits.*l.limit;
  }
  return std::nullopt;
}

absl::Status ValidateServerOptions(const ServerOptions& o) {
  if (o.address.empty()) return absl::InvalidArgumentError("--address: required (host:port)");
  if (o.model_dir.empty())
    return absl::InvalidArgumentError("--model: required (a model directory)");
  if (o.device != "cpu" && o.device != "cuda") {
    int index = -1;
    if (!absl::StartsWith(o.device, "cuda:") || !absl::SimpleAtoi(o.device.substr(5), &index) ||
        index < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("--device: \"", o.device, "\" is not one of cpu, cuda, cuda:N"));
    }
  }
  if (o.dtype != "auto" && o.dtype != "float32" && o.dtype != "bfloat16") {
    return absl::InvalidArgumentError(
        absl::StrCat("--dtype: \"", o.dtype, "\" is not one of auto, float32, bfloat16"));
  }
  for (absl::Status s :
       {Within("workers", o.workers, 1, 64), Within("threads", o.threads, 0, 1024),
        Within("queue_capacity", o.queue_capacity, 1, 1000000),
        Within("max_finished_jobs", o.max_finished_jobs, 1, 10000000),
        Within("list_jobs_limit", o.list_jobs_limit, 1, 1000000),
        Within("max_message_bytes", o.max_message_bytes, 1024, int64_t{1} << 30),
        Within("limit_ttt_steps", o.limits.ttt_steps, 1, 1000000),
        Within("limit_ttt_samples", o.limits.ttt_samples, 1, 100000),
        Within("limit_ttt_batch_size", o.limits.ttt_batch_size, 1, 256),
        Within("limit_lora_rank", o.limits.lora_rank, 1, 4096),
        Within("limit_views", o.limits.views, 1, 4096),
        Within("limit_infer_batch_size", o.limits.inference_batch_size, 1, 256),
        Within("limit_new_tokens", o.limits.new_tokens, 1, 1 << 16),
        Within("limit_search_work", o.limits.search_work, 1, 1000000)}) {
    if (!s.ok()) return s;
  }
  for (const LimitedOption& l : kLimitedOptions) {
    const int64_t value = std::get<int64_t>(FindSolveOption(l.option)->get(o.defaults));
    ARC_RETURN_IF_ERROR(DefaultWithin(l.option, value, l.limit_flag, o.limits.*l.limit));
  }
  ARC_RETURN_IF_ERROR(ValidateSecurityOptions(o.security));
  ARC_RETURN_IF_ERROR(CheckExposure(o.address, o.security));
  if (o.costs.max_job_bytes < (int64_t{16} << 20) || o.costs.max_job_token_steps < 1 ||
      !(o.costs.max_step_gflop > 0)) {
    return absl::InvalidArgumentError(
        "--max_job_memory_mb must be at least 16, --max_job_token_steps and --max_step_gflop "
        "positive");
  }
  if (o.job_timeout < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--job_timeout: ", absl::FormatDuration(o.job_timeout), " is negative"));
  }
  if (o.job_ttl <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--job_ttl: ", absl::FormatDuration(o.job_ttl), " is not positive"));
  }
  if (o.drain_timeout < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--drain_timeout: ", absl::FormatDuration(o.drain_timeout), " is negative"));
  }
  if (absl::Status s = ValidateSolveOptions(o.defaults); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("default options: ", s.message()));
  }
  return absl::OkStatus();
}

}  // namespace arc::server
