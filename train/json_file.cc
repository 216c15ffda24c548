#include "train/json_file.h"

#include "absl/strings/str_cat.h"
#include "core/data/file_util.h"
#include "core/data/status_macros.h"

namespace arc {

absl::StatusOr<nlohmann::json> ReadJsonFile(const std::string& path) {
  ARC_ASSIGN_OR_RETURN(const std::string text, ReadFile(path, 1 << 24));
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": invalid JSON at byte ", e.byte));
  }
}

}  // namespace arc
