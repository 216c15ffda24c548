// Program search: the induction expert. Finds DSL programs (core/search/dsl.h) that map every
// demonstration input of a task to its output and applies them to the test inputs.
//
// SearchProgram runs one enumeration (core/search/enumerator.h) per view of the task
// (core/search/task_view.h: the task itself, flipped copies, colour-normalised copies), on up to
// `threads` threads: every view to depth 2 first with max_work / views work units each, then every
// view to max_depth with the work left, shared equally, unless a single program already explains
// every demonstration. Answers are merged by one rule: single programs that explain every
// demonstration first, by description length (cost); then stacked answers that explain every
// demonstration, by cost; then answers that explain some demonstrations, most first; ties by pass,
// view order, then discovery order. Each test input gets its distinct answers in that order;
// candidates[0] and candidates[1] are the pass@2 attempts.
//
// Determinism: the budget is counted work (max_work: cells read and written by primitive
// applications and leaf checks), distinct states (max_nodes) and estimated memory
// (max_memory_bytes, split equally among the views whatever the thread count), so the same task
// and options give the same result on any machine, under any load and with any number of threads.
// time_budget is only a hard safety stop: when it fires, what each view found so far is kept and
// stats.stopped_by_deadline is set (only then may the result vary). The enumeration checks the
// deadline and the cancel flag every 32 primitive applications, so it stops within a few
// microseconds' work.
//
// Memory: each view holds at most options.max_memory_bytes / views (states and pieces, by
// estimate), and the stacking bit sets at most 96 MiB more.
//
// Thread-safe: no shared state; `is_cancelled` is called from the worker threads.
#ifndef ARC_CORE_SEARCH_SEARCH_H_
#define ARC_CORE_SEARCH_SEARCH_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/data/grid.h"

namespace arc::search {

// Work units (SearchOptions::max_work): default and upper limit.
inline constexpr int64_t kDefaultMaxWork = 1'500'000'000;
inline constexpr int64_t kMaxWorkLimit = 1'000'000'000'000;

struct SearchOptions {
  int max_depth = 3;                              // primitives per program, 1..4
  int64_t max_nodes = 400'000;                    // distinct states per view, 1..100'000'000
  // Work units for the whole call, 1..kMaxWorkLimit: the budget that decides where the search
  // stops. The default keeps a task with grids up to 10x10 within about 5 s on one idle core of
  // the 2-core development machine (docs/SEARCH.md).
  int64_t max_work = kDefaultMaxWork;
  // Hard safety stop for the whole call (> 0, at most 1 hour); not part of the deterministic
  // budget: a search stopped by it says so in stats.stopped_by_deadline.
  absl::Duration time_budget = absl::Seconds(60);
  int threads = 1;                                // worker threads over the views, 1..64
  int64_t max_memory_bytes = 768ll << 20;  // states and pieces over all views, 16 MiB..64 GiB
  int max_stack_steps = 6;  // layers of a stacked answer (0 or 1: no stacking), 0..20
  int max_candidates = 2;   // answers kept per test input, 1..10
  // Views of the task searched (task_view.h), in merge order.
  std::vector<std::string> views = {"identity", "colours", "transpose"};

  // OK, or INVALID_ARGUMENT naming the first field out of range and its limits.
  absl::Status Validate() const;
};

struct SearchCandidate {
  Grid output;
  std::string program;  // one-line DSL text, e.g. "crop(largest(objects8(x)))"
  int explained = 0;    // demonstrations the program reproduces exactly
  int demonstrations = 0;
  double cost = 0;   // description length (lower is simpler)
  std::string view;  // the view it was found on ("identity", "transpose", "colours", ...)
};

struct SearchStats {
  int64_t programs_tried = 0;  // primitive applications to whole states, all views
  int64_t nodes = 0;           // distinct states, all views
  int64_t pieces = 0;          // leaves kept for stacking, all views
  int64_t peak_bytes = 0;      // the largest per-view estimate, times the views run at once
  int64_t work = 0;            // work units spent, all views (counted, machine-independent)
  int depth_completed = 0;     // the shallowest depth every view completed
  int views = 0;               // views searched
  int passes = 0;              // 1: depth 2 only; 2: also max_depth
  double seconds = 0;
  bool stopped_early = false;  // some view hit the deadline, cancel, work, node or memory limit
  bool stopped_by_deadline = false;  // the time_budget safety stop fired (the result may vary)
  bool cancelled = false;
};

struct SearchResult {
  // Per test input, in test order: distinct answers, best first (at most max_candidates).
  std::vector<std::vector<SearchCandidate>> tests;
  SearchStats stats;
  // True when some program explains every demonstration (the answers are then verified ones).
  bool explained = false;
};

// Searches `task` (test outputs, when present, are ignored). `is_cancelled` may be empty.
// INVALID_ARGUMENT for bad options or a task without demonstrations or test inputs; CANCELLED when
// `is_cancelled` returned true (nothing is returned then).
absl::StatusOr<SearchResult> SearchProgram(const Task& task, const SearchOptions& options,
                                           const std::function<bool()>& is_cancelled = {});

}  // namespace arc::search

#endif  // ARC_CORE_SEARCH_SEARCH_H_
