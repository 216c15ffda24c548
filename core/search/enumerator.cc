#include "core/search/enumerator.h"

#include <algorithm>
#include <array>
#include <optional>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "core/search/dsl.h"
#include "core/search/image.h"

namespace arc::search {
namespace {

// A list state may hold at most this many cells over all its items (per example); beyond that a
// primitive is treated as failing. It keeps maps over many objects from blowing up memory.
constexpr int kMaxStateCells = 4000;
// Partial answers (reproducing some but not all demonstrations) kept for the final ranking.
constexpr int kMaxPartial = 4;
// Work units charged per example for one primitive application or leaf check, besides the cells
// read and written (the call, allocation and hashing overhead, measured at about 16 cells' worth).
constexpr int64_t kStepWork = 16;
// Bytes of stacking bit sets allowed, whatever the limits (they are built after enumeration).
constexpr int64_t kMaxStackBytes = 96ll << 20;

struct Value {
  bool is_list = false;
  std::vector<Image> items;  // one item when !is_list
};
using State = std::vector<Value>;  // train inputs first, then test inputs

// The post-steps that turn a leaf into an answer-sized piece (kept as data; the program text is
// only built for answers and for the pieces a stack uses).
struct Post {
  bool paste = false;    // paste_out: put on a canvas of the output size at its position
  uint8_t recolour = 0;  // recolour_c with c = recolour, 0 for none
  bool mapped = false;   // a colour map learned from the demonstrations
  std::array<int8_t, kNumColours> map{};
};

int64_t StateBytes(const State& s) {
  int64_t bytes = static_cast<int64_t>(sizeof(Value)) * static_cast<int64_t>(s.size());
  for (const Value& v : s)
    for (const Image& i : v.items) bytes += static_cast<int64_t>(sizeof(Image) + i.cells.size());
  return bytes;
}

// Bit sets of one piece under the three masks (good and bad cells each).
int64_t StackBytesPerPiece(int train_cells) { return 3 * (2 * 8 * ((train_cells + 63) / 64) + 64); }

uint64_t HashState(const State& s) {
  uint64_t h = 0x9e3779b97f4a7c15ull;
  for (const Value& v : s) {
    uint64_t vh = v.is_list ? 0x51ed270b27f8a3c5ull : 0;
    for (const Image& i : v.items) vh = vh * 0x100000001b3ull + i.Hash();
    h = (h ^ vh) * 0xff51afd7ed558ccdull;
    h ^= h >> 29;
  }
  return h;
}

class Searcher {
 public:
  Searcher(const Task& task, const EnumerateLimits& limits,
           const std::function<bool()>& should_stop)
      : limits_(limits), should_stop_(should_stop), dsl_(Dsl()) {
    num_train_ = static_cast<int>(task.train.size());
    num_test_ = static_cast<int>(task.test.size());
    for (const Example& e : task.train) {
      inputs_.push_back(FromGrid(e.input));
      targets_.push_back(FromGrid(e.output));
    }
    for (const TestCase& t : task.test) inputs_.push_back(FromGrid(t.input));
    contexts_.resize(inputs_.size());
    for (size_t i = 0; i < inputs_.size(); ++i) {
      contexts_[i].in_w = inputs_[i].w;
      contexts_[i].in_h = inputs_[i].h;
    }
    for (int i = 0; i < num_train_; ++i) {
      contexts_[i].out_w = targets_[i].w;
      contexts_[i].out_h = targets_[i].h;
    }
    uint32_t common = (1u << kNumColours) - 2;
    for (const Image& t : targets_) common &= ColourMask(t);
    for (int c = 1; c < kNumColours; ++c)
      if (common >> c & 1) output_colours_.push_back(static_cast<uint8_t>(c));
    for (const Primitive& p : dsl_) {
      if (p.enumerated) enumerated_.push_back(static_cast<int>(&p - dsl_.data()));
    }
    overlay_growing_ = FindPrimitive("overlay_growing");
    paste_out_ = FindPrimitive("paste_out");
  }

