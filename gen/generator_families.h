// Internal to the task generator (gen/generator.{h,cc}): the family table entry and the drawing
// helpers that the family files (generator_families_*.cc) share. Not part of the public API.
//
// A family function draws its rule's parameters from `rng` once, then hands its per-pair rule to
// CollectPairs (most families: the pair's sides are drawn for it) or Collect (families whose pairs
// draw something before their sides, or sides of another kind); it returns nullopt when a draw came
// out degenerate, and the driver redraws from the same stream. Everything here is a pure function
// of its arguments and the Rng state.
#ifndef ARC_GEN_GENERATOR_FAMILIES_H_
#define ARC_GEN_GENERATOR_FAMILIES_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "core/data/grid.h"
#include "core/data/rng.h"
#include "gen/generator.h"

namespace arc::gen {

inline constexpr uint8_t kBg = 0;

using FamilyFn = std::optional<Task> (*)(Rng& rng, const Difficulty& d);
// Extra feasibility beyond FamilyInfo's needs_* knobs: OK, or FAILED_PRECONDITION whose message
// completes "<family> needs ...", e.g. "a square n*n (n >= 2) in [min_side, max_side], got 10..10".
using FeasibleFn = absl::Status (*)(const Difficulty& d);

struct FamilyDef {
  FamilyInfo info;
  FamilyFn make = nullptr;
  FeasibleFn feasible = nullptr;  // nullptr: the needs_* knobs are enough
};

// A table entry (see FamilyInfo for the fields).
FamilyDef Def(const char* name, const char* rule, SizePromise sizes, int needs_max_side,
              int needs_max_colours, int needs_max_objects, FamilyFn make,
              FeasibleFn feasible = nullptr);

// The families of each file, in a fixed order.
std::vector<FamilyDef> GridFamilies();    // generator_families_grid.cc
std::vector<FamilyDef> ObjectFamilies();  // generator_families_object.cc

// ---------------------------------------------------------------------------------------------
// Draws.

// Uniform in [lo, hi], both inclusive.
int Uniform(Rng& rng, int lo, int hi);
bool Chance(Rng& rng, double p);
template <typename T>
const T& Choose(Rng& rng, const std::vector<T>& v) {
  return v[static_cast<size_t>(rng.Below(v.size()))];
}
// `k` distinct colours from 1..9 minus `exclude`, in random order. Requires enough colours.
std::vector<uint8_t> DistinctColours(Rng& rng, int k, const std::vector<uint8_t>& exclude = {});
// 4..6: the number of pairs (3-5 demonstrations and the test pair).
int NumPairs(Rng& rng);

// A side in [max(d.min_side, lo), min(d.max_side, hi)]; nullopt when that range is empty.
std::optional<int> DrawSide(Rng& rng, const Difficulty& d, int lo = 1, int hi = kArcMaxSide);
// The sides s with k*s in [d.min_side, d.max_side] (and s >= 1), as {lo, hi}; lo > hi if none.
std::pair<int, int> MultipleRange(const Difficulty& d, int k);

// ---------------------------------------------------------------------------------------------
// Grids and shapes.

// Each cell is background with probability 1 - density, else a colour drawn from `palette`.
Grid RandomGrid(Rng& rng, int rows, int cols, const std::vector<uint8_t>& palette, double density);
// A 4-connected random shape of `cells` cells inside an h x w box, as a 0/1 mask. The shape is
// grown from a random cell; `cells` is clamped to h*w.
Grid RandomShape(Rng& rng, int h, int w, int cells);
// The grid cropped to the bounding box of its non-background cells (a 1x1 background grid when
// there are none).
Grid Trim(const Grid& g);
// True when every cell of the box (r, c, h, w) grown by `gap` cells on each side (clipped to the
// canvas) is background, and the box itself lies inside the canvas.
bool IsFree(const Grid& canvas, int r, int c, int h, int w, int gap);
// A random free position (top-left) for an h x w box, trying `tries` positions.
std::optional<std::pair<int, int>> FindSpot(Rng& rng, const Grid& canvas, int h, int w, int gap,
                                            int tries = 40);
// Writes `colour` where `mask` is non-zero, with the mask's top-left at (r, c).
void StampMask(Grid& canvas, const Grid& mask, int r, int c, uint8_t colour);
// Copies the non-background cells of `src` with its top-left at (r, c).
void StampGrid(Grid& canvas, const Grid& src, int r, int c);
Grid Crop(const Grid& g, int r, int c, int h, int w);
int CountNonBg(const Grid& g);
int CountColour(const Grid& g, uint8_t colour);
// The number of distinct non-background colours.
int NumColours(const Grid& g);
// 1 where a background cell cannot reach the border through 4-connected background cells.
Grid EnclosedMask(const Grid& g);
// The number of 4-connected background regions that do not touch the border.
int CountEnclosedRegions(const Grid& g);
// 1 on the 4-connected region of cells with the colour of (r, c) that contains (r, c).
Grid RegionMask(const Grid& g, int r, int c);
// A grid of g's size whose cell (i, j) is f(i, j, g.at(i, j)).
Grid MapCells(const Grid& g, const std::function<uint8_t(int i, int j, uint8_t v)>& f);

// ---------------------------------------------------------------------------------------------
// Assembly.

using ExampleFn = std::function<std::optional<Example>(Rng& rng)>;
// Draws `num_pairs` examples (the last becomes the test pair), redrawing a pair (up to a bounded
// number of times) when `make` gives nullopt, output == input, or its input repeats an earlier
// one. nullopt if some pair never came out right.
std::optional<Task> Collect(Rng& rng, int num_pairs, const ExampleFn& make);

using PairFn = std::function<std::optional<Example>(Rng& rng, int rows, int cols)>;
// The scaffolding the families share: Collect over NumPairs(rng) pairs, each drawing the sides of
// its grid, rows = DrawSide(rng, d, min_rows) then cols = DrawSide(rng, d, min_cols), and handing
// them to `make` (a pair whose side range is empty is redrawn like one `make` rejects).
std::optional<Task> CollectPairs(Rng& rng, const Difficulty& d, int min_rows, int min_cols,
                                 const PairFn& make);

}  // namespace arc::gen

#endif  // ARC_GEN_GENERATOR_FAMILIES_H_
