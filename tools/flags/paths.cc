#include "tools/flags/paths.h"

#include <filesystem>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace arc {

namespace fs = std::filesystem;

std::vector<std::string> DefaultModelCandidates() {
  std::vector<std::string> out;
  std::error_code ec;
  const fs::path cwd = fs::current_path(ec);
  if (!ec) out.push_back((cwd / kDefaultModelDir).lexically_normal().string());
  // /proc/self/exe is the binary itself (symlinks resolved): <prefix>/bin/arc-solve for an install.
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    out.push_back((exe.parent_path() / ".." / kInstalledModelDir).lexically_normal().string());
  }
#ifdef ARC_SOURCE_DIR
  out.push_back((fs::path(ARC_SOURCE_DIR) / kDefaultModelDir).lexically_normal().string());
#endif
  return out;
}

absl::StatusOr<std::string> ResolveModelDir(const std::string& flag_value) {
  if (flag_value != kDefaultModelDir) return flag_value;
  if (fs::is_directory(kDefaultModelDir)) return flag_value;
  const std::vector<std::string> tried = DefaultModelCandidates();
  for (const std::string& dir : tried) {
    if (fs::is_directory(dir)) return dir;
  }
  return absl::NotFoundError(absl::StrCat(
      "--model: the default model \"", kDefaultModelDir, "\" is in none of ",
      absl::StrJoin(tried, ", "),
      " (run from the repository root, install with `cmake --install build --prefix P`, or give "
      "--model DIR)"));
}

absl::Status CreateParentDirectory(const std::string& file_path) {
  const fs::path parent = fs::path(file_path).parent_path();
  if (parent.empty()) return absl::OkStatus();
  std::error_code ec;
  fs::create_directories(parent, ec);
  if (ec) {
    return absl::PermissionDeniedError(
        absl::StrCat(parent.string(), ": cannot create the directory (", ec.message(), ")"));
  }
  return absl::OkStatus();
}

}  // namespace arc