  EnumerateResult Run() {
    PredictTestSizes();
    ConstantAnswer();
    stack_ = test_size_known_ && limits_.max_stack_steps >= 2;
    int train_cells = 0;
    for (const Image& t : targets_) train_cells += t.area();
    piece_cells_ = train_cells;
    for (int t = 0; t < num_test_; ++t)
      piece_cells_ +=
          std::max(0, contexts_[num_train_ + t].out_w * contexts_[num_train_ + t].out_h);
    piece_limit_ = static_cast<size_t>(kMaxStackBytes / StackBytesPerPiece(train_cells));
    State root;
    for (const Image& in : inputs_) root.push_back({false, {in}});
    seen_.insert(HashState(root));
    std::vector<std::pair<State, std::vector<int16_t>>> level;
    Leaf(root, {});
    level.push_back({std::move(root), {}});
    stats_.depth_completed = 0;
    for (int depth = 0; depth < limits_.max_depth && !stopped_; ++depth) {
      std::vector<std::pair<State, std::vector<int16_t>>> next;
      const bool last = depth + 1 == limits_.max_depth;
      // One child state reused across applications: most children are duplicates, and a fresh
      // state per application cost an allocation per example.
      State child;
      for (const auto& [state, path] : level) {
        for (int p : enumerated_) {
          if (Stop()) break;
          ++stats_.programs_tried;
          if (!Apply(dsl_[p], state, child)) continue;
          if (!seen_.insert(HashState(child)).second) continue;
          ++stats_.nodes;
          std::vector<int16_t> child_path = path;
          child_path.push_back(static_cast<int16_t>(p));
          Leaf(child, child_path);
          if (last) {
            // Lists are never answers; at the last level they still get one join.
            if (child[0].is_list) {
              State joined;
              if (Apply(dsl_[overlay_growing_], child, joined)) {
                child_path.push_back(static_cast<int16_t>(overlay_growing_));
                Leaf(joined, child_path);
              }
            }
          } else {
            bytes_ += StateBytes(child) + static_cast<int64_t>(child_path.size() * 2 + 64);
            stats_.peak_bytes = std::max(stats_.peak_bytes, bytes_);
            next.push_back({std::move(child), std::move(child_path)});
            child = State();
          }
        }
        if (stopped_) break;
      }
      if (!stopped_) stats_.depth_completed = depth + 1;
      level = std::move(next);
    }
    stats_.stopped_early = stopped_;
    level.clear();
    if (num_full_ == 0) StackPieces();
    EnumerateResult result;
    std::stable_sort(partial_.begin(), partial_.end(), [](const Found& a, const Found& b) {
      return std::tie(b.explained, a.cost, a.order) < std::tie(a.explained, b.cost, b.order);
    });
    std::stable_sort(found_.begin(), found_.end(), [](const Found& a, const Found& b) {
      return std::tie(a.cost, a.order) < std::tie(b.cost, b.order);
    });
    result.found = std::move(found_);
    for (Found& f : partial_) result.found.push_back(std::move(f));
    stats_.pieces = static_cast<int64_t>(pieces_.size());
    result.stats = stats_;
    return result;
  }

 private:
  struct Piece {
    std::vector<uint8_t> cells;  // train targets' sizes then predicted test sizes, concatenated
    double cost;
    std::vector<int16_t> path;
    Post post;
  };

  // The counted limits decide where the enumeration stops (deterministic); the clock and the
  // cancel flag are only a safety stop, asked every 32nd call (a clock read costs about as much as
  // a small primitive).
  bool Stop() {
    if (stopped_) return true;
    if (stats_.work >= limits_.max_work || stats_.nodes >= limits_.max_nodes ||
        bytes_ >= limits_.max_bytes) {
      stopped_ = true;
      return true;
    }
    if ((++stop_calls_ & 31) == 0) {
      if (should_stop_ && should_stop_()) stopped_ = true;
      if (absl::Now() >= limits_.deadline) stopped_ = stats_.stopped_by_deadline = true;
    }
    return stopped_;
  }

