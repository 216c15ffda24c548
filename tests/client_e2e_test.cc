// End to end: the real arc-client binary against real arc-server processes on loopback ports, each
// serving a tiny random model written by arc-init-model. Covers solve (plain, --json, --stream,
// --task_json), the job commands, info, health, load, eval over two servers behind a
// round-robin list (each server's /metrics must show Solve calls), retries against a full queue,
// and reflection through a real reflection client (node + grpc-js-reflection-client; skipped with
// a message when absent).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "client/connection.h"
#include "core/data/file_util.h"
#include "core/data/task_io.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/test_util.h"

namespace arc::client {
namespace {

using Json = nlohmann::json;

const std::string kExamples = std::string(ARC_SOURCE_DIR) + "/examples";

int FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    return 0;
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

struct RunResult {
  int rc = -1;
  std::string out;
  std::string err;
};

// Runs a shell command line, capturing stdout and stderr.
RunResult Shell(const std::string& cmd, const std::string& dir) {
  static int n = 0;
  const std::string out = absl::StrCat(dir, "/run", n, ".out");
  const std::string err = absl::StrCat(dir, "/run", n, ".err");
  ++n;
  const int status = std::system(absl::StrCat(cmd, " > ", out, " 2> ", err).c_str());
  RunResult r;
  r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = ReadFile(out).value_or("");
  r.err = ReadFile(err).value_or("");
  return r;
}

// One arc-server child process; SIGTERM (then SIGKILL) on destruction.
class ServerProcess {
 public:
  ServerProcess(const std::string& model, const std::string& log,
                const std::vector<std::string>& extra)
      : port_(FreePort()), metrics_port_(FreePort()), log_(log) {
    std::vector<std::string> args = {ARC_SERVER_BIN, absl::StrCat("--address=127.0.0.1:", port_),
                                     absl::StrCat("--metrics_address=127.0.0.1:", metrics_port_),
                                     "--model=" + model};
    args.insert(args.end(), extra.begin(), extra.end());
    pid_ = ::fork();
    if (pid_ == 0) {
      const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      std::vector<char*> argv;
      for (std::string& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
  }
  ~ServerProcess() { Stop(); }

  // Waits until grpc.health.v1 says SERVING (true) or the process dies or `timeout` passes.
  bool WaitServing(absl::Duration timeout) {
    ConnectionOptions co;
    co.target = target();
    co.retry.max_retries = 0;
    auto conn = Connection::Open(co);
    if (!conn.ok()) return false;
    const absl::Time end = absl::Now() + timeout;
    while (absl::Now() < end) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return false;
      }
      grpc::ClientContext ctx;
      ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(1)));
      grpc::health::v1::HealthCheckRequest req;
      grpc::health::v1::HealthCheckResponse resp;
      if ((*conn)->health().Check(&ctx, req, &resp).ok() &&
          resp.status() == grpc::health::v1::HealthCheckResponse::SERVING) {
        return true;
      }
      absl::SleepFor(absl::Milliseconds(100));
    }
    return false;
  }

  // SIGTERM, then SIGKILL after 20 s; returns the exit status (or -1).
  int Stop() {
    if (pid_ <= 0) return -1;
    ::kill(pid_, SIGTERM);
    int status = 0;
    const absl::Time end = absl::Now() + absl::Seconds(20);
    while (::waitpid(pid_, &status, WNOHANG) == 0) {
      if (absl::Now() > end) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        break;
      }
      absl::SleepFor(absl::Milliseconds(20));
    }
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  std::string target() const { return absl::StrCat("127.0.0.1:", port_); }
  int port() const { return port_; }
  std::string log() const { return ReadFile(log_).value_or(""); }

  // The /metrics page, fetched with a plain HTTP/1.0 GET.
  std::string Metrics() const {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(metrics_port_));
    std::string body;
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
      const std::string req = "GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
      if (::write(fd, req.data(), req.size()) == static_cast<ssize_t>(req.size())) {
        char buf[8192];
        ssize_t n;
        while ((n = ::read(fd, buf, sizeof(buf))) > 0) body.append(buf, static_cast<size_t>(n));
      }
    }
    ::close(fd);
    return body;
  }

 private:
  int port_;
  int metrics_port_;
  std::string log_;
  pid_t pid_ = -1;
};

