#include "gen/generator.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/data/status_macros.h"
#include "gen/generator_families.h"

namespace arc {
namespace gen {

FamilyDef Def(const char* name, const char* rule, SizePromise sizes, int needs_max_side,
              int needs_max_colours, int needs_max_objects, FamilyFn make, FeasibleFn feasible) {
  FamilyDef def;
  def.info.name = name;
  def.info.rule = rule;
  def.info.sizes = sizes;
  def.info.needs_max_side = needs_max_side;
  def.info.needs_max_colours = needs_max_colours;
  def.info.needs_max_objects = needs_max_objects;
  def.make = make;
  def.feasible = feasible;
  return def;
}

// ---------------------------------------------------------------------------------------------
// Draws.

int Uniform(Rng& rng, int lo, int hi) { return static_cast<int>(rng.UniformInt(lo, hi)); }

bool Chance(Rng& rng, double p) { return rng.UniformDouble() < p; }

std::vector<uint8_t> DistinctColours(Rng& rng, int k, const std::vector<uint8_t>& exclude) {
  std::vector<uint8_t> pool;
  for (uint8_t c = 1; c < kNumColours; ++c) {
    if (std::find(exclude.begin(), exclude.end(), c) == exclude.end()) pool.push_back(c);
  }
  rng.Shuffle(pool);
  pool.resize(std::min(pool.size(), static_cast<size_t>(std::max(k, 0))));
  return pool;
}

int NumPairs(Rng& rng) { return Uniform(rng, 4, 6); }

std::optional<int> DrawSide(Rng& rng, const Difficulty& d, int lo, int hi) {
  lo = std::max(d.min_side, lo);
  hi = std::min(d.max_side, hi);
  if (lo > hi) return std::nullopt;
  return Uniform(rng, lo, hi);
}

std::pair<int, int> MultipleRange(const Difficulty& d, int k) {
  return {std::max(1, (d.min_side + k - 1) / k), d.max_side / k};
}

// ---------------------------------------------------------------------------------------------
// Grids and shapes.

Grid RandomGrid(Rng& rng, int rows, int cols, const std::vector<uint8_t>& palette, double density) {
  Grid g(rows, cols);
  for (int r = 0; r < rows; ++r) {
    for (int c = 0; c < cols; ++c) {
      if (Chance(rng, density)) g.set(r, c, Choose(rng, palette));
    }
  }
  return g;
}

Grid RandomShape(Rng& rng, int h, int w, int cells) {
  Grid mask(h, w);
  cells = std::clamp(cells, 1, h * w);
  // Grow from a random cell by adding a random frontier cell; the frontier is a vector with
  // swap-removal, so the draw order (and thus the shape) is the same on every platform.
  std::vector<std::pair<int, int>> frontier;
  auto add = [&](int r, int c) {
    mask.set(r, c, 1);
    const int dr[] = {-1, 1, 0, 0};
    const int dc[] = {0, 0, -1, 1};
    for (int k = 0; k < 4; ++k) {
      const int nr = r + dr[k], nc = c + dc[k];
      if (nr < 0 || nc < 0 || nr >= h || nc >= w || mask.at(nr, nc) != 0) continue;
      if (std::find(frontier.begin(), frontier.end(), std::make_pair(nr, nc)) == frontier.end()) {
        frontier.emplace_back(nr, nc);
      }
    }
  };
  add(Uniform(rng, 0, h - 1), Uniform(rng, 0, w - 1));
  for (int n = 1; n < cells && !frontier.empty(); ++n) {
    const size_t i = static_cast<size_t>(rng.Below(frontier.size()));
    const auto [r, c] = frontier[i];
    frontier[i] = frontier.back();
    frontier.pop_back();
    add(r, c);
  }
  return mask;
}

Grid Trim(const Grid& g) {
  int r0 = g.rows(), r1 = -1, c0 = g.cols(), c1 = -1;
  for (int r = 0; r < g.rows(); ++r) {
    for (int c = 0; c < g.cols(); ++c) {
      if (g.at(r, c) == kBg) continue;
      r0 = std::min(r0, r);
      r1 = std::max(r1, r);
      c0 = std::min(c0, c);
      c1 = std::max(c1, c);
    }
  }
  if (r1 < 0) return Grid(1, 1);
  return Crop(g, r0, c0, r1 - r0 + 1, c1 - c0 + 1);
}

bool IsFree(const Grid& canvas, int r, int c, int h, int w, int gap) {
  if (r < 0 || c < 0 || r + h > canvas.rows() || c + w > canvas.cols()) return false;
  const int r0 = std::max(0, r - gap), r1 = std::min(canvas.rows() - 1, r + h - 1 + gap);
  const int c0 = std::max(0, c - gap), c1 = std::min(canvas.cols() - 1, c + w - 1 + gap);
  for (int i = r0; i <= r1; ++i) {
    for (int j = c0; j <= c1; ++j) {
      if (canvas.at(i, j) != kBg) return false;
    }
  }
  return true;
}

std::optional<std::pair<int, int>> FindSpot(Rng& rng, const Grid& canvas, int h, int w, int gap,
                                            int tries) {
  if (h > canvas.rows() || w > canvas.cols()) return std::nullopt;
  for (int t = 0; t < tries; ++t) {
    const int r = Uniform(rng, 0, canvas.rows() - h);
    const int c = Uniform(rng, 0, canvas.cols() - w);
    if (IsFree(canvas, r, c, h, w, gap)) return std::make_pair(r, c);
  }
  return std::nullopt;
}

void StampMask(Grid& canvas, const Grid& mask, int r, int c, uint8_t colour) {
  for (int i = 0; i < mask.rows(); ++i) {
    for (int j = 0; j < mask.cols(); ++j) {
      if (mask.at(i, j) != 0) canvas.set(r + i, c + j, colour);
    }
  }
}

void StampGrid(Grid& canvas, const Grid& src, int r, int c) {
  for (int i = 0; i < src.rows(); ++i) {
    for (int j = 0; j < src.cols(); ++j) {
      if (src.at(i, j) != kBg) canvas.set(r + i, c + j, src.at(i, j));
    }
  }
}

Grid Crop(const Grid& g, int r, int c, int h, int w) {
  Grid out(h, w);
  for (int i = 0; i < h; ++i) {
    for (int j = 0; j < w; ++j) out.set(i, j, g.at(r + i, c + j));
  }
  return out;
}

int CountNonBg(const Grid& g) {
  return static_cast<int>(
      std::count_if(g.cells().begin(), g.cells().end(), [](uint8_t v) { return v != kBg; }));
}

int CountColour(const Grid& g, uint8_t colour) {
  return static_cast<int>(std::count(g.cells().begin(), g.cells().end(), colour));
}

int NumColours(const Grid& g) {
  bool seen[kNumColours] = {};
  int n = 0;
  for (uint8_t v : g.cells()) {
    if (v != kBg && !seen[v]) {
      seen[v] = true;
      ++n;
    }
  }
  return n;
}

namespace {

// Marks (value 1 in `mark`) the 4-connected cells of colour `colour` reachable from the seeds.
void Flood(const Grid& g, uint8_t colour, std::vector<std::pair<int, int>> stack, Grid& mark) {
  while (!stack.empty()) {
    const auto [r, c] = stack.back();
    stack.pop_back();
    if (r < 0 || c < 0 || r >= g.rows() || c >= g.cols()) continue;
    if (mark.at(r, c) != 0 || g.at(r, c) != colour) continue;
    mark.set(r, c, 1);
    stack.insert(stack.end(), {{r - 1, c}, {r + 1, c}, {r, c - 1}, {r, c + 1}});
  }
}

}  // namespace

Grid EnclosedMask(const Grid& g) {
  Grid outside(g.rows(), g.cols());
  std::vector<std::pair<int, int>> border;
  for (int r = 0; r < g.rows(); ++r) border.insert(border.end(), {{r, 0}, {r, g.cols() - 1}});
  for (int c = 0; c < g.cols(); ++c) border.insert(border.end(), {{0, c}, {g.rows() - 1, c}});
  Flood(g, kBg, border, outside);
  Grid enclosed(g.rows(), g.cols());
  for (int r = 0; r < g.rows(); ++r) {
    for (int c = 0; c < g.cols(); ++c) {
      if (g.at(r, c) == kBg && outside.at(r, c) == 0) enclosed.set(r, c, 1);
    }
  }
  return enclosed;
}

int CountEnclosedRegions(const Grid& g) {
  const Grid enclosed = EnclosedMask(g);
  Grid seen(g.rows(), g.cols());
  int n = 0;
  for (int r = 0; r < g.rows(); ++r) {
    for (int c = 0; c < g.cols(); ++c) {
      if (enclosed.at(r, c) == 0 || seen.at(r, c) != 0) continue;
      ++n;
      Flood(g, kBg, {{r, c}}, seen);
    }
  }
  return n;
}

Grid RegionMask(const Grid& g, int r, int c) {
  Grid mark(g.rows(), g.cols());
  Flood(g, g.at(r, c), {{r, c}}, mark);
  return mark;
}

Grid MapCells(const Grid& g, const std::function<uint8_t(int i, int j, uint8_t v)>& f) {
  Grid out(g.rows(), g.cols());
  for (int i = 0; i < g.rows(); ++i) {
    for (int j = 0; j < g.cols(); ++j) out.set(i, j, f(i, j, g.at(i, j)));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Assembly.

std::optional<Task> Collect(Rng& rng, int num_pairs, const ExampleFn& make) {
  constexpr int kTriesPerPair = 30;
  std::vector<Example> pairs;
  for (int i = 0; i < num_pairs; ++i) {
    bool done = false;
    for (int t = 0; t < kTriesPerPair && !done; ++t) {
      std::optional<Example> e = make(rng);
      if (!e || e->input == e->output) continue;
      const bool repeated = std::any_of(pairs.begin(), pairs.end(),
                                        [&](const Example& p) { return p.input == e->input; });
      if (repeated) continue;
      pairs.push_back(*std::move(e));
      done = true;
    }
    if (!done) return std::nullopt;
  }
  Task task;
  task.train.assign(pairs.begin(), pairs.end() - 1);
  task.test.push_back({pairs.back().input, pairs.back().output});
  return task;
}

std::optional<Task> CollectPairs(Rng& rng, const Difficulty& d, int min_rows, int min_cols,
                                 const PairFn& make) {
  return Collect(rng, NumPairs(rng), [&](Rng& r) -> std::optional<Example> {
    // Both sides are drawn before either is checked: the families drew them that way before
    // this helper existed, and the generated tasks must not change.
    const std::optional<int> rows = DrawSide(r, d, min_rows), cols = DrawSide(r, d, min_cols);
    if (!rows || !cols) return std::nullopt;
    return make(r, *rows, *cols);
  });
}

}  // namespace gen

namespace {

// The fixed held-out set documented in generator.h.
constexpr const char* kHeldOut[] = {"colour_swap",    "diagonal_rays",  "hollow_objects",
                                    "mirror_tile",    "corners_to_box", "recolour_by_marker",
                                    "count_holes_bar"};

const std::vector<gen::FamilyDef>& Registry() {
  static const std::vector<gen::FamilyDef>* const registry = [] {
    auto* defs = new std::vector<gen::FamilyDef>(gen::GridFamilies());
    for (gen::FamilyDef& def : gen::ObjectFamilies()) defs->push_back(std::move(def));
    for (gen::FamilyDef& def : *defs) {
      for (const char* name : kHeldOut) def.info.held_out |= def.info.name == name;
    }
    return defs;
  }();
  return *registry;
}

const gen::FamilyDef* FindFamily(const std::string& name) {
  for (const gen::FamilyDef& def : Registry()) {
    if (def.info.name == name) return &def;
  }
  return nullptr;
}

uint64_t NameHash(const std::string& name) {
  uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a 64
  for (unsigned char ch : name) h = (h ^ ch) * 0x100000001b3ULL;
  return h;
}

bool InScope(const Grid& g, const Difficulty& d, bool promised) {
  if (g.rows() > d.max_side || g.cols() > d.max_side) return false;
  return !promised || (g.rows() >= d.min_side && g.cols() >= d.min_side);
}

// The checks every generated task must pass (see generator.h); a family's draw that fails any of
// them is redrawn.
bool Acceptable(const Task& task, const FamilyInfo& info, const Difficulty& d) {
  if (!ValidateTask(task).ok()) return false;
  if (task.train.size() < 3 || task.train.size() > 5 || task.test.size() != 1) return false;
  std::vector<Example> pairs = task.train;
  pairs.push_back({task.test[0].input, *task.test[0].output});
  const bool inputs_promised = info.sizes != SizePromise::kOutputs;
  const bool outputs_promised = info.sizes != SizePromise::kInputs;
  std::set<Grid> inputs;
  for (const Example& e : pairs) {
    if (e.input == e.output || !inputs.insert(e.input).second) return false;
    if (!InScope(e.input, d, inputs_promised) || !InScope(e.output, d, outputs_promised)) {
      return false;
    }
    if (gen::NumColours(e.input) > d.max_colours || gen::NumColours(e.output) > d.max_colours) {
      return false;
    }
  }
  return true;
}

}  // namespace

absl::Status ValidateDifficulty(const Difficulty& d) {
  if (d.min_side < 1 || d.min_side > kArcMaxSide) {
    return absl::InvalidArgumentError(
        absl::StrCat("min_side: ", d.min_side, ", must be in 1..", kArcMaxSide));
  }
  if (d.max_side < d.min_side || d.max_side > kArcMaxSide) {
    return absl::InvalidArgumentError(absl::StrCat(
        "max_side: ", d.max_side, ", must be in min_side (", d.min_side, ")..", kArcMaxSide));
  }
  if (d.max_objects < 1 || d.max_objects > 30) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_objects: ", d.max_objects, ", must be in 1..30"));
  }
  if (d.max_colours < 1 || d.max_colours > kNumColours - 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_colours: ", d.max_colours, ", must be in 1..", kNumColours - 1));
  }
  return absl::OkStatus();
}

const std::vector<FamilyInfo>& Families() {
  static const std::vector<FamilyInfo>* const infos = [] {
    auto* v = new std::vector<FamilyInfo>();
    for (const gen::FamilyDef& def : Registry()) v->push_back(def.info);
    return v;
  }();
  return *infos;
}

std::vector<std::string> FamilyNames() {
  std::vector<std::string> names;
  for (const FamilyInfo& f : Families()) names.push_back(f.name);
  return names;
}

std::vector<std::string> HeldOutFamilies() {
  std::vector<std::string> names;
  for (const FamilyInfo& f : Families()) {
    if (f.held_out) names.push_back(f.name);
  }
  return names;
}

std::vector<std::string> TrainingFamilies() {
  std::vector<std::string> names;
  for (const FamilyInfo& f : Families()) {
    if (!f.held_out) names.push_back(f.name);
  }
  return names;
}

absl::Status CheckFeasible(const std::string& family, const Difficulty& d) {
  const gen::FamilyDef* def = FindFamily(family);
  if (def == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        "unknown family \"", family, "\"; known: ", absl::StrJoin(FamilyNames(), ", ")));
  }
  ARC_RETURN_IF_ERROR(ValidateDifficulty(d));
  const FamilyInfo& info = def->info;
  auto need = [&](const char* knob, int have, int needed) {
    return absl::FailedPreconditionError(
        absl::StrCat(family, " needs ", knob, " >= ", needed, ", got ", have));
  };
  if (d.max_side < info.needs_max_side) return need("max_side", d.max_side, info.needs_max_side);
  if (d.max_colours < info.needs_max_colours) {
    return need("max_colours", d.max_colours, info.needs_max_colours);
  }
  if (d.max_objects < info.needs_max_objects) {
    return need("max_objects", d.max_objects, info.needs_max_objects);
  }
  if (def->feasible != nullptr) {
    if (absl::Status s = def->feasible(d); !s.ok()) {
      return absl::FailedPreconditionError(absl::StrCat(family, " needs ", s.message()));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<Task> GenerateTask(const std::string& family, uint64_t seed,
                                  const Difficulty& difficulty) {
  ARC_RETURN_IF_ERROR(CheckFeasible(family, difficulty));
  const gen::FamilyDef& def = *FindFamily(family);
  // The family name enters the stream so that two families given one seed draw independently.
  Rng rng = Rng(seed).Fork(NameHash(family));
  constexpr int kAttempts = 64;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    std::optional<Task> task = def.make(rng, difficulty);
    if (!task || !Acceptable(*task, def.info, difficulty)) continue;
    task->id = absl::StrCat(family, "_", seed);
    return *std::move(task);
  }
  return absl::InternalError(absl::StrCat(family, ": no non-degenerate task in ", kAttempts,
                                          " draws for seed ", seed, " (a generator bug)"));
}

uint64_t TaskSeed(uint64_t seed, int64_t index) {
  return Rng(seed).Fork(static_cast<uint64_t>(index)).Next();
}

// ---------------------------------------------------------------------------------------------
// TaskStream.

std::vector<CurriculumStage> DefaultCurriculum() {
  return {
      {50000, Difficulty{3, 6, 2, 3}},
      {100000, Difficulty{3, 8, 3, 4}},
      {0, Difficulty{3, 10, 4, 5}},
  };
}

absl::StatusOr<TaskStream> TaskStream::Create(TaskStreamOptions options) {
  if (options.families.empty()) options.families = TrainingFamilies();
  if (options.curriculum.empty()) options.curriculum = DefaultCurriculum();
  for (const std::string& f : options.families) {
    const gen::FamilyDef* def = FindFamily(f);
    if (def == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(
          "families: unknown family \"", f, "\"; known: ", absl::StrJoin(FamilyNames(), ", ")));
    }
    if (def->info.held_out && !options.allow_held_out) {
      return absl::InvalidArgumentError(absl::StrCat(
          "families: \"", f, "\" is held out of training; set allow_held_out to stream it"));
    }
  }
  TaskStream stream(options.seed);
  int64_t end = 0;
  for (size_t i = 0; i < options.curriculum.size(); ++i) {
    const CurriculumStage& cs = options.curriculum[i];
    const std::string path = absl::StrCat("curriculum[", i, "]");
    if (absl::Status s = ValidateDifficulty(cs.difficulty); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(path, ".difficulty.", s.message()));
    }
    const bool last = i + 1 == options.curriculum.size();
    if (!last && cs.num_tasks <= 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ".num_tasks: ", cs.num_tasks, ", must be > 0 before the last stage"));
    }
    Stage stage;
    stage.difficulty = cs.difficulty;
    for (const std::string& f : options.families) {
      if (CheckFeasible(f, cs.difficulty).ok()) stage.families.push_back(f);
    }
    if (stage.families.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": no listed family can generate at this difficulty"));
    }
    end = last ? std::numeric_limits<int64_t>::max() : end + cs.num_tasks;
    stage.end = end;
    stream.stages_.push_back(std::move(stage));
  }
  return stream;
}

