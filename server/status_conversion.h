// The one place where absl::Status (the core's and the server's error values) and grpc::Status
// (what an RPC returns) meet.
//
// The codes are the same set with the same numbers on both sides (google.rpc.Code); the message
// is carried unchanged. Beyond code and message a status can carry a retry hint: a queue-full
// rejection says how long the caller should wait, which the service sends as the "retry-after-ms"
// trailing metadata entry (the client reads it; proto/arc/v1/arc_solver.proto documents it). In an
// absl::Status the hint travels as a payload, so it survives being passed through layers.
//
// Stateless and thread-safe.
#ifndef ARC_SERVER_STATUS_CONVERSION_H_
#define ARC_SERVER_STATUS_CONVERSION_H_

#include <grpcpp/grpcpp.h>

#include <optional>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace arc::server {

// The trailing metadata key of the retry hint, in whole milliseconds.
inline constexpr char kRetryAfterMetadataKey[] = "retry-after-ms";

grpc::StatusCode ToGrpcCode(absl::StatusCode code);
absl::StatusCode FromGrpcCode(grpc::StatusCode code);

// Code and message; the retry hint stays behind (see AddRetryTrailer).
grpc::Status ToGrpcStatus(const absl::Status& status);
absl::Status FromGrpcStatus(const grpc::Status& status);

// Attaches / reads the retry hint.
void SetRetryAfter(absl::Status& status, absl::Duration delay);
std::optional<absl::Duration> GetRetryAfter(const absl::Status& status);

// Adds "retry-after-ms" to the call's trailing metadata when `status` carries a hint. Call before
// finishing the RPC.
void AddRetryTrailer(const absl::Status& status, grpc::ServerContextBase& context);

// The canonical upper-case name, e.g. "RESOURCE_EXHAUSTED" (metric labels and logs).
absl::string_view GrpcCodeName(grpc::StatusCode code);

}  // namespace arc::server

#endif  // ARC_SERVER_STATUS_CONVERSION_H_
