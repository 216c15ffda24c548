#include "client/cli.h"

#include <algorithm>
#include <functional>
#include <map>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "client/convert.h"
#include "core/solve/option_table.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"

namespace arc::client {
namespace {

// Which commands take an option: a bit per command.
enum : uint32_t {
  kSolve = 1u << 0,
  kEval = 1u << 1,
  kSubmit = 1u << 2,
  kGet = 1u << 3,
  kWatch = 1u << 4,
  kCancel = 1u << 5,
  kList = 1u << 6,
  kInfo = 1u << 7,
  kHealth = 1u << 8,
  kLoad = 1u << 9,
  kAll = (1u << 10) - 1,
  kRequest = kSolve | kEval | kSubmit | kLoad,  // commands that build a SolveRequest
};

struct Command {
  const char* name;
  uint32_t bit;
  const char* positional;  // "FILE", "PATH", "JOB" or nullptr (none)
};

constexpr Command kCommands[] = {
    {"solve", kSolve, "FILE"}, {"eval", kEval, "PATH"},  {"submit", kSubmit, "FILE"},
    {"get", kGet, "JOB"},      {"watch", kWatch, "JOB"}, {"cancel", kCancel, "JOB"},
    {"list", kList, nullptr},  {"info", kInfo, nullptr}, {"health", kHealth, nullptr},
    {"load", kLoad, "FILE"},
};

using Setter = std::function<absl::Status(CliOptions&, const std::string& value)>;

struct Flag {
  bool is_bool;
  uint32_t commands;
  Setter set;
};

absl::Status Bad(const std::string& flag, const std::string& value, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("--", flag, ": \"", value, "\" ", what));
}

absl::StatusOr<bool> ParseBool(const std::string& flag, const std::string& v) {
  if (v == "true" || v == "1") return true;
  if (v == "false" || v == "0") return false;
  return Bad(flag, v, "is not true or false");
}

absl::StatusOr<int> ParseInt(const std::string& flag, const std::string& v) {
  int x = 0;
  if (!absl::SimpleAtoi(v, &x)) return Bad(flag, v, "is not an integer");
  return x;
}

absl::StatusOr<double> ParseDouble(const std::string& flag, const std::string& v) {
  double x = 0;
  if (!absl::SimpleAtod(v, &x)) return Bad(flag, v, "is not a number");
  return x;
}

// Helpers that build setters for the common shapes.
template <typename T>
Setter ParsedInto(const std::string& flag,
                  absl::StatusOr<T> (*parse)(const std::string& flag, const std::string& v),
                  std::function<void(CliOptions&, T)> put) {
  return [flag, parse, put](CliOptions& o, const std::string& v) -> absl::Status {
    absl::StatusOr<T> x = parse(flag, v);
    if (!x.ok()) return x.status();
    put(o, *x);
    return absl::OkStatus();
  };
}
Setter IntInto(const std::string& flag, std::function<void(CliOptions&, int)> put) {
  return ParsedInto<int>(flag, ParseInt, std::move(put));
}
Setter DoubleInto(const std::string& flag, std::function<void(CliOptions&, double)> put) {
  return ParsedInto<double>(flag, ParseDouble, std::move(put));
}
Setter BoolInto(const std::string& flag, std::function<void(CliOptions&, bool)> put) {
  return ParsedInto<bool>(flag, ParseBool, std::move(put));
}
template <typename Enum>
Setter EnumInto(const std::string& flag, std::vector<std::pair<std::string, Enum>> names,
                std::function<void(CliOptions&, Enum)> put) {
  return [flag, names, put](CliOptions& o, const std::string& v) -> absl::Status {
    std::vector<std::string> all;
    for (const auto& [name, value] : names) {
      if (v == name) {
        put(o, value);
        return absl::OkStatus();
      }
      all.push_back(name);
    }
    return Bad(flag, v, absl::StrCat("is not one of ", absl::StrJoin(all, ", ")));
  };
}

// The flag of a solve option: its value is parsed by the type of its proto field (found by the
// table's path in v1::SolveOptions, through the descriptor) and set there, so the client needs no
// code per option and never links core/solve. Range checks are the server's.
Setter SolveOptionSetter(const SolveOptionSpec& spec) {
  return [&spec](CliOptions& o, const std::string& v) -> absl::Status {
    const std::string flag = spec.name;
    google::protobuf::Message* m = &o.solve_options;
    const google::protobuf::FieldDescriptor* f = nullptr;
    for (absl::string_view part : absl::StrSplit(spec.proto, '.')) {
      if (f != nullptr) m = m->GetReflection()->MutableMessage(m, f);
      f = m->GetDescriptor()->FindFieldByName(std::string(part));
    }
    const google::protobuf::Reflection* r = m->GetReflection();
    using FD = google::protobuf::FieldDescriptor;
    if (f->is_repeated()) {  // a list: comma-separated
      r->ClearField(m, f);
      for (absl::string_view item : absl::StrSplit(v, ',', absl::SkipEmpty())) {
        r->AddString(m, f, std::string(item));
      }
      return absl::OkStatus();
    }
    switch (f->cpp_type()) {
      case FD::CPPTYPE_BOOL: {
        absl::StatusOr<bool> x = ParseBool(flag, v);
        if (!x.ok()) return x.status();
        r->SetBool(m, f, *x);
        return absl::OkStatus();
      }
      case FD::CPPTYPE_INT32: {
        absl::StatusOr<int> x = ParseInt(flag, v);
        if (!x.ok()) return x.status();
        r->SetInt32(m, f, *x);
        return absl::OkStatus();
      }
      case FD::CPPTYPE_UINT64: {
        uint64_t x = 0;
        if (!absl::SimpleAtoi(v, &x)) return Bad(flag, v, "is not an unsigned integer");
        r->SetUInt64(m, f, x);
        return absl::OkStatus();
      }
      case FD::CPPTYPE_DOUBLE: {
        absl::StatusOr<double> x = ParseDouble(flag, v);
        if (!x.ok()) return x.status();
        r->SetDouble(m, f, *x);
        return absl::OkStatus();
      }
      case FD::CPPTYPE_ENUM: {
        const std::vector<std::string> choices = absl::StrSplit(spec.choices, ',');
        const google::protobuf::EnumValueDescriptor* e = f->enum_type()->FindValueByName(
            ProtoEnumPrefix(f->enum_type()->name()) + absl::AsciiStrToUpper(v));
        if (std::find(choices.begin(), choices.end(), v) == choices.end() || e == nullptr) {
          return Bad(flag, v, absl::StrCat("is not one of ", absl::StrJoin(choices, ", ")));
        }
        r->SetEnumValue(m, f, e->number());
        return absl::OkStatus();
      }
      default:
        return absl::InternalError(absl::StrCat("--", flag, ": no parser for its proto type"));
    }
  };
}

// Adds a flag for every per-request row of the option table.
std::map<std::string, Flag>* WithSolveOptionFlags(std::map<std::string, Flag>* flags) {
  for (const SolveOptionSpec& spec : kSolveOptionSpecs) {
    if (*spec.proto == '\0') continue;  // not per request
    flags->emplace(spec.name,
                   Flag{spec.kind == OptionKind::kBool, kRequest, SolveOptionSetter(spec)});
  }
  return flags;
}

const std::map<std::string, Flag>& Flags() {
  static const auto* flags = WithSolveOptionFlags(new std::map<std::string, Flag>{
      // Global.
      {"server", {false, kAll, [](CliOptions& o, const std::string& v) {
                    o.server = v;
                    return absl::OkStatus();
                  }}},
      {"deadline", {false, kAll, DoubleInto("deadline", [](CliOptions& o, double x) {
                      o.deadline_seconds = x;
                    })}},
      {"retries", {false, kAll, IntInto("retries", [](CliOptions& o, int x) { o.retries = x; })}},
      {"tls_ca", {false, kAll, [](CliOptions& o, const std::string& v) {
                 o.tls_ca = v;
                 return absl::OkStatus();
               }}},
      {"tls_cert", {false, kAll, [](CliOptions& o, const std::string& v) {
                 o.tls_cert = v;
                 return absl::OkStatus();
               }}},
      {"tls_key", {false, kAll, [](CliOptions& o, const std::string& v) {
                 o.tls_key = v;
                 return absl::OkStatus();
               }}},
      {"tls_server_name", {false, kAll, [](CliOptions& o, const std::string& v) {
                 o.tls_server_name = v;
                 return absl::OkStatus();
               }}},
      {"token", {false, kAll, [](CliOptions& o, const std::string& v) {
                 o.token = v;
                 return absl::OkStatus();
               }}},
      {"token_file", {false, kAll, [](CliOptions& o, const std::string& v) {
                 o.token_file = v;
                 return absl::OkStatus();
               }}},
      {"color", {false, kAll,
                 EnumInto<ColorMode>("color",
                                     {{"auto", ColorMode::kAuto},
                                      {"always", ColorMode::kAlways},
                                      {"never", ColorMode::kNever}},
                                     [](CliOptions& o, ColorMode m) { o.color = m; })}},
      // SolveOptions: one flag per row of the option table (added by SolveOptionFlags below),
      // plus --no_ttt (= --ttt=false) and the request-only --include_views.
      {"no_ttt", {true, kRequest, BoolInto("no_ttt", [](CliOptions& o, bool x) {
                    o.solve_options.set_ttt(!x);
                  })}},
      {"include_views", {true, kRequest, BoolInto("include_views", [](CliOptions& o, bool x) {
                           o.solve_options.set_include_views(x);
                         })}},
      // Request envelope.
      {"task_json", {true, kRequest, BoolInto("task_json", [](CliOptions& o, bool x) {
                       o.task_json = x;
                     })}},
      {"task_id", {false, kSolve | kSubmit | kLoad, [](CliOptions& o, const std::string& v) {
                     o.task_id = v;
                     return absl::OkStatus();
                   }}},
      // One id for many calls would make the server return one job for all of them, so only the
      // single-call commands take it.
      {"request_id", {false, kSolve | kSubmit, [](CliOptions& o, const std::string& v) {
                        o.request_id = v;
                        return absl::OkStatus();
                      }}},
      // Output.
      {"stream", {true, kSolve, BoolInto("stream", [](CliOptions& o, bool x) { o.stream = x; })}},
      {"json", {true, kSolve | kSubmit | kGet | kWatch | kCancel | kList | kInfo,
                BoolInto("json", [](CliOptions& o, bool x) { o.json = x; })}},
      {"candidates", {false, kSolve | kGet | kWatch, IntInto("candidates", [](CliOptions& o, int x) {
                        o.max_candidates = x;
                      })}},
      // eval, load, list, health.
      {"solutions", {false, kEval, [](CliOptions& o, const std::string& v) {
                       o.solutions = v;
                       return absl::OkStatus();
                     }}},
      {"out", {false, kEval, [](CliOptions& o, const std::string& v) {
                 o.out = v;
                 return absl::OkStatus();
               }}},
      {"concurrency", {false, kEval | kLoad, IntInto("concurrency", [](CliOptions& o, int x) {
                         o.concurrency = x;
                       })}},
      {"limit", {false, kEval | kList, IntInto("limit", [](CliOptions& o, int x) { o.limit = x; })}},
      {"total", {false, kLoad, [](CliOptions& o, const std::string& v) -> absl::Status {
                   int64_t x = 0;
                   if (!absl::SimpleAtoi(v, &x)) return Bad("total", v, "is not an integer");
                   o.total = x;
                   return absl::OkStatus();
                 }}},
      {"duration", {false, kLoad, DoubleInto("duration", [](CliOptions& o, double x) {
                      o.duration_seconds = x;
                    })}},
      {"rate", {false, kLoad, DoubleInto("rate", [](CliOptions& o, double x) { o.rate = x; })}},
      {"state", {false, kList, [](CliOptions& o, const std::string& v) -> absl::Status {
                   absl::StatusOr<v1::JobState> s = ParseJobState(v);
                   if (!s.ok()) return s.status();
                   o.state = *s;
                   return absl::OkStatus();
                 }}},
      {"service", {false, kHealth, [](CliOptions& o, const std::string& v) {
                     o.service = v;
                     return absl::OkStatus();
                   }}},
      // Report files.
      {"html", {false, kSolve | kEval, [](CliOptions& o, const std::string& v) {
                  o.html = v;
                  return absl::OkStatus();
                }}},
      {"report", {false, kEval, [](CliOptions& o, const std::string& v) {
                    o.report = v;
                    return absl::OkStatus();
                  }}},
  });
  return *flags;
}

// "--name VALUE" of each per-request option, for the usage text.
std::string SolveOptionUsage() {
  std::vector<std::string> items = {"--no_ttt"};
  for (const SolveOptionSpec& spec : kSolveOptionSpecs) {
    if (*spec.proto == '\0') continue;
    std::string value;
    switch (spec.kind) {
      case OptionKind::kBool: value = "=BOOL"; break;
      case OptionKind::kInt:
      case OptionKind::kUint: value = " N"; break;
      case OptionKind::kDouble: value = " X"; break;
      case OptionKind::kChoice:
        value = absl::StrCat(" ", absl::StrJoin(absl::StrSplit(spec.choices, ','), "|"));
        break;
      case OptionKind::kList: value = " a,b"; break;
    }
    items.push_back(absl::StrCat("--", spec.name, value));
  }
  items.push_back("--include_views");
  std::string out, line = " ";
  for (const std::string& item : items) {
    if (line.size() + 1 + item.size() > 99) {
      absl::StrAppend(&out, line, "\n");
      line = " ";
    }
    absl::StrAppend(&line, " ", item);
  }
  return absl::StrCat(out, line, "\n");
}

absl::Status Usage(absl::string_view what) { return absl::InvalidArgumentError(what); }

absl::Status AtLeast(const char* flag, double value, double min) {
  if (value >= min) return absl::OkStatus();
  return Usage(absl::StrCat("--", flag, ": ", value, ", must be >= ", min));
}

}  // namespace

