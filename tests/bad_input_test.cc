// Bad inputs end to end (issue 17): a JSON number that overflows a double (`1e3080`) in a task,
// a Kaggle challenges, solutions or submission file, splits.json or a safetensors header, and a
// model whose weights hold NaN. Every binary answers with a clear error naming the file and the
// field: the server INVALID_ARGUMENT on every RPC that takes a task (it answered UNIMPLEMENTED with
// an empty message); arc-server, arc-solve and arc-tasks exit 2 (their INVALID_ARGUMENT status) and
// arc-client its usage status, each with the message (they aborted with 134, or in the NaN case
// served and solved garbage).
#include <sys/wait.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/data/file_util.h"
#include "core/model/arc_model.h"
#include "gtest/gtest.h"
#include "server/server.h"
#include "tests/model_test_util.h"
#include "tests/server_test_util.h"

namespace arc {
namespace {

const std::string kOverflow = "number 1e3080 is out of range (it overflows a double)";
constexpr char kGoodTask[] =
    R"({"train": [{"input": [[1, 2]], "output": [[2, 1]]}], "test": [{"input": [[1, 1]]}]})";
// 1e3080 in the second cell of the first demonstration's input (byte 32).
constexpr char kOverflowTask[] =
    R"({"train": [{"input": [[1, 1e3080]], "output": [[2, 1]]}], "test": [{"input": [[1, 1]]}]})";

struct Outcome {
  int code = -1;       // exit status, or 128 + signal
  std::string output;  // stdout and stderr together
};

// Runs `args` (no shell quoting needed: paths come from TempDir) with a time limit.
Outcome RunBinary(const std::vector<std::string>& args, const std::string& log) {
  const std::string command =
      absl::StrCat("timeout 120 ", absl::StrJoin(args, " "), " > ", log, " 2>&1");
  const int status = std::system(command.c_str());
  Outcome run;
  run.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  run.output = ReadFile(log).value_or("");
  return run;
}

// Rewrites a safetensors file so that the end of its first tensor's data_offsets reads 1e3080
// (the header length field is rewritten to match).
void OverflowFirstDataOffset(const std::string& path) {
  std::string bytes = ReadFile(path).value();
  uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  std::string header = bytes.substr(8, n);
  const std::string data = bytes.substr(8 + n);
  const std::string from = "\"data_offsets\":[0,";
  const size_t at = header.find(from) + from.size();
  header.replace(at, header.find(']', at) - at, "1e3080");
  n = header.size();
  std::string out(8, '\0');
  std::memcpy(out.data(), &n, 8);
  ASSERT_TRUE(WriteFileAtomic(path, out + header + data).ok());
}

class BadInputTest : public testing::TempDirTest {
 protected:
  BadInputTest() : TempDirTest("bad_input_") {}

  std::string Write(const std::string& name, const std::string& text) {
    EXPECT_TRUE(WriteFileAtomic(Path(name), text).ok());
    return Path(name);
  }
  Outcome Exec(const std::vector<std::string>& args) { return RunBinary(args, Path("log.txt")); }

