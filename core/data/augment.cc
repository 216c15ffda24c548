#include "core/data/augment.h"

#include <algorithm>
#include <cstdint>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace arc {

// ---------------------------------------------------------------------------------------------
// Dihedral

namespace {

constexpr std::array<std::string_view, 8> kDihedralNames = {
    "identity", "rot90", "rot180", "rot270", "flip_ud", "flip_lr", "transpose", "anti_transpose"};

bool SwapsShape(Dihedral d) {
  return d == Dihedral::kRot90 || d == Dihedral::kRot270 || d == Dihedral::kTranspose ||
         d == Dihedral::kAntiTranspose;
}

// The source cell (r, c) in an H x W input for output cell (i, j).
inline void Source(Dihedral d, int H, int W, int i, int j, int& r, int& c) {
  switch (d) {
    case Dihedral::kIdentity: r = i; c = j; return;
    case Dihedral::kRot90: r = j; c = W - 1 - i; return;
    case Dihedral::kRot180: r = H - 1 - i; c = W - 1 - j; return;
    case Dihedral::kRot270: r = H - 1 - j; c = i; return;
    case Dihedral::kFlipUD: r = H - 1 - i; c = j; return;
    case Dihedral::kFlipLR: r = i; c = W - 1 - j; return;
    case Dihedral::kTranspose: r = j; c = i; return;
    case Dihedral::kAntiTranspose: r = H - 1 - j; c = W - 1 - i; return;
  }
}

// Composition table, derived once by applying both elements to an asymmetric probe grid: this keeps
// the table provably consistent with ApplyDihedral instead of hand-written.
std::array<std::array<Dihedral, 8>, 8> BuildCompositionTable() {
  Grid probe(2, 3);
  for (int k = 0; k < 6; ++k) probe.set(k / 3, k % 3, static_cast<uint8_t>(k + 1));
  std::array<std::array<Dihedral, 8>, 8> table{};
  for (Dihedral a : kAllDihedral) {
    for (Dihedral b : kAllDihedral) {
      const Grid target = ApplyDihedral(b, ApplyDihedral(a, probe));
      for (Dihedral c : kAllDihedral) {
        if (ApplyDihedral(c, probe) == target) table[static_cast<int>(a)][static_cast<int>(b)] = c;
      }
    }
  }
  return table;
}

}  // namespace

std::string_view DihedralName(Dihedral d) { return kDihedralNames[static_cast<int>(d)]; }

std::optional<Dihedral> ParseDihedral(std::string_view name) {
  for (Dihedral d : kAllDihedral) {
    if (DihedralName(d) == name) return d;
  }
  return std::nullopt;
}

Grid ApplyDihedral(Dihedral d, const Grid& g) {
  const int H = g.rows(), W = g.cols();
  Grid out = SwapsShape(d) ? Grid(W, H) : Grid(H, W);
  for (int i = 0; i < out.rows(); ++i) {
    for (int j = 0; j < out.cols(); ++j) {
      int r = 0, c = 0;
      Source(d, H, W, i, j, r, c);
      out.set(i, j, g.at(r, c));
    }
  }
  return out;
}

Task ApplyDihedral(Dihedral d, const Task& task) {
  Task out = task;
  for (Example& e : out.train) {
    e.input = ApplyDihedral(d, e.input);
    e.output = ApplyDihedral(d, e.output);
  }
  for (TestCase& t : out.test) {
    t.input = ApplyDihedral(d, t.input);
    if (t.output) t.output = ApplyDihedral(d, *t.output);
  }
  return out;
}

Dihedral Inverse(Dihedral d) {
  switch (d) {
    case Dihedral::kRot90: return Dihedral::kRot270;
    case Dihedral::kRot270: return Dihedral::kRot90;
    default: return d;  // the identity, rot180 and the four reflections are involutions
  }
}

Dihedral Compose(Dihedral first, Dihedral second) {
  static const auto* const kTable = new std::array<std::array<Dihedral, 8>, 8>(BuildCompositionTable());
  return (*kTable)[static_cast<int>(first)][static_cast<int>(second)];
}

// ---------------------------------------------------------------------------------------------
// ColourMap

