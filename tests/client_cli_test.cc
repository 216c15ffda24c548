// arc-client command-line parsing: commands, positional arguments, options and their errors.
#include "client/cli.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_split.h"
#include "core/solve/option_table.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"

namespace arc::client {
namespace {

absl::StatusOr<CliOptions> Parse(std::vector<std::string> args) { return ParseCommandLine(args); }

std::string Error(std::vector<std::string> args) {
  absl::StatusOr<CliOptions> o = ParseCommandLine(args);
  EXPECT_FALSE(o.ok());
  EXPECT_EQ(o.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(o.status().message());
}

TEST(ClientCliTest, SolveWithOptionsBeforeAndAfterTheCommand) {
  absl::StatusOr<CliOptions> o =
      Parse({"--server", "localhost:1", "--deadline=30", "solve", "task.json", "--stream", "--seed",
             "7", "--no_ttt", "--ttt_max_steps=3", "--lora_rank", "4", "--selection", "poe",
             "--views_transforms=none", "--include_views", "--lora_targets", "q_proj,v_proj",
             "--constrained=false", "--base_attempt"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->server, "localhost:1");
  EXPECT_EQ(o->deadline_seconds, 30.0);
  EXPECT_EQ(o->command, "solve");
  EXPECT_EQ(o->args, std::vector<std::string>{"task.json"});
  EXPECT_TRUE(o->stream);
  const v1::SolveOptions& s = o->solve_options;
  EXPECT_EQ(s.seed(), 7u);
  EXPECT_TRUE(s.has_ttt());
  EXPECT_FALSE(s.ttt());
  EXPECT_EQ(s.ttt_options().max_steps(), 3);
  EXPECT_EQ(s.ttt_options().lora_rank(), 4);
  ASSERT_EQ(s.ttt_options().lora_targets_size(), 2);
  EXPECT_EQ(s.ttt_options().lora_targets(1), "v_proj");
  EXPECT_EQ(s.selection(), v1::SELECTION_MODE_POE);
  EXPECT_EQ(s.inference().transforms(), v1::VIEW_TRANSFORMS_NONE);
  EXPECT_TRUE(s.inference().has_constrained());
  EXPECT_FALSE(s.inference().constrained());
  EXPECT_TRUE(s.include_views());
  EXPECT_TRUE(s.has_base_attempt() && s.base_attempt());
  // Options not given stay unset, so the server's defaults hold.
  EXPECT_FALSE(s.ttt_options().has_max_samples());
  EXPECT_FALSE(s.inference().has_batch_size());
}

TEST(ClientCliTest, DefaultsPerCommand) {
  absl::StatusOr<CliOptions> o = Parse({"info", "--server", "h:1"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_FALSE(o->deadline_seconds.has_value());
  EXPECT_EQ(o->retries, 3);
  EXPECT_EQ(DefaultDeadlineSeconds("info"), 10);
  EXPECT_EQ(DefaultDeadlineSeconds("solve"), 600);
  EXPECT_FALSE(o->solve_options.has_ttt());

  o = Parse({"--server", "h:1", "list", "--state", "running", "--limit", "5"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->state, v1::JOB_STATE_RUNNING);
  EXPECT_EQ(o->limit, 5);

  o = Parse({"--server", "h:1", "load", "t.json", "--concurrency", "4", "--duration", "2.5",
             "--rate", "10"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->concurrency, 4);
  EXPECT_EQ(o->duration_seconds, 2.5);
  EXPECT_EQ(o->rate, 10);

  o = Parse({"--help"});
  ASSERT_TRUE(o.ok());
  EXPECT_TRUE(o->help);
  o = Parse({"help"});
  ASSERT_TRUE(o.ok());
  EXPECT_TRUE(o->help);
}

TEST(ClientCliTest, UsageErrors) {
  EXPECT_EQ(Error({"--server", "h:1"}),
            "no command (want one of solve, eval, submit, get, watch, cancel, list, info, health, "
            "load)");
  EXPECT_EQ(Error({"--server", "h:1", "frobnicate"}),
            "unknown command \"frobnicate\" (want one of solve, eval, submit, get, watch, cancel, "
            "list, info, health, load)");
  EXPECT_EQ(Error({"info"}),
            "--server is required (host:port, a comma-separated list or dns:///name:port)");
  EXPECT_EQ(Error({"--server", "h:1", "solve"}), "`solve` takes one FILE, got 0 arguments");
  EXPECT_EQ(Error({"--server", "h:1", "get", "a", "b"}), "`get` takes one JOB, got 2 arguments");
  EXPECT_EQ(Error({"--server", "h:1", "info", "x"}), "`info` takes no arguments, got \"x\"");
  EXPECT_EQ(Error({"--server", "h:1", "info", "--stream"}), "--stream is not an option of `info`");
  EXPECT_EQ(Error({"--server", "h:1", "eval", "d", "--request_id", "r"}),
            "--request_id is not an option of `eval`");
  EXPECT_EQ(Error({"--server", "h:1", "info", "--bogus"}), "unknown option --bogus");
  EXPECT_EQ(Error({"--server", "h:1", "info", "-x"}),
            "unknown option -x (options are --name or --name=value)");
  EXPECT_EQ(Error({"--server", "h:1", "solve", "t", "--seed"}), "--seed needs a value");
  EXPECT_EQ(Error({"--server", "h:1", "solve", "t", "--seed", "x"}),
            "--seed: \"x\" is not an unsigned integer");
  EXPECT_EQ(Error({"--server", "h:1", "solve", "t", "--lora_rank", "1.5"}),
            "--lora_rank: \"1.5\" is not an integer");
  EXPECT_EQ(Error({"--server", "h:1", "solve", "t", "--ttt_lr", "fast"}),
            "--ttt_lr: \"fast\" is not a number");
  EXPECT_EQ(Error({"--server", "h:1", "solve", "t", "--stream=maybe"}),
            "--stream: \"maybe\" is not true or false");
  EXPECT_EQ(Error({"--server", "h:1", "solve", "t", "--selection", "best"}),
            "--selection: \"best\" is not one of vote, majority, poe, votes_then_poe");
  EXPECT_EQ(Error({"--server", "h:1", "list", "--state", "done"}),
            "--state: \"done\" is not one of queued, running, succeeded, failed, cancelled");
  EXPECT_EQ(Error({"--server", "h:1", "--deadline", "0", "info"}),
            "--deadline: 0, must be > 0 seconds");
  EXPECT_EQ(Error({"--server", "h:1", "eval", "d", "--concurrency", "0"}),
            "--concurrency: 0, must be >= 1");
  EXPECT_EQ(Error({"--server", "h:1", "--retries", "-1", "info"}), "--retries: -1, must be >= 0");
  EXPECT_EQ(Error({"--server", "h:1", "load", "t"}),
            "`load` needs --total N or --duration SECONDS");
  EXPECT_EQ(Error({"--server", "h:1", "load", "t", "--total", "5", "--duration", "1"}),
            "`load`: --total and --duration exclude each other");
}

// Every per-request row of the option table (core/solve/option_table.h) is a flag that sets the
// row's proto field, and the usage text names it; the process-wide rows are not client flags.
TEST(ClientCliTest, SolveOptionFlagsAreTheOptionTable) {
  const std::string usage = UsageText();
  for (const SolveOptionSpec& spec : kSolveOptionSpecs) {
    const std::string flag = std::string("--") + spec.name;
    if (*spec.proto == '\0') {
      EXPECT_EQ(Error({"--server", "h:1", "solve", "t", flag + "=1"}),
                "unknown option " + flag);
      continue;
    }
    std::string value;
    switch (spec.kind) {
      case OptionKind::kBool: value = spec.default_number != 0 ? "false" : "true"; break;
      case OptionKind::kInt: value = "3"; break;
      case OptionKind::kUint: value = "9"; break;
      case OptionKind::kDouble: value = "0.25"; break;
      case OptionKind::kChoice: {
        const std::string choices = spec.choices;
        value = choices.substr(choices.rfind(',') + 1);
        break;
      }
      case OptionKind::kList: value = "k_proj,lm_head"; break;
    }
    absl::StatusOr<CliOptions> o = Parse({"--server", "h:1", "solve", "t", flag + "=" + value});
    ASSERT_TRUE(o.ok()) << flag << ": " << o.status();
    // The field at the row's path holds the value; nothing else is set.
    const google::protobuf::Message* m = &o->solve_options;
    const google::protobuf::FieldDescriptor* f = nullptr;
    for (absl::string_view part : absl::StrSplit(spec.proto, '.')) {
      if (f != nullptr) m = &m->GetReflection()->GetMessage(*m, f);
      f = m->GetDescriptor()->FindFieldByName(std::string(part));
      ASSERT_NE(f, nullptr) << spec.proto;
    }
    std::string got;
    google::protobuf::TextFormat::PrintFieldValueToString(
        *m, f, f->is_repeated() ? 1 : -1, &got);
    switch (spec.kind) {
      case OptionKind::kBool:
      case OptionKind::kInt:
      case OptionKind::kUint:
      case OptionKind::kDouble:
        EXPECT_EQ(got, value) << flag;
        break;
      case OptionKind::kChoice:
        EXPECT_EQ(got, ProtoEnumPrefix(f->enum_type()->name()) + absl::AsciiStrToUpper(value))
            << flag;
        break;
      case OptionKind::kList:
        EXPECT_EQ(got, "\"lm_head\"") << flag;
        break;
    }
    std::vector<const google::protobuf::FieldDescriptor*> set;
    o->solve_options.GetReflection()->ListFields(o->solve_options, &set);
    EXPECT_EQ(set.size(), 1u) << flag;
    EXPECT_NE(usage.find(flag), std::string::npos) << flag;
  }
}

TEST(ClientCliTest, DoubleDashEndsOptions) {
  absl::StatusOr<CliOptions> o = Parse({"--server", "h:1", "get", "--", "--odd-job-id"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->args, std::vector<std::string>{"--odd-job-id"});
}

// The report files: --html for solve and eval, --report (JSON) for eval (solve prints it: --json).
TEST(ClientCliTest, ReportFiles) {
  absl::StatusOr<CliOptions> o = Parse({"--server", "h:1", "solve", "t", "--html", "a.html"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->html, "a.html");
  o = Parse({"--server", "h:1", "eval", "d", "--html=e.html", "--report", "e.json"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->html, "e.html");
  EXPECT_EQ(o->report, "e.json");
  EXPECT_EQ(Error({"--server", "h:1", "solve", "t", "--report", "r.json"}),
            "--report is not an option of `solve`");
  EXPECT_EQ(Error({"--server", "h:1", "get", "j", "--html", "x"}),
            "--html is not an option of `get`");
  EXPECT_NE(UsageText().find("--html=\"\""), std::string::npos);
  EXPECT_NE(UsageText().find("--report=\"\""), std::string::npos);
}

}  // namespace
}  // namespace arc::client
