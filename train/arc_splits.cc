#include "train/arc_splits.h"

#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/data/status_macros.h"
#include "core/data/task_io.h"
#include "train/json_file.h"

namespace arc {
namespace {

using Json = nlohmann::json;

std::vector<std::string> StringList(const Json& j, const std::string& path, const char* key,
                                    absl::Status& error) {
  std::vector<std::string> out;
  if (!j.contains(key) || !j[key].is_array()) {
    error = absl::InvalidArgumentError(absl::StrCat(path, ": ", key, ": expected a list of ids"));
    return out;
  }
  for (const Json& v : j[key]) {
    if (!v.is_string()) {
      error = absl::InvalidArgumentError(absl::StrCat(path, ": ", key, ": expected strings"));
      return out;
    }
    out.push_back(v.get<std::string>());
  }
  return out;
}

}  // namespace

absl::StatusOr<ArcSplits> LoadArcSplits(const std::string& arc_dir) {
  const std::string path = arc_dir + "/splits.json";
  ARC_ASSIGN_OR_RETURN(const Json j, ReadJsonFile(path));
  if (!j.is_object()) return absl::InvalidArgumentError(absl::StrCat(path, ": expected an object"));
  absl::Status error;
  const std::vector<std::string> pretrain_ids = StringList(j, path, "pretrain", error);
  const std::vector<std::string> dev_ids = StringList(j, path, "dev", error);
  ARC_RETURN_IF_ERROR(error);
  const std::set<std::string> dev_set(dev_ids.begin(), dev_ids.end());
  for (const std::string& id : pretrain_ids) {
    if (dev_set.count(id) > 0) {
      return absl::FailedPreconditionError(
          absl::StrCat(path, ": task ", id, " is in both the pretrain and the dev split"));
    }
  }
  ArcSplits splits;
  for (const std::string& id : dev_ids) {
    ARC_ASSIGN_OR_RETURN(Task t, ReadTaskFile(absl::StrCat(arc_dir, "/training/", id, ".json")));
    splits.dev.push_back(std::move(t));
  }
  std::set<std::string> dev_hashes;
  for (const Task& t : splits.dev) dev_hashes.insert(ContentHash(t));
  for (const std::string& id : pretrain_ids) {
    ARC_ASSIGN_OR_RETURN(Task t, ReadTaskFile(absl::StrCat(arc_dir, "/training/", id, ".json")));
    if (dev_hashes.count(ContentHash(t)) > 0) {
      return absl::FailedPreconditionError(
          absl::StrCat(path, ": pretrain task ", id, " has the content of a dev task"));
    }
    splits.pretrain.push_back(std::move(t));
  }
  return splits;
}

}  // namespace arc
