#include "client/connection.h"

#include <unistd.h>

#include <mutex>

#include "absl/strings/str_format.h"
#include "core/data/rng.h"

namespace arc::client {

absl::StatusOr<std::unique_ptr<Connection>> Connection::Open(const ConnectionOptions& options) {
  absl::StatusOr<ChannelTarget> target = ParseTarget(options.target);
  if (!target.ok()) return target.status();
  grpc::ChannelArguments args;
  const std::string config = ServiceConfigJson(*target);
  if (!config.empty()) args.SetServiceConfigJSON(config);
  args.SetMaxReceiveMessageSize(options.max_receive_message_bytes);
  // No retryPolicy in the service config: retries are ours (they honour the server's
  // retry-after-ms hint and keep the request id), so gRPC only makes its transparent retries of
  // calls that never reached a server.
  std::shared_ptr<grpc::Channel> channel =
      grpc::CreateCustomChannel(target->address, grpc::InsecureChannelCredentials(), args);
  return std::unique_ptr<Connection>(
      new Connection(options, *std::move(target), std::move(channel)));
}

Connection::Connection(ConnectionOptions options, ChannelTarget target,
                       std::shared_ptr<grpc::Channel> channel)
    : options_(std::move(options)),
      target_(std::move(target)),
      channel_(std::move(channel)),
      solver_(v1::ArcSolver::NewStub(channel_)),
      health_(grpc::health::v1::Health::NewStub(channel_)) {}

grpc::Status Connection::Call(absl::Time deadline,
                              const std::function<grpc::Status(grpc::ClientContext&)>& attempt,
                              int* attempts) {
  const uint64_t stream = calls_.fetch_add(1);
  RetryOutcome out = RunWithRetries(options_.retry, stream, deadline, [&](int) {
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(deadline));
    AttemptResult r;
    r.status = attempt(ctx);
    if (!r.status.ok()) {
      r.retry_after =
          RetryAfterFromMetadata(ctx.GetServerTrailingMetadata(), ctx.GetServerInitialMetadata());
    }
    return r;
  });
  if (attempts != nullptr) *attempts = out.attempts;
  return out.status;
}

std::string NewRequestId() {
  // Seeded from the clock and the process id so that two client processes never share ids; within
  // the process one generator under a lock.
  static std::mutex mu;
  static Rng rng(static_cast<uint64_t>(absl::ToUnixNanos(absl::Now())) ^
                 (static_cast<uint64_t>(::getpid()) << 32));
  std::lock_guard<std::mutex> lock(mu);
  return absl::StrFormat("%016x%016x", rng.Next(), rng.Next());
}

}  // namespace arc::client
