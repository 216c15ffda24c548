#include "core/data/vote.h"

#include <algorithm>
#include <cstddef>
#include <utility>

#include "absl/container/flat_hash_map.h"

namespace arc {
namespace {

// Distinct values in order of first occurrence with their counts. This order replaces the paper's
// Python set order everywhere, which is what makes every tie below reproducible.
template <typename T>
struct Tally {
  std::vector<T> values;
  std::vector<int> counts;
};

template <typename T>
Tally<T> Count(const std::vector<T>& items) {
  Tally<T> t;
  absl::flat_hash_map<T, size_t> index;
  for (const T& item : items) {
    auto [it, inserted] = index.try_emplace(item, t.values.size());
    if (inserted) {
      t.values.push_back(item);
      t.counts.push_back(1);
    } else {
      ++t.counts[it->second];
    }
  }
  return t;
}

// Index into t.values of the most common value; the first one on equal counts (std::max_element
// returns the first maximum).
template <typename T>
size_t MostCommonIndex(const Tally<T>& t) {
  return static_cast<size_t>(std::max_element(t.counts.begin(), t.counts.end()) - t.counts.begin());
}

Grid Transpose(const Grid& g) {
  Grid t(g.cols(), g.rows());
  for (int r = 0; r < g.rows(); ++r)
    for (int c = 0; c < g.cols(); ++c) t.set(c, r, g.at(r, c));
  return t;
}

int CountOf(const std::vector<Grid>& items, const Grid& g) {
  return static_cast<int>(std::count(items.begin(), items.end(), g));
}

// The raw tally of the predictions, as candidates carrying votes and views.
std::vector<Candidate> RawCandidates(const std::vector<Prediction>& predictions) {
  std::vector<Candidate> out;
  absl::flat_hash_map<Grid, size_t> index;
  for (const Prediction& p : predictions) {
    auto [it, inserted] = index.try_emplace(p.output, out.size());
    if (inserted) {
      out.push_back(Candidate{p.output, 0, {}, 0.0});
    }
    Candidate& c = out[it->second];
    ++c.votes;
    c.views.push_back(p.view);
  }
  return out;
}

void SortByVotes(std::vector<Candidate>& cands) {
  std::stable_sort(cands.begin(), cands.end(),
                   [](const Candidate& a, const Candidate& b) { return a.votes > b.votes; });
}

}  // namespace

Grid RowColMajority(const std::vector<Grid>& outs, bool transpose) {
  if (outs.empty()) return Grid();
  std::vector<Grid> grids;
  grids.reserve(outs.size());
  for (const Grid& o : outs) grids.push_back(transpose ? Transpose(o) : o);

  std::vector<std::pair<int, int>> shapes;
  shapes.reserve(grids.size());
  for (const Grid& g : grids) shapes.emplace_back(g.rows(), g.cols());
  const Tally<std::pair<int, int>> shape_tally = Count(shapes);
  const auto [height, width] = shape_tally.values[MostCommonIndex(shape_tally)];

  Grid result(height, width);
  for (int r = 0; r < height; ++r) {
    // Rows of other-height grids of the same width vote too (the paper's `len(o) > r and
    // len(o[r]) == W`). The winning shape guarantees at least one candidate.
    std::vector<std::vector<uint8_t>> rows;
    for (const Grid& g : grids) {
      if (g.rows() > r && g.cols() == width) rows.push_back(g.Row(r));
    }
    const Tally<std::vector<uint8_t>> row_tally = Count(rows);
    const std::vector<uint8_t>& best = row_tally.values[MostCommonIndex(row_tally)];
    for (int c = 0; c < width; ++c) result.set(r, c, best[c]);
  }
  return transpose ? Transpose(result) : result;
}

std::vector<Grid> Top3(const std::vector<Grid>& outs) {
  if (outs.empty()) return {};
  const Tally<Grid> tally = Count(outs);
  std::vector<size_t> order(tally.values.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  // Stable: equal counts keep first-occurrence order, so order[0] is also the first maximum. This
  // is where we part from numpy's argsort(cnt)[-2], which on ties repeats the argmax entry.
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return tally.counts[a] > tally.counts[b]; });

