// Object families: shapes placed apart on a background, then selected, recoloured, cropped,
// outlined, connected, counted or copied. Objects are 4-connected and placed at least one cell
// apart (no 8-neighbour contact) unless a family says otherwise, so each object is exactly one
// connected component of the input under 4- or 8-connectivity.
#include <algorithm>
#include <array>
#include <functional>
#include <utility>

#include "gen/generator_families.h"

namespace arc::gen {
namespace {

struct Placement {
  int r = 0;
  int c = 0;
  Grid mask;  // 0/1, trimmed to the shape
};

// A random trimmed shape of exactly `cells` cells (1..9) within a 3x3 box.
Grid SmallShape(Rng& rng, int cells) {
  const int box = std::min(cells, 3);
  return Trim(RandomShape(rng, box, box, cells));
}

// Places each mask at a random spot at least `gap` cells from everything already on `canvas`,
// stamping colours[i]; masks that find no spot are skipped (the result lists the placed ones, in
// order, with their index into `masks` in `placed_index`).
std::vector<Placement> PlaceAll(Rng& rng, Grid& canvas, const std::vector<Grid>& masks,
                                const std::vector<uint8_t>& colours, int gap,
                                std::vector<int>* placed_index = nullptr) {
  std::vector<Placement> out;
  for (size_t i = 0; i < masks.size(); ++i) {
    const std::optional<std::pair<int, int>> spot =
        FindSpot(rng, canvas, masks[i].rows(), masks[i].cols(), gap);
    if (!spot) continue;
    StampMask(canvas, masks[i], spot->first, spot->second, colours[i]);
    out.push_back({spot->first, spot->second, masks[i]});
    if (placed_index != nullptr) placed_index->push_back(static_cast<int>(i));
  }
  return out;
}

// `n` small shapes of min_cells..max_cells cells, each in a colour from `palette`, placed on
// `canvas` at least `gap` cells apart (PlaceAll: those that find no spot are skipped).
std::vector<Placement> ScatterShapes(Rng& rng, Grid& canvas, int n, int min_cells, int max_cells,
                                     const std::vector<uint8_t>& palette, int gap) {
  std::vector<Grid> masks;
  std::vector<uint8_t> colours;
  for (int i = 0; i < n; ++i) {
    masks.push_back(SmallShape(rng, Uniform(rng, min_cells, max_cells)));
    colours.push_back(Choose(rng, palette));
  }
  return PlaceAll(rng, canvas, masks, colours, gap);
}

int ObjectCount(Rng& rng, const Difficulty& d, int at_least = 1) {
  return Uniform(rng, std::min(at_least, d.max_objects), d.max_objects);
}

// 1..min(max_colours - reserved, cap) colours, none of them in `exclude`.
std::vector<uint8_t> ObjectPalette(Rng& rng, const Difficulty& d, int reserved, int cap,
                                   const std::vector<uint8_t>& exclude = {}) {
  const int hi = std::max(1, std::min(cap, d.max_colours - reserved));
  return DistinctColours(rng, Uniform(rng, 1, hi), exclude);
}

void OutlineBox(Grid& g, int r, int c, int h, int w, uint8_t colour) {
  for (int i = 0; i < h; ++i) {
    for (int j = 0; j < w; ++j) {
      if (i == 0 || j == 0 || i == h - 1 || j == w - 1) g.set(r + i, c + j, colour);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Enclosure.

// Draws `n` rectangle outlines with sides 3..7 (at most the canvas's), at least one cell apart,
// each in a colour from `palette`, and calls `edit` on each one just drawn (outlines that find no
// spot are skipped).
void DrawOutlines(Rng& r, Grid& in, int n, const std::vector<uint8_t>& palette,
                  const std::function<void(int r0, int c0, int h, int w, uint8_t colour)>& edit) {
  for (int i = 0; i < n; ++i) {
    const int h = Uniform(r, 3, std::min(in.rows(), 7)), w = Uniform(r, 3, std::min(in.cols(), 7));
    const auto spot = FindSpot(r, in, h, w, 1);
    if (!spot) continue;
    const uint8_t colour = Choose(r, palette);
    OutlineBox(in, spot->first, spot->second, h, w, colour);
    edit(spot->first, spot->second, h, w, colour);
  }
}

// Rectangle outlines, some broken open; background cells they enclose take the fill colour.
std::optional<Task> FillEnclosed(Rng& rng, const Difficulty& d) {
  const uint8_t fill = static_cast<uint8_t>(Uniform(rng, 1, 9));
  const std::vector<uint8_t> palette = ObjectPalette(rng, d, 1, 3, {fill});
  return CollectPairs(rng, d, 3, 3, [&](Rng& r, int rows, int cols) -> std::optional<Example> {
    const int n = ObjectCount(r, d);
    Grid in(rows, cols);
    DrawOutlines(r, in, n, palette, [&](int r0, int c0, int h, int w, uint8_t) {
      if (n > 1 && Chance(r, 0.3)) {  // a gap in one side (never a corner) opens it
        const bool horizontal_side = Chance(r, 0.5);
        const int along = Uniform(r, 1, (horizontal_side ? w : h) - 2);
        const int far = Chance(r, 0.5) ? 1 : 0;
        if (horizontal_side) {
          in.set(r0 + far * (h - 1), c0 + along, kBg);
        } else {
          in.set(r0 + along, c0 + far * (w - 1), kBg);
        }
      }
    });
    const Grid enclosed = EnclosedMask(in);
    if (CountNonBg(enclosed) == 0) return std::nullopt;
    return Example{in, MapCells(in, [&](int i, int j, uint8_t v) {
                     return enclosed.at(i, j) != 0 ? fill : v;
                   })};
  });
}

// Rectangle outlines (closed, open, or split in two by a wall); the output is a bar as long as
// the number of enclosed background regions.
std::optional<Task> CountHolesBar(Rng& rng, const Difficulty& d) {
  const uint8_t bar = static_cast<uint8_t>(Uniform(rng, 1, 9));
  const std::vector<uint8_t> palette = ObjectPalette(rng, d, 0, 3);
  return CollectPairs(rng, d, 3, 3, [&](Rng& r, int rows, int cols) -> std::optional<Example> {
    const int n = ObjectCount(r, d);
    Grid in(rows, cols);
    DrawOutlines(r, in, n, palette, [&](int r0, int c0, int h, int w, uint8_t colour) {
      const double kind = r.UniformDouble();
      if (kind < 0.25) {
        in.set(r0, c0 + Uniform(r, 1, w - 2), kBg);  // opened at the top
      } else if (kind < 0.5 && w >= 5) {
        const int wall = c0 + Uniform(r, 2, w - 3);  // split in two
        for (int k = 1; k < h - 1; ++k) in.set(r0 + k, wall, colour);
      }
    });
    const int holes = CountEnclosedRegions(in);
    if (holes == 0 || holes > d.max_side) return std::nullopt;
    return Example{in, Grid(1, holes, bar)};
  });
}

// Walls and one seed pixel; the seed's background region takes the seed's colour.
std::optional<Task> FloodFillSeed(Rng& rng, const Difficulty& d) {
  const uint8_t wall = static_cast<uint8_t>(Uniform(rng, 1, 9));
  return CollectPairs(rng, d, 3, 3, [&](Rng& r, int rows, int cols) -> std::optional<Example> {
    Grid in(rows, cols);
    const int walls = Uniform(r, 1, 3);
    for (int k = 0; k < walls; ++k) {
      const bool horizontal = Chance(r, 0.5);
      const int len = horizontal ? cols : rows;
      const int at = Uniform(r, 0, (horizontal ? rows : cols) - 1);
      const int from = Chance(r, 0.5) ? 0 : Uniform(r, 0, len / 2);
      const int to = Chance(r, 0.5) ? len - 1 : Uniform(r, len / 2, len - 1);
      for (int i = from; i <= to; ++i) {
        if (horizontal) {
          in.set(at, i, wall);
        } else {
          in.set(i, at, wall);
        }
      }
    }
    const int sr = Uniform(r, 0, rows - 1), sc = Uniform(r, 0, cols - 1);
    if (in.at(sr, sc) != kBg) return std::nullopt;
    const Grid region = RegionMask(in, sr, sc);
    const int size = CountNonBg(region);
    const int background = CountColour(in, kBg);
    if (size < 2 || size == background) return std::nullopt;  // the walls must split something
    const uint8_t seed = DistinctColours(r, 1, {wall})[0];
    in.set(sr, sc, seed);
    return Example{
        in, MapCells(in, [&](int i, int j, uint8_t v) { return region.at(i, j) != 0 ? seed : v; })};
  });
}

// ---------------------------------------------------------------------------------------------
// Selection by size.

// 2..max_objects objects of distinct sizes 1..8.
struct SizedObjects {
  Grid canvas;
  std::vector<Placement> placed;
  std::vector<int> sizes;  // of the placed objects
};

std::optional<SizedObjects> DrawSizedObjects(Rng& r, const Difficulty& d, int rows, int cols,
                                             const std::vector<uint8_t>& palette) {
  const int n = std::min(8, ObjectCount(r, d, 2));
  std::vector<int> sizes = r.Permutation(8);
  sizes.resize(n);
  std::vector<Grid> masks;
  std::vector<uint8_t> colours;
  for (int& s : sizes) {
    ++s;
    masks.push_back(SmallShape(r, s));
    colours.push_back(Choose(r, palette));
  }
  SizedObjects objects{Grid(rows, cols), {}, {}};
  std::vector<int> index;
  objects.placed = PlaceAll(r, objects.canvas, masks, colours, 1, &index);
  if (objects.placed.size() < 2) return std::nullopt;
  for (int i : index) objects.sizes.push_back(sizes[i]);
  return objects;
}

size_t Extreme(const std::vector<int>& sizes, bool largest) {
  return static_cast<size_t>((largest ? std::max_element(sizes.begin(), sizes.end())
                                      : std::min_element(sizes.begin(), sizes.end())) -
                             sizes.begin());
}

// Pairs of sides >= 3 holding 2..max_objects objects of distinct sizes (colours from `palette`),
// each the example `make` builds from the canvas and its largest (or smallest) object.
std::optional<Task> CollectBySize(
    Rng& rng, const Difficulty& d, const std::vector<uint8_t>& palette, bool largest,
    const std::function<Example(const Grid& canvas, const Placement& extreme)>& make) {
  return CollectPairs(rng, d, 3, 3, [&](Rng& r, int rows, int cols) -> std::optional<Example> {
    std::optional<SizedObjects> objects = DrawSizedObjects(r, d, rows, cols, palette);
    if (!objects) return std::nullopt;
    return make(objects->canvas, objects->placed[Extreme(objects->sizes, largest)]);
  });
}

// The largest (or smallest) object takes a new colour.
std::optional<Task> RecolourExtreme(Rng& rng, const Difficulty& d) {
  const bool largest = Chance(rng, 0.5);
  const std::vector<uint8_t> colours = DistinctColours(rng, 2);
  return CollectBySize(rng, d, {colours[0]}, largest, [&](const Grid& in, const Placement& p) {
    Grid out = in;
    StampMask(out, p.mask, p.r, p.c, colours[1]);
    return Example{in, out};
  });
}

// Only the largest object stays.
std::optional<Task> KeepLargest(Rng& rng, const Difficulty& d) {
  const std::vector<uint8_t> palette = ObjectPalette(rng, d, 0, 4);
  return CollectBySize(rng, d, palette, /*largest=*/true, [&](const Grid& in, const Placement& p) {
    // Stamp the shape, not its box: a smaller object may sit in a concave corner of the box.
    int cell = 0;
    while (p.mask.cells()[cell] == 0) ++cell;
    const uint8_t colour = in.at(p.r + cell / p.mask.cols(), p.c + cell % p.mask.cols());
    Grid out(in.rows(), in.cols());
    StampMask(out, p.mask, p.r, p.c, colour);
    return Example{in, out};
  });
}

// The output is the largest object's bounding box (which may show a corner of a smaller object
// tucked into a concave side; the checker uses the same definition).
std::optional<Task> CropObject(Rng& rng, const Difficulty& d) {
  const std::vector<uint8_t> palette = ObjectPalette(rng, d, 0, 4);
  return CollectBySize(rng, d, palette, /*largest=*/true, [&](const Grid& in, const Placement& p) {
    return Example{in, Crop(in, p.r, p.c, p.mask.rows(), p.mask.cols())};
  });
}

// Objects of sizes 1..m (one input colour) are recoloured by size.
std::optional<Task> RecolourBySize(Rng& rng, const Difficulty& d) {
  const uint8_t base = static_cast<uint8_t>(Uniform(rng, 1, 9));
  const int m = Uniform(rng, 2, std::max(2, std::min(3, d.max_colours)));
  const std::vector<uint8_t> by_size = DistinctColours(rng, m, {base});
  return CollectPairs(rng, d, 3, 3, [&](Rng& r, int rows, int cols) -> std::optional<Example> {
    const int n = ObjectCount(r, d, 2);
    std::vector<Grid> masks;
    std::vector<int> sizes;
    for (int i = 0; i < n; ++i) {
      sizes.push_back(Uniform(r, 1, m));
      masks.push_back(SmallShape(r, sizes.back()));
    }
    Grid in(rows, cols);
    std::vector<int> index;
    const std::vector<Placement> placed =
        PlaceAll(r, in, masks, std::vector<uint8_t>(masks.size(), base), 1, &index);
    if (placed.empty()) return std::nullopt;
    Grid out = in;
    for (size_t i = 0; i < placed.size(); ++i) {
      StampMask(out, placed[i].mask, placed[i].r, placed[i].c, by_size[sizes[index[i]] - 1]);
    }
    return Example{in, out};
  });
}

// ---------------------------------------------------------------------------------------------
// Whole-object edits.

// Scattered objects; the output is their common bounding box.
std::optional<Task> CropBbox(Rng& rng, const Difficulty& d) {
  const std::vector<uint8_t> palette = ObjectPalette(rng, d, 0, 4);
  return CollectPairs(rng, d, 3, 3, [&](Rng& r, int rows, int cols) -> std::optional<Example> {
    Grid in(rows, cols);
    if (ScatterShapes(r, in, ObjectCount(r, d), 1, 5, palette, 0).empty()) return std::nullopt;
    return Example{in, Trim(in)};
  });
}

// Isolated pixels (no non-background 8-neighbour) are noise and vanish; objects have >= 3 cells.
std::optional<Task> Denoise(Rng& rng, const Difficulty& d) {
  const std::vector<uint8_t> palette = ObjectPalette(rng, d, 0, 4);
  return CollectPairs(rng, d, 4, 4, [&](Rng& r, int rows, int cols) -> std::optional<Example> {
    Grid clean(rows, cols);
    ScatterShapes(r, clean, ObjectCount(r, d), 3, 7, palette, 1);
    Grid in = clean;
    const int noise = Uniform(r, 1, std::max(1, rows * cols / 15));
    for (int k = 0; k < noise; ++k) {
      const auto spot = FindSpot(r, in, 1, 1, 1);
      if (spot) in.set(spot->first, spot->second, Choose(r, palette));
    }
    return Example{in, clean};
  });
}

// Solid rectangles lose their interior (cells whose four neighbours are all in the rectangle).
std::optional<Task> HollowObjects(Rng& rng, const Difficulty& d) {
  const std::vector<uint8_t> palette = ObjectPalette(rng, d, 0, 4);
  return CollectPairs(rng, d, 3, 3, [&](Rng& r, int rows, int cols) -> std::optional<Example> {
    const int n = ObjectCount(r, d);
    Grid in(rows, cols), out(rows, cols);
    for (int i = 0; i < n; ++i) {
      const int lo = i == 0 ? 3 : 1;  // the first one has an interior
      const int h = Uniform(r, lo, std::min(rows, 6)), w = Uniform(r, lo, std::min(cols, 6));
      const auto spot = FindSpot(r, in, h, w, 1);
      if (!spot) continue;
      const uint8_t colour = Choose(r, palette);
      StampMask(in, Grid(h, w, 1), spot->first, spot->second, colour);
      OutlineBox(out, spot->first, spot->second, h, w, colour);
    }
    return Example{in, out};
  });
}

// Every background cell touching an object (8-neighbourhood) takes the halo colour.
std::optional<Task> OutlineObjects(Rng& rng, const Difficulty& d) {
  const uint8_t halo = static_cast<uint8_t>(Uniform(rng, 1, 9));
  const std::vector<uint8_t> palette = ObjectPalette(rng, d, 1, 3, {halo});
  return CollectPairs(rng, d, 3, 3, [&](Rng& r, int rows, int cols) -> std::optional<Example> {
    Grid in(rows, cols);
    if (ScatterShapes(r, in, ObjectCount(r, d), 1, 5, palette, 1).empty()) return std::nullopt;
    return Example{in, MapCells(in, [&](int i, int j, uint8_t v) {
                     bool touches = false;
                     for (int di = -1; di <= 1; ++di) {
                       for (int dj = -1; dj <= 1; ++dj) {
                         const int a = i + di, b = j + dj;
                         touches |= a >= 0 && b >= 0 && a < rows && b < cols && in.at(a, b) != kBg;
                       }
                     }
                     return v == kBg && touches ? halo : v;
                   })};
  });
}

// Objects of one colour take the colour of the marker pixel in a fixed corner.
std::optional<Task> RecolourByMarker(Rng& rng, const Difficulty& d) {
  const int corner = Uniform(rng, 0, 3);
  return CollectPairs(rng, d, 3, 3, [&](Rng& r, int rows, int cols) -> std::optional<Example> {
    const std::vector<uint8_t> colours = DistinctColours(r, 2);
    const uint8_t marker = colours[0], base = colours[1];
    Grid in(rows, cols);
    in.set(corner / 2 == 0 ? 0 : rows - 1, corner % 2 == 0 ? 0 : cols - 1, marker);
    const int n = ObjectCount(r, d);
    std::vector<Grid> masks;
    for (int i = 0; i < n; ++i) masks.push_back(SmallShape(r, Uniform(r, 1, 5)));
    if (PlaceAll(r, in, masks, std::vector<uint8_t>(masks.size(), base), 1).empty()) {
      return std::nullopt;
    }
    return Example{in, MapCells(in, [&](int, int, uint8_t v) { return v == base ? marker : v; })};
  });
}

// A template (trimmed, 1-2 colours) and marker pixels; the template is stamped at every marker,
// its first cell in row-major order landing on the marker.
std::optional<Task> CopyToMarkers(Rng& rng, const Difficulty& d) {
  const uint8_t marker = static_cast<uint8_t>(Uniform(rng, 1, 9));
  const std::vector<uint8_t> palette = ObjectPalette(rng, d, 1, 2, {marker});
  return CollectPairs(rng, d, 5, 5, [&](Rng& r, int rows, int cols) -> std::optional<Example> {
    const int th = Uniform(r, 2, 3), tw = Uniform(r, 2, 3);
    const Grid mask = Trim(RandomShape(r, th, tw, Uniform(r, 2, th * tw)));
    Grid tmpl(mask.rows(), mask.cols());
    for (int i = 0; i < mask.rows(); ++i) {
      for (int j = 0; j < mask.cols(); ++j) {
        if (mask.at(i, j) != 0) tmpl.set(i, j, Choose(r, palette));
      }
    }
    int ar = 0, ac = 0;
    while (tmpl.at(ar, ac) == kBg) {
      if (++ac == tmpl.cols()) {
        ac = 0;
        ++ar;
      }
    }
    Grid in(rows, cols), out(rows, cols);
    const auto home = FindSpot(r, out, tmpl.rows(), tmpl.cols(), 1);
    if (!home) return std::nullopt;
    StampGrid(in, tmpl, home->first, home->second);
    StampGrid(out, tmpl, home->first, home->second);
    const int copies = Uniform(r, 1, std::max(1, d.max_objects - 1));
    int placed = 0;
    for (int k = 0; k < copies; ++k) {
      const auto spot = FindSpot(r, out, tmpl.rows(), tmpl.cols(), 1);
      if (!spot) continue;
      in.set(spot->first + ar, spot->second + ac, marker);
      StampGrid(out, tmpl, spot->first, spot->second);
      ++placed;
    }
    if (placed == 0) return std::nullopt;
    return Example{in, out};
  });
}

// ---------------------------------------------------------------------------------------------
// Lines and rays.

// Draws one figure of `colour`: the figure on `out`, its markers on `in` (or nothing where it finds
// no room).
using FigureFn = std::function<void(Rng& r, uint8_t colour, Grid& in, Grid& out)>;

// Pairs of sides >= 3 with one figure for each of 1..min(max_objects, max_colours) distinct
// colours; a pair where no figure found room is redrawn.
std::optional<Task> CollectFigures(Rng& rng, const Difficulty& d, const FigureFn& draw) {
  return CollectPairs(rng, d, 3, 3, [&](Rng& r, int rows, int cols) -> std::optional<Example> {
    const int n = Uniform(r, 1, std::min(d.max_objects, d.max_colours));
    const std::vector<uint8_t> colours = DistinctColours(r, n);
    Grid in(rows, cols), out(rows, cols);
    for (uint8_t colour : colours) draw(r, colour, in, out);
    if (CountNonBg(in) == 0) return std::nullopt;
    return Example{in, out};
  });
}

// Pairs of same-coloured pixels in a row or column are joined by a line of their colour.
std::optional<Task> LinesBetweenPoints(Rng& rng, const Difficulty& d) {
  return CollectFigures(rng, d, [&](Rng& r, uint8_t colour, Grid& in, Grid& out) {
    const int rows = in.rows(), cols = in.cols();
    const bool horizontal = Chance(r, 0.5);
    const int len = horizontal ? cols : rows;
    const int at = Uniform(r, 0, (horizontal ? rows : cols) - 1);
    const int a = Uniform(r, 0, len - 3), b = Uniform(r, a + 2, len - 1);
    const int r0 = horizontal ? at : a, c0 = horizontal ? a : at;
    const int h = horizontal ? 1 : b - a + 1, w = horizontal ? b - a + 1 : 1;
    if (!IsFree(out, r0, c0, h, w, 1)) return;
    StampMask(out, Grid(h, w, 1), r0, c0, colour);
    in.set(r0, c0, colour);
    in.set(r0 + h - 1, c0 + w - 1, colour);
  });
}

// Two pixels of one colour at opposite corners of a box (>= 3x3) become the box's outline.
std::optional<Task> CornersToBox(Rng& rng, const Difficulty& d) {
  return CollectFigures(rng, d, [&](Rng& r, uint8_t colour, Grid& in, Grid& out) {
    const int h = Uniform(r, 3, std::min(in.rows(), 8)), w = Uniform(r, 3, std::min(in.cols(), 8));
    const auto spot = FindSpot(r, out, h, w, 1);
    if (!spot) return;
    const auto [r0, c0] = *spot;
    OutlineBox(out, r0, c0, h, w, colour);
    if (Chance(r, 0.5)) {
      in.set(r0, c0, colour);
      in.set(r0 + h - 1, c0 + w - 1, colour);
    } else {
      in.set(r0, c0 + w - 1, colour);
      in.set(r0 + h - 1, c0, colour);
    }
  });
}

constexpr std::array<std::pair<int, int>, 4> kOrthogonal = {{{1, 0}, {-1, 0}, {0, 1}, {0, -1}}};
constexpr std::array<std::pair<int, int>, 4> kDiagonal = {{{1, 1}, {1, -1}, {-1, 1}, {-1, -1}}};

// Pixels shoot a ray of their colour in a fixed direction to the edge; rays never cross.
std::optional<Task> RayTask(Rng& rng, const Difficulty& d, std::pair<int, int> dir) {
  const std::vector<uint8_t> palette = ObjectPalette(rng, d, 0, 4);
  return CollectPairs(rng, d, 3, 3, [&](Rng& r, int rows, int cols) -> std::optional<Example> {
    const int n = ObjectCount(r, d);
    Grid in(rows, cols), out(rows, cols);
    for (int k = 0; k < n; ++k) {
      const int pr = Uniform(r, 0, rows - 1), pc = Uniform(r, 0, cols - 1);
      bool free = out.at(pr, pc) == kBg;
      for (int i = pr + dir.first, j = pc + dir.second;
           free && i >= 0 && j >= 0 && i < rows && j < cols; i += dir.first, j += dir.second) {
        free = out.at(i, j) == kBg;
      }
      if (!free) continue;
      const uint8_t colour = Choose(r, palette);
      in.set(pr, pc, colour);
      for (int i = pr, j = pc; i >= 0 && j >= 0 && i < rows && j < cols;
           i += dir.first, j += dir.second) {
        out.set(i, j, colour);
      }
    }
    return Example{in, out};
  });
}

std::optional<Task> ConnectToEdge(Rng& rng, const Difficulty& d) {
  const auto dir = kOrthogonal[static_cast<size_t>(rng.Below(kOrthogonal.size()))];
  return RayTask(rng, d, dir);
}

std::optional<Task> DiagonalRays(Rng& rng, const Difficulty& d) {
  const auto dir = kDiagonal[static_cast<size_t>(rng.Below(kDiagonal.size()))];
  return RayTask(rng, d, dir);
}

// Pixels (at least 3 cells apart) get a fixed stencil (plus, x or ring) drawn around them.
std::optional<Task> DrawCross(Rng& rng, const Difficulty& d) {
  const int stencil = Uniform(rng, 0, 2);  // 0: plus, 1: x, 2: ring
  const uint8_t paint = static_cast<uint8_t>(Uniform(rng, 1, 9));
  const std::vector<uint8_t> palette = ObjectPalette(rng, d, 1, 3, {paint});
  return CollectPairs(rng, d, 3, 3, [&](Rng& r, int rows, int cols) -> std::optional<Example> {
    const int n = ObjectCount(r, d);
    Grid in(rows, cols);
    std::vector<Grid> dots(n, Grid(1, 1, 1));
    std::vector<uint8_t> colours;
    for (int i = 0; i < n; ++i) colours.push_back(Choose(r, palette));
    const std::vector<Placement> placed = PlaceAll(r, in, dots, colours, 2);
    if (placed.empty()) return std::nullopt;
    Grid out = in;
    for (const Placement& p : placed) {
      for (int di = -1; di <= 1; ++di) {
        for (int dj = -1; dj <= 1; ++dj) {
          const bool orth = (di == 0) != (dj == 0), diag = di != 0 && dj != 0;
          const bool in_stencil = stencil == 0 ? orth : stencil == 1 ? diag : (orth || diag);
          const int a = p.r + di, b = p.c + dj;
          if (in_stencil && a >= 0 && b >= 0 && a < rows && b < cols) out.set(a, b, paint);
        }
      }
    }
    return Example{in, out};
  });
}

// ---------------------------------------------------------------------------------------------
// Counting.

// The output is a bar as long as the number of objects.
std::optional<Task> CountObjectsBar(Rng& rng, const Difficulty& d) {
  const uint8_t bar = static_cast<uint8_t>(Uniform(rng, 1, 9));
  const std::vector<uint8_t> palette = ObjectPalette(rng, d, 0, 4);
  return CollectPairs(rng, d, 3, 3, [&](Rng& r, int rows, int cols) -> std::optional<Example> {
    const int n = Uniform(r, 1, std::min(d.max_objects, d.max_side));
    Grid in(rows, cols);
    const size_t placed = ScatterShapes(r, in, n, 1, 4, palette, 1).size();
    if (placed == 0) return std::nullopt;
    return Example{in, Grid(1, static_cast<int>(placed), bar)};
  });
}

}  // namespace

std::vector<FamilyDef> ObjectFamilies() {
  constexpr SizePromise kAll = SizePromise::kAllGrids;
  constexpr SizePromise kIn = SizePromise::kInputs;
  return {
      Def("fill_enclosed", "fill the background enclosed by outlines", kAll, 4, 2, 1, FillEnclosed),
      Def("flood_fill_seed", "flood the seed's region with its colour", kAll, 3, 2, 1,
          FloodFillSeed),
      Def("recolour_by_size", "recolour each object by its size", kAll, 3, 2, 1, RecolourBySize),
      Def("recolour_extreme", "recolour the largest (or smallest) object", kAll, 3, 2, 2,
          RecolourExtreme),
      Def("keep_largest", "keep only the largest object", kAll, 3, 1, 2, KeepLargest),
      Def("crop_object", "crop to the largest object", kIn, 3, 1, 2, CropObject),
      Def("crop_bbox", "crop to the bounding box of everything", kIn, 3, 1, 1, CropBbox),
      Def("denoise", "remove isolated pixels", kAll, 4, 1, 1, Denoise),
      Def("hollow_objects", "empty the interior of solid rectangles", kAll, 4, 1, 1, HollowObjects),
      Def("outline_objects", "surround every object with a halo", kAll, 3, 2, 1, OutlineObjects),
      Def("recolour_by_marker", "objects take the colour of the corner marker", kAll, 3, 2, 1,
          RecolourByMarker),
      Def("copy_to_markers", "stamp the template at every marker", kAll, 5, 2, 2, CopyToMarkers),
      Def("lines_between_points", "join same-coloured pixels in a row or column", kAll, 3, 1, 1,
          LinesBetweenPoints),
      Def("corners_to_box", "draw the box whose opposite corners are marked", kAll, 3, 1, 1,
          CornersToBox),
      Def("connect_to_edge", "extend every pixel to the edge in one direction", kAll, 3, 1, 1,
          ConnectToEdge),
      Def("diagonal_rays", "extend every pixel diagonally to the edge", kAll, 3, 1, 1,
          DiagonalRays),
      Def("draw_cross", "draw a stencil around every pixel", kAll, 3, 2, 1, DrawCross),
      Def("count_objects_bar", "a bar as long as the number of objects", kIn, 3, 1, 1,
          CountObjectsBar),
      Def("count_holes_bar", "a bar as long as the number of enclosed holes", kIn, 4, 1, 1,
          CountHolesBar),
  };
}

}  // namespace arc::gen
