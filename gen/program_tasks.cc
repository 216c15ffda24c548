#include "gen/program_tasks.h"

#include <algorithm>
#include <optional>
#include <set>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/data/range_check.h"
#include "core/data/rng.h"
#include "core/data/status_macros.h"
#include "core/data/task_io.h"
#include "core/search/dsl.h"
#include "gen/generator_families.h"
#include "nlohmann/json.hpp"

namespace arc {
namespace {

using search::Dsl;
using search::Image;
using search::Kind;
using search::Primitive;

// As in the search's enumerator: a list state larger than this many cells is a dead branch.
constexpr int kMaxStateCells = 4000;

constexpr const char* kHeldOutPrimitiveNames[] = {"hull",
                                                  "connect_h",
                                                  "connect_v",
                                                  "connect_hv",
                                                  "cols_xor",
                                                  "rows_xor",
                                                  "self_kron",
                                                  "unique_colours",
                                                  "count_colours_row",
                                                  "count_colours_column",
                                                  "count_colours_square"};
constexpr const char* kDihedralNames[] = {"rot90",   "rot180",    "rot270",        "flip_ud",
                                          "flip_lr", "transpose", "anti_transpose"};

// The held-out tables as bit sets over the DSL's indices, built once.
struct HeldOutTables {
  std::vector<std::string> primitives;
  std::vector<std::pair<std::string, std::string>> pairs;
  std::vector<bool> primitive;             // by index
  std::vector<std::vector<bool>> follows;  // [earlier][next]
};

const HeldOutTables& Tables() {
  static const HeldOutTables* const tables = [] {
    auto* t = new HeldOutTables();
    const std::vector<Primitive>& dsl = Dsl();
    const size_t n = dsl.size();
    t->primitive.assign(n, false);
    t->follows.assign(n, std::vector<bool>(n, false));
    for (const char* name : kHeldOutPrimitiveNames) {
      t->primitives.push_back(name);
      t->primitive[static_cast<size_t>(search::FindPrimitive(name))] = true;
    }
    auto is_dihedral = [](const std::string& name) {
      return std::find(std::begin(kDihedralNames), std::end(kDihedralNames), name) !=
             std::end(kDihedralNames);
    };
    // Every rule is "earlier matches A and next matches B"; the pairs are listed in DSL order.
    for (size_t a = 0; a < n; ++a) {
      for (size_t b = 0; b < n; ++b) {
        const std::string& x = dsl[a].name;
        const std::string& y = dsl[b].name;
        const bool gravity_then_turn =
            (absl::StartsWith(x, "gravity_") || absl::StartsWith(x, "fall_")) && is_dihedral(y);
        const bool crop_then_scale = x == "crop" && (y == "scale_2" || y == "scale_3");
        const bool keep_then_smear = absl::StartsWith(x, "keep_") && x.size() == 6 && x[5] >= '1' &&
                                     x[5] <= '9' && absl::StartsWith(y, "smear_");
        if (gravity_then_turn || crop_then_scale || keep_then_smear) {
          t->follows[a][b] = true;
          t->pairs.emplace_back(x, y);
        }
      }
    }
    return t;
  }();
  return *tables;
}

// One example's value between steps: an image, or a list of images (is_list).
struct Value {
  bool is_list = false;
  std::vector<Image> items;
  friend bool operator==(const Value& a, const Value& b) {
    return a.is_list == b.is_list && a.items == b.items;
  }
};

// Applies one primitive with the search's semantics (an image -> image primitive maps over a
// list and drops the items it does not apply to). False when it does not apply.
bool Apply(const Primitive& p, const Value& in, const search::ExampleContext& ctx, Value& out) {
  out.items.clear();
  int cells = 0;
  switch (p.kind) {
    case Kind::kImageToImage:
      out.is_list = in.is_list;
      for (const Image& i : in.items) {
        Image r = p.image_to_image(i, ctx);
        if (r.empty()) {
          if (!in.is_list) return false;
          continue;
        }
        cells += r.area();
        out.items.push_back(std::move(r));
      }
      break;
    case Kind::kImageToList:
      if (in.is_list) return false;
      out.is_list = true;
      out.items = p.image_to_list(in.items[0], ctx);
      break;
    case Kind::kListToImage: {
      if (!in.is_list) return false;
      Image r = p.list_to_image(in.items, ctx);
      if (r.empty()) return false;
      out.is_list = false;
      out.items.assign(1, std::move(r));
      break;
    }
    case Kind::kListToList:
      if (!in.is_list) return false;
      out.is_list = true;
      out.items = p.list_to_list(in.items, ctx);
      break;
  }
  if (out.items.empty()) return false;
  for (const Image& i : out.items) cells += i.area();
  return cells <= kMaxStateCells;
}

// The states after each step (element 0 is the input), or nullopt when a step does not apply.
std::optional<std::vector<Value>> Trace(const std::vector<int>& steps, const Grid& input) {
  const std::vector<Primitive>& dsl = Dsl();
  search::ExampleContext ctx;
  ctx.in_w = ctx.out_w = input.cols();
  ctx.in_h = ctx.out_h = input.rows();
  std::vector<Value> states(1);
  states[0].items.push_back(search::FromGrid(input));
  for (int s : steps) {
    if (s < 0 || s >= static_cast<int>(dsl.size())) return std::nullopt;
    Value next;
    if (!Apply(dsl[static_cast<size_t>(s)], states.back(), ctx, next)) return std::nullopt;
    states.push_back(std::move(next));
  }
  return states;
}

std::optional<Grid> FinalGrid(const Value& v) {
  if (v.is_list || v.items.size() != 1) return std::nullopt;
  const Image& img = v.items[0];
  if (img.empty() || img.w > kArcMaxSide || img.h > kArcMaxSide) return std::nullopt;
  return search::ToGrid(img);
}

bool Blank(const Grid& g) {
  return std::all_of(g.cells().begin(), g.cells().end(), [](uint8_t c) { return c == 0; });
}

// ---------------------------------------------------------------------------------------------
// Sampling programs.

// The colour parameter of keep_c / erase_c (0 for other primitives).
int ColourParameter(const std::string& name) {
  for (const char* prefix : {"keep_", "erase_"}) {
    if (absl::StartsWith(name, prefix) && name.size() == std::string(prefix).size() + 1 &&
        name.back() >= '1' && name.back() <= '9') {
      return name.back() - '0';
    }
  }
  return 0;
}

// The primitives that may come next, given the current value kind and the previous step.
std::vector<int> Candidates(bool is_list, bool last, int previous,
                            const std::vector<uint8_t>& palette, ProgramSplit split,
                            bool only_held_out) {
  const std::vector<Primitive>& dsl = Dsl();
  const HeldOutTables& held = Tables();
  std::vector<int> out;
  for (size_t i = 0; i < dsl.size(); ++i) {
    const Primitive& p = dsl[i];
    bool fits = false;
    switch (p.kind) {
      case Kind::kImageToImage:
        fits = !(last && is_list);
        break;
      case Kind::kImageToList:
        fits = !is_list && !last;
        break;
      case Kind::kListToImage:
        fits = is_list;
        break;
      case Kind::kListToList:
        fits = is_list && !last;
        break;
    }
    if (!fits || (!p.enumerated && !last)) continue;
    const int colour = ColourParameter(p.name);
    if (colour != 0 &&
        std::find(palette.begin(), palette.end(), static_cast<uint8_t>(colour)) == palette.end()) {
      continue;
    }
    const bool held_out =
        held.primitive[i] || (previous >= 0 && held.follows[static_cast<size_t>(previous)][i]);
    if (split == ProgramSplit::kTraining && held_out) continue;
    if (only_held_out && !held_out) continue;
    out.push_back(static_cast<int>(i));
  }
  return out;
}

// A group of the candidates uniformly (so the 13 smear directions weigh as much as one crop),
// then a primitive of it uniformly.
int ChooseByGroup(Rng& rng, const std::vector<int>& candidates) {
  const std::vector<Primitive>& dsl = Dsl();
  std::vector<std::string> groups;
  for (int c : candidates) {
    const std::string& g = dsl[static_cast<size_t>(c)].group;
    if (std::find(groups.begin(), groups.end(), g) == groups.end()) groups.push_back(g);
  }
  const std::string& group = gen::Choose(rng, groups);
  std::vector<int> members;
  for (int c : candidates) {
    if (dsl[static_cast<size_t>(c)].group == group) members.push_back(c);
  }
  return gen::Choose(rng, members);
}

// A well-typed chain of `depth` steps from an image to an image. In held-out mode each step
// prefers (with probability 1/2) a held-out primitive or pair where one fits; the caller still
// checks IsHeldOutProgram.
std::optional<std::vector<int>> SampleProgram(Rng& rng, int depth,
                                              const std::vector<uint8_t>& palette,
                                              ProgramSplit split) {
  std::vector<int> steps;
  bool is_list = false;
  for (int k = 0; k < depth; ++k) {
    const bool last = k + 1 == depth;
    const int previous = steps.empty() ? -1 : steps.back();
    std::vector<int> candidates;
    if (split == ProgramSplit::kHeldOut && gen::Chance(rng, 0.5)) {
      candidates = Candidates(is_list, last, previous, palette, split, /*only_held_out=*/true);
    }
    if (candidates.empty()) {
      candidates = Candidates(is_list, last, previous, palette, split, /*only_held_out=*/false);
    }
    if (candidates.empty()) return std::nullopt;
    const int p = ChooseByGroup(rng, candidates);
    const Kind kind = Dsl()[static_cast<size_t>(p)].kind;
    if (kind == Kind::kImageToList) is_list = true;
    if (kind == Kind::kListToImage) is_list = false;
    steps.push_back(p);
  }
  return steps;
}

// ---------------------------------------------------------------------------------------------
// Inputs.

enum class InputKind { kObjects, kNoise, kPixels, kRectangles, kPattern, kHalves };
constexpr InputKind kInputKinds[] = {InputKind::kObjects, InputKind::kNoise,
                                     InputKind::kPixels,  InputKind::kRectangles,
                                     InputKind::kPattern, InputKind::kHalves};

const char* InputKindName(InputKind k) {
  switch (k) {
    case InputKind::kObjects:
      return "objects";
    case InputKind::kNoise:
      return "noise";
    case InputKind::kPixels:
      return "pixels";
    case InputKind::kRectangles:
      return "rectangles";
    case InputKind::kPattern:
      return "pattern";
    case InputKind::kHalves:
      return "halves";
  }
  return "";
}

// What a task draws once: the input kind and its constants.
struct InputStyle {
  InputKind kind = InputKind::kObjects;
  std::vector<uint8_t> palette;
  double density = 0.3;  // noise, halves
  bool vertical = true;  // halves: a vertical separator line (left | right)
};

InputStyle DrawStyle(Rng& rng, const Difficulty& d) {
  InputStyle s;
  std::vector<InputKind> kinds;
  for (InputKind k : kInputKinds) {
    if (k == InputKind::kHalves && (d.max_colours < 2 || d.max_side < 3)) continue;
    kinds.push_back(k);
  }
  s.kind = gen::Choose(rng, kinds);
  const int min_colours = s.kind == InputKind::kHalves ? 2 : 1;
  s.palette = gen::DistinctColours(rng, gen::Uniform(rng, min_colours, d.max_colours));
  s.density = 0.15 + 0.35 * rng.UniformDouble();
  s.vertical = gen::Chance(rng, 0.5);
  return s;
}

std::optional<Grid> DrawInput(Rng& rng, const InputStyle& s, const Difficulty& d, int cap) {
  const int lo = std::min(d.min_side, cap);
  int rows = gen::Uniform(rng, lo, cap), cols = gen::Uniform(rng, lo, cap);
  Grid g(rows, cols);
  switch (s.kind) {
    case InputKind::kObjects: {
      const int n = gen::Uniform(rng, 1, d.max_objects);
      int placed = 0;
      for (int i = 0; i < n; ++i) {
        const int h = gen::Uniform(rng, 1, std::min(4, rows));
        const int w = gen::Uniform(rng, 1, std::min(4, cols));
        const Grid mask = gen::RandomShape(rng, h, w, gen::Uniform(rng, (h * w + 1) / 2, h * w));
        const auto spot = gen::FindSpot(rng, g, h, w, /*gap=*/1);
        if (!spot) continue;
        gen::StampMask(g, mask, spot->first, spot->second, gen::Choose(rng, s.palette));
        ++placed;
      }
      if (placed == 0) return std::nullopt;
      break;
    }
    case InputKind::kNoise:
      g = gen::RandomGrid(rng, rows, cols, s.palette, s.density);
      break;
    case InputKind::kPixels: {
      const int n = gen::Uniform(rng, 1, std::max(2, d.max_objects));
      for (int i = 0; i < n; ++i) {
        const uint8_t colour = gen::Choose(rng, s.palette);
        const int r = gen::Uniform(rng, 0, rows - 1), c = gen::Uniform(rng, 0, cols - 1);
        g.set(r, c, colour);
        if (gen::Chance(rng, 0.5)) {  // a partner in the same row or column
          if (gen::Chance(rng, 0.5)) {
            g.set(r, gen::Uniform(rng, 0, cols - 1), colour);
          } else {
            g.set(gen::Uniform(rng, 0, rows - 1), c, colour);
          }
        }
      }
      break;
    }
    case InputKind::kRectangles: {
      if (rows < 2 || cols < 2) return std::nullopt;
      const int n = gen::Uniform(rng, 1, d.max_objects);
      int placed = 0;
      for (int i = 0; i < n; ++i) {
        const int h = gen::Uniform(rng, 2, std::min(5, rows));
        const int w = gen::Uniform(rng, 2, std::min(5, cols));
        const auto spot = gen::FindSpot(rng, g, h, w, /*gap=*/1);
        if (!spot) continue;
        const bool hollow = h >= 3 && w >= 3 && gen::Chance(rng, 0.5);
        Grid mask(h, w, 1);
        if (hollow) {
          for (int r = 1; r + 1 < h; ++r)
            for (int c = 1; c + 1 < w; ++c) mask.set(r, c, 0);
        }
        gen::StampMask(g, mask, spot->first, spot->second, gen::Choose(rng, s.palette));
        ++placed;
      }
      if (placed == 0) return std::nullopt;
      break;
    }
    case InputKind::kPattern: {
      const int th = gen::Uniform(rng, 1, std::min(3, rows));
      const int tw = gen::Uniform(rng, 1, std::min(3, cols));
      const Grid tile = gen::RandomGrid(rng, th, tw, s.palette, 0.6);
      g = gen::MapCells(g, [&](int i, int j, uint8_t) { return tile.at(i % th, j % tw); });
      if (gen::Chance(rng, 0.3)) {  // a gap in the pattern
        const int h = gen::Uniform(rng, 1, std::max(1, rows / 3));
        const int w = gen::Uniform(rng, 1, std::max(1, cols / 3));
        const int r0 = gen::Uniform(rng, 0, rows - h), c0 = gen::Uniform(rng, 0, cols - w);
        for (int r = r0; r < r0 + h; ++r)
          for (int c = c0; c < c0 + w; ++c) g.set(r, c, 0);
      }
      break;
    }
    case InputKind::kHalves: {
      // Two halves of equal size on either side of a line of palette[0].
      const int across = s.vertical ? cols : rows;
      const int half = std::max(1, (across - 1) / 2);
      const std::vector<uint8_t> rest(s.palette.begin() + 1, s.palette.end());
      const int h = s.vertical ? rows : half, w = s.vertical ? half : cols;
      g = Grid(s.vertical ? rows : 2 * half + 1, s.vertical ? 2 * half + 1 : cols);
      for (int part = 0; part < 2; ++part) {
        const Grid block = gen::RandomGrid(rng, h, w, rest, s.density + 0.2);
        const int r0 = s.vertical ? 0 : part * (half + 1);
        const int c0 = s.vertical ? part * (half + 1) : 0;
        gen::StampGrid(g, block, r0, c0);
      }
      for (int i = 0; i < (s.vertical ? g.rows() : g.cols()); ++i) {
        if (s.vertical) {
          g.set(i, half, s.palette[0]);
        } else {
          g.set(half, i, s.palette[0]);
        }
      }
      break;
    }
  }
  if (Blank(g)) return std::nullopt;
  return g;
}

// The pairs drawn for one program, or the reason of the last failed draw.
struct PairsResult {
  std::optional<Task> task;
  ProgramRejection reason = ProgramRejection::kFailed;
};

// 4-6 pairs of distinct inputs and the program's outputs. A pair whose output equals its input,
// or whose program does not apply, is redrawn a few times; outputs over max_side make the later
// inputs smaller.
PairsResult DrawPairs(Rng& rng, const InputStyle& style, const Difficulty& d,
                      const std::vector<int>& steps) {
  constexpr int kTriesPerPair = 6;
  PairsResult result;
  const int num_pairs = gen::NumPairs(rng);
  int cap = d.max_side;
  std::vector<Example> pairs;
  std::set<Grid> inputs;
  for (int i = 0; i < num_pairs; ++i) {
    bool done = false;
    for (int t = 0; t < kTriesPerPair && !done; ++t) {
      std::optional<Grid> input = DrawInput(rng, style, d, cap);
      if (!input || inputs.count(*input) > 0) {
        result.reason = ProgramRejection::kInputs;
        continue;
      }
      std::optional<Grid> output = RunProgram(steps, *input);
      if (!output || Blank(*output)) {
        result.reason = ProgramRejection::kFailed;
        // A program that fails on the first input drawn is seldom rescued by another: give up.
        if (pairs.empty()) return result;
        continue;
      }
      const int side = std::max(output->rows(), output->cols());
      if (side > d.max_side) {
        result.reason = ProgramRejection::kTooLarge;
        cap = std::min(cap - 1, cap * d.max_side / side);
        if (cap < 1) return result;
        continue;
      }
      if (*output == *input) {
        result.reason = ProgramRejection::kIdentity;
        continue;
      }
      inputs.insert(*input);
      pairs.push_back({*std::move(input), *std::move(output)});
      done = true;
    }
    if (!done) return result;
  }
  Task task;
  task.train.assign(pairs.begin(), pairs.end() - 1);
  task.test.push_back({pairs.back().input, pairs.back().output});
  result.task = std::move(task);
  return result;
}

}  // namespace

absl::Status ValidateProgramTaskOptions(const ProgramTaskOptions& o) {
  ARC_RETURN_IF_ERROR(CheckIntRange("max_depth", o.max_depth, 1, kMaxProgramDepth));
  if (o.min_depth < 1 || o.min_depth > o.max_depth) {
    return absl::InvalidArgumentError(
        absl::StrCat("min_depth: ", o.min_depth, ", must be in 1..max_depth (", o.max_depth, ")"));
  }
  return absl::OkStatus();
}

const char* ProgramRejectionName(ProgramRejection r) {
  switch (r) {
    case ProgramRejection::kNotHeldOut:
      return "not_held_out";
    case ProgramRejection::kFailed:
      return "failed";
    case ProgramRejection::kTooLarge:
      return "too_large";
    case ProgramRejection::kIdentity:
      return "identity";
    case ProgramRejection::kConstant:
      return "constant";
    case ProgramRejection::kIdleStep:
      return "idle_step";
    case ProgramRejection::kNondeterministic:
      return "nondeterministic";
    case ProgramRejection::kInputs:
      return "inputs";
  }
  return "";
}

const std::vector<std::string>& HeldOutPrimitives() { return Tables().primitives; }

const std::vector<std::pair<std::string, std::string>>& HeldOutStepPairs() {
  return Tables().pairs;
}

bool IsHeldOutProgram(const std::vector<int>& steps) {
  const HeldOutTables& t = Tables();
  for (size_t k = 0; k < steps.size(); ++k) {
    const size_t s = static_cast<size_t>(steps[k]);
    if (s >= t.primitive.size()) continue;
    if (t.primitive[s]) return true;
    if (k > 0 && t.follows[static_cast<size_t>(steps[k - 1])][s]) return true;
  }
  return false;
}

std::string ProgramText(const std::vector<int>& steps) {
  std::string text = "x";
  for (int s : steps) text = absl::StrCat(Dsl()[static_cast<size_t>(s)].name, "(", text, ")");
  return text;
}

absl::StatusOr<std::vector<int>> ParseProgramText(std::string_view text) {
  std::vector<int> outer_first;
  std::string_view rest = text;
  while (rest != "x") {
    const size_t open = rest.find('(');
    if (open == std::string_view::npos || rest.empty() || rest.back() != ')') {
      return absl::InvalidArgumentError(absl::StrCat("program \"", std::string(text),
                                                     "\": expected name(...) or x at \"",
                                                     std::string(rest), "\""));
    }
    const std::string_view name = rest.substr(0, open);
    const int index = search::FindPrimitive(name);
    if (index < 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "program \"", std::string(text), "\": unknown primitive \"", std::string(name), "\""));
    }
    outer_first.push_back(index);
    rest = rest.substr(open + 1, rest.size() - open - 2);
  }
  return std::vector<int>(outer_first.rbegin(), outer_first.rend());
}