ColourMap::ColourMap() {
  for (int c = 0; c < kNumColours; ++c) table_[c] = static_cast<uint8_t>(c);
}

absl::StatusOr<ColourMap> ColourMap::FromTable(const std::array<uint8_t, kNumColours>& table) {
  if (table[0] != 0) {
    return absl::InvalidArgumentError(absl::StrCat("colour map: 0 maps to ", table[0],
                                                   ", the background colour 0 must stay 0"));
  }
  std::bitset<kNumColours> seen;
  for (int c = 0; c < kNumColours; ++c) {
    if (table[c] >= kNumColours) {
      return absl::InvalidArgumentError(
          absl::StrCat("colour map: ", c, " maps to ", table[c], ", not a colour 0..9"));
    }
    if (seen[table[c]]) {
      return absl::InvalidArgumentError(
          absl::StrCat("colour map: ", table[c], " is the image of two colours"));
    }
    seen[table[c]] = true;
  }
  ColourMap m;
  m.table_ = table;
  return m;
}

ColourMap ColourMap::RandomFixingZero(Rng& rng, std::bitset<kNumColours> used) {
  used[0] = false;
  std::vector<uint8_t> used_list, remaining;
  for (int c = 1; c < kNumColours; ++c) (used[c] ? used_list : remaining).push_back(static_cast<uint8_t>(c));
  rng.Shuffle(remaining);
  std::vector<uint8_t> permuted = used_list;
  rng.Shuffle(permuted);

  std::array<int, kNumColours> map;
  map.fill(-1);
  map[0] = 0;
  for (uint8_t c : used_list) {
    if (map[c] != -1) continue;
    if (!remaining.empty()) {
      map[c] = remaining.back();
      remaining.pop_back();
    } else {
      const uint8_t other = permuted.back();
      permuted.pop_back();
      map[other] = c;
      map[c] = other;
      permuted.erase(std::remove(permuted.begin(), permuted.end(), c), permuted.end());
    }
  }
  // Complete to a bijection: pair unmapped sources with untaken targets in ascending order.
  std::bitset<kNumColours> taken;
  for (int c = 0; c < kNumColours; ++c) {
    if (map[c] != -1) taken[map[c]] = true;
  }
  int next_target = 0;
  for (int c = 0; c < kNumColours; ++c) {
    if (map[c] != -1) continue;
    while (taken[next_target]) ++next_target;
    map[c] = next_target;
    taken[next_target] = true;
  }
  ColourMap m;
  for (int c = 0; c < kNumColours; ++c) m.table_[c] = static_cast<uint8_t>(map[c]);
  return m;
}

ColourMap ColourMap::Inverse() const {
  ColourMap inv;
  for (int c = 0; c < kNumColours; ++c) inv.table_[table_[c]] = static_cast<uint8_t>(c);
  return inv;
}

bool ColourMap::IsIdentity() const { return *this == ColourMap(); }

Grid ColourMap::Apply(const Grid& g) const {
  Grid out(g.rows(), g.cols());
  for (int r = 0; r < g.rows(); ++r)
    for (int c = 0; c < g.cols(); ++c) out.set(r, c, table_[g.at(r, c)]);
  return out;
}

Task ColourMap::Apply(const Task& task) const {
  Task out = task;
  for (Example& e : out.train) {
    e.input = Apply(e.input);
    e.output = Apply(e.output);
  }
  for (TestCase& t : out.test) {
    t.input = Apply(t.input);
    if (t.output) t.output = Apply(*t.output);
  }
  return out;
}

std::bitset<kNumColours> ColoursUsed(const Task& task, bool include_test_outputs) {
  std::bitset<kNumColours> used;
  auto add = [&used](const Grid& g) {
    for (uint8_t c : g.cells()) used[c] = true;
  };
  for (const Example& e : task.train) {
    add(e.input);
    add(e.output);
  }
  for (const TestCase& t : task.test) {
    add(t.input);
    if (include_test_outputs && t.output) add(*t.output);
  }
  return used;
}

// ---------------------------------------------------------------------------------------------
// Demonstration order

