#include "server/auth.h"

#include <grpc/grpc_security_constants.h>
#include <sys/random.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "core/data/file_util.h"
#include "server/logger.h"

namespace arc::server {
namespace {

constexpr size_t kMinTokenChars = 16;

absl::StatusOr<std::string> ReadPem(const char* flag, const std::string& path) {
  absl::StatusOr<std::string> text = ReadFile(path);
  if (!text.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", flag, ": cannot read \"", path, "\": ", text.status().message()));
  }
  if (!absl::StrContains(*text, "-----BEGIN ")) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", flag, ": \"", path, "\" holds no PEM block (-----BEGIN ...)"));
  }
  return text;
}

// The host part of host:port, [v6]:port, or a URI scheme's address.
std::string HostOf(absl::string_view address) {
  for (absl::string_view scheme : {"ipv4:", "ipv6:", "dns:///"}) {
    if (absl::StartsWith(address, scheme)) address.remove_prefix(scheme.size());
  }
  if (absl::StartsWith(address, "[")) {
    const size_t close = address.find(']');
    return std::string(address.substr(1, close == absl::string_view::npos ? absl::string_view::npos
                                                                          : close - 1));
  }
  const size_t colon = address.rfind(':');
  return std::string(colon == absl::string_view::npos ? address : address.substr(0, colon));
}

}  // namespace

absl::Status ValidateSecurityOptions(const SecurityOptions& o) {
  if (o.tls_cert.empty() != o.tls_key.empty()) {
    return absl::InvalidArgumentError(
        o.tls_cert.empty() ? "--tls_key: given without --tls_cert (both are needed for TLS)"
                           : "--tls_cert: given without --tls_key (both are needed for TLS)");
  }
  if (!o.tls_client_ca.empty() && o.tls_cert.empty()) {
    return absl::InvalidArgumentError(
        "--tls_client_ca: mutual TLS needs the server's own --tls_cert and --tls_key");
  }
  return absl::OkStatus();
}

bool IsLoopbackAddress(absl::string_view address) {
  if (absl::StartsWith(address, "unix:") || absl::StartsWith(address, "unix-abstract:")) {
    return true;
  }
  const std::string host = absl::AsciiStrToLower(HostOf(address));
  if (host == "localhost" || host == "::1" || host == "0:0:0:0:0:0:0:1") return true;
  std::vector<absl::string_view> parts = absl::StrSplit(host, '.');
  int first = -1;
  return parts.size() == 4 && absl::SimpleAtoi(parts[0], &first) && first == 127;
}

absl::Status CheckExposure(absl::string_view address, const SecurityOptions& o) {
  if (o.insecure || IsLoopbackAddress(address) || !o.tls_cert.empty() || !o.token_file.empty()) {
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "--address: \"", address,
      "\" is reachable beyond this machine, but neither TLS (--tls_cert, --tls_key) nor bearer "
      "tokens (--token_file) are configured: any client could read and cancel every job. "
      "Configure them, listen on 127.0.0.1, or pass --insecure to serve plaintext anyway"));
}

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const SecurityOptions& o) {
  if (absl::Status s = ValidateSecurityOptions(o); !s.ok()) return s;
  if (o.tls_cert.empty()) return grpc::InsecureServerCredentials();
  grpc::SslServerCredentialsOptions ssl;
  grpc::SslServerCredentialsOptions::PemKeyCertPair pair;
  absl::StatusOr<std::string> cert = ReadPem("tls_cert", o.tls_cert);
  if (!cert.ok()) return cert.status();
  absl::StatusOr<std::string> key = ReadPem("tls_key", o.tls_key);
  if (!key.ok()) return key.status();
  pair.cert_chain = *std::move(cert);
  pair.private_key = *std::move(key);
  ssl.pem_key_cert_pairs.push_back(std::move(pair));
  if (!o.tls_client_ca.empty()) {
    absl::StatusOr<std::string> ca = ReadPem("tls_client_ca", o.tls_client_ca);
    if (!ca.ok()) return ca.status();
    ssl.pem_root_certs = *std::move(ca);
    ssl.client_certificate_request = GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
  } else {
    ssl.client_certificate_request = GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE;
  }
  return grpc::SslServerCredentials(ssl);
}

