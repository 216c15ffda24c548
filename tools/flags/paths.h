// Where the binaries find the embedded model and put their outputs, wherever they are run from.
//
// The default model, `--model models/default`, is a name relative to the repository root; a binary
// run from elsewhere (another directory, or installed with `cmake --install build --prefix P`) finds
// it next to itself. Outputs with a default path go to the current directory's `out/`
// (kOutputDir), created on first use.
//
// Thread-safe (no state).
#ifndef ARC_TOOLS_FLAGS_PATHS_H_
#define ARC_TOOLS_FLAGS_PATHS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace arc {

// The default of every --model flag: the embedded model, by its path in the source tree.
inline constexpr char kDefaultModelDir[] = "models/default";
// Where an install puts it, relative to the install prefix (`cmake --install`, top CMakeLists.txt).
inline constexpr char kInstalledModelDir[] = "share/arc-ttt/models/default";
// The directory of default output files (arc-solve's out/submission.json and out/report.json).
inline constexpr char kOutputDir[] = "out";

// The places kDefaultModelDir is looked for, in order: the current directory; next to the running
// executable, an install (<exe dir>/../share/arc-ttt/models/default); the source tree this binary
// was configured from (ARC_SOURCE_DIR/models/default, i.e. a build tree). Paths are absolute.
std::vector<std::string> DefaultModelCandidates();

// The model directory a --model value names. kDefaultModelDir is looked for in
// DefaultModelCandidates() and the first existing directory is returned (the relative
// "models/default" itself when the current directory has it); NOT_FOUND listing every place tried
// when none has it. Any other value is returned as given: loading it reports a missing directory.
absl::StatusOr<std::string> ResolveModelDir(const std::string& flag_value);

// Creates the parent directory of an output file (out/ for out/submission.json), with its parents,
// when missing. OK for a bare file name; PERMISSION_DENIED naming the directory when it cannot.
absl::Status CreateParentDirectory(const std::string& file_path);

}  // namespace arc

#endif  // ARC_TOOLS_FLAGS_PATHS_H_
