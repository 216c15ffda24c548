#include "train/length_batches.h"

#include <algorithm>
#include <numeric>

#include "absl/strings/str_cat.h"

namespace arc {

absl::StatusOr<std::vector<std::vector<int>>> MakeLengthBatches(const std::vector<int>& lengths,
                                                                int64_t token_budget) {
  for (size_t i = 0; i < lengths.size(); ++i) {
    if (lengths[i] < 1 || lengths[i] > token_budget) {
      return absl::InvalidArgumentError(absl::StrCat("sample ", i, ": length ", lengths[i],
                                                     " is outside 1..", token_budget,
                                                     " (the token budget per batch)"));
    }
  }
  std::vector<int> order(lengths.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int a, int b) { return lengths[a] > lengths[b]; });
  std::vector<std::vector<int>> batches;
  int64_t longest = 0;
  for (int i : order) {
    // Longest first, so the batch's longest row is its first; a row fits while rows * longest
    // stays within the budget.
    if (batches.empty() ||
        static_cast<int64_t>(batches.back().size() + 1) * longest > token_budget) {
      batches.emplace_back();
      longest = lengths[i];
    }
    batches.back().push_back(i);
  }
  return batches;
}

}  // namespace arc
