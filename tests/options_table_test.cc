// The option table (core/solve/option_table.h) against every surface built from it: the struct
// defaults, models/default/solve_options.json (pinned to the values arc-solve and arc-server used
// before the table), ValidateSolveOptions, the absl flags of tools/flags, the proto SolveOptions,
// the server's conversion and limits, and docs/SOLVE_OPTIONS.md. (arc-client's flags are checked
// against the table in client_cli_test, which links the client instead of core/solve.)
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/reflection.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "arc/v1/arc_solver.pb.h"
#include "core/data/file_util.h"
#include "core/solve/options.h"
#include "server/proto_conversion.h"
#include "server/server_options.h"
#include "tools/flags/solve_flags.h"

ABSL_DECLARE_FLAG(int64_t, ttt_batch_size);

namespace arc {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;

const std::string kDefaultModel = std::string(ARC_SOURCE_DIR) + "/models/default";

std::string Text(const OptionValue& v) { return OptionValueText(v); }
std::string Message(const absl::Status& s) { return std::string(s.message()); }

// A valid value other than the built-in default, for every kind.
OptionValue OtherValue(const SolveOptionSpec& s) {
  switch (s.kind) {
    case OptionKind::kBool: return !(s.default_number != 0);
    case OptionKind::kInt: return static_cast<int64_t>(s.default_number == s.lo ? s.lo + 1 : s.lo);
    case OptionKind::kUint: return uint64_t{12345};
    case OptionKind::kDouble: return (s.lo + s.hi) / 3;
    case OptionKind::kChoice: {
      std::vector<std::string> c = absl::StrSplit(s.choices, ',');
      return c.back() == s.default_text ? c.front() : c.back();
    }
    case OptionKind::kList: return std::vector<std::string>{"k_proj", "lm_head"};
  }
  return false;
}

TEST(OptionTableTest, NamesAreUniqueAndEveryRowIsBound) {
  std::set<std::string> names;
  for (const SolveOptionSpec& s : kSolveOptionSpecs) {
    EXPECT_TRUE(names.insert(s.name).second) << s.name;
    EXPECT_NE(std::string(s.help), "") << s.name;
  }
  ASSERT_EQ(SolveOptionTable().size(), kNumSolveOptions);
  for (const SolveOption& o : SolveOptionTable()) EXPECT_EQ(FindSolveOption(o.spec.name), &o);
}

TEST(OptionTableTest, StructDefaultsAreTheBuiltInColumn) {
  const SolveOptions builtin;
  for (const SolveOption& o : SolveOptionTable()) {
    EXPECT_EQ(Text(o.get(builtin)), Text(DefaultOptionValue(o.spec))) << o.spec.name;
    EXPECT_TRUE(CheckOptionValue(o.spec, DefaultOptionValue(o.spec), o.spec.name).ok())
        << o.spec.name;
  }
  // The paper-like generic values.
  EXPECT_EQ(builtin.train.learning_rate, 1e-4);
  EXPECT_EQ(builtin.lora.rank, 8);
  EXPECT_EQ(builtin.lora.alpha, 16);
  EXPECT_TRUE(builtin.ttt_data.augment);
  EXPECT_EQ(TttTrainOptions{}.learning_rate, 1e-4);
  EXPECT_TRUE(ValidateSolveOptions(builtin).ok());
}

// arc-solve and arc-server with models/default and no option flag must solve exactly as they did
// when these values were the flags' defaults (byte-identical submissions): every field, exposed or
// not, is pinned here. One deliberate change since: the TTT token budget (ttt_max_tokens 16000),
// which bounds a task's TTT time (issue 13: at most 60 s per task with both experts).
TEST(OptionTableTest, ModelsDefaultGivesTheFormerFlagDefaults) {
  absl::StatusOr<SolveOptions> m = LoadModelSolveOptions(kDefaultModel);
  ASSERT_TRUE(m.ok()) << m.status();
  const SolveOptions& o = *m;
  EXPECT_TRUE(o.ttt);
  EXPECT_EQ(o.seed, 0u);
  EXPECT_EQ(o.ttt_data.max_samples, 250);
  EXPECT_EQ(o.ttt_data.permute_n, 1);
  EXPECT_FALSE(o.ttt_data.augment);
  EXPECT_TRUE(o.ttt_data.leave_two_top_up);
  EXPECT_TRUE(o.ttt_data.permute_colours);
  EXPECT_TRUE(o.ttt_data.shuffle_demonstrations);
  EXPECT_EQ(o.ttt_data.max_side, kArcMaxSide);
  EXPECT_EQ(o.ttt_data.max_tokens, 8192);
  EXPECT_EQ(o.ttt_data.max_total_tokens, 16000);
  EXPECT_EQ(o.loss_mask, LossMaskMode::kOutputsAfterFirst);
  EXPECT_EQ(o.train.learning_rate, 3e-3);
  EXPECT_EQ(o.train.weight_decay, 0.01);
  EXPECT_EQ(o.train.beta1, 0.9);
  EXPECT_EQ(o.train.beta2, 0.999);
  EXPECT_EQ(o.train.adam_eps, 1e-8);
  EXPECT_EQ(o.train.batch_size, 2);
  EXPECT_EQ(o.train.grad_accum, 1);
  EXPECT_EQ(o.train.epochs, 2);
  EXPECT_EQ(o.train.max_steps, 0);
  EXPECT_EQ(o.train.warmup_fraction, 0.1);
  EXPECT_EQ(o.train.clip_grad_norm, 0);
  EXPECT_FALSE(o.full_finetune);
  EXPECT_EQ(o.full_finetune_max_parameters, 50'000'000);
  EXPECT_EQ(o.lora.rank, 32);
  EXPECT_EQ(o.lora.alpha, 32);
  EXPECT_EQ(o.lora.dropout, 0);
  EXPECT_EQ(o.lora.targets,
            (std::vector<ProjectionKind>{ProjectionKind::kQ, ProjectionKind::kV,
                                         ProjectionKind::kGate, ProjectionKind::kUp,
                                         ProjectionKind::kDown}));
  EXPECT_FALSE(o.lora.dtype.has_value());
  EXPECT_EQ(o.views.leave_out, 1);
  EXPECT_EQ(o.views.permutations, 2);
  EXPECT_EQ(o.views.transforms, PaperViewTransforms());
  EXPECT_FALSE(o.views.every_base_per_transform);
  EXPECT_EQ(o.views.max_views, 64);
  EXPECT_EQ(o.inference.batch_size, 16);
  EXPECT_EQ(o.inference.max_new_tokens, 0);
  EXPECT_TRUE(o.inference.constrained);
  EXPECT_EQ(o.selection.mode, SelectionMode::kVote);
  EXPECT_EQ(o.selection.poe_top_k, 4);
  EXPECT_EQ(o.selection.poe_views, 4);
  EXPECT_FALSE(o.selection.base_attempt);
  EXPECT_FALSE(o.include_views);
}

TEST(OptionTableTest, ModelFileFaultsNameTheFileTheKeyAndTheLimit) {
  const std::string src = "m/solve_options.json";
  const auto error = [&](const std::string& json) {
    return Message(ApplySolveOptionsJson(json, src, SolveOptions{}).status());
  };
  EXPECT_EQ(error(R"({"ttt_lr": 2})"), "m/solve_options.json: ttt_lr: 2 is outside 0..1");
  EXPECT_EQ(error(R"({"lora_rank": 0})"), "m/solve_options.json: lora_rank: 0 is outside 1..4096");
  EXPECT_EQ(error(R"({"lora_alpha": 0})"),
            "m/solve_options.json: lora_alpha: 0 is outside (0, 1000000]");
  EXPECT_EQ(error(R"({"lora_rank": 1.5})"),
            "m/solve_options.json: lora_rank: expected an integer, got 1.5");
  EXPECT_EQ(error(R"({"ttt_augment": "no"})"),
            "m/solve_options.json: ttt_augment: expected true or false, got \"no\"");
  EXPECT_EQ(error(R"({"selection": "best"})"),
            "m/solve_options.json: selection: \"best\" is not one of vote, majority, poe, "
            "votes_then_poe");
  EXPECT_EQ(error(R"({"lora_targets": ["q_proj", "q_proj"]})"),
            "m/solve_options.json: lora_targets[1]: \"q_proj\" is listed twice");
  EXPECT_EQ(error(R"({"ttt_rate": 1})"),
            "m/solve_options.json: unknown option \"ttt_rate\" (the options are listed in "
            "docs/SOLVE_OPTIONS.md)");
  EXPECT_EQ(error("[1]"), "m/solve_options.json: expected an object of option name -> value");
  EXPECT_EQ(ApplySolveOptionsJson("{}", src, SolveOptions{}).status().code(),
            absl::StatusCode::kOk);
  EXPECT_EQ(ApplySolveOptionsJson("{", src, SolveOptions{}).status().code(),
            absl::StatusCode::kInvalidArgument);
  // A directory without the file keeps the base.
  absl::StatusOr<SolveOptions> none = LoadModelSolveOptions(std::string(ARC_TESTDATA_DIR));
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_EQ(none->train.learning_rate, 1e-4);
}

TEST(OptionTableTest, ValidateNamesTheOptionTheFieldAndTheLimit) {
  // {one field set out of its range, the message}
  const std::vector<std::pair<std::function<void(SolveOptions&)>, std::string>> cases = {
      {[](SolveOptions& o) { o.train.batch_size = 0; },
       "ttt_batch_size (train.batch_size): 0 is outside 1..256"},
      {[](SolveOptions& o) { o.lora.dropout = 1; },
       "lora_dropout (lora.dropout): 1 is outside [0, 1)"},
      {[](SolveOptions& o) { o.selection.poe_views = 9; },
       "poe_views (selection.poe_views): 9 is outside 1..8"},
      // Fields outside the table keep their own checks.
      {[](SolveOptions& o) { o.views.max_views = 0; },
       "view option max_views: 0 is outside 1..4096"},
  };
  for (const auto& [change, message] : cases) {
    SolveOptions o;
    change(o);
    EXPECT_EQ(Message(ValidateSolveOptions(o)), message);
  }
}

// ---- absl flags (tools/flags) ----

TEST(OptionTableTest, EveryOptionIsAFlagWithTheTableDefaultAndHelp) {
  std::set<std::string> table;
  for (const SolveOptionSpec& s : kSolveOptionSpecs) {
    table.insert(s.name);
    const absl::CommandLineFlag* flag = absl::FindCommandLineFlag(s.name);
    ASSERT_NE(flag, nullptr) << s.name;
    EXPECT_EQ(flag->Help(), s.help) << s.name;
    absl::StatusOr<OptionValue> d = ParseOptionValue(s, flag->DefaultValue(), s.name);
    ASSERT_TRUE(d.ok()) << d.status();
    EXPECT_EQ(Text(*d), Text(DefaultOptionValue(s))) << s.name;
  }
  // And no solve flag outside the table.
  for (const auto& [name, flag] : absl::GetAllFlags()) {
    if (absl::EndsWith(flag->Filename(), "tools/flags/solve_flags.cc") &&
        name != "keep_freed_memory") {
      EXPECT_EQ(table.count(std::string(name)), 1u) << name;
    }
  }
}

TEST(OptionTableTest, FlagsOverrideOnlyWhenGiven) {
  std::vector<std::string> args = {"options_table_test", "--ttt_lr=0.5", "--selection=poe",
                                   "--lora_targets=k_proj,lm_head", "--nottt", "--seed=7"};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  absl::ParseCommandLine(static_cast<int>(argv.size()), argv.data());

  absl::StatusOr<SolveOptions> model = LoadModelSolveOptions(kDefaultModel);
  ASSERT_TRUE(model.ok()) << model.status();
  absl::StatusOr<SolveOptions> o = SolveOptionsFromFlags(*model);
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->train.learning_rate, 0.5);           // flag over the model's 3e-3
  EXPECT_EQ(o->selection.mode, SelectionMode::kPoe);
  EXPECT_EQ(o->lora.targets, (std::vector<ProjectionKind>{ProjectionKind::kK,
                                                          ProjectionKind::kLmHead}));
  EXPECT_FALSE(o->ttt);
  EXPECT_EQ(o->seed, 7u);
  EXPECT_EQ(o->lora.rank, 32);                      // the model's, no flag given
  EXPECT_FALSE(o->ttt_data.augment);                // the model's
  EXPECT_EQ(o->train.batch_size, 2);                // built-in
  // Without the model file, the built-in values hold for what no flag sets.
  o = SolveOptionsFromFlags(SolveOptions{});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->lora.rank, 8);
  EXPECT_EQ(o->train.learning_rate, 0.5);

  absl::SetFlag(&FLAGS_ttt_batch_size, 0);  // not from the command line: ignored
  o = SolveOptionsFromFlags(SolveOptions{});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->train.batch_size, 2);
}