  // A tiny server model; with `nan`, one weight is NaN (written by SaveArcModel).
  std::string Model(const std::string& name, bool nan) {
    const std::string dir = arc::testing::SaveTinyServerModel(Path(name));
    if (!nan) return dir;
    std::shared_ptr<const ArcModel> model = LoadArcModel(dir).value();
    {
      at::NoGradGuard no_grad;
      model->net->StateDict().at("model.norm.weight")[0].fill_(std::nanf(""));
    }
    EXPECT_TRUE(SaveArcModel(*model, dir).ok());
    return dir;
  }
};

TEST_F(BadInputTest, ServerAnswersInvalidArgumentNamingTheFieldOnEveryTaskRpc) {
  at::set_num_threads(1);
  server::ServerOptions o;
  o.address = "127.0.0.1:0";
  o.metrics_address = "";
  o.model_dir = Model("model", /*nan=*/false);
  o.threads = 1;
  absl::StatusOr<std::unique_ptr<server::ArcServer>> server = server::ArcServer::Start(o);
  ASSERT_TRUE(server.ok()) << server.status();
  ASSERT_TRUE((*server)->LoadModel().ok());
  auto stub = arc::testing::Connect((*server)->port());
  const std::string want =
      absl::StrCat("task_json: train[0].input[0][1]: ", kOverflow, ", at byte 32");

  v1::SolveRequest request;
  request.set_task_json(kOverflowTask);
  {
    grpc::ClientContext ctx;
    v1::SolveResponse response;
    const grpc::Status s = stub->Solve(&ctx, request, &response);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_EQ(s.error_message(), want);
  }
  {
    grpc::ClientContext ctx;
    v1::Job job;
    const grpc::Status s = stub->SubmitTask(&ctx, request, &job);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_EQ(s.error_message(), want);
  }
  {
    grpc::ClientContext ctx;
    std::unique_ptr<grpc::ClientReader<v1::SolveEvent>> reader = stub->SolveStream(&ctx, request);
    v1::SolveEvent event;
    while (reader->Read(&event)) {
    }
    const grpc::Status s = reader->Finish();
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_EQ(s.error_message(), want);
  }
  // The server carries on: a good task is still answered.
  request.set_task_json(kGoodTask);
  *request.mutable_options() = arc::testing::FastProtoOptions();
  grpc::ClientContext ctx;
  v1::SolveResponse response;
  EXPECT_TRUE(stub->Solve(&ctx, request, &response).ok());
  (*server)->Shutdown();
}

TEST_F(BadInputTest, ArcServerRefusesToStartOnABadModelNamingTheTensor) {
  // A safetensors header whose first data_offsets end is 1e3080.
  const std::string header = Model("header", /*nan=*/false);
  OverflowFirstDataOffset(header + "/model.safetensors");

  for (const auto& [dir, want] : std::vector<std::pair<std::string, std::string>>{
           {header, "data_offsets[1]: " + kOverflow},
           {Model("nan", /*nan=*/true),
            "tensor \\\"model.norm.weight\\\": 1 of 32 values are not finite (the first, at flat "
            "index 0, is nan)"}}) {
    const Outcome run = Exec({ARC_SERVER_BIN, "--model", dir, "--address", "127.0.0.1:0",
                              "--metrics_address=", "--warmup=false"});
    EXPECT_EQ(run.code, 2) << run.output;  // INVALID_ARGUMENT
    EXPECT_NE(run.output.find("event=fatal code=INVALID_ARGUMENT"), std::string::npos)
        << run.output;
    EXPECT_NE(run.output.find(want), std::string::npos) << run.output;
  }
}

TEST_F(BadInputTest, ArcSolveExitsWithAClearErrorOnOverflowAndOnNanWeights) {
  const std::string task = Write("t1.json", kOverflowTask);
  Outcome run = Exec({ARC_SOLVE_BIN, "--tasks", task, "--no_ttt", "--out=", "--report="});
  EXPECT_EQ(run.code, 2) << run.output;  // INVALID_ARGUMENT
  EXPECT_NE(run.output.find(task + ": train[0].input[0][1]: " + kOverflow), std::string::npos)
      << run.output;

  const std::string good = Write("good.json", kGoodTask);
  const std::string nan_model = Model("nan", /*nan=*/true);
  run = Exec({ARC_SOLVE_BIN, "--tasks", good, "--model", nan_model, "--out=", "--report="});
  EXPECT_EQ(run.code, 2) << run.output;
  EXPECT_NE(run.output.find(nan_model + ": tensor \"model.norm.weight\": 1 of 32 values are not "
                                        "finite (the first, at flat index 0, is nan)"),
            std::string::npos)
      << run.output;
}

TEST_F(BadInputTest, ArcTasksExitsWithAClearErrorForEveryFileKind) {
  const std::string task = Write("t1.json", kOverflowTask);
  std::filesystem::create_directories(Path("dir"));
  const std::string in_dir = Write("dir/t1.json", kOverflowTask);
  const std::string challenges =
      Write("challenges.json", absl::StrCat(R"({"k1": )", kOverflowTask, "}"));
  const std::string good_challenges = Write("ok.json", absl::StrCat(R"({"k1": )", kGoodTask, "}"));
  const std::string solutions = Write("solutions.json", R"({"k1": [[[1, 1e3080]]]})");
  const std::string submission =
      Write("submission.json", R"({"k1": [{"attempt_1": [[1]], "attempt_2": [[1e3080]]}]})");
  const std::string good_solutions = Write("good_solutions.json", R"({"k1": [[[1, 1]]]})");
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{"check", task}, task + ": train[0].input[0][1]: " + kOverflow + ", at byte 32"},
      {{"check", Path("dir")}, in_dir + ": train[0].input[0][1]: " + kOverflow + ", at byte 32"},
      {{"check", challenges},
       challenges + ": k1.train[0].input[0][1]: " + kOverflow + ", at byte 39"},
      {{"check", good_challenges, "--solutions", solutions},
       solutions + ": k1[0][0][1]: " + kOverflow + ", at byte 19"},
      {{"score", good_challenges, "--solutions", good_solutions, "--submission", submission},
       submission + ": k1[0].attempt_2[0][0]: " + kOverflow + ", at byte 50"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> args = {ARC_TASKS_BIN};
    args.insert(args.end(), c.args.begin(), c.args.end());
    const Outcome run = Exec(args);
    EXPECT_EQ(run.code, 2) << absl::StrJoin(c.args, " ") << "\n" << run.output;
    EXPECT_NE(run.output.find(c.message), std::string::npos) << absl::StrJoin(c.args, " ") << "\n"
                                                             << run.output;
  }

  // splits.json beside PATH (arc-tasks search --split).
  const std::string tasks = Path("split");
  std::filesystem::create_directories(tasks + "/training");
  ASSERT_TRUE(WriteFileAtomic(tasks + "/training/k1.json", kGoodTask).ok());
  for (const auto& [splits, message] : std::vector<std::pair<std::string, std::string>>{
           {R"({"dev": [1e3080]})", "dev[0]: " + kOverflow + ", at byte 15"},
           {R"({"dev": ["k1", 3]})", "dev[1]: expected a task id string"}}) {
    ASSERT_TRUE(WriteFileAtomic(tasks + "/splits.json", splits).ok());
    const Outcome run = Exec({ARC_TASKS_BIN, "search", tasks + "/training", "--split", "dev"});
    EXPECT_EQ(run.code, 2) << run.output;
    EXPECT_NE(run.output.find(absl::StrCat("--split: ", tasks, "/splits.json: ", message)),
              std::string::npos)
        << run.output;
  }
}

TEST_F(BadInputTest, ArcClientExitsWithAClearErrorBeforeCallingTheServer) {
  const std::string task = Write("t1.json", kOverflowTask);
  // Nothing listens on the target: the task file is refused before any call.
  for (const char* command : {"solve", "submit"}) {
    const Outcome run = Exec({ARC_CLIENT_BIN, command, task, "--server", "127.0.0.1:1"});
    EXPECT_NE(run.code, 0) << run.output;
    EXPECT_LT(run.code, 128) << run.output;  // not a signal (abort was 134)
    EXPECT_NE(run.output.find(task + ": train[0].input[0][1]: " + kOverflow), std::string::npos)
        << command << "\n"
        << run.output;
  }
}

}  // namespace
}  // namespace arc
