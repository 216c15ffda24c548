#include "core/data/grid.h"

#include <algorithm>
#include <cstdio>

#include "absl/strings/str_cat.h"

namespace arc {

Grid::Grid(int rows, int cols, uint8_t fill)
    : rows_(rows), cols_(cols), cells_(static_cast<size_t>(rows) * cols, fill) {}

absl::StatusOr<Grid> Grid::FromRows(const std::vector<std::vector<int>>& rows) {
  if (rows.empty() || rows[0].empty()) return absl::InvalidArgumentError("empty grid");
  Grid g(static_cast<int>(rows.size()), static_cast<int>(rows[0].size()));
  for (size_t r = 0; r < rows.size(); ++r) {
    if (rows[r].size() != rows[0].size()) {
      return absl::InvalidArgumentError(absl::StrCat("row ", r, " has ", rows[r].size(),
                                                     " cells, expected ", rows[0].size()));
    }
    for (size_t c = 0; c < rows[r].size(); ++c) {
      const int v = rows[r][c];
      if (v < 0 || v >= kNumColours) {
        return absl::InvalidArgumentError(
            absl::StrCat("[", r, "][", c, "]: ", v, " is not a colour 0..9"));
      }
      g.set(static_cast<int>(r), static_cast<int>(c), static_cast<uint8_t>(v));
    }
  }
  return g;
}

std::vector<std::vector<int>> Grid::ToRows() const {
  std::vector<std::vector<int>> out(rows_, std::vector<int>(cols_));
  for (int r = 0; r < rows_; ++r)
    for (int c = 0; c < cols_; ++c) out[r][c] = at(r, c);
  return out;
}

std::vector<uint8_t> Grid::Row(int r) const {
  return std::vector<uint8_t>(cells_.begin() + static_cast<size_t>(r) * cols_,
                              cells_.begin() + static_cast<size_t>(r + 1) * cols_);
}

std::string Grid::ToString() const {
  std::string s = "[";
  for (int r = 0; r < rows_; ++r) {
    if (r > 0) s += "\n ";
    s += '[';
    for (int c = 0; c < cols_; ++c) {
      if (c > 0) s += ' ';
      s += static_cast<char>('0' + at(r, c));
    }
    s += ']';
  }
  s += ']';
  return s;
}

namespace {

// Calls f on every grid of the task: demonstration inputs and outputs, test inputs, known outputs.
template <typename F>
void ForEachGrid(const Task& task, F&& f) {
  for (const Example& e : task.train) {
    f(e.input);
    f(e.output);
  }
  for (const TestCase& t : task.test) {
    f(t.input);
    if (t.output) f(*t.output);
  }
}

}  // namespace

int Task::MaxRows() const {
  int m = 0;
  ForEachGrid(*this, [&m](const Grid& g) { m = std::max(m, g.rows()); });
  return m;
}

int Task::MaxCols() const {
  int m = 0;
  ForEachGrid(*this, [&m](const Grid& g) { m = std::max(m, g.cols()); });
  return m;
}

absl::Status ValidateGrid(const Grid& grid, const std::string& path, const TaskLimits& limits) {
  if (grid.empty()) return absl::InvalidArgumentError(absl::StrCat(path, ": empty grid"));
  if (grid.rows() > limits.max_side) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": ", grid.rows(), " rows, limit ", limits.max_side));
  }
  if (grid.cols() > limits.max_side) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": ", grid.cols(), " columns, limit ", limits.max_side));
  }
  for (int r = 0; r < grid.rows(); ++r) {
    for (int c = 0; c < grid.cols(); ++c) {
      if (grid.at(r, c) >= kNumColours) {
        return absl::InvalidArgumentError(absl::StrCat(path, "[", r, "][", c, "]: ",
                                                       grid.at(r, c), " is not a colour 0..9"));
      }
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateTask(const Task& task, const TaskLimits& limits) {
  if (task.train.empty()) {
    return absl::InvalidArgumentError("train: no demonstrations, need at least 1");
  }
  if (static_cast<int>(task.train.size()) > limits.max_train_examples) {
    return absl::InvalidArgumentError(absl::StrCat("train: ", task.train.size(),
                                                   " demonstrations, limit ",
                                                   limits.max_train_examples));
  }
  if (task.test.empty()) return absl::InvalidArgumentError("test: no test inputs, need at least 1");
  if (static_cast<int>(task.test.size()) > limits.max_test_inputs) {
    return absl::InvalidArgumentError(absl::StrCat("test: ", task.test.size(),
                                                   " test inputs, limit ", limits.max_test_inputs));
  }
  for (size_t i = 0; i < task.train.size(); ++i) {
    const std::string p = absl::StrCat("train[", i, "]");
    if (auto s = ValidateGrid(task.train[i].input, p + ".input", limits); !s.ok()) return s;
    if (auto s = ValidateGrid(task.train[i].output, p + ".output", limits); !s.ok()) return s;
  }
  for (size_t i = 0; i < task.test.size(); ++i) {
    const std::string p = absl::StrCat("test[", i, "]");
    if (auto s = ValidateGrid(task.test[i].input, p + ".input", limits); !s.ok()) return s;
    if (task.test[i].output) {
      if (auto s = ValidateGrid(*task.test[i].output, p + ".output", limits); !s.ok()) return s;
    }
  }
  return absl::OkStatus();
}

namespace {

// FNV-1a 64 over bytes fed in a fixed order; integers are fed little-endian with a fixed width so
// the result does not depend on the host.
class Fnv1a64 {
 public:
  void Byte(uint8_t b) {
    h_ ^= b;
    h_ *= 0x100000001b3ULL;
  }
  void U32(uint32_t v) {
    for (int i = 0; i < 4; ++i) Byte(static_cast<uint8_t>(v >> (8 * i)));
  }
  void Grid(const arc::Grid& g) {
    U32(static_cast<uint32_t>(g.rows()));
    U32(static_cast<uint32_t>(g.cols()));
    for (uint8_t c : g.cells()) Byte(c);
  }
  uint64_t value() const { return h_; }

 private:
  uint64_t h_ = 0xcbf29ce484222325ULL;
};

}  // namespace

std::string ContentHash(const Task& task) {
  Fnv1a64 h;
  h.U32(static_cast<uint32_t>(task.train.size()));
  for (const Example& e : task.train) {
    h.Grid(e.input);
    h.Grid(e.output);
  }
  h.U32(static_cast<uint32_t>(task.test.size()));
  for (const TestCase& t : task.test) {
    h.Grid(t.input);
    h.Byte(t.output.has_value() ? 1 : 0);
    if (t.output) h.Grid(*t.output);
  }
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(h.value()));
  return buf;
}

}  // namespace arc
