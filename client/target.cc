#include "client/target.h"

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace arc::client {
namespace {

absl::Status Invalid(absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("--server: ", what));
}

enum class HostKind { kIpv4, kIpv6, kName };

struct Endpoint {
  HostKind kind;
  std::string host;
  std::string port;
};

bool IsIpv4(absl::string_view host) {
  std::vector<absl::string_view> parts = absl::StrSplit(host, '.');
  if (parts.size() != 4) return false;
  for (absl::string_view p : parts) {
    int v = 0;
    if (p.empty() || p.size() > 3 || !absl::SimpleAtoi(p, &v) || v < 0 || v > 255) return false;
    for (char c : p) {
      if (!absl::ascii_isdigit(c)) return false;
    }
  }
  return true;
}

// "host:port" or "[v6]:port"; the port must be 1..65535.
absl::StatusOr<Endpoint> ParseEndpoint(absl::string_view s) {
  Endpoint e;
  absl::string_view port;
  if (absl::StartsWith(s, "[")) {
    const size_t close = s.find(']');
    if (close == absl::string_view::npos) {
      return Invalid(absl::StrCat("\"", s, "\" has no closing ']'"));
    }
    e.kind = HostKind::kIpv6;
    e.host = std::string(s.substr(0, close + 1));
    if (close + 1 >= s.size() || s[close + 1] != ':') {
      return Invalid(absl::StrCat("\"", s, "\" has no port (want [address]:port)"));
    }
    port = s.substr(close + 2);
  } else {
    const size_t colon = s.rfind(':');
    if (colon == absl::string_view::npos) {
      return Invalid(absl::StrCat("\"", s, "\" has no port (want host:port)"));
    }
    if (s.find(':') != colon) {
      return Invalid(absl::StrCat("\"", s, "\": write IPv6 addresses as [address]:port"));
    }
    e.host = std::string(s.substr(0, colon));
    port = s.substr(colon + 1);
    if (e.host.empty()) return Invalid(absl::StrCat("\"", s, "\" has no host"));
    e.kind = IsIpv4(e.host) ? HostKind::kIpv4 : HostKind::kName;
  }
  int p = 0;
  if (!absl::SimpleAtoi(port, &p) || p < 1 || p > 65535) {
    return Invalid(absl::StrCat("\"", s, "\": port \"", port, "\" is not a number 1..65535"));
  }
  e.port = std::string(port);
  return e;
}

}  // namespace

absl::StatusOr<ChannelTarget> ParseTarget(absl::string_view raw) {
  const absl::string_view target = absl::StripAsciiWhitespace(raw);
  if (target.empty()) return Invalid("empty target (want host:port, a list or dns:///name:port)");
  ChannelTarget out;
  if (absl::StartsWith(target, "dns:")) {
    // dns:///name:port or dns://authority/name:port: the resolver returns every address of the
    // name (a headless Service's pods), so balance over them.
    absl::string_view rest = target.substr(4);
    if (absl::StartsWith(rest, "//")) {
      const size_t slash = rest.find('/', 2);
      if (slash == absl::string_view::npos) {
        return Invalid(absl::StrCat("\"", target, "\": want dns:///name:port"));
      }
      rest = rest.substr(slash + 1);
    }
    if (rest.empty()) return Invalid(absl::StrCat("\"", target, "\" names no host"));
    out.address = std::string(target);
    out.round_robin = true;
    return out;
  }
  for (absl::string_view scheme : {"ipv4:", "ipv6:", "unix:", "unix-abstract:", "xds:"}) {
    if (absl::StartsWith(target, scheme)) {
      out.address = std::string(target);
      out.num_endpoints = static_cast<int>(
          std::vector<absl::string_view>(absl::StrSplit(target, ',', absl::SkipEmpty())).size());
      out.round_robin = out.num_endpoints > 1;
      return out;
    }
  }
  std::vector<absl::string_view> items = absl::StrSplit(target, ',');
  if (items.size() == 1) {
    auto e = ParseEndpoint(items[0]);
    if (!e.ok()) return e.status();
    out.address = std::string(target);
    return out;
  }
  std::vector<std::string> endpoints;
  HostKind kind = HostKind::kIpv4;
  for (size_t i = 0; i < items.size(); ++i) {
    const absl::string_view item = absl::StripAsciiWhitespace(items[i]);
    if (item.empty()) return Invalid(absl::StrCat("item ", i, " of the list is empty"));
    auto e = ParseEndpoint(item);
    if (!e.ok()) return e.status();
    if (e->kind == HostKind::kName) {
      return Invalid(absl::StrCat("\"", item,
                                  "\": a list takes IP addresses only; use dns:///name:port to "
                                  "balance over the addresses of a name"));
    }
    if (i == 0) {
      kind = e->kind;
    } else if (e->kind != kind) {
      return Invalid("a list cannot mix IPv4 and IPv6 addresses");
    }
    endpoints.push_back(absl::StrCat(e->host, ":", e->port));
  }
  out.address =
      absl::StrCat(kind == HostKind::kIpv4 ? "ipv4:" : "ipv6:", absl::StrJoin(endpoints, ","));
  out.round_robin = true;
  out.num_endpoints = static_cast<int>(endpoints.size());
  return out;
}

std::string ServiceConfigJson(const ChannelTarget& target) {
  return target.round_robin ? R"({"loadBalancingConfig":[{"round_robin":{}}]})" : "";
}

}  // namespace arc::client
