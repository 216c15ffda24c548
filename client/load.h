// The load generator behind `arc-client load`: ghz-like load on one RPC.
//
// `concurrency` workers issue calls back to back. The run ends after `total` calls, or, when
// total is 0, once `duration` has passed (no new call starts after that; calls in flight finish,
// bounded by their deadlines). With `rate` > 0 call i may not start before start + i / rate,
// spreading the calls evenly over the workers (ghz's -r). Every loop is bounded: by the count, or
// by the clock.
//
// RunLoad blocks until the run ends; `call` is invoked from the worker threads concurrently and
// must be thread-safe.
#ifndef ARC_CLIENT_LOAD_H_
#define ARC_CLIENT_LOAD_H_

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "absl/time/time.h"
#include "client/latency.h"

namespace arc::client {

struct LoadOptions {
  int concurrency = 1;      // workers, >= 1
  int64_t total = 0;        // calls; 0 = run for `duration`
  absl::Duration duration;  // used when total == 0; must then be > 0
  double rate = 0;          // calls per second over all workers; 0 = as fast as they go
};

struct LoadReport {
  int64_t count = 0;                      // calls made
  absl::Duration elapsed;                 // first start to last finish
  double requests_per_second = 0;         // count / elapsed
  LatencySummary ok_latency;              // over OK calls (ghz's default)
  LatencySummary all_latency;             // over every call
  std::map<int, int64_t> codes;           // grpc::StatusCode -> calls
  std::map<std::string, int64_t> errors;  // "CODE: message" -> calls
};

// `call` performs one request and returns its status.
LoadReport RunLoad(const LoadOptions& options, const std::function<grpc::Status()>& call);

// The ghz-style summary: count, total time, requests/s, latencies, status code distribution (with
// a bar per code) and the most frequent error messages.
std::string FormatLoadReport(const LoadReport& report);

}  // namespace arc::client

#endif  // ARC_CLIENT_LOAD_H_
