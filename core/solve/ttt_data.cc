#include "core/solve/ttt_data.h"

#include <algorithm>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "core/data/range_check.h"
#include "core/data/status_macros.h"

namespace arc {
namespace {

// OK, or INVALID_ARGUMENT "ttt data option <field>: <value> is outside <lo>..<hi>".
absl::Status CheckOption(const char* field, int64_t value, int64_t lo, int64_t hi) {
  return CheckIntRange(absl::StrCat("ttt data option ", field), value, lo, hi);
}

// Every sample of one leave-n level, in the order described in the header.
struct Level {
  std::vector<TttSample> samples;
};

// Calls f(kept) for every subset of `items` of size `k` removed... i.e. enumerates the
// combinations of `k` elements of `items` in lexicographic order (itertools.combinations).
template <typename F>
void ForEachCombination(const std::vector<int>& items, int k, F&& f) {
  const int n = static_cast<int>(items.size());
  if (k > n) return;
  std::vector<int> idx(k);
  for (int i = 0; i < k; ++i) idx[i] = i;
  while (true) {
    std::vector<int> chosen;
    for (int i : idx) chosen.push_back(items[i]);
    f(chosen);
    int i = k - 1;
    while (i >= 0 && idx[i] == n - k + i) --i;
    if (i < 0) return;
    ++idx[i];
    for (int j = i + 1; j < k; ++j) idx[j] = idx[j - 1] + 1;
  }
}

// Appends `s` unless an equal task is already present.
void AddUnique(TttSample s, absl::flat_hash_set<Task>& seen, std::vector<TttSample>& out,
               int& duplicates) {
  if (!seen.insert(s.task).second) {
    ++duplicates;
    return;
  }
  out.push_back(std::move(s));
}

Level BuildLevel(const Task& task, int leave_n, const TttDataOptions& o, TttDataStats& stats) {
  const int n = static_cast<int>(task.train.size());
  Rng rng(o.seed);  // each level starts from a fresh generator, as the paper's RandomState(seed)

  std::vector<Task> base;
  for (int held = 0; held < n; ++held) {
    std::vector<int> rest;
    for (int j = 0; j < n; ++j) {
      if (j != held) rest.push_back(j);
    }
    ForEachCombination(rest, leave_n - 1, [&](const std::vector<int>& removed) {
      Task t;
      t.id = task.id;
      for (int j : rest) {
        if (std::find(removed.begin(), removed.end(), j) == removed.end()) {
          t.train.push_back(task.train[j]);
        }
      }
      t.test.push_back({task.train[held].input, task.train[held].output});
      base.push_back(std::move(t));
    });
  }
  (leave_n == 1 ? stats.base_leave1 : stats.base_leave2) = static_cast<int>(base.size());

  std::vector<TttSample> unpermuted;
  absl::flat_hash_set<Task> seen;
  for (const Task& t : base) AddUnique({t, leave_n, "", -1}, seen, unpermuted, stats.duplicates);
  if (o.augment) {
    for (const AugmenterPtr& aug : PaperTttAugmenters(o.augmenter_groups, o.translate, o.seed)) {
      for (const Task& t : base) {
        std::optional<Task> a = AugmentTask(t, *aug, rng, o.max_side);
        if (!a) {
          ++stats.dropped_oversize;
          continue;
        }
        ++stats.augmented;
        AddUnique({std::move(*a), leave_n, aug->Name(), -1}, seen, unpermuted, stats.duplicates);
      }
    }
  }

  Level level;
  level.samples = unpermuted;
  const bool permute = o.permute_colours || o.shuffle_demonstrations;
  for (int p = 0; permute && p < o.permute_n; ++p) {
    for (const TttSample& s : unpermuted) {
      Task t = s.task;
      if (o.permute_colours) {
        t = ColourMap::RandomFixingZero(rng, ColoursUsed(t, /*include_test_outputs=*/true)).Apply(t);
      }
      if (o.shuffle_demonstrations) {
        t = ReorderDemonstrations(t, rng.Permutation(static_cast<int>(t.train.size())));
      }
      ++stats.permuted;
      AddUnique({std::move(t), leave_n, s.augmentation + "+perm", -1}, seen, level.samples,
                stats.duplicates);
    }
  }
  return level;
}

void CountAndFilter(std::vector<TttSample>& samples, const TttDataOptions& o,
                    const TokenCounter& counter, TttDataStats& stats) {
  if (!counter) return;
  std::vector<TttSample> kept;
  kept.reserve(samples.size());
  for (TttSample& s : samples) {
    s.tokens = counter(s.task);
    if (s.tokens >= o.max_tokens) {
      ++stats.dropped_over_tokens;
      continue;
    }
    kept.push_back(std::move(s));
  }
  samples = std::move(kept);
}

}  // namespace

absl::Status ValidateTttDataOptions(const TttDataOptions& o) {
  ARC_RETURN_IF_ERROR(CheckOption("permute_n", o.permute_n, 0, 8));
  ARC_RETURN_IF_ERROR(CheckOption("max_samples", o.max_samples, 1, 100000));
  ARC_RETURN_IF_ERROR(CheckOption("max_side", o.max_side, 1, kArcMaxSide * 2));
  ARC_RETURN_IF_ERROR(CheckOption("max_tokens", o.max_tokens, 1, 1 << 20));
  // Only negative totals are refused; the message states the range a caller should use.
  if (o.max_total_tokens < 0) {
    return CheckOption("max_total_tokens", o.max_total_tokens, 0, int64_t{1} << 40);
  }
  return absl::OkStatus();
}

absl::StatusOr<TttData> BuildTttData(const Task& task, const TttDataOptions& options,
                                     const TokenCounter& counter) {
  if (absl::Status s = ValidateTttDataOptions(options); !s.ok()) return s;
  const int n = static_cast<int>(task.train.size());
  if (n < 2) {
    return absl::FailedPreconditionError(absl::StrCat(
        "test-time training needs at least 2 demonstrations to hold one out, the task has ", n));
  }
  TttData data;
  TttDataStats& stats = data.stats;
  stats.demonstrations = n;

  Level l1 = BuildLevel(task, 1, options, stats);
  CountAndFilter(l1.samples, options, counter, stats);
  Level l2;
  if (options.leave_two_top_up) {
    l2 = BuildLevel(task, 2, options, stats);
    CountAndFilter(l2.samples, options, counter, stats);
  }
  stats.candidates_leave1 = static_cast<int>(l1.samples.size());
  stats.candidates_leave2 = static_cast<int>(l2.samples.size());

  const size_t cap = static_cast<size_t>(options.max_samples);
  Rng select_rng = Rng(options.seed).Fork(/*stream=*/1);
  std::vector<TttSample>& out = data.samples;
  if (l1.samples.size() >= cap) {
    select_rng.Shuffle(l1.samples);
    l1.samples.resize(cap);
    out = std::move(l1.samples);
  } else {
    out = std::move(l1.samples);
    select_rng.Shuffle(l2.samples);
    for (TttSample& s : l2.samples) {
      if (out.size() >= cap) break;
      out.push_back(std::move(s));
    }
  }

  if (options.max_total_tokens > 0 && counter) {
    int64_t total = 0;
    size_t keep = 0;
    while (keep < out.size() && total + out[keep].tokens <= options.max_total_tokens) {
      total += out[keep++].tokens;
    }
    stats.trimmed_total_tokens = static_cast<int>(out.size() - keep);
    out.resize(keep);
  }
  for (const TttSample& s : out) {
    (s.leave_n == 1 ? stats.selected_leave1 : stats.selected_leave2) += 1;
    if (s.tokens > 0) stats.total_tokens += s.tokens;
  }
  return data;
}

}  // namespace arc