TEST(OptionTableTest, FlagValuesAreCheckedWithTheFlagName) {
  SolveOptions o;
  const SolveOption& mask = *FindSolveOption("loss_mask");
  absl::StatusOr<OptionValue> v = ParseOptionValue(mask.spec, "x", "--loss_mask");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(Message(SetSolveOption(mask, *v, "--loss_mask", o)),
            "--loss_mask: \"x\" is not one of outputs_after_first, answer_only");
  const SolveOption& batch = *FindSolveOption("ttt_batch_size");
  EXPECT_EQ(Message(ParseOptionValue(batch.spec, "two", "--ttt_batch_size").status()),
            "--ttt_batch_size: \"two\" is not an integer");
  EXPECT_EQ(Message(SetSolveOption(batch, int64_t{0}, "--ttt_batch_size", o)),
            "--ttt_batch_size: 0 is outside 1..256");
}

// ---- proto and server ----

const FieldDescriptor* ProtoField(const std::string& path) {
  const Descriptor* d = v1::SolveOptions::descriptor();
  const FieldDescriptor* f = nullptr;
  for (absl::string_view part : absl::StrSplit(path, '.')) {
    if (f != nullptr) {
      if (f->message_type() == nullptr) return nullptr;
      d = f->message_type();
    }
    f = d->FindFieldByName(std::string(part));
    if (f == nullptr) return nullptr;
  }
  return f;
}