Task ReorderDemonstrations(const Task& task, const std::vector<int>& order) {
  Task out = task;
  out.train.clear();
  out.train.reserve(order.size());
  for (int i : order) out.train.push_back(task.train[i]);
  return out;
}

// ---------------------------------------------------------------------------------------------
// TTT augmenters

namespace {

class DihedralAugmenter final : public Augmenter {
 public:
  explicit DihedralAugmenter(Dihedral d) : d_(d) {}
  std::string Name() const override {
    switch (d_) {
      case Dihedral::kIdentity: return "Identity()";
      case Dihedral::kRot90: return "Rotate(90)";
      case Dihedral::kRot180: return "Rotate(180)";
      case Dihedral::kRot270: return "Rotate(270)";
      case Dihedral::kFlipUD: return "Flip(0)";
      case Dihedral::kFlipLR: return "Flip(1)";
      case Dihedral::kTranspose: return "Transpose()";
      case Dihedral::kAntiTranspose: return "AntiTranspose()";
    }
    return "";
  }
  Grid Apply(const Grid& g, const AugmentDraw&) const override { return ApplyDihedral(d_, g); }

 private:
  Dihedral d_;
};

class Reflect final : public Augmenter {
 public:
  Reflect(int axis, bool reverse) : axis_(axis), reverse_(reverse) {}
  std::string Name() const override {
    return absl::StrCat("Reflect(", axis_, ",reverse=", reverse_ ? "True" : "False", ")");
  }
  Grid Apply(const Grid& g, const AugmentDraw&) const override {
    const Grid flipped = ApplyDihedral(axis_ == 0 ? Dihedral::kFlipUD : Dihedral::kFlipLR, g);
    const Grid& first = reverse_ ? flipped : g;
    const Grid& second = reverse_ ? g : flipped;
    const int H = g.rows(), W = g.cols();
    Grid out = axis_ == 0 ? Grid(2 * H, W) : Grid(H, 2 * W);
    for (int r = 0; r < H; ++r) {
      for (int c = 0; c < W; ++c) {
        out.set(r, c, first.at(r, c));
        if (axis_ == 0) out.set(H + r, c, second.at(r, c));
        else out.set(r, W + c, second.at(r, c));
      }
    }
    return out;
  }

 private:
  int axis_;
  bool reverse_;
};

class Repeat final : public Augmenter {
 public:
  Repeat(int axis, int n) : axis_(axis), n_(n) {}
  std::string Name() const override { return absl::StrCat("Repeat(", axis_, ",", n_, ")"); }
  Grid Apply(const Grid& g, const AugmentDraw&) const override {
    const int fr = axis_ == 0 || axis_ == 2 ? n_ : 1;
    const int fc = axis_ == 1 || axis_ == 2 ? n_ : 1;
    Grid out(g.rows() * fr, g.cols() * fc);
    for (int r = 0; r < out.rows(); ++r)
      for (int c = 0; c < out.cols(); ++c) out.set(r, c, g.at(r % g.rows(), c % g.cols()));
    return out;
  }

 private:
  int axis_, n_;
};

// Cell (r, c) of the output reads input cell (r / fr, c / fc): numpy's repeat along each axis.
class Upscale final : public Augmenter {
 public:
  Upscale(std::string name, int fr, int fc) : name_(std::move(name)), fr_(fr), fc_(fc) {}
  std::string Name() const override { return name_; }
  Grid Apply(const Grid& g, const AugmentDraw&) const override {
    Grid out(g.rows() * fr_, g.cols() * fc_);
    for (int r = 0; r < out.rows(); ++r)
      for (int c = 0; c < out.cols(); ++c) out.set(r, c, g.at(r / fr_, c / fc_));
    return out;
  }