absl::StatusOr<CliOptions> ParseCommandLine(const std::vector<std::string>& args) {
  CliOptions o;
  std::vector<std::pair<std::string, std::string>> given;  // (flag, value) in order
  std::vector<std::string> positional;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") {
      positional.insert(positional.end(), args.begin() + static_cast<long>(i) + 1, args.end());
      break;
    }
    if (a == "-h" || a == "--help" || a == "-help") {
      o.help = true;
      return o;
    }
    if (!absl::StartsWith(a, "--")) {
      if (absl::StartsWith(a, "-") && a.size() > 1) {
        return Usage(absl::StrCat("unknown option ", a, " (options are --name or --name=value)"));
      }
      positional.push_back(a);
      continue;
    }
    const size_t eq = a.find('=');
    const std::string name = a.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
    const auto it = Flags().find(name);
    if (it == Flags().end()) return Usage(absl::StrCat("unknown option --", name));
    std::string value;
    if (eq != std::string::npos) {
      value = a.substr(eq + 1);
    } else if (it->second.is_bool) {
      value = "true";
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      return Usage(absl::StrCat("--", name, " needs a value"));
    }
    given.emplace_back(name, value);
  }

  if (positional.empty()) {
    return Usage(
        "no command (want one of solve, eval, submit, get, watch, cancel, list, info, "
        "health, load)");
  }
  o.command = positional.front();
  if (o.command == "help") {
    o.help = true;
    return o;
  }
  const Command* command = nullptr;
  for (const Command& c : kCommands) {
    if (o.command == c.name) command = &c;
  }
  if (command == nullptr) {
    return Usage(absl::StrCat("unknown command \"", o.command,
                              "\" (want one of solve, eval, submit, get, watch, cancel, list, "
                              "info, health, load)"));
  }
  o.args.assign(positional.begin() + 1, positional.end());
  if (command->positional != nullptr && o.args.size() != 1) {
    return Usage(absl::StrCat("`", command->name, "` takes one ", command->positional, ", got ",
                              o.args.size(), " arguments"));
  }
  if (command->positional == nullptr && !o.args.empty()) {
    return Usage(absl::StrCat("`", command->name, "` takes no arguments, got \"", o.args[0], "\""));
  }

  for (const auto& [name, value] : given) {
    const Flag& f = Flags().at(name);
    if ((f.commands & command->bit) == 0) {
      return Usage(absl::StrCat("--", name, " is not an option of `", command->name, "`"));
    }
    if (absl::Status s = f.set(o, value); !s.ok()) return s;
  }

  if (!o.token.empty() && !o.token_file.empty()) {
    return Usage("--token and --token_file exclude each other");
  }
  if (o.server.empty()) {
    return Usage("--server is required (host:port, a comma-separated list or dns:///name:port)");
  }
  if (o.deadline_seconds) {
    if (!(*o.deadline_seconds > 0)) {
      return Usage(absl::StrCat("--deadline: ", *o.deadline_seconds, ", must be > 0 seconds"));
    }
  }
  if (absl::Status s = AtLeast("retries", o.retries, 0); !s.ok()) return s;
  if (absl::Status s = AtLeast("concurrency", o.concurrency, 1); !s.ok()) return s;
  if (absl::Status s = AtLeast("candidates", o.max_candidates, 0); !s.ok()) return s;
  if (absl::Status s = AtLeast("limit", o.limit, 0); !s.ok()) return s;
  if (absl::Status s = AtLeast("rate", o.rate, 0); !s.ok()) return s;
  if (o.command == "load") {
    if (absl::Status s = AtLeast("total", static_cast<double>(o.total), 0); !s.ok()) return s;
    if (absl::Status s = AtLeast("duration", o.duration_seconds, 0); !s.ok()) return s;
    if (o.total > 0 && o.duration_seconds > 0) {
      return Usage("`load`: --total and --duration exclude each other");
    }
    if (o.total == 0 && o.duration_seconds == 0) {
      return Usage("`load` needs --total N or --duration SECONDS");
    }
  }
  return o;
}

