#include "gen/generator.h"

#include <algorithm>
#include <array>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/data/augment.h"
#include "core/data/task_io.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace arc {
namespace {

using ::arc::testing::Pairs;

// ---------------------------------------------------------------------------------------------
// Independent helpers (deliberately not the generator's own code).

bool SameShape(const Grid& a, const Grid& b) {
  return a.rows() == b.rows() && a.cols() == b.cols();
}

bool Inside(const Grid& g, int r, int c) {
  return r >= 0 && c >= 0 && r < g.rows() && c < g.cols();
}

using Cells = std::vector<std::pair<int, int>>;

// 4-connected components of non-background cells (any colours), in row-major discovery order.
std::vector<Cells> Components(const Grid& g) {
  std::vector<std::vector<bool>> seen(g.rows(), std::vector<bool>(g.cols(), false));
  std::vector<Cells> out;
  for (int r = 0; r < g.rows(); ++r) {
    for (int c = 0; c < g.cols(); ++c) {
      if (g.at(r, c) == 0 || seen[r][c]) continue;
      Cells comp, stack = {{r, c}};
      seen[r][c] = true;
      while (!stack.empty()) {
        auto [a, b] = stack.back();
        stack.pop_back();
        comp.push_back({a, b});
        const int da[] = {1, -1, 0, 0}, db[] = {0, 0, 1, -1};
        for (int k = 0; k < 4; ++k) {
          const int x = a + da[k], y = b + db[k];
          if (Inside(g, x, y) && g.at(x, y) != 0 && !seen[x][y]) {
            seen[x][y] = true;
            stack.push_back({x, y});
          }
        }
      }
      std::sort(comp.begin(), comp.end());
      out.push_back(comp);
    }
  }
  return out;
}

// Background cells connected (4-neighbour, through background) to (r, c), which must be
// background; as a boolean table.
std::vector<std::vector<bool>> BgReach(const Grid& g, const Cells& seeds) {
  std::vector<std::vector<bool>> seen(g.rows(), std::vector<bool>(g.cols(), false));
  Cells stack;
  for (auto [r, c] : seeds) {
    if (Inside(g, r, c) && g.at(r, c) == 0 && !seen[r][c]) {
      seen[r][c] = true;
      stack.push_back({r, c});
    }
  }
  while (!stack.empty()) {
    auto [a, b] = stack.back();
    stack.pop_back();
    const int da[] = {1, -1, 0, 0}, db[] = {0, 0, 1, -1};
    for (int k = 0; k < 4; ++k) {
      const int x = a + da[k], y = b + db[k];
      if (Inside(g, x, y) && g.at(x, y) == 0 && !seen[x][y]) {
        seen[x][y] = true;
        stack.push_back({x, y});
      }
    }
  }
  return seen;
}

std::vector<std::vector<bool>> Enclosed(const Grid& g) {
  Cells border;
  for (int r = 0; r < g.rows(); ++r) border.insert(border.end(), {{r, 0}, {r, g.cols() - 1}});
  for (int c = 0; c < g.cols(); ++c) border.insert(border.end(), {{0, c}, {g.rows() - 1, c}});
  std::vector<std::vector<bool>> out = BgReach(g, border);
  for (int r = 0; r < g.rows(); ++r) {
    for (int c = 0; c < g.cols(); ++c) out[r][c] = g.at(r, c) == 0 && !out[r][c];
  }
  return out;
}

int EnclosedRegions(const Grid& g) {
  const auto enclosed = Enclosed(g);
  Grid mask(g.rows(), g.cols());
  for (int r = 0; r < g.rows(); ++r) {
    for (int c = 0; c < g.cols(); ++c) mask.set(r, c, enclosed[r][c] ? 1 : 0);
  }
  return static_cast<int>(Components(mask).size());
}

int CountOf(const Grid& g, int colour) {
  return static_cast<int>(std::count(g.cells().begin(), g.cells().end(), colour));
}

std::set<int> ColoursOf(const Grid& g) {
  std::set<int> s;
  for (uint8_t v : g.cells()) {
    if (v != 0) s.insert(v);
  }
  return s;
}

Grid Sub(const Grid& g, int r, int c, int h, int w) {
  Grid out(h, w);
  for (int i = 0; i < h; ++i) {
    for (int j = 0; j < w; ++j) out.set(i, j, g.at(r + i, c + j));
  }
  return out;
}

Grid BboxCrop(const Grid& g, const Cells& cells) {
  int r0 = 99, r1 = -1, c0 = 99, c1 = -1;
  for (auto [r, c] : cells) {
    r0 = std::min(r0, r);
    r1 = std::max(r1, r);
    c0 = std::min(c0, c);
    c1 = std::max(c1, c);
  }
  return Sub(g, r0, c0, r1 - r0 + 1, c1 - c0 + 1);
}

Cells NonBg(const Grid& g) {
  Cells out;
  for (int r = 0; r < g.rows(); ++r) {
    for (int c = 0; c < g.cols(); ++c) {
      if (g.at(r, c) != 0) out.push_back({r, c});
    }
  }
  return out;
}

// Index of the strictly largest (or smallest) component, or -1 when tied.
int ExtremeComponent(const std::vector<Cells>& comps, bool largest) {
  int best = -1;
  bool tied = false;
  for (size_t i = 0; i < comps.size(); ++i) {
    if (best < 0) {
      best = static_cast<int>(i);
      continue;
    }
    const size_t a = comps[i].size(), b = comps[best].size();
    if (a == b) tied = true;
    if (largest ? a > b : a < b) {
      best = static_cast<int>(i);
      tied = false;
    }
  }
  return tied ? -1 : best;
}

// ---------------------------------------------------------------------------------------------
// Checkers: each returns "" when the task obeys its family's invariant, else what is wrong.

using Checker = std::function<std::string(const Task&)>;

// True when `pred` holds for every pair, for at least one candidate parameter.
template <typename P>
bool SomeParamFitsAll(const Task& t, const std::vector<P>& params,
                      const std::function<bool(const P&, const Example&)>& fits) {
  for (const P& p : params) {
    bool all = true;
    for (const Example& e : Pairs(t)) all = all && fits(p, e);
    if (all) return true;
  }
  return false;
}

Checker DihedralIn(std::vector<Dihedral> set) {
  return [set](const Task& t) -> std::string {
    if (SomeParamFitsAll<Dihedral>(t, set, [](const Dihedral& d, const Example& e) {
          return e.output == ApplyDihedral(d, e.input);
        })) {
      return "";
    }
    return "no single dihedral element of the family maps every input to its output";
  };
}

// The consistent cell-wise colour function of the task, or an error.
std::string ColourFunction(const Task& t, std::map<int, int>& f) {
  for (const Example& e : Pairs(t)) {
    if (!SameShape(e.input, e.output)) return "shape changed";
    for (size_t i = 0; i < e.input.cells().size(); ++i) {
      const int a = e.input.cells()[i], b = e.output.cells()[i];
      auto [it, fresh] = f.insert({a, b});
      if (!fresh && it->second != b) return absl::StrCat("colour ", a, " maps to two colours");
    }
  }
  return "";
}

std::string CheckColourMap(const Task& t) {
  std::map<int, int> f;
  if (std::string e = ColourFunction(t, f); !e.empty()) return e;
  if (f.count(0) && f[0] != 0) return "background recoloured";
  return "";
}

std::string CheckColourSwap(const Task& t) {
  std::map<int, int> f;
  if (std::string e = ColourFunction(t, f); !e.empty()) return e;
  std::vector<int> moved;
  for (auto [a, b] : f) {
    if (a != b) moved.push_back(a);
  }
  if (moved.size() != 2 || f[moved[0]] != moved[1] || f[moved[1]] != moved[0]) {
    return "not a swap of exactly two colours";
  }
  return "";
}

std::string CheckRemoveColour(const Task& t) {
  std::map<int, int> f;
  if (std::string e = ColourFunction(t, f); !e.empty()) return e;
  int removed = 0;
  for (auto [a, b] : f) {
    if (a != b && b != 0) return "a colour changed into another colour";
    removed += a != b;
  }
  return removed == 1 ? "" : "not exactly one colour erased";
}

std::string CheckInvert(const Task& t) {
  for (const Example& e : Pairs(t)) {
    const std::set<int> cs = ColoursOf(e.input);
    if (cs.size() != 1 || !SameShape(e.input, e.output)) return "not one foreground colour";
    const int c = *cs.begin();
    for (size_t i = 0; i < e.input.cells().size(); ++i) {
      if (e.output.cells()[i] != (e.input.cells()[i] == 0 ? c : 0)) return "not inverted";
    }
  }
  return "";
}

std::string CheckMajorityFill(const Task& t) {
  for (const Example& e : Pairs(t)) {
    int best = -1, best_n = 0, ties = 0;
    for (int c : ColoursOf(e.input)) {
      const int n = CountOf(e.input, c);
      if (n > best_n)
        best = c, best_n = n, ties = 0;
      else if (n == best_n)
        ++ties;
    }
    if (ties != 0) return "tied majority";
    if (!SameShape(e.input, e.output) || CountOf(e.output, best) != e.output.size()) {
      return "output is not filled with the majority colour";
    }
  }
  return "";
}

bool RowsAreMajorities(const Grid& in, const Grid& out) {
  if (!SameShape(in, out)) return false;
  for (int r = 0; r < in.rows(); ++r) {
    std::array<int, 10> n{};
    for (int c = 0; c < in.cols(); ++c) ++n[in.at(r, c)];
    const int top = *std::max_element(n.begin(), n.end());
    if (std::count(n.begin(), n.end(), top) != 1) return false;
    const int winner = static_cast<int>(std::max_element(n.begin(), n.end()) - n.begin());
    for (int c = 0; c < in.cols(); ++c) {
      if (out.at(r, c) != winner) return false;
    }
  }
  return true;
}

std::string CheckRowMajority(const Task& t) {
  const bool ok = SomeParamFitsAll<bool>(t, {false, true}, [](const bool& cols, const Example& e) {
    if (!cols) return RowsAreMajorities(e.input, e.output);
    return RowsAreMajorities(ApplyDihedral(Dihedral::kTranspose, e.input),
                             ApplyDihedral(Dihedral::kTranspose, e.output));
  });
  return ok ? "" : "rows (or columns) are not their majority colour";
}

// Gravity invariant in the frame where the fall is downward: each column keeps its sequence of
// colours, and no non-background cell has background below it.
bool SettledDown(const Grid& in, const Grid& out) {
  if (!SameShape(in, out)) return false;
  for (int c = 0; c < in.cols(); ++c) {
    std::vector<int> a, b;
    for (int r = 0; r < in.rows(); ++r) {
      if (in.at(r, c) != 0) a.push_back(in.at(r, c));
      if (out.at(r, c) != 0) b.push_back(out.at(r, c));
      if (r + 1 < in.rows() && out.at(r, c) != 0 && out.at(r + 1, c) == 0) return false;
    }
    if (a != b) return false;
  }
  return true;
}

std::string CheckGravity(const Task& t) {
  const std::vector<Dihedral> frames = {Dihedral::kIdentity, Dihedral::kFlipUD, Dihedral::kRot90,
                                        Dihedral::kRot270};
  const bool ok = SomeParamFitsAll<Dihedral>(t, frames, [](const Dihedral& d, const Example& e) {
    return SettledDown(ApplyDihedral(d, e.input), ApplyDihedral(d, e.output));
  });
  return ok ? "" : "no single direction in which every pair has settled";
}

// Every (dr, dc) with both in -reach..reach except (0, 0).
std::vector<std::pair<int, int>> NonZeroOffsets(int reach) {
  std::vector<std::pair<int, int>> offsets;
  for (int dr = -reach; dr <= reach; ++dr) {
    for (int dc = -reach; dc <= reach; ++dc) {
      if (dr != 0 || dc != 0) offsets.push_back({dr, dc});
    }
  }
  return offsets;
}

std::string CheckTranslate(const Task& t) {
  const bool ok = SomeParamFitsAll<std::pair<int, int>>(
      t, NonZeroOffsets(2), [](const std::pair<int, int>& o, const Example& e) {
        if (!SameShape(e.input, e.output) || NonBg(e.input).size() != NonBg(e.output).size()) {
          return false;
        }
        for (int r = 0; r < e.output.rows(); ++r) {
          for (int c = 0; c < e.output.cols(); ++c) {
            const int sr = r - o.first, sc = c - o.second;
            const int want = Inside(e.input, sr, sc) ? e.input.at(sr, sc) : 0;
            if (e.output.at(r, c) != want) return false;
          }
        }
        return true;
      });
  return ok ? "" : "no single offset moves every input onto its output";
}

std::string CheckRoll(const Task& t) {
  const bool ok = SomeParamFitsAll<std::pair<int, int>>(
      t, NonZeroOffsets(1), [](const std::pair<int, int>& o, const Example& e) {
        if (!SameShape(e.input, e.output)) return false;
        const int h = e.input.rows(), w = e.input.cols();
        for (int r = 0; r < h; ++r) {
          for (int c = 0; c < w; ++c) {
            if (e.output.at(((r + o.first) % h + h) % h, ((c + o.second) % w + w) % w) !=
                e.input.at(r, c)) {
              return false;
            }
          }
        }
        return true;
      });
  return ok ? "" : "no single cyclic shift fits";
}

// Heights of bottom-anchored single-colour bars, or empty when some column is not such a bar.
std::vector<int> BarHeights(const Grid& g, std::set<int>& colours) {
  std::vector<int> h;
  for (int c = 0; c < g.cols(); ++c) {
    int n = 0;
    while (n < g.rows() && g.at(g.rows() - 1 - n, c) != 0)
      colours.insert(g.at(g.rows() - 1 - n++, c));
    for (int r = 0; r < g.rows() - n; ++r) {
      if (g.at(r, c) != 0) return {};
    }
    h.push_back(n);
  }
  return h;
}

std::string CheckSortColumns(const Task& t) {
  const bool ok = SomeParamFitsAll<bool>(t, {true, false}, [](const bool& asc, const Example& e) {
    std::set<int> ci, co;
    std::vector<int> hi = BarHeights(e.input, ci), ho = BarHeights(e.output, co);
    if (!SameShape(e.input, e.output) || hi.empty() || ci != co || ci.size() > 1) return false;
    if (asc ? !std::is_sorted(ho.begin(), ho.end()) : !std::is_sorted(ho.rbegin(), ho.rend())) {
      return false;
    }
    std::sort(hi.begin(), hi.end());
    std::sort(ho.begin(), ho.end());
    return hi == ho;
  });
  return ok ? "" : "output bars are not the input bars sorted one way";
}

// out[r][c] == in[r / ky][c / kx] with out = (ky*h, kx*w).
bool IsUpscale(const Grid& small, const Grid& big, int ky, int kx) {
  if (big.rows() != small.rows() * ky || big.cols() != small.cols() * kx) return false;
  for (int r = 0; r < big.rows(); ++r) {
    for (int c = 0; c < big.cols(); ++c) {
      if (big.at(r, c) != small.at(r / ky, c / kx)) return false;
    }
  }
  return true;
}

std::string CheckScaleUp(const Task& t) {
  const bool ok = SomeParamFitsAll<int>(
      t, {2, 3}, [](const int& k, const Example& e) { return IsUpscale(e.input, e.output, k, k); });
  return ok ? "" : "outputs are not uniform-block k-fold scale-ups of the inputs";
}

std::string CheckScaleDown(const Task& t) {
  const bool ok = SomeParamFitsAll<int>(
      t, {2, 3}, [](const int& k, const Example& e) { return IsUpscale(e.output, e.input, k, k); });
  return ok ? "" : "inputs are not uniform-block k-fold scale-ups of the outputs";
}

std::string CheckTile(const Task& t) {
  std::vector<std::pair<int, int>> tilings;
  for (int ty = 1; ty <= 3; ++ty) {
    for (int tx = 1; tx <= 3; ++tx) {
      if (ty * tx > 1) tilings.push_back({ty, tx});
    }
  }
  const bool ok = SomeParamFitsAll<std::pair<int, int>>(
      t, tilings, [](const std::pair<int, int>& k, const Example& e) {
        if (e.output.rows() != k.first * e.input.rows() ||
            e.output.cols() != k.second * e.input.cols()) {
          return false;
        }
        for (int r = 0; r < e.output.rows(); ++r) {
          for (int c = 0; c < e.output.cols(); ++c) {
            if (e.output.at(r, c) != e.input.at(r % e.input.rows(), c % e.input.cols())) {
              return false;
            }
          }
        }
        return true;
      });
  return ok ? "" : "outputs are not one tiling of the inputs";
}

std::string CheckMirrorTile(const Task& t) {
  const std::vector<Dihedral> bases = {Dihedral::kIdentity, Dihedral::kFlipLR, Dihedral::kFlipUD,
                                       Dihedral::kRot180};
  const bool ok = SomeParamFitsAll<Dihedral>(t, bases, [](const Dihedral& d, const Example& e) {
    const int h = e.input.rows(), w = e.input.cols();
    if (e.output.rows() != 2 * h || e.output.cols() != 2 * w) return false;
    const Grid b = ApplyDihedral(d, e.input);
    return Sub(e.output, 0, 0, h, w) == b &&
           Sub(e.output, 0, w, h, w) == ApplyDihedral(Dihedral::kFlipLR, b) &&
           Sub(e.output, h, 0, h, w) == ApplyDihedral(Dihedral::kFlipUD, b) &&
           Sub(e.output, h, w, h, w) == ApplyDihedral(Dihedral::kRot180, b);
  });
  return ok ? "" : "outputs are not one 2x2 mirror tiling of the inputs";
}

std::string CheckReflectConcat(const Task& t) {
  // 0/1: side by side (input left / right), 2/3: stacked (input top / bottom).
  const bool ok = SomeParamFitsAll<int>(t, {0, 1, 2, 3}, [](const int& k, const Example& e) {
    const Grid& g = e.input;
    const bool stacked = k >= 2;
    const Grid m = ApplyDihedral(stacked ? Dihedral::kFlipUD : Dihedral::kFlipLR, g);
    if (e.output.rows() != g.rows() * (stacked ? 2 : 1) ||
        e.output.cols() != g.cols() * (stacked ? 1 : 2)) {
      return false;
    }
    const Grid first = Sub(e.output, 0, 0, g.rows(), g.cols());
    const Grid second =
        Sub(e.output, stacked ? g.rows() : 0, stacked ? 0 : g.cols(), g.rows(), g.cols());
    return k % 2 == 0 ? (first == g && second == m) : (first == m && second == g);
  });
  return ok ? "" : "outputs are not the inputs beside their mirror image in one arrangement";
}

std::string CheckFractal(const Task& t) {
  for (const Example& e : Pairs(t)) {
    const int n = e.input.rows(), m = e.input.cols();
    if (e.output.rows() != n * n || e.output.cols() != m * m) return "not n^2 x m^2";
    for (int i = 0; i < n; ++i) {
      for (int j = 0; j < m; ++j) {
        const Grid block = Sub(e.output, i * n, j * m, n, m);
        if (block != (e.input.at(i, j) != 0 ? e.input : Grid(n, m))) return "wrong block";
      }
    }
  }
  return "";
}

std::string CheckExtractQuadrant(const Task& t) {
  const bool ok = SomeParamFitsAll<int>(t, {0, 1, 2, 3}, [](const int& q, const Example& e) {
    const int h = e.input.rows() / 2, w = e.input.cols() / 2;
    if (e.input.rows() % 2 || e.input.cols() % 2) return false;
    return e.output == Sub(e.input, (q / 2) * h, (q % 2) * w, h, w);
  });
  return ok ? "" : "outputs are not one fixed quadrant";
}

// Input cells are either background or equal to the output's.
bool InputInsideOutput(const Example& e) {
  if (!SameShape(e.input, e.output)) return false;
  for (size_t i = 0; i < e.input.cells().size(); ++i) {
    if (e.input.cells()[i] != 0 && e.input.cells()[i] != e.output.cells()[i]) return false;
  }
  return true;
}

bool RowsPeriodic(const Grid& g) {
  for (int r = 0; r < g.rows(); ++r) {
    bool found = false;
    for (int p = 1; p <= g.cols() / 2 && !found; ++p) {
      bool periodic = true;
      for (int c = p; c < g.cols(); ++c) periodic = periodic && g.at(r, c) == g.at(r, c - p);
      found = periodic;
    }
    if (!found) return false;
  }
  return true;
}

std::string CheckPatternContinuation(const Task& t) {
  const bool ok =
      SomeParamFitsAll<bool>(t, {false, true}, [](const bool& vertical, const Example& e) {
        const Grid out = vertical ? ApplyDihedral(Dihedral::kTranspose, e.output) : e.output;
        return InputInsideOutput(e) && CountOf(e.output, 0) == 0 && RowsPeriodic(out);
      });
  return ok ? "" : "outputs are not complete periodic rows (or columns) extending the inputs";
}

std::string CheckPatternInpaint(const Task& t) {
  for (const Example& e : Pairs(t)) {
    if (!InputInsideOutput(e) || CountOf(e.output, 0) != 0) return "input not inside a full output";
    bool periodic = false;
    const Grid& g = e.output;
    for (int py = 1; py <= g.rows() / 2 && !periodic; ++py) {
      for (int px = 1; px <= g.cols() / 2 && !periodic; ++px) {
        bool ok = true;
        for (int r = 0; r < g.rows() && ok; ++r) {
          for (int c = 0; c < g.cols() && ok; ++c) ok = g.at(r, c) == g.at(r % py, c % px);
        }
        periodic = ok;
      }
    }
    if (!periodic) return "output is not doubly periodic";
  }
  return "";
}

std::string CheckSymmetryComplete(const Task& t) {
  // Bit 0: left-right, bit 1: up-down.
  const bool ok = SomeParamFitsAll<int>(t, {1, 2, 3}, [](const int& axes, const Example& e) {
    if (!InputInsideOutput(e)) return false;
    const Grid& g = e.output;
    if ((axes & 1) && ApplyDihedral(Dihedral::kFlipLR, g) != g) return false;
    if ((axes & 2) && ApplyDihedral(Dihedral::kFlipUD, g) != g) return false;
    // Every restored cell is visible at a mirror position of the input.
    for (int r = 0; r < g.rows(); ++r) {
      for (int c = 0; c < g.cols(); ++c) {
        if (e.input.at(r, c) == g.at(r, c)) continue;
        const int mr = g.rows() - 1 - r, mc = g.cols() - 1 - c;
        bool seen = false;
        if (axes & 1) seen |= e.input.at(r, mc) == g.at(r, c);
        if (axes & 2) seen |= e.input.at(mr, c) == g.at(r, c);
        if (axes == 3) seen |= e.input.at(mr, mc) == g.at(r, c);
        if (!seen) return false;
      }
    }
    return true;
  });
  return ok ? "" : "outputs are not one symmetric completion of the inputs";
}

std::string CheckDrawBorder(const Task& t) {
  std::set<int> frames;
  for (const Example& e : Pairs(t)) {
    if (!SameShape(e.input, e.output)) return "shape changed";
    for (int r = 0; r < e.input.rows(); ++r) {
      for (int c = 0; c < e.input.cols(); ++c) {
        const bool edge = r == 0 || c == 0 || r == e.input.rows() - 1 || c == e.input.cols() - 1;
        if (edge) frames.insert(e.output.at(r, c));
        if (!edge && e.output.at(r, c) != e.input.at(r, c)) return "interior changed";
      }
    }
  }
  return frames.size() == 1 && *frames.begin() != 0 ? "" : "frame is not one colour";
}

std::string CheckGridIntersection(const Task& t) {
  std::set<int> marks;
  for (const Example& e : Pairs(t)) {
    const Grid& g = e.input;
    if (!SameShape(g, e.output)) return "shape changed";
    std::vector<bool> line_row(g.rows(), true), line_col(g.cols(), true);
    for (int r = 0; r < g.rows(); ++r) {
      for (int c = 0; c < g.cols(); ++c) {
        if (g.at(r, c) == 0) line_row[r] = line_col[c] = false;
      }
    }
    for (int r = 0; r < g.rows(); ++r) {
      for (int c = 0; c < g.cols(); ++c) {
        if (line_row[r] && line_col[c]) {
          marks.insert(e.output.at(r, c));
        } else if (e.output.at(r, c) != g.at(r, c)) {
          return "a cell off the crossings changed";
        }
      }
    }
  }
  return marks.size() == 1 ? "" : "crossings are not one colour";
}

std::string CheckBooleanHalves(const Task& t) {
  // op 0..4: and, or, xor, nor, left-and-not-right; bit 3 of the parameter: stacked halves.
  std::vector<int> params;
  for (int op = 0; op < 5; ++op) params.insert(params.end(), {op, op | 8});
  const bool ok = SomeParamFitsAll<int>(t, params, [](const int& p, const Example& e) {
    const bool stacked = p & 8;
    const Grid in = stacked ? ApplyDihedral(Dihedral::kTranspose, e.input) : e.input;
    const Grid out = stacked ? ApplyDihedral(Dihedral::kTranspose, e.output) : e.output;
    const int half = in.cols() / 2;
    if (in.cols() % 2 == 0 || out.rows() != in.rows() || out.cols() != half) return false;
    for (int r = 0; r < in.rows(); ++r) {
      if (in.at(r, half) == 0 || in.at(r, half) != in.at(0, half)) return false;
    }
    if (ColoursOf(out).size() != 1) return false;
    for (int r = 0; r < in.rows(); ++r) {
      for (int c = 0; c < half; ++c) {
        const bool a = in.at(r, c) != 0, b = in.at(r, c + half + 1) != 0;
        const bool v = (p & 7) == 0   ? a && b
                       : (p & 7) == 1 ? a || b
                       : (p & 7) == 2 ? a != b
                       : (p & 7) == 3 ? !a && !b
                                      : a && !b;
        if (v != (out.at(r, c) != 0)) return false;
      }
    }
    return true;
  });
  return ok ? "" : "outputs are not one boolean combination of the halves";
}

std::string CheckColourHistogram(const Task& t) {
  for (const Example& e : Pairs(t)) {
    const std::set<int> cs = ColoursOf(e.input);
    if (e.output.rows() != static_cast<int>(cs.size())) return "one row per colour expected";
    int previous = 1 << 20;
    std::set<int> row_colours;
    for (int r = 0; r < e.output.rows(); ++r) {
      const int c = e.output.at(r, 0);
      int len = 0;
      while (len < e.output.cols() && e.output.at(r, len) == c) ++len;
      for (int k = len; k < e.output.cols(); ++k) {
        if (e.output.at(r, k) != 0) return "bar is not a prefix";
      }
      if (c == 0 || CountOf(e.input, c) != len) return "bar length is not the colour's count";
      if (len >= previous) return "bars not strictly decreasing";
      previous = len;
      row_colours.insert(c);
    }
    if (row_colours != cs) return "bar colours are not the input colours";
  }
  return "";
}

std::string CheckFillEnclosed(const Task& t) {
  std::set<int> fills;
  for (const Example& e : Pairs(t)) {
    if (!SameShape(e.input, e.output)) return "shape changed";
    const auto enclosed = Enclosed(e.input);
    for (int r = 0; r < e.input.rows(); ++r) {
      for (int c = 0; c < e.input.cols(); ++c) {
        if (enclosed[r][c]) {
          fills.insert(e.output.at(r, c));
        } else if (e.output.at(r, c) != e.input.at(r, c)) {
          return "a cell that is not enclosed changed";
        }
      }
    }
  }
  return fills.size() == 1 && *fills.begin() != 0 ? "" : "enclosed cells are not one fill colour";
}

std::string CheckFloodFill(const Task& t) {
  for (const Example& e : Pairs(t)) {
    if (!SameShape(e.input, e.output)) return "shape changed";
    // The seed: the one cell whose colour occurs once and which the fill took.
    std::set<int> changed_to;
    for (size_t i = 0; i < e.input.cells().size(); ++i) {
      if (e.input.cells()[i] != e.output.cells()[i]) {
        if (e.input.cells()[i] != 0) return "a non-background cell changed";
        changed_to.insert(e.output.cells()[i]);
      }
    }
    if (changed_to.size() != 1) return "fill is not one colour";
    const int s = *changed_to.begin();
    if (CountOf(e.input, s) != 1) return "the fill colour is not a single seed in the input";
    const auto it = std::find(e.input.cells().begin(), e.input.cells().end(), s);
    const int idx = static_cast<int>(it - e.input.cells().begin());
    const int sr = idx / e.input.cols(), sc = idx % e.input.cols();
    const auto region = BgReach(e.input, {{sr - 1, sc}, {sr + 1, sc}, {sr, sc - 1}, {sr, sc + 1}});
    for (int r = 0; r < e.input.rows(); ++r) {
      for (int c = 0; c < e.input.cols(); ++c) {
        const bool filled = e.input.at(r, c) == 0 && e.output.at(r, c) == s;
        if (filled != static_cast<bool>(region[r][c]))
          return "filled cells are not the seed's region";
      }
    }
  }
  return "";
}

// Same non-background mask; every input component is one colour in the output.
std::string ComponentsRecoloured(const Example& e, std::vector<std::pair<Cells, int>>& out) {
  if (!SameShape(e.input, e.output)) return "shape changed";
  for (size_t i = 0; i < e.input.cells().size(); ++i) {
    if ((e.input.cells()[i] == 0) != (e.output.cells()[i] == 0)) return "mask changed";
  }
  for (const Cells& comp : Components(e.input)) {
    const int colour = e.output.at(comp[0].first, comp[0].second);
    for (auto [r, c] : comp) {
      if (e.output.at(r, c) != colour) return "a component is not one colour";
    }
    out.push_back({comp, colour});
  }
  return "";
}

std::string CheckRecolourBySize(const Task& t) {
  std::map<size_t, int> by_size;
  for (const Example& e : Pairs(t)) {
    std::vector<std::pair<Cells, int>> comps;
    if (std::string err = ComponentsRecoloured(e, comps); !err.empty()) return err;
    for (const auto& [cells, colour] : comps) {
      auto [it, fresh] = by_size.insert({cells.size(), colour});
      if (!fresh && it->second != colour) return "two objects of one size got different colours";
    }
  }
  return "";
}

std::string CheckRecolourExtreme(const Task& t) {
  std::set<int> new_colours;
  std::set<bool> modes = {true, false};
  for (const Example& e : Pairs(t)) {
    std::vector<std::pair<Cells, int>> comps;
    if (std::string err = ComponentsRecoloured(e, comps); !err.empty()) return err;
    std::vector<Cells> cells;
    int changed = -1, n_changed = 0;
    for (size_t i = 0; i < comps.size(); ++i) {
      cells.push_back(comps[i].first);
      const auto [r, c] = comps[i].first[0];
      if (e.input.at(r, c) != comps[i].second) changed = static_cast<int>(i), ++n_changed;
    }
    if (n_changed != 1) return "not exactly one object recoloured";
    new_colours.insert(comps[changed].second);
    for (bool largest : {true, false}) {
      if (ExtremeComponent(cells, largest) != changed) modes.erase(largest);
    }
  }
  if (modes.empty())
    return "the recoloured object is not always the largest or always the smallest";
  return new_colours.size() == 1 ? "" : "recoloured objects do not share a colour";
}

std::string CheckKeepLargest(const Task& t) {
  for (const Example& e : Pairs(t)) {
    const std::vector<Cells> comps = Components(e.input);
    const int k = ExtremeComponent(comps, true);
    if (k < 0 || !SameShape(e.input, e.output)) return "no unique largest object";
    Grid want(e.input.rows(), e.input.cols());
    for (auto [r, c] : comps[k]) want.set(r, c, e.input.at(r, c));
    if (e.output != want) return "output is not the largest object alone";
  }
  return "";
}

std::string CheckCropObject(const Task& t) {
  for (const Example& e : Pairs(t)) {
    const std::vector<Cells> comps = Components(e.input);
    const int k = ExtremeComponent(comps, true);
    if (k < 0) return "no unique largest object";
    if (e.output != BboxCrop(e.input, comps[k])) return "output is not the largest object's box";
  }
  return "";
}

std::string CheckCropBbox(const Task& t) {
  for (const Example& e : Pairs(t)) {
    const Cells cells = NonBg(e.input);
    if (cells.empty() || e.output != BboxCrop(e.input, cells)) return "not the bounding box";
  }
  return "";
}

bool Isolated(const Grid& g, int r, int c) {
  for (int dr = -1; dr <= 1; ++dr) {
    for (int dc = -1; dc <= 1; ++dc) {
      if ((dr || dc) && Inside(g, r + dr, c + dc) && g.at(r + dr, c + dc) != 0) return false;
    }
  }
  return true;
}

std::string CheckDenoise(const Task& t) {
  for (const Example& e : Pairs(t)) {
    if (!SameShape(e.input, e.output)) return "shape changed";
    for (int r = 0; r < e.input.rows(); ++r) {
      for (int c = 0; c < e.input.cols(); ++c) {
        const bool noise = e.input.at(r, c) != 0 && Isolated(e.input, r, c);
        if (e.output.at(r, c) != (noise ? 0 : e.input.at(r, c))) return "wrong cell";
        if (e.output.at(r, c) != 0 && Isolated(e.output, r, c)) return "output has isolated pixels";
      }
    }
  }
  return "";
}

std::string CheckHollow(const Task& t) {
  for (const Example& e : Pairs(t)) {
    const Grid& g = e.input;
    if (!SameShape(g, e.output)) return "shape changed";
    for (int r = 0; r < g.rows(); ++r) {
      for (int c = 0; c < g.cols(); ++c) {
        bool interior = g.at(r, c) != 0;
        for (auto [dr, dc] : {std::pair{1, 0}, {-1, 0}, {0, 1}, {0, -1}}) {
          interior = interior && Inside(g, r + dr, c + dc) && g.at(r + dr, c + dc) != 0;
        }
        if (e.output.at(r, c) != (interior ? 0 : g.at(r, c))) return "wrong cell";
      }
    }
  }
  return "";
}

std::string CheckOutline(const Task& t) {
  std::set<int> halos;
  for (const Example& e : Pairs(t)) {
    const Grid& g = e.input;
    if (!SameShape(g, e.output)) return "shape changed";
    for (int r = 0; r < g.rows(); ++r) {
      for (int c = 0; c < g.cols(); ++c) {
        if (g.at(r, c) != 0) {
          if (e.output.at(r, c) != g.at(r, c)) return "an object cell changed";
        } else if (Isolated(g, r, c)) {
          if (e.output.at(r, c) != 0) return "a cell away from objects changed";
        } else {
          halos.insert(e.output.at(r, c));
        }
      }
    }
  }
  return halos.size() == 1 && *halos.begin() != 0 ? "" : "halo is not one colour";
}

std::string CheckRecolourByMarker(const Task& t) {
  const bool ok = SomeParamFitsAll<int>(t, {0, 1, 2, 3}, [](const int& k, const Example& e) {
    const Grid& g = e.input;
    const int m = g.at(k / 2 ? g.rows() - 1 : 0, k % 2 ? g.cols() - 1 : 0);
    if (m == 0 || !SameShape(g, e.output) || ColoursOf(g).size() != 2) return false;
    for (size_t i = 0; i < g.cells().size(); ++i) {
      if (e.output.cells()[i] != (g.cells()[i] == 0 ? 0 : m)) return false;
    }
    return true;
  });
  return ok ? "" : "objects do not take the colour of one corner's marker";
}

std::string CheckCopyToMarkers(const Task& t) {
  const bool ok =
      SomeParamFitsAll<int>(t, {1, 2, 3, 4, 5, 6, 7, 8, 9}, [](const int& m, const Example& e) {
        const Grid& g = e.input;
        if (!SameShape(g, e.output) || CountOf(g, m) == 0) return false;
        Grid rest = g;
        Cells markers;
        for (int r = 0; r < g.rows(); ++r) {
          for (int c = 0; c < g.cols(); ++c) {
            if (g.at(r, c) == m) {
              markers.push_back({r, c});
              rest.set(r, c, 0);
            }
          }
        }
        const Cells cells = NonBg(rest);
        if (cells.empty()) return false;
        const Grid tmpl = BboxCrop(rest, cells);
        const auto anchor = NonBg(tmpl)[0];  // row-major first
        Grid want = rest;
        for (auto [r, c] : markers) {
          const int r0 = r - anchor.first, c0 = c - anchor.second;
          if (r0 < 0 || c0 < 0 || r0 + tmpl.rows() > g.rows() || c0 + tmpl.cols() > g.cols()) {
            return false;
          }
          // Only the template's cells: windows may overlap where the template is background.
          for (int i = 0; i < tmpl.rows(); ++i) {
            for (int j = 0; j < tmpl.cols(); ++j) {
              if (tmpl.at(i, j) != 0) want.set(r0 + i, c0 + j, tmpl.at(i, j));
            }
          }
        }
        return want == e.output;
      });
  return ok ? "" : "outputs are not the template stamped at the markers of one colour";
}

std::string CheckLinesBetweenPoints(const Task& t) {
  for (const Example& e : Pairs(t)) {
    const Grid& g = e.input;
    if (!SameShape(g, e.output)) return "shape changed";
    for (int r = 0; r < g.rows(); ++r) {
      for (int c = 0; c < g.cols(); ++c) {
        const int x = e.output.at(r, c);
        if (g.at(r, c) != 0) {
          if (x != g.at(r, c)) return "an input pixel changed";
          continue;
        }
        if (x == 0) continue;
        auto has = [&](int dr, int dc) {
          for (int a = r + dr, b = c + dc; Inside(g, a, b); a += dr, b += dc) {
            if (g.at(a, b) == x) return true;
          }
          return false;
        };
        if (!((has(0, -1) && has(0, 1)) || (has(-1, 0) && has(1, 0)))) {
          return "a drawn cell is not between two pixels of its colour";
        }
      }
    }
  }
  return "";
}

std::string CheckCornersToBox(const Task& t) {
  for (const Example& e : Pairs(t)) {
    const Grid& g = e.input;
    Grid want(g.rows(), g.cols());
    for (int colour : ColoursOf(g)) {
      Cells cells;
      for (auto rc : NonBg(g)) {
        if (g.at(rc.first, rc.second) == colour) cells.push_back(rc);
      }
      if (cells.size() != 2) return "a colour is not exactly two corners";
      const int r0 = std::min(cells[0].first, cells[1].first);
      const int r1 = std::max(cells[0].first, cells[1].first);
      const int c0 = std::min(cells[0].second, cells[1].second);
      const int c1 = std::max(cells[0].second, cells[1].second);
      if (r1 - r0 < 2 || c1 - c0 < 2) return "corners closer than a 3x3 box";
      for (int r = r0; r <= r1; ++r) {
        for (int c = c0; c <= c1; ++c) {
          if (r == r0 || r == r1 || c == c0 || c == c1) want.set(r, c, colour);
        }
      }
    }
    if (want != e.output) return "output is not the boxes of the corner pairs";
  }
  return "";
}

Checker RaysIn(std::vector<std::pair<int, int>> dirs) {
  return [dirs](const Task& t) -> std::string {
    const bool ok = SomeParamFitsAll<std::pair<int, int>>(
        t, dirs, [](const std::pair<int, int>& d, const Example& e) {
          Grid want = e.input;
          for (auto [r, c] : NonBg(e.input)) {
            for (int a = r + d.first, b = c + d.second; Inside(want, a, b);
                 a += d.first, b += d.second) {
              if (e.input.at(a, b) != 0) return false;  // rays never hit another pixel
              want.set(a, b, e.input.at(r, c));
            }
          }
          return want == e.output;
        });
    return ok ? "" : "outputs are not the inputs' rays in one direction";
  };
}

std::string CheckDrawCross(const Task& t) {
  std::vector<std::pair<int, int>> params;  // (stencil 0 plus / 1 x / 2 ring, colour)
  for (int s = 0; s < 3; ++s) {
    for (int c = 1; c <= 9; ++c) params.push_back({s, c});
  }
  const bool ok = SomeParamFitsAll<std::pair<int, int>>(
      t, params, [](const std::pair<int, int>& p, const Example& e) {
        Grid want = e.input;
        for (auto [r, c] : NonBg(e.input)) {
          for (int dr = -1; dr <= 1; ++dr) {
            for (int dc = -1; dc <= 1; ++dc) {
              const bool orth = (dr == 0) != (dc == 0), diag = dr != 0 && dc != 0;
              const bool in = p.first == 0 ? orth : p.first == 1 ? diag : orth || diag;
              if (in && Inside(want, r + dr, c + dc)) want.set(r + dr, c + dc, p.second);
            }
          }
        }
        return want == e.output;
      });
  return ok ? "" : "outputs are not one stencil drawn around the input pixels";
}

Checker BarOfCount(std::function<int(const Grid&)> count) {
  return [count](const Task& t) -> std::string {
    std::set<int> colours;
    for (const Example& e : Pairs(t)) {
      if (e.output.rows() != 1 || ColoursOf(e.output).size() != 1 || CountOf(e.output, 0) != 0) {
        return "output is not a one-colour bar";
      }
      if (e.output.cols() != count(e.input)) {
        return absl::StrCat("bar length ", e.output.cols(), " != count ", count(e.input));
      }
      colours.insert(e.output.at(0, 0));
    }
    return colours.size() == 1 ? "" : "bars differ in colour";
  };
}

const std::map<std::string, Checker>& Checkers() {
  static const auto* table = new std::map<std::string, Checker>{
      {"rotate", DihedralIn({Dihedral::kRot90, Dihedral::kRot180, Dihedral::kRot270})},
      {"flip", DihedralIn({Dihedral::kFlipUD, Dihedral::kFlipLR})},
      {"transpose", DihedralIn({Dihedral::kTranspose, Dihedral::kAntiTranspose})},
      {"colour_map", CheckColourMap},
      {"colour_swap", CheckColourSwap},
      {"remove_colour", CheckRemoveColour},
      {"invert", CheckInvert},
      {"majority_colour_fill", CheckMajorityFill},
      {"row_majority", CheckRowMajority},
      {"gravity", CheckGravity},
      {"translate", CheckTranslate},
      {"roll", CheckRoll},
      {"sort_columns", CheckSortColumns},
      {"scale_up", CheckScaleUp},
      {"scale_down", CheckScaleDown},
      {"tile", CheckTile},
      {"mirror_tile", CheckMirrorTile},
      {"reflect_concat", CheckReflectConcat},
      {"fractal", CheckFractal},
      {"extract_quadrant", CheckExtractQuadrant},
      {"pattern_continuation", CheckPatternContinuation},
      {"pattern_inpaint", CheckPatternInpaint},
      {"symmetry_complete", CheckSymmetryComplete},
      {"draw_border", CheckDrawBorder},
      {"grid_intersection", CheckGridIntersection},
      {"boolean_halves", CheckBooleanHalves},
      {"colour_histogram", CheckColourHistogram},
      {"fill_enclosed", CheckFillEnclosed},
      {"flood_fill_seed", CheckFloodFill},
      {"recolour_by_size", CheckRecolourBySize},
      {"recolour_extreme", CheckRecolourExtreme},
      {"keep_largest", CheckKeepLargest},
      {"crop_object", CheckCropObject},
      {"crop_bbox", CheckCropBbox},
      {"denoise", CheckDenoise},
      {"hollow_objects", CheckHollow},
      {"outline_objects", CheckOutline},
      {"recolour_by_marker", CheckRecolourByMarker},
      {"copy_to_markers", CheckCopyToMarkers},
      {"lines_between_points", CheckLinesBetweenPoints},
      {"corners_to_box", CheckCornersToBox},
      {"connect_to_edge", RaysIn({{1, 0}, {-1, 0}, {0, 1}, {0, -1}})},
      {"diagonal_rays", RaysIn({{1, 1}, {1, -1}, {-1, 1}, {-1, -1}})},
      {"draw_cross", CheckDrawCross},
      {"count_objects_bar",
       BarOfCount([](const Grid& g) { return static_cast<int>(Components(g).size()); })},
      {"count_holes_bar", BarOfCount(EnclosedRegions)},
  };
  return *table;
}

// ---------------------------------------------------------------------------------------------
// Structural checks every generated task must pass.

std::string CheckStructure(const Task& t, const FamilyInfo& info, const Difficulty& d) {
  if (!ValidateTask(t).ok()) return std::string(ValidateTask(t).message());
  if (t.train.size() < 3 || t.train.size() > 5) return "demonstrations not 3..5";
  if (t.test.size() != 1 || !t.test[0].output) return "not one test pair with its output";
  std::set<Grid> inputs;
  const bool inputs_promised = info.sizes != SizePromise::kOutputs;
  const bool outputs_promised = info.sizes != SizePromise::kInputs;
  for (const Example& e : Pairs(t)) {
    if (e.input == e.output) return "a pair has output == input";
    if (!inputs.insert(e.input).second) return "an input repeats";
    for (const Grid* g : {&e.input, &e.output}) {
      if (g->rows() > d.max_side || g->cols() > d.max_side) return "grid above max_side";
      if (static_cast<int>(ColoursOf(*g).size()) > d.max_colours) return "too many colours";
      const bool promised = g == &e.input ? inputs_promised : outputs_promised;
      if (promised && (g->rows() < d.min_side || g->cols() < d.min_side)) {
        return "grid below min_side";
      }
    }
  }
  return "";
}

const FamilyInfo& Info(const std::string& name) {
  for (const FamilyInfo& f : Families()) {
    if (f.name == name) return f;
  }
  ADD_FAILURE() << "no family " << name;
  return Families()[0];
}

// ---------------------------------------------------------------------------------------------

TEST(GeneratorRegistryTest, FortyOrMoreUniqueFamiliesEachWithAChecker) {
  const std::vector<std::string> names = FamilyNames();
  EXPECT_GE(names.size(), 40u);
  EXPECT_EQ(std::set<std::string>(names.begin(), names.end()).size(), names.size());
  for (const std::string& n : names) EXPECT_EQ(Checkers().count(n), 1u) << n;
  EXPECT_EQ(Checkers().size(), names.size());
  for (const FamilyInfo& f : Families()) EXPECT_FALSE(f.rule.empty()) << f.name;
}

TEST(GeneratorRegistryTest, HeldOutSetIsTheDocumentedOneAndDisjointFromTraining) {
  const std::vector<std::string> held = HeldOutFamilies();
  EXPECT_EQ(std::set<std::string>(held.begin(), held.end()),
            (std::set<std::string>{"colour_swap", "diagonal_rays", "hollow_objects", "mirror_tile",
                                   "corners_to_box", "recolour_by_marker", "count_holes_bar"}));
  const std::vector<std::string> training = TrainingFamilies();
  std::set<std::string> all(training.begin(), training.end());
  for (const std::string& h : held) {
    EXPECT_EQ(std::count(training.begin(), training.end(), h), 0) << h;
    all.insert(h);
  }
  EXPECT_EQ(training.size() + held.size(), FamilyNames().size());
  const std::vector<std::string> names = FamilyNames();
  EXPECT_EQ(all, std::set<std::string>(names.begin(), names.end()));
}

TEST(GeneratorTest, EveryFamilyTwentySeedsValidDeterministicAndCorrect) {
  const Difficulty d;
  for (const std::string& family : FamilyNames()) {
    std::set<std::string> hashes;
    for (uint64_t seed = 0; seed < 20; ++seed) {
      absl::StatusOr<Task> task = GenerateTask(family, seed, d);
      ASSERT_TRUE(task.ok()) << family << " seed " << seed << ": " << task.status();
      EXPECT_EQ(task->id, absl::StrCat(family, "_", seed));
      EXPECT_EQ(CheckStructure(*task, Info(family), d), "") << family << " seed " << seed;
      EXPECT_EQ(Checkers().at(family)(*task), "") << family << " seed " << seed << "\n"
                                                  << TaskToJson(*task);
      absl::StatusOr<Task> again = GenerateTask(family, seed, d);
      ASSERT_TRUE(again.ok());
      EXPECT_EQ(ContentHash(*again), ContentHash(*task)) << family << " seed " << seed;
      hashes.insert(ContentHash(*task));
    }
    EXPECT_GE(hashes.size(), 18u) << family << ": different seeds should give different tasks";
  }
}

TEST(GeneratorTest, EveryFamilyHonoursSmallLargeAndSkewedDifficulties) {
  const std::vector<Difficulty> difficulties = {
      {3, 5, 2, 2},    // the smallest curriculum stage and then some
      {12, 30, 8, 9},  // large grids, many objects and colours
      {1, 12, 6, 3},   // sides from 1
      {8, 9, 3, 2},    // a narrow side range
  };
  for (const Difficulty& d : difficulties) {
    for (const std::string& family : FamilyNames()) {
      const absl::Status feasible = CheckFeasible(family, d);
      if (!feasible.ok()) {
        EXPECT_EQ(feasible.code(), absl::StatusCode::kFailedPrecondition) << family;
        continue;
      }
      for (uint64_t seed = 100; seed < 105; ++seed) {
        absl::StatusOr<Task> task = GenerateTask(family, seed, d);
        ASSERT_TRUE(task.ok()) << family << " sides " << d.min_side << ".." << d.max_side << ": "
                               << task.status();
        EXPECT_EQ(CheckStructure(*task, Info(family), d), "")
            << family << " sides " << d.min_side << ".." << d.max_side << " seed " << seed;
        EXPECT_EQ(Checkers().at(family)(*task), "")
            << family << " sides " << d.min_side << ".." << d.max_side << " seed " << seed << "\n"
            << TaskToJson(*task);
      }
    }
  }
}

// Every small difficulty that CheckFeasible accepts really generates (no exhausted redraws) and
// the result obeys the family's invariant; this is what lets TaskStream::At promise a task.
TEST(GeneratorTest, EverySmallFeasibleDifficultyGenerates) {
  std::map<std::string, int> generated;
  for (int lo = 1; lo <= 7; ++lo) {
    for (int hi = lo; hi <= 7; ++hi) {
      for (int objects : {1, 3}) {
        for (int colours : {1, 2, 3}) {
          const Difficulty d{lo, hi, objects, colours};
          for (const std::string& family : FamilyNames()) {
            if (!CheckFeasible(family, d).ok()) continue;
            absl::StatusOr<Task> task = GenerateTask(family, 1, d);
            ASSERT_TRUE(task.ok()) << family << " " << lo << ".." << hi << " objects " << objects
                                   << " colours " << colours << ": " << task.status();
            EXPECT_EQ(CheckStructure(*task, Info(family), d), "") << family;
            EXPECT_EQ(Checkers().at(family)(*task), "") << family << "\n" << TaskToJson(*task);
            ++generated[family];
          }
        }
      }
    }
  }
  for (const std::string& family : FamilyNames()) {
    EXPECT_GE(generated[family], 30) << family << " is feasible at too few small difficulties";
  }
}

// Families whose objects are exactly the input's connected components keep their count within
// max_objects (recolour_by_marker adds its one marker pixel).
TEST(GeneratorTest, ObjectFamiliesHonourMaxObjects) {
  const std::map<std::string, int> extra = {
      {"keep_largest", 0},       {"crop_object", 0},       {"recolour_extreme", 0},
      {"recolour_by_size", 0},   {"count_objects_bar", 0}, {"outline_objects", 0},
      {"hollow_objects", 0},     {"connect_to_edge", 0},   {"draw_cross", 0},
      {"recolour_by_marker", 1}, {"copy_to_markers", 0}};
  for (const Difficulty& d : {Difficulty{3, 10, 2, 4}, Difficulty{6, 14, 5, 4}}) {
    for (const auto& [family, plus] : extra) {
      for (uint64_t seed = 0; seed < 10; ++seed) {
        const Task t = *GenerateTask(family, seed, d);
        for (const Example& e : Pairs(t)) {
          EXPECT_LE(static_cast<int>(Components(e.input).size()), d.max_objects + plus)
              << family << " seed " << seed;
        }
      }
    }
  }
}

TEST(GeneratorTest, AllFamiliesFeasibleAtTheCurriculumDifficulties) {
  for (const CurriculumStage& stage : DefaultCurriculum()) {
    for (const std::string& family : FamilyNames()) {
      EXPECT_TRUE(CheckFeasible(family, stage.difficulty).ok()) << family;
    }
  }
  for (const std::string& family : FamilyNames()) {
    EXPECT_TRUE(CheckFeasible(family, {3, 5, 2, 2}).ok()) << family;
  }
}

TEST(GeneratorTest, ErrorsNameTheProblem) {
  absl::StatusOr<Task> unknown = GenerateTask("nope", 1);
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(unknown.status().message()),
            "unknown family \"nope\"; known: " + absl::StrJoin(FamilyNames(), ", "));