bool ConstantTimeEquals(absl::string_view a, absl::string_view b) {
  // Every byte of the longer string is visited; the result is folded without branches.
  const size_t n = std::max(a.size(), b.size());
  volatile unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < n; ++i) {
    const unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    const unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff = diff | static_cast<unsigned char>(x ^ y);
  }
  return diff == 0;
}

absl::StatusOr<std::vector<std::pair<std::string, std::string>>> ReadTokenFile(
    const std::string& path) {
  absl::StatusOr<std::string> text = ReadFile(path);
  if (!text.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--token_file: cannot read \"", path, "\": ", text.status().message()));
  }
  std::vector<std::pair<std::string, std::string>> tokens;
  absl::flat_hash_set<std::string> seen;
  int line_no = 0;
  for (absl::string_view line : absl::StrSplit(*text, '\n')) {
    ++line_no;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line[0] == '#') continue;
    std::vector<absl::string_view> fields =
        absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    const std::string where = absl::StrCat("--token_file: ", path, ":", line_no, ": ");
    if (fields.size() != 2) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, "want \"TOKEN IDENTITY\", found ", fields.size(), " fields"));
    }
    if (fields[0].size() < kMinTokenChars) {
      return absl::InvalidArgumentError(absl::StrCat(where, "the token has ", fields[0].size(),
                                                     " characters; at least ", kMinTokenChars,
                                                     " are required (openssl rand -hex 32)"));
    }
    if (!seen.insert(std::string(fields[0])).second) {
      return absl::InvalidArgumentError(absl::StrCat(where, "the token is listed twice"));
    }
    tokens.emplace_back(std::string(fields[0]), std::string(fields[1]));
  }
  if (tokens.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("--token_file: \"", path, "\" lists no token"));
  }
  return tokens;
}

absl::StatusOr<Authenticator::FileStamp> Authenticator::Stamp(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--token_file: cannot stat \"", path, "\": ", std::strerror(errno)));
  }
  FileStamp stamp;
  stamp.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
  stamp.size = static_cast<int64_t>(st.st_size);
  stamp.inode = st.st_ino;
  return stamp;
}

absl::StatusOr<std::unique_ptr<Authenticator>> Authenticator::Create(const SecurityOptions& o) {
  auto auth = std::make_unique<Authenticator>(Tokens{}, !o.tls_client_ca.empty());
  if (!o.token_file.empty()) {
    // Stamp first: a change between the two calls is then seen by the next recheck.
    absl::StatusOr<FileStamp> stamp = Stamp(o.token_file);
    if (!stamp.ok()) return stamp.status();
    absl::StatusOr<Tokens> tokens = ReadTokenFile(o.token_file);
    if (!tokens.ok()) return tokens.status();
    auth->token_file_ = o.token_file;
    auth->tokens_required_ = true;
    absl::MutexLock lock(&auth->mu_);
    auth->tokens_ = std::make_shared<const Tokens>(*std::move(tokens));
    auth->stamp_ = *stamp;
  }
  return auth;
}

Authenticator::Authenticator(std::vector<std::pair<std::string, std::string>> tokens,
                             bool client_certs)
    : tokens_required_(!tokens.empty()),
      client_certs_(client_certs),
      tokens_(std::make_shared<const Tokens>(std::move(tokens))) {}

int Authenticator::num_tokens() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(tokens_->size());
}

absl::Status Authenticator::ReloadIfChanged() const {
  if (token_file_.empty()) return absl::OkStatus();
  absl::StatusOr<FileStamp> stamp = Stamp(token_file_);
  if (!stamp.ok()) return stamp.status();
  {
    absl::MutexLock lock(&mu_);
    if (*stamp == stamp_) return absl::OkStatus();
  }
  absl::StatusOr<Tokens> tokens = ReadTokenFile(token_file_);
  if (!tokens.ok()) return tokens.status();
  absl::MutexLock lock(&mu_);
  tokens_ = std::make_shared<const Tokens>(*std::move(tokens));
  stamp_ = *stamp;
  return absl::OkStatus();
}

