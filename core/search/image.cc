#include "core/search/image.h"

#include <cstring>
#include <string_view>

#include "absl/strings/str_cat.h"

namespace arc::search {

uint64_t Image::Hash() const {
  // Eight cells per multiply (a multiplicative hash with a final avalanche): hashing is a large
  // share of the search's time, and sums of item hashes (list states) need well-spread bits.
  uint64_t acc =
      0x9e3779b97f4a7c15ull ^ (static_cast<uint64_t>(static_cast<uint16_t>(x)) << 48 |
                               static_cast<uint64_t>(static_cast<uint16_t>(y)) << 32 |
                               static_cast<uint64_t>(w) << 16 | static_cast<uint64_t>(h));
  acc *= 0xff51afd7ed558ccdull;
  const size_t n = cells.size();
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t word;
    std::memcpy(&word, cells.data() + i, 8);
    acc = (acc ^ word) * 0x100000001b3ull;
    acc ^= acc >> 29;
  }
  uint64_t tail = 0;
  for (; i < n; ++i) tail = tail << 8 | cells[i];
  acc = (acc ^ tail) * 0xc4ceb9fe1a85ec53ull;
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
  std::string_view cells = text;
  if (cells[0] == '@') {
    const size_t comma = cells.find(','), space = cells.find(' ');
    image.x = std::stoi(std::string(cells.substr(1, comma - 1)));
    image.y = std::stoi(std::string(cells.substr(comma + 1, space - comma - 1)));
    cells = cells.substr(space + 1);
  }
  int cols = -1, rows = 0, current = 0;
  for (char ch : cells) {
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
