// Reading a JSON file whole, for train/'s small metadata files (splits.json, a checkpoint's
// state.json). Thread-safe (no shared state).
#ifndef ARC_TRAIN_JSON_FILE_H_
#define ARC_TRAIN_JSON_FILE_H_

#include <string>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace arc {

// The parsed file (at most 16 MiB, nested at most 64 levels). NOT_FOUND / INVALID_ARGUMENT naming
// the file and the fault (core/data/json_parse.h: the byte of a syntax error, the JSON path of a
// number that overflows a double) otherwise; never throws.
absl::StatusOr<nlohmann::json> ReadJsonFile(const std::string& path);

}  // namespace arc

#endif  // ARC_TRAIN_JSON_FILE_H_
