// Augmentations of ARC grids and tasks.
//
// Invertible (used for inference views and TTT data):
//   - Dihedral: the 8 symmetries of the square. Rotations follow numpy's rot90, i.e. rot90 turns the
//     grid a quarter turn counter-clockwise. Exact inverses and composition.
//   - ColourMap: a permutation of the colours 0..9 keeping 0 (the background) fixed, with its inverse.
//   - Demonstration-order permutations.
// Non-invertible (TTT data only), the augmenters of the MIT paper (reference mit-ttt-pipeline.md §2):
//   Reflect, Repeat, IncreaseResolution, IncreaseHeight, IncreaseWidth, RandomTranslateXY, Chain, plus
//   the dihedral elements wrapped as augmenters. AugmentTask applies one to every input and output of
//   a task and drops the result when a grid exceeds the side limit (the paper's 30x30 filter).
//
// All randomness comes from an explicit arc::Rng. Everything here is a pure function of its
// arguments; Augmenter objects are immutable and may be shared between threads.
#ifndef ARC_CORE_DATA_AUGMENT_H_
#define ARC_CORE_DATA_AUGMENT_H_

#include <array>
#include <bitset>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/data/grid.h"
#include "core/data/rng.h"

namespace arc {

// ---------------------------------------------------------------------------------------------
// The dihedral group D4.

enum class Dihedral : uint8_t {
  kIdentity = 0,
  kRot90,          // np.rot90(g, 1): a quarter turn counter-clockwise; shape (W, H)
  kRot180,         // np.rot90(g, 2)
  kRot270,         // np.rot90(g, 3): a quarter turn clockwise; shape (W, H)
  kFlipUD,         // np.flipud: rows reversed
  kFlipLR,         // np.fliplr: columns reversed
  kTranspose,      // g.T: out[i][j] = g[j][i]
  kAntiTranspose,  // the other diagonal: out[i][j] = g[H-1-j][W-1-i]
};

inline constexpr std::array<Dihedral, 8> kAllDihedral = {
    Dihedral::kIdentity, Dihedral::kRot90,  Dihedral::kRot180,    Dihedral::kRot270,
    Dihedral::kFlipUD,   Dihedral::kFlipLR, Dihedral::kTranspose, Dihedral::kAntiTranspose};

// Short names: "identity", "rot90", "rot180", "rot270", "flip_ud", "flip_lr", "transpose",
// "anti_transpose" (used as view categories in voting and in option strings).
std::string_view DihedralName(Dihedral d);
std::optional<Dihedral> ParseDihedral(std::string_view name);

Grid ApplyDihedral(Dihedral d, const Grid& g);
// Every grid of the task (test outputs too, when present).
Task ApplyDihedral(Dihedral d, const Task& task);
Dihedral Inverse(Dihedral d);
// The element equal to applying `first`, then `second`.
Dihedral Compose(Dihedral first, Dihedral second);

// ---------------------------------------------------------------------------------------------
// Colour permutations.

class ColourMap {
 public:
  // The identity map.
  ColourMap();
  // From an explicit table. INVALID_ARGUMENT unless it is a permutation of 0..9 with 0 -> 0.
  static absl::StatusOr<ColourMap> FromTable(const std::array<uint8_t, kNumColours>& table);

  // The paper's PermuteColors rule (reference §2), then completed to a full permutation:
  // for each used colour c != 0 in ascending order that is not yet mapped, map it to an unused
  // colour popped from a shuffled list while any remain; otherwise swap it with a colour popped from
  // a random permutation of the used colours. Colours the rule leaves unmapped are then paired, in
  // ascending order, with the targets nobody took, so the map is a bijection with an exact inverse.
  // `used` marks the colours present in the task (bit 0 is ignored: 0 always maps to 0).
  static ColourMap RandomFixingZero(Rng& rng, std::bitset<kNumColours> used);

  uint8_t operator()(uint8_t colour) const { return table_[colour]; }
  const std::array<uint8_t, kNumColours>& table() const { return table_; }
  ColourMap Inverse() const;
  bool IsIdentity() const;

  Grid Apply(const Grid& g) const;
  Task Apply(const Task& task) const;

  friend bool operator==(const ColourMap& a, const ColourMap& b) { return a.table_ == b.table_; }

