#include "core/search/search.h"

#include <algorithm>
#include <atomic>
#include <thread>
#include <tuple>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "core/data/range_check.h"
#include "core/data/status_macros.h"
#include "core/search/enumerator.h"
#include "core/search/task_view.h"

namespace arc::search {

absl::Status SearchOptions::Validate() const {
  ARC_RETURN_IF_ERROR(CheckIntRange("max_depth", max_depth, 1, 4));
  ARC_RETURN_IF_ERROR(CheckIntRange("max_nodes", max_nodes, 1, 100'000'000));
  ARC_RETURN_IF_ERROR(CheckIntRange("max_work", max_work, 1, kMaxWorkLimit));
  if (time_budget <= absl::ZeroDuration() || time_budget > absl::Hours(1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("time_budget: ", absl::FormatDuration(time_budget), " is outside (0s, 1h]"));
  }
  ARC_RETURN_IF_ERROR(CheckIntRange("threads", threads, 1, 64));
  ARC_RETURN_IF_ERROR(CheckIntRange("max_memory_bytes", max_memory_bytes, 16ll << 20, 64ll << 30));
  ARC_RETURN_IF_ERROR(CheckIntRange("max_stack_steps", max_stack_steps, 0, 20));
  ARC_RETURN_IF_ERROR(CheckIntRange("max_candidates", max_candidates, 1, 10));
  if (views.empty()) return absl::InvalidArgumentError("views: empty; name at least one view");
  for (const std::string& v : views) {
    const std::vector<std::string>& known = KnownViews();
    if (std::find(known.begin(), known.end(), v) == known.end()) {
      return absl::InvalidArgumentError(absl::StrCat("views: unknown view \"", v, "\""));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<SearchResult> SearchProgram(const Task& task, const SearchOptions& options,
                                           const std::function<bool()>& is_cancelled) {
  if (absl::Status s = options.Validate(); !s.ok()) return s;
  if (task.train.empty()) return absl::InvalidArgumentError("task.train: no demonstrations");
  if (task.test.empty()) return absl::InvalidArgumentError("task.test: no test inputs");
  const absl::Time start = absl::Now();
  absl::StatusOr<std::vector<TaskView>> views = MakeViews(task, options.views);
  if (!views.ok()) return views.status();
  const int num_views = static_cast<int>(views->size());
  const int threads = std::min(options.threads, num_views);

  // Every limit that decides the result is counted and split among the views without regard to
  // the thread count, so the result depends only on the task and the options; the deadline is a
  // safety stop (stats.stopped_by_deadline).
  EnumerateLimits base;
  base.max_nodes = options.max_nodes;
  base.max_bytes = options.max_memory_bytes / num_views;
  base.max_stack_steps = options.max_stack_steps;
  base.deadline = start + options.time_budget;

  std::atomic<bool> cancelled{false};
  auto should_stop = [&]() {
    if (cancelled.load(std::memory_order_relaxed)) return true;
    if (is_cancelled && is_cancelled()) {
      cancelled = true;
      return true;
    }
    return false;
  };
  // One pass enumerates every view to `depth` with `work_per_view` work units each, on up to
  // `threads` threads; results are indexed by view, so the merge order does not depend on timing.
  auto run_pass = [&](int depth, int64_t work_per_view) {
    std::vector<EnumerateResult> results(num_views);
    std::atomic<int> next_view{0};
    auto worker = [&]() {
      for (int v = next_view++; v < num_views; v = next_view++) {
        EnumerateLimits limits = base;
        limits.max_depth = depth;
        limits.max_work = std::max<int64_t>(1, work_per_view);
        std::function<bool()> stop = should_stop;
        results[v] = Enumerate((*views)[v].task, limits, stop);
      }
    };
    std::vector<std::thread> pool;
    for (int t = 1; t < threads; ++t) pool.emplace_back(worker);
    worker();
    for (std::thread& t : pool) t.join();
    return results;
  };
  // Iterative deepening: depth 2 first (most answers, a small fraction of the work), then the full
  // depth with the work left, shared equally by the views, unless a single program already
  // explains the task.
  const int demos = static_cast<int>(task.train.size());
  std::vector<EnumerateResult> results =
      run_pass(std::min(2, options.max_depth), options.max_work / num_views);
  auto single_program = [&](const std::vector<EnumerateResult>& rs) {
    for (const EnumerateResult& r : rs)
      for (const Found& f : r.found)
        if (f.explained == demos && !f.stacked) return true;
    return false;
  };
  auto hit_deadline = [](const std::vector<EnumerateResult>& rs) {
    return std::any_of(rs.begin(), rs.end(),
                       [](const EnumerateResult& r) { return r.stats.stopped_by_deadline; });
  };
  int64_t used = 0;
  for (const EnumerateResult& r : results) used += r.stats.work;
  int passes = 1;
  if (options.max_depth > 2 && !cancelled && !single_program(results) && !hit_deadline(results) &&
      used < options.max_work) {
    std::vector<EnumerateResult> deeper =
        run_pass(options.max_depth, (options.max_work - used) / num_views);
    for (EnumerateResult& r : deeper) results.push_back(std::move(r));
    passes = 2;
  }
  if (cancelled) return absl::CancelledError("search cancelled");

  SearchResult result;
  result.stats.views = num_views;
  result.stats.depth_completed = options.max_depth;
  int64_t peak = 0;
  struct Ranked {
    const Found* found;
    int view;
  };
  std::vector<Ranked> ranked;
  for (int v = 0; v < static_cast<int>(results.size()); ++v) {
    const EnumerateStats& s = results[v].stats;
    result.stats.programs_tried += s.programs_tried;
    result.stats.nodes += s.nodes;
    result.stats.pieces += s.pieces;
    result.stats.work += s.work;
    result.stats.stopped_early = result.stats.stopped_early || s.stopped_early;
    result.stats.stopped_by_deadline = result.stats.stopped_by_deadline || s.stopped_by_deadline;
    if (v >= num_views * (passes - 1))
      result.stats.depth_completed = std::min(result.stats.depth_completed, s.depth_completed);
    peak = std::max(peak, s.peak_bytes);
    for (const Found& f : results[v].found) ranked.push_back({&f, v});
  }
  result.stats.peak_bytes = peak * threads;
  result.stats.passes = passes;
  std::stable_sort(ranked.begin(), ranked.end(), [&](const Ranked& a, const Ranked& b) {
    const bool fa = a.found->explained == demos, fb = b.found->explained == demos;
    if (fa != fb) return fa;
    if (fa && a.found->stacked != b.found->stacked) return !a.found->stacked;
    if (!fa && a.found->explained != b.found->explained)
      return a.found->explained > b.found->explained;
    return std::tie(a.found->cost, a.view, a.found->order) <
           std::tie(b.found->cost, b.view, b.found->order);
  });
  result.explained = !ranked.empty() && ranked[0].found->explained == demos;
  result.tests.resize(task.test.size());
  for (size_t t = 0; t < task.test.size(); ++t) {
    std::vector<SearchCandidate>& out = result.tests[t];
    for (const Ranked& r : ranked) {
      if (static_cast<int>(out.size()) >= options.max_candidates) break;
      const TaskView& view = (*views)[r.view % num_views];
      Grid grid = view.ToTaskFrame(r.found->test_outputs[t], static_cast<int>(t));
      if (std::any_of(out.begin(), out.end(),
                      [&](const SearchCandidate& c) { return c.output == grid; }))
        continue;
      out.push_back(
          {std::move(grid), r.found->program, r.found->explained, demos, r.found->cost, view.name});
    }
  }
  result.stats.seconds = absl::ToDoubleSeconds(absl::Now() - start);
  return result;
}

}  // namespace arc::search