void Authenticator::MaybeReload() const {
  if (token_file_.empty()) return;
  const int64_t now = absl::GetCurrentTimeNanos();
  int64_t next = next_check_ns_.load(std::memory_order_relaxed);
  // One caller per interval does the check; the others go on with the current tokens.
  if (now < next ||
      !next_check_ns_.compare_exchange_strong(next, now + recheck_ns_.load(),
                                              std::memory_order_relaxed)) {
    return;
  }
  const int before = num_tokens();
  absl::StatusOr<FileStamp> stamp_before = Stamp(token_file_);
  {
    absl::MutexLock lock(&mu_);
    if (stamp_before.ok() && *stamp_before == stamp_) return;  // unchanged: the common case
    if (stamp_before.ok() && *stamp_before == failed_stamp_) return;  // already reported
  }
  const absl::Status status = ReloadIfChanged();
  if (status.ok()) {
    LogLine(LogLevel::kInfo, "tokens_reloaded")
        .Add("file", token_file_)
        .Add("tokens", num_tokens())
        .Add("before", before);
  } else {
    LogLine(LogLevel::kError, "tokens_reload_failed")
        .Add("file", token_file_)
        .Add("error", std::string(status.message()))
        .Add("note", "the previous tokens stay in force");
    absl::MutexLock lock(&mu_);
    if (stamp_before.ok()) failed_stamp_ = *stamp_before;
  }
}

absl::StatusOr<std::string> Authenticator::IdentifyFrom(absl::string_view authorization,
                                                        bool has_authorization,
                                                        const std::string& cert_identity) const {
  if (tokens_required_) {
    MaybeReload();
    std::shared_ptr<const Tokens> tokens;
    {
      absl::MutexLock lock(&mu_);
      tokens = tokens_;
    }
    if (!has_authorization) {
      return absl::UnauthenticatedError(
          "missing bearer token: send metadata \"authorization: Bearer TOKEN\"");
    }
    absl::string_view token = authorization;
    if (!absl::ConsumePrefix(&token, "Bearer ") && !absl::ConsumePrefix(&token, "bearer ")) {
      return absl::UnauthenticatedError(
          "authorization metadata is not \"Bearer TOKEN\"");
    }
    token = absl::StripAsciiWhitespace(token);
    const std::string* identity = nullptr;
    for (const auto& [known, who] : *tokens) {  // every token, whatever matched
      if (ConstantTimeEquals(token, known)) identity = &who;
    }
    if (identity == nullptr) return absl::UnauthenticatedError("invalid bearer token");
    return *identity;
  }
  if (client_certs_ && !cert_identity.empty()) return cert_identity;
  return std::string(kAnonymousIdentity);
}

absl::StatusOr<std::string> Authenticator::Identify(const grpc::ServerContextBase& context) const {
  std::string authorization;
  bool has_authorization = false;
  const auto& md = context.client_metadata();
  if (auto it = md.find(kAuthorizationMetadataKey); it != md.end()) {
    authorization.assign(it->second.data(), it->second.size());
    has_authorization = true;
  }
  std::string cert_identity;
  if (client_certs_) {
    std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
    if (auth) {
      for (const char* property : {GRPC_X509_CN_PROPERTY_NAME, GRPC_X509_SUBJECT_PROPERTY_NAME}) {
        std::vector<grpc::string_ref> values = auth->FindPropertyValues(property);
        if (!values.empty()) {
          cert_identity.assign(values.front().data(), values.front().size());
          break;
        }
      }
    }
  }
  return IdentifyFrom(authorization, has_authorization, cert_identity);
}

std::string NewJobId() {
  unsigned char bytes[16];
  size_t got = 0;
  while (got < sizeof(bytes)) {
    const ssize_t n = getrandom(bytes + got, sizeof(bytes) - got, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      // getrandom exists since Linux 3.17; without it there is no safe id, and no server.
      std::abort();
    }
    got += static_cast<size_t>(n);
  }
  std::string id = "job-";
  for (unsigned char b : bytes) absl::StrAppendFormat(&id, "%02x", b);
  return id;
}

}  // namespace arc::server