 private:
  std::array<uint8_t, kNumColours> table_;
};

// Colours appearing in the demonstrations and test inputs (and known test outputs when
// `include_test_outputs`).
std::bitset<kNumColours> ColoursUsed(const Task& task, bool include_test_outputs);

// ---------------------------------------------------------------------------------------------
// Demonstration order.

// The task with train[i] = original.train[order[i]]. `order` must be a permutation of the indices.
Task ReorderDemonstrations(const Task& task, const std::vector<int>& order);

// ---------------------------------------------------------------------------------------------
// TTT augmenters (non-invertible in general).

// Random draws made once per task by AugmentTask and shared by all of its grids, so that the
// consistent translation (TranslateMode::kConsistent) moves every grid of a task by the same amount
// (clamped by each grid's size). This is this project's rule, not the paper's: marc's share_rng
// gives every grid pair a copy of one fixed generator instead (TranslateMode::kMarc).
struct AugmentDraw {
  double u0 = 0;  // in [0, 1)
  double u1 = 0;  // in [0, 1)
};

class Augmenter {
 public:
  virtual ~Augmenter() = default;
  // The paper's spelling, e.g. "Rotate(90)", "Reflect(0,reverse=True)", "Chain([Flip(0),IncreaseResolution(2)])".
  virtual std::string Name() const = 0;
  virtual Grid Apply(const Grid& g, const AugmentDraw& draw) const = 0;
  // One demonstration or test case: its input, then its output when there is one. The default is
  // Apply on each with the same draw; marc's translation draws per grid, the output continuing the
  // input's stream.
  virtual std::pair<Grid, std::optional<Grid>> ApplyToPair(const Grid& input, const Grid* output,
                                                           const AugmentDraw& draw) const;
  // Whether AugmentTask must draw an AugmentDraw from the task's Rng for it.
  virtual bool UsesRandomness() const { return false; }
};

using AugmenterPtr = std::shared_ptr<const Augmenter>;

// The dihedral element as an augmenter: "Identity()", "Rotate(90)", "Rotate(180)", "Rotate(270)",
// "Flip(0)", "Flip(1)", "Transpose()", "AntiTranspose()".
AugmenterPtr MakeDihedralAugmenter(Dihedral d);
// Concatenate the grid and its flip along `axis` (0 = rows, 1 = columns); flip first if `reverse`.
AugmenterPtr MakeReflect(int axis, bool reverse);
// Tile `n` times along axis 0 (rows) or 1 (columns); axis 2 tiles n x n.
AugmenterPtr MakeRepeat(int axis, int n);
// Every cell becomes a factor x factor block.
AugmenterPtr MakeIncreaseResolution(int factor);
// Every row (IncreaseHeight) or column (IncreaseWidth) repeated `factor` times in place.
AugmenterPtr MakeIncreaseHeight(int factor);
AugmenterPtr MakeIncreaseWidth(int factor);
// How RandomTranslateXY chooses its shifts. Both roll a grid cyclically toward higher indices by
// (sx, sy) with sx in [0, min(4, H)) and sy in [0, min(4, W)) (numpy's roll over marc's
// randint ranges); they differ in where the shifts come from.
enum class TranslateMode {
  // This project's default: one draw (u0, u1) per task from the task's Rng; every grid of the task,
  // inputs and outputs alike, moves by sx = floor(u0 * min(4, H)), sy = floor(u1 * min(4, W)), so
  // a pair stays a consistent example of its task and different tasks get different shifts.
  kConsistent,
  // marc's RandomTranslateXY exactly (arclib/augmenters.py, share_rng = True): every demonstration
  // and the held-out pair get their own copy of numpy's RandomState(seed), a generator nothing
  // advances; from that copy the input draws sx = randint(0, min(4, H)),
  // sy = randint(0, min(4, W)), then the output draws the next two with its own sides. So every
  // task gets the same shifts, and an input and its output move by different amounts.
  // randint(0, 1) draws nothing (numpy returns the bound without a draw); otherwise each draw takes
  // 32-bit MT19937 outputs masked to the smallest covering power of two minus one, rejecting values
  // past the range (numpy's legacy masked rejection). `seed` is the solve seed's low 32 bits
  // (marc's --seed, default 0).
  kMarc,
};
// "consistent" / "marc" (the option table's names).
std::string_view TranslateModeName(TranslateMode mode);
std::optional<TranslateMode> ParseTranslateMode(std::string_view name);

AugmenterPtr MakeRandomTranslateXY(TranslateMode mode = TranslateMode::kConsistent,
                                   uint64_t seed = 0);
// Applies the parts in order.
AugmenterPtr MakeChain(std::vector<AugmenterPtr> parts);

// Which groups of the paper's 23 TTT augmenters to include (reference §2, "TTT data").
struct PaperAugmenterGroups {
  bool basic = true;   // 11: Rotate(90/270/180), Flip(0/1), Reflect x4, RandomTranslateXY, Transpose
  bool size = true;    // 3: IncreaseResolution(2), IncreaseHeight(2), IncreaseWidth(2)
  bool chain = true;   // 6: [Rotate(90/270/180) | Flip(0/1) | Transpose] then IncreaseResolution(2)
  bool repeat = true;  // 3: Repeat(0,2), Repeat(1,2), Repeat(2,2)
};
// The paper's augmenters in the paper's order, RandomTranslateXY with `translate` (and `seed`).
std::vector<AugmenterPtr> PaperTttAugmenters(const PaperAugmenterGroups& groups = {},
                                             TranslateMode translate = TranslateMode::kConsistent,
                                             uint64_t seed = 0);

// Applies `aug` to every input and output of the task (test outputs too, when present), drawing the
// shared AugmentDraw from `rng` only when the augmenter is random. Returns nullopt when any resulting
// grid has more than `max_side` rows or columns.
std::optional<Task> AugmentTask(const Task& task, const Augmenter& aug, Rng& rng,
                                int max_side = kArcMaxSide);

}  // namespace arc

#endif  // ARC_CORE_DATA_AUGMENT_H_