  EXPECT_EQ(GenerateTask("rotate", 1, {3, 31, 4, 4}).status(),
            absl::InvalidArgumentError("max_side: 31, must be in min_side (3)..30"));
  EXPECT_EQ(GenerateTask("rotate", 1, {0, 10, 4, 4}).status(),
            absl::InvalidArgumentError("min_side: 0, must be in 1..30"));
  EXPECT_EQ(GenerateTask("rotate", 1, {5, 4, 4, 4}).status(),
            absl::InvalidArgumentError("max_side: 4, must be in min_side (5)..30"));
  EXPECT_EQ(GenerateTask("rotate", 1, {3, 10, 0, 4}).status(),
            absl::InvalidArgumentError("max_objects: 0, must be in 1..30"));
  EXPECT_EQ(GenerateTask("rotate", 1, {3, 10, 4, 10}).status(),
            absl::InvalidArgumentError("max_colours: 10, must be in 1..9"));

  EXPECT_EQ(GenerateTask("fill_enclosed", 1, {3, 10, 4, 1}).status(),
            absl::FailedPreconditionError("fill_enclosed needs max_colours >= 2, got 1"));
  EXPECT_EQ(GenerateTask("keep_largest", 1, {3, 10, 1, 4}).status(),
            absl::FailedPreconditionError("keep_largest needs max_objects >= 2, got 1"));
  EXPECT_EQ(GenerateTask("copy_to_markers", 1, {3, 4, 4, 4}).status(),
            absl::FailedPreconditionError("copy_to_markers needs max_side >= 5, got 4"));
  EXPECT_EQ(GenerateTask("fractal", 1, {10, 10, 4, 4}).status(),
            absl::FailedPreconditionError(
                "fractal needs a square n*n (n >= 2) in [min_side, max_side], got 10..10"));
  EXPECT_EQ(GenerateTask("rotate", 1, {1, 1, 1, 1}).status(),
            absl::FailedPreconditionError("rotate needs max_side >= 2, got 1"));
  EXPECT_EQ(GenerateTask("scale_up", 1, {5, 5, 4, 4}).status(),
            absl::FailedPreconditionError("scale_up needs a side in [min_side, max_side] that is "
                                          "2 or 3 times a side >= 2, got 5..5"));
  EXPECT_EQ(GenerateTask("boolean_halves", 1, {4, 4, 4, 4}).status(),
            absl::FailedPreconditionError(
                "boolean_halves needs an odd side >= 3 in [min_side, max_side], got 4..4"));
}

