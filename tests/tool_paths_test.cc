// tools/flags/paths.h: where the binaries look for the default model, and output directories.
// (tests/tools_help_test.py runs the binaries themselves from other directories and installed.)
#include "tools/flags/paths.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace arc {
namespace {

namespace fs = std::filesystem;

// Runs a test body in `dir` as the current directory, and goes back.
class InDirectory {
 public:
  explicit InDirectory(const std::string& dir) : previous_(fs::current_path()) {
    fs::current_path(dir);
  }
  ~InDirectory() { fs::current_path(previous_); }

 private:
  fs::path previous_;
};

class ToolPathsTest : public testing::TempDirTest {
 protected:
  ToolPathsTest() : TempDirTest("tool_paths_") {}
};

TEST_F(ToolPathsTest, DefaultModelCandidatesAreTheCurrentDirectoryTheInstallAndTheSourceTree) {
  const std::string dir = dir_;
  const std::string real_dir = fs::canonical(dir).string();
  InDirectory in(dir);
  const std::vector<std::string> c = DefaultModelCandidates();
  ASSERT_EQ(c.size(), 3u);
  EXPECT_EQ(c[0], real_dir + "/models/default");
  const fs::path exe = fs::read_symlink("/proc/self/exe");
  EXPECT_EQ(c[1], (exe.parent_path().parent_path() / "share/arc-ttt/models/default").string());
  EXPECT_EQ(c[2], std::string(ARC_SOURCE_DIR) + "/models/default");
}

TEST_F(ToolPathsTest, TheDefaultModelIsFoundFromAnotherDirectory) {
  const std::string dir = dir_;
  InDirectory in(dir);
  absl::StatusOr<std::string> found = ResolveModelDir("models/default");
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(*found, std::string(ARC_SOURCE_DIR) + "/models/default");
}

TEST_F(ToolPathsTest, TheCurrentDirectoryComesFirst) {
  const std::string dir = dir_;
  fs::create_directories(dir + "/models/default");
  InDirectory in(dir);
  absl::StatusOr<std::string> found = ResolveModelDir("models/default");
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(*found, "models/default");
}

TEST_F(ToolPathsTest, OtherModelPathsAreTakenAsGiven) {
  EXPECT_EQ(ResolveModelDir("/nonexistent/model").value(), "/nonexistent/model");
  EXPECT_EQ(ResolveModelDir("models/other").value(), "models/other");
  EXPECT_EQ(ResolveModelDir("./models/default").value(), "./models/default");
}

TEST_F(ToolPathsTest, CreateParentDirectoryMakesTheOutputDirectory) {
  const std::string dir = dir_;
  InDirectory in(dir);
  ASSERT_TRUE(CreateParentDirectory("out/submission.json").ok());
  EXPECT_TRUE(fs::is_directory("out"));
  ASSERT_TRUE(CreateParentDirectory("a/b/c/report.json").ok());
  EXPECT_TRUE(fs::is_directory("a/b/c"));
  EXPECT_TRUE(CreateParentDirectory("report.json").ok());  // the current directory
  std::ofstream("file") << "x";
  const absl::Status s = CreateParentDirectory("file/report.json");
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_NE(s.message().find("file: cannot create the directory"), std::string::npos) << s;
}

}  // namespace
}  // namespace arc