void LeafPaths(const Descriptor* d, const std::string& prefix, std::vector<std::string>& out) {
  for (int i = 0; i < d->field_count(); ++i) {
    const FieldDescriptor* f = d->field(i);
    if (f->message_type() != nullptr) {
      LeafPaths(f->message_type(), prefix + f->name() + ".", out);
    } else {
      out.push_back(prefix + f->name());
    }
  }
}

TEST(OptionTableTest, ProtoFieldsMatchTheTable) {
  std::set<std::string> in_table;
  for (const SolveOptionSpec& s : kSolveOptionSpecs) {
    if (*s.proto == '\0') {
      // Only these are process-wide (flags and the model file), never per request.
      EXPECT_EQ(std::string(s.name), "full_finetune");
      continue;
    }
    in_table.insert(s.proto);
    const FieldDescriptor* f = ProtoField(s.proto);
    ASSERT_NE(f, nullptr) << s.name << ": no field " << s.proto;
    // Scalar kinds map to one proto type each, always `optional` (presence tells "unset").
    const std::map<OptionKind, FieldDescriptor::CppType> scalar_types = {
        {OptionKind::kBool, FieldDescriptor::CPPTYPE_BOOL},
        {OptionKind::kInt, FieldDescriptor::CPPTYPE_INT32},
        {OptionKind::kUint, FieldDescriptor::CPPTYPE_UINT64},
        {OptionKind::kDouble, FieldDescriptor::CPPTYPE_DOUBLE}};
    if (auto scalar = scalar_types.find(s.kind); scalar != scalar_types.end()) {
      EXPECT_EQ(f->cpp_type(), scalar->second) << s.name;
      EXPECT_TRUE(f->has_presence()) << s.name;
      // An Int's whole range fits the field.
      if (s.kind == OptionKind::kInt) EXPECT_LE(s.hi, 2147483647.0) << s.name;
    } else if (s.kind == OptionKind::kChoice) {
      ASSERT_EQ(f->cpp_type(), FieldDescriptor::CPPTYPE_ENUM) << s.name;
      // The enum's values are exactly UNSPECIFIED and the choices.
      const std::string prefix = ProtoEnumPrefix(f->enum_type()->name());
      std::set<std::string> values, choices = {prefix + "UNSPECIFIED"};
      for (int i = 0; i < f->enum_type()->value_count(); ++i) {
        values.insert(f->enum_type()->value(i)->name());
      }
      for (absl::string_view c : absl::StrSplit(s.choices, ',')) {
        choices.insert(prefix + absl::AsciiStrToUpper(c));
      }
      EXPECT_EQ(values, choices) << s.name;
      EXPECT_EQ(f->enum_type()->FindValueByNumber(0)->name(), prefix + "UNSPECIFIED");
    } else {  // kList
      EXPECT_TRUE(f->is_repeated()) << s.name;
      EXPECT_EQ(f->cpp_type(), FieldDescriptor::CPPTYPE_STRING) << s.name;
    }
  }
  // Every field of the request's SolveOptions is a table option, except the per-request output
  // switch include_views.
  std::vector<std::string> leaves;
  LeafPaths(v1::SolveOptions::descriptor(), "", leaves);
  for (const std::string& leaf : leaves) {
    if (leaf == "include_views") continue;
    EXPECT_EQ(in_table.count(leaf), 1u) << "proto field " << leaf << " is not in the option table";
  }
}

