// Parsing untrusted JSON text into nlohmann::json with every failure as a Status, never an
// exception. Every reader of a JSON input goes through here: task and Kaggle files (task_io),
// safetensors headers and tokenizer.json (core/text), config.json, arc_model.json and
// solve_options.json (core/model, core/solve), train/'s metadata files and arc-tasks' splits.json.
//
// Why: nlohmann's parser throws parse_error for a syntax fault but out_of_range (406) for a number
// that overflows a double ("1e3080", or an integer literal of 400 digits), and its accessors throw
// type_error / out_of_range when used on the wrong type. An exception that escapes a parser aborts
// a tool (exit 134) or, in the server, fails the RPC without a message. ParseJson catches all of
// them; on a fault it re-reads the text with a SAX pass that tracks where the parser was, so the
// message names the JSON path of the fault:
//   invalid JSON at byte 14: syntax error while parsing array - unexpected number literal; ...
//   train[0].input[0][1]: number 1e3080 is out of range (it overflows a double), at byte 40
//   test[0].input: nested deeper than 64 levels, at byte 301
// The depth bound keeps hostile "[[[[..." input from costing a parse of its full depth (and any
// recursive use of the tree, such as dump(), from exhausting the stack); real inputs nest at most
// 6 levels.
//
// GuardJson runs code that walks a parsed tree and turns any exception escaping it into a status.
// The walkers here check types before they read, so it is a backstop, not the error path.
//
// Stateless functions; thread-safe.
#ifndef ARC_CORE_DATA_JSON_PARSE_H_
#define ARC_CORE_DATA_JSON_PARSE_H_

#include <cstddef>
#include <cstdint>
#include <exception>
#include <new>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"

namespace arc {

// The nesting bound of ParseJson (objects and arrays together).
inline constexpr int kMaxJsonDepth = 64;

// One step of a JSON path: an object key, or an array index when `index` >= 0.
struct JsonPathPart {
  std::string key;
  int64_t index = -1;
};

// "train[0].input[0][1]"; keys are C-escaped (absl::CHexEscape) so a hostile key cannot forge a
// message. Empty for the top level.
std::string FormatJsonPath(const std::vector<JsonPathPart>& path);

// Where and why parsing `text` fails.
struct JsonFault {
  enum class Kind {
    kNone,            // the text parses
    kSyntax,          // not JSON (nlohmann's parse_error)
    kNumberOverflow,  // a number beyond the range of a double
    kTooDeep,         // nested deeper than the bound
  };
  Kind kind = Kind::kNone;
  uint64_t byte = 0;               // 1-based byte at which the parser stopped (nlohmann's count)
  std::vector<JsonPathPart> path;  // the value being parsed when it stopped
  std::string token;               // the offending token as written (kNumberOverflow, kSyntax)
  std::string detail;  // nlohmann's description, without its "[json.exception...]" prefix
};

// The 1-based byte at which `text` first nests deeper than `max_depth` (objects and arrays, outside
// strings), or 0. A linear scan, cheap next to the parse it guards; on text the parser accepts up
// to that byte it agrees with the parser's own count.
uint64_t DepthExceededAt(std::string_view text, int max_depth);

// Re-reads `text` and reports its first fault (kNone when it parses within `max_depth`).
JsonFault LocateJsonFault(std::string_view text, int max_depth = kMaxJsonDepth);

// The message ParseJson gives for `fault` (see the file comment; no trailing period).
std::string DescribeJsonFault(const JsonFault& fault, int max_depth = kMaxJsonDepth);

// Parses `text`. INVALID_ARGUMENT with DescribeJsonFault's message on any fault;
// RESOURCE_EXHAUSTED when memory runs out.
absl::StatusOr<nlohmann::json> ParseJson(std::string_view text, int max_depth = kMaxJsonDepth);

// The text of a JSON library exception without its "[json.exception.type_error.302] " prefix.
std::string JsonExceptionText(const std::exception& e);

// Runs `body` (returning absl::Status or absl::StatusOr<T>) and converts an exception escaping it:
// nlohmann::json::exception and any other std::exception become INVALID_ARGUMENT, std::bad_alloc
// RESOURCE_EXHAUSTED; the message starts with `what` (a file or a field), e.g.
//   "config.json: type must be number, but is string".
template <typename F>
auto GuardJson(absl::string_view what, F&& body) -> decltype(body()) {
  const auto prefixed = [&](absl::string_view text) {
    return what.empty() ? std::string(text) : absl::StrCat(what, ": ", text);
  };
  try {
    return body();
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError(prefixed("out of memory while reading JSON"));
  } catch (const std::exception& e) {  // nlohmann::json::exception derives from std::exception
    return absl::InvalidArgumentError(prefixed(JsonExceptionText(e)));
  }
}

}  // namespace arc

#endif  // ARC_CORE_DATA_JSON_PARSE_H_
