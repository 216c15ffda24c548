// The program search's working image: a rectangle of colours 0..9 that remembers where it sits.
//
// An Image is a Grid plus an offset (x = column, y = row) into the grid it came from: cropping an
// object out of an input keeps the object's position, so that later steps can paste it back,
// compose several objects or measure where they are. Equality and Hash() include the offset. Size
// 0x0 is the "no image" value that a primitive returns when it does not apply.
//
// Plain values: copyable, no shared state, safe to read from many threads.
#ifndef ARC_CORE_SEARCH_IMAGE_H_
#define ARC_CORE_SEARCH_IMAGE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "core/data/grid.h"

namespace arc::search {

struct Image {
  int x = 0;                   // column of the top-left cell in the parent frame (may be negative)
  int y = 0;                   // row of the top-left cell
  int w = 0;                   // columns
  int h = 0;                   // rows
  std::vector<uint8_t> cells;  // row-major, w * h colours 0..9

  Image() = default;
  // A w x h image at (x, y) filled with `fill`.
  Image(int x, int y, int w, int h, uint8_t fill = 0)
      : x(x), y(y), w(w), h(h), cells(static_cast<size_t>(w) * h, fill) {}

  bool empty() const { return w <= 0 || h <= 0; }
  int area() const { return w * h; }
  uint8_t at(int r, int c) const { return cells[static_cast<size_t>(r) * w + c]; }
  uint8_t& at(int r, int c) { return cells[static_cast<size_t>(r) * w + c]; }
  // The colour at (r, c) or 0 outside the image.
  uint8_t get(int r, int c) const { return r < 0 || c < 0 || r >= h || c >= w ? 0 : at(r, c); }

  // 64-bit hash of offset, size and cells (multiplicative mixing; the same on every run).
  uint64_t Hash() const;

  friend bool operator==(const Image& a, const Image& b) {
    return a.x == b.x && a.y == b.y && a.w == b.w && a.h == b.h && a.cells == b.cells;
  }
  friend bool operator!=(const Image& a, const Image& b) { return !(a == b); }
};

// Conversions at the boundary. FromGrid puts the image at (0, 0); ToGrid drops the offset.
Image FromGrid(const Grid& grid);
Grid ToGrid(const Image& image);
// Parses "012/340" (rows separated by '/', one digit per cell), optionally preceded by "@x,y " for
// the offset (else (0, 0)); tests and docs use it. An empty string gives the empty image. The text
// must be well formed (this is not an input boundary).
Image ParseImage(const std::string& text);
// The inverse of ParseImage, with "@x,y " in front when the offset is not (0, 0).
std::string ImageToString(const Image& image);

// Same size and cells, ignoring the offset.
bool SameContent(const Image& a, const Image& b);
// Counts of each colour over the cells.
std::vector<int> ColourCounts(const Image& image);
// A bit per colour present (bit c set when colour c occurs).
uint32_t ColourMask(const Image& image);

}  // namespace arc::search

#endif  // ARC_CORE_SEARCH_IMAGE_H_
