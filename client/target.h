// Target parsing: turns the --server argument into the gRPC channel address and the load-balancing
// service config that go with it.
//
// Accepted forms:
//   host:port                       one server (pick_first over what the name resolves to)
//   1.2.3.4:80,5.6.7.8:81           a list of IPv4 endpoints -> "ipv4:1.2.3.4:80,5.6.7.8:81",
//                                   round_robin over them
//   [::1]:80,[::1]:81               a list of IPv6 endpoints -> "ipv6:[::1]:80,[::1]:81",
//   round_robin dns:///name:port                every address the name resolves to (a Kubernetes
//   headless
//                                   Service), round_robin; also dns://authority/name:port
//   ipv4:..., ipv6:..., unix:...    passed through (round_robin when they list several endpoints)
// Host names are not allowed in lists ("ipv4:" takes addresses only); use dns:/// for those.
//
// Pure functions; thread-safe.
#ifndef ARC_CLIENT_TARGET_H_
#define ARC_CLIENT_TARGET_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace arc::client {

struct ChannelTarget {
  std::string address;       // the URI given to grpc::CreateCustomChannel
  bool round_robin = false;  // balance calls over every resolved endpoint
  int num_endpoints = 1;     // endpoints named explicitly (1 for a DNS name)
};

// INVALID_ARGUMENT naming "--server" and the fault, e.g.
//   --server: "localhost" has no port (want host:port)
absl::StatusOr<ChannelTarget> ParseTarget(absl::string_view target);

// The channel's service config: {"loadBalancingConfig":[{"round_robin":{}}]} when balancing, else
// "" (the channel default, pick_first).
std::string ServiceConfigJson(const ChannelTarget& target);

}  // namespace arc::client

#endif  // ARC_CLIENT_TARGET_H_
