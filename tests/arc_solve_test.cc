// Runs the real arc-solve binary on a tiny saved model and two ARC-AGI-1 training tasks.
#include <cstdlib>
#include <filesystem>

#include "core/model/arc_model.h"
#include "core/data/file_util.h"
#include "core/data/task_io.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/model_test_util.h"
#include "tests/test_util.h"

namespace arc {
namespace {

std::string SaveTinyModel(const std::string& dir) {
  EXPECT_TRUE(SaveArcModel(*arc::testing::TinyCompactModel(3, 1024, "tiny-cli"), dir).ok());
  return dir;
}

TEST(ArcSolveCliTest, WritesAValidSubmissionAndReport) {
  const std::string data = arc::testing::ArcDataDir() + "/training";
  if (!std::filesystem::is_directory(data)) GTEST_SKIP() << "ARC data not found at " << data;
  const std::string dir = arc::testing::TempDir("arc_solve_cli");
  const std::string model = SaveTinyModel(dir + "/model");

  // The saved model loads back as a whole.
  absl::StatusOr<std::shared_ptr<const ArcModel>> loaded = LoadArcModel(model);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ((*loaded)->name, "tiny-cli");
  EXPECT_EQ((*loaded)->format->name(), "compact");

  const std::string cmd = std::string(ARC_SOLVE_BIN) + " --model " + model + " --tasks " + data +
                          " --task_ids 6150a2bd,5582e5ca --experts ttt --ttt_max_steps 2"
                          " --ttt_max_samples 8" +
                          " --threads 1 --out " + dir + "/sub.json --report " + dir +
                          "/report.json > " + dir + "/stdout.txt 2>&1";
  const int rc = std::system(cmd.c_str());
  const std::string out = ReadFile(dir + "/stdout.txt").value_or("");
  ASSERT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("6150a2bd"), std::string::npos) << out;
  EXPECT_NE(out.find("pass@2"), std::string::npos) << out;

  absl::StatusOr<Submission> sub = ReadSubmissionFile(dir + "/sub.json");
  ASSERT_TRUE(sub.ok()) << sub.status();
  ASSERT_EQ(sub->size(), 2u);
  EXPECT_EQ(sub->at("6150a2bd").size(), 1u);
  EXPECT_EQ(sub->at("5582e5ca").size(), 1u);

  const auto report = nlohmann::json::parse(ReadFile(dir + "/report.json").value());
  ASSERT_EQ(report["tasks"].size(), 2u);
  EXPECT_EQ(report["model"], "tiny-cli");
  EXPECT_EQ(report["tasks"][0]["ttt"]["steps"], 2);
  EXPECT_TRUE(report["score"].contains("pass2_all_or_nothing"));

  // Bad flags are refused with the flag's name.
  const std::string bad = std::string(ARC_SOLVE_BIN) + " --model " + model + " --tasks " + data +
                          " --selection best > " + dir + "/bad.txt 2>&1";
  EXPECT_EQ(WEXITSTATUS(std::system(bad.c_str())), 2);
  EXPECT_NE(ReadFile(dir + "/bad.txt").value_or("").find(
                "--selection: \"best\" is not one of vote, majority, poe, votes_then_poe"),
            std::string::npos)
      << ReadFile(dir + "/bad.txt").value_or("");
  std::filesystem::remove_all(dir);
}

// Both experts (the default): the program search explains 6150a2bd (a half turn), TTT is skipped,
// and the report's attempt 1 names the search and its program.
TEST(ArcSolveCliTest, BothExpertsAnswerWithAProgram) {
  const std::string data = arc::testing::ArcDataDir() + "/training";
  if (!std::filesystem::is_directory(data)) GTEST_SKIP() << "ARC data not found at " << data;
  const std::string dir = arc::testing::TempDir("arc_solve_cli_experts");
  const std::string model = SaveTinyModel(dir + "/model");
  const std::string cmd = std::string(ARC_SOLVE_BIN) + " --model " + model + " --tasks " + data +
                          " --task_ids 6150a2bd --threads 1 --out " + dir + "/sub.json --report " +
                          dir + "/report.json > " + dir + "/stdout.txt 2>&1";
  const int rc = std::system(cmd.c_str());
  const std::string out = ReadFile(dir + "/stdout.txt").value_or("");
  ASSERT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("search: "), std::string::npos) << out;
  EXPECT_NE(out.find("(ttt skipped)"), std::string::npos) << out;
  const auto report = nlohmann::json::parse(ReadFile(dir + "/report.json").value());
  const auto& task = report["tasks"][0];
  EXPECT_EQ(task["search"]["enabled"], true);
  EXPECT_EQ(task["search"]["explained"], true);
  EXPECT_EQ(task["search"]["ttt_skipped"], true);
  EXPECT_EQ(task["ttt"]["enabled"], false);
  const auto& best = task["tests"][0]["candidates"][0];
  EXPECT_EQ(best["expert"], "search");
  EXPECT_FALSE(best["program"].get<std::string>().empty());
  EXPECT_EQ(best["explained"], 2);  // 6150a2bd has two demonstrations
  EXPECT_EQ(task["tests"][0]["correct"], true);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace arc