// The sum of a counter's samples whose labels contain every one of `labels` (e.g. method="Solve").
double CounterSum(const std::string& metrics, const std::string& name,
                  const std::vector<std::string>& labels) {
  double sum = 0;
  for (absl::string_view line : absl::StrSplit(metrics, '\n')) {
    if (!absl::StartsWith(line, name + "{")) continue;
    bool match = true;
    for (const std::string& l : labels) match = match && absl::StrContains(line, l);
    if (!match) continue;
    double v = 0;
    const size_t space = line.rfind(' ');
    if (space != absl::string_view::npos && absl::SimpleAtod(line.substr(space + 1), &v)) sum += v;
  }
  return sum;
}

// One torch thread and small TTT budgets by default, so that a solve on the tiny model takes well
// under a second and two servers share the machine's cores politely.
std::vector<std::string> TinyServerFlags() {
  return {"--threads=1", "--ttt_max_steps=2", "--ttt_max_samples=8", "--drain_timeout=10s"};
}

class ClientE2eTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(arc::testing::TempDir("client_e2e"));
    const RunResult init = Shell(
        absl::StrCat(ARC_INIT_MODEL_BIN, " --preset tiny --seed 3 --out ", *dir_, "/model"), *dir_);
    ASSERT_EQ(init.rc, 0) << init.out << init.err;
    server_ = new ServerProcess(*dir_ + "/model", *dir_ + "/server.log", TinyServerFlags());
    ASSERT_TRUE(server_->WaitServing(absl::Seconds(120))) << server_->log();
  }
  static void TearDownTestSuite() {
    if (server_ != nullptr) {
      const int rc = server_->Stop();
      EXPECT_EQ(rc, 0) << "arc-server exit after SIGTERM\n" << server_->log();
    }
    delete server_;
    server_ = nullptr;
    std::filesystem::remove_all(*dir_);
    delete dir_;
  }
  void SetUp() override {
    if (server_ == nullptr) GTEST_SKIP() << "server did not start";
  }

  static RunResult Client(const std::string& args, const std::string& target = "") {
    return Shell(absl::StrCat(ARC_CLIENT_BIN, " --server ",
                              target.empty() ? server_->target() : target, " ", args),
                 *dir_);
  }

  static std::string* dir_;
  static ServerProcess* server_;
};

std::string* ClientE2eTest::dir_ = nullptr;
ServerProcess* ClientE2eTest::server_ = nullptr;

// Request options that keep a solve fast whatever the server's defaults.
// The TTT expert alone, two steps (the program search would explain the examples and skip TTT).
const char kFast[] = "--seed 5 --experts ttt --ttt_max_steps 2 --ttt_max_samples 4";

TEST_F(ClientE2eTest, HealthAndInfo) {
  RunResult r = Client("health");
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(r.out, "SERVING\n");

  r = Client("health --service no.such.Service");
  EXPECT_EQ(r.rc, 1);
  EXPECT_TRUE(absl::StrContains(r.err, "health Check failed: NOT_FOUND")) << r.err;

  r = Client("info");
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_TRUE(absl::StrContains(r.out, "model              arc-tiny-random")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "prompt format      compact")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "device             cpu")) << r.out;

  r = Client("info --json");
  ASSERT_EQ(r.rc, 0) << r.err;
  const Json info = Json::parse(r.out);
  EXPECT_EQ(info["model_name"], "arc-tiny-random");
  EXPECT_TRUE(info["defaults"].contains("ttt_options")) << r.out;
}