 private:
  std::string name_;
  int fr_, fc_;
};

// numpy's roll(g, (sx, sy), axis=(0, 1)): cell (r, c) moves to ((r + sx) % H, (c + sy) % W).
Grid Roll(const Grid& g, int sx, int sy) {
  const int H = g.rows(), W = g.cols();
  Grid out(H, W);
  for (int r = 0; r < H; ++r)
    for (int c = 0; c < W; ++c) out.set((r + sx) % H, (c + sy) % W, g.at(r, c));
  return out;
}

class RandomTranslateXY final : public Augmenter {
 public:
  std::string Name() const override { return "RandomTranslateXY()"; }
  bool UsesRandomness() const override { return true; }
  Grid Apply(const Grid& g, const AugmentDraw& draw) const override {
    const int sx = static_cast<int>(draw.u0 * std::min(4, g.rows()));
    const int sy = static_cast<int>(draw.u1 * std::min(4, g.cols()));
    return Roll(g, sx, sy);
  }
};

// numpy's legacy RandomState(seed).randint(0, n) for small n: MT19937 seeded by init_genrand
// (std::mt19937's seeding is the same recurrence), masked rejection sampling on 32-bit outputs.
class NumpyLegacyRandint {
 public:
  explicit NumpyLegacyRandint(uint32_t seed) : mt_(seed) {}
  int Next(int n) {
    const uint32_t range = static_cast<uint32_t>(n - 1);  // numpy's rng = high - low - 1
    if (range == 0) return 0;                             // no draw at all
    uint32_t mask = range;
    for (int shift = 1; shift < 32; shift <<= 1) mask |= mask >> shift;
    uint32_t v;
    do {
      v = static_cast<uint32_t>(mt_()) & mask;
    } while (v > range);
    return static_cast<int>(v);
  }

 private:
  std::mt19937 mt_;
};

// marc's shifts (TranslateMode::kMarc): the pair's input and output continue one fresh stream.
class MarcRandomTranslateXY final : public Augmenter {
 public:
  explicit MarcRandomTranslateXY(uint64_t seed) : seed_(static_cast<uint32_t>(seed)) {}
  std::string Name() const override { return "RandomTranslateXY()"; }
  Grid Apply(const Grid& g, const AugmentDraw&) const override {
    NumpyLegacyRandint stream(seed_);
    return Shift(g, stream);
  }
  std::pair<Grid, std::optional<Grid>> ApplyToPair(const Grid& input, const Grid* output,
                                                   const AugmentDraw&) const override {
    NumpyLegacyRandint stream(seed_);  // the pair's deepcopy of RandomState(seed)
    Grid in = Shift(input, stream);
    std::optional<Grid> out;
    if (output != nullptr) out = Shift(*output, stream);
    return {std::move(in), std::move(out)};
  }

 private:
  static Grid Shift(const Grid& g, NumpyLegacyRandint& stream) {
    const int sx = stream.Next(std::min(4, g.rows()));
    const int sy = stream.Next(std::min(4, g.cols()));
    return Roll(g, sx, sy);
  }
  uint32_t seed_;
};

class Chain final : public Augmenter {
 public:
  explicit Chain(std::vector<AugmenterPtr> parts) : parts_(std::move(parts)) {}
  std::string Name() const override {
    std::vector<std::string> names;
    for (const AugmenterPtr& p : parts_) names.push_back(p->Name());
    return absl::StrCat("Chain([", absl::StrJoin(names, ","), "])");
  }
  bool UsesRandomness() const override {
    return std::any_of(parts_.begin(), parts_.end(),
                       [](const AugmenterPtr& p) { return p->UsesRandomness(); });
  }
  Grid Apply(const Grid& g, const AugmentDraw& draw) const override {
    Grid out = g;
    for (const AugmenterPtr& p : parts_) out = p->Apply(out, draw);
    return out;
  }

 private:
  std::vector<AugmenterPtr> parts_;
};

}  // namespace

AugmenterPtr MakeDihedralAugmenter(Dihedral d) { return std::make_shared<DihedralAugmenter>(d); }
AugmenterPtr MakeReflect(int axis, bool reverse) { return std::make_shared<Reflect>(axis, reverse); }
AugmenterPtr MakeRepeat(int axis, int n) { return std::make_shared<Repeat>(axis, n); }
AugmenterPtr MakeIncreaseResolution(int f) {
  return std::make_shared<Upscale>(absl::StrCat("IncreaseResolution(", f, ")"), f, f);
}
AugmenterPtr MakeIncreaseHeight(int f) {
  return std::make_shared<Upscale>(absl::StrCat("IncreaseHeight(", f, ")"), f, 1);
}
AugmenterPtr MakeIncreaseWidth(int f) {
  return std::make_shared<Upscale>(absl::StrCat("IncreaseWidth(", f, ")"), 1, f);
}
std::string_view TranslateModeName(TranslateMode mode) {
  return mode == TranslateMode::kMarc ? "marc" : "consistent";
}
std::optional<TranslateMode> ParseTranslateMode(std::string_view name) {
  if (name == "consistent") return TranslateMode::kConsistent;
  if (name == "marc") return TranslateMode::kMarc;
  return std::nullopt;
}