  bool Apply(const Primitive& p, const State& in, State& out) {
    out.resize(in.size());
    for (size_t e = 0; e < in.size(); ++e) {
      const Value& v = in[e];
      Value& o = out[e];
      const ExampleContext& ctx = contexts_[e];
      stats_.work += kStepWork;
      for (const Image& i : v.items) stats_.work += i.area();
      int cells = 0;
      switch (p.kind) {
        case Kind::kImageToImage:
          o.is_list = v.is_list;
          o.items.clear();
          for (const Image& i : v.items) {
            Image r = p.image_to_image(i, ctx);
            if (r.empty()) {
              if (!v.is_list) return false;
              continue;  // a map over objects drops the ones it does not apply to
            }
            cells += r.area();
            o.items.push_back(std::move(r));
          }
          if (o.items.empty()) return false;
          break;
        case Kind::kImageToList:
          if (v.is_list) return false;
          o.is_list = true;
          o.items = p.image_to_list(v.items[0], ctx);
          if (o.items.empty()) return false;
          for (const Image& i : o.items) cells += i.area();
          break;
        case Kind::kListToImage: {
          if (!v.is_list) return false;
          Image r = p.list_to_image(v.items, ctx);
          if (r.empty()) return false;
          o.is_list = false;
          cells = r.area();
          o.items.assign(1, std::move(r));
          break;
        }
        case Kind::kListToList:
          if (!v.is_list) return false;
          o.is_list = true;
          o.items = p.list_to_list(v.items, ctx);
          if (o.items.empty()) return false;
          for (const Image& i : o.items) cells += i.area();
          break;
      }
      stats_.work += cells;
      if (cells > kMaxStateCells) return false;
    }
    return true;
  }

  std::string ProgramText(const std::vector<int16_t>& path) const {
    std::string text = "x";
    for (int16_t p : path) text = absl::StrCat(dsl_[p].name, "(", text, ")");
    return text;
  }

  // Output sizes of the test inputs: a constant, a linear function of the input size, or the size
  // of a state a short program computes (first such state in enumeration order).
  void PredictTestSizes() {
    test_size_known_ = true;
    for (int t = 0; t < num_test_; ++t) contexts_[num_train_ + t].out_w = -1;
    auto fit_axis = [&](bool width) -> bool {
      auto out_of = [&](int i) { return width ? targets_[i].w : targets_[i].h; };
      auto set = [&](int t, int v) {
        (width ? contexts_[num_train_ + t].out_w : contexts_[num_train_ + t].out_h) = v;
      };
      // The input's own size first, then a constant, then other linear rules.
      bool same = true;
      for (int i = 0; i < num_train_; ++i)
        same = same && out_of(i) == (width ? inputs_[i].w : inputs_[i].h);
      if (same) {
        for (int t = 0; t < num_test_; ++t)
          set(t, width ? inputs_[num_train_ + t].w : inputs_[num_train_ + t].h);
        return true;
      }
      bool constant = true;
      for (int i = 1; i < num_train_; ++i) constant = constant && out_of(i) == out_of(0);
      if (constant) {
        for (int t = 0; t < num_test_; ++t) set(t, out_of(0));
        return true;
      }
      for (int axis = 0; axis < 2; ++axis) {
        auto in_of = [&](int i) { return (axis == 0) == width ? inputs_[i].w : inputs_[i].h; };
        for (int num = 1; num <= 4; ++num)
          for (int den = 1; den <= 4; ++den)
            for (int add = -3; add <= 3; ++add) {
              bool ok = true;
              for (int i = 0; i < num_train_ && ok; ++i)
                ok = in_of(i) * num % den == 0 && in_of(i) * num / den + add == out_of(i);
              if (!ok) continue;
              for (int t = 0; t < num_test_; ++t) {
                const int in = in_of(num_train_ + t);
                if (in * num % den != 0) return false;
                set(t, in * num / den + add);
              }
              return true;
            }
      }
      return false;
    };
    const bool w_ok = fit_axis(true), h_ok = fit_axis(false);
    if (w_ok && h_ok) {
      ValidateTestSizes();
      return;
    }
    // Sizes computed by a program of one or two steps.
    State root;
    for (const Image& in : inputs_) root.push_back({false, {in}});
    std::vector<State> level = {root};
    bool w_found = w_ok, h_found = h_ok;
    for (int depth = 0; depth < 2 && !(w_found && h_found); ++depth) {
      std::vector<State> next;
      for (const State& s : level) {
        for (int p : enumerated_) {
          if (dsl_[p].group == "canvas" || Stop()) continue;
          State child;
          if (!Apply(dsl_[p], s, child)) continue;
          if (!child[0].is_list) {
            bool wm = !w_found, hm = !h_found;
            for (int i = 0; i < num_train_; ++i) {
              wm = wm && child[i].items[0].w == targets_[i].w;
              hm = hm && child[i].items[0].h == targets_[i].h;
            }
            for (int t = 0; t < num_test_; ++t) {
              const Image& img = child[num_train_ + t].items[0];
              if (wm) contexts_[num_train_ + t].out_w = img.w;
              if (hm) contexts_[num_train_ + t].out_h = img.h;
            }
            w_found = w_found || wm;
            h_found = h_found || hm;
          }
          if (depth == 0) next.push_back(std::move(child));
        }
      }
      level = std::move(next);
    }
    stopped_ = false;
    if (!w_found || !h_found) {
      test_size_known_ = false;
      for (int t = 0; t < num_test_; ++t)
        contexts_[num_train_ + t].out_w = contexts_[num_train_ + t].out_h = -1;
      return;
    }
    ValidateTestSizes();
  }

