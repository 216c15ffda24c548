// Nearest-rank percentiles, the latency summary and the load generator's bounded loops.
#include <atomic>

#include "client/latency.h"
#include "client/load.h"
#include "gtest/gtest.h"

namespace arc::client {
namespace {

std::vector<absl::Duration> Ms(std::initializer_list<int> ms) {
  std::vector<absl::Duration> v;
  for (int m : ms) v.push_back(absl::Milliseconds(m));
  return v;
}

TEST(ClientLatencyTest, NearestRankPercentiles) {
  const std::vector<absl::Duration> ten = Ms({1, 2, 3, 4, 5, 6, 7, 8, 9, 10});
  EXPECT_EQ(Percentile(ten, 0), absl::Milliseconds(1));
  EXPECT_EQ(Percentile(ten, 10), absl::Milliseconds(1));
  EXPECT_EQ(Percentile(ten, 11), absl::Milliseconds(2));
  EXPECT_EQ(Percentile(ten, 50), absl::Milliseconds(5));
  EXPECT_EQ(Percentile(ten, 90), absl::Milliseconds(9));
  EXPECT_EQ(Percentile(ten, 99), absl::Milliseconds(10));
  EXPECT_EQ(Percentile(ten, 100), absl::Milliseconds(10));
  EXPECT_EQ(Percentile(ten, 150), absl::Milliseconds(10));  // clamped
  const std::vector<absl::Duration> one = Ms({7});
  EXPECT_EQ(Percentile(one, 50), absl::Milliseconds(7));
  EXPECT_EQ(Percentile(one, 99), absl::Milliseconds(7));
  // 200 samples 1..200 ms: p99 is the 198th.
  std::vector<absl::Duration> many;
  for (int i = 1; i <= 200; ++i) many.push_back(absl::Milliseconds(i));
  EXPECT_EQ(Percentile(many, 99), absl::Milliseconds(198));
  EXPECT_EQ(Percentile(many, 50), absl::Milliseconds(100));
}

TEST(ClientLatencyTest, SummarySortsAndAverages) {
  const LatencySummary s = Summarize(Ms({30, 10, 20, 40}));
  EXPECT_EQ(s.count, 4);
  EXPECT_EQ(s.min, absl::Milliseconds(10));
  EXPECT_EQ(s.max, absl::Milliseconds(40));
  EXPECT_EQ(s.mean, absl::Milliseconds(25));
  EXPECT_EQ(s.p50, absl::Milliseconds(20));
  EXPECT_EQ(s.p90, absl::Milliseconds(40));
  const LatencySummary empty = Summarize({});
  EXPECT_EQ(empty.count, 0);
  EXPECT_EQ(empty.max, absl::ZeroDuration());
}

TEST(ClientLoadTest, TotalCountsEveryCallAndCode) {
  std::atomic<int> n{0};
  LoadOptions o;
  o.concurrency = 3;
  o.total = 20;
  const LoadReport r = RunLoad(o, [&] {
    const int i = n.fetch_add(1);
    return i % 4 == 0 ? grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, "queue full")
                      : grpc::Status::OK;
  });
  EXPECT_EQ(n.load(), 20);
  EXPECT_EQ(r.count, 20);
  EXPECT_EQ(r.codes.at(0), 15);
  EXPECT_EQ(r.codes.at(8), 5);
  EXPECT_EQ(r.ok_latency.count, 15);
  EXPECT_EQ(r.all_latency.count, 20);
  EXPECT_EQ(r.errors.at("RESOURCE_EXHAUSTED: queue full"), 5);
  const std::string text = FormatLoadReport(r);
  EXPECT_NE(text.find("Count:         20"), std::string::npos) << text;
  EXPECT_NE(text.find("[OK]"), std::string::npos) << text;
  EXPECT_NE(text.find("[RESOURCE_EXHAUSTED]"), std::string::npos) << text;
  EXPECT_NE(text.find("[5] RESOURCE_EXHAUSTED: queue full"), std::string::npos) << text;
}

TEST(ClientLoadTest, RateSpacesTheCalls) {
  LoadOptions o;
  o.concurrency = 4;
  o.total = 6;
  o.rate = 50;  // call i starts at >= i * 20 ms: the last at >= 100 ms
  const absl::Time t0 = absl::Now();
  const LoadReport r = RunLoad(o, [] { return grpc::Status::OK; });
  EXPECT_EQ(r.count, 6);
  EXPECT_GE(absl::Now() - t0, absl::Milliseconds(100));
  EXPECT_LE(r.requests_per_second, 61.0);
}

TEST(ClientLoadTest, DurationBoundsTheRun) {
  LoadOptions o;
  o.concurrency = 2;
  o.duration = absl::Milliseconds(150);
  const absl::Time t0 = absl::Now();
  const LoadReport r = RunLoad(o, [] {
    absl::SleepFor(absl::Milliseconds(10));
    return grpc::Status::OK;
  });
  const absl::Duration took = absl::Now() - t0;
  EXPECT_GE(took, absl::Milliseconds(150));
  EXPECT_LT(took, absl::Seconds(2));
  EXPECT_GE(r.count, 10);  // ~2 workers x 15 calls, generous bounds for a loaded machine
  EXPECT_LE(r.count, 32);
}

}  // namespace
}  // namespace arc::client