AugmenterPtr MakeRandomTranslateXY(TranslateMode mode, uint64_t seed) {
  if (mode == TranslateMode::kMarc) return std::make_shared<MarcRandomTranslateXY>(seed);
  return std::make_shared<RandomTranslateXY>();
}

std::pair<Grid, std::optional<Grid>> Augmenter::ApplyToPair(const Grid& input, const Grid* output,
                                                            const AugmentDraw& draw) const {
  std::optional<Grid> out;
  if (output != nullptr) out = Apply(*output, draw);
  return {Apply(input, draw), std::move(out)};
}
AugmenterPtr MakeChain(std::vector<AugmenterPtr> parts) {
  return std::make_shared<Chain>(std::move(parts));
}

std::vector<AugmenterPtr> PaperTttAugmenters(const PaperAugmenterGroups& groups,
                                             TranslateMode translate, uint64_t seed) {
  std::vector<AugmenterPtr> out;
  if (groups.basic) {
    out.push_back(MakeDihedralAugmenter(Dihedral::kRot90));
    out.push_back(MakeDihedralAugmenter(Dihedral::kRot270));
    out.push_back(MakeDihedralAugmenter(Dihedral::kRot180));
    out.push_back(MakeDihedralAugmenter(Dihedral::kFlipUD));
    out.push_back(MakeDihedralAugmenter(Dihedral::kFlipLR));
    out.push_back(MakeReflect(0, true));
    out.push_back(MakeReflect(1, true));
    out.push_back(MakeReflect(0, false));
    out.push_back(MakeReflect(1, false));
    out.push_back(MakeRandomTranslateXY(translate, seed));
    out.push_back(MakeDihedralAugmenter(Dihedral::kTranspose));
  }
  if (groups.size) {
    out.push_back(MakeIncreaseResolution(2));
    out.push_back(MakeIncreaseHeight(2));
    out.push_back(MakeIncreaseWidth(2));
  }
  if (groups.chain) {
    for (Dihedral d : {Dihedral::kRot90, Dihedral::kRot270, Dihedral::kRot180, Dihedral::kFlipUD,
                       Dihedral::kFlipLR, Dihedral::kTranspose}) {
      out.push_back(MakeChain({MakeDihedralAugmenter(d), MakeIncreaseResolution(2)}));
    }
  }
  if (groups.repeat) {
    out.push_back(MakeRepeat(0, 2));
    out.push_back(MakeRepeat(1, 2));
    out.push_back(MakeRepeat(2, 2));
  }
  return out;
}

std::optional<Task> AugmentTask(const Task& task, const Augmenter& aug, Rng& rng, int max_side) {
  AugmentDraw draw;
  if (aug.UsesRandomness()) {
    draw.u0 = rng.UniformDouble();
    draw.u1 = rng.UniformDouble();
  }
  auto fits = [max_side](const Grid& g) { return g.rows() <= max_side && g.cols() <= max_side; };
  Task out;
  out.id = task.id;
  out.train.reserve(task.train.size());
  for (const Example& e : task.train) {
    auto [in, o] = aug.ApplyToPair(e.input, &e.output, draw);
    Example a{std::move(in), std::move(*o)};
    if (!fits(a.input) || !fits(a.output)) return std::nullopt;
    out.train.push_back(std::move(a));
  }
  for (const TestCase& t : task.test) {
    auto [in, o] = aug.ApplyToPair(t.input, t.output ? &*t.output : nullptr, draw);
    TestCase a{std::move(in), std::move(o)};
    if (!fits(a.input) || (a.output && !fits(*a.output))) return std::nullopt;
    out.test.push_back(std::move(a));
  }
  return out;
}

}  // namespace arc
