// Shared by the libFuzzer targets of fuzz/: an invariant check that aborts (so libFuzzer records a
// crash with the input) and the input as text.
#ifndef ARC_FUZZ_FUZZ_UTIL_H_
#define ARC_FUZZ_FUZZ_UTIL_H_

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace arc::fuzz {

// Aborts with `what` when `condition` is false: a broken invariant is a finding, like a crash.
inline void Check(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "fuzz invariant broken: %s\n", what);
    std::abort();
  }
}

// A parser may refuse its input only with INVALID_ARGUMENT (the bad-input code) or, when memory
// runs out, RESOURCE_EXHAUSTED; any other code is a finding.
inline void CheckRefusal(const absl::Status& status, const char* what) {
  if (status.ok() || status.code() == absl::StatusCode::kInvalidArgument ||
      status.code() == absl::StatusCode::kResourceExhausted) {
    return;
  }
  std::fprintf(stderr, "fuzz invariant broken: %s refused with %s\n", what,
               status.ToString().c_str());
  std::abort();
}

inline std::string_view AsText(const uint8_t* data, size_t size) {
  return std::string_view(reinterpret_cast<const char*>(data), size);
}

}  // namespace arc::fuzz

#endif  // ARC_FUZZ_FUZZ_UTIL_H_