TEST_F(ClientE2eTest, SolvePrintsGridsAndVerdicts) {
  const RunResult r = Client(absl::StrCat("solve ", kExamples, "/flip.json ", kFast));
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_TRUE(absl::StrContains(r.out, "task flip  hash ")) << r.out;
  // The test input and its known output, plain digits (not a terminal).
  EXPECT_TRUE(absl::StrContains(r.out, "  input   expected   attempt 1")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "  300     003")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "attempt 1: ")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "=> test 0 ")) << r.out;
  // The candidate table when the tiny random model produced valid grids (it often does not).
  EXPECT_EQ(absl::StrContains(r.out, " 0 candidates,"),
            !absl::StrContains(r.out, "rank  shape   votes       score  views  expert"))
      << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "ttt: ")) << r.out;
  EXPECT_FALSE(absl::StrContains(r.out, "\x1b[")) << "no colour when not a terminal";

  const RunResult c = Client(
      absl::StrCat("--color always solve ", kExamples, "/flip.json --include_views ", kFast));
  ASSERT_EQ(c.rc, 0) << c.err;
  EXPECT_TRUE(absl::StrContains(c.out, ";48;5;")) << c.out;  // digits on ARC backgrounds
  // Every view's raw prediction, valid or with the reason it was rejected.
  int views = 0;
  for (absl::string_view line : absl::StrSplit(c.out, '\n')) {
    views += absl::StartsWith(line, "  view ");
  }
  const size_t at = c.out.find("test 0: ");
  ASSERT_NE(at, std::string::npos) << c.out;
  int num_views = 0;
  ASSERT_TRUE(absl::SimpleAtoi(c.out.substr(at + 8, c.out.find(' ', at + 8) - at - 8), &num_views));
  EXPECT_GT(num_views, 0);
  EXPECT_EQ(views, num_views) << c.out;
}

// The default experts: the program search explains the flip, TTT is skipped, and the answer comes
// with its program, in the text and in the JSON.
TEST_F(ClientE2eTest, SearchAnswersCarryTheirProgram) {
  const RunResult r = Client(absl::StrCat("solve ", kExamples, "/flip.json --seed 5"));
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_TRUE(absl::StrContains(r.out, "=> test 0 CORRECT")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "search: explained")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "ttt skipped")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "        program ")) << r.out;

  const std::string html = *dir_ + "/flip.html";
  const RunResult j =
      Client(absl::StrCat("solve --json ", kExamples, "/flip.json --seed 5 --html ", html));
  ASSERT_EQ(j.rc, 0) << j.err;
  EXPECT_TRUE(absl::StrContains(j.err, "html: " + html)) << j.err;
  const Json result = Json::parse(j.out);  // stdout stays the JSON alone
  EXPECT_EQ(result["search"]["explained"], true) << j.out;
  EXPECT_EQ(result["ttt"]["enabled"], false) << j.out;
  const Json& best = result["tests"][0]["candidates"][0];
  EXPECT_EQ(best["expert"], "search") << j.out;
  EXPECT_FALSE(best["program"].get<std::string>().empty()) << j.out;
  EXPECT_EQ(result["tests"][0]["correct"], true) << j.out;
  EXPECT_EQ(result["correct"], true) << j.out;
  EXPECT_EQ(best["correct"], true) << j.out;

  // The visual report of the same result (core/report/html_report.h): the task, its answer marked
  // right, with its program.
  const std::string page = ReadFile(html).value_or("");
  EXPECT_TRUE(absl::StrContains(page, R"(data-task="flip" data-correct="true")")) << page;
  EXPECT_TRUE(absl::StrContains(page, R"(data-role="train-input")")) << page;
  EXPECT_TRUE(absl::StrContains(page, R"(data-role="expected")")) << page;
  EXPECT_TRUE(absl::StrContains(
      page,
      R"(data-test="0" data-rank="1" data-expert="search" data-correct="true" data-diff="0")"))
      << page;
  EXPECT_TRUE(absl::StrContains(page, absl::StrCat("<code class=\"program\">",
                                                   best["program"].get<std::string>(), "</code>")))
      << page;
}

TEST_F(ClientE2eTest, JsonStructuredAndTaskJsonAgree) {
  const RunResult a = Client(absl::StrCat("solve --json ", kExamples, "/recolor.json ", kFast));
  ASSERT_EQ(a.rc, 0) << a.err;
  const RunResult b =
      Client(absl::StrCat("solve --json --task_json ", kExamples, "/recolor.json ", kFast));
  ASSERT_EQ(b.rc, 0) << b.err;
  // The solve-result JSON of arc-solve's report entries (core/solve/result_json.h), plus the job.
  const Json ja = Json::parse(a.out), jb = Json::parse(b.out);
  std::vector<std::string> keys;
  for (const auto& [key, value] : ja.items()) keys.push_back(key);
  EXPECT_EQ(keys, (std::vector<std::string>{"correct", "generated_tokens", "hash", "id", "job",
                                            "phase_seconds", "prompt_tokens", "search", "seconds",
                                            "tests", "ttt"}))
      << a.out;
  EXPECT_EQ(ja["id"], "recolor");
  ASSERT_EQ(ja["tests"].size(), 1u) << a.out;
  EXPECT_FALSE(ja["job"]["id"].get<std::string>().empty());
  EXPECT_EQ(ja["ttt"]["steps"], 2) << a.out;
  EXPECT_EQ(ja["ttt"]["losses"].size(), 2u) << a.out;  // the loss of every step, over the wire
  EXPECT_TRUE(ja["ttt"]["losses"][0].is_number()) << a.out;
  // Same task, options and seed: the same candidates whichever way the task travelled.
  EXPECT_EQ(ja["hash"], jb["hash"]);
  EXPECT_EQ(ja["tests"], jb["tests"]);
  EXPECT_NE(ja["job"]["id"], jb["job"]["id"]);
}

