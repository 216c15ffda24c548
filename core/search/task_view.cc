#include "core/search/task_view.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace arc::search {
namespace {

using ColourTable = std::array<uint8_t, kNumColours>;

ColourTable IdentityTable() {
  ColourTable t;
  for (int c = 0; c < kNumColours; ++c) t[c] = static_cast<uint8_t>(c);
  return t;
}

uint32_t GridColours(const Grid& g) {
  uint32_t mask = 0;
  for (uint8_t c : g.cells()) mask |= 1u << c;
  return mask;
}

Grid MapGrid(const Grid& g, const ColourTable& t) {
  Grid out = g;
  for (int r = 0; r < g.rows(); ++r)
    for (int c = 0; c < g.cols(); ++c) out.set(r, c, t[g.at(r, c)]);
  return out;
}

// The colours kept as they are: 0, colours that outputs use and no input has (they belong to the
// rule, not to the example), and colours every input has (fixed roles such as a separator colour).
uint32_t FixedColours(const Task& task) {
  uint32_t any_input = 0, any_output = 0, every_input = (1u << kNumColours) - 1;
  for (const Example& e : task.train) {
    any_input |= GridColours(e.input);
    any_output |= GridColours(e.output);
    every_input &= GridColours(e.input);
  }
  for (const TestCase& t : task.test) {
    any_input |= GridColours(t.input);
    every_input &= GridColours(t.input);
  }
  return 1u | (any_output & ~any_input) | every_input;
}

// The colour-normalised task, or nullopt when an output needs a varying colour its input lacks or
// when nothing would change.
std::optional<TaskView> NormaliseColours(const Task& task) {
  const uint32_t fixed = FixedColours(task);
  TaskView view;
  view.task.id = task.id;
  bool changed = false;
  for (const Example& e : task.train) {
    const ColourTable t = NormalisingMap(e.input, fixed);
    const uint32_t allowed = fixed | GridColours(e.input);
    if (GridColours(e.output) & ~allowed) return std::nullopt;
    changed = changed || t != IdentityTable();
    view.task.train.push_back({MapGrid(e.input, t), MapGrid(e.output, t)});
  }
  for (const TestCase& tc : task.test) {
    const ColourTable t = NormalisingMap(tc.input, fixed);
    changed = changed || t != IdentityTable();
    view.task.test.push_back({MapGrid(tc.input, t), std::nullopt});
    view.test_colours.push_back(t);
  }
  if (!changed) return std::nullopt;
  return view;
}

}  // namespace

ColourTable NormalisingMap(const Grid& grid, uint32_t fixed_colours) {
  std::array<int, kNumColours> counts{};
  for (uint8_t c : grid.cells()) ++counts[c];
  std::vector<int> varying, absent;
  for (int c = 0; c < kNumColours; ++c) {
    if (fixed_colours >> c & 1) continue;
    (counts[c] > 0 ? varying : absent).push_back(c);
  }
  std::stable_sort(varying.begin(), varying.end(),
                   [&](int a, int b) { return counts[a] > counts[b]; });
  varying.insert(varying.end(), absent.begin(), absent.end());
  ColourTable t = IdentityTable();
  size_t next = 0;
  for (int c = 0; c < kNumColours; ++c) {
    if (fixed_colours >> c & 1) continue;
    t[varying[next++]] = static_cast<uint8_t>(c);
  }
  return t;
}

Grid TaskView::ToTaskFrame(const Grid& answer, int i) const {
  Grid g = ApplyDihedral(Inverse(dihedral), answer);
  if (i < static_cast<int>(test_colours.size())) {
    ColourTable inverse;
    for (int c = 0; c < kNumColours; ++c) inverse[test_colours[i][c]] = static_cast<uint8_t>(c);
    g = MapGrid(g, inverse);
  }
  return g;
}

const std::vector<std::string>& KnownViews() {
  static const std::vector<std::string>* const kViews = [] {
    auto* v = new std::vector<std::string>;
    for (Dihedral d : kAllDihedral) v->push_back(std::string(DihedralName(d)));
    v->push_back("colours");
    v->push_back("colours_transpose");
    return v;
  }();
  return *kViews;
}

absl::StatusOr<std::vector<TaskView>> MakeViews(const Task& task,
                                                const std::vector<std::string>& names) {
  std::vector<TaskView> views;
  for (const std::string& name : names) {
    const bool colours = name == "colours" || name == "colours_transpose";
    const std::optional<Dihedral> d = name == "colours"             ? Dihedral::kIdentity
                                      : name == "colours_transpose" ? Dihedral::kTranspose
                                                                    : ParseDihedral(name);
    if (!d) {
      return absl::InvalidArgumentError(absl::StrCat(
          "views: unknown view \"", name, "\"; known: ", absl::StrJoin(KnownViews(), ", ")));
    }
    Task base;
    base.id = task.id;
    base.train = task.train;
    for (const TestCase& tc : task.test) base.test.push_back({tc.input, std::nullopt});
    TaskView view;
    if (colours) {
      std::optional<TaskView> normalised = NormaliseColours(base);
      if (!normalised) continue;
      view = std::move(*normalised);
    } else {
      view.task = base;
    }
    view.name = name;
    view.dihedral = *d;
    view.task = ApplyDihedral(*d, view.task);
    const bool repeat = std::any_of(views.begin(), views.end(),
                                    [&](const TaskView& v) { return v.task == view.task; });
    if (!repeat) views.push_back(std::move(view));
  }
  return views;
}

}  // namespace arc::search
