#include "core/data/task_io.h"

#include <filesystem>
#include <fstream>

#include "core/data/file_util.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/test_util.h"

namespace arc {
namespace {

using ::arc::testing::ArcDataDir;
using ::arc::testing::G;
using ::arc::testing::TempDir;

constexpr char kGoodTask[] =
    R"({"train": [{"input": [[1, 2], [3, 4]], "output": [[4, 3], [2, 1]]},
                  {"input": [[5]], "output": [[5]]}],
        "test": [{"input": [[0, 1]]}]})";

TEST(TaskIoTest, ParsesAGoodTask) {
  absl::StatusOr<Task> t = ParseTaskJson(kGoodTask, "abc");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->id, "abc");
  ASSERT_EQ(t->train.size(), 2u);
  EXPECT_EQ(t->train[0].output, G({{4, 3}, {2, 1}}));
  ASSERT_EQ(t->test.size(), 1u);
  EXPECT_EQ(t->test[0].input, G({{0, 1}}));
  EXPECT_FALSE(t->test[0].output.has_value());
}

TEST(TaskIoTest, RoundTripsThroughJson) {
  Task t = ParseTaskJson(kGoodTask, "abc").value();
  t.test[0].output = G({{1, 0}});
  Task back = ParseTaskJson(TaskToJson(t), "abc").value();
  EXPECT_EQ(back, t);
}

struct BadCase {
  const char* json;
  const char* error;
};

// Each malformed input with its exact error message.
TEST(TaskIoTest, MalformedInputsGiveExactErrors) {
  const std::vector<BadCase> cases = {
      {R"({"train": [{"input": [[1]], "output": [[1]]}, {"input": [[1]], "output": [[1]]},
                     {"input": [[1]], "output": [[1,2,3,4,5],[1,2,3,4,5],[1,2,3,4,5],[1,2,3,4]]}],
           "test": [{"input": [[1]]}]})",
       "train[2].output: row 3 has 4 cells, expected 5"},
      {R"({"train": [{"input": [[1]], "output": [[1]]}],
           "test": [{"input": [[1],[1],[1],[1],[1],[1],[1],[1],[1],[1],[1],[1],[1],[1],[1],[1],
                               [1],[1],[1],[1],[1],[1],[1],[1],[1],[1],[1],[1],[1],[1],[1]]}]})",
       "test[0].input: 31 rows, limit 30"},
      {R"({"train": [{"input": [[1]], "output": [[1]]}],
           "test": [{"input": [[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]]}]})",
       "test[0].input: 31 columns, limit 30"},
      {R"({"train": [{"input": [[0,0,0],[0,0,12]], "output": [[1]]}], "test": [{"input": [[1]]}]})",
       "train[0].input[1][2]: 12 is not a colour 0..9"},
      {R"({"train": [{"input": [[0,-1]], "output": [[1]]}], "test": [{"input": [[1]]}]})",
       "train[0].input[0][1]: -1 is not a colour 0..9"},
      {R"({"train": [{"input": [], "output": [[1]]}], "test": [{"input": [[1]]}]})",
       "train[0].input: empty grid"},
      {R"({"train": [{"input": [[1]], "output": [[]]}], "test": [{"input": [[1]]}]})",
       "train[0].output[0]: empty row"},
      {R"({"train": [{"input": [[1, 1.5]], "output": [[1]]}], "test": [{"input": [[1]]}]})",
       "train[0].input[0][1]: 1.5 is not an integer"},
      {R"({"train": [{"input": [[1, "2"]], "output": [[1]]}], "test": [{"input": [[1]]}]})",
       "train[0].input[0][1]: expected an integer colour 0..9, got string"},
      {R"({"train": [{"input": [[1]]}], "test": [{"input": [[1]]}]})",
       "train[0]: missing key \"output\""},
      {R"({"train": [{"input": [[1]], "output": [[1]]}]})", "missing key \"test\""},
      {R"({"test": [{"input": [[1]]}]})", "missing key \"train\""},
      {R"({"train": {"input": [[1]]}, "test": []})",
       "train: expected an array of examples, got object"},
      {R"({"train": [[1]], "test": []})",
       "train[0]: expected an object with \"input\" and \"output\", got array"},
      {R"({"train": [{"input": "1", "output": [[1]]}], "test": [{"input": [[1]]}]})",
       "train[0].input: expected a grid (array of rows), got string"},
      {R"({"train": [{"input": [1, 2], "output": [[1]]}], "test": [{"input": [[1]]}]})",
       "train[0].input[0]: expected a row (array of colours), got number"},
      {R"({"train": [], "test": [{"input": [[1]]}]})",
       "train: no demonstrations, need at least 1"},
      {R"({"train": [{"input": [[1]], "output": [[1]]}], "test": []})",
       "test: no test inputs, need at least 1"},
      {R"({"train": [{"input": [[1]], "output": [[1]]}], "test": [{}]})",
       "test[0]: missing key \"input\""},
      {R"([1, 2])", "expected a task object with \"train\" and \"test\", got array"},
      {R"({"train": [1 2]})",
       "invalid JSON at byte 14: syntax error while parsing array - unexpected number literal; "
       "expected ']'"},
      {R"({"train": [{"input": [[1]], "output": [[1]]}], "test": [{"input": [[1]]})",
       "invalid JSON at byte 73: syntax error while parsing array - unexpected end of input; "
       "expected ']'"},
      {"", "invalid JSON at byte 1: syntax error while parsing value - unexpected end of input; "
           "expected '[', '{', or a literal"},
  };
  for (const BadCase& c : cases) {
    absl::StatusOr<Task> t = ParseTaskJson(c.json, "x");
    ASSERT_FALSE(t.ok()) << c.error;
    EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument) << c.error;
    EXPECT_EQ(t.status().message(), c.error);
  }
}

