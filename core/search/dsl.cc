#include "core/search/dsl.h"

#include <algorithm>
#include <array>
#include <map>
#include <numeric>
#include <utility>

#include "absl/strings/str_cat.h"

namespace arc::search {
namespace {

// Images that grow (tiling, scaling, outer products) stop here; ARC grids are at most 30 a side and
// the search never needs intermediate images much larger than that.
constexpr int kMaxSide = 60;

bool TooBig(int w, int h) { return w <= 0 || h <= 0 || w > kMaxSide || h > kMaxSide; }

Image Blank(int w, int h) { return Image(0, 0, w, h, 0); }

int CountNonzero(const Image& img) {
  int n = 0;
  for (uint8_t c : img.cells) n += c != 0;
  return n;
}

int NumColours(const Image& img) { return __builtin_popcount(ColourMask(img) & ~1u); }

// The most (or least) frequent non-zero colour, -1 when there is none; ties go to the lower colour.
int FrequentColour(const Image& img, bool most) {
  const std::vector<int> counts = ColourCounts(img);
  int best = -1;
  for (int c = 1; c < kNumColours; ++c) {
    if (counts[c] == 0) continue;
    if (best == -1 || (most ? counts[c] > counts[best] : counts[c] < counts[best])) best = c;
  }
  return best;
}

// Sub-image of rows [r0, r0+h) and columns [c0, c0+w), keeping the position in the parent frame.
Image SubImage(const Image& img, int r0, int c0, int h, int w) {
  Image out(img.x + c0, img.y + r0, w, h);
  for (int r = 0; r < h; ++r)
    for (int c = 0; c < w; ++c) out.at(r, c) = img.at(r0 + r, c0 + c);
  return out;
}

Image CropToContent(const Image& img) {
  int r0 = img.h, r1 = -1, c0 = img.w, c1 = -1;
  for (int r = 0; r < img.h; ++r)
    for (int c = 0; c < img.w; ++c)
      if (img.at(r, c) != 0) {
        r0 = std::min(r0, r);
        r1 = std::max(r1, r);
        c0 = std::min(c0, c);
        c1 = std::max(c1, c);
      }
  if (r1 < 0) return Image();
  return SubImage(img, r0, c0, r1 - r0 + 1, c1 - c0 + 1);
}

// out(r, c) = img(src(r, c)) over a new w x h image at the origin.
template <typename F>
Image Remap(const Image& img, int w, int h, F src) {
  Image out = Blank(w, h);
  for (int r = 0; r < h; ++r)
    for (int c = 0; c < w; ++c) {
      const auto [sr, sc] = src(r, c);
      out.at(r, c) = img.at(sr, sc);
    }
  return out;
}

// The eight symmetries, index 0 = identity (the naming follows core/data/augment.h).
Image Dihedral(const Image& img, int id) {
  const int w = img.w, h = img.h;
  switch (id) {
    case 1:  // rot90: a quarter turn counter-clockwise
      return Remap(img, h, w, [&](int r, int c) { return std::pair(c, w - 1 - r); });
    case 2:
      return Remap(img, w, h, [&](int r, int c) { return std::pair(h - 1 - r, w - 1 - c); });
    case 3:  // rot270: clockwise
      return Remap(img, h, w, [&](int r, int c) { return std::pair(h - 1 - c, r); });
    case 4:  // flip_ud
      return Remap(img, w, h, [&](int r, int c) { return std::pair(h - 1 - r, c); });
    case 5:  // flip_lr
      return Remap(img, w, h, [&](int r, int c) { return std::pair(r, w - 1 - c); });
    case 6:  // transpose
      return Remap(img, h, w, [&](int r, int c) { return std::pair(c, r); });
    case 7:  // anti_transpose
      return Remap(img, h, w, [&](int r, int c) { return std::pair(h - 1 - c, w - 1 - r); });
    default:
      return ToOrigin(img);
  }
}

// Paints the non-zero cells of `src` (at its offset) onto `dst` (at its offset).
void Paint(Image& dst, const Image& src) {
  for (int r = 0; r < src.h; ++r) {
    const int dr = src.y + r - dst.y;
    if (dr < 0 || dr >= dst.h) continue;
    for (int c = 0; c < src.w; ++c) {
      const int dc = src.x + c - dst.x;
      if (dc < 0 || dc >= dst.w) continue;
      if (src.at(r, c) != 0) dst.at(dr, dc) = src.at(r, c);
    }
  }
}

// ---- colour ----

Image KeepColour(const Image& img, int colour) {
  Image out = img;
  for (uint8_t& c : out.cells) c = c == colour ? c : 0;
  return out;
}

Image EraseColour(const Image& img, int colour) {
  Image out = img;
  for (uint8_t& c : out.cells) c = c == colour ? 0 : c;
  return out;
}

Image BackgroundMask(const Image& img) {
  Image out = img;
  for (uint8_t& c : out.cells) c = c == 0 ? 1 : 0;
  return out;
}

Image OneCell(int colour) {
  if (colour < 0) return Image();
  return Image(0, 0, 1, 1, static_cast<uint8_t>(colour));
}

Image SwapTwoColours(const Image& img) {
  const uint32_t mask = ColourMask(img) & ~1u;
  if (__builtin_popcount(mask) != 2) return Image();
  const int a = __builtin_ctz(mask), b = 31 - __builtin_clz(mask);
  Image out = img;
  for (uint8_t& c : out.cells) c = c == a ? b : c == b ? a : c;
  return out;
}

// Background (0) cells take the most frequent non-zero colour.
Image FillBackground(const Image& img) {
  const int colour = FrequentColour(img, /*most=*/true);
  if (colour < 0) return Image();
  Image out = img;
  for (uint8_t& c : out.cells) c = c == 0 ? colour : c;
  return out;
}

// The most frequent colour (0 included) becomes 0: for tasks whose background is not black.
Image MajorityToBackground(const Image& img) {
  const std::vector<int> counts = ColourCounts(img);
  const int bg = static_cast<int>(std::max_element(counts.begin(), counts.end()) - counts.begin());
  if (bg == 0) return img;
  Image out = img;
  for (uint8_t& c : out.cells) c = c == bg ? 0 : c == 0 ? bg : c;
  return out;
}

// ---- geometry ----

Image DropEmptyLines(const Image& img) {
  std::vector<int> rows, cols;
  for (int r = 0; r < img.h; ++r)
    for (int c = 0; c < img.w; ++c)
      if (img.at(r, c) != 0) {
        rows.push_back(r);
        break;
      }
  for (int c = 0; c < img.w; ++c)
    for (int r = 0; r < img.h; ++r)
      if (img.at(r, c) != 0) {
        cols.push_back(c);
        break;
      }
  if (rows.empty()) return Image();
  Image out = Blank(static_cast<int>(cols.size()), static_cast<int>(rows.size()));
  for (int r = 0; r < out.h; ++r)
    for (int c = 0; c < out.w; ++c) out.at(r, c) = img.at(rows[r], cols[c]);
  return out;
}

// Consecutive equal rows (then columns) merged into one.
Image MergeRepeatedLines(const Image& img) {
  std::vector<int> rows, cols;
  for (int r = 0; r < img.h; ++r) {
    bool same = r > 0;
    for (int c = 0; same && c < img.w; ++c) same = img.at(r, c) == img.at(r - 1, c);
    if (!same) rows.push_back(r);
  }
  for (int c = 0; c < img.w; ++c) {
    bool same = c > 0;
    for (int r = 0; same && r < img.h; ++r) same = img.at(r, c) == img.at(r, c - 1);
    if (!same) cols.push_back(c);
  }
  Image out = Blank(static_cast<int>(cols.size()), static_cast<int>(rows.size()));
  for (int r = 0; r < out.h; ++r)
    for (int c = 0; c < out.w; ++c) out.at(r, c) = img.at(rows[r], cols[c]);
  return out;
}

// Halves: 0 left, 1 right, 2 top, 3 bottom. Odd sizes leave the middle line out.
Image Half(const Image& img, int id) {
  const int hw = img.w / 2, hh = img.h / 2;
  switch (id) {
    case 0:
      return hw ? SubImage(img, 0, 0, img.h, hw) : Image();
    case 1:
      return hw ? SubImage(img, 0, img.w - hw, img.h, hw) : Image();
    case 2:
      return hh ? SubImage(img, 0, 0, hh, img.w) : Image();
    default:
      return hh ? SubImage(img, img.h - hh, 0, hh, img.w) : Image();
  }
}

Image Centre(const Image& img) {
  const int h = 2 - img.h % 2, w = 2 - img.w % 2;
  if (img.h < h || img.w < w) return Image();
  return SubImage(img, (img.h - h) / 2, (img.w - w) / 2, h, w);
}

Image Shift(const Image& img, int dr, int dc) {
  Image out = Image(img.x, img.y, img.w, img.h);
  for (int r = 0; r < img.h; ++r)
    for (int c = 0; c < img.w; ++c) out.at(r, c) = img.get(r - dr, c - dc);
  return out;
}

Image Pad(const Image& img, int k) {
  if (TooBig(img.w + 2 * k, img.h + 2 * k)) return Image();
  Image out(img.x - k, img.y - k, img.w + 2 * k, img.h + 2 * k);
  for (int r = 0; r < img.h; ++r)
    for (int c = 0; c < img.w; ++c) out.at(r + k, c + k) = img.at(r, c);
  return out;
}

Image Unpad(const Image& img) {
  if (img.w < 3 || img.h < 3) return Image();
  return SubImage(img, 1, 1, img.h - 2, img.w - 2);
}

Image ScaleUp(const Image& img, int kx, int ky) {
  if (TooBig(img.w * kx, img.h * ky)) return Image();
  Image out = Blank(img.w * kx, img.h * ky);
  for (int r = 0; r < out.h; ++r)
    for (int c = 0; c < out.w; ++c) out.at(r, c) = img.at(r / ky, c / kx);
  return out;
}

// Each k x k block must be one colour; the block colour becomes one cell.
Image ScaleDown(const Image& img, int k) {
  if (img.w % k || img.h % k || img.w < k || img.h < k) return Image();
  Image out = Blank(img.w / k, img.h / k);
  for (int r = 0; r < img.h; ++r)
    for (int c = 0; c < img.w; ++c)
      if (img.at(r, c) != img.at(r - r % k, c - c % k)) return Image();
  for (int r = 0; r < out.h; ++r)
    for (int c = 0; c < out.w; ++c) out.at(r, c) = img.at(r * k, c * k);
  return out;
}

// Tiles `img` nx x ny times; `mirror` flips every other copy (a kaleidoscope).
Image Tile(const Image& img, int nx, int ny, bool mirror) {
  if (TooBig(img.w * nx, img.h * ny)) return Image();
  Image out = Blank(img.w * nx, img.h * ny);
  for (int r = 0; r < out.h; ++r)
    for (int c = 0; c < out.w; ++c) {
      int sr = r % img.h, sc = c % img.w;
      if (mirror && (r / img.h) % 2 == 1) sr = img.h - 1 - sr;
      if (mirror && (c / img.w) % 2 == 1) sc = img.w - 1 - sc;
      out.at(r, c) = img.at(sr, sc);
    }
  return out;
}

// Tiles (or mirror-tiles) to exactly w x h, cutting the last copies.
Image TileTo(const Image& img, int w, int h, bool mirror) {
  if (w <= 0 || h <= 0 || img.empty()) return Image();
  const int nx = (w + img.w - 1) / img.w, ny = (h + img.h - 1) / img.h;
  Image big = Tile(img, nx, ny, mirror);
  if (big.empty()) return Image();
  return SubImage(big, 0, 0, h, w);
}

// Zero cells take the colour of their mirror image(s): completes a symmetric pattern.
// mode 0 left-right, 1 up-down, 2 both plus the half turn, 3 transpose (square images only).
Image Symmetrize(const Image& img, int mode) {
  if (mode == 3 && img.w != img.h) return Image();
  Image out = img;
  for (int pass = 0; pass < 2; ++pass)
    for (int r = 0; r < img.h; ++r)
      for (int c = 0; c < img.w; ++c) {
        if (out.at(r, c) != 0) continue;
        std::array<std::pair<int, int>, 3> mates;
        int n = 0;
        if (mode == 0 || mode == 2) mates[n++] = {r, img.w - 1 - c};
        if (mode == 1 || mode == 2) mates[n++] = {img.h - 1 - r, c};
        if (mode == 2) mates[n++] = {img.h - 1 - r, img.w - 1 - c};
        if (mode == 3) mates[n++] = {c, r};
        for (int i = 0; i < n; ++i) {
          const uint8_t v = out.at(mates[i].first, mates[i].second);
          if (v != 0) {
            out.at(r, c) = v;
            break;
          }
        }
      }
  return out;
}

// Outer product: every cell of `img` that is non-zero (or zero, when `inverse`) becomes a copy of
// `img`; the other cells become blank blocks.
Image SelfKron(const Image& img, bool inverse) {
  if (TooBig(img.w * img.w, img.h * img.h)) return Image();
  Image out = Blank(img.w * img.w, img.h * img.h);
  for (int br = 0; br < img.h; ++br)
    for (int bc = 0; bc < img.w; ++bc) {
      if ((img.at(br, bc) != 0) == inverse) continue;
      for (int r = 0; r < img.h; ++r)
        for (int c = 0; c < img.w; ++c) out.at(br * img.h + r, bc * img.w + c) = img.at(r, c);
    }
  return out;
}

// ---- shape ----

// Zero cells not 4-connected (through zero cells) to the image border.
std::vector<bool> Enclosed(const Image& img) {
  std::vector<bool> outside(img.cells.size(), false);
  std::vector<int> stack;
  auto push = [&](int r, int c) {
    const size_t i = static_cast<size_t>(r) * img.w + c;
    if (img.cells[i] == 0 && !outside[i]) {
      outside[i] = true;
      stack.push_back(static_cast<int>(i));
    }
  };
  for (int r = 0; r < img.h; ++r) {
    push(r, 0);
    push(r, img.w - 1);
  }
  for (int c = 0; c < img.w; ++c) {
    push(0, c);
    push(img.h - 1, c);
  }
  while (!stack.empty()) {
    const int i = stack.back();
    stack.pop_back();
    const int r = i / img.w, c = i % img.w;
    if (r > 0) push(r - 1, c);
    if (r + 1 < img.h) push(r + 1, c);
    if (c > 0) push(r, c - 1);
    if (c + 1 < img.w) push(r, c + 1);
  }
  std::vector<bool> enclosed(img.cells.size());
  for (size_t i = 0; i < enclosed.size(); ++i) enclosed[i] = img.cells[i] == 0 && !outside[i];
  return enclosed;
}

// Enclosed zero cells as colour 1 (everything else 0); fails when there are none.
Image Holes(const Image& img) {
  const std::vector<bool> enclosed = Enclosed(img);
  Image out(img.x, img.y, img.w, img.h);
  bool any = false;
  for (size_t i = 0; i < enclosed.size(); ++i) {
    out.cells[i] = enclosed[i];
    any = any || enclosed[i];
  }
  return any ? out : Image();
}

// Enclosed zero cells take the most frequent non-zero colour.
Image FillHoles(const Image& img) {
  const int colour = FrequentColour(img, true);
  if (colour < 0) return Image();
  const std::vector<bool> enclosed = Enclosed(img);
  Image out = img;
  for (size_t i = 0; i < enclosed.size(); ++i)
    if (enclosed[i]) out.cells[i] = static_cast<uint8_t>(colour);
  return out;
}

bool IsInterior(const Image& img, int r, int c) {
  for (int dr = -1; dr <= 1; ++dr)
    for (int dc = -1; dc <= 1; ++dc)
      if (img.get(r + dr, c + dc) == 0) return false;
  return true;
}

// Non-zero cells whose 8 neighbours are all non-zero (interior) or the others (border).
Image InteriorOrBorder(const Image& img, bool interior) {
  Image out = img;
  for (int r = 0; r < img.h; ++r)
    for (int c = 0; c < img.w; ++c)
      if (img.at(r, c) != 0 && IsInterior(img, r, c) != interior) out.at(r, c) = 0;
  return out;
}

// Zero cells 8-adjacent to a non-zero cell, as colour 1.
Image Ring(const Image& img) {
  Image out(img.x, img.y, img.w, img.h);
  for (int r = 0; r < img.h; ++r)
    for (int c = 0; c < img.w; ++c) {
      if (img.at(r, c) != 0) continue;
      bool near = false;
      for (int dr = -1; dr <= 1 && !near; ++dr)
        for (int dc = -1; dc <= 1 && !near; ++dc) near = img.get(r + dr, c + dc) != 0;
      out.at(r, c) = near;
    }
  return out;
}

// The image's outermost cells as colour 1, inside 0.
Image Frame(const Image& img) {
  Image out(img.x, img.y, img.w, img.h);
  for (int r = 0; r < img.h; ++r)
    for (int c = 0; c < img.w; ++c)
      out.at(r, c) = r == 0 || c == 0 || r == img.h - 1 || c == img.w - 1;
  return out;
}

// One cell bigger each side, the new frame colour 1 around the image.
Image FrameAround(const Image& img) {
  Image out = Pad(img, 1);
  if (out.empty()) return out;
  for (int r = 0; r < out.h; ++r)
    for (int c = 0; c < out.w; ++c)
      if (r == 0 || c == 0 || r == out.h - 1 || c == out.w - 1) out.at(r, c) = 1;
  return out;
}

// The whole image in its most frequent non-zero colour.
Image Hull(const Image& img) {
  const int colour = FrequentColour(img, true);
  if (colour < 0) return Image();
  return Image(img.x, img.y, img.w, img.h, static_cast<uint8_t>(colour));
}

// Cells fall towards a side, keeping their order in each line. dir 0 down, 1 up, 2 right, 3 left.
Image PixelGravity(const Image& img, int dir) {
  Image out(img.x, img.y, img.w, img.h);
  const bool vertical = dir < 2;
  const int lines = vertical ? img.w : img.h, len = vertical ? img.h : img.w;
  for (int l = 0; l < lines; ++l) {
    std::vector<uint8_t> v;
    for (int i = 0; i < len; ++i) {
      const uint8_t c = vertical ? img.at(i, l) : img.at(l, i);
      if (c != 0) v.push_back(c);
    }
    const bool to_end = dir == 0 || dir == 2;
    const int start = to_end ? len - static_cast<int>(v.size()) : 0;
    for (size_t k = 0; k < v.size(); ++k) {
      const int i = start + static_cast<int>(k);
      (vertical ? out.at(i, l) : out.at(l, i)) = v[k];
    }
  }
  return out;
}

// 8-connected objects slide as rigid bodies towards a side until they meet the edge or another
// object; the object nearest that side moves first. dir as PixelGravity.
Image ObjectGravity(const Image& img, int dir) {
  std::vector<Image> objs = Components(ToOrigin(img), /*conn8=*/true, /*by_colour=*/false);
  if (objs.empty() || objs.size() > 30) return Image();
  const int dr = dir == 0 ? 1 : dir == 1 ? -1 : 0, dc = dir == 2 ? 1 : dir == 3 ? -1 : 0;
  auto key = [&](const Image& o) {
    return dir == 0 ? -(o.y + o.h) : dir == 1 ? o.y : dir == 2 ? -(o.x + o.w) : o.x;
  };
  std::stable_sort(objs.begin(), objs.end(),
                   [&](const Image& a, const Image& b) { return key(a) < key(b); });
  Image out = Blank(img.w, img.h);
  auto fits = [&](const Image& o, int y, int x) {
    for (int r = 0; r < o.h; ++r)
      for (int c = 0; c < o.w; ++c) {
        if (o.at(r, c) == 0) continue;
        const int rr = y + r, cc = x + c;
        if (rr < 0 || cc < 0 || rr >= out.h || cc >= out.w || out.at(rr, cc) != 0) return false;
      }
    return true;
  };
  for (Image& o : objs) {
    while (fits(o, o.y + dr, o.x + dc)) {
      o.y += dr;
      o.x += dc;
    }
    Paint(out, o);
  }
  out.x = img.x;
  out.y = img.y;
  return out;
}

// Draws rays from every non-zero cell over zero cells, in the directions of `dirs` (bit k =
// direction k of (0,1) (0,-1) (1,0) (-1,0) (1,1) (1,-1) (-1,1) (-1,-1)), to the image edge.
Image Smear(const Image& img, int dirs) {
  static constexpr int kDr[8] = {0, 0, 1, -1, 1, 1, -1, -1};
  static constexpr int kDc[8] = {1, -1, 0, 0, 1, -1, 1, -1};
  Image out = img;
  for (int d = 0; d < 8; ++d) {
    if (!(dirs >> d & 1)) continue;
    for (int r = 0; r < img.h; ++r)
      for (int c = 0; c < img.w; ++c) {
        const uint8_t col = img.at(r, c);
        if (col == 0) continue;
        for (int rr = r + kDr[d], cc = c + kDc[d]; rr >= 0 && cc >= 0 && rr < img.h && cc < img.w;
             rr += kDr[d], cc += kDc[d]) {
          if (img.at(rr, cc) != 0) break;
          if (out.at(rr, cc) == 0) out.at(rr, cc) = col;
        }
      }
  }
  return out;
}

// Fills the zero cells between two cells of the same colour on one row (mode 0), column (1) or
// both (2).
Image Connect(const Image& img, int mode) {
  Image out = img;
  if (mode != 1)
    for (int r = 0; r < img.h; ++r) {
      int last = -1;
      for (int c = 0; c < img.w; ++c) {
        if (img.at(r, c) == 0) continue;
        if (last >= 0 && img.at(r, last) == img.at(r, c))
          for (int k = last + 1; k < c; ++k) out.at(r, k) = img.at(r, c);
        last = c;
      }
    }
  if (mode != 0)
    for (int c = 0; c < img.w; ++c) {
      int last = -1;
      for (int r = 0; r < img.h; ++r) {
        if (img.at(r, c) == 0) continue;
        if (last >= 0 && img.at(last, c) == img.at(r, c))
          for (int k = last + 1; k < r; ++k)
            if (out.at(k, c) == 0) out.at(k, c) = img.at(r, c);
        last = r;
      }
    }
  return out;
}

// ---- count ----

// n cells in a 1 x n row (shape 0), n x 1 column (1) or n x n square (2) of the most frequent
// colour, n counted by `what`: 0 non-zero cells, 1 colours, 2 8-connected objects.
Image CountImage(const Image& img, int what, int shape) {
  const int colour = FrequentColour(img, true);
  if (colour < 0) return Image();
  const int n = what == 0   ? CountNonzero(img)
                : what == 1 ? NumColours(img)
                            : static_cast<int>(Components(img, true, false).size());
  if (n <= 0 || n > 30) return Image();
  const int w = shape == 1 ? 1 : n, h = shape == 0 ? 1 : n;
  return Image(0, 0, w, h, static_cast<uint8_t>(colour));
}

// ---- composition of two parts ----

// The two parts of an image split across (`vertical` false: left | right) or down (top / bottom):
// at a middle separator line of one non-zero colour when the size is odd, else at the middle.
bool SplitTwo(const Image& img, bool vertical, Image& a, Image& b) {
  const int len = vertical ? img.h : img.w;
  if (len < 2) return false;
  if (len % 2 == 1) {
    const int mid = len / 2;
    const uint8_t sep = vertical ? img.at(mid, 0) : img.at(0, mid);
    if (sep == 0) return false;
    const int other = vertical ? img.w : img.h;
    for (int i = 0; i < other; ++i)
      if ((vertical ? img.at(mid, i) : img.at(i, mid)) != sep) return false;
  }
  a = Half(img, vertical ? 2 : 0);
  b = Half(img, vertical ? 3 : 1);
  a.x = a.y = b.x = b.y = 0;
  return true;
}

// Cellwise logic over the two parts: op 0 and, 1 or, 2 xor, 3 nor, 4 a-and-not-b; the result is a
// mask of colour 1. op 5 paints b over a, op 6 a over b (colours kept).
Image CombineParts(const Image& img, bool vertical, int op) {
  Image a, b;
  if (!SplitTwo(img, vertical, a, b)) return Image();
  Image out = Blank(a.w, a.h);
  for (size_t i = 0; i < out.cells.size(); ++i) {
    const bool x = a.cells[i] != 0, y = b.cells[i] != 0;
    switch (op) {
      case 0:
        out.cells[i] = x && y;
        break;
      case 1:
        out.cells[i] = x || y;
        break;
      case 2:
        out.cells[i] = x != y;
        break;
      case 3:
        out.cells[i] = !x && !y;
        break;
      case 4:
        out.cells[i] = x && !y;
        break;
      case 5:
        out.cells[i] = y ? b.cells[i] : a.cells[i];
        break;
      default:
        out.cells[i] = x ? a.cells[i] : b.cells[i];
        break;
    }
  }
  return out;
}

// ---- splits (image -> list) ----

// The cells between full-length separator lines of one colour (the most common line colour).
std::vector<Image> SplitGrid(const Image& img) {
  auto row_colour = [&](int r) {
    for (int c = 1; c < img.w; ++c)
      if (img.at(r, c) != img.at(r, 0)) return -1;
    return static_cast<int>(img.at(r, 0));
  };
  auto col_colour = [&](int c) {
    for (int r = 1; r < img.h; ++r)
      if (img.at(r, c) != img.at(0, c)) return -1;
    return static_cast<int>(img.at(0, c));
  };
  std::array<int, kNumColours> votes{};
  for (int r = 0; r < img.h; ++r)
    if (int k = row_colour(r); k > 0) ++votes[k];
  for (int c = 0; c < img.w; ++c)
    if (int k = col_colour(c); k > 0) ++votes[k];
  const int sep = static_cast<int>(std::max_element(votes.begin(), votes.end()) - votes.begin());
  if (votes[sep] == 0) return {};
  std::vector<std::pair<int, int>> row_spans, col_spans;
  for (int r = 0, start = 0; r <= img.h; ++r)
    if (r == img.h || row_colour(r) == sep) {
      if (r > start) row_spans.push_back({start, r - start});
      start = r + 1;
    }
  for (int c = 0, start = 0; c <= img.w; ++c)
    if (c == img.w || col_colour(c) == sep) {
      if (c > start) col_spans.push_back({start, c - start});
      start = c + 1;
    }
  if (row_spans.size() * col_spans.size() < 2) return {};
  std::vector<Image> out;
  for (auto [r0, h] : row_spans)
    for (auto [c0, w] : col_spans) out.push_back(SubImage(img, r0, c0, h, w));
  return out;
}

// One image per non-zero colour: the cells of that colour cropped to their bounding box.
std::vector<Image> SplitColours(const Image& img) {
  std::vector<Image> out;
  const uint32_t mask = ColourMask(img);
  for (int c = 1; c < kNumColours; ++c)
    if (mask >> c & 1) out.push_back(CropToContent(KeepColour(img, c)));
  return out;
}

std::vector<Image> SplitLines(const Image& img, bool rows) {
  std::vector<Image> out;
  const int n = rows ? img.h : img.w;
  if (n < 2 || n > 30) return {};
  for (int i = 0; i < n; ++i)
    out.push_back(rows ? SubImage(img, i, 0, 1, img.w) : SubImage(img, 0, i, img.h, 1));
  return out;
}

// Components of the cells that are not the most frequent colour (for non-black backgrounds),
// with that colour turned into 0 inside each piece.
std::vector<Image> ObjectsOnBackground(const Image& img) {
  const std::vector<int> counts = ColourCounts(img);
  const int bg = static_cast<int>(std::max_element(counts.begin(), counts.end()) - counts.begin());
  if (bg == 0) return {};
  Image shifted = img;
  for (uint8_t& c : shifted.cells) c = c == bg ? 0 : c == 0 ? bg : c;
  return Components(shifted, true, false);
}

// ---- list -> image ----

// The criteria a list item is ranked by (higher is better for "max").
enum Criterion {
  kPixels,
  kFewPixels,
  kArea,
  kSmallArea,
  kColours,
  kFewColours,
  kTop,
  kBottom,
  kLeft,
  kRight,
  kDensity,
  kNumCriteria
};
const char* const kCriterionName[] = {
    "largest", "smallest",   "largest_box", "smallest_box", "most_colours", "fewest_colours",
    "topmost", "bottommost", "leftmost",    "rightmost",    "densest"};

int64_t Score(const Image& o, int crit) {
  switch (crit) {
    case kPixels:
      return CountNonzero(o);
    case kFewPixels:
      return -CountNonzero(o);
    case kArea:
      return o.area();
    case kSmallArea:
      return -o.area();
    case kColours:
      return NumColours(o);
    case kFewColours:
      return -NumColours(o);
    case kTop:
      return -o.y;
    case kBottom:
      return o.y + o.h;
    case kLeft:
      return -o.x;
    case kRight:
      return o.x + o.w;
    default:
      return o.area() ? 1000 * CountNonzero(o) / o.area() : 0;
  }
}

// The item with the highest score; fails on an empty list or a tie for the top.
Image PickMax(const std::vector<Image>& v, int crit) {
  if (v.empty()) return Image();
  int best = 0, ties = 0;
  int64_t best_score = Score(v[0], crit);
  for (size_t i = 1; i < v.size(); ++i) {
    const int64_t s = Score(v[i], crit);
    if (s > best_score) {
      best_score = s;
      best = static_cast<int>(i);
      ties = 0;
    } else if (s == best_score) {
      ++ties;
    }
  }
  return ties ? Image() : v[best];
}

std::vector<Image> KeepMaxes(const std::vector<Image>& v, int crit, bool invert) {
  if (v.size() < 2) return {};
  int64_t best = Score(v[0], crit);
  for (const Image& o : v) best = std::max(best, Score(o, crit));
  std::vector<Image> out;
  for (const Image& o : v)
    if ((Score(o, crit) == best) != invert) out.push_back(o);
  if (out.empty() || out.size() == v.size()) return {};
  return out;
}

// The one item whose content (shape and colours, or colour set) occurs once while others repeat.
Image PickUnique(const std::vector<Image>& v, bool by_colours) {
  if (v.size() < 3) return Image();
  std::vector<int> count(v.size(), 0);
  for (size_t i = 0; i < v.size(); ++i)
    for (size_t j = 0; j < v.size(); ++j) {
      const bool same = by_colours ? (ColourMask(v[i]) & ~1u) == (ColourMask(v[j]) & ~1u)
                                   : SameContent(v[i], v[j]);
      count[i] += same;
    }
  int found = -1;
  for (size_t i = 0; i < v.size(); ++i)
    if (count[i] == 1) {
      if (found >= 0) return Image();
      found = static_cast<int>(i);
    }
  return found >= 0 ? v[found] : Image();
}

// The item whose content occurs most often (first on ties).
Image PickCommon(const std::vector<Image>& v) {
  if (v.size() < 2) return Image();
  int best = -1, best_count = 1;
  for (size_t i = 0; i < v.size(); ++i) {
    int n = 0;
    for (size_t j = 0; j < v.size(); ++j) n += SameContent(v[i], v[j]);
    if (n > best_count) {
      best_count = n;
      best = static_cast<int>(i);
    }
  }
  return best >= 0 ? v[best] : Image();
}

// Paints the items in order (or largest first when `growing`) onto their union rectangle.
Image Overlay(std::vector<Image> v, bool growing) {
  if (v.empty()) return Image();
  if (growing)
    std::stable_sort(v.begin(), v.end(), [](const Image& a, const Image& b) {
      return CountNonzero(a) > CountNonzero(b);
    });
  int x0 = v[0].x, y0 = v[0].y, x1 = v[0].x + v[0].w, y1 = v[0].y + v[0].h;
  for (const Image& o : v) {
    x0 = std::min(x0, o.x);
    y0 = std::min(y0, o.y);
    x1 = std::max(x1, o.x + o.w);
    y1 = std::max(y1, o.y + o.h);
  }
  if (TooBig(x1 - x0, y1 - y0)) return Image();
  Image out(x0, y0, x1 - x0, y1 - y0);
  for (const Image& o : v) Paint(out, o);
  return out;
}

// Items side by side (`down` false) or stacked, at the origin, padded with 0 to the largest.
Image Concatenate(const std::vector<Image>& v, bool down) {
  if (v.empty()) return Image();
  int along = 0, across = 0;
  for (const Image& o : v) {
    along += down ? o.h : o.w;
    across = std::max(across, down ? o.w : o.h);
  }
  const int w = down ? across : along, h = down ? along : across;
  if (TooBig(w, h)) return Image();
  Image out = Blank(w, h);
  int pos = 0;
  for (Image o : v) {
    o.x = down ? 0 : pos;
    o.y = down ? pos : 0;
    Paint(out, o);
    pos += down ? o.h : o.w;
  }
  return out;
}

// Cellwise logic over items of one size: 0 and, 1 or, 2 xor (odd count); a mask of colour 1.
Image LogicAll(const std::vector<Image>& v, int op) {
  if (v.size() < 2) return Image();
  for (const Image& o : v)
    if (o.w != v[0].w || o.h != v[0].h) return Image();
  Image out = Blank(v[0].w, v[0].h);
  for (size_t i = 0; i < out.cells.size(); ++i) {
    int n = 0;
    for (const Image& o : v) n += o.cells[i] != 0;
    out.cells[i] = op == 0 ? n == static_cast<int>(v.size()) : op == 1 ? n > 0 : n % 2;
  }
  return out;
}

// ---- the table ----

class Builder {
 public:
  void Unary(std::string name, std::string group,
             std::function<Image(const Image&, const ExampleContext&)> f, bool enumerated = true) {
    Add(std::move(name), std::move(group), Kind::kImageToImage, enumerated).image_to_image =
        std::move(f);
  }
  // Context-free image -> image.
  void Simple(std::string name, std::string group, std::function<Image(const Image&)> f,
              bool enumerated = true) {
    Unary(
        std::move(name), std::move(group),
        [f = std::move(f)](const Image& img, const ExampleContext&) { return f(img); }, enumerated);
  }
  void Split(std::string name, std::function<std::vector<Image>(const Image&)> f) {
    Add(std::move(name), "split", Kind::kImageToList).image_to_list =
        [f = std::move(f)](const Image& img, const ExampleContext&) { return f(img); };
  }
  void Join(std::string name, std::function<Image(const std::vector<Image>&)> f) {
    Add(std::move(name), "join", Kind::kListToImage).list_to_image =
        [f = std::move(f)](const std::vector<Image>& v, const ExampleContext&) { return f(v); };
  }
  void Filter(std::string name, std::function<std::vector<Image>(const std::vector<Image>&)> f) {
    Add(std::move(name), "filter", Kind::kListToList).list_to_list =
        [f = std::move(f)](const std::vector<Image>& v, const ExampleContext&) { return f(v); };
  }
  std::vector<Primitive> Take() { return std::move(table_); }

