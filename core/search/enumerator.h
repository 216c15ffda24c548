// The search over one task (one view of it): breadth-first enumeration of DSL programs run in
// lockstep on every demonstration input and every test input, then greedy stacking of partial
// results.
//
// A state is one value per example (an image or a list of images); applying a primitive to a state
// applies it to every example's value (an image -> image primitive maps over a list), and the state
// dies when any example fails. States are deduplicated by a 64-bit hash of all their values, so a
// program is only extended when it computes something new on some example.
//
// Every image state (and, at the last level, every list state joined by overlay_growing) becomes a
// "leaf": moved to the origin, or pasted onto a canvas of the predicted output size, optionally
// recoloured to one colour of the outputs or through a colour map learned from the demonstrations.
// A leaf equal to every demonstration output is a solution; a leaf of the predicted output size is
// a "piece" kept for stacking. Stacking (after the enumeration, when no single program fits) paints
// pieces in layers, each restricted to its non-zero cells, its zero cells or all cells, choosing at
// each step the piece that agrees with the outputs on every still-unpainted cell it touches and
// paints the most of them, until every demonstration output is reproduced.
//
// Budget: the enumeration counts its work (EnumerateStats::work: cells read and written by primitive
// applications and leaf checks, plus a fixed charge per example and application) and stops at
// max_work, max_nodes or max_bytes. These limits are counted, so where it stops, and therefore the
// result, depends only on the task and the limits. The wall-clock deadline and `should_stop` are a
// hard safety stop only (stats.stopped_by_deadline says when the deadline fired).
//
// Enumerate runs on the calling thread and owns all of its memory; it stops (keeping what it has
// found) when `should_stop` returns true, which it asks before every primitive application.
#ifndef ARC_CORE_SEARCH_ENUMERATOR_H_
#define ARC_CORE_SEARCH_ENUMERATOR_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "core/data/grid.h"

namespace arc::search {

struct EnumerateLimits {
  int max_depth = 3;                                       // primitives per program
  int64_t max_nodes = 1'000'000;                           // distinct states
  int64_t max_bytes = 512ll << 20;                         // estimate of stored states and pieces
  int64_t max_work = INT64_MAX;                            // work units (see EnumerateStats::work)
  int max_stack_steps = 6;                                 // layers in a stacked answer
  absl::Time deadline = absl::InfiniteFuture();            // safety stop for everything
};

// One answer: an output per test input of the task given to Enumerate.
struct Found {
  std::vector<Grid> test_outputs;
  std::string program;   // one line, e.g. "crop(largest(objects8(x)))"
  int explained = 0;     // demonstrations reproduced exactly
  double cost = 0;       // description length: primitives, post-steps and stacked layers
  int64_t order = 0;     // discovery order (ties)
  bool stacked = false;  // made by stacking pieces rather than by one program
};

struct EnumerateStats {
  int64_t programs_tried = 0;  // primitive applications to whole states
  int64_t nodes = 0;           // distinct states reached
  int64_t pieces = 0;          // leaves kept for stacking
  int64_t peak_bytes = 0;      // estimate of the largest memory held at once
  int64_t work = 0;            // work units: cells read and written, plus 16 per example step
  int depth_completed = -1;    // deepest level enumerated completely
  bool stopped_early = false;  // by deadline, cancel, work, node or memory limit
  bool stopped_by_deadline = false;  // by the wall-clock deadline (the result may then vary)
};

struct EnumerateResult {
  std::vector<Found> found;  // solutions first (explained == all), then partial answers
  EnumerateStats stats;
};

// Searches `task` (its test outputs are ignored). `should_stop` may be empty.
EnumerateResult Enumerate(const Task& task, const EnumerateLimits& limits,
                          const std::function<bool()>& should_stop);

}  // namespace arc::search

#endif  // ARC_CORE_SEARCH_ENUMERATOR_H_
