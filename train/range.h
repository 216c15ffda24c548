// The range check behind the pretraining options' Validate functions (train/pretrain_data.h,
// train/pretrainer.h): INVALID_ARGUMENT "<field>: <value> is outside <lo>..<hi>".
#ifndef ARC_TRAIN_RANGE_H_
#define ARC_TRAIN_RANGE_H_

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace arc {

inline absl::Status CheckRange(const char* field, double v, double lo, double hi) {
  if (v >= lo && v <= hi) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", v, " is outside ", lo, "..", hi));
}

}  // namespace arc

#endif  // ARC_TRAIN_RANGE_H_
