// Latency statistics for the load generator: nearest-rank percentiles and a summary.
//
// The p-th percentile of n samples is the smallest sample such that at least p% of the samples
// are <= it: sorted[ceil(p/100 * n) - 1] (p = 0 gives the minimum). No interpolation, so every
// reported latency is one that a request really had.
//
// Pure functions; thread-safe.
#ifndef ARC_CLIENT_LATENCY_H_
#define ARC_CLIENT_LATENCY_H_

#include <cstdint>
#include <vector>

#include "absl/time/time.h"

namespace arc::client {

// `sorted` ascending and non-empty; p in [0, 100] (clamped).
absl::Duration Percentile(const std::vector<absl::Duration>& sorted, double p);

struct LatencySummary {
  int64_t count = 0;
  absl::Duration min, mean, p50, p90, p99, max;  // all zero when count == 0
};

LatencySummary Summarize(std::vector<absl::Duration> samples);

}  // namespace arc::client

#endif  // ARC_CLIENT_LATENCY_H_
