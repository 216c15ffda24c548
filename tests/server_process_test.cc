// The real arc-server binary as a subprocess: --help, flag errors, and a SIGTERM drain with jobs in
// flight (one finishes within the drain timeout, one is cancelled at it; exit status 0).
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <regex>
#include <thread>

#include "core/data/file_util.h"
#include "gtest/gtest.h"
#include "server/proto_conversion.h"
#include "tests/server_test_util.h"

namespace arc::server {
namespace {

using ::arc::testing::Connect;
using ::arc::testing::HealthStatus;
using ::arc::testing::SwapTask;
using ::arc::testing::WaitFor;

// Runs `args` with stdout and stderr into `log`; returns the pid.
pid_t Spawn(const std::vector<std::string>& args, const std::string& log) {
  const pid_t pid = fork();
  if (pid == 0) {
    FILE* f = std::fopen(log.c_str(), "w");
    dup2(fileno(f), 1);
    dup2(fileno(f), 2);
    std::vector<char*> argv;
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

// Waits up to `seconds` for the process; its exit status, or -1 (killed then).
int WaitExit(pid_t pid, double seconds) {
  int status = 0;
  const bool exited = WaitFor([&] { return waitpid(pid, &status, WNOHANG) == pid; }, seconds);
  if (!exited) {
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return -1;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string Read(const std::string& path) { return ReadFile(path).value_or(""); }

// Exactly `steps` TTT steps (250 samples, batch 1: the epochs never end it first).
v1::SolveRequest Request(int steps, const std::string& request_id) {
  const Task task = SwapTask(3, 8);
  v1::SolveRequest r;
  *r.mutable_task() = TaskToProto(task);
  *r.mutable_options() = arc::testing::LongProtoOptions(steps);
  r.set_request_id(request_id);
  return r;
}

int RunningJobs(v1::ArcSolver::Stub& stub) {
  grpc::ClientContext ctx;
  v1::ListJobsRequest req;
  req.set_state(v1::JOB_STATE_RUNNING);
  v1::ListJobsResponse resp;
  return stub.ListJobs(&ctx, req, &resp).ok() ? resp.jobs_size() : -1;
}

TEST(ServerProcessTest, HelpListsTheFlagsAndBadFlagsAreRefused) {
  const std::string dir = arc::testing::TempDir("server_help");
  ASSERT_EQ(WaitExit(Spawn({ARC_SERVER_BIN, "--help"}, dir + "/help.txt"), 10), 0);
  const std::string help = Read(dir + "/help.txt");
  for (const char* flag : {"--address",
                           "--metrics_address",
                           "--model",
                           "--device",
                           "--workers",
                           "--threads",
                           "--queue_capacity",
                           "--job_ttl",
                           "--max_message_bytes",
                           "--drain_timeout",
                           "--log_level",
                           "--warmup",
                           "--ttt_max_steps",
                           "--ttt_max_samples",
                           "--infer_batch_size",
                           "--max_new_tokens",
                           "--limit_ttt_steps",
                           "--limit_ttt_samples",
                           "--limit_views",
                           "--limit_infer_batch_size",
                           "--limit_new_tokens",
                           "--limit_search_work",
                           "--experts",
                           "--search_work"}) {
    EXPECT_NE(help.find("\n  " + std::string(flag) + "="), std::string::npos) << flag;
  }
  EXPECT_EQ(WaitExit(Spawn({ARC_SERVER_BIN, "--device", "gpu"}, dir + "/bad.txt"), 10), 2);
  EXPECT_NE(Read(dir + "/bad.txt")
                .find("error=\"--device: \\\"gpu\\\" is not one of cpu, cuda, cuda:N\""),
            std::string::npos)
      << Read(dir + "/bad.txt");
  EXPECT_EQ(WaitExit(Spawn({ARC_SERVER_BIN, "--model", dir + "/missing", "--address", "127.0.0.1:0",
                            "--metrics_address", ""},
                           dir + "/missing.txt"),
                     20),
            1);
  EXPECT_NE(Read(dir + "/missing.txt").find("event=fatal"), std::string::npos)
      << Read(dir + "/missing.txt");
  std::filesystem::remove_all(dir);
}

TEST(ServerProcessTest, SigtermDrainsJobsInFlightAndExitsZero) {
  const std::string dir = arc::testing::TempDir("server_drain");
  const std::string model = arc::testing::SaveTinyServerModel(dir + "/model");
  const std::string log = dir + "/server.log";
  const pid_t pid = Spawn({ARC_SERVER_BIN, "--model", model, "--address", "127.0.0.1:0",
                           "--metrics_address", "127.0.0.1:0", "--workers", "2", "--threads", "1",
                           "--limit_ttt_steps", "1000000", "--drain_timeout", "3s"},
                          log);
  // The picked port is in the "listening" line; "serving" follows the warm-up.
  int port = 0;
  ASSERT_TRUE(WaitFor(
      [&] {
        std::smatch m;
        const std::string text = Read(log);
        if (text.find("event=serving") == std::string::npos) return false;
        if (!std::regex_search(text, m, std::regex("event=listening .* port=([0-9]+)")))
          return false;
        port = std::stoi(m[1]);
        return true;
      },
      30))
      << Read(log);
  EXPECT_EQ(HealthStatus(port), 1);
  auto stub = Connect(port);

  // Calibrate: how many TTT steps make about 0.5 s on this machine (well inside the 3 s drain).
  const auto t0 = std::chrono::steady_clock::now();
  {
    grpc::ClientContext ctx;
    v1::SolveResponse resp;
    ASSERT_TRUE(stub->Solve(&ctx, Request(100, "calibrate"), &resp).ok());
  }
  const double per_100 =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const int medium_steps = std::max(20, static_cast<int>(100 * 0.5 / per_100));

  grpc::Status long_status, medium_status;
  v1::SolveResponse medium_resp;
  std::thread long_caller([&] {
    grpc::ClientContext ctx;
    v1::SolveResponse resp;
    long_status = stub->Solve(&ctx, Request(1000000, "long"), &resp);
  });
  ASSERT_TRUE(WaitFor([&] { return RunningJobs(*stub) == 1; }));
  std::thread medium_caller([&] {
    grpc::ClientContext ctx;
    medium_status = stub->Solve(&ctx, Request(medium_steps, "medium"), &medium_resp);
  });
  ASSERT_TRUE(WaitFor([&] { return RunningJobs(*stub) == 2; }));

  const auto signalled = std::chrono::steady_clock::now();
  ASSERT_EQ(kill(pid, SIGTERM), 0);
  // Draining: NOT_SERVING, and no new work.
  EXPECT_TRUE(WaitFor([&] { return HealthStatus(port) == 2; }, 5));
  {
    grpc::ClientContext ctx;
    v1::Job job;
    const grpc::Status s = stub->SubmitTask(&ctx, Request(4, "late"), &job);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE);
    EXPECT_EQ(s.error_message(), "server is draining: not accepting new jobs");
  }
  medium_caller.join();
  long_caller.join();
  EXPECT_EQ(WaitExit(pid, 20), 0) << Read(log);
  const double drain_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - signalled).count();
  // The medium job finished within the drain; the long one was cancelled at its timeout.
  EXPECT_TRUE(medium_status.ok()) << medium_status.error_message();
  EXPECT_EQ(medium_resp.ttt().steps(), medium_steps);
  EXPECT_EQ(long_status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(long_status.error_message(),
            "server shutting down: the job was cancelled at the drain timeout");
  EXPECT_GE(drain_s, 2.9);
  EXPECT_LT(drain_s, 10);
  const std::string text = Read(log);
  EXPECT_NE(text.find("event=signal signal=SIGTERM"), std::string::npos) << text;
  EXPECT_NE(text.find("event=draining queued=0 running=2"), std::string::npos) << text;
  EXPECT_TRUE(std::regex_search(text, std::regex("event=job_done job_id=\\S+ request_id=medium "
                                                 "task_id=\\S+ task_hash=[0-9a-f]{16} "
                                                 "outcome=succeeded code=OK queue_s=")))
      << text;
  EXPECT_TRUE(std::regex_search(text, std::regex("request_id=long .*outcome=cancelled "
                                                 "code=UNAVAILABLE .*ttt_steps=[1-9]")))
      << text;
  EXPECT_NE(text.find("event=stopped"), std::string::npos) << text;
  if (std::getenv("ARC_SERVER_TEST_LOG")) std::printf("%s\n", text.c_str());
  std::printf("drain took %.2f s (medium job %d steps, %.3f s per 100 steps)\n", drain_s,
              medium_steps, per_100);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace arc::server
