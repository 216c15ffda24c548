// --server target parsing and the load-balancing service config.
#include <string>
#include <utility>
#include <vector>

#include "client/target.h"
#include "gtest/gtest.h"

namespace arc::client {
namespace {

TEST(ClientTargetTest, SingleHostPort) {
  absl::StatusOr<ChannelTarget> t = ParseTarget("localhost:50051");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->address, "localhost:50051");
  EXPECT_FALSE(t->round_robin);
  EXPECT_EQ(t->num_endpoints, 1);
  EXPECT_EQ(ServiceConfigJson(*t), "");
}

TEST(ClientTargetTest, Ipv4ListBecomesIpv4UriWithRoundRobin) {
  absl::StatusOr<ChannelTarget> t = ParseTarget("127.0.0.1:5001, 127.0.0.1:5002");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->address, "ipv4:127.0.0.1:5001,127.0.0.1:5002");
  EXPECT_TRUE(t->round_robin);
  EXPECT_EQ(t->num_endpoints, 2);
  EXPECT_EQ(ServiceConfigJson(*t), R"({"loadBalancingConfig":[{"round_robin":{}}]})");
}

TEST(ClientTargetTest, Ipv6List) {
  absl::StatusOr<ChannelTarget> t = ParseTarget("[::1]:5001,[::1]:5002");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->address, "ipv6:[::1]:5001,[::1]:5002");
  EXPECT_TRUE(t->round_robin);
}

TEST(ClientTargetTest, DnsNameBalances) {
  absl::StatusOr<ChannelTarget> t = ParseTarget("dns:///arc-server.default.svc:50051");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->address, "dns:///arc-server.default.svc:50051");
  EXPECT_TRUE(t->round_robin);
  t = ParseTarget("dns://8.8.8.8/arc:1");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->address, "dns://8.8.8.8/arc:1");
}

TEST(ClientTargetTest, SchemesPassThrough) {
  absl::StatusOr<ChannelTarget> t = ParseTarget("ipv4:10.0.0.1:1,10.0.0.2:1");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->address, "ipv4:10.0.0.1:1,10.0.0.2:1");
  EXPECT_TRUE(t->round_robin);
  EXPECT_EQ(t->num_endpoints, 2);
  t = ParseTarget("unix:/tmp/arc.sock");
  ASSERT_TRUE(t.ok());
  EXPECT_FALSE(t->round_robin);
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