// A number that overflows a double (nlohmann throws out_of_range, not parse_error, for it) is an
// INVALID_ARGUMENT naming the JSON path, wherever it is: a cell, a key the parser never uses, the
// top level; so is nesting beyond the bound. Regression: these used to escape as exceptions
// (arc-tasks and arc-solve aborted with exit 134, the server answered UNIMPLEMENTED).
TEST(TaskIoTest, NumbersThatOverflowADoubleNameTheirPath) {
  const std::string long_integer = R"({"train": [{"input": [[)" + std::string(400, '9') + "]]}]}";
  const std::string deep = std::string(100, '[') + std::string(100, ']');
  const std::vector<BadCase> cases = {
      {R"({"train": [{"input": [[1, 1e3080]], "output": [[1]]}], "test": [{"input": [[1]]}]})",
       "train[0].input[0][1]: number 1e3080 is out of range (it overflows a double), at byte 32"},
      {R"({"train": [{"input": [[1]], "output": [[1]]}], "test": [{"input": [[-1e3080]]}]})",
       "test[0].input[0][0]: number -1e3080 is out of range (it overflows a double), at byte 75"},
      {R"({"note": 1e3080, "train": [], "test": []})",
       "note: number 1e3080 is out of range (it overflows a double), at byte 15"},
      {"1e3080", "number 1e3080 is out of range (it overflows a double), at byte 6"},
      // An integer literal too long for 64 bits is read as a double, and this one overflows that.
      {long_integer.c_str(),
       "train[0].input[0][0]: number 9999999999999999999999999999999999999999... is out of range "
       "(it overflows a double), at byte 423"},
      {deep.c_str(),
       "[0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0]"
       "[0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0]"
       "[0][0][0][0]: nested deeper than 64 levels, at byte 65"},
  };
  for (const BadCase& c : cases) {
    absl::StatusOr<Task> t = ParseTaskJson(c.json, "x");
    ASSERT_FALSE(t.ok()) << c.error;
    EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument) << c.error;
    EXPECT_EQ(t.status().message(), c.error);
  }
  // A finite but huge number is an ordinary bad colour.
  EXPECT_EQ(ParseTaskJson(R"({"train": [{"input": [[1e308]], "output": [[1]]}],
                              "test": [{"input": [[1]]}]})",
                          "x")
                .status()
                .message(),
            "train[0].input[0][0]: 1e+308 is not a colour 0..9");
}