std::optional<Grid> RunProgram(const std::vector<int>& steps, const Grid& input) {
  std::optional<std::vector<Value>> states = Trace(steps, input);
  if (!states) return std::nullopt;
  return FinalGrid(states->back());
}

std::string ProgramTaskToJson(const ProgramTask& task) {
  nlohmann::json j = nlohmann::json::parse(TaskToJson(task.task));
  j["program"] = task.program;
  j["input_kind"] = task.input_kind;
  return j.dump();
}

bool PassesProgramFilter(const std::vector<int>& steps, const Task& task,
                         ProgramRejection* reason) {
  auto reject = [&](ProgramRejection r) {
    if (reason != nullptr) *reason = r;
    return false;
  };
  std::vector<Example> pairs = task.train;
  for (const TestCase& t : task.test) {
    if (!t.output) return reject(ProgramRejection::kFailed);
    pairs.push_back({t.input, *t.output});
  }
  std::vector<std::vector<Value>> traces;
  std::set<Grid> outputs, inputs;
  for (const Example& e : pairs) {
    std::optional<std::vector<Value>> trace = Trace(steps, e.input);
    if (!trace) return reject(ProgramRejection::kFailed);
    const std::optional<Grid> out = FinalGrid(trace->back());
    if (!out || Blank(*out)) return reject(ProgramRejection::kFailed);
    if (*out != e.output) return reject(ProgramRejection::kNondeterministic);
    if (*out == e.input) return reject(ProgramRejection::kIdentity);
    if (!inputs.insert(e.input).second) return reject(ProgramRejection::kInputs);
    outputs.insert(*out);
    traces.push_back(*std::move(trace));
  }
  if (outputs.size() < 2) return reject(ProgramRejection::kConstant);
  for (size_t k = 1; k <= steps.size(); ++k) {
    const bool idle = std::all_of(traces.begin(), traces.end(),
                                  [&](const std::vector<Value>& t) { return t[k] == t[k - 1]; });
    if (idle) return reject(ProgramRejection::kIdleStep);
  }
  return true;
}

