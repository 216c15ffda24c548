#include "client/connection.h"

#include <unistd.h>

#include <grpcpp/support/client_interceptor.h>

#include <mutex>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "core/data/file_util.h"
#include "core/data/rng.h"

namespace arc::client {
namespace {

// Adds "authorization: Bearer TOKEN" to every call's initial metadata.
class BearerInterceptor final : public grpc::experimental::Interceptor {
 public:
  explicit BearerInterceptor(const std::string* value) : value_(value) {}
  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::PRE_SEND_INITIAL_METADATA)) {
      methods->GetSendInitialMetadata()->insert({"authorization", *value_});
    }
    methods->Proceed();
  }

 private:
  const std::string* value_;
};

class BearerInterceptorFactory final
    : public grpc::experimental::ClientInterceptorFactoryInterface {
 public:
  explicit BearerInterceptorFactory(const std::string& token)
      : value_(absl::StrCat("Bearer ", token)) {}
  grpc::experimental::Interceptor* CreateClientInterceptor(
      grpc::experimental::ClientRpcInfo*) override {
    return new BearerInterceptor(&value_);
  }

 private:
  const std::string value_;  // lives as long as the channel (which owns the factory)
};

absl::StatusOr<std::string> ReadPemFile(const char* flag, const std::string& path) {
  absl::StatusOr<std::string> text = ReadFile(path);
  if (!text.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", flag, ": cannot read \"", path, "\": ", text.status().message()));
  }
  return text;
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> Credentials(const ChannelSecurity& s) {
  if (!s.tls()) return grpc::InsecureChannelCredentials();
  if (s.tls_cert.empty() != s.tls_key.empty()) {
    return absl::InvalidArgumentError("--tls_cert and --tls_key go together (mutual TLS)");
  }
  grpc::SslCredentialsOptions ssl;
  if (!s.tls_ca.empty()) {
    absl::StatusOr<std::string> ca = ReadPemFile("tls_ca", s.tls_ca);
    if (!ca.ok()) return ca.status();
    ssl.pem_root_certs = *std::move(ca);
  }
  if (!s.tls_cert.empty()) {
    absl::StatusOr<std::string> cert = ReadPemFile("tls_cert", s.tls_cert);
    if (!cert.ok()) return cert.status();
    absl::StatusOr<std::string> key = ReadPemFile("tls_key", s.tls_key);
    if (!key.ok()) return key.status();
    ssl.pem_cert_chain = *std::move(cert);
    ssl.pem_private_key = *std::move(key);
  }
  return grpc::SslCredentials(ssl);
}

}  // namespace

absl::StatusOr<std::string> ReadTokenFile(const std::string& path) {
  absl::StatusOr<std::string> text = ReadFile(path);
  if (!text.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--token_file: cannot read \"", path, "\": ", text.status().message()));
  }
  for (absl::string_view line : absl::StrSplit(*text, '\n')) {
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line[0] == '#') continue;
    std::vector<absl::string_view> fields =
        absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    return std::string(fields.front());
  }
  return absl::InvalidArgumentError(absl::StrCat("--token_file: \"", path, "\" holds no token"));
}

absl::StatusOr<std::unique_ptr<Connection>> Connection::Open(const ConnectionOptions& options) {
  absl::StatusOr<ChannelTarget> target = ParseTarget(options.target);
  if (!target.ok()) return target.status();
  grpc::ChannelArguments args;
  const std::string config = ServiceConfigJson(*target);
  if (!config.empty()) args.SetServiceConfigJSON(config);
  args.SetMaxReceiveMessageSize(options.max_receive_message_bytes);
  if (!options.security.tls_server_name.empty()) {
    args.SetSslTargetNameOverride(options.security.tls_server_name);
  }
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials =
      Credentials(options.security);
  if (!credentials.ok()) return credentials.status();
  // No retryPolicy in the service config: retries are ours (they honour the server's
  // retry-after-ms hint and keep the request id), so gRPC only makes its transparent retries of
  // calls that never reached a server.
  std::vector<std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>> interceptors;
  if (!options.security.token.empty()) {
    interceptors.push_back(std::make_unique<BearerInterceptorFactory>(options.security.token));
  }
  std::shared_ptr<grpc::Channel> channel = grpc::experimental::CreateCustomChannelWithInterceptors(
      target->address, *credentials, args, std::move(interceptors));
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