  void ValidateTestSizes() {
    for (int t = 0; t < num_test_; ++t) {
      ExampleContext& c = contexts_[num_train_ + t];
      if (c.out_w < 1 || c.out_h < 1 || c.out_w > kArcMaxSide || c.out_h > kArcMaxSide) {
        test_size_known_ = false;
        for (int u = 0; u < num_test_; ++u)
          contexts_[num_train_ + u].out_w = contexts_[num_train_ + u].out_h = -1;
        return;
      }
    }
  }

  void ConstantAnswer() {
    for (int i = 1; i < num_train_; ++i)
      if (targets_[i] != targets_[0]) return;
    std::vector<Image> imgs(num_train_ + num_test_, targets_[0]);
    ++num_full_;
    found_index_.insert({TestHash(imgs), found_.size()});
    found_.push_back(MakeFound(imgs, "constant", num_train_, 0.5));
  }

  // Turns a state into answer candidates and pieces.
  void Leaf(const State& s, const std::vector<int16_t>& path) {
    if (s[0].is_list) return;
    const double depth = static_cast<double>(path.size());
    // Scratch images reused from leaf to leaf (an allocation per image and leaf was a tenth of
    // the search's time).
    std::vector<Image>& imgs = leaf_imgs_;
    imgs.resize(s.size());
    bool fits = true;
    for (size_t e = 0; e < s.size(); ++e) {
      const Image& src = s[e].items[0];
      imgs[e].x = imgs[e].y = 0;
      imgs[e].w = src.w;
      imgs[e].h = src.h;
      imgs[e].cells.assign(src.cells.begin(), src.cells.end());
      fits = fits && Fits(imgs[e], static_cast<int>(e));
    }
    Post post;
    Variants(imgs, depth, fits, path, post);
    if (!fits && test_size_known_) {
      // The state at its position on a canvas of the output size (an object put back in place).
      bool blank = false;
      for (size_t e = 0; e < s.size(); ++e) {
        const ExampleContext& c = contexts_[e];
        PasteOnCanvasInto(s[e].items[0], c.out_w, c.out_h, imgs[e]);
        blank = blank || std::all_of(imgs[e].cells.begin(), imgs[e].cells.end(),
                                     [](uint8_t v) { return v == 0; });
      }
      post.paste = true;
      if (!blank) Variants(imgs, depth + 1, true, path, post);
    }
  }

  bool Fits(const Image& img, int e) const {
    const ExampleContext& c = contexts_[e];
    return img.w == c.out_w && img.h == c.out_h;
  }

  std::string Text(const std::vector<int16_t>& path, const Post& post) const {
    std::string text = ProgramText(path);
    if (post.paste) text = absl::StrCat("paste_out(", text, ")");
    if (post.recolour) text = absl::StrCat("recolour_", post.recolour, "(", text, ")");
    if (post.mapped) {
      std::string table;
      for (int c = 0; c < kNumColours; ++c)
        if (post.map[c] != -1 && post.map[c] != c)
          absl::StrAppend(&table, table.empty() ? "" : ",", c, ">", post.map[c]);
      text = absl::StrCat("colour_map[", table, "](", text, ")");
    }
    return text;
  }