absl::StatusOr<ProgramTask> GenerateProgramTask(uint64_t seed, const Difficulty& difficulty,
                                                const ProgramTaskOptions& options) {
  ARC_RETURN_IF_ERROR(ValidateDifficulty(difficulty));
  ARC_RETURN_IF_ERROR(ValidateProgramTaskOptions(options));
  if (difficulty.max_side < 2) {  // 1x1 inputs of a few colours: too few distinct pairs
    return absl::FailedPreconditionError(
        absl::StrCat("program tasks need max_side >= 2, got ", difficulty.max_side));
  }
  // A stream of its own, so that a seed shared with GenerateTask draws independently.
  Rng rng = Rng(seed).Fork(0x70726f6772616dULL);  // "program"
  ProgramTask out;
  constexpr int kDraws = 2000;
  // The depth is drawn once: deep programs are rejected more often, and redrawing the depth with
  // them would skew the kept tasks towards depth 1.
  const int depth = gen::Uniform(rng, options.min_depth, options.max_depth);
  for (int draw = 0; draw < kDraws; ++draw) {
    const InputStyle style = DrawStyle(rng, difficulty);
    std::optional<std::vector<int>> steps = SampleProgram(rng, depth, style.palette, options.split);
    if (!steps || (options.split == ProgramSplit::kHeldOut && !IsHeldOutProgram(*steps))) {
      ++out.rejected[static_cast<size_t>(ProgramRejection::kNotHeldOut)];
      continue;
    }
    PairsResult pairs = DrawPairs(rng, style, difficulty, *steps);
    ProgramRejection reason = pairs.reason;
    if (!pairs.task || !PassesProgramFilter(*steps, *pairs.task, &reason)) {
      ++out.rejected[static_cast<size_t>(reason)];
      continue;
    }
    out.task = *std::move(pairs.task);
    out.task.id = absl::StrCat("program_", seed);
    out.steps = *std::move(steps);
    out.program = ProgramText(out.steps);
    out.input_kind = InputKindName(style.kind);
    return out;
  }
  return absl::InternalError(absl::StrCat("program tasks: no program kept in ", kDraws,
                                          " draws for seed ", seed, " (a generator bug)"));
}

}  // namespace arc
