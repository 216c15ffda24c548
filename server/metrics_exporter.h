// MetricsExporter: a minimal HTTP/1.1 server for Prometheus scrapes. GET (or HEAD) /metrics answers
// 200 with the text exposition format produced by a callback; anything else is 404 (405 for
// other methods). One connection at a time, "Connection: close", 2 s socket timeouts: scrapes are
// rare and small.
//
// Why not prometheus::Exposer: Debian's civetweb (1.15) creates its threads with a fixed 100 KB
// stack, and in a process that loads libtorch the static TLS of its dependencies (libopenblas,
// libglog: ~95 KB) leaves no room, so pthread_create fails and the Exposer throws ("null context
// when constructing CivetServer"). The metrics themselves are prometheus-cpp's (server/metrics.h).
//
// Thread-safety: Start/Stop from one owner thread; the callback runs on the exporter's thread.
#ifndef ARC_SERVER_METRICS_EXPORTER_H_
#define ARC_SERVER_METRICS_EXPORTER_H_

#include <functional>
#include <string>
#include <thread>

#include "absl/status/status.h"

namespace arc::server {

class MetricsExporter {
 public:
  using Render = std::function<std::string()>;

  explicit MetricsExporter(Render render);
  ~MetricsExporter();  // Stop()
  MetricsExporter(const MetricsExporter&) = delete;
  MetricsExporter& operator=(const MetricsExporter&) = delete;

  // Listens on "host:port" ("[::1]:port" for IPv6 literals; port 0 picks a free one).
  // INVALID_ARGUMENT for a malformed address, UNAVAILABLE when it cannot bind.
  absl::Status Start(const std::string& address);
  void Stop();
  int port() const { return port_; }

 private:
  void Serve();
  void Handle(int fd);

  Render render_;
  int listen_fd_ = -1;
  int wake_fds_[2] = {-1, -1};  // a pipe that ends the accept loop
  int port_ = 0;
  std::thread thread_;
};

}  // namespace arc::server

#endif  // ARC_SERVER_METRICS_EXPORTER_H_
