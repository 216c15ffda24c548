#include "client/load.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "client/convert.h"

namespace arc::client {
namespace {

std::string Ms(absl::Duration d) {
  return absl::StrFormat("%.2f ms", absl::ToDoubleMilliseconds(d));
}

}  // namespace

LoadReport RunLoad(const LoadOptions& options, const std::function<grpc::Status()>& call) {
  struct Sample {
    absl::Duration latency;
    grpc::Status status;
  };
  const int workers = std::max(options.concurrency, 1);
  std::atomic<int64_t> next{0};
  std::mutex mu;
  std::vector<Sample> samples;
  absl::Time last_finish;

  const absl::Time start = absl::Now();
  const absl::Time end = start + options.duration;
  auto worker = [&] {
    for (;;) {
      const int64_t i = next.fetch_add(1);
      if (options.total > 0 && i >= options.total) return;
      if (options.rate > 0) {
        const absl::Time slot = start + absl::Seconds(static_cast<double>(i) / options.rate);
        if (options.total == 0 && slot >= end) return;
        const absl::Time now = absl::Now();
        if (slot > now) absl::SleepFor(slot - now);
      }
      if (options.total == 0 && absl::Now() >= end) return;
      const absl::Time t0 = absl::Now();
      grpc::Status status = call();
      const absl::Time t1 = absl::Now();
      std::lock_guard<std::mutex> lock(mu);
      samples.push_back({t1 - t0, std::move(status)});
      last_finish = std::max(last_finish, t1);
    }
  };
  std::vector<std::thread> threads;
  threads.reserve(static_cast<size_t>(workers));
  for (int w = 0; w < workers; ++w) threads.emplace_back(worker);
  for (std::thread& t : threads) t.join();

  LoadReport r;
  r.count = static_cast<int64_t>(samples.size());
  r.elapsed = r.count > 0 ? last_finish - start : absl::ZeroDuration();
  r.requests_per_second =
      r.elapsed > absl::ZeroDuration() ? r.count / absl::ToDoubleSeconds(r.elapsed) : 0;
  std::vector<absl::Duration> ok, all;
  for (const Sample& s : samples) {
    all.push_back(s.latency);
    ++r.codes[static_cast<int>(s.status.error_code())];
    if (s.status.ok()) {
      ok.push_back(s.latency);
    } else {
      ++r.errors[absl::StrCat(StatusCodeName(s.status.error_code()), ": ",
                              s.status.error_message())];
    }
  }
  r.ok_latency = Summarize(std::move(ok));
  r.all_latency = Summarize(std::move(all));
  return r;
}

std::string FormatLoadReport(const LoadReport& r) {
  std::string out = "Summary:\n";
  absl::StrAppend(&out, absl::StrFormat("  Count:         %d\n", r.count));
  absl::StrAppend(&out,
                  absl::StrFormat("  Total:         %.2f s\n", absl::ToDoubleSeconds(r.elapsed)));
  absl::StrAppend(&out, absl::StrFormat("  Requests/sec:  %.2f\n", r.requests_per_second));
  const LatencySummary& l = r.ok_latency;
  absl::StrAppend(&out, "\nLatency (", l.count, " OK calls):\n");
  if (l.count > 0) {
    absl::StrAppend(&out, "  min    ", Ms(l.min), "\n");
    absl::StrAppend(&out, "  mean   ", Ms(l.mean), "\n");
    absl::StrAppend(&out, "  p50    ", Ms(l.p50), "\n");
    absl::StrAppend(&out, "  p90    ", Ms(l.p90), "\n");
    absl::StrAppend(&out, "  p99    ", Ms(l.p99), "\n");
    absl::StrAppend(&out, "  max    ", Ms(l.max), "\n");
  }
  out += "\nStatus code distribution:\n";
  int64_t most = 1;
  for (const auto& [code, n] : r.codes) most = std::max(most, n);
  for (const auto& [code, n] : r.codes) {
    const int bar = static_cast<int>(40 * n / most);
    absl::StrAppend(
        &out, absl::StrFormat("  %-20s %8d  %s\n", absl::StrCat("[", StatusCodeName(code), "]"), n,
                              std::string(static_cast<size_t>(std::max(bar, 1)), '#')));
  }
  if (!r.errors.empty()) {
    // The most frequent messages first; a handful is enough to see what went wrong.
    std::vector<std::pair<std::string, int64_t>> errors(r.errors.begin(), r.errors.end());
    std::stable_sort(errors.begin(), errors.end(),
                     [](const auto& a, const auto& b) { return a.second > b.second; });
    out += "\nError distribution:\n";
    for (size_t i = 0; i < errors.size() && i < 5; ++i) {
      absl::StrAppend(&out, absl::StrFormat("  [%d] %s\n", errors[i].second, errors[i].first));
    }
  }
  return out;
}

}  // namespace arc::client
