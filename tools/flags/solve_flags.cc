#include "tools/flags/solve_flags.h"

#include <cstdint>
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/data/status_macros.h"
#include "core/solve/option_table.h"
#include "tools/flags/heap.h"

// Process
ABSL_FLAG(bool, keep_freed_memory, true,
          "keep freed memory in the heap (glibc): TTT steps reuse their attention buffers instead "
          "of page-faulting them in again; the process keeps its peak heap size");

// One flag per row of the option table. Choice and List options are strings (a List
// comma-separated).
#define ARC_FLAG_TYPE_Bool bool
#define ARC_FLAG_TYPE_Int int64_t
#define ARC_FLAG_TYPE_Uint uint64_t
#define ARC_FLAG_TYPE_Double double
#define ARC_FLAG_TYPE_Choice std::string
#define ARC_FLAG_TYPE_List std::string
#define ARC_SOLVE_FLAG_(name, kind, member, def, lo, hi, bounds, choices, proto, help) \
  ABSL_FLAG(ARC_FLAG_TYPE_##kind, name, def, help);
ARC_SOLVE_OPTIONS(ARC_SOLVE_FLAG_)
#undef ARC_SOLVE_FLAG_

namespace arc {
namespace {

template <typename T>
absl::StatusOr<OptionValue> FlagValue(const SolveOptionSpec&, const T& v, const std::string&) {
  return OptionValue(v);
}
absl::StatusOr<OptionValue> FlagValue(const SolveOptionSpec& spec, const std::string& v,
                                      const std::string& path) {
  return ParseOptionValue(spec, v, path);
}

// Whether the flag was given on the command line (or in a --flagfile). abseil 20220623 exposes
// this on the flag object only; CommandLineFlag::IsSpecifiedOnCommandLine is public from 2023.
template <typename T>
bool Given(const absl::Flag<T>& flag) {
  return flag.IsSpecifiedOnCommandLine();
}

}  // namespace

absl::StatusOr<SolveOptions> SolveOptionsFromFlags(const SolveOptions& base) {
  SolveOptions o = base;
#define ARC_APPLY_SOLVE_FLAG_(name, ...)                                                     \
  if (Given(FLAGS_##name)) {                                                                 \
    const SolveOption& option = *FindSolveOption(#name);                                     \
    const std::string path = "--" #name;                                                     \
    ARC_ASSIGN_OR_RETURN(OptionValue v, FlagValue(option.spec, absl::GetFlag(FLAGS_##name), \
                                                  path));                                    \
    ARC_RETURN_IF_ERROR(SetSolveOption(option, v, path, o));                                 \
  }
  ARC_SOLVE_OPTIONS(ARC_APPLY_SOLVE_FLAG_)
#undef ARC_APPLY_SOLVE_FLAG_
  return o;
}

bool ParseFlagsOnlyCommandLine(int argc, char** argv, absl::string_view program,
                               absl::string_view main_file, absl::string_view usage) {
  absl::FlagsUsageConfig config;
  config.contains_help_flags = [main_file = std::string(main_file)](absl::string_view file) {
    return absl::EndsWith(file, main_file) || absl::EndsWith(file, "tools/flags/solve_flags.cc");
  };
  absl::SetFlagsUsageConfig(config);
  absl::SetProgramUsageMessage(usage);
  std::vector<char*> rest = absl::ParseCommandLine(argc, argv);
  if (rest.size() > 1) {
    std::cerr << program << ": unexpected argument \"" << rest[1] << "\" (flags only; see --help)\n";
    return false;
  }
  return true;
}

void ApplyProcessFlags() {
  if (absl::GetFlag(FLAGS_keep_freed_memory)) KeepFreedMemory();
}

}  // namespace arc
