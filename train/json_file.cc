#include "train/json_file.h"

#include "absl/strings/str_cat.h"
#include "core/data/file_util.h"
#include "core/data/json_parse.h"
#include "core/data/status_macros.h"

namespace arc {

absl::StatusOr<nlohmann::json> ReadJsonFile(const std::string& path) {
  ARC_ASSIGN_OR_RETURN(const std::string text, ReadFile(path, 1 << 24));
  absl::StatusOr<nlohmann::json> json = ParseJson(text);
  if (!json.ok()) {
    return absl::Status(json.status().code(), absl::StrCat(path, ": ", json.status().message()));
  }
  return json;
}

}  // namespace arc
