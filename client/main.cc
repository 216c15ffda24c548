// arc-client: the command-line client of the ARC test-time-training service. See UsageText() in
// client/cli.cc (or `arc-client --help`) for the commands and options.
#include <unistd.h>

#include <iostream>
#include <string>
#include <vector>

#include "client/cli.h"
#include "client/commands.h"
#include "client/connection.h"

int main(int argc, char** argv) {
  using namespace arc::client;  // NOLINT: a main that only wires the library together
  const std::vector<std::string> args(argv + 1, argv + argc);
  absl::StatusOr<CliOptions> options = ParseCommandLine(args);
  if (!options.ok()) {
    std::cerr << "arc-client: " << options.status().message() << "\n"
              << "run `arc-client --help` for the commands and options\n";
    return kExitUsage;
  }
  if (options->help) {
    std::cout << UsageText();
    return kExitOk;
  }
  ConnectionOptions co;
  co.target = options->server;
  co.retry.max_retries = options->retries;
  co.retry.seed = static_cast<uint64_t>(::getpid());
  co.security.tls_ca = options->tls_ca;
  co.security.tls_cert = options->tls_cert;
  co.security.tls_key = options->tls_key;
  co.security.tls_server_name = options->tls_server_name;
  co.security.token = options->token;
  if (!options->token_file.empty()) {
    absl::StatusOr<std::string> token = ReadTokenFile(options->token_file);
    if (!token.ok()) {
      std::cerr << "arc-client: " << token.status().message() << "\n";
      return kExitUsage;
    }
    co.security.token = *token;
  }
  absl::StatusOr<std::unique_ptr<Connection>> connection = Connection::Open(co);
  if (!connection.ok()) {
    std::cerr << "arc-client: " << connection.status().message() << "\n";
    return kExitUsage;
  }
  Terminal term{std::cout, std::cerr, ::isatty(STDOUT_FILENO) == 1, ::isatty(STDERR_FILENO) == 1};
  return RunCommand(*options, **connection, term);
}