  // The leaf itself, recoloured to each colour every output has, and through a learned colour map.
  void Variants(const std::vector<Image>& imgs, double cost, bool fits,
                const std::vector<int16_t>& path, Post post) {
    Record(imgs, cost, path, post);
    if (!fits) return;
    std::vector<Image>& changed = changed_imgs_;
    changed.resize(imgs.size());
    uint32_t used = 0;  // non-zero colours of the leaf, all examples
    for (size_t e = 0; e < imgs.size(); ++e) {
      changed[e].x = imgs[e].x;
      changed[e].y = imgs[e].y;
      changed[e].w = imgs[e].w;
      changed[e].h = imgs[e].h;
      changed[e].cells.resize(imgs[e].cells.size());
      used |= ColourMask(imgs[e]);
    }
    used &= ~1u;
    for (uint8_t c : output_colours_) {
      if ((used & ~(1u << c)) == 0) {
        // Recolouring changes nothing: Record would find the leaf already kept at a lower cost.
        // The work is charged all the same so that the budget does not depend on this shortcut.
        for (const Image& i : imgs) stats_.work += kStepWork + i.area();
        continue;
      }
      for (size_t e = 0; e < imgs.size(); ++e)
        for (size_t k = 0; k < imgs[e].cells.size(); ++k)
          changed[e].cells[k] = imgs[e].cells[k] ? c : 0;
      post.recolour = c;
      Record(changed, cost + 1, path, post);
    }
    post.recolour = 0;
    std::array<int8_t, kNumColours> map;
    map.fill(-1);
    bool changes = false;
    for (int i = 0; i < num_train_; ++i)
      for (size_t k = 0; k < imgs[i].cells.size(); ++k) {
        int8_t& m = map[imgs[i].cells[k]];
        const int8_t want = static_cast<int8_t>(targets_[i].cells[k]);
        if (m == -1) m = want;
        if (m != want) return;
        changes = changes || want != imgs[i].cells[k];
      }
    if (!changes) return;
    for (size_t e = 0; e < imgs.size(); ++e)
      for (size_t k = 0; k < imgs[e].cells.size(); ++k) {
        const uint8_t v = imgs[e].cells[k];
        changed[e].cells[k] = map[v] == -1 ? v : static_cast<uint8_t>(map[v]);
      }
    post.mapped = true;
    post.map = map;
    Record(changed, cost + 1, path, post);
  }

  // Checks a leaf against the demonstrations; keeps it as a solution, a partial answer or a piece.
  void Record(const std::vector<Image>& imgs, double cost, const std::vector<int16_t>& path,
              const Post& post) {
    for (const Image& i : imgs) stats_.work += kStepWork + i.area();
    int explained = 0;
    bool sized = true;
    for (int i = 0; i < num_train_; ++i) {
      explained += SameContent(imgs[i], targets_[i]);
      sized = sized && imgs[i].w == targets_[i].w && imgs[i].h == targets_[i].h;
    }
    bool valid_test = true;
    for (int t = 0; t < num_test_; ++t) {
      const Image& img = imgs[num_train_ + t];
      valid_test =
          valid_test && img.w >= 1 && img.h >= 1 && img.w <= kArcMaxSide && img.h <= kArcMaxSide;
      sized = sized && Fits(img, num_train_ + t);
    }
    if (explained == num_train_ && valid_test) {
      // One entry per distinct test answer, carrying its cheapest program (the enumeration order
      // is by depth, but post-steps can make a shallower program cost more).
      const auto [it, inserted] = found_index_.insert({TestHash(imgs), found_.size()});
      if (!inserted) {
        Found& f = found_[it->second];
        if (cost < f.cost) {
          f.cost = cost;
          f.program = Text(path, post);
        }
        return;
      }
      ++num_full_;
      found_.push_back(MakeFound(imgs, Text(path, post), explained, cost));
      return;
    }
    if (explained > 0 && valid_test && num_full_ == 0) {
      const bool better =
          static_cast<int>(partial_.size()) < kMaxPartial ||
          std::any_of(partial_.begin(), partial_.end(), [&](const Found& f) {
            return f.explained < explained || (f.explained == explained && f.cost > cost);
          });
      if (better && partial_hashes_.insert(TestHash(imgs)).second) {
        partial_.push_back(MakeFound(imgs, Text(path, post), explained, cost));
        std::stable_sort(partial_.begin(), partial_.end(), [](const Found& a, const Found& b) {
          return std::tie(b.explained, a.cost, a.order) < std::tie(a.explained, b.cost, b.order);
        });
        if (static_cast<int>(partial_.size()) > kMaxPartial) partial_.pop_back();
      }
    }
    if (sized && test_size_known_ && num_full_ == 0 && stack_) AddPiece(imgs, cost, path, post);
  }

  uint64_t TestHash(const std::vector<Image>& imgs) const {
    uint64_t h = 0;
    for (int t = 0; t < num_test_; ++t)
      h = h * 0x100000001b3ull + ToOrigin(imgs[num_train_ + t]).Hash();
    return h;
  }