const TaskStream::Stage& TaskStream::StageAt(int64_t index) const {
  for (const Stage& s : stages_) {
    if (index < s.end) return s;
  }
  return stages_.back();
}

size_t TaskStream::FamilySlot(const Stage& stage, int64_t index) const {
  return static_cast<size_t>(
      Rng(seed_).Fork(static_cast<uint64_t>(index)).Below(stage.families.size()));
}

const std::string& TaskStream::FamilyAt(int64_t index) const {
  const Stage& stage = StageAt(index);
  return stage.families[FamilySlot(stage, index)];
}

const Difficulty& TaskStream::DifficultyAt(int64_t index) const {
  return StageAt(index).difficulty;
}

Task TaskStream::At(int64_t index) const {
  const Stage& stage = StageAt(index);
  const size_t slot = FamilySlot(stage, index);
  Rng rng = Rng(seed_).Fork(static_cast<uint64_t>(index)).Fork(1);
  // A failed draw (never observed at a difficulty CheckFeasible accepts; the tests sweep them)
  // moves on to the next task seed, then to the stage's next family, so At never fails.
  constexpr int kSeedsPerFamily = 16;
  for (size_t k = 0; k < stage.families.size(); ++k) {
    const std::string& family = stage.families[(slot + k) % stage.families.size()];
    for (int attempt = 0; attempt < kSeedsPerFamily; ++attempt) {
      absl::StatusOr<Task> task = GenerateTask(family, rng.Next(), stage.difficulty);
      if (task.ok()) return *std::move(task);
    }
  }
  // Unreachable unless every family of the stage is broken.
  std::fprintf(stderr, "TaskStream: no family of the stage generated task %lld\n",
               static_cast<long long>(index));
  std::abort();
}

Task TaskStream::Next() { return At(position_++); }

}  // namespace arc
