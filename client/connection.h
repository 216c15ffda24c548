// Connection: one gRPC channel to the service (a server, a list of servers or a DNS name; see
// target.h) with the ArcSolver and grpc.health.v1 stubs, per-call deadlines and retries.
//
// The channel is plaintext unless ChannelSecurity asks for TLS; a bearer token is added to every
// call by a channel interceptor (so calls made on the stubs directly carry it too).
//
// The channel balances round-robin when the target names several endpoints, so concurrent calls
// (eval, load) spread over the servers; a call is never split. Every call gets a deadline: the
// caller's, or the command's default. Unary calls are retried per RetryPolicy (retry.h) with a
// fresh ClientContext per attempt and the same request (and so the same request_id); streams are
// retried only while no event has arrived.
//
// Thread-safe: stubs and the channel are shared by all threads; each call owns its contexts.
#ifndef ARC_CLIENT_CONNECTION_H_
#define ARC_CLIENT_CONNECTION_H_

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "arc/v1/arc_solver.grpc.pb.h"
#include "client/retry.h"
#include "client/target.h"
#include "grpc/health/v1/health.grpc.pb.h"

namespace arc::client {

// Transport security of the channel (docs/SECURITY.md). All PEM file paths; empty: unset.
struct ChannelSecurity {
  std::string tls_ca;           // --tls_ca: CA bundle that signed the server's certificate; any
                                //   TLS option turns TLS on (without --tls_ca: the system roots)
  std::string tls_cert;         // --tls_cert: client certificate chain (mutual TLS)
  std::string tls_key;          // --tls_key: its private key
  std::string tls_server_name;  // --tls_server_name: the name to verify the certificate against
                                //   (default: the target's host)
  std::string token;            // --token or the first line of --token_file: sent as
                                //   "authorization: Bearer TOKEN" on every call
  bool tls() const { return !tls_ca.empty() || !tls_cert.empty() || !tls_server_name.empty(); }
};

// Reads --token_file: the token is the first non-empty, non-comment line (its first field, so a
// line of the server's "TOKEN IDENTITY" file works too). INVALID_ARGUMENT naming the flag.
absl::StatusOr<std::string> ReadTokenFile(const std::string& path);

struct ConnectionOptions {
  std::string target;                        // --server, see target.h
  ChannelSecurity security;
  RetryPolicy retry;                         // --retries sets max_retries
  int max_receive_message_bytes = 64 << 20;  // responses with include_views can be large
};

class Connection {
 public:
  // Parses the target and creates the channel (connecting lazily, on the first call).
  static absl::StatusOr<std::unique_ptr<Connection>> Open(const ConnectionOptions& options);

  v1::ArcSolver::Stub& solver() { return *solver_; }
  grpc::health::v1::Health::Stub& health() { return *health_; }
  const ChannelTarget& target() const { return target_; }
  const RetryPolicy& retry_policy() const { return options_.retry; }

  // Runs a unary call: `attempt` performs it on the context it is given (deadline set). Retries
  // per the policy; returns the last status and counts attempts in `*attempts` when non-null.
  grpc::Status Call(absl::Time deadline,
                    const std::function<grpc::Status(grpc::ClientContext&)>& attempt,
                    int* attempts = nullptr);

  // Runs a server-streaming call: `open` starts it on the context, `on_message` sees every message
  // read; a retryable failure before the first message retries the whole call.
  template <typename Response>
  grpc::Status Stream(
      absl::Time deadline,
      const std::function<std::unique_ptr<grpc::ClientReader<Response>>(grpc::ClientContext&)>&
          open,
      const std::function<void(const Response&)>& on_message);

 private:
  Connection(ConnectionOptions options, ChannelTarget target,
             std::shared_ptr<grpc::Channel> channel);

  ConnectionOptions options_;
  ChannelTarget target_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::ArcSolver::Stub> solver_;
  std::unique_ptr<grpc::health::v1::Health::Stub> health_;
  std::atomic<uint64_t> calls_{0};  // jitter stream per call
};

// A fresh request id (32 hex digits) for idempotent job creation; unique per process and run.
std::string NewRequestId();

// ---- implementation ----

template <typename Response>
grpc::Status Connection::Stream(
    absl::Time deadline,
    const std::function<std::unique_ptr<grpc::ClientReader<Response>>(grpc::ClientContext&)>& open,
    const std::function<void(const Response&)>& on_message) {
  const uint64_t stream = calls_.fetch_add(1);
  RetryOutcome out = RunWithRetries(options_.retry, stream, deadline, [&](int) {
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(deadline));
    std::unique_ptr<grpc::ClientReader<Response>> reader = open(ctx);
    Response msg;
    bool got_any = false;
    while (reader->Read(&msg)) {
      got_any = true;
      on_message(msg);
    }
    AttemptResult r;
    r.status = reader->Finish();
    r.retryable = !got_any;
    if (!r.status.ok()) {
      r.retry_after =
          RetryAfterFromMetadata(ctx.GetServerTrailingMetadata(), ctx.GetServerInitialMetadata());
    }
    return r;
  });
  return out.status;
}

}  // namespace arc::client

#endif  // ARC_CLIENT_CONNECTION_H_