TEST(GeneratorTest, SeedsMixWithTheFamilyName) {
  // One seed, two families of the same shape of rule: independent draws.
  EXPECT_NE(ContentHash(*GenerateTask("flip", 7)), ContentHash(*GenerateTask("rotate", 7)));
  EXPECT_NE(TaskSeed(1, 0), TaskSeed(1, 1));
  EXPECT_NE(TaskSeed(1, 0), TaskSeed(2, 0));
  EXPECT_EQ(TaskSeed(5, 3), TaskSeed(5, 3));
}

// Golden values: the generator's output must not drift silently (a change invalidates every
// number measured on generated tasks before it; update these deliberately, with a note).
TEST(GeneratorTest, GoldenTask) {
  absl::StatusOr<Task> t = GenerateTask("scale_up", 42);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(ContentHash(*t), "b0e72badf77051de");
  EXPECT_EQ(t->train.size(), 5u);
  EXPECT_EQ(t->train[0].input.ToString(),
            "[[0 5 0 5 5]\n [0 0 0 5 5]\n [5 0 0 5 5]\n [5 5 0 5 5]\n [5 5 5 5 5]]");
  TaskStreamOptions options;
  options.seed = 1;
  EXPECT_EQ(ContentHash(TaskStream::Create(options)->At(0)), "7822cb04606a3869");
}

