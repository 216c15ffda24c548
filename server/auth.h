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
// Thread-safety: an Authenticator is immutable after Create; Identify is safe from any thread.
#ifndef ARC_SERVER_AUTH_H_
#define ARC_SERVER_AUTH_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

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

class Authenticator {
 public:
  // Reads the token file, if any. INVALID_ARGUMENT naming the file and line for a malformed line, a
  // short or duplicate token.
  static absl::StatusOr<std::unique_ptr<Authenticator>> Create(const SecurityOptions& options);
  // From parsed (token, identity) pairs (tests).
  Authenticator(std::vector<std::pair<std::string, std::string>> tokens, bool client_certs);

  // The caller's identity: the token's identity (tokens configured), else the client
  // certificate's CN or subject (mTLS), else "anonymous". UNAUTHENTICATED when tokens are
  // configured and the call carries none, or one that is not in the file.
  absl::StatusOr<std::string> Identify(const grpc::ServerContextBase& context) const;
  // The same from the raw "authorization" value and the certificate's identity ("" when none).
  absl::StatusOr<std::string> IdentifyFrom(absl::string_view authorization, bool has_authorization,
                                           const std::string& certificate_identity) const;

  bool tokens_required() const { return !tokens_.empty(); }
  int num_tokens() const { return static_cast<int>(tokens_.size()); }

 private:
  std::vector<std::pair<std::string, std::string>> tokens_;  // (token, identity)
  bool client_certs_ = false;
};

// A fresh job id: "job-" and 32 hex digits of a CSPRNG (getrandom), so ids are unguessable.
std::string NewJobId();

}  // namespace arc::server

#endif  // ARC_SERVER_AUTH_H_