TEST_F(ClientE2eTest, StreamShowsProgress) {
  const RunResult r = Client(absl::StrCat("solve --stream ", kExamples, "/transpose.json ", kFast));
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_TRUE(absl::StrContains(r.err, "phase: ttt_train")) << r.err;
  // Progress events that pile up behind a slow reader are coalesced (server/service.cc), so step
  // 1/2 may be skipped when the steps are fast; the newest of a run, step 2/2, always arrives.
  EXPECT_TRUE(absl::StrContains(r.err, "ttt step 2/2  loss ")) << r.err;
  EXPECT_TRUE(absl::StrContains(r.err, "phase: inference")) << r.err;
  EXPECT_TRUE(absl::StrContains(r.err, "inference ")) << r.err;
  EXPECT_TRUE(absl::StrContains(r.out, "task transpose  hash ")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "=> test 0 ")) << r.out;
}

TEST_F(ClientE2eTest, ErrorsExitWithTheirCodes) {
  // A file that is not a task: refused locally, exit 2.
  const std::string bad = *dir_ + "/bad.json";
  ASSERT_TRUE(WriteFileAtomic(bad, R"({"train": [{"input": [[1, 2], [3]], "output": [[1]]}],
                                      "test": [{"input": [[1]]}]})")
                  .ok());
  RunResult r = Client("solve " + bad);
  EXPECT_EQ(r.rc, 2);
  EXPECT_TRUE(absl::StrContains(r.err, "train[0].input: row 1 has 1 cells, expected 2")) << r.err;
  // The same file as task_json goes to the server, which answers INVALID_ARGUMENT: exit 1.
  r = Client("solve --task_json " + bad);
  EXPECT_EQ(r.rc, 1);
  EXPECT_TRUE(absl::StrContains(r.err, "arc-client: Solve failed: INVALID_ARGUMENT: ")) << r.err;
  EXPECT_TRUE(absl::StrContains(r.err, "row 1 has 1 cells, expected 2")) << r.err;
  // Out-of-range option: INVALID_ARGUMENT, not retried.
  r = Client(absl::StrCat("solve ", kExamples, "/flip.json --lora_rank 100000"));
  EXPECT_EQ(r.rc, 1);
  EXPECT_TRUE(absl::StrContains(r.err, "Solve failed: INVALID_ARGUMENT: ")) << r.err;
  EXPECT_FALSE(absl::StrContains(r.err, "attempts")) << r.err;
  // A deadline too short for any solve: DEADLINE_EXCEEDED, not retried.
  r = Client(absl::StrCat("--deadline 0.001 solve ", kExamples, "/flip.json ", kFast));
  EXPECT_EQ(r.rc, 1);
  EXPECT_TRUE(absl::StrContains(r.err, "arc-client: Solve failed: DEADLINE_EXCEEDED: ")) << r.err;
  EXPECT_FALSE(absl::StrContains(r.err, "attempts")) << r.err;
  // Unknown job.
  r = Client("get no-such-job");
  EXPECT_EQ(r.rc, 1);
  EXPECT_TRUE(absl::StrContains(r.err, "GetJob failed: NOT_FOUND")) << r.err;
  // Nobody listening: UNAVAILABLE after the retries.
  r = Client("--retries 1 info", absl::StrCat("127.0.0.1:", FreePort()));
  EXPECT_EQ(r.rc, 1);
  EXPECT_TRUE(absl::StrContains(r.err, "GetServerInfo failed: UNAVAILABLE")) << r.err;
  EXPECT_TRUE(absl::StrContains(r.err, "(after 2 attempts)")) << r.err;
  // Usage.
  r = Client("solve");
  EXPECT_EQ(r.rc, 2);
  EXPECT_TRUE(absl::StrContains(r.err, "`solve` takes one FILE, got 0 arguments")) << r.err;
}

