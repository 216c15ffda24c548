// Helpers for the server tests: a tiny saved model, small tasks and fast options, a raw
// grpc.health.v1 check (no generated health stubs needed), and a raw HTTP GET for /metrics.
#ifndef ARC_TESTS_SERVER_TEST_UTIL_H_
#define ARC_TESTS_SERVER_TEST_UTIL_H_

#include <arpa/inet.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <thread>

#include "arc/v1/arc_solver.grpc.pb.h"
#include "core/data/augment.h"
#include "core/data/rng.h"
#include "core/model/arc_model.h"
#include "core/solve/solver.h"
#include "core/text/tokenizer.h"
#include "gtest/gtest.h"
#include "tests/model_test_util.h"
#include "tests/test_util.h"

namespace arc::testing {

// A random compact-format model of the "tiny" shape, small enough that a solve with FastOptions
// takes milliseconds.
inline std::string SaveTinyServerModel(const std::string& dir, uint64_t seed = 7) {
  EXPECT_TRUE(
      SaveArcModel(*RandomCompactModel(CompactTestConfig("tiny", 512), seed, "tiny-server"), dir)
          .ok());
  return dir;
}

// The colour-swap task of test_util.h.
inline Task SwapTask(int demonstrations, uint64_t seed) {
  return ColourSwapTask(demonstrations, seed);
}

// Request overrides for a solve of a few milliseconds on the tiny model; `steps` TTT steps, the TTT
// expert alone (the program search would explain the colour swap and skip TTT).
inline v1::SolveOptions FastProtoOptions(int steps = 4, uint64_t seed = 3) {
  v1::SolveOptions o;
  o.set_experts(v1::EXPERTS_TTT);
  o.set_seed(seed);
  v1::TttOptions* t = o.mutable_ttt_options();
  t->set_max_samples(8);
  t->set_augment(false);
  t->set_permute_n(0);
  t->set_max_steps(steps);
  t->set_epochs(100);
  t->set_batch_size(2);
  t->set_learning_rate(1e-3);
  v1::InferenceOptions* in = o.mutable_inference();
  in->set_permutations(1);
  in->set_transforms(v1::VIEW_TRANSFORMS_PAPER);
  in->set_batch_size(8);
  return o;
}

// Options for a job that trains for half a minute or more unless cancelled: 250 augmented samples,
// batch 1, 100 epochs, `steps` (the server's limit must allow it).
inline v1::SolveOptions LongProtoOptions(int steps = 1000000) {
  v1::SolveOptions o = FastProtoOptions(steps);
  o.mutable_ttt_options()->set_max_samples(250);
  o.mutable_ttt_options()->set_augment(true);
  o.mutable_ttt_options()->set_batch_size(1);
  return o;
}

// The same settings as core options, written out independently of the server's conversion.
inline SolveOptions FastCoreOptions(int steps = 4, uint64_t seed = 3) {
  SolveOptions o;
  o.experts = Experts::kTtt;
  o.seed = seed;
  o.ttt_data.max_samples = 8;
  o.ttt_data.augment = false;
  o.ttt_data.permute_n = 0;
  o.train.max_steps = steps;
  o.train.epochs = 100;
  o.train.batch_size = 2;
  o.train.learning_rate = 1e-3;
  o.views.permutations = 1;
  o.views.transforms = PaperViewTransforms();
  o.inference.batch_size = 8;
  return o;
}

inline std::unique_ptr<v1::ArcSolver::Stub> Connect(int port) {
  auto channel =
      grpc::CreateChannel("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials());
  return v1::ArcSolver::NewStub(channel);
}

// A unary call with raw request bytes over a generic stub; the response bytes in `*response`.
inline grpc::Status RawUnaryCall(int port, const std::string& method, const std::string& bytes,
                                 std::string* response) {
  auto channel =
      grpc::CreateChannel("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials());
  grpc::GenericStub stub(channel);
  grpc::Slice slice(bytes);
  grpc::ByteBuffer request(&slice, 1);
  grpc::ByteBuffer reply;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  std::promise<grpc::Status> done;
  stub.UnaryCall(&context, method, grpc::StubOptions(), &request, &reply,
                 [&done](grpc::Status s) { done.set_value(std::move(s)); });
  const grpc::Status status = done.get_future().get();
  std::vector<grpc::Slice> slices;
  if (status.ok()) (void)reply.Dump(&slices);
  response->clear();
  for (const grpc::Slice& s : slices) {
    response->append(reinterpret_cast<const char*>(s.begin()), s.size());
  }
  return status;
}

// grpc.health.v1.Health/Check without generated stubs: returns 1 (SERVING), 2 (NOT_SERVING), 0
// (UNKNOWN), or -(gRPC code) when the call fails.
inline int HealthStatus(int port, const std::string& service = "") {
  // HealthCheckRequest{service}: field 1, length-delimited.
  std::string bytes;
  if (!service.empty()) {
    bytes.push_back(0x0a);
    bytes.push_back(static_cast<char>(service.size()));
    bytes += service;
  }
  std::string out;
  const grpc::Status status = RawUnaryCall(port, "/grpc.health.v1.Health/Check", bytes, &out);
  if (!status.ok()) return -static_cast<int>(status.error_code());
  // HealthCheckResponse{status}: field 1, varint; absent = 0.
  return out.size() >= 2 && out[0] == 0x08 ? out[1] : 0;
}

// GET http://127.0.0.1:port/path with a raw socket; returns status line + headers + body.
inline std::string HttpGet(int port, const std::string& path) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string out;
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
    const std::string req = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    (void)!write(fd, req.data(), req.size());
    char buf[4096];
    ssize_t n;
    while ((n = read(fd, buf, sizeof(buf))) > 0) out.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return out;
}

// The value of the first exposition line that starts with `series` ("name{labels}" or "name"),
// or -1 when absent.
inline double MetricValue(const std::string& text, const std::string& series) {
  size_t pos = 0;
  while ((pos = text.find(series + " ", pos)) != std::string::npos) {
    if (pos == 0 || text[pos - 1] == '\n') {
      return std::stod(text.substr(pos + series.size() + 1));
    }
    pos += series.size();
  }
  return -1;
}

// Polls `condition` every 10 ms for up to `seconds`.
inline bool WaitFor(const std::function<bool()>& condition, double seconds = 10) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < end) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return condition();
}

}  // namespace arc::testing

#endif  // ARC_TESTS_SERVER_TEST_UTIL_H_