// ---------------------------------------------------------------------------------------------
// TaskStream.

TEST(TaskStreamTest, DeterministicResumableAndTrainingOnly) {
  TaskStreamOptions options;
  options.seed = 9;
  absl::StatusOr<TaskStream> a = TaskStream::Create(options);
  absl::StatusOr<TaskStream> b = TaskStream::Create(options);
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(b.ok());
  std::vector<std::string> hashes;
  for (int i = 0; i < 40; ++i) {
    const Task t = a->Next();
    hashes.push_back(ContentHash(t));
    EXPECT_EQ(ContentHash(b->Next()), hashes.back());
    EXPECT_EQ(t.id.rfind(a->FamilyAt(i) + "_", 0), 0u) << t.id;
  }
  EXPECT_EQ(a->position(), 40);
  b->Seek(17);
  EXPECT_EQ(ContentHash(b->Next()), hashes[17]);
  EXPECT_EQ(ContentHash(a->At(3)), hashes[3]);

  const std::vector<std::string> held = HeldOutFamilies();
  const std::vector<std::string> training = TrainingFamilies();
  std::set<std::string> seen;
  for (int64_t i = 0; i < 4000; ++i) {
    const std::string& f = a->FamilyAt(i * 37);
    EXPECT_EQ(std::count(held.begin(), held.end(), f), 0) << f;
    seen.insert(f);
  }
  EXPECT_EQ(seen, std::set<std::string>(training.begin(), training.end()));

  options.seed = 10;
  absl::StatusOr<TaskStream> c = TaskStream::Create(options);
  ASSERT_TRUE(c.ok());
  int same = 0;
  for (int i = 0; i < 40; ++i) same += ContentHash(c->At(i)) == hashes[i];
  EXPECT_LE(same, 2);
}

