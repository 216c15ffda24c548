// Whole-grid families: geometry, colour maps, scaling and tiling, patterns, per-row and per-column
// rules. Each family draws its rule's parameters once, then Collect draws the pairs.
#include <algorithm>
#include <array>
#include <functional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/data/augment.h"
#include "gen/generator_families.h"

namespace arc::gen {
namespace {

// A density in [lo, hi).
double Density(Rng& rng, double lo, double hi) { return lo + (hi - lo) * rng.UniformDouble(); }

// A palette of 1..min(max_colours, cap) colours.
std::vector<uint8_t> Palette(Rng& rng, const Difficulty& d, int cap = 9, int at_least = 1) {
  const int hi = std::max(at_least, std::min(d.max_colours, cap));
  return DistinctColours(rng, Uniform(rng, at_least, hi));
}

// An offset (dr, dc) in [-reach, reach]^2 other than (0, 0).
std::pair<int, int> NonZeroOffset(Rng& rng, int reach) {
  int dr = 0, dc = 0;
  while (dr == 0 && dc == 0) {
    dr = Uniform(rng, -reach, reach);
    dc = Uniform(rng, -reach, reach);
  }
  return {dr, dc};
}

bool Contains(const Grid& g, uint8_t colour) { return CountColour(g, colour) > 0; }

Grid Upscale(const Grid& g, int ky, int kx) {
  Grid out(g.rows() * ky, g.cols() * kx);
  for (int r = 0; r < out.rows(); ++r) {
    for (int c = 0; c < out.cols(); ++c) out.set(r, c, g.at(r / ky, c / kx));
  }
  return out;
}

Grid Tile(const Grid& g, int ty, int tx) {
  Grid out(g.rows() * ty, g.cols() * tx);
  for (int r = 0; r < out.rows(); ++r) {
    for (int c = 0; c < out.cols(); ++c) out.set(r, c, g.at(r % g.rows(), c % g.cols()));
  }
  return out;
}

// `a` beside `b` (or above it when `vertical`); the shared side must match.
Grid Concat(const Grid& a, const Grid& b, bool vertical) {
  Grid out(vertical ? a.rows() + b.rows() : a.rows(), vertical ? a.cols() : a.cols() + b.cols());
  StampGrid(out, a, 0, 0);
  StampGrid(out, b, vertical ? a.rows() : 0, vertical ? 0 : a.cols());
  return out;
}

Grid Transpose(const Grid& g) { return ApplyDihedral(Dihedral::kTranspose, g); }

// OK when for some factor k in `ks` a side s >= min_small has k*s in [min_side, max_side].
absl::Status NeedMultiple(const Difficulty& d, const std::vector<int>& ks, int min_small) {
  for (int k : ks) {
    const auto [lo, hi] = MultipleRange(d, k);
    if (lo <= hi && hi >= min_small) return absl::OkStatus();
  }
  return absl::FailedPreconditionError(
      absl::StrCat("a side in [min_side, max_side] that is ", absl::StrJoin(ks, " or "),
                   " times a side >= ", min_small, ", got ", d.min_side, "..", d.max_side));
}

// ---------------------------------------------------------------------------------------------
// Dihedral transforms.

std::optional<Task> DihedralTask(Rng& rng, const Difficulty& d, const std::vector<Dihedral>& set) {
  const Dihedral t = Choose(rng, set);
  const std::vector<uint8_t> palette = Palette(rng, d, 5);
  const double density = Density(rng, 0.3, 0.9);
  return CollectPairs(rng, d, 1, 1, [&](Rng& r, int rows, int cols) -> std::optional<Example> {
    Grid in = RandomGrid(r, rows, cols, palette, density);
    return Example{in, ApplyDihedral(t, in)};
  });
}

std::optional<Task> Rotate(Rng& rng, const Difficulty& d) {
  return DihedralTask(rng, d, {Dihedral::kRot90, Dihedral::kRot180, Dihedral::kRot270});
}
std::optional<Task> Flip(Rng& rng, const Difficulty& d) {
  return DihedralTask(rng, d, {Dihedral::kFlipUD, Dihedral::kFlipLR});
}
std::optional<Task> TransposeTask(Rng& rng, const Difficulty& d) {
  return DihedralTask(rng, d, {Dihedral::kTranspose, Dihedral::kAntiTranspose});
}

// ---------------------------------------------------------------------------------------------
// Colour rules.

// Inputs drawn from `palette`, each containing every colour of `required`; output = map(input).
std::optional<Task> MappedColours(Rng& rng, const Difficulty& d,
                                  const std::vector<uint8_t>& palette,
                                  const std::vector<uint8_t>& required,
                                  const std::array<uint8_t, kNumColours>& map) {
  const double density = Density(rng, 0.5, 1.0);
  return CollectPairs(rng, d, 1, 1, [&](Rng& r, int rows, int cols) -> std::optional<Example> {
    Grid in = RandomGrid(r, rows, cols, palette, density);
    for (uint8_t c : required) {
      if (!Contains(in, c)) return std::nullopt;
    }
    return Example{in, MapCells(in, [&](int, int, uint8_t v) { return map[v]; })};
  });
}

std::array<uint8_t, kNumColours> IdentityMap() {
  std::array<uint8_t, kNumColours> map;
  for (int c = 0; c < kNumColours; ++c) map[c] = static_cast<uint8_t>(c);
  return map;
}

// Every source colour is mapped (a bijection half of the time, any map otherwise); at least one
// changes.
std::optional<Task> ColourMapTask(Rng& rng, const Difficulty& d) {
  const std::vector<uint8_t> sources = Palette(rng, d, 5);
  std::array<uint8_t, kNumColours> map = IdentityMap();
  const bool bijective = Chance(rng, 0.5);
  const std::vector<uint8_t> targets = DistinctColours(rng, static_cast<int>(sources.size()));
  bool changes = false;
  for (size_t i = 0; i < sources.size(); ++i) {
    map[sources[i]] = bijective ? targets[i] : static_cast<uint8_t>(Uniform(rng, 1, 9));
    changes |= map[sources[i]] != sources[i];
  }
  if (!changes) return std::nullopt;
  return MappedColours(rng, d, sources, sources, map);
}

std::optional<Task> ColourSwap(Rng& rng, const Difficulty& d) {
  const std::vector<uint8_t> palette = Palette(rng, d, 4, 2);
  std::array<uint8_t, kNumColours> map = IdentityMap();
  std::swap(map[palette[0]], map[palette[1]]);
  return MappedColours(rng, d, palette, {palette[0], palette[1]}, map);
}

std::optional<Task> RemoveColour(Rng& rng, const Difficulty& d) {
  const std::vector<uint8_t> palette = Palette(rng, d, 5, 2);
  std::array<uint8_t, kNumColours> map = IdentityMap();
  map[palette[0]] = kBg;
  return MappedColours(rng, d, palette, palette, map);
}

std::optional<Task> Invert(Rng& rng, const Difficulty& d) {
  const double density = Density(rng, 0.25, 0.65);
  return Collect(rng, NumPairs(rng), [&](Rng& r) -> std::optional<Example> {
    const uint8_t colour = static_cast<uint8_t>(Uniform(r, 1, 9));
    const int rows = *DrawSide(r, d), cols = *DrawSide(r, d);
    Grid in = RandomGrid(r, rows, cols, {colour}, density);
    if (!Contains(in, colour)) return std::nullopt;
    return Example{in, MapCells(in, [&](int, int, uint8_t v) { return v == kBg ? colour : kBg; })};
  });
}

std::optional<Task> MajorityColourFill(Rng& rng, const Difficulty& d) {
  const std::vector<uint8_t> palette = Palette(rng, d, 4, 2);
  const double density = Density(rng, 0.5, 1.0);
  return CollectPairs(rng, d, 1, 1, [&](Rng& r, int rows, int cols) -> std::optional<Example> {
    Grid in = RandomGrid(r, rows, cols, palette, density);
    int best = -1, best_count = 0, second = 0;
    for (uint8_t c : palette) {
      const int n = CountColour(in, c);
      if (n > best_count) {
        second = best_count;
        best_count = n;
        best = c;
      } else {
        second = std::max(second, n);
      }
    }
    if (best < 0 || best_count == second || NumColours(in) < 2) return std::nullopt;
    return Example{in, Grid(rows, cols, static_cast<uint8_t>(best))};
  });
}

// Each row (or column) becomes its most frequent colour; inputs have no background.
std::optional<Task> RowMajority(Rng& rng, const Difficulty& d) {
  const std::vector<uint8_t> palette = Palette(rng, d, 4, 2);
  const bool columns = Chance(rng, 0.5);
  const double noise = Density(rng, 0.2, 0.45);
  return CollectPairs(rng, d, 1, 3, [&](Rng& r, int rows, int cols) -> std::optional<Example> {
    Grid in(rows, cols), out(rows, cols);
    for (int i = 0; i < rows; ++i) {
      const uint8_t major = Choose(r, palette);
      for (int j = 0; j < cols; ++j) in.set(i, j, Chance(r, noise) ? Choose(r, palette) : major);
      std::array<int, kNumColours> count{};
      for (int j = 0; j < cols; ++j) ++count[in.at(i, j)];
      const int top = *std::max_element(count.begin(), count.end());
      if (std::count(count.begin(), count.end(), top) != 1) return std::nullopt;
      const uint8_t winner =
          static_cast<uint8_t>(std::max_element(count.begin(), count.end()) - count.begin());
      for (int j = 0; j < cols; ++j) out.set(i, j, winner);
    }
    if (columns) return Example{Transpose(in), Transpose(out)};
    return Example{in, out};
  });
}

// ---------------------------------------------------------------------------------------------
// Movement.

// Non-background cells of every column fall to the bottom, keeping their order.
Grid FallDown(const Grid& g) {
  Grid out(g.rows(), g.cols());
  for (int c = 0; c < g.cols(); ++c) {
    int dst = g.rows() - 1;
    for (int r = g.rows() - 1; r >= 0; --r) {
      if (g.at(r, c) != kBg) out.set(dst--, c, g.at(r, c));
    }
  }
  return out;
}

std::optional<Task> Gravity(Rng& rng, const Difficulty& d) {
  // The frame in which the fall is downward: down, up, left (rot90 takes the left column to the
  // bottom row), right.
  const Dihedral frame = Choose(rng, std::vector<Dihedral>{Dihedral::kIdentity, Dihedral::kFlipUD,
                                                           Dihedral::kRot90, Dihedral::kRot270});
  const std::vector<uint8_t> palette = Palette(rng, d, 4);
  const double density = Density(rng, 0.15, 0.5);
  return CollectPairs(rng, d, 2, 1, [&](Rng& r, int rows, int cols) -> std::optional<Example> {
    Grid in = RandomGrid(r, rows, cols, palette, density);
    Grid out = ApplyDihedral(Inverse(frame), FallDown(ApplyDihedral(frame, in)));
    return Example{in, out};
  });
}

// Content moves by a fixed (dr, dc); inputs keep their content where the move keeps it inside.
std::optional<Task> Translate(Rng& rng, const Difficulty& d) {
  const auto [dr, dc] = NonZeroOffset(rng, 2);
  const std::vector<uint8_t> palette = Palette(rng, d, 4);
  const double density = Density(rng, 0.2, 0.6);
  return CollectPairs(rng, d, std::abs(dr) + 1, std::abs(dc) + 1,
                      [&](Rng& r, int rows, int cols) -> std::optional<Example> {
                        Grid in(rows, cols);
                        const Grid content = RandomGrid(r, rows - std::abs(dr), cols - std::abs(dc),
                                                        palette, density);
                        StampGrid(in, content, std::max(0, -dr), std::max(0, -dc));
                        Grid out(rows, cols);
                        StampGrid(out, content, std::max(0, dr), std::max(0, dc));
                        return Example{in, out};
                      });
}

// A cyclic shift by (dr, dc) in {-1, 0, 1}^2.
std::optional<Task> Roll(Rng& rng, const Difficulty& d) {
  const auto [dr, dc] = NonZeroOffset(rng, 1);
  const std::vector<uint8_t> palette = Palette(rng, d, 5);
  const double density = Density(rng, 0.5, 1.0);
  return CollectPairs(rng, d, 2, 2, [&](Rng& r, int rows, int cols) -> std::optional<Example> {
    Grid in = RandomGrid(r, rows, cols, palette, density);
    Grid out(rows, cols);
    for (int i = 0; i < rows; ++i) {
      for (int j = 0; j < cols; ++j) {
        out.set(((i + dr) % rows + rows) % rows, ((j + dc) % cols + cols) % cols, in.at(i, j));
      }
    }
    return Example{in, out};
  });
}

// Bottom-anchored bars in every column, sorted by height (ascending or descending).
std::optional<Task> SortColumns(Rng& rng, const Difficulty& d) {
  const bool ascending = Chance(rng, 0.5);
  return CollectPairs(rng, d, 2, 2, [&](Rng& r, int rows, int cols) -> std::optional<Example> {
    const uint8_t colour = static_cast<uint8_t>(Uniform(r, 1, 9));
    std::vector<int> heights(cols);
    for (int& h : heights) h = Uniform(r, 0, rows);
    std::vector<int> sorted = heights;
    std::sort(sorted.begin(), sorted.end());  // ints: equal elements are indistinguishable
    if (!ascending) std::reverse(sorted.begin(), sorted.end());
    Grid in(rows, cols), out(rows, cols);
    for (int c = 0; c < cols; ++c) {
      for (int k = 0; k < heights[c]; ++k) in.set(rows - 1 - k, c, colour);
      for (int k = 0; k < sorted[c]; ++k) out.set(rows - 1 - k, c, colour);
    }
    return Example{in, out};
  });
}

// ---------------------------------------------------------------------------------------------
// Scaling and tiling.

std::vector<int> FeasibleFactors(const Difficulty& d, const std::vector<int>& ks) {
  std::vector<int> out;
  for (int k : ks) {
    const auto [lo, hi] = MultipleRange(d, k);
    if (lo <= hi) out.push_back(k);
  }
  return out;
}

// The small grid of a scale pair needs a side of 2 or more somewhere, or there are too few
// distinct inputs for a task.
absl::Status ScaleFeasible(const Difficulty& d) { return NeedMultiple(d, {2, 3}, 2); }

// The scaffolding of the scaling and tiling families: a palette of up to 5 colours and a density
// in [0.4, 0.9) drawn once, then per pair a small random grid with sides s such that ky*s (rows)
// and kx*s (columns) lie in [min_side, max_side], and the example `make` builds from it.
std::optional<Task> CollectScaled(Rng& rng, const Difficulty& d, int ky, int kx,
                                  const std::function<Example(const Grid& small)>& make) {
  const std::vector<uint8_t> palette = Palette(rng, d, 5);
  const double density = Density(rng, 0.4, 0.9);
  return Collect(rng, NumPairs(rng), [&](Rng& r) -> std::optional<Example> {
    const auto [rlo, rhi] = MultipleRange(d, ky);
    const auto [clo, chi] = MultipleRange(d, kx);
    if (rlo > rhi || clo > chi) return std::nullopt;
    return make(RandomGrid(r, Uniform(r, rlo, rhi), Uniform(r, clo, chi), palette, density));
  });
}

std::optional<Task> ScaleUp(Rng& rng, const Difficulty& d) {
  const int k = Choose(rng, FeasibleFactors(d, {2, 3}));
  return CollectScaled(rng, d, k, k, [&](const Grid& small) {
    return Example{small, Upscale(small, k, k)};
  });
}

std::optional<Task> ScaleDown(Rng& rng, const Difficulty& d) {
  const int k = Choose(rng, FeasibleFactors(d, {2, 3}));
  return CollectScaled(rng, d, k, k, [&](const Grid& small) {
    return Example{Upscale(small, k, k), small};
  });
}

constexpr std::array<std::pair<int, int>, 8> kTilings = {
    {{1, 2}, {2, 1}, {2, 2}, {1, 3}, {3, 1}, {2, 3}, {3, 2}, {3, 3}}};

std::vector<std::pair<int, int>> FeasibleTilings(const Difficulty& d) {
  std::vector<std::pair<int, int>> out;
  for (const auto& [ty, tx] : kTilings) {
    const auto [rlo, rhi] = MultipleRange(d, ty);
    const auto [clo, chi] = MultipleRange(d, tx);
    if (rlo <= rhi && clo <= chi) out.push_back({ty, tx});
  }
  return out;
}

absl::Status TileFeasible(const Difficulty& d) { return NeedMultiple(d, {2, 3}, 1); }

std::optional<Task> TileTask(Rng& rng, const Difficulty& d) {
  const auto [ty, tx] = Choose(rng, FeasibleTilings(d));
  return CollectScaled(rng, d, ty, tx, [&](const Grid& small) {
    return Example{small, Tile(small, ty, tx)};
  });
}

absl::Status EvenFeasible(const Difficulty& d) { return NeedMultiple(d, {2}, 1); }
absl::Status MirrorFeasible(const Difficulty& d) { return NeedMultiple(d, {2}, 2); }

// Output 2x2: B, fliplr(B) over flipud(B), rot180(B), with B a fixed flip of the input.
std::optional<Task> MirrorTile(Rng& rng, const Difficulty& d) {
  const Dihedral base = Choose(rng, std::vector<Dihedral>{Dihedral::kIdentity, Dihedral::kFlipLR,
                                                          Dihedral::kFlipUD, Dihedral::kRot180});
  return CollectScaled(rng, d, 2, 2, [&](const Grid& small) {
    const Grid b = ApplyDihedral(base, small);
    const Grid top = Concat(b, ApplyDihedral(Dihedral::kFlipLR, b), false);
    const Grid bottom =
        Concat(ApplyDihedral(Dihedral::kFlipUD, b), ApplyDihedral(Dihedral::kRot180, b), false);
    return Example{small, Concat(top, bottom, true)};
  });
}

// The input beside (or above) its mirror image, in a fixed order.
std::optional<Task> ReflectConcat(Rng& rng, const Difficulty& d) {
  const bool vertical = Chance(rng, 0.5);
  const bool mirror_first = Chance(rng, 0.5);
  const std::vector<uint8_t> palette = Palette(rng, d, 5);
  const double density = Density(rng, 0.4, 0.9);
  return Collect(rng, NumPairs(rng), [&](Rng& r) -> std::optional<Example> {
    const auto [lo, hi] = MultipleRange(d, 2);
    if (lo > hi) return std::nullopt;
    const int half = Uniform(r, lo, hi), other = *DrawSide(r, d);
    Grid in = RandomGrid(r, vertical ? half : other, vertical ? other : half, palette, density);
    const Grid m = ApplyDihedral(vertical ? Dihedral::kFlipUD : Dihedral::kFlipLR, in);
    return Example{in, mirror_first ? Concat(m, in, vertical) : Concat(in, m, vertical)};
  });
}

// An n x m input becomes n^2 x m^2: block (i, j) is the input where input[i][j] is set.
std::vector<int> FractalSides(const Difficulty& d) {
  std::vector<int> sides;
  for (int n = 2; n * n <= d.max_side; ++n) {
    if (n * n >= d.min_side) sides.push_back(n);
  }
  return sides;
}

absl::Status FractalFeasible(const Difficulty& d) {
  if (!FractalSides(d).empty()) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(
      "a square n*n (n >= 2) in [min_side, max_side], got ", d.min_side, "..", d.max_side));
}

std::optional<Task> Fractal(Rng& rng, const Difficulty& d) {
  const std::vector<int> sides = FractalSides(d);
  const std::vector<uint8_t> palette = Palette(rng, d, 2);
  const double density = Density(rng, 0.35, 0.75);
  return Collect(rng, NumPairs(rng), [&](Rng& r) -> std::optional<Example> {
    const int n = Choose(r, sides), m = Choose(r, sides);
    Grid in = RandomGrid(r, n, m, palette, density);
    const int set = CountNonBg(in);
    if (set == 0 || set == n * m) return std::nullopt;
    Grid out(n * n, m * m);
    for (int i = 0; i < n; ++i) {
      for (int j = 0; j < m; ++j) {
        if (in.at(i, j) != kBg) StampGrid(out, in, i * n, j * m);
      }
    }
    return Example{in, out};
  });
}

// The input's quadrant at a fixed position (inputs have even sides).
std::optional<Task> ExtractQuadrant(Rng& rng, const Difficulty& d) {
  const int q = Uniform(rng, 0, 3);
  const std::vector<uint8_t> palette = Palette(rng, d, 5);
  const double density = Density(rng, 0.3, 0.8);
  return Collect(rng, NumPairs(rng), [&](Rng& r) -> std::optional<Example> {
    const auto [lo, hi] = MultipleRange(d, 2);
    if (lo > hi) return std::nullopt;
    const int h = Uniform(r, lo, hi), w = Uniform(r, lo, hi);
    Grid in = RandomGrid(r, 2 * h, 2 * w, palette, density);
    return Example{in, Crop(in, (q / 2) * h, (q % 2) * w, h, w)};
  });
}

// ---------------------------------------------------------------------------------------------
// Patterns and symmetry.

// Rows repeat with period 2..4; the input shows a prefix of every row, the output all of it.
std::optional<Task> PatternContinuation(Rng& rng, const Difficulty& d) {
  const bool vertical = Chance(rng, 0.5);
  const std::vector<uint8_t> palette = Palette(rng, d, 4, 2);
  return CollectPairs(rng, d, 1, 4, [&](Rng& r, int rows, int cols) -> std::optional<Example> {
    const int period = Uniform(r, 2, std::min(4, cols / 2));
    const int shown = Uniform(r, period + 1, cols - 1);
    Grid in(rows, cols), out(rows, cols);
    for (int i = 0; i < rows; ++i) {
      std::vector<uint8_t> motif(period);
      for (uint8_t& m : motif) m = Choose(r, palette);
      for (int j = 0; j < cols; ++j) {
        out.set(i, j, motif[j % period]);
        if (j < shown) in.set(i, j, motif[j % period]);
      }
    }
    if (vertical) return Example{Transpose(in), Transpose(out)};
    return Example{in, out};
  });
}

// A doubly periodic tiling with a background rectangle cut out; the output restores it.
std::optional<Task> PatternInpaint(Rng& rng, const Difficulty& d) {
  const std::vector<uint8_t> palette = Palette(rng, d, 4, 2);
  return CollectPairs(rng, d, 4, 4, [&](Rng& r, int rows, int cols) -> std::optional<Example> {
    const int py = Uniform(r, 1, std::min(3, rows / 2));
    const int px = Uniform(r, py == 1 ? 2 : 1, std::min(3, cols / 2));
    const Grid motif = RandomGrid(r, py, px, palette, 1.0);
    if (NumColours(motif) < 2) return std::nullopt;
    const Grid out = Tile(motif, (rows + py - 1) / py, (cols + px - 1) / px);
    const Grid full = Crop(out, 0, 0, rows, cols);
    const int h = Uniform(r, 1, std::max(1, rows / 2)), w = Uniform(r, 1, std::max(1, cols / 2));
    const int r0 = Uniform(r, 0, rows - h), c0 = Uniform(r, 0, cols - w);
    Grid in = full;
    for (int i = r0; i < r0 + h; ++i) {
      for (int j = c0; j < c0 + w; ++j) in.set(i, j, kBg);
    }
    // Every cell of the motif must stay visible somewhere, or the hole is not recoverable.
    Grid seen(py, px);
    for (int i = 0; i < rows; ++i) {
      for (int j = 0; j < cols; ++j) {
        if (in.at(i, j) != kBg) seen.set(i % py, j % px, 1);
      }
    }
    if (CountNonBg(seen) != py * px) return std::nullopt;
    return Example{in, full};
  });
}

// A left-right, up-down or fourfold symmetric pattern with a rectangle erased on one side of an
// axis (so its mirror image is intact); the output is the whole pattern.
std::optional<Task> SymmetryComplete(Rng& rng, const Difficulty& d) {
  const int axes = Uniform(rng, 1, 3);  // bit 0: left-right, bit 1: up-down
  const std::vector<uint8_t> palette = Palette(rng, d, 4);
  const double density = Density(rng, 0.5, 0.9);
  return CollectPairs(rng, d, 4, 4, [&](Rng& r, int rows, int cols) -> std::optional<Example> {
    Grid g = RandomGrid(r, rows, cols, palette, density);
    for (int i = 0; i < rows; ++i) {
      for (int j = 0; j < cols; ++j) {
        int si = i, sj = j;
        if ((axes & 1) && j >= cols / 2) sj = cols - 1 - j;
        if ((axes & 2) && i >= rows / 2) si = rows - 1 - i;
        g.set(i, j, g.at(si, sj));
      }
    }
    // The erased box lies inside one half (left-right) or one quadrant (fourfold).
    int rlo = 0, rhi = rows, clo = 0, chi = cols;  // half-open ranges
    if (axes & 1) {
      if (Chance(r, 0.5)) {
        chi = cols / 2;
      } else {
        clo = (cols + 1) / 2;
      }
    }
    if (axes & 2) {
      if (Chance(r, 0.5)) {
        rhi = rows / 2;
      } else {
        rlo = (rows + 1) / 2;
      }
    }
    const int h = Uniform(r, 1, rhi - rlo), w = Uniform(r, 1, chi - clo);
    const int r0 = Uniform(r, rlo, rhi - h), c0 = Uniform(r, clo, chi - w);
    Grid in = g;
    for (int i = r0; i < r0 + h; ++i) {
      for (int j = c0; j < c0 + w; ++j) in.set(i, j, kBg);
    }
    return Example{in, g};
  });
}

// ---------------------------------------------------------------------------------------------
// Frames, lines, halves.

std::optional<Task> DrawBorder(Rng& rng, const Difficulty& d) {
  const uint8_t frame = static_cast<uint8_t>(Uniform(rng, 1, 9));
  const std::vector<uint8_t> palette =
      DistinctColours(rng, Uniform(rng, 1, std::max(1, std::min(4, d.max_colours - 1))), {frame});
  const double density = Density(rng, 0.0, 0.4);
  return CollectPairs(rng, d, 3, 3, [&](Rng& r, int rows, int cols) -> std::optional<Example> {
    Grid in = RandomGrid(r, rows, cols, palette, density);
    return Example{in, MapCells(in, [&](int i, int j, uint8_t v) {
                     return i == 0 || j == 0 || i == rows - 1 || j == cols - 1 ? frame : v;
                   })};
  });
}

// Full-length horizontal and vertical lines; their crossings take another colour.
std::optional<Task> GridIntersection(Rng& rng, const Difficulty& d) {
  const std::vector<uint8_t> colours = DistinctColours(rng, 2);
  const uint8_t line = colours[0], cross = colours[1];
  return CollectPairs(rng, d, 3, 3, [&](Rng& r, int rows, int cols) -> std::optional<Example> {
    auto pick = [&](int n) {
      std::vector<int> order = r.Permutation(n);
      order.resize(Uniform(r, 1, std::max(1, std::min(d.max_objects, (n - 1) / 2))));
      std::vector<bool> chosen(n, false);
      for (int i : order) chosen[i] = true;
      return chosen;
    };
    const std::vector<bool> line_rows = pick(rows), line_cols = pick(cols);
    Grid in(rows, cols), out(rows, cols);
    for (int i = 0; i < rows; ++i) {
      for (int j = 0; j < cols; ++j) {
        if (line_rows[i] || line_cols[j]) in.set(i, j, line);
        out.set(i, j, line_rows[i] && line_cols[j] ? cross : in.at(i, j));
      }
    }
    return Example{in, out};
  });
}

enum class BoolOp { kAnd, kOr, kXor, kNor, kLeftOnly };

bool ApplyOp(BoolOp op, bool a, bool b) {
  switch (op) {
    case BoolOp::kAnd:
      return a && b;
    case BoolOp::kOr:
      return a || b;
    case BoolOp::kXor:
      return a != b;
    case BoolOp::kNor:
      return !a && !b;
    case BoolOp::kLeftOnly:
      return a && !b;
  }
  return false;
}

absl::Status HalvesFeasible(const Difficulty& d) {
  for (int s = std::max(3, d.min_side); s <= d.max_side; ++s) {
    if (s % 2 == 1) return absl::OkStatus();
  }
  return absl::FailedPreconditionError(
      absl::StrCat("an odd side >= 3 in [min_side, max_side], got ", d.min_side, "..", d.max_side));
}

// Two halves split by a separator line; the output marks the cells where op(left, right) holds.
std::optional<Task> BooleanHalves(Rng& rng, const Difficulty& d) {
  const BoolOp op = static_cast<BoolOp>(Uniform(rng, 0, 4));
  const bool vertical = Chance(rng, 0.5);  // halves stacked (separator row) instead of side by side
  const std::vector<uint8_t> colours = DistinctColours(rng, 4);
  const uint8_t sep = colours[0], left = colours[1];
  const uint8_t right = d.max_colours >= 3 ? colours[2] : left;
  const uint8_t mark = colours[3];
  const double density = Density(rng, 0.3, 0.7);
  return Collect(rng, NumPairs(rng), [&](Rng& r) -> std::optional<Example> {
    std::vector<int> odd;
    for (int s = std::max(3, d.min_side); s <= d.max_side; ++s) {
      if (s % 2 == 1) odd.push_back(s);
    }
    if (odd.empty()) return std::nullopt;
    const int rows = *DrawSide(r, d), cols = Choose(r, odd), half = cols / 2;
    const Grid a = RandomGrid(r, rows, half, {left}, density);
    const Grid b = RandomGrid(r, rows, half, {right}, density);
    Grid in(rows, cols), out(rows, half);
    StampGrid(in, a, 0, 0);
    StampGrid(in, b, 0, half + 1);
    for (int i = 0; i < rows; ++i) {
      in.set(i, half, sep);
      for (int j = 0; j < half; ++j) {
        if (ApplyOp(op, a.at(i, j) != kBg, b.at(i, j) != kBg)) out.set(i, j, mark);
      }
    }
    if (CountNonBg(out) == 0) return std::nullopt;  // an empty answer teaches nothing
    if (vertical) return Example{Transpose(in), Transpose(out)};
    return Example{in, out};
  });
}

// Scattered pixels of 2..4 colours with distinct counts; the output has one row per colour, most
// frequent first, as long as its count.
std::optional<Task> ColourHistogram(Rng& rng, const Difficulty& d) {
  const int k_hi = std::min(4, d.max_colours);
  return CollectPairs(rng, d, 1, 1, [&](Rng& r, int rows, int cols) -> std::optional<Example> {
    const int k = Uniform(r, std::min(2, k_hi), k_hi);
    const std::vector<uint8_t> colours = DistinctColours(r, k);
    const int top = std::min({d.max_side, 8, rows * cols / (k + 1)});
    if (top < k) return std::nullopt;
    std::vector<int> counts = r.Permutation(top);  // distinct values 0..top-1
    counts.resize(k);
    for (int& c : counts) ++c;  // 1..top
    std::vector<std::pair<int, uint8_t>> bars;
    for (int i = 0; i < k; ++i) bars.push_back({counts[i], colours[i]});
    std::sort(bars.begin(), bars.end(), std::greater<>());  // counts are distinct
    std::vector<int> cells = r.Permutation(rows * cols);
    Grid in(rows, cols), out(k, bars[0].first);
    size_t next = 0;
    for (int i = 0; i < k; ++i) {
      for (int n = 0; n < bars[i].first; ++n, ++next) {
        in.set(cells[next] / cols, cells[next] % cols, bars[i].second);
        out.set(i, n, bars[i].second);
      }
    }
    return Example{in, out};
  });
}

}  // namespace

