// Retries: which gRPC codes are retried, the backoff schedule between attempts, and the loop that
// runs a call's attempts until one succeeds, fails for good, or the call's deadline would pass.
//
// Policy (after AIP-194 and the server's contract in proto/arc/v1/arc_solver.proto):
// - only UNAVAILABLE (server not ready or draining, connection lost) and RESOURCE_EXHAUSTED with a
//   "retry-after-ms" hint (the server's queue is full) are retried; every other code is final, and
//   so is RESOURCE_EXHAUSTED without a hint (a job over the server's cost limits, a message over
//   its size limit: retrying the same request cannot help);
// - the k-th retry (k = 0, 1, ...) waits min(initial * multiplier^k, max) scaled by a factor drawn
//   uniformly from [1 - jitter, 1 + jitter] (jitter 0: exactly the base, deterministic);
// - when the server names a delay in "retry-after-ms" metadata, the wait is at least that delay;
// - a retry whose wait would end after the call's deadline is not made (the last status stands).
// Calls that create jobs carry a request_id so that a retried call gets the same job.
//
// Backoff is not thread-safe (one per call); RunWithRetries is reentrant.
#ifndef ARC_CLIENT_RETRY_H_
#define ARC_CLIENT_RETRY_H_

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>

#include "absl/time/time.h"
#include "core/data/rng.h"

namespace arc::client {

struct RetryPolicy {
  int max_retries = 3;                                       // attempts after the first; 0 = none
  absl::Duration initial_backoff = absl::Milliseconds(200);  // wait before the first retry
  double multiplier = 2.0;                                   // growth per retry
  absl::Duration max_backoff = absl::Seconds(10);            // cap on one wait (before jitter)
  double jitter = 0.2;                                       // +- fraction; 0 = deterministic
  uint64_t seed = 1;                                         // jitter stream
};

bool IsRetryable(grpc::StatusCode code);

// The wait before each retry of one call.
class Backoff {
 public:
  // `stream` picks an independent jitter stream (e.g. a per-call counter).
  Backoff(const RetryPolicy& policy, uint64_t stream);

  // The wait before the next retry; `server_hint` is the server's retry-after delay, if any.
  absl::Duration Next(std::optional<absl::Duration> server_hint = std::nullopt);
  int retries_so_far() const { return retries_; }

 private:
  RetryPolicy policy_;
  Rng rng_;
  int retries_ = 0;
};

// The "retry-after-ms" value of server metadata (trailing metadata first, then initial), when it
// is a non-negative integer.
std::optional<absl::Duration> RetryAfterFromMetadata(
    const std::multimap<grpc::string_ref, grpc::string_ref>& trailing,
    const std::multimap<grpc::string_ref, grpc::string_ref>& initial);

// One attempt's outcome.
struct AttemptResult {
  grpc::Status status;
  std::optional<absl::Duration> retry_after;  // the server's hint, if it sent one
  bool retryable = true;  // false: final whatever the code (e.g. a stream already delivered data)
};

// Time source and sleep, injectable for tests.
struct Clock {
  std::function<absl::Time()> now = [] { return absl::Now(); };
  std::function<void(absl::Duration)> sleep = [](absl::Duration d) { absl::SleepFor(d); };
};

struct RetryOutcome {
  grpc::Status status;  // the last attempt's status
  int attempts = 0;
  absl::Duration waited;  // total backoff
};

// Calls attempt(k) for k = 0, 1, ... per the policy above.
RetryOutcome RunWithRetries(const RetryPolicy& policy, uint64_t stream, absl::Time deadline,
                            const std::function<AttemptResult(int attempt)>& attempt,
                            const Clock& clock = Clock());

}  // namespace arc::client

#endif  // ARC_CLIENT_RETRY_H_
