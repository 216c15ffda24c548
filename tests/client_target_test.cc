// --server target parsing and the load-balancing service config.
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "client/target.h"
#include "gtest/gtest.h"

namespace arc::client {
namespace {

// Accepted --server values and what they become; a field left empty is not checked for that row.
struct Accepted {
  std::string server;
  std::string address;
  bool round_robin;
  std::optional<int> endpoints;
  std::optional<std::string> service_config;
};

TEST(ClientTargetTest, AcceptedTargets) {
  const std::vector<Accepted> rows = {
      // A single host:port: no balancing.
      {"localhost:50051", "localhost:50051", false, 1, ""},
      // A list of IPv4 endpoints becomes an ipv4: URI with round robin.
      {"127.0.0.1:5001, 127.0.0.1:5002", "ipv4:127.0.0.1:5001,127.0.0.1:5002", true, 2,
       R"({"loadBalancingConfig":[{"round_robin":{}}]})"},
      {"[::1]:5001,[::1]:5002", "ipv6:[::1]:5001,[::1]:5002", true, std::nullopt, std::nullopt},
      // A DNS name balances over what it resolves to.
      {"dns:///arc-server.default.svc:50051", "dns:///arc-server.default.svc:50051", true,
       std::nullopt, std::nullopt},
      {"dns://8.8.8.8/arc:1", "dns://8.8.8.8/arc:1", true, std::nullopt, std::nullopt},
      // Other schemes pass through.
      {"ipv4:10.0.0.1:1,10.0.0.2:1", "ipv4:10.0.0.1:1,10.0.0.2:1", true, 2, std::nullopt},
      {"unix:/tmp/arc.sock", "unix:/tmp/arc.sock", false, std::nullopt, std::nullopt},
  };
  for (const Accepted& row : rows) {
    absl::StatusOr<ChannelTarget> t = ParseTarget(row.server);
    ASSERT_TRUE(t.ok()) << row.server << ": " << t.status();
    EXPECT_EQ(t->address, row.address) << row.server;
    EXPECT_EQ(t->round_robin, row.round_robin) << row.server;
    if (row.endpoints) EXPECT_EQ(t->num_endpoints, *row.endpoints) << row.server;
    if (row.service_config) EXPECT_EQ(ServiceConfigJson(*t), *row.service_config) << row.server;
  }
}

TEST(ClientTargetTest, Errors) {
  // {--server value, the refusal}
  const std::vector<std::pair<std::string, std::string>> refusals = {
      {"", "--server: empty target (want host:port, a list or dns:///name:port)"},
      {"localhost", "--server: \"localhost\" has no port (want host:port)"},
      {"localhost:0", "--server: \"localhost:0\": port \"0\" is not a number 1..65535"},
      {"localhost:http", "--server: \"localhost:http\": port \"http\" is not a number 1..65535"},
      {"127.0.0.1:1,localhost:2",
       "--server: \"localhost:2\": a list takes IP addresses only; use dns:///name:port to "
       "balance over the addresses of a name"},
      {"127.0.0.1:1,", "--server: item 1 of the list is empty"},
      {"127.0.0.1:1,[::1]:2", "--server: a list cannot mix IPv4 and IPv6 addresses"},
      {"::1:50051", "--server: \"::1:50051\": write IPv6 addresses as [address]:port"},
      {"dns:///", "--server: \"dns:///\" names no host"},
  };
  for (const auto& [target, message] : refusals) {
    EXPECT_EQ(ParseTarget(target).status().message(), message) << target;
  }
  EXPECT_EQ(ParseTarget("256.0.0.1:1,1.1.1.1:2").status().code(),
            absl::StatusCode::kInvalidArgument);  // 256 is no IPv4 octet: a "name" in a list
}

}  // namespace
}  // namespace arc::client
