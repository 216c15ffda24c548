#include "client/retry.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "absl/strings/numbers.h"

namespace arc::client {

bool IsRetryable(grpc::StatusCode code) {
  return code == grpc::StatusCode::UNAVAILABLE || code == grpc::StatusCode::RESOURCE_EXHAUSTED;
}

Backoff::Backoff(const RetryPolicy& policy, uint64_t stream)
    : policy_(policy), rng_(Rng(policy.seed).Fork(stream)) {}

absl::Duration Backoff::Next(std::optional<absl::Duration> server_hint) {
  // The exponent is capped so that multiplier^k cannot overflow a double for long retry chains.
  const double growth = std::pow(policy_.multiplier, std::min(retries_, 60));
  absl::Duration base = std::min(policy_.initial_backoff * growth, policy_.max_backoff);
  ++retries_;
  if (policy_.jitter > 0) {
    // Draw even when a hint wins, so the stream does not depend on what the server sent.
    const double factor = 1.0 + policy_.jitter * (2.0 * rng_.UniformDouble() - 1.0);
    base = base * factor;
  }
  if (server_hint && *server_hint > base) return *server_hint;
  return base;
}

namespace {

std::optional<absl::Duration> FindRetryAfter(
    const std::multimap<grpc::string_ref, grpc::string_ref>& md) {
  const auto it = md.find("retry-after-ms");
  if (it == md.end()) return std::nullopt;
  int64_t ms = 0;
  if (!absl::SimpleAtoi(std::string(it->second.data(), it->second.size()), &ms) || ms < 0) {
    return std::nullopt;
  }
  return absl::Milliseconds(ms);
}

}  // namespace

std::optional<absl::Duration> RetryAfterFromMetadata(
    const std::multimap<grpc::string_ref, grpc::string_ref>& trailing,
    const std::multimap<grpc::string_ref, grpc::string_ref>& initial) {
  if (auto d = FindRetryAfter(trailing)) return d;
  return FindRetryAfter(initial);
}

RetryOutcome RunWithRetries(const RetryPolicy& policy, uint64_t stream, absl::Time deadline,
                            const std::function<AttemptResult(int attempt)>& attempt,
                            const Clock& clock) {
  Backoff backoff(policy, stream);
  RetryOutcome out;
  for (int k = 0;; ++k) {
    AttemptResult r = attempt(k);
    out.status = r.status;
    out.attempts = k + 1;
    if (r.status.ok() || !r.retryable || !IsRetryable(r.status.error_code())) return out;
    // RESOURCE_EXHAUSTED is retried only when the server named a delay (a full queue); without one
    // (a job over the cost limits, a message too large) the same request fails the same way.
    if (r.status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED && !r.retry_after) return out;
    if (k >= policy.max_retries) return out;
    const absl::Duration wait = backoff.Next(r.retry_after);
    if (clock.now() + wait >= deadline) return out;
    clock.sleep(wait);
    out.waited += wait;
  }
}

}  // namespace arc::client