TEST_F(ClientE2eTest, JobsSubmitGetWatchListCancel) {
  RunResult r = Client(absl::StrCat("submit --json ", kExamples, "/scale2.json ", kFast,
                                    " --request_id e2e-jobs-1"));
  ASSERT_EQ(r.rc, 0) << r.err;
  const Json job = Json::parse(r.out);
  const std::string id = job["job_id"];
  ASSERT_FALSE(id.empty());
  EXPECT_EQ(job["request_id"], "e2e-jobs-1");
  EXPECT_EQ(job["task_id"], "scale2");

  // The same request id again: the same job.
  r = Client(absl::StrCat("submit --json ", kExamples, "/scale2.json ", kFast,
                          " --request_id e2e-jobs-1"));
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(Json::parse(r.out)["job_id"], id);

  r = Client("watch " + id);
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_TRUE(absl::StrContains(r.out, "task scale2  hash ")) << r.out;

  r = Client("get " + id);
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_TRUE(absl::StrContains(r.out, "job " + id + "\n  state     succeeded\n")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "attempt 1")) << r.out;

  r = Client("list --state succeeded");
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_TRUE(absl::StrContains(r.out, id)) << r.out;
  r = Client("list --state running");
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_FALSE(absl::StrContains(r.out, id)) << r.out;

  // Cancelling a finished job leaves it as it was.
  r = Client("cancel --json " + id);
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(Json::parse(r.out)["state"], "JOB_STATE_SUCCEEDED") << r.out;
}

TEST_F(ClientE2eTest, LoadReportsCountsLatencyAndCodes) {
  const RunResult r =
      Client(absl::StrCat("load ", kExamples, "/flip.json ", kFast, " --concurrency 2 --total 6"));
  ASSERT_EQ(r.rc, 0) << r.out << r.err;
  EXPECT_TRUE(absl::StrContains(r.out, "Count:         6\n")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "Requests/sec:  ")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "Latency (6 OK calls):")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "  p99    ")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "[OK]")) << r.out;
  std::cout << r.out;  // the numbers, for the record
}

// Tasks from examples/ copied under several names, so that an eval has enough calls to spread.
std::string EvalDir(const std::string& root, int copies) {
  const std::string dir = root + "/eval_tasks";
  std::filesystem::create_directories(dir);
  for (const char* name : {"flip", "recolor", "transpose", "scale2"}) {
    for (int c = 0; c < copies; ++c) {
      std::filesystem::copy_file(kExamples + "/" + name + ".json",
                                 absl::StrCat(dir, "/", name, "_", c, ".json"),
                                 std::filesystem::copy_options::overwrite_existing);
    }
  }
  return dir;
}

TEST_F(ClientE2eTest, EvalSpreadsOverTwoServers) {
  ServerProcess second(*dir_ + "/model", *dir_ + "/server2.log", TinyServerFlags());
  ASSERT_TRUE(second.WaitServing(absl::Seconds(120))) << second.log();
  const double before1 = CounterSum(server_->Metrics(), "arc_requests_total", {"method=\"Solve\""});
  const double before2 = CounterSum(second.Metrics(), "arc_requests_total", {"method=\"Solve\""});

  const std::string tasks = EvalDir(*dir_, 2);
  const std::string out = *dir_ + "/submission.json";
  const std::string both = absl::StrCat(server_->target(), ",", second.target());
  const RunResult r =
      Client(absl::StrCat("eval ", tasks, " --concurrency 4 --out ", out, " ", kFast), both);
  ASSERT_EQ(r.rc, 0) << r.out << r.err;
  EXPECT_TRUE(absl::StrContains(r.err, "eval: 8 tasks on ipv4:")) << r.err;
  EXPECT_TRUE(absl::StrContains(r.out, "[8/8] ")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "tasks 8, failed 0")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "pass@2 over 8 tasks with known outputs:")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "  all-or-nothing  ")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "  fractional      ")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "  per prediction  ")) << r.out;

  absl::StatusOr<Submission> sub = ReadSubmissionFile(out);
  ASSERT_TRUE(sub.ok()) << sub.status();
  EXPECT_EQ(sub->size(), 8u);
  EXPECT_EQ(sub->at("flip_0").size(), 1u);

  // Both servers answered Solve calls, and together all eight.
  const double got1 =
      CounterSum(server_->Metrics(), "arc_requests_total", {"method=\"Solve\""}) - before1;
  const double got2 =
      CounterSum(second.Metrics(), "arc_requests_total", {"method=\"Solve\""}) - before2;
  EXPECT_GT(got1, 0) << server_->Metrics();
  EXPECT_GT(got2, 0) << second.Metrics();
  EXPECT_EQ(got1 + got2, 8);
  std::cout << "eval over two servers: " << got1 << " + " << got2 << " Solve calls\n";
  EXPECT_EQ(second.Stop(), 0) << second.log();
}

