// A tiny structured logger for the server: one line per event on stderr in logfmt
// (key=value pairs), e.g.
//
//   ts=2024-05-01T12:00:00.123Z level=info event=job_done job_id=job-1 outcome=succeeded
//   total_s=0.41
//
// Levels filter at the call site (LogLine checks the level before formatting anything). Values
// with spaces, quotes, '=' or nothing in them are quoted with Go-style escapes, so every line
// splits unambiguously. The project has no absl/log (Debian's abseil lacks it), hence this.
//
// Thread-safety: every function may be called from any thread; a line is written with one call so
// lines never interleave. The level and the sink are process-wide.
#ifndef ARC_SERVER_LOGGER_H_
#define ARC_SERVER_LOGGER_H_

#include <cstdint>
#include <functional>
#include <string>
#include <type_traits>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace arc::server {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

// "debug", "info", "warning" (or "warn"), "error"; INVALID_ARGUMENT otherwise.
absl::StatusOr<LogLevel> ParseLogLevel(absl::string_view name);
absl::string_view LogLevelName(LogLevel level);

void SetLogLevel(LogLevel level);
LogLevel GetLogLevel();
bool LogEnabled(LogLevel level);

// Replaces the output (stderr by default) with `sink`, which receives each line without the
// trailing newline; an empty function restores stderr. For tests.
void SetLogSinkForTesting(std::function<void(const std::string&)> sink);

// Builds one line and writes it when destroyed:
//   LogLine(LogLevel::kInfo, "job_done").Add("job_id", id).Add("total_s", 0.41);
class LogLine {
 public:
  LogLine(LogLevel level, absl::string_view event);
  ~LogLine();
  LogLine(const LogLine&) = delete;
  LogLine& operator=(const LogLine&) = delete;

  LogLine& Add(absl::string_view key, absl::string_view value);
  LogLine& Add(absl::string_view key, const std::string& value) {
    return Add(key, absl::string_view(value));
  }
  LogLine& Add(absl::string_view key, const char* value) {
    return Add(key, absl::string_view(value));
  }
  LogLine& Add(absl::string_view key, bool value) { return Add(key, value ? "true" : "false"); }
  LogLine& Add(absl::string_view key, double value);
  template <typename T, typename = std::enable_if_t<std::is_integral_v<T>>>
  LogLine& Add(absl::string_view key, T value) {
    if (enabled_) AddRaw(key, absl::StrCat(value));
    return *this;
  }

 private:
  void AddRaw(absl::string_view key, absl::string_view formatted);

  bool enabled_;
  std::string line_;
};

// logfmt quoting of one value (exposed for tests).
std::string LogfmtValue(absl::string_view value);

}  // namespace arc::server

#endif  // ARC_SERVER_LOGGER_H_
