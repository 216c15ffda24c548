#include "server/logger.h"

#include <atomic>
#include <cstdio>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "core/data/enum_names.h"

namespace arc::server {
namespace {

constexpr EnumName<LogLevel> kLogLevels[] = {{LogLevel::kDebug, "debug"},
                                             {LogLevel::kInfo, "info"},
                                             {LogLevel::kWarning, "warning"},
                                             {LogLevel::kError, "error"}};

std::atomic<int> g_level{static_cast<int>(LogLevel::kInfo)};

absl::Mutex g_sink_mu(absl::kConstInit);
// Heap-allocated and never freed: lines may still be written while static destructors run.
std::function<void(const std::string&)>* g_sink ABSL_GUARDED_BY(g_sink_mu) = nullptr;

void Write(const std::string& line) {
  absl::MutexLock lock(&g_sink_mu);
  if (g_sink != nullptr && *g_sink) {
    (*g_sink)(line);
    return;
  }
  // One fwrite per line: stderr is unbuffered, so a single call keeps lines whole.
  const std::string out = line + "\n";
  std::fwrite(out.data(), 1, out.size(), stderr);
}

bool NeedsQuotes(absl::string_view v) {
  if (v.empty()) return true;
  for (char c : v) {
    if (c == ' ' || c == '"' || c == '=' || c == '\\' || static_cast<unsigned char>(c) < 0x20) {
      return true;
    }
  }
  return false;
}

}  // namespace

absl::StatusOr<LogLevel> ParseLogLevel(absl::string_view name) {
  const std::string n = absl::AsciiStrToLower(name);
  if (n == "warn") return LogLevel::kWarning;  // an alias: accepted, never printed
  if (std::optional<LogLevel> level = ValueOf(kLogLevels, n)) return *level;
  return absl::InvalidArgumentError(
      absl::StrCat("log level: \"", name, "\" is not one of ", NameList(kLogLevels)));
}

absl::string_view LogLevelName(LogLevel level) { return NameOf(kLogLevels, level, "info"); }

void SetLogLevel(LogLevel level) { g_level.store(static_cast<int>(level)); }
LogLevel GetLogLevel() { return static_cast<LogLevel>(g_level.load()); }
bool LogEnabled(LogLevel level) { return static_cast<int>(level) >= g_level.load(); }

void SetLogSinkForTesting(std::function<void(const std::string&)> sink) {
  absl::MutexLock lock(&g_sink_mu);
  if (g_sink == nullptr) g_sink = new std::function<void(const std::string&)>();
  *g_sink = std::move(sink);
}

std::string LogfmtValue(absl::string_view value) {
  if (!NeedsQuotes(value)) return std::string(value);
  std::string out = "\"";
  for (char c : value) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += absl::StrFormat("\\x%02x", static_cast<unsigned char>(c));
        } else {
          out += c;
        }
    }
  }
  out += '"';
  return out;
}

LogLine::LogLine(LogLevel level, absl::string_view event) : enabled_(LogEnabled(level)) {
  if (!enabled_) return;
  line_ = absl::StrCat(
      "ts=", absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(), absl::UTCTimeZone()),
      " level=", LogLevelName(level), " event=", LogfmtValue(event));
}

LogLine::~LogLine() {
  if (enabled_) Write(line_);
}

LogLine& LogLine::Add(absl::string_view key, absl::string_view value) {
  if (enabled_) AddRaw(key, LogfmtValue(value));
  return *this;
}

LogLine& LogLine::Add(absl::string_view key, double value) {
  if (enabled_) AddRaw(key, absl::StrFormat("%.6g", value));
  return *this;
}

void LogLine::AddRaw(absl::string_view key, absl::string_view formatted) {
  absl::StrAppend(&line_, " ", key, "=", formatted);
}

}  // namespace arc::server