std::vector<FamilyDef> GridFamilies() {
  constexpr SizePromise kAll = SizePromise::kAllGrids;
  constexpr SizePromise kIn = SizePromise::kInputs;
  constexpr SizePromise kOut = SizePromise::kOutputs;
  return {
      Def("rotate", "rotate the grid a quarter or half turn", kAll, 2, 1, 1, Rotate),
      Def("flip", "flip the grid upside down or left to right", kAll, 2, 1, 1, Flip),
      Def("transpose", "reflect the grid in a diagonal", kAll, 2, 1, 1, TransposeTask),
      Def("colour_map", "recolour cells by a fixed colour mapping", kAll, 2, 1, 1, ColourMapTask),
      Def("colour_swap", "swap two colours", kAll, 2, 2, 1, ColourSwap),
      Def("remove_colour", "erase one colour", kAll, 2, 2, 1, RemoveColour),
      Def("invert", "swap the foreground colour with the background", kAll, 1, 1, 1, Invert),
      Def("majority_colour_fill", "fill the grid with its most frequent colour", kAll, 2, 2, 1,
          MajorityColourFill),
      Def("row_majority", "paint each row (or column) its most frequent colour", kAll, 3, 2, 1,
          RowMajority),
      Def("gravity", "cells fall towards one edge", kAll, 2, 1, 1, Gravity),
      Def("translate", "move everything by a fixed offset", kAll, 3, 1, 1, Translate),
      Def("roll", "shift the grid cyclically by one cell", kAll, 2, 1, 1, Roll),
      Def("sort_columns", "sort the column bars by height", kAll, 2, 1, 1, SortColumns),
      Def("scale_up", "scale the grid up by 2 or 3", kOut, 4, 1, 1, ScaleUp, ScaleFeasible),
      Def("scale_down", "scale the grid down by 2 or 3", kIn, 4, 1, 1, ScaleDown, ScaleFeasible),
      Def("tile", "tile the grid", kOut, 2, 1, 1, TileTask, TileFeasible),
      Def("mirror_tile", "tile the grid 2x2 with mirror images", kOut, 4, 1, 1, MirrorTile,
          MirrorFeasible),
      Def("reflect_concat", "put the grid beside its mirror image", kOut, 2, 1, 1, ReflectConcat,
          EvenFeasible),
      Def("fractal", "replace every set cell by a copy of the grid", kOut, 4, 1, 1, Fractal,
          FractalFeasible),
      Def("extract_quadrant", "keep one quadrant", kIn, 2, 1, 1, ExtractQuadrant, EvenFeasible),
      Def("pattern_continuation", "continue the periodic rows (or columns)", kAll, 4, 2, 1,
          PatternContinuation),
      Def("pattern_inpaint", "fill the hole in a periodic tiling", kAll, 4, 2, 1, PatternInpaint),
      Def("symmetry_complete", "restore the symmetric pattern", kAll, 4, 1, 1, SymmetryComplete),
      Def("draw_border", "paint the outer frame", kAll, 3, 2, 1, DrawBorder),
      Def("grid_intersection", "mark where the lines cross", kAll, 3, 2, 1, GridIntersection),
      Def("boolean_halves", "combine the two halves cell by cell", kIn, 3, 2, 1, BooleanHalves,
          HalvesFeasible),
      Def("colour_histogram", "one bar per colour, as long as its count, longest first", kIn, 3, 2,
          1, ColourHistogram),
  };
}

}  // namespace arc::gen