double DefaultDeadlineSeconds(const std::string& command) {
  if (command == "solve" || command == "eval" || command == "watch" || command == "load") {
    return 600;
  }
  return 10;
}

std::string UsageText() {
  return R"(arc-client: the command-line client of the ARC test-time-training service (arc-server):
solves a task or a whole task set over gRPC, manages jobs, checks health and generates load.
Options go before or after the command, as --name VALUE or --name=VALUE (booleans: --name or
--name=true|false); an option the command does not take is an error. Each option below is shown
with its default.

usage: arc-client --server TARGET [--deadline SECONDS] [--retries N] [--color auto|always|never]
                  [--tls_ca PEM] [--tls_cert PEM --tls_key PEM] [--tls_server_name NAME]
                  [--token_file FILE | --token TOKEN] <command> [args] [options]

global options (every command):
  --server=TARGET     required: host:port | a,b,... (IP endpoints, round-robin) | dns:///name:port
                      (round-robin over every address of the name)
  --deadline=600|10   seconds per call: 600 for solve, eval, watch and load calls, 10 for the others
  --retries=3         retries of UNAVAILABLE and of RESOURCE_EXHAUSTED that carries the server's
                      retry-after-ms (a full queue; exponential backoff with jitter, at least
                      that delay); a job refused for its cost is not retried; load never retries
  --tls_ca=""         PEM CA bundle that signed the server's certificate: connect with TLS (any
                      --tls_* option turns TLS on; without --tls_ca the system roots are used)
  --tls_cert=""       PEM client certificate chain for mutual TLS (with --tls_key)
  --tls_key=""        PEM private key of --tls_cert
  --tls_server_name=""  the name the server's certificate must carry (default: the target's host)
  --token_file=""     file whose first line holds the bearer token (sent as "authorization:
                      Bearer TOKEN"); a line "TOKEN IDENTITY" of the server's token file works
  --token=""          the bearer token itself (visible in `ps`; prefer --token_file)
  --color=auto        colour the grids: auto (a terminal, TERM not dumb, NO_COLOR unset), always,
                      never

commands:
  solve FILE          solve an ARC task file and print the ranked grids
                        --stream=false       live search, TTT and inference progress (SolveStream)
                        --json=false         print the result as JSON (arc-solve's report entry)
                        --task_json=false    send the file's text as task_json instead of messages
                        --candidates=4       candidate grids drawn per test input
                        --html=""            write a visual report (one self-contained HTML page)
  eval PATH           solve every task of a file, directory or Kaggle challenges file
                        --solutions=""       Kaggle solutions (test outputs) for the pass@2 report
                        --concurrency=1      calls in flight
                        --out=""             write the Kaggle submission here ("": none)
                        --limit=0            the first N tasks only (0: all)
                        --report=""          write the JSON report (the schema of docs/JSON.md)
                        --html=""            write a visual report: a summary table, then every task
  submit FILE         enqueue a task as a job and print the job (--json=false)
  get JOB             a job's state, and its result once done (--json=false, --candidates=4)
  watch JOB           stream a job's progress until it finishes (--json=false, --candidates=4)
  cancel JOB          cancel a job (--json=false)
  list                jobs on the server (--json=false)
                        --state=""           only jobs in this state: queued, running, succeeded,
                                             failed, cancelled ("": all)
                        --limit=0            at most N jobs (0: the server's maximum)
  info                the server's model, device, defaults and limits (--json=false)
  health              grpc.health.v1 Check; exit 0 only when SERVING
                        --service=""         the service to check ("": the whole server)
  load FILE           ghz-like load on Solve with one task
                        --concurrency=1      workers
                        --total=0            calls in all (--total or --duration, not both)
                        --duration=0         seconds of load
                        --rate=0             calls per second over all workers (0: unlimited)

request options (solve, eval, submit, load):
  --task_id=""        the task's id ("": the file name without .json; solve, submit, load)
  --request_id=""     idempotency key ("": a fresh one per call; solve, submit)
  --include_views=false  return every view's raw prediction too
  --no_ttt=false      skip test-time training (= --ttt=false)
  solve options, one per per-request row of the option table (unset ones take the server's
  defaults, which `arc-client info` shows; ranges and built-in defaults: docs/SOLVE_OPTIONS.md):
)" + SolveOptionUsage() + R"(
exit codes: 0 success; 1 an RPC failed (the gRPC code and message are printed), a job failed, an
eval task failed or a load call failed; 2 usage or unreadable input file; 3 health not SERVING.
)";
}

}  // namespace arc::client
