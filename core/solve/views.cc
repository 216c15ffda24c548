#include "core/solve/views.h"

#include <algorithm>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"

namespace arc {

std::vector<Dihedral> PaperViewTransforms() {
  return {Dihedral::kTranspose, Dihedral::kFlipUD, Dihedral::kFlipLR, Dihedral::kRot90,
          Dihedral::kRot180};
}

std::vector<Dihedral> AllViewTransforms() {
  return {Dihedral::kTranspose, Dihedral::kFlipUD, Dihedral::kFlipLR,        Dihedral::kRot90,
          Dihedral::kRot180,    Dihedral::kRot270, Dihedral::kAntiTranspose};
}

absl::Status ValidateViewOptions(const ViewOptions& o) {
  if (o.leave_out < 0) {
    return absl::InvalidArgumentError(absl::StrCat("view option leave_out: ", o.leave_out,
                                                   " is negative"));
  }
  if (o.permutations < 0 || o.permutations > 8) {
    return absl::InvalidArgumentError(
        absl::StrCat("view option permutations: ", o.permutations, " is outside 0..8"));
  }
  if (o.max_views < 1 || o.max_views > 4096) {
    return absl::InvalidArgumentError(
        absl::StrCat("view option max_views: ", o.max_views, " is outside 1..4096"));
  }
  for (Dihedral d : o.transforms) {
    if (d == Dihedral::kIdentity) {
      return absl::InvalidArgumentError(
          "view option transforms: identity is always included, list only the other elements");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<View>> BuildViews(const Task& task, int test_index,
                                             const ViewOptions& o) {
  if (absl::Status s = ValidateViewOptions(o); !s.ok()) return s;
  if (test_index < 0 || test_index >= static_cast<int>(task.test.size())) {
    return absl::InvalidArgumentError(absl::StrCat("test index ", test_index, " is outside 0..",
                                                   static_cast<int>(task.test.size()) - 1));
  }
  const int n = static_cast<int>(task.train.size());
  if (o.leave_out >= n) {
    return absl::FailedPreconditionError(absl::StrCat("view option leave_out: ", o.leave_out,
                                                      " leaves no demonstration of ", n));
  }
  Rng rng(o.seed);
  const Grid& query = task.test[test_index].input;

  auto make = [&](const std::vector<int>& demos, Dihedral d, std::string id) {
    View v;
    v.id = std::move(id);
    v.transform = d;
    v.category = d == Dihedral::kIdentity ? "identity" : std::string(DihedralName(d));
    v.demonstrations = demos;
    v.task.id = task.id;
    for (int j : demos) {
      v.task.train.push_back({ApplyDihedral(d, task.train[j].input),
                              ApplyDihedral(d, task.train[j].output)});
    }
    v.task.test.push_back({ApplyDihedral(d, query), std::nullopt});
    return v;
  };

  // Subsets: remove every combination of `leave_out` demonstrations (lexicographic order).
  std::vector<std::vector<int>> subsets;
  {
    std::vector<int> removed(o.leave_out);
    for (int i = 0; i < o.leave_out; ++i) removed[i] = i;
    while (true) {
      std::vector<int> keep;
      for (int j = 0; j < n; ++j) {
        if (std::find(removed.begin(), removed.end(), j) == removed.end()) keep.push_back(j);
      }
      subsets.push_back(std::move(keep));
      int i = o.leave_out - 1;
      while (i >= 0 && removed[i] == n - o.leave_out + i) --i;
      if (i < 0) break;
      ++removed[i];
      for (int j = i + 1; j < o.leave_out; ++j) removed[j] = removed[j - 1] + 1;
    }
  }

  std::vector<View> base;
  absl::flat_hash_set<Task> seen;
  for (size_t s = 0; s < subsets.size(); ++s) {
    View v = make(subsets[s], Dihedral::kIdentity, absl::StrCat("s", s));
    if (seen.insert(v.task).second) base.push_back(std::move(v));
    for (int p = 0; p < o.permutations; ++p) {
      std::vector<int> order = subsets[s];
      rng.Shuffle(order);
      View pv = make(order, Dihedral::kIdentity, absl::StrCat("s", s, "/p", p + 1));
      if (seen.insert(pv.task).second) base.push_back(std::move(pv));
    }
  }

  std::vector<View> views = base;
  for (Dihedral d : o.transforms) {
    std::vector<const View*> sources;
    if (o.every_base_per_transform) {
      for (const View& b : base) sources.push_back(&b);
    } else {
      sources.push_back(&base[rng.Below(base.size())]);
    }
    for (const View* b : sources) {
      View v = make(b->demonstrations, d, absl::StrCat(b->id, "/", std::string(DihedralName(d))));
      if (!seen.insert(v.task).second) continue;  // symmetric: same prompt as an existing view
      views.push_back(std::move(v));
    }
  }
  if (static_cast<int>(views.size()) > o.max_views) views.resize(o.max_views);
  return views;
}

Grid InvertOutput(const View& view, const Grid& predicted) {
  return ApplyDihedral(Inverse(view.transform), predicted);
}

}  // namespace arc