 private:
  // A new row of the table; the caller sets the function member that matches `kind`.
  Primitive& Add(std::string name, std::string group, Kind kind, bool enumerated = true) {
    Primitive& p = table_.emplace_back();
    p.name = std::move(name);
    p.group = std::move(group);
    p.kind = kind;
    p.enumerated = enumerated;
    return p;
  }

  std::vector<Primitive> table_;
};

std::vector<Primitive> BuildDsl() {
  Builder b;
  // Objects and crops first: the most useful steps come first in the enumeration order, which is
  // also the tie order between programs of one length.
  b.Simple("crop", "geometry", CropToContent);
  for (int c = 1; c < kNumColours; ++c)
    b.Simple(absl::StrCat("keep_", c), "colour", [c](const Image& i) { return KeepColour(i, c); });
  for (int c = 1; c < kNumColours; ++c)
    b.Simple(absl::StrCat("erase_", c), "colour",
             [c](const Image& i) { return EraseColour(i, c); });
  b.Simple("background_mask", "colour", BackgroundMask);
  b.Simple("keep_major", "colour",
           [](const Image& i) { return KeepColour(i, FrequentColour(i, true)); });
  b.Simple("keep_minor", "colour",
           [](const Image& i) { return KeepColour(i, FrequentColour(i, false)); });
  b.Simple("erase_major", "colour",
           [](const Image& i) { return EraseColour(i, FrequentColour(i, true)); });
  b.Simple("major_colour", "colour",
           [](const Image& i) { return OneCell(FrequentColour(i, true)); });
  b.Simple("minor_colour", "colour",
           [](const Image& i) { return OneCell(FrequentColour(i, false)); });
  b.Simple("swap_colours", "colour", SwapTwoColours);
  b.Simple("fill_background", "colour", FillBackground);
  b.Simple("background_to_0", "colour", MajorityToBackground);
  for (int c = 1; c < kNumColours; ++c)
    b.Simple(
        absl::StrCat("recolour_", c), "colour",
        [c](const Image& i) { return Recolour(i, static_cast<uint8_t>(c)); },
        /*enumerated=*/false);

  static const char* const kDihedral[] = {"",        "rot90",   "rot180",    "rot270",
                                          "flip_ud", "flip_lr", "transpose", "anti_transpose"};
  for (int d = 1; d < 8; ++d)
    b.Simple(kDihedral[d], "geometry", [d](const Image& i) { return Dihedral(i, d); });
  b.Simple("to_origin", "geometry", ToOrigin);
  b.Simple("drop_empty_lines", "geometry", DropEmptyLines);
  b.Simple("merge_repeats", "geometry", MergeRepeatedLines);
  static const char* const kHalf[] = {"left_half", "right_half", "top_half", "bottom_half"};
  for (int k = 0; k < 4; ++k)
    b.Simple(kHalf[k], "geometry", [k](const Image& i) { return Half(i, k); });
  b.Simple("centre", "geometry", Centre);
  b.Simple("shift_r", "geometry", [](const Image& i) { return Shift(i, 0, 1); });
  b.Simple("shift_l", "geometry", [](const Image& i) { return Shift(i, 0, -1); });
  b.Simple("shift_d", "geometry", [](const Image& i) { return Shift(i, 1, 0); });
  b.Simple("shift_u", "geometry", [](const Image& i) { return Shift(i, -1, 0); });
  b.Simple("pad", "geometry", [](const Image& i) { return Pad(i, 1); });
  b.Simple("unpad", "geometry", Unpad);
  for (int k = 2; k <= 3; ++k) {
    b.Simple(absl::StrCat("scale_", k), "geometry",
             [k](const Image& i) { return ScaleUp(i, k, k); });
    b.Simple(absl::StrCat("downscale_", k), "geometry",
             [k](const Image& i) { return ScaleDown(i, k); });
  }
  b.Simple("scale_w2", "geometry", [](const Image& i) { return ScaleUp(i, 2, 1); });
  b.Simple("scale_h2", "geometry", [](const Image& i) { return ScaleUp(i, 1, 2); });
  b.Simple("tile_1x2", "geometry", [](const Image& i) { return Tile(i, 2, 1, false); });
  b.Simple("tile_2x1", "geometry", [](const Image& i) { return Tile(i, 1, 2, false); });
  b.Simple("tile_2x2", "geometry", [](const Image& i) { return Tile(i, 2, 2, false); });
  b.Simple("tile_3x3", "geometry", [](const Image& i) { return Tile(i, 3, 3, false); });
  b.Simple("mirror_1x2", "geometry", [](const Image& i) { return Tile(i, 2, 1, true); });
  b.Simple("mirror_2x1", "geometry", [](const Image& i) { return Tile(i, 1, 2, true); });
  b.Simple("mirror_2x2", "geometry", [](const Image& i) { return Tile(i, 2, 2, true); });
  static const char* const kSym[] = {"symmetrize_lr", "symmetrize_ud", "symmetrize_all",
                                     "symmetrize_diag"};
  for (int k = 0; k < 4; ++k)
    b.Simple(kSym[k], "geometry", [k](const Image& i) { return Symmetrize(i, k); });
  b.Simple("self_kron", "geometry", [](const Image& i) { return SelfKron(i, false); });
  b.Simple("self_kron_inverse", "geometry", [](const Image& i) { return SelfKron(i, true); });

  // Canvas of the predicted output size.
  b.Unary("paste_out", "canvas", [](const Image& i, const ExampleContext& ctx) {
    return ctx.out_w > 0 ? PasteOnCanvas(i, ctx.out_w, ctx.out_h) : Image();
  });
  b.Unary("tile_out", "canvas", [](const Image& i, const ExampleContext& ctx) {
    return ctx.out_w > 0 ? TileTo(ToOrigin(i), ctx.out_w, ctx.out_h, false) : Image();
  });
  b.Unary("mirror_out", "canvas", [](const Image& i, const ExampleContext& ctx) {
    return ctx.out_w > 0 ? TileTo(ToOrigin(i), ctx.out_w, ctx.out_h, true) : Image();
  });
  b.Unary("scale_out", "canvas", [](const Image& i, const ExampleContext& ctx) {
    if (ctx.out_w <= 0 || ctx.out_w % i.w || ctx.out_h % i.h) return Image();
    return ScaleUp(i, ctx.out_w / i.w, ctx.out_h / i.h);
  });

  b.Simple("holes", "shape", Holes);
  b.Simple("fill_holes", "shape", FillHoles);
  b.Simple("interior", "shape", [](const Image& i) { return InteriorOrBorder(i, true); });
  b.Simple("border", "shape", [](const Image& i) { return InteriorOrBorder(i, false); });
  b.Simple("ring", "shape", Ring);
  b.Simple("frame", "shape", Frame);
  b.Simple("frame_around", "shape", FrameAround);
  b.Simple("hull", "shape", Hull);
  static const char* const kDir[] = {"d", "u", "r", "l"};
  for (int d = 0; d < 4; ++d)
    b.Simple(absl::StrCat("gravity_", kDir[d]), "objects",
             [d](const Image& i) { return PixelGravity(i, d); });
  for (int d = 0; d < 4; ++d)
    b.Simple(absl::StrCat("fall_", kDir[d]), "objects",
             [d](const Image& i) { return ObjectGravity(i, d); });

  // Rays: bit k of the mask is direction k of Smear.
  static const std::pair<const char*, int> kSmear[] = {
      {"smear_r", 1},    {"smear_l", 2},      {"smear_d", 4},    {"smear_u", 8},   {"smear_h", 3},
      {"smear_v", 12},   {"smear_hv", 15},    {"smear_dr", 16},  {"smear_dl", 32}, {"smear_ur", 64},
      {"smear_ul", 128}, {"smear_diag", 240}, {"smear_all", 255}};
  for (const auto& [name, dirs] : kSmear)
    b.Simple(name, "drawing", [dirs = dirs](const Image& i) { return Smear(i, dirs); });
  b.Simple("connect_h", "drawing", [](const Image& i) { return Connect(i, 0); });
  b.Simple("connect_v", "drawing", [](const Image& i) { return Connect(i, 1); });
  b.Simple("connect_hv", "drawing", [](const Image& i) { return Connect(i, 2); });

  static const char* const kWhat[] = {"pixels", "colours", "objects"};
  static const char* const kShape[] = {"row", "column", "square"};
  for (int what = 0; what < 3; ++what)
    for (int shape = 0; shape < 3; ++shape)
      b.Simple(absl::StrCat("count_", kWhat[what], "_", kShape[shape]), "count",
               [what, shape](const Image& i) { return CountImage(i, what, shape); });

  static const char* const kOp[] = {"and", "or", "xor", "nor", "minus", "over", "under"};
  for (int vertical = 0; vertical < 2; ++vertical)
    for (int op = 0; op < 7; ++op)
      b.Simple(absl::StrCat(vertical ? "rows_" : "cols_", kOp[op]), "composition",
               [vertical, op](const Image& i) { return CombineParts(i, vertical, op); });

  // image -> list
  b.Split("objects4", [](const Image& i) { return Components(i, false, false); });
  b.Split("objects8", [](const Image& i) { return Components(i, true, false); });
  b.Split("colour_objects4", [](const Image& i) { return Components(i, false, true); });
  b.Split("colour_objects8", [](const Image& i) { return Components(i, true, true); });
  b.Split("split_colours", SplitColours);
  b.Split("split_grid", SplitGrid);
  b.Split("split_rows", [](const Image& i) { return SplitLines(i, true); });
  b.Split("split_columns", [](const Image& i) { return SplitLines(i, false); });
  b.Split("objects_on_background", ObjectsOnBackground);
  b.Split("split_halves_h", [](const Image& i) {
    Image a, c;
    return SplitTwo(i, false, a, c) ? std::vector<Image>{a, c} : std::vector<Image>{};
  });
  b.Split("split_halves_v", [](const Image& i) {
    Image a, c;
    return SplitTwo(i, true, a, c) ? std::vector<Image>{a, c} : std::vector<Image>{};
  });

  // list -> image
  for (int crit = 0; crit < kNumCriteria; ++crit)
    b.Join(kCriterionName[crit], [crit](const std::vector<Image>& v) { return PickMax(v, crit); });
  b.Join("unique_shape", [](const std::vector<Image>& v) { return PickUnique(v, false); });
  b.Join("unique_colours", [](const std::vector<Image>& v) { return PickUnique(v, true); });
  b.Join("most_common", PickCommon);
  b.Join("first", [](const std::vector<Image>& v) { return v.empty() ? Image() : v.front(); });
  b.Join("last", [](const std::vector<Image>& v) { return v.empty() ? Image() : v.back(); });
  b.Join("overlay", [](const std::vector<Image>& v) { return Overlay(v, false); });
  b.Join("overlay_growing", [](const std::vector<Image>& v) { return Overlay(v, true); });
  b.Join("concat_h", [](const std::vector<Image>& v) { return Concatenate(v, false); });
  b.Join("concat_v", [](const std::vector<Image>& v) { return Concatenate(v, true); });
  b.Join("and_all", [](const std::vector<Image>& v) { return LogicAll(v, 0); });
  b.Join("or_all", [](const std::vector<Image>& v) { return LogicAll(v, 1); });
  b.Join("xor_all", [](const std::vector<Image>& v) { return LogicAll(v, 2); });

  // list -> list
  for (int crit : {kPixels, kFewPixels, kArea, kSmallArea, kColours, kFewColours}) {
    b.Filter(absl::StrCat("keep_", kCriterionName[crit]),
             [crit](const std::vector<Image>& v) { return KeepMaxes(v, crit, false); });
    b.Filter(absl::StrCat("drop_", kCriterionName[crit]),
             [crit](const std::vector<Image>& v) { return KeepMaxes(v, crit, true); });
  }
  b.Filter("sort_by_size", [](const std::vector<Image>& v) {
    std::vector<Image> out = v;
    std::stable_sort(out.begin(), out.end(), [](const Image& a, const Image& c) {
      return CountNonzero(a) > CountNonzero(c);
    });
    return out;
  });
  b.Filter("reverse",
           [](const std::vector<Image>& v) { return std::vector<Image>(v.rbegin(), v.rend()); });
  return b.Take();
}

}  // namespace

std::vector<Image> Components(const Image& image, bool conn8, bool by_colour) {
  std::vector<Image> out;
  std::vector<bool> seen(image.cells.size(), false);
  std::vector<int> stack, members;
  for (int start = 0; start < static_cast<int>(image.cells.size()); ++start) {
    if (image.cells[start] == 0 || seen[start]) continue;
    const uint8_t colour = image.cells[start];
    members.clear();
    stack.push_back(start);
    seen[start] = true;
    int r0 = image.h, r1 = -1, c0 = image.w, c1 = -1;
    while (!stack.empty()) {
      const int i = stack.back();
      stack.pop_back();
      members.push_back(i);
      const int r = i / image.w, c = i % image.w;
      r0 = std::min(r0, r);
      r1 = std::max(r1, r);
      c0 = std::min(c0, c);
      c1 = std::max(c1, c);
      for (int dr = -1; dr <= 1; ++dr)
        for (int dc = -1; dc <= 1; ++dc) {
          if ((dr == 0 && dc == 0) || (!conn8 && dr != 0 && dc != 0)) continue;
          const int rr = r + dr, cc = c + dc;
          if (rr < 0 || cc < 0 || rr >= image.h || cc >= image.w) continue;
          const int j = rr * image.w + cc;
          if (seen[j] || image.cells[j] == 0 || (by_colour && image.cells[j] != colour)) continue;
          seen[j] = true;
          stack.push_back(j);
        }
    }
    Image obj(image.x + c0, image.y + r0, c1 - c0 + 1, r1 - r0 + 1);
    for (int i : members) obj.at(i / image.w - r0, i % image.w - c0) = image.cells[i];
    out.push_back(std::move(obj));
    if (out.size() > 100) return {};  // noise, not objects
  }
  return out;
}

Image ToOrigin(Image image) {
  image.x = image.y = 0;
  return image;
}

void PasteOnCanvasInto(const Image& image, int w, int h, Image& out) {
  out.x = out.y = 0;
  out.w = w;
  out.h = h;
  out.cells.assign(static_cast<size_t>(w) * h, 0);
  Paint(out, image);
}

Image PasteOnCanvas(const Image& image, int w, int h) {
  Image out;
  PasteOnCanvasInto(image, w, h, out);
  return out;
}

Image Recolour(const Image& image, uint8_t colour) {
  Image out = image;
  for (uint8_t& c : out.cells) c = c ? colour : 0;
  return out;
}

const std::vector<Primitive>& Dsl() {
  static const std::vector<Primitive>* const kDsl = new std::vector<Primitive>(BuildDsl());
  return *kDsl;
}

int FindPrimitive(std::string_view name) {
  const std::vector<Primitive>& dsl = Dsl();
  for (size_t i = 0; i < dsl.size(); ++i)
    if (dsl[i].name == name) return static_cast<int>(i);
  return -1;
}

}  // namespace arc::search
