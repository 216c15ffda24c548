// The ARC data model: Grid, Example (a demonstration pair), TestCase and Task.
//
// A Grid is a dense row-major matrix of colours 0..9. The type itself allows any positive size so
// that size-changing augmentations can produce intermediate grids larger than 30x30 (which callers
// then filter); TaskLimits and ValidateTask enforce the ARC limits at the boundaries.
//
// All types here are plain values: copyable, comparable, hashable with absl::Hash, and safe to share
// between threads when not mutated.
#ifndef ARC_CORE_DATA_GRID_H_
#define ARC_CORE_DATA_GRID_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace arc {

inline constexpr int kNumColours = 10;  // cells hold 0..9
inline constexpr int kArcMaxSide = 30;  // the ARC limit on rows and columns

class Grid {
 public:
  // An empty 0x0 grid (not a valid ARC grid; used as "no grid").
  Grid() = default;
  // A rows x cols grid filled with `fill`. Requires rows, cols >= 0 and fill in 0..9.
  Grid(int rows, int cols, uint8_t fill = 0);

  // From nested rows. Fails with INVALID_ARGUMENT on ragged rows, colours outside 0..9, or no cells.
  static absl::StatusOr<Grid> FromRows(const std::vector<std::vector<int>>& rows);

  int rows() const { return rows_; }
  int cols() const { return cols_; }
  bool empty() const { return rows_ == 0 || cols_ == 0; }
  int64_t size() const { return static_cast<int64_t>(rows_) * cols_; }

  uint8_t at(int r, int c) const { return cells_[static_cast<size_t>(r) * cols_ + c]; }
  void set(int r, int c, uint8_t v) { cells_[static_cast<size_t>(r) * cols_ + c] = v; }
  // Row-major cells.
  const std::vector<uint8_t>& cells() const { return cells_; }

  std::vector<std::vector<int>> ToRows() const;
  // One row as a vector (for row-majority voting).
  std::vector<uint8_t> Row(int r) const;

  // numpy's str() of the grid, e.g. "[[0 1 2]\n [3 4 5]]" (the MIT prompt format's grid text).
  std::string ToString() const;

  friend bool operator==(const Grid& a, const Grid& b) {
    return a.rows_ == b.rows_ && a.cols_ == b.cols_ && a.cells_ == b.cells_;
  }
  friend bool operator!=(const Grid& a, const Grid& b) { return !(a == b); }
  // A total order (shape first, then cells) for sorted containers.
  friend bool operator<(const Grid& a, const Grid& b) {
    if (a.rows_ != b.rows_) return a.rows_ < b.rows_;
    if (a.cols_ != b.cols_) return a.cols_ < b.cols_;
    return a.cells_ < b.cells_;
  }
  template <typename H>
  friend H AbslHashValue(H h, const Grid& g) {
    return H::combine(std::move(h), g.rows_, g.cols_, g.cells_);
  }

 private:
  int rows_ = 0;
  int cols_ = 0;
  std::vector<uint8_t> cells_;
};

// A demonstration pair.
struct Example {
  Grid input;
  Grid output;

  friend bool operator==(const Example& a, const Example& b) {
    return a.input == b.input && a.output == b.output;
  }
  friend bool operator!=(const Example& a, const Example& b) { return !(a == b); }
  template <typename H>
  friend H AbslHashValue(H h, const Example& e) {
    return H::combine(std::move(h), e.input, e.output);
  }
};

// A test input, with its expected output when known (solutions files, TTT held-out samples).
struct TestCase {
  Grid input;
  std::optional<Grid> output;

  friend bool operator==(const TestCase& a, const TestCase& b) {
    return a.input == b.input && a.output == b.output;
  }
  friend bool operator!=(const TestCase& a, const TestCase& b) { return !(a == b); }
  template <typename H>
  friend H AbslHashValue(H h, const TestCase& t) {
    // (Debian's abseil does not hash std::optional.)
    h = H::combine(std::move(h), t.input, t.output.has_value());
    if (t.output) h = H::combine(std::move(h), *t.output);
    return h;
  }
};

// An ARC task: demonstrations and one or more test inputs. `id` is a name (file stem or Kaggle key);
// it takes no part in equality, hashing or ContentHash.
struct Task {
  std::string id;
  std::vector<Example> train;
  std::vector<TestCase> test;

  friend bool operator==(const Task& a, const Task& b) {
    return a.train == b.train && a.test == b.test;
  }
  friend bool operator!=(const Task& a, const Task& b) { return !(a == b); }
  template <typename H>
  friend H AbslHashValue(H h, const Task& t) {
    return H::combine(std::move(h), t.train, t.test);
  }

  // The largest row and column count over every grid present (inputs and known outputs).
  int MaxRows() const;
  int MaxCols() const;
};

// Limits enforced when a task enters the system (files, gRPC requests). Defaults are ARC's own
// grid limit and generous bounds on the example counts (ARC-AGI-1 tasks have 2..10 demonstrations
// and 1..3 test inputs).
struct TaskLimits {
  int max_side = kArcMaxSide;        // rows and columns of every grid, 1..max_side
  int max_train_examples = 20;       // demonstrations, 1..max_train_examples
  int max_test_inputs = 10;          // test inputs, 1..max_test_inputs
};

// Checks a grid against the limits; on failure the message starts with `path`, e.g.
// "test[0].input: 31 rows, limit 30".
absl::Status ValidateGrid(const Grid& grid, const std::string& path, const TaskLimits& limits);

// Checks counts and every grid of a task; INVALID_ARGUMENT naming the first fault's path.
absl::Status ValidateTask(const Task& task, const TaskLimits& limits = {});

// A stable content hash of a task: FNV-1a 64 over a canonical byte encoding of the demonstrations,
// the test inputs and the test outputs that are present (not the id). The same on every run, build
// and platform. Returned as 16 lowercase hex digits.
std::string ContentHash(const Task& task);

}  // namespace arc

#endif  // ARC_CORE_DATA_GRID_H_
