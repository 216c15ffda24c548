// Test-time-training data: the in-context training samples built from ONE task's demonstrations,
// following the MIT paper (reference mit-ttt-pipeline.md §3.1-3.3). Test inputs are never used.
//
// For leave-n-out (n = 1, and n = 2 for the top-up):
//   base      every way of holding out one demonstration i as the sample's query (with its output)
//             and removing n-1 further demonstrations: N * C(N-1, n-1) tasks, demonstrations kept in
//             ascending order;
//   augment   for each augmenter (outer loop, paper order), for each base task: the augmenter applied
//             to every input and output; dropped when a grid exceeds max_side;
//   dedup     base tasks first, then augmented ones, first occurrence kept;
//   permute   permute_n times for every task: a colour permutation keeping 0 fixed (colours of every
//             grid, the held-out output included) and a shuffle of the demonstration order;
//   dedup     the unpermuted list followed by the permuted one, first occurrence kept;
//   budget    samples whose token count (counter given) is >= max_tokens are dropped.
// Selection (the paper's process_task): L1 = leave-1 samples, L2 = leave-2 samples.
//   L1 empty          -> L2 shuffled, capped at max_samples
//   |L1| < cap        -> L1 + the first (cap - |L1|) of L2 shuffled  (the paper takes set order)
//   |L1| >= cap       -> L1 shuffled, capped
// then, if max_total_tokens > 0, samples are dropped from the end until the sum fits.
//
// Deviations from the paper, all for determinism: set() order is replaced by first-occurrence
// order plus explicit seeded shuffles. RandomTranslateXY follows `translate` (option
// ttt_translate, core/data/augment.h): by default one shift per task drawn from the generator and
// applied to inputs and outputs alike; `marc` reproduces marc's shifts exactly (the same for every
// task, an input and its output moved by different amounts). Everything is a pure function of
// (task, options).
#ifndef ARC_CORE_SOLVE_TTT_DATA_H_
#define ARC_CORE_SOLVE_TTT_DATA_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/data/augment.h"
#include "core/data/grid.h"
#include "core/solve/option_table.h"

namespace arc {

// Tokens a sample costs in the model's prompt format (demonstrations, query and answer).
using TokenCounter = std::function<int(const Task& sample)>;

// The defaults of the user-facing fields are the option table's (core/solve/option_table.h), which
// also holds their ranges.
struct TttDataOptions {
  // top up leave-one-out samples with leave-two-out ones
  bool leave_two_top_up = solve_option_default::ttt_leave_two;
  // apply the paper's augmenters (false: --no_transform)
  bool augment = solve_option_default::ttt_augment;
  PaperAugmenterGroups augmenter_groups;  // which of the 23 augmenters
  // how RandomTranslateXY shifts (table: ttt_translate)
  TranslateMode translate = TranslateMode::kConsistent;
  // colour-permuted + shuffled copies per task
  int permute_n = solve_option_default::ttt_permute_n;
  bool permute_colours = true;     // the permuted copies get a colour permutation (0 fixed)
  bool shuffle_demonstrations = true;  // the permuted copies get a demonstration shuffle
  int max_samples = solve_option_default::ttt_max_samples;  // the cap (the paper's Nmax)
  int max_side = kArcMaxSide;      // grids above this are dropped after augmentation
  int max_tokens = 8192;           // samples with this many tokens or more are dropped (needs a counter)
  int64_t max_total_tokens = 0;    // if > 0, trim samples from the end until the sum fits (memory bound)
  uint64_t seed = 0;
};

// Checks ranges; INVALID_ARGUMENT naming the field and its limit.
absl::Status ValidateTttDataOptions(const TttDataOptions& options);

struct TttSample {
  Task task;                 // train = in-context demonstrations; test[0] = held-out pair (with output)
  int leave_n = 1;           // 1 or 2
  std::string augmentation;  // augmenter name, "" for none; "+perm" when colour/order permuted
  int tokens = -1;           // from the counter, -1 when none was given
};

struct TttDataStats {
  int demonstrations = 0;       // N, of the source task
  int base_leave1 = 0;          // leave-one-out tasks before augmentation
  int base_leave2 = 0;
  int augmented = 0;            // augmented tasks kept (both leave-n), before dedup
  int dropped_oversize = 0;     // augmented tasks with a grid over max_side
  int duplicates = 0;           // removed by the two dedup passes
  int permuted = 0;             // permuted copies made
  int dropped_over_tokens = 0;  // samples at or over max_tokens
  int candidates_leave1 = 0;    // L1 after the filters
  int candidates_leave2 = 0;    // L2 after the filters
  int selected_leave1 = 0;      // in the final set
  int selected_leave2 = 0;
  int trimmed_total_tokens = 0; // dropped to fit max_total_tokens
  int64_t total_tokens = 0;     // of the final set (0 without a counter)
};

struct TttData {
  std::vector<TttSample> samples;
  TttDataStats stats;
};

// Builds the samples. `counter` may be empty (no token filter). INVALID_ARGUMENT for bad options;
// FAILED_PRECONDITION when the task has fewer than 2 demonstrations (nothing to hold out).
absl::StatusOr<TttData> BuildTttData(const Task& task, const TttDataOptions& options,
                                     const TokenCounter& counter = nullptr);

}  // namespace arc

#endif  // ARC_CORE_SOLVE_TTT_DATA_H_