TEST(TaskStreamTest, CurriculumStagesGrowTheGrids) {
  TaskStreamOptions options;
  options.seed = 3;
  options.curriculum = {{5, {3, 4, 2, 2}}, {5, {5, 7, 3, 3}}, {1, {8, 12, 4, 5}}};
  absl::StatusOr<TaskStream> s = TaskStream::Create(options);
  ASSERT_TRUE(s.ok()) << s.status();
  for (int i = 0; i < 30; ++i) {
    const Difficulty want = i < 5    ? Difficulty{3, 4, 2, 2}
                            : i < 10 ? Difficulty{5, 7, 3, 3}
                                     : Difficulty{8, 12, 4, 5};
    const Difficulty& got = s->DifficultyAt(i);
    EXPECT_EQ(got.min_side, want.min_side) << i;
    EXPECT_EQ(got.max_side, want.max_side) << i;
    const Task t = s->Next();
    EXPECT_LE(std::max(t.MaxRows(), t.MaxCols()), want.max_side) << i << " " << t.id;
  }
}

TEST(TaskStreamTest, SkipsFamiliesInfeasibleAtAStage) {
  TaskStreamOptions options;
  options.families = {"rotate", "fill_enclosed"};
  options.curriculum = {{10, {3, 10, 4, 1}}, {0, {3, 10, 4, 4}}};
  absl::StatusOr<TaskStream> s = TaskStream::Create(options);
  ASSERT_TRUE(s.ok()) << s.status();
  std::set<std::string> later;
  for (int i = 0; i < 10; ++i) EXPECT_EQ(s->FamilyAt(i), "rotate");
  for (int i = 10; i < 60; ++i) later.insert(s->FamilyAt(i));
  EXPECT_EQ(later, (std::set<std::string>{"rotate", "fill_enclosed"}));
}

