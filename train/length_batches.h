// Length bucketing for pretraining batches: samples of similar length go together so that little
// of a right-padded batch is padding, under a token budget (rows * longest row <= budget).
// Thread-safe (no shared state).
#ifndef ARC_TRAIN_LENGTH_BATCHES_H_
#define ARC_TRAIN_LENGTH_BATCHES_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"

namespace arc {

// Groups samples of similar length: indices sorted by length (longest first, ties by index), then
// cut greedily so that every batch has rows * (its longest length) <= token_budget. Every index
// appears in exactly one batch. INVALID_ARGUMENT when a length is < 1 or > token_budget.
absl::StatusOr<std::vector<std::vector<int>>> MakeLengthBatches(const std::vector<int>& lengths,
                                                                int64_t token_budget);

}  // namespace arc

#endif  // ARC_TRAIN_LENGTH_BATCHES_H_
