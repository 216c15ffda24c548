// Whole-file reads and atomic writes, with errors that name the path.
#ifndef ARC_CORE_DATA_FILE_UTIL_H_
#define ARC_CORE_DATA_FILE_UTIL_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace arc {

// Reads a whole file. NOT_FOUND when it does not exist; INVALID_ARGUMENT when it is larger than
// `max_bytes` (the message names the size and the limit).
absl::StatusOr<std::string> ReadFile(const std::string& path, int64_t max_bytes = int64_t{1} << 32);

// Writes `content` to a temporary file beside `path`, then renames it over `path`, so readers never
// see a half-written file and a failed write leaves the old file intact.
absl::Status WriteFileAtomic(const std::string& path, const std::string& content);

}  // namespace arc

#endif  // ARC_CORE_DATA_FILE_UTIL_H_
