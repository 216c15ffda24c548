#include "core/data/json_parse.h"

#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"

namespace arc {
namespace {

using Json = nlohmann::json;

// Tokens quoted in messages are cut here: a 10,000-digit number should not become the message.
constexpr size_t kMaxTokenChars = 40;

std::string Shorten(std::string text) {
  if (text.size() > kMaxTokenChars) {
    text.resize(kMaxTokenChars);
    text += "...";
  }
  return text;
}


// A SAX consumer that builds nothing: it follows the parser's position as a path and records the
// first fault.
class FaultTracker final : public nlohmann::json_sax<Json> {
 public:
  explicit FaultTracker(int max_depth) : max_depth_(max_depth) {}

  bool null() override { return Scalar(); }
  bool boolean(bool) override { return Scalar(); }
  bool number_integer(number_integer_t) override { return Scalar(); }
  bool number_unsigned(number_unsigned_t) override { return Scalar(); }
  bool number_float(number_float_t, const string_t&) override { return Scalar(); }
  bool string(string_t&) override { return Scalar(); }
  bool binary(binary_t&) override { return Scalar(); }
  bool start_object(std::size_t) override { return Open(/*array=*/false); }
  bool key(string_t& key) override {
    if (!levels_.empty()) levels_.back().key = key;
    return true;
  }
  bool end_object() override { return Close(); }
  bool start_array(std::size_t) override { return Open(/*array=*/true); }
  bool end_array() override { return Close(); }

  bool parse_error(std::size_t position, const std::string& last_token,
                   const Json::exception& ex) override {
    fault_.kind = ex.id == 406 ? JsonFault::Kind::kNumberOverflow : JsonFault::Kind::kSyntax;
    fault_.byte = position;
    fault_.path = Path();
    fault_.token = Shorten(last_token);
    std::string text = JsonExceptionText(ex);
    // Syntax errors read "parse error at line 1, column 5: syntax error while ..."; the byte is
    // named separately, so keep what follows the position.
    if (fault_.kind == JsonFault::Kind::kSyntax) {
      const size_t colon = text.find(": ");
      if (colon != std::string::npos) text = text.substr(colon + 2);
    }
    fault_.detail = std::move(text);
    return false;
  }

  JsonFault TakeFault() { return std::move(fault_); }

 private:
  struct Level {
    bool array = false;
    int64_t count = 0;  // arrays: elements completed, so the index of the one being parsed
    std::string key;    // objects: the last key read
  };

  std::vector<JsonPathPart> Path() const {
    std::vector<JsonPathPart> path;
    path.reserve(levels_.size());
    for (const Level& level : levels_) {
      path.push_back(level.array ? JsonPathPart{"", level.count} : JsonPathPart{level.key, -1});
    }
    return path;
  }
  bool Scalar() {
    if (!levels_.empty() && levels_.back().array) ++levels_.back().count;
    return true;
  }
  bool Open(bool array) {
    if (static_cast<int>(levels_.size()) >= max_depth_) {
      fault_.kind = JsonFault::Kind::kTooDeep;
      fault_.path = Path();
      return false;  // stops the parse
    }
    levels_.push_back(Level{array, 0, ""});
    return true;
  }
  bool Close() {
    if (!levels_.empty()) levels_.pop_back();
    return Scalar();  // a closed container is one completed value of its parent
  }

  int max_depth_;
  std::vector<Level> levels_;
  JsonFault fault_;
};

}  // namespace

uint64_t DepthExceededAt(std::string_view text, int max_depth) {
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > max_depth) return i + 1;
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return 0;
}

std::string FormatJsonPath(const std::vector<JsonPathPart>& path) {
  std::string out;
  for (const JsonPathPart& part : path) {
    if (part.index >= 0) {
      absl::StrAppend(&out, "[", part.index, "]");
    } else {
      absl::StrAppend(&out, out.empty() ? "" : ".", absl::CHexEscape(part.key));
    }
  }
  return out;
}

std::string JsonExceptionText(const std::exception& e) {
  std::string text = e.what();
  if (absl::StartsWith(text, "[json.exception.")) {
    const size_t end = text.find("] ");
    if (end != std::string::npos) text = text.substr(end + 2);
  }
  return text;
}

JsonFault LocateJsonFault(std::string_view text, int max_depth) {
  FaultTracker tracker(max_depth);
  try {
    Json::sax_parse(text.begin(), text.end(), &tracker);
  } catch (const std::exception& e) {  // not expected: the tracker reports instead of throwing
    JsonFault fault;
    fault.kind = JsonFault::Kind::kSyntax;
    fault.detail = JsonExceptionText(e);
    return fault;
  }
  JsonFault fault = tracker.TakeFault();
  if (fault.kind == JsonFault::Kind::kTooDeep) fault.byte = DepthExceededAt(text, max_depth);
  return fault;
}

std::string DescribeJsonFault(const JsonFault& fault, int max_depth) {
  const std::string path = FormatJsonPath(fault.path);
  const std::string at = path.empty() ? "" : absl::StrCat(path, ": ");
  switch (fault.kind) {
    case JsonFault::Kind::kNone:
      return "valid JSON";
    case JsonFault::Kind::kSyntax:
      return absl::StrCat("invalid JSON at byte ", fault.byte, ": ", fault.detail);
    case JsonFault::Kind::kNumberOverflow:
      return absl::StrCat(at, "number ", fault.token,
                          " is out of range (it overflows a double), at byte ", fault.byte);
    case JsonFault::Kind::kTooDeep:
      return absl::StrCat(at, "nested deeper than ", max_depth, " levels, at byte ", fault.byte);
  }
  return "invalid JSON";
}

absl::StatusOr<Json> ParseJson(std::string_view text, int max_depth) {
  std::string unexpected = "invalid JSON";
  if (DepthExceededAt(text, max_depth) == 0) {
    try {
      return Json::parse(text.begin(), text.end());
    } catch (const std::bad_alloc&) {
      return absl::ResourceExhaustedError("out of memory while parsing JSON");
    } catch (const std::exception& e) {
      unexpected = JsonExceptionText(e);
    }
  }
  const JsonFault fault = LocateJsonFault(text, max_depth);
  if (fault.kind == JsonFault::Kind::kNone) return absl::InvalidArgumentError(unexpected);
  return absl::InvalidArgumentError(DescribeJsonFault(fault, max_depth));
}

}  // namespace arc
