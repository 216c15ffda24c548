// Range checks for option validation: INVALID_ARGUMENT "<field>: <value> is outside <lo>..<hi>",
// the message every Validate function of the project uses. One definition for the layers (TTT
// options, TTT data options, search options, pretraining options).
//
// CheckRange prints its numbers as absl::StrCat prints a double (six significant digits, so
// 1000000 reads "1e+06"); CheckIntRange prints integers exactly. Pure functions; thread-safe.
#ifndef ARC_CORE_DATA_RANGE_CHECK_H_
#define ARC_CORE_DATA_RANGE_CHECK_H_

#include <cstdint>
#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace arc {

inline absl::Status CheckRange(std::string_view field, double value, double lo, double hi) {
  if (value >= lo && value <= hi) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(std::string(field), ": ", value, " is outside ", lo, "..", hi));
}

inline absl::Status CheckIntRange(std::string_view field, int64_t value, int64_t lo, int64_t hi) {
  if (value >= lo && value <= hi) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(std::string(field), ": ", value, " is outside ", lo, "..", hi));
}

}  // namespace arc

#endif  // ARC_CORE_DATA_RANGE_CHECK_H_
