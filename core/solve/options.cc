#include "core/solve/options.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <set>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "core/data/enum_names.h"
#include "core/data/file_util.h"
#include "core/data/json_parse.h"
#include "core/data/status_macros.h"
#include "nlohmann/json.hpp"

namespace arc {
namespace {

absl::Status Invalid(const std::string& path, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(path, ": ", what));
}

std::vector<std::string> Choices(const SolveOptionSpec& spec) {
  return absl::StrSplit(spec.choices, ',', absl::SkipEmpty());
}

// A bound as people write it: 1000000 rather than 1e+06.
std::string Bound(double v) {
  if (v == std::floor(v) && std::fabs(v) < 1e15) return absl::StrCat(static_cast<int64_t>(v));
  return absl::StrCat(v);
}

std::string RangeText(const SolveOptionSpec& spec, double hi) {
  switch (spec.bounds) {
    case OptionBounds::kOpenLow:
      return absl::StrCat("(", Bound(spec.lo), ", ", Bound(hi), "]");
    case OptionBounds::kOpenHigh:
      return absl::StrCat("[", Bound(spec.lo), ", ", Bound(hi), ")");
    case OptionBounds::kClosed:
      break;
  }
  return absl::StrCat(Bound(spec.lo), "..", Bound(hi));
}

const char* KindWord(OptionKind kind) {
  switch (kind) {
    case OptionKind::kBool: return "true or false";
    case OptionKind::kInt: return "an integer";
    case OptionKind::kUint: return "an unsigned integer";
    case OptionKind::kDouble: return "a number";
    case OptionKind::kChoice: return "a string";
    case OptionKind::kList: return "a list of strings";
  }
  return "";
}

// The variant alternative each kind holds.
size_t KindIndex(OptionKind kind) {
  switch (kind) {
    case OptionKind::kBool: return 0;
    case OptionKind::kInt: return 1;
    case OptionKind::kUint: return 2;
    case OptionKind::kDouble: return 3;
    case OptionKind::kChoice: return 4;
    case OptionKind::kList: return 5;
  }
  return 0;
}

// ---- Field <-> OptionValue, by the field's C++ type ----

OptionValue ToValue(bool v) { return v; }
OptionValue ToValue(int v) { return int64_t{v}; }
OptionValue ToValue(int64_t v) { return v; }
OptionValue ToValue(uint64_t v) { return v; }
OptionValue ToValue(double v) { return v; }
void FromValue(const OptionValue& v, bool& f) { f = std::get<bool>(v); }
void FromValue(const OptionValue& v, int& f) { f = static_cast<int>(std::get<int64_t>(v)); }
void FromValue(const OptionValue& v, int64_t& f) { f = std::get<int64_t>(v); }
void FromValue(const OptionValue& v, uint64_t& f) { f = std::get<uint64_t>(v); }
void FromValue(const OptionValue& v, double& f) { f = std::get<double>(v); }

OptionValue ToValue(LossMaskMode m) {
  return std::string(m == LossMaskMode::kAnswerOnly ? "answer_only" : "outputs_after_first");
}
void FromValue(const OptionValue& v, LossMaskMode& f) {
  f = std::get<std::string>(v) == "answer_only" ? LossMaskMode::kAnswerOnly
                                                : LossMaskMode::kOutputsAfterFirst;
}

OptionValue ToValue(TranslateMode m) { return std::string(TranslateModeName(m)); }
void FromValue(const OptionValue& v, TranslateMode& f) {
  f = ParseTranslateMode(std::get<std::string>(v)).value_or(TranslateMode::kConsistent);
}

OptionValue ToValue(SelectionMode m) { return std::string(SelectionModeName(m)); }
void FromValue(const OptionValue& v, SelectionMode& f) {
  f = ParseSelectionMode(std::get<std::string>(v)).value_or(SelectionMode::kVote);
}

OptionValue ToValue(Experts e) { return std::string(ExpertsName(e)); }
void FromValue(const OptionValue& v, Experts& f) {
  f = ParseExperts(std::get<std::string>(v)).value_or(Experts::kBoth);
}

OptionValue ToValue(const std::vector<Dihedral>& transforms) {
  if (transforms.empty()) return std::string("none");
  if (transforms == PaperViewTransforms()) return std::string("paper");
  if (transforms == AllViewTransforms()) return std::string("all");
  return std::string("custom");
}
void FromValue(const OptionValue& v, std::vector<Dihedral>& f) {
  const std::string& name = std::get<std::string>(v);
  if (name == "paper") f = PaperViewTransforms();
  if (name == "all") f = AllViewTransforms();
  if (name == "none") f.clear();
}

OptionValue ToValue(const std::vector<ProjectionKind>& targets) {
  std::vector<std::string> names;
  for (ProjectionKind k : targets) names.push_back(ProjectionName(k));
  return names;
}
void FromValue(const OptionValue& v, std::vector<ProjectionKind>& f) {
  f.clear();
  for (const std::string& name : std::get<std::vector<std::string>>(v)) {
    f.push_back(ParseProjectionKind(name).value());  // checked against the choices before
  }
}

const SolveOptionSpec& SpecNamed(const char* name) { return *FindSolveOptionSpec(name); }

std::vector<SolveOption>* MakeTable() {
  auto* table = new std::vector<SolveOption>;
#define ARC_SOLVE_OPTION_BIND_(name, kind, member, ...)                           \
  table->push_back(SolveOption{                                                   \
      SpecNamed(#name), #member,                                                  \
      [](const SolveOptions& o) -> OptionValue { return ToValue(o.member); },     \
      [](const OptionValue& v, SolveOptions& o) { FromValue(v, o.member); }});
  ARC_SOLVE_OPTIONS(ARC_SOLVE_OPTION_BIND_)
#undef ARC_SOLVE_OPTION_BIND_
  return table;
}

// JSON -> OptionValue of the option's kind (numbers of a Double may be written as integers).
absl::StatusOr<OptionValue> ValueFromJson(const SolveOptionSpec& spec, const nlohmann::json& j,
                                          const std::string& path) {
  const std::string expected = absl::StrCat("expected ", KindWord(spec.kind), ", got ", j.dump());
  switch (spec.kind) {
    case OptionKind::kBool:
      if (j.is_boolean()) return OptionValue(j.get<bool>());
      break;
    case OptionKind::kInt:
      if (j.is_number_integer()) return OptionValue(j.get<int64_t>());
      break;
    case OptionKind::kUint:
      if (j.is_number_unsigned()) return OptionValue(j.get<uint64_t>());
      break;
    case OptionKind::kDouble:
      if (j.is_number()) return OptionValue(j.get<double>());
      break;
    case OptionKind::kChoice:
      if (j.is_string()) return OptionValue(j.get<std::string>());
      break;
    case OptionKind::kList:
      if (j.is_array()) {
        std::vector<std::string> items;
        for (const nlohmann::json& e : j) {
          if (!e.is_string()) return Invalid(path, expected);
          items.push_back(e.get<std::string>());
        }
        return OptionValue(std::move(items));
      }
      break;
  }
  return Invalid(path, expected);
}

constexpr EnumName<SelectionMode> kSelectionModes[] = {
    {SelectionMode::kVote, "vote"},
    {SelectionMode::kMajority, "majority"},
    {SelectionMode::kPoe, "poe"},
    {SelectionMode::kVotesThenPoe, "votes_then_poe"},
};

}  // namespace

LoraConfig DefaultTttLora() {
  LoraConfig c;
  c.rank = solve_option_default::lora_rank;
  c.alpha = solve_option_default::lora_alpha;
  c.dropout = solve_option_default::lora_dropout;
  FromValue(DefaultOptionValue(*FindSolveOptionSpec("lora_targets")), c.targets);
  return c;
}

std::string_view SelectionModeName(SelectionMode mode) { return NameOf(kSelectionModes, mode, ""); }

absl::StatusOr<SelectionMode> ParseSelectionMode(std::string_view name) {
  if (std::optional<SelectionMode> m = ValueOf(kSelectionModes, name)) return *m;
  return absl::InvalidArgumentError(absl::StrCat("selection mode: \"", std::string(name),
                                                 "\" is not one of ", NameList(kSelectionModes)));
}

const std::vector<SolveOption>& SolveOptionTable() {
  static const std::vector<SolveOption>* table = MakeTable();
  return *table;
}

const SolveOption* FindSolveOption(std::string_view name) {
  for (const SolveOption& o : SolveOptionTable()) {
    if (name == o.spec.name) return &o;
  }
  return nullptr;
}

OptionValue DefaultOptionValue(const SolveOptionSpec& spec) {
  switch (spec.kind) {
    case OptionKind::kBool: return spec.default_number != 0;
    case OptionKind::kInt: return static_cast<int64_t>(spec.default_number);
    case OptionKind::kUint: return static_cast<uint64_t>(spec.default_number);
    case OptionKind::kDouble: return spec.default_number;
    case OptionKind::kChoice: return std::string(spec.default_text);
    case OptionKind::kList:
      return std::vector<std::string>(absl::StrSplit(spec.default_text, ',', absl::SkipEmpty()));
  }
  return false;
}

absl::Status CheckOptionValue(const SolveOptionSpec& spec, const OptionValue& value,
                              const std::string& path, std::optional<int64_t> limit) {
  if (value.index() != KindIndex(spec.kind)) {
    return Invalid(path, absl::StrCat("expected ", KindWord(spec.kind)));
  }
  switch (spec.kind) {
    case OptionKind::kBool:
    case OptionKind::kUint:
      return absl::OkStatus();
    case OptionKind::kInt: {
      // The server's limit is reported as such only for a value that is otherwise valid; below
      // the range the message shows the range with the limit as its top.
      const int64_t v = std::get<int64_t>(value);
      const auto lo = static_cast<int64_t>(spec.lo), hi = static_cast<int64_t>(spec.hi);
      if (limit && v > *limit && *limit <= hi && v >= lo) {
        return Invalid(path, absl::StrCat(v, " is above the server limit ", *limit));
      }
      const int64_t top = limit ? std::min(hi, *limit) : hi;
      if (v < lo || v > top) return Invalid(path, absl::StrCat(v, " is outside ", lo, "..", top));
      return absl::OkStatus();
    }
    case OptionKind::kDouble: {
      const double v = std::get<double>(value);
      if (!std::isfinite(v)) return Invalid(path, absl::StrCat(v, " is not a finite number"));
      const bool low_ok = spec.bounds == OptionBounds::kOpenLow ? v > spec.lo : v >= spec.lo;
      const bool high_ok = spec.bounds == OptionBounds::kOpenHigh ? v < spec.hi : v <= spec.hi;
      if (!low_ok || !high_ok) {
        return Invalid(path, absl::StrCat(v, " is outside ", RangeText(spec, spec.hi)));
      }
      return absl::OkStatus();
    }
    case OptionKind::kChoice: {
      const std::string& v = std::get<std::string>(value);
      const std::vector<std::string> choices = Choices(spec);
      if (std::find(choices.begin(), choices.end(), v) == choices.end()) {
        return Invalid(path,
                       absl::StrCat("\"", v, "\" is not one of ", absl::StrJoin(choices, ", ")));
      }
      return absl::OkStatus();
    }
    case OptionKind::kList: {
      const auto& items = std::get<std::vector<std::string>>(value);
      const std::vector<std::string> choices = Choices(spec);
      if (items.empty()) {
        return Invalid(path, absl::StrCat("empty; list some of ", absl::StrJoin(choices, ", ")));
      }
      std::set<std::string> seen;
      for (size_t i = 0; i < items.size(); ++i) {
        const std::string at = absl::StrCat(path, "[", i, "]");
        if (std::find(choices.begin(), choices.end(), items[i]) == choices.end()) {
          return Invalid(at, absl::StrCat("\"", items[i], "\" is not one of ",
                                          absl::StrJoin(choices, ", ")));
        }
        if (!seen.insert(items[i]).second) {
          return Invalid(at, absl::StrCat("\"", items[i], "\" is listed twice"));
        }
      }
      return absl::OkStatus();
    }
  }
  return absl::OkStatus();
}

absl::Status SetSolveOption(const SolveOption& option, const OptionValue& value,
                            const std::string& path, SolveOptions& options) {
  ARC_RETURN_IF_ERROR(CheckOptionValue(option.spec, value, path));
  option.put(value, options);
  return absl::OkStatus();
}

absl::StatusOr<OptionValue> ParseOptionValue(const SolveOptionSpec& spec, std::string_view text,
                                             const std::string& path) {
  const std::string t(text);
  const auto bad = [&](const char* what) {
    return Invalid(path, absl::StrCat("\"", t, "\" ", what));
  };
  switch (spec.kind) {
    case OptionKind::kBool:
      if (t == "true" || t == "1") return OptionValue(true);
      if (t == "false" || t == "0") return OptionValue(false);
      return bad("is not true or false");
    case OptionKind::kInt: {
      int64_t v = 0;
      if (!absl::SimpleAtoi(t, &v)) return bad("is not an integer");
      return OptionValue(v);
    }
    case OptionKind::kUint: {
      uint64_t v = 0;
      if (!absl::SimpleAtoi(t, &v)) return bad("is not an unsigned integer");
      return OptionValue(v);
    }
    case OptionKind::kDouble: {
      double v = 0;
      if (!absl::SimpleAtod(t, &v)) return bad("is not a number");
      return OptionValue(v);
    }
    case OptionKind::kChoice:
      return OptionValue(t);
    case OptionKind::kList:
      return OptionValue(std::vector<std::string>(absl::StrSplit(t, ',', absl::SkipEmpty())));
  }
  return bad("is not a value");
}

std::string OptionValueText(const OptionValue& value) {
  switch (value.index()) {
    case 0: return std::get<bool>(value) ? "true" : "false";
    case 1: return absl::StrCat(std::get<int64_t>(value));
    case 2: return absl::StrCat(std::get<uint64_t>(value));
    case 3: {
      // absl's six-digit form ("60", "0.003") when it reads back as the same double, else the
      // shortest %g form that does (a bare %.1g would print 60 as "6e+01").
      const double v = std::get<double>(value);
      const std::string plain = absl::StrCat(v);
      if (std::strtod(plain.c_str(), nullptr) == v) return plain;
      for (int digits = 1; digits <= 17; ++digits) {
        char buf[40];
        std::snprintf(buf, sizeof(buf), "%.*g", digits, v);
        if (std::strtod(buf, nullptr) == v) return buf;
      }
      return absl::StrCat(v);
    }
    case 4: return std::get<std::string>(value);
    case 5: return absl::StrJoin(std::get<std::vector<std::string>>(value), ",");
  }
  return "";
}

absl::Status ValidateSolveOptions(const SolveOptions& o) {
  for (const SolveOption& option : SolveOptionTable()) {
    // A Choice field holds an enum (always valid) or a custom transform list (valid in core).
    if (option.spec.kind == OptionKind::kChoice) continue;
    ARC_RETURN_IF_ERROR(CheckOptionValue(option.spec, option.get(o),
                                         absl::StrCat(option.spec.name, " (", option.field, ")")));
  }
  ARC_RETURN_IF_ERROR(ValidateTttDataOptions(o.ttt_data));
  ARC_RETURN_IF_ERROR(o.lora.Validate());
  ARC_RETURN_IF_ERROR(ValidateTttTrainOptions(o.train));
  ARC_RETURN_IF_ERROR(ValidateViewOptions(o.views));
  return absl::OkStatus();
}

namespace {

absl::StatusOr<SolveOptions> ApplySolveOptionsTree(const nlohmann::json& j,
                                                   const std::string& source, SolveOptions base) {
  if (!j.is_object()) return Invalid(source, "expected an object of option name -> value");
  for (const auto& [key, value] : j.items()) {
    const SolveOption* option = FindSolveOption(key);
    if (option == nullptr) {
      return Invalid(source, absl::StrCat("unknown option \"", key,
                                          "\" (the options are listed in docs/SOLVE_OPTIONS.md)"));
    }
    const std::string path = absl::StrCat(source, ": ", key);
    ARC_ASSIGN_OR_RETURN(OptionValue v, ValueFromJson(option->spec, value, path));
    ARC_RETURN_IF_ERROR(SetSolveOption(*option, v, path, base));
  }
  return base;
}

}  // namespace

absl::StatusOr<SolveOptions> ApplySolveOptionsJson(std::string_view json, const std::string& source,
                                                   SolveOptions base) {
  // The readers test every type before reading; GuardJson is the backstop for the library's
  // exceptions (a number such as 1e3080 that overflows a double is a parse fault naming its key).
  return GuardJson(source, [&]() -> absl::StatusOr<SolveOptions> {
    absl::StatusOr<nlohmann::json> j = ParseJson(json);
    if (!j.ok()) return Invalid(source, j.status().message());
    return ApplySolveOptionsTree(*j, source, std::move(base));
  });
}

std::string MarcPresetSolveOptionsJson() {
  return R"({
  "lora_rank": 128,
  "lora_targets": ["q_proj", "v_proj", "gate_proj", "up_proj", "down_proj", "lm_head"],
  "ttt_translate": "marc"
}
)";
}

