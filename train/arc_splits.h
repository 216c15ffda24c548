// The fixed pretrain/dev split of ARC-AGI-1 (<arc_dir>/splits.json): pretraining trains on the
// pretrain tasks only; the dev tasks are for measurement and are excluded from every training
// sample (train/pretrain_data.h refuses them). Thread-safe (no shared state).
#ifndef ARC_TRAIN_ARC_SPLITS_H_
#define ARC_TRAIN_ARC_SPLITS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/data/grid.h"

namespace arc {

struct ArcSplits {
  std::vector<Task> pretrain;  // trainable, in splits.json order
  std::vector<Task> dev;       // for measurement only; never a training sample
};

// Reads <arc_dir>/splits.json ({"pretrain": [ids], "dev": [ids]}) and the task files
// <arc_dir>/training/<id>.json of both lists. FAILED_PRECONDITION when an id is in both lists or a
// pretrain task has the content of a dev task; NOT_FOUND / INVALID_ARGUMENT naming the file for a
// missing or malformed file or field.
absl::StatusOr<ArcSplits> LoadArcSplits(const std::string& arc_dir);

}  // namespace arc

#endif  // ARC_TRAIN_ARC_SPLITS_H_
