// The backoff schedule, the retryable codes, retry-after metadata and the retry loop.
#include <vector>

#include "client/retry.h"
#include "gtest/gtest.h"

namespace arc::client {
namespace {

RetryPolicy Deterministic() {
  RetryPolicy p;
  p.max_retries = 10;
  p.initial_backoff = absl::Milliseconds(100);
  p.multiplier = 2;
  p.max_backoff = absl::Milliseconds(1000);
  p.jitter = 0;
  return p;
}

TEST(ClientRetryTest, RetryableCodes) {
  EXPECT_TRUE(IsRetryable(grpc::StatusCode::UNAVAILABLE));
  EXPECT_TRUE(IsRetryable(grpc::StatusCode::RESOURCE_EXHAUSTED));
  EXPECT_FALSE(IsRetryable(grpc::StatusCode::DEADLINE_EXCEEDED));
  EXPECT_FALSE(IsRetryable(grpc::StatusCode::CANCELLED));
  EXPECT_FALSE(IsRetryable(grpc::StatusCode::INVALID_ARGUMENT));
  EXPECT_FALSE(IsRetryable(grpc::StatusCode::INTERNAL));
}

TEST(ClientRetryTest, DeterministicScheduleDoublesUpToTheCap) {
  Backoff b(Deterministic(), 0);
  std::vector<int64_t> ms;
  for (int i = 0; i < 6; ++i) ms.push_back(absl::ToInt64Milliseconds(b.Next()));
  EXPECT_EQ(ms, (std::vector<int64_t>{100, 200, 400, 800, 1000, 1000}));
  EXPECT_EQ(b.retries_so_far(), 6);
}

TEST(ClientRetryTest, ServerHintIsALowerBound) {
  Backoff b(Deterministic(), 0);
  EXPECT_EQ(b.Next(absl::Milliseconds(350)), absl::Milliseconds(350));  // hint > 100
  EXPECT_EQ(b.Next(absl::Milliseconds(50)), absl::Milliseconds(200));   // hint < 200
}

TEST(ClientRetryTest, JitterIsSeededAndBounded) {
  RetryPolicy p = Deterministic();
  p.jitter = 0.25;
  p.seed = 42;
  Backoff a(p, 7), b(p, 7), c(p, 8);
  bool differs = false;
  for (int i = 0; i < 5; ++i) {
    const absl::Duration base = std::min(absl::Milliseconds(100) * (1 << i), absl::Seconds(1));
    const absl::Duration da = a.Next(), db = b.Next(), dc = c.Next();
    EXPECT_EQ(da, db) << "same seed and stream, same schedule";
    differs = differs || da != dc;
    EXPECT_GE(da, base * 0.75);
    EXPECT_LE(da, base * 1.25);
  }
  EXPECT_TRUE(differs) << "another stream jitters differently";
}

TEST(ClientRetryTest, RetryAfterMetadata) {
  std::multimap<grpc::string_ref, grpc::string_ref> trailing, initial;
  EXPECT_FALSE(RetryAfterFromMetadata(trailing, initial).has_value());
  initial.emplace("retry-after-ms", "75");
  EXPECT_EQ(RetryAfterFromMetadata(trailing, initial), absl::Milliseconds(75));
  trailing.emplace("retry-after-ms", "1500");
  EXPECT_EQ(RetryAfterFromMetadata(trailing, initial), absl::Milliseconds(1500));
  std::multimap<grpc::string_ref, grpc::string_ref> bad;
  bad.emplace("retry-after-ms", "soon");
  EXPECT_FALSE(RetryAfterFromMetadata(bad, {}).has_value());
}

// A fake clock: sleeping advances it.
struct FakeClock {
  absl::Time now = absl::UnixEpoch();
  std::vector<absl::Duration> sleeps;
  Clock clock() {
    Clock c;
    c.now = [this] { return now; };
    c.sleep = [this](absl::Duration d) {
      sleeps.push_back(d);
      now += d;
    };
    return c;
  }
};

TEST(ClientRetryTest, LoopRetriesUnavailableThenSucceeds) {
  FakeClock fc;
  RetryPolicy p = Deterministic();
  p.max_retries = 3;
  int calls = 0;
  RetryOutcome out = RunWithRetries(
      p, 0, fc.now + absl::Seconds(60),
      [&](int k) {
        EXPECT_EQ(k, calls);
        ++calls;
        AttemptResult r;
        if (k < 2) r.status = grpc::Status(grpc::StatusCode::UNAVAILABLE, "down");
        if (k == 1) r.retry_after = absl::Milliseconds(500);
        return r;
      },
      fc.clock());
  EXPECT_TRUE(out.status.ok());
  EXPECT_EQ(out.attempts, 3);
  EXPECT_EQ(fc.sleeps,
            (std::vector<absl::Duration>{absl::Milliseconds(100), absl::Milliseconds(500)}));
  EXPECT_EQ(out.waited, absl::Milliseconds(600));
}

TEST(ClientRetryTest, LoopStopsOnFinalCodesBudgetAndDeadline) {
  FakeClock fc;
  RetryPolicy p = Deterministic();
  p.max_retries = 3;
  auto always = [](grpc::StatusCode code) {
    return [code](int) {
      AttemptResult r;
      r.status = grpc::Status(code, "x");
      return r;
    };
  };
  // A final code: one attempt.
  RetryOutcome out = RunWithRetries(p, 0, fc.now + absl::Seconds(60),
                                    always(grpc::StatusCode::INVALID_ARGUMENT), fc.clock());
  EXPECT_EQ(out.attempts, 1);
  EXPECT_EQ(out.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  // The retry budget: 1 + 3 attempts (a full queue: RESOURCE_EXHAUSTED with a retry hint).
  out = RunWithRetries(
      p, 0, fc.now + absl::Seconds(60),
      [](int) {
        AttemptResult r;
        r.status = grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, "queue full");
        r.retry_after = absl::Milliseconds(1);
        return r;
      },
      fc.clock());
  EXPECT_EQ(out.attempts, 4);
  EXPECT_EQ(out.status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  // RESOURCE_EXHAUSTED without a hint (a job over the cost limits) is final.
  out = RunWithRetries(p, 0, fc.now + absl::Seconds(60),
                       always(grpc::StatusCode::RESOURCE_EXHAUSTED), fc.clock());
  EXPECT_EQ(out.attempts, 1);
  // The deadline: waits of 100 and 200 fit in 350 ms, the next (400) does not.
  fc.sleeps.clear();
  out = RunWithRetries(p, 0, fc.now + absl::Milliseconds(350),
                       always(grpc::StatusCode::UNAVAILABLE), fc.clock());
  EXPECT_EQ(out.attempts, 3);
  EXPECT_EQ(fc.sleeps,
            (std::vector<absl::Duration>{absl::Milliseconds(100), absl::Milliseconds(200)}));
  // Not retryable by the attempt's own say (a stream that already delivered events).
  out = RunWithRetries(
      p, 0, fc.now + absl::Seconds(60),
      [](int) {
        AttemptResult r;
        r.status = grpc::Status(grpc::StatusCode::UNAVAILABLE, "mid-stream");
        r.retryable = false;
        return r;
      },
      fc.clock());
  EXPECT_EQ(out.attempts, 1);
  // No retries at all.
  p.max_retries = 0;
  out = RunWithRetries(p, 0, fc.now + absl::Seconds(60), always(grpc::StatusCode::UNAVAILABLE),
                       fc.clock());
  EXPECT_EQ(out.attempts, 1);
}

}  // namespace
}  // namespace arc::client
