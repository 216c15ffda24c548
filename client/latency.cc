#include "client/latency.h"

#include <algorithm>
#include <cmath>

namespace arc::client {

absl::Duration Percentile(const std::vector<absl::Duration>& sorted, double p) {
  const double q = std::clamp(p, 0.0, 100.0);
  const size_t n = sorted.size();
  // The rank is computed in integer hundredths of a percent so that e.g. p90 of 10 samples is
  // exactly rank 9, not 9.000000000000002 -> 10.
  const int64_t hundredths = std::llround(q * 100.0);
  const int64_t rank = (hundredths * static_cast<int64_t>(n) + 9999) / 10000;  // ceil
  const size_t index = rank <= 0 ? 0 : static_cast<size_t>(rank - 1);
  return sorted[std::min(index, n - 1)];
}

LatencySummary Summarize(std::vector<absl::Duration> samples) {
  LatencySummary s;
  if (samples.empty()) return s;
  std::sort(samples.begin(), samples.end());
  s.count = static_cast<int64_t>(samples.size());
  s.min = samples.front();
  s.max = samples.back();
  absl::Duration total;
  for (const absl::Duration d : samples) total += d;
  s.mean = total / s.count;
  s.p50 = Percentile(samples, 50);
  s.p90 = Percentile(samples, 90);
  s.p99 = Percentile(samples, 99);
  return s;
}

}  // namespace arc::client
