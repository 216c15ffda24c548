// Helpers shared by the test binaries.
#ifndef ARC_TESTS_TEST_UTIL_H_
#define ARC_TESTS_TEST_UTIL_H_

#include <cstdlib>
#include <filesystem>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include <unistd.h>

#include "core/data/augment.h"
#include "core/data/grid.h"
#include "core/data/rng.h"
#include "gtest/gtest.h"

namespace arc {

// Readable gtest failure messages for the data types.
inline void PrintTo(const Grid& g, std::ostream* os) {
  *os << g.rows() << "x" << g.cols() << " " << g.ToString();
}
inline void PrintTo(const Example& e, std::ostream* os) {
  *os << "{input ";
  PrintTo(e.input, os);
  *os << ", output ";
  PrintTo(e.output, os);
  *os << "}";
}

}  // namespace arc

namespace arc::testing {

// ../shared/data/arc-agi-1 beside the checkout (ARC_DATA_DIR overrides). May not exist.
inline std::string ArcDataDir() {
  if (const char* env = std::getenv("ARC_DATA_DIR")) return env;
  return std::string(ARC_SHARED_DIR) + "/data/arc-agi-1";
}

inline Grid G(const std::vector<std::vector<int>>& rows) { return Grid::FromRows(rows).value(); }

// Every pair of a task: its demonstrations, then its test inputs with their outputs (an empty grid
// where a test output is unknown).
inline std::vector<Example> Pairs(const Task& t) {
  std::vector<Example> out = t.train;
  for (const TestCase& tc : t.test) out.push_back({tc.input, tc.output.value_or(Grid())});
  return out;
}

// A fresh empty directory under the system temp dir, removed by the caller if it cares.
inline std::string TempDir(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("arc_test_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

// A fixture with a fresh directory per test, named after `prefix` and the test, removed after it.
class TempDirTest : public ::testing::Test {
 protected:
  explicit TempDirTest(std::string prefix) : prefix_(std::move(prefix)) {}
  void SetUp() override {
    dir_ = TempDir(prefix_ + ::testing::UnitTest::GetInstance()->current_test_info()->name());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Path(const std::string& name) const { return dir_ + "/" + name; }

  std::string dir_;

 private:
  std::string prefix_;
};

// A colour swap (1 <-> 2, others fixed) on random 3x3 grids of colours 0..2, the test output known.
inline Task ColourSwapTask(int demonstrations, uint64_t seed) {
  Rng rng(seed);
  auto random_grid = [&rng] {
    Grid g(3, 3);
    for (int r = 0; r < 3; ++r)
      for (int c = 0; c < 3; ++c) g.set(r, c, static_cast<uint8_t>(rng.Below(3)));
    return g;
  };
  const ColourMap swap = ColourMap::FromTable({0, 2, 1, 3, 4, 5, 6, 7, 8, 9}).value();
  Task t;
  t.id = "swap";
  for (int i = 0; i < demonstrations; ++i) {
    Grid in = random_grid();
    t.train.push_back({in, swap.Apply(in)});
  }
  Grid q = random_grid();
  t.test.push_back({q, swap.Apply(q)});
  return t;
}

}  // namespace arc::testing

#endif  // ARC_TESTS_TEST_UTIL_H_