// The same in every Kaggle file and through every file reader: the message starts with the file,
// then the task id.
TEST(TaskIoTest, OverflowInKaggleFilesAndDirectoriesNamesFileAndPath) {
  const std::string dir = TempDir("task_io_overflow");
  const std::string bad_task =
      R"({"train": [{"input": [[1]], "output": [[1e3080]]}], "test": [{"input": [[1]]}]})";
  const std::string good_task = R"({"train": [{"input": [[1]], "output": [[1]]}],
                                     "test": [{"input": [[1]]}]})";
  const std::string overflow = "number 1e3080 is out of range (it overflows a double)";
  ASSERT_TRUE(WriteFileAtomic(dir + "/t1.json", bad_task).ok());
  EXPECT_EQ(ReadTaskFile(dir + "/t1.json").status().message(),
            dir + "/t1.json: train[0].output[0][0]: " + overflow + ", at byte 46");
  EXPECT_EQ(ReadTasks(dir + "/t1.json").status().message(),
            dir + "/t1.json: train[0].output[0][0]: " + overflow + ", at byte 46");
  EXPECT_EQ(ReadTasks(dir).status().message(),
            dir + "/t1.json: train[0].output[0][0]: " + overflow + ", at byte 46");

  const std::string challenges = R"({"k1": )" + good_task + R"(, "k2": )" + bad_task + "}";
  ASSERT_TRUE(WriteFileAtomic(dir + "/challenges.comb", challenges).ok());
  absl::StatusOr<std::vector<Task>> read = ReadTasks(dir + "/challenges.comb");
  EXPECT_EQ(read.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(read.status().message(),
            dir + "/challenges.comb: k2.train[0].output[0][0]: " + overflow + ", at byte 172");
  EXPECT_EQ(ParseChallengesJson(challenges).status().message(),
            "k2.train[0].output[0][0]: " + overflow + ", at byte 172");

  ASSERT_TRUE(WriteFileAtomic(dir + "/ok.comb", R"({"k1": )" + good_task + "}").ok());
  ASSERT_TRUE(WriteFileAtomic(dir + "/solutions.comb", R"({"k1": [[[1, 1e3080]]]})").ok());
  read = ReadTasks(dir + "/ok.comb", dir + "/solutions.comb");
  EXPECT_EQ(read.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(read.status().message(),
            dir + "/solutions.comb: k1[0][0][1]: " + overflow + ", at byte 19");

  ASSERT_TRUE(WriteFileAtomic(dir + "/submission.comb",
                              R"({"k1": [{"attempt_1": [[1]], "attempt_2": [[1e3080]]}]})")
                  .ok());
  absl::StatusOr<Submission> submission = ReadSubmissionFile(dir + "/submission.comb");
  EXPECT_EQ(submission.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(submission.status().message(),
            dir + "/submission.comb: k1[0].attempt_2[0][0]: " + overflow + ", at byte 50");
  std::filesystem::remove_all(dir);
}

TEST(TaskIoTest, LimitsAreOptions) {
  TaskLimits limits;
  limits.max_side = 1;
  EXPECT_EQ(ParseTaskJson(kGoodTask, "x", limits).status().message(),
            "train[0].input: 2 rows, limit 1");
  limits = TaskLimits();
  limits.max_train_examples = 1;
  EXPECT_EQ(ParseTaskJson(kGoodTask, "x", limits).status().message(),
            "train: 2 demonstrations, limit 1");
  limits = TaskLimits();
  limits.max_test_inputs = 0;
  EXPECT_EQ(ParseTaskJson(kGoodTask, "x", limits).status().message(),
            "test: 1 test inputs, limit 0");
}

TEST(TaskIoTest, ReadsFilesDirectoriesAndCombinedFiles) {
  const std::string dir = TempDir("task_io");
  ASSERT_TRUE(WriteFileAtomic(dir + "/b2.json", kGoodTask).ok());
  ASSERT_TRUE(WriteFileAtomic(dir + "/a1.json", kGoodTask).ok());
  ASSERT_TRUE(WriteFileAtomic(dir + "/notes.txt", "ignored").ok());

  absl::StatusOr<Task> one = ReadTaskFile(dir + "/a1.json");
  ASSERT_TRUE(one.ok()) << one.status();
  EXPECT_EQ(one->id, "a1");

  absl::StatusOr<std::vector<Task>> all = ReadTasks(dir);
  ASSERT_TRUE(all.ok()) << all.status();
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].id, "a1");
  EXPECT_EQ((*all)[1].id, "b2");

  const std::string challenges = std::string(R"({"t2": )") + kGoodTask + R"(, "t1": )" + kGoodTask + "}";
  ASSERT_TRUE(WriteFileAtomic(dir + "/ch.json.combined", challenges).ok());
  ASSERT_TRUE(WriteFileAtomic(dir + "/sol.json.combined", R"({"t1": [[[7]]], "t2": [[[8]]]})").ok());
  absl::StatusOr<std::vector<Task>> combined =
      ReadTasks(dir + "/ch.json.combined", dir + "/sol.json.combined");
  ASSERT_TRUE(combined.ok()) << combined.status();
  ASSERT_EQ(combined->size(), 2u);
  EXPECT_EQ((*combined)[0].id, "t1");
  EXPECT_EQ((*combined)[0].test[0].output, G({{7}}));
  EXPECT_EQ((*combined)[1].test[0].output, G({{8}}));

  // A single task file read through ReadTasks.
  absl::StatusOr<std::vector<Task>> single = ReadTasks(dir + "/b2.json");
  ASSERT_TRUE(single.ok());
  EXPECT_EQ((*single)[0].id, "b2");
  std::filesystem::remove_all(dir);
}