  Found MakeFound(const std::vector<Image>& imgs, std::string program, int explained, double cost) {
    Found f;
    for (int t = 0; t < num_test_; ++t) f.test_outputs.push_back(ToGrid(imgs[num_train_ + t]));
    f.program = std::move(program);
    f.explained = explained;
    f.cost = cost;
    f.order = order_++;
    return f;
  }

  void AddPiece(const std::vector<Image>& imgs, double cost, const std::vector<int16_t>& path,
                const Post& post) {
    uint64_t h = 0;
    for (const Image& i : imgs) h = h * 0x100000001b3ull + i.Hash();
    if (pieces_.size() >= piece_limit_ || !piece_hashes_.insert(h).second) return;
    Piece piece;
    piece.cells.reserve(piece_cells_);
    for (const Image& i : imgs)
      piece.cells.insert(piece.cells.end(), i.cells.begin(), i.cells.end());
    piece.cost = cost;
    piece.path = path;
    piece.post = post;
    bytes_ += static_cast<int64_t>(piece.cells.size() + path.size() * 2 + sizeof(Piece) + 32);
    stats_.peak_bytes = std::max(stats_.peak_bytes, bytes_);
    pieces_.push_back(std::move(piece));
  }

  // Greedy layering of pieces (see the header).
  void StackPieces() {
    if (pieces_.size() < 2 || !test_size_known_ || limits_.max_stack_steps < 2) return;
    int train_cells = 0;
    for (const Image& t : targets_) train_cells += t.area();
    const int words = (train_cells + 63) / 64;
    // Layers (a piece under a mask) in flat arrays: `words` good bits then `words` bad bits each.
    // Each piece is compared with the targets once, 64 cells to a word, and the three masks are
    // word operations on that (a cell loop per mask with branches was a fifth of the search).
    struct Layer {
      int piece;
      int mask;  // 0 non-zero cells, 1 zero cells, 2 all cells
    };
    static const char* const kMaskName[] = {"nonzero", "zero", "all"};
    std::vector<uint8_t> target_cells;
    target_cells.reserve(train_cells);
    for (const Image& t : targets_)
      target_cells.insert(target_cells.end(), t.cells.begin(), t.cells.end());
    std::vector<uint64_t> valid(words, ~0ull);
    if (train_cells % 64) valid.back() = (1ull << (train_cells % 64)) - 1;
    const size_t max_pieces = pieces_.size();
    std::vector<Layer> layers;
    std::vector<uint64_t> bits;  // per layer: good[words], bad[words]
    std::vector<uint64_t> eq(words), nz(words);
    for (size_t p = 0; p < max_pieces; ++p) {
      if ((p & 255) == 0 && absl::Now() >= limits_.deadline) {
        stats_.stopped_by_deadline = true;
        return;
      }
      const uint8_t* cells = pieces_[p].cells.data();
      for (int w = 0; w < words; ++w) {
        const int lo = w * 64, hi = std::min(train_cells, lo + 64);
        uint64_t e = 0, n = 0;
        for (int k = lo; k < hi; ++k) {
          e |= static_cast<uint64_t>(cells[k] == target_cells[k]) << (k - lo);
          n |= static_cast<uint64_t>(cells[k] != 0) << (k - lo);
        }
        eq[w] = e;
        nz[w] = n;
      }
      for (int mask = 0; mask < 3; ++mask) {
        bool any_good = false;
        const size_t at = bits.size();
        bits.resize(at + 2 * words);
        for (int w = 0; w < words; ++w) {
          const uint64_t m = mask == 2 ? valid[w] : mask == 0 ? nz[w] : ~nz[w] & valid[w];
          bits[at + w] = eq[w] & m;
          bits[at + words + w] = ~eq[w] & m;
          any_good = any_good || bits[at + w] != 0;
        }
        if (any_good) {
          layers.push_back({static_cast<int>(p), mask});
        } else {
          bits.resize(at);
        }
      }
    }
    std::vector<uint64_t> unknown(words, ~0ull);
    if (train_cells % 64) unknown.back() = (1ull << (train_cells % 64)) - 1;
    // The test canvases, -1 = not painted yet.
    std::vector<int> test_offset;
    int test_cells = 0;
    for (int t = 0; t < num_test_; ++t) {
      test_offset.push_back(test_cells);
      test_cells += contexts_[num_train_ + t].out_w * contexts_[num_train_ + t].out_h;
    }
    std::vector<int> canvas(test_cells, -1);
    std::string program;
    double cost = 0;
    for (int step = 0; step < limits_.max_stack_steps; ++step) {
      if (should_stop_ && should_stop_()) return;
      if (absl::Now() >= limits_.deadline) {
        stats_.stopped_by_deadline = true;
        return;
      }
      int best = -1, best_gain = 0;
      for (size_t l = 0; l < layers.size(); ++l) {
        const uint64_t* good = bits.data() + l * 2 * words;
        const uint64_t* bad = good + words;
        bool ok = true;
        int gain = 0;
        for (int w = 0; w < words && ok; ++w) {
          ok = (bad[w] & unknown[w]) == 0;
          gain += __builtin_popcountll(good[w] & unknown[w]);
        }
        if (ok && gain > best_gain) {
          best_gain = gain;
          best = static_cast<int>(l);
        }
      }
      if (best < 0) return;
      const Layer& layer = layers[best];
      const Piece& piece = pieces_[layer.piece];
      const uint64_t* good = bits.data() + static_cast<size_t>(best) * 2 * words;
      for (int w = 0; w < words; ++w) unknown[w] &= ~good[w];
      for (int k = 0; k < test_cells; ++k) {
        const uint8_t have = piece.cells[train_cells + k];
        const bool in_mask = layer.mask == 2 || (layer.mask == 0) == (have != 0);
        if (in_mask && canvas[k] < 0) canvas[k] = have;
      }
      absl::StrAppend(&program, step ? "; " : "", Text(piece.path, piece.post), "@",
                      kMaskName[layer.mask]);
      cost += piece.cost + 1;
      const bool done = std::all_of(unknown.begin(), unknown.end(), [](uint64_t w) { return !w; });
      if (!done) continue;
      std::vector<Image> imgs(num_train_ + num_test_);
      for (int i = 0; i < num_train_; ++i) imgs[i] = targets_[i];
      for (int t = 0; t < num_test_; ++t) {
        const ExampleContext& c = contexts_[num_train_ + t];
        Image img(0, 0, c.out_w, c.out_h);
        for (int k = 0; k < img.area(); ++k) {
          const int v = canvas[test_offset[t] + k];
          img.cells[k] = static_cast<uint8_t>(v < 0 ? 0 : v);
        }
        imgs[num_train_ + t] = std::move(img);
      }
      const std::string text = absl::StrCat("stack(", program, ")");
      ++num_full_;
      found_.push_back(MakeFound(imgs, text, num_train_, cost));
      found_.back().stacked = true;
      return;
    }
  }

