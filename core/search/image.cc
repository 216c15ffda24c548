#include "core/search/image.h"

#include "absl/strings/str_cat.h"

namespace arc::search {

uint64_t Image::Hash() const {
  // FNV-1a over the header then the cells; a final avalanche so that sums of hashes (list states)
  // stay well spread.
  uint64_t acc = 1469598103934665603ull;
  auto mix = [&acc](uint64_t v) {
    acc ^= v;
    acc *= 1099511628211ull;
  };
  mix(static_cast<uint32_t>(x));
  mix(static_cast<uint32_t>(y));
  mix(static_cast<uint32_t>(w));
  mix(static_cast<uint32_t>(h));
  for (uint8_t c : cells) mix(c);
  acc ^= acc >> 33;
  acc *= 0xff51afd7ed558ccdull;
  acc ^= acc >> 33;
  return acc;
}

Image FromGrid(const Grid& grid) {
  Image image;
  image.w = grid.cols();
  image.h = grid.rows();
  image.cells = grid.cells();
  return image;
}

Grid ToGrid(const Image& image) {
  Grid grid(image.h, image.w);
  for (int r = 0; r < image.h; ++r)
    for (int c = 0; c < image.w; ++c) grid.set(r, c, image.at(r, c));
  return grid;
}

Image ParseImage(const std::string& text) {
  Image image;
  if (text.empty()) return image;
  int cols = -1, rows = 0, current = 0;
  for (char ch : text) {
    if (ch == '/') {
      cols = current;
      current = 0;
      ++rows;
    } else {
      image.cells.push_back(static_cast<uint8_t>(ch - '0'));
      ++current;
    }
  }
  ++rows;
  if (cols < 0) cols = current;
  image.w = cols;
  image.h = rows;
  return image;
}

std::string ImageToString(const Image& image) {
  std::string out;
  if (image.x != 0 || image.y != 0) out = absl::StrCat("@", image.x, ",", image.y, " ");
  for (int r = 0; r < image.h; ++r) {
    if (r > 0) out.push_back('/');
    for (int c = 0; c < image.w; ++c) out.push_back(static_cast<char>('0' + image.at(r, c)));
  }
  return out;
}

bool SameContent(const Image& a, const Image& b) {
  return a.w == b.w && a.h == b.h && a.cells == b.cells;
}

std::vector<int> ColourCounts(const Image& image) {
  std::vector<int> counts(kNumColours, 0);
  for (uint8_t c : image.cells) ++counts[c];
  return counts;
}

uint32_t ColourMask(const Image& image) {
  uint32_t mask = 0;
  for (uint8_t c : image.cells) mask |= 1u << c;
  return mask;
}

}  // namespace arc::search