// GetServerInfo's defaults are SolveOptionsToProto(the server's defaults): every table option is
// set, with the option's value, and reads back unchanged.
TEST(OptionTableTest, ServerDefaultsAndRequestsFollowTheTable) {
  absl::StatusOr<SolveOptions> model = LoadModelSolveOptions(kDefaultModel);
  ASSERT_TRUE(model.ok()) << model.status();
  const v1::SolveOptions p = server::SolveOptionsToProto(*model);
  server::OptionLimits limits;
  limits.ttt_steps = 1000000;  // so that max_steps 0 reads back as 0 only through the cap below
  absl::StatusOr<SolveOptions> back = server::ResolveSolveOptions(p, SolveOptions{}, limits);
  ASSERT_TRUE(back.ok()) << back.status();
  for (const SolveOption& o : SolveOptionTable()) {
    if (*o.spec.proto == '\0' || std::string(o.spec.name) == "ttt_max_steps") continue;
    EXPECT_EQ(Text(o.get(*back)), Text(o.get(*model))) << o.spec.name;
  }

  // Each option alone: a request setting it to another valid value changes that option only.
  for (const SolveOption& o : SolveOptionTable()) {
    if (*o.spec.proto == '\0') continue;
    SolveOptions set_by_hand;
    o.put(OtherValue(o.spec), set_by_hand);
    const v1::SolveOptions all = server::SolveOptionsToProto(set_by_hand);
    // Only this option's field: clear every other table field.
    v1::SolveOptions one = all;
    for (const SolveOption& other : SolveOptionTable()) {
      if (&other == &o || *other.spec.proto == '\0') continue;
      google::protobuf::Message* m = &one;
      const FieldDescriptor* f = nullptr;
      for (absl::string_view part : absl::StrSplit(other.spec.proto, '.')) {
        if (f != nullptr) m = m->GetReflection()->MutableMessage(m, f);
        f = m->GetDescriptor()->FindFieldByName(std::string(part));
      }
      m->GetReflection()->ClearField(m, f);
    }
    absl::StatusOr<SolveOptions> r =
        server::ResolveSolveOptions(one, SolveOptions{}, server::OptionLimits{});
    ASSERT_TRUE(r.ok()) << o.spec.name << ": " << r.status();
    for (const SolveOption& other : SolveOptionTable()) {
      // An unset max_steps (0) becomes the server's cap.
      if (&other != &o && std::string(other.spec.name) == "ttt_max_steps") continue;
      const std::string want = &other == &o ? Text(OtherValue(o.spec))
                                            : Text(other.get(SolveOptions{}));
      EXPECT_EQ(Text(other.get(*r)), want)
          << "setting " << o.spec.name << " -> " << other.spec.name;
    }
  }
}