  const EnumerateLimits limits_;
  const std::function<bool()>& should_stop_;
  const std::vector<Primitive>& dsl_;
  int num_train_ = 0, num_test_ = 0;
  std::vector<Image> inputs_;   // train inputs then test inputs
  std::vector<Image> targets_;  // train outputs
  std::vector<ExampleContext> contexts_;
  std::vector<uint8_t> output_colours_;
  std::vector<int> enumerated_;
  int overlay_growing_ = -1, paste_out_ = -1;
  bool test_size_known_ = false;
  bool stack_ = false;      // pieces are collected for stacking
  size_t piece_cells_ = 0;  // cells of one piece (all examples)
  size_t piece_limit_ = 0;  // pieces the stacking bit sets have room for
  bool stopped_ = false;
  uint32_t stop_calls_ = 0;
  int64_t bytes_ = 0;
  int num_full_ = 0;
  int64_t order_ = 0;
  // Test-output hashes of the solutions and of the partial answers (kept apart: a partial answer
  // must not hide a solution with the same test output).
  absl::flat_hash_set<uint64_t> seen_, partial_hashes_, piece_hashes_;
  absl::flat_hash_map<uint64_t, size_t> found_index_;
  std::vector<Found> found_, partial_;
  std::vector<Piece> pieces_;
  std::vector<Image> leaf_imgs_, changed_imgs_;  // Leaf and Variants scratch
  EnumerateStats stats_;
};

}  // namespace

EnumerateResult Enumerate(const Task& task, const EnumerateLimits& limits,
                          const std::function<bool()>& should_stop) {
  Searcher searcher(task, limits, should_stop);
  return searcher.Run();
}

}  // namespace arc::search
