#include "server/server_options.h"

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

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
        DefaultWithin("ttt_max_steps", o.defaults.train.max_steps, "limit_ttt_steps",
                      o.limits.ttt_steps),
        DefaultWithin("ttt_max_samples", o.defaults.ttt_data.max_samples, "limit_ttt_samples",
                      o.limits.ttt_samples),
        DefaultWithin("ttt_batch_size", o.defaults.train.batch_size, "limit_ttt_batch_size",
                      o.limits.ttt_batch_size),
        DefaultWithin("lora_rank", o.defaults.lora.rank, "limit_lora_rank", o.limits.lora_rank),
        DefaultWithin("infer_batch_size", o.defaults.inference.batch_size, "limit_infer_batch_size",
                      o.limits.inference_batch_size),
        DefaultWithin("max_new_tokens", o.defaults.inference.max_new_tokens, "limit_new_tokens",
                      o.limits.new_tokens)}) {
    if (!s.ok()) return s;
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