TEST(OptionTableTest, ServerRangesAreTheTableRanges) {
  server::OptionLimits wide;
  wide.ttt_steps = wide.ttt_samples = wide.ttt_batch_size = wide.lora_rank = 1000000;
  wide.inference_batch_size = wide.new_tokens = wide.search_work = 1000000;
  for (const SolveOptionSpec& s : kSolveOptionSpecs) {
    if (*s.proto == '\0' || (s.kind != OptionKind::kInt && s.kind != OptionKind::kDouble)) continue;
    for (const double v : {s.lo - 1, s.hi + 1, s.lo, s.hi}) {
      const bool valid = (s.bounds == OptionBounds::kOpenLow ? v > s.lo : v >= s.lo) &&
                         (s.bounds == OptionBounds::kOpenHigh ? v < s.hi : v <= s.hi);
      SolveOptions o;
      const OptionValue value =
          s.kind == OptionKind::kInt ? OptionValue(static_cast<int64_t>(v)) : OptionValue(v);
      FindSolveOption(s.name)->put(value, o);
      v1::SolveOptions all = server::SolveOptionsToProto(o);
      absl::StatusOr<SolveOptions> r = server::ResolveSolveOptions(all, SolveOptions{}, wide);
      if (valid) {
        EXPECT_TRUE(r.ok()) << s.name << "=" << v << ": " << r.status();
      } else {
        ASSERT_FALSE(r.ok()) << s.name << "=" << v;
        EXPECT_TRUE(absl::StartsWith(r.status().message(), absl::StrCat("options.", s.proto, ": ")))
            << r.status();
      }
    }
  }
  // Every per-request limit bounds an Int option of the table.
  for (const server::LimitedOption& l : server::kLimitedOptions) {
    const SolveOptionSpec* s = FindSolveOptionSpec(l.option);
    ASSERT_NE(s, nullptr) << l.option;
    EXPECT_EQ(s->kind, OptionKind::kInt) << l.option;
  }
}