TEST_F(ClientE2eTest, EvalWithKaggleChallengesAndSolutions) {
  // The examples as a Kaggle challenges file (no test outputs) plus a solutions file.
  Json challenges, solutions;
  for (const char* name : {"flip", "recolor"}) {
    Json t = Json::parse(ReadFile(kExamples + "/" + name + ".json").value());
    solutions[name] = Json::array({t["test"][0]["output"]});
    t["test"][0].erase("output");
    challenges[name] = t;
  }
  ASSERT_TRUE(WriteFileAtomic(*dir_ + "/challenges.json", challenges.dump()).ok());
  ASSERT_TRUE(WriteFileAtomic(*dir_ + "/solutions.json", solutions.dump()).ok());
  const std::string report = *dir_ + "/eval-report.json", html = *dir_ + "/eval.html";
  RunResult r =
      Client(absl::StrCat("eval ", *dir_, "/challenges.json --solutions ", *dir_,
                          "/solutions.json ", kFast, " --report ", report, " --html ", html));
  ASSERT_EQ(r.rc, 0) << r.out << r.err;
  EXPECT_TRUE(absl::StrContains(r.out, "pass@2 over 2 tasks with known outputs:")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "report: " + report + "\nhtml: " + html + "\n")) << r.out;
  // The JSON report has arc-solve's schema (docs/JSON.md): an entry per task, scored.
  const Json j = Json::parse(ReadFile(report).value_or("null"));
  ASSERT_EQ(j["tasks"].size(), 2u) << j.dump();
  EXPECT_EQ(j["tasks"][0]["id"], "flip");
  EXPECT_EQ(j["tasks"][1]["id"], "recolor");
  EXPECT_TRUE(j["tasks"][0]["tests"][0]["correct"].is_boolean()) << j.dump();
  EXPECT_TRUE(j["tasks"][0]["tests"][0]["attempts"][0][0][0].is_number_integer()) << j.dump();
  EXPECT_EQ(j["failed"], 0);
  EXPECT_TRUE(j["score"].contains("pass2_all_or_nothing")) << j.dump();
  // The HTML report: a summary row and a section per task, with demonstrations and the expected
  // outputs from the solutions file.
  const std::string page = ReadFile(html).value_or("");
  for (const char* id : {"flip", "recolor"}) {
    EXPECT_TRUE(absl::StrContains(page, absl::StrCat("<tr data-task=\"", id, "\""))) << id;
    EXPECT_TRUE(absl::StrContains(page, absl::StrCat("data-task=\"", id, "\" data-correct=\"")))
        << id;
  }
  EXPECT_TRUE(absl::StrContains(page, R"(<a href="#task-1">recolor</a>)")) << page;
  EXPECT_TRUE(absl::StrContains(page, R"(data-role="expected")")) << page;
  EXPECT_TRUE(absl::StrContains(page, R"(data-role="train-output")")) << page;
  // Without solutions there is nothing to score against.
  r = Client(absl::StrCat("eval ", *dir_, "/challenges.json ", kFast));
  ASSERT_EQ(r.rc, 0) << r.out << r.err;
  EXPECT_TRUE(absl::StrContains(r.out, "pass@2: no known test outputs")) << r.out;
}

TEST_F(ClientE2eTest, RetriesRideOutAFullQueue) {
  // One worker and a one-job queue: a burst of 6 overflows it. `load` does not retry and shows the
  // RESOURCE_EXHAUSTED answers; `eval` retries them (honouring retry-after-ms) and finishes all.
  ServerProcess small(*dir_ + "/model", *dir_ + "/server3.log", [] {
    std::vector<std::string> f = TinyServerFlags();
    f.push_back("--workers=1");
    f.push_back("--queue_capacity=1");
    return f;
  }());
  ASSERT_TRUE(small.WaitServing(absl::Seconds(120))) << small.log();
  RunResult r =
      Client(absl::StrCat("load ", kExamples, "/flip.json ", kFast, " --concurrency 6 --total 6"),
             small.target());
  EXPECT_EQ(r.rc, 1) << r.out << r.err;
  EXPECT_TRUE(absl::StrContains(r.out, "[RESOURCE_EXHAUSTED]")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "[OK]")) << r.out;

  const std::string tasks = EvalDir(*dir_, 2);
  r = Client(absl::StrCat("--retries 20 eval ", tasks, " --concurrency 6 ", kFast), small.target());
  EXPECT_EQ(r.rc, 0) << r.out << r.err;
  EXPECT_TRUE(absl::StrContains(r.out, "tasks 8, failed 0")) << r.out;
  EXPECT_EQ(small.Stop(), 0) << small.log();
}