TEST(TaskStreamTest, CreateRejectsBadOptions) {
  TaskStreamOptions held;
  held.families = {"rotate", "mirror_tile"};
  EXPECT_EQ(TaskStream::Create(held).status(),
            absl::InvalidArgumentError(
                "families: \"mirror_tile\" is held out of training; set allow_held_out to stream "
                "it"));
  held.allow_held_out = true;
  absl::StatusOr<TaskStream> ok = TaskStream::Create(held);
  ASSERT_TRUE(ok.ok());
  std::set<std::string> seen;
  for (int i = 0; i < 50; ++i) seen.insert(ok->FamilyAt(i));
  EXPECT_EQ(seen, (std::set<std::string>{"rotate", "mirror_tile"}));

  TaskStreamOptions unknown;
  unknown.families = {"rotate", "nope"};
  EXPECT_EQ(TaskStream::Create(unknown).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(TaskStream::Create(unknown).status().message())
                .rfind("families: unknown family \"nope\"; known: rotate, ", 0),
            0u);

  TaskStreamOptions bad_stage;
  bad_stage.curriculum = {{0, {3, 10, 4, 4}}, {0, {3, 10, 4, 4}}};
  EXPECT_EQ(
      TaskStream::Create(bad_stage).status(),
      absl::InvalidArgumentError("curriculum[0].num_tasks: 0, must be > 0 before the last stage"));
  bad_stage.curriculum = {{0, {3, 40, 4, 4}}};
  EXPECT_EQ(TaskStream::Create(bad_stage).status(),
            absl::InvalidArgumentError(
                "curriculum[0].difficulty.max_side: 40, must be in min_side (3)..30"));

  TaskStreamOptions none_feasible;
  none_feasible.families = {"fill_enclosed"};
  none_feasible.curriculum = {{0, {3, 10, 4, 1}}};
  EXPECT_EQ(TaskStream::Create(none_feasible).status(),
            absl::InvalidArgumentError(
                "curriculum[0]: no listed family can generate at this difficulty"));
}

}  // namespace
}  // namespace arc