// ---- docs ----

TEST(OptionTableTest, DocsListTheTable) {
  absl::StatusOr<SolveOptions> model = LoadModelSolveOptions(kDefaultModel);
  ASSERT_TRUE(model.ok()) << model.status();
  const std::string table = SolveOptionsMarkdown(*model, "models/default");
  const std::string path = std::string(ARC_SOURCE_DIR) + "/docs/SOLVE_OPTIONS.md";
  const char* update = std::getenv("ARC_UPDATE_DOCS");
  absl::StatusOr<std::string> doc = ReadFile(path);
  ASSERT_TRUE(doc.ok()) << doc.status();
  const std::string begin = "<!-- BEGIN generated by tests/options_table_test.cc -->\n";
  const std::string end = "<!-- END generated -->\n";
  const size_t b = doc->find(begin), e = doc->find(end);
  ASSERT_NE(b, std::string::npos);
  ASSERT_NE(e, std::string::npos);
  const std::string current = doc->substr(b + begin.size(), e - b - begin.size());
  if (update != nullptr && current != table) {
    std::ofstream(path) << doc->substr(0, b + begin.size()) << table << doc->substr(e);
    GTEST_SKIP() << "rewrote " << path;
  }
  EXPECT_EQ(current, table) << "docs/SOLVE_OPTIONS.md is out of date: run "
                               "ARC_UPDATE_DOCS=1 build/tests/options_table_test";
}

}  // namespace
}  // namespace arc