absl::StatusOr<SolveOptions> LoadModelSolveOptions(const std::string& model_dir,
                                                   SolveOptions base) {
  const std::string path = (std::filesystem::path(model_dir) / kModelSolveOptionsFile).string();
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return base;
  ARC_ASSIGN_OR_RETURN(const std::string text, ReadFile(path, 1 << 20));
  return ApplySolveOptionsJson(text, path, std::move(base));
}

std::string SolveOptionsMarkdown(const SolveOptions& model_defaults,
                                 const std::string& model_name) {
  std::string out = absl::StrCat(
      "| option | kind | built-in | ", model_name,
      " | range | request field | help |\n|---|---|---|---|---|---|---|\n");
  for (const SolveOption& option : SolveOptionTable()) {
    const SolveOptionSpec& s = option.spec;
    const std::string builtin = OptionValueText(DefaultOptionValue(s));
    const std::string model = OptionValueText(option.get(model_defaults));
    std::string range;
    switch (s.kind) {
      case OptionKind::kInt:
      case OptionKind::kDouble: range = RangeText(s, s.hi); break;
      case OptionKind::kChoice: range = absl::StrJoin(Choices(s), " \\| "); break;
      case OptionKind::kList:
        range = absl::StrCat("subset of ", absl::StrJoin(Choices(s), ", "));
        break;
      case OptionKind::kBool:
      case OptionKind::kUint: break;
    }
    static constexpr const char* kKinds[] = {"bool", "int", "uint64", "double", "choice", "list"};
    absl::StrAppend(&out, "| `", s.name, "` | ", kKinds[KindIndex(s.kind)], " | ", builtin, " | ",
                    model == builtin ? "" : model, " | ", range, " | ",
                    *s.proto == '\0' ? "(none)" : absl::StrCat("`", s.proto, "`"), " | ", s.help,
                    " |\n");
  }
  return out;
}

}  // namespace arc
