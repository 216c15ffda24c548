#include "tools/flags/solve_flags.h"

#include <cstdint>
#include <string>

#include "absl/flags/flag.h"
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

FlagSection SolveFlagsSection() {
  return {"solve options (one per row of core/solve/option_table.h, docs/SOLVE_OPTIONS.md; the "
          "default shown is the built-in one: the model directory's solve_options.json overrides "
          "it, a flag given overrides both) and the process flag --keep_freed_memory",
          "tools/flags/solve_flags.cc"};
}

void ApplyProcessFlags() {
  if (absl::GetFlag(FLAGS_keep_freed_memory)) KeepFreedMemory();
}

}  // namespace arc