TEST_F(ClientE2eTest, ReflectionClientDiscoversAndSolves) {
  const std::string modules = std::string(ARC_SOURCE_DIR) + "/third_party_npm/node_modules";
  if (std::system("node --version > /dev/null 2>&1") != 0) {
    GTEST_SKIP() << "node not found; run scripts/setup.sh";
  }
  for (const char* pkg : {"@grpc/grpc-js", "grpc-js-reflection-client"}) {
    if (!std::filesystem::exists(modules + "/" + pkg + "/package.json")) {
      GTEST_SKIP() << "npm package " << pkg << " not installed under third_party_npm/; run "
                   << "scripts/setup.sh";
    }
  }
  const RunResult r = Shell(absl::StrCat("node ", ARC_SOURCE_DIR, "/tests/client_reflection.js ",
                                         server_->target(), " ", kExamples, "/flip.json ", modules,
                                         " '{\"seed\": \"5\", \"experts\": \"EXPERTS_TTT\", "
                                         "\"ttt_options\": {\"max_steps\": 2, \"max_samples\": 4}}'"),
                            *dir_);
  ASSERT_EQ(r.rc, 0) << r.out << r.err;
  const Json j = Json::parse(r.out);
  const std::vector<std::string> services = j["services"];
  EXPECT_NE(std::find(services.begin(), services.end(), "arc.v1.ArcSolver"), services.end())
      << r.out;
  const std::vector<std::string> methods = j["methods"];
  for (const char* m : {"Solve", "SolveStream", "SubmitTask", "GetJob", "WatchJob", "CancelJob",
                        "ListJobs", "GetServerInfo"}) {
    EXPECT_NE(std::find(methods.begin(), methods.end(), m), methods.end()) << m << "\n" << r.out;
  }
  EXPECT_EQ(j["task_json"]["task_id"], "flip");
  ASSERT_EQ(j["task_json"]["predictions"].size(), 1u) << r.out;
  EXPECT_EQ(j["task_json"]["predictions"], j["structured"]["predictions"]) << r.out;
  // The same request through the C++ client gives the same answer.
  const RunResult c = Client(absl::StrCat("solve --json ", kExamples, "/flip.json ", kFast));
  ASSERT_EQ(c.rc, 0) << c.err;
  const Json cj = Json::parse(c.out);
  // The wire's rows of digits against the result JSON's rows of numbers.
  Json attempt_1 = Json::array();
  for (const Json& row : j["task_json"]["predictions"][0]["attempt_1"]["rows"]) {
    Json cells = Json::array();
    for (char ch : row.get<std::string>()) cells.push_back(ch - '0');
    attempt_1.push_back(cells);
  }
  EXPECT_EQ(cj["tests"][0]["attempts"][0], attempt_1);
  std::cout << "reflection: " << j["reflection"] << "\n";
}

}  // namespace
}  // namespace arc::client