  Grid c1 = tally.values[order[0]];
  Grid c2 = c1;
  Grid c3 = c1;
  if (order.size() > 2) {
    c2 = tally.values[order[1]];
    c3 = tally.values[order[2]];
  } else if (order.size() > 1) {
    c2 = tally.values[order[1]];
  }
  const Grid row = RowColMajority(outs, /*transpose=*/false);
  const Grid col = RowColMajority(outs, /*transpose=*/true);
  if (c2 == c1) c2 = (row != c1) ? row : col;
  if (c3 == c1 || c3 == c2) c3 = (row != c1 && row != c2) ? row : col;
  return {std::move(c1), std::move(c2), std::move(c3)};
}

VoteResult HierarchicalVote(const std::vector<Prediction>& predictions) {
  VoteResult result;
  result.num_predictions = static_cast<int>(predictions.size());
  if (predictions.empty()) return result;

  // Group by category: identity first, then first appearance. A vector of groups (not a map keyed
  // by name) keeps a category literally called "all" apart from the pool.
  std::vector<std::string> names;
  std::vector<std::vector<Grid>> groups;
  absl::flat_hash_map<std::string, size_t> group_index;
  const auto group_of = [&](const std::string& name) -> std::vector<Grid>& {
    auto [it, inserted] = group_index.try_emplace(name, groups.size());
    if (inserted) {
      names.push_back(name);
      groups.emplace_back();
    }
    return groups[it->second];
  };
  const bool has_identity = std::any_of(
      predictions.begin(), predictions.end(),
      [](const Prediction& p) { return p.category.empty() || p.category == kIdentityCategory; });
  if (has_identity) group_of(kIdentityCategory);
  for (const Prediction& p : predictions) {
    group_of(p.category.empty() ? std::string(kIdentityCategory) : p.category).push_back(p.output);
  }

  std::vector<Grid> pool;
  for (const std::vector<Grid>& g : groups) pool.insert(pool.end(), g.begin(), g.end());

  std::vector<Grid> cands = Top3(pool);
  for (const std::vector<Grid>& g : groups) {
    std::vector<Grid> top = Top3(g);
    cands.insert(cands.end(), top.begin(), top.end());
  }
  std::vector<Grid> top = Top3(cands);
  const Grid& c1 = top[0];
  Grid c2 = top[1];
  const Grid& c3 = top[2];
  if (has_identity && CountOf(cands, c2) == CountOf(cands, c3)) {
    const std::vector<Grid>& identity = groups[0];
    // Equal identity counts go to C3, as in the paper (`>` keeps C2, anything else takes C3).
    if (!(CountOf(identity, c2) > CountOf(identity, c3))) c2 = c3;
  }

  std::vector<Candidate> raw = RawCandidates(predictions);
  const auto take = [&raw](const Grid& g) {
    for (auto it = raw.begin(); it != raw.end(); ++it) {
      if (it->grid == g) {
        Candidate c = std::move(*it);
        raw.erase(it);
        return c;
      }
    }
    return Candidate{g, 0, {}, 0.0};  // a filler no view produced
  };
  result.ranked.push_back(take(c1));
  if (c2 != c1) result.ranked.push_back(take(c2));
  SortByVotes(raw);
  for (Candidate& c : raw) result.ranked.push_back(std::move(c));
  return result;
}

VoteResult MajorityVote(const std::vector<Prediction>& predictions) {
  VoteResult result;
  result.num_predictions = static_cast<int>(predictions.size());
  result.ranked = RawCandidates(predictions);
  SortByVotes(result.ranked);
  return result;
}

Attempts ToAttempts(const VoteResult& r) {
  if (r.ranked.empty()) return Attempts{Grid(1, 1, 0), Grid(1, 1, 0)};
  const Grid& first = r.ranked[0].grid;
  return Attempts{first, r.ranked.size() > 1 ? r.ranked[1].grid : first};
}

}  // namespace arc