TEST(TaskIoTest, FileErrorsNameTheFileAndTask) {
  const std::string dir = TempDir("task_io_err");
  ASSERT_TRUE(WriteFileAtomic(dir + "/bad.json", R"({"train": [], "test": []})").ok());
  EXPECT_EQ(ReadTaskFile(dir + "/bad.json").status().message(),
            dir + "/bad.json: train: no demonstrations, need at least 1");
  EXPECT_EQ(ReadTaskFile(dir + "/missing.json").status().code(), absl::StatusCode::kNotFound);

  ASSERT_TRUE(WriteFileAtomic(dir + "/ch.comb",
                              R"({"k1": {"train": [{"input": [[1]], "output": [[10]]}],
                                         "test": [{"input": [[1]]}]}})")
                  .ok());
  EXPECT_EQ(ReadTasks(dir + "/ch.comb").status().message(),
            dir + "/ch.comb: k1.train[0].output[0][0]: 10 is not a colour 0..9");

  ASSERT_TRUE(WriteFileAtomic(dir + "/ok.comb", std::string(R"({"k1": )") + kGoodTask + "}").ok());
  ASSERT_TRUE(WriteFileAtomic(dir + "/sol.comb", R"({"k1": [[[1]], [[2]]]})").ok());
  EXPECT_EQ(ReadTasks(dir + "/ok.comb", dir + "/sol.comb").status().message(),
            dir + "/sol.comb: k1: 2 solutions for 1 test inputs");
  ASSERT_TRUE(WriteFileAtomic(dir + "/sol2.comb", R"({"other": [[[1]]]})").ok());
  EXPECT_EQ(ReadTasks(dir + "/ok.comb", dir + "/sol2.comb").status().message(),
            dir + "/sol2.comb: k1: no entry in the solutions");
  std::filesystem::create_directories(dir + "/empty");
  EXPECT_EQ(ReadTasks(dir + "/empty").status().message(), dir + "/empty: no *.json task files");
  std::filesystem::remove_all(dir);
}

TEST(TaskIoTest, SubmissionRoundTripAndFormat) {
  Submission s;
  s["t1"] = {{G({{1, 2}}), G({{3}})}, {G({{0}}), G({{0}})}};
  const std::string json = SubmissionToJson(s);
  EXPECT_EQ(json,
            R"({"t1":[{"attempt_1":[[1,2]],"attempt_2":[[3]]},{"attempt_1":[[0]],"attempt_2":[[0]]}]})");
  absl::StatusOr<Submission> back = ParseSubmissionJson(json);
  ASSERT_TRUE(back.ok()) << back.status();
  ASSERT_EQ(back->at("t1").size(), 2u);
  EXPECT_EQ(back->at("t1")[0].attempt_2, G({{3}}));
  EXPECT_EQ(ParseSubmissionJson(R"({"t1": [{"attempt_1": [[1]]}]})").status().message(),
            "t1[0]: missing key \"attempt_2\"");

  const std::string dir = TempDir("submission");
  ASSERT_TRUE(WriteSubmissionFile(dir + "/s.json", s).ok());
  absl::StatusOr<Submission> read = ReadSubmissionFile(dir + "/s.json");
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->at("t1")[0].attempt_1, G({{1, 2}}));
  std::filesystem::remove_all(dir);
}

// Every task of the ARC-AGI-1 training set parses and validates.
TEST(TaskIoTest, EveryArcAgi1TrainingTaskParses) {
  const std::string dir = ArcDataDir() + "/training";
  if (!std::filesystem::is_directory(dir)) GTEST_SKIP() << "ARC data not found at " << dir;
  absl::StatusOr<std::vector<Task>> tasks = ReadTaskDirectory(dir);
  ASSERT_TRUE(tasks.ok()) << tasks.status();
  EXPECT_EQ(tasks->size(), 400u);
  int test_inputs = 0;
  for (const Task& t : *tasks) {
    EXPECT_TRUE(ValidateTask(t).ok()) << t.id;
    EXPECT_EQ(t.id.size(), 8u);
    for (const TestCase& tc : t.test) {
      EXPECT_TRUE(tc.output.has_value()) << t.id;
      ++test_inputs;
    }
  }
  EXPECT_EQ(test_inputs, 416);
  // The splits file names 300 pretrain and 100 dev tasks, all present.
  std::ifstream in(ArcDataDir() + "/splits.json");
  const auto splits = nlohmann::json::parse(in);
  EXPECT_EQ(splits["pretrain"].size(), 300u);
  EXPECT_EQ(splits["dev"].size(), 100u);
}

}  // namespace
}  // namespace arc
