// option_table_json: writes the solve-option table (core/solve/option_table.h) as JSON, so that the
// Python client (client/python/arc_client/options.py) maps keyword arguments onto arc.v1.SolveOptions
// from the same one declaration as arc-solve's flags, arc-server's request conversion and
// arc-client's flags, instead of a second copy of the names and proto paths.
//
//   option_table_json OUT.json
//
// One object per row, in table order: {"name", "kind" ("bool", "int", "uint", "double", "choice",
// "list"), "default" (a JSON bool, number or string by kind), "lo", "hi", "bounds" ("closed",
// "open_low", "open_high"), "choices" (list of strings), "proto" (path in arc.v1.SolveOptions, ""
// when not per request), "help"}. Run at build time by client/python/CMakeLists.txt.
#include <cstdio>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "core/solve/option_table.h"
#include "nlohmann/json.hpp"

namespace {

using Json = nlohmann::json;

const char* KindName(arc::OptionKind kind) {
  switch (kind) {
    case arc::OptionKind::kBool: return "bool";
    case arc::OptionKind::kInt: return "int";
    case arc::OptionKind::kUint: return "uint";
    case arc::OptionKind::kDouble: return "double";
    case arc::OptionKind::kChoice: return "choice";
    case arc::OptionKind::kList: return "list";
  }
  return "unknown";
}

const char* BoundsName(arc::OptionBounds bounds) {
  switch (bounds) {
    case arc::OptionBounds::kClosed: return "closed";
    case arc::OptionBounds::kOpenLow: return "open_low";
    case arc::OptionBounds::kOpenHigh: return "open_high";
  }
  return "unknown";
}

std::vector<std::string> SplitCommas(std::string_view text) {
  std::vector<std::string> out;
  while (!text.empty()) {
    const size_t comma = text.find(',');
    out.emplace_back(text.substr(0, comma));
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

// The built-in default as a JSON value of the row's kind.
Json DefaultOf(const arc::SolveOptionSpec& s) {
  switch (s.kind) {
    case arc::OptionKind::kBool: return s.default_number != 0;
    case arc::OptionKind::kInt:
    case arc::OptionKind::kUint: return static_cast<int64_t>(s.default_number);
    case arc::OptionKind::kDouble: return s.default_number;
    case arc::OptionKind::kChoice:
    case arc::OptionKind::kList: return s.default_text;
  }
  return nullptr;
}

Json RowOf(const arc::SolveOptionSpec& s) {
  return {{"name", s.name},           {"kind", KindName(s.kind)},
          {"default", DefaultOf(s)},  {"lo", s.lo},
          {"hi", s.hi},               {"bounds", BoundsName(s.bounds)},
          {"choices", SplitCommas(s.choices)}, {"proto", s.proto},
          {"help", s.help}};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: option_table_json OUT.json\n");
    return 2;
  }
  Json rows = Json::array();
  for (const arc::SolveOptionSpec& s : arc::kSolveOptionSpecs) rows.push_back(RowOf(s));
  std::ofstream out(argv[1], std::ios::binary | std::ios::trunc);
  out << rows.dump(1) << "\n";
  out.close();
  if (!out) {
    std::fprintf(stderr, "option_table_json: cannot write %s\n", argv[1]);
    return 1;
  }
  return 0;
}
