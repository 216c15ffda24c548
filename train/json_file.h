// Reading a JSON file whole, for train/'s small metadata files (splits.json, a checkpoint's
// state.json). Thread-safe (no shared state).
#ifndef ARC_TRAIN_JSON_FILE_H_
#define ARC_TRAIN_JSON_FILE_H_

#include <string>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace arc {

// The parsed file (at most 16 MiB). NOT_FOUND / INVALID_ARGUMENT naming the file (and the byte of
// a syntax error) otherwise.
absl::StatusOr<nlohmann::json> ReadJsonFile(const std::string& path);

}  // namespace arc

#endif  // ARC_TRAIN_JSON_FILE_H_
