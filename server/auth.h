// Transport security and caller identities of arc-server: the gRPC server credentials (plaintext,
// TLS, or mutual TLS), bearer tokens, and the identity every ArcSolver call acts as.
//
//   TLS        --tls_cert and --tls_key (PEM files): the server authenticates itself.
//   mTLS       --tls_client_ca (PEM) in addition: every client must present a certificate signed
//              by that CA (the handshake fails otherwise); the certificate's subject CN (else its
//              whole subject) is the caller's identity.
//   tokens     --token_file: one "TOKEN IDENTITY" per line ('#' comments and blank lines ignored;
//              tokens at least 16 characters, no two alike). Each ArcSolver call must carry the
//              metadata "authorization: Bearer TOKEN"; a missing or unknown token is
//              UNAUTHENTICATED. A known token's identity wins over a certificate's.
//   neither    every caller is "anonymous".
// Health (grpc.health.v1) and reflection are not ArcSolver calls and stay open; reflection can be
// turned off (--reflection=false).
//
// Exposure rule (CheckExposure): a server that listens beyond loopback (0.0.0.0, [::], a LAN
// address, a host name) with neither TLS nor tokens starts only with --insecure.
//
// Tokens are compared in constant time (ConstantTimeEquals: time depends on the lengths only), and
// every configured token is compared on each call, so timing tells nothing about which matched.
//
// Rotation: the token file is rechecked at most once a second from Identify (its modification
// time, size and inode; a Kubernetes Secret update swaps a symlink, which changes the inode), and a
// changed file replaces the tokens without a restart (event=tokens_reloaded). A changed file that
// no longer parses keeps the previous tokens and logs event=tokens_reload_failed with the error.
//
// Thread-safety: Identify and ReloadIfChanged are safe from any thread.
#ifndef ARC_SERVER_AUTH_H_
#define ARC_SERVER_AUTH_H_

#include <grpcpp/grpcpp.h>

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace arc::server {

struct SecurityOptions {
  std::string tls_cert;       // PEM certificate chain of the server; with tls_key enables TLS
  std::string tls_key;        // PEM private key
  std::string tls_client_ca;  // PEM CA bundle: client certificates required and verified (mTLS)
  std::string token_file;     // "TOKEN IDENTITY" lines: bearer tokens required
  bool insecure = false;      // allow plaintext without tokens beyond loopback
  bool reflection = true;     // grpc.reflection on the gRPC port
};

// The identity of callers when neither tokens nor client certificates are configured.
inline constexpr char kAnonymousIdentity[] = "anonymous";
// The metadata key of the bearer token (value "Bearer TOKEN").
inline constexpr char kAuthorizationMetadataKey[] = "authorization";

// INVALID_ARGUMENT naming the flag: a key without a certificate (or the reverse), a client CA
// without TLS.
absl::Status ValidateSecurityOptions(const SecurityOptions& options);

// True for addresses only this machine can reach: 127.0.0.0/8, localhost, [::1], unix sockets.
bool IsLoopbackAddress(absl::string_view address);

// INVALID_ARGUMENT naming the address and the fix when `address` is not loopback and neither
// TLS nor tokens are configured and --insecure is not given.
absl::Status CheckExposure(absl::string_view address, const SecurityOptions& options);

// Plaintext, TLS or mTLS per the options; errors name the flag and the file.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const SecurityOptions& options);

// a == b, in time that depends on the lengths only.
bool ConstantTimeEquals(absl::string_view a, absl::string_view b);

// The (token, identity) pairs of a token file. INVALID_ARGUMENT naming the file and line for a
// malformed line, a short or duplicate token, or a file without tokens.
absl::StatusOr<std::vector<std::pair<std::string, std::string>>> ReadTokenFile(
    const std::string& path);

class Authenticator {
 public:
  // Reads the token file, if any (errors as ReadTokenFile's).
  static absl::StatusOr<std::unique_ptr<Authenticator>> Create(const SecurityOptions& options);
  // From parsed (token, identity) pairs, without a file to reload (tests).
  Authenticator(std::vector<std::pair<std::string, std::string>> tokens, bool client_certs);

  // Rereads the token file when its modification time, size or inode changed since the last
  // read. OK when nothing changed or the new tokens are in place; otherwise the error, and the
  // previous tokens stay. Identify calls it at most once per recheck interval and logs the outcome.
  absl::Status ReloadIfChanged() const;
  // How often Identify rechecks the file (default 1 s; tests shorten it).
  void set_recheck_interval(absl::Duration interval) { recheck_ns_ = absl::ToInt64Nanoseconds(interval); }

  // The caller's identity: the token's identity (tokens configured), else the client
  // certificate's CN or subject (mTLS), else "anonymous". UNAUTHENTICATED when tokens are
  // configured and the call carries none, or one that is not in the file.
  absl::StatusOr<std::string> Identify(const grpc::ServerContextBase& context) const;
  // The same from the raw "authorization" value and the certificate's identity ("" when none).
  absl::StatusOr<std::string> IdentifyFrom(absl::string_view authorization, bool has_authorization,
                                           const std::string& certificate_identity) const;

  bool tokens_required() const { return tokens_required_; }
  int num_tokens() const;

 private:
  using Tokens = std::vector<std::pair<std::string, std::string>>;  // (token, identity)
  struct FileStamp {
    int64_t mtime_ns = 0;
    int64_t size = -1;
    ino_t inode = 0;
    bool operator==(const FileStamp& o) const {
      return mtime_ns == o.mtime_ns && size == o.size && inode == o.inode;
    }
  };
  static absl::StatusOr<FileStamp> Stamp(const std::string& path);
  void MaybeReload() const;

  std::string token_file_;  // empty: tokens never change
  bool tokens_required_ = false;
  bool client_certs_ = false;
  mutable absl::Mutex mu_;
  mutable std::shared_ptr<const Tokens> tokens_ ABSL_GUARDED_BY(mu_);
  mutable FileStamp stamp_ ABSL_GUARDED_BY(mu_);
  mutable FileStamp failed_stamp_ ABSL_GUARDED_BY(mu_);  // a bad file is reported once
  std::atomic<int64_t> recheck_ns_{1'000'000'000};
  mutable std::atomic<int64_t> next_check_ns_{0};  // absl::GetCurrentTimeNanos() of the next check
};

// A fresh job id: "job-" and 32 hex digits of a CSPRNG (getrandom), so ids are unguessable.
std::string NewJobId();

}  // namespace arc::server

#endif  // ARC_SERVER_AUTH_H_
