#include "client/cli.h"

#include <functional>
#include <map>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "client/convert.h"

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
Setter IntInto(const std::string& flag, std::function<void(CliOptions&, int)> put) {
  return [flag, put](CliOptions& o, const std::string& v) -> absl::Status {
    absl::StatusOr<int> x = ParseInt(flag, v);
    if (!x.ok()) return x.status();
    put(o, *x);
    return absl::OkStatus();
  };
}
Setter DoubleInto(const std::string& flag, std::function<void(CliOptions&, double)> put) {
  return [flag, put](CliOptions& o, const std::string& v) -> absl::Status {
    absl::StatusOr<double> x = ParseDouble(flag, v);
    if (!x.ok()) return x.status();
    put(o, *x);
    return absl::OkStatus();
  };
}
Setter BoolInto(const std::string& flag, std::function<void(CliOptions&, bool)> put) {
  return [flag, put](CliOptions& o, const std::string& v) -> absl::Status {
    absl::StatusOr<bool> x = ParseBool(flag, v);
    if (!x.ok()) return x.status();
    put(o, *x);
    return absl::OkStatus();
  };
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

v1::TttOptions& Ttt(CliOptions& o) { return *o.solve_options.mutable_ttt_options(); }
v1::InferenceOptions& Inf(CliOptions& o) { return *o.solve_options.mutable_inference(); }

const std::map<std::string, Flag>& Flags() {
  static const auto* flags = new std::map<std::string, Flag>{
      // Global.
      {"server", {false, kAll, [](CliOptions& o, const std::string& v) {
                    o.server = v;
                    return absl::OkStatus();
                  }}},
      {"deadline", {false, kAll, DoubleInto("deadline", [](CliOptions& o, double x) {
                      o.deadline_seconds = x;
                    })}},
      {"retries", {false, kAll, IntInto("retries", [](CliOptions& o, int x) { o.retries = x; })}},
      {"color", {false, kAll,
                 EnumInto<ColorMode>("color",
                                     {{"auto", ColorMode::kAuto},
                                      {"always", ColorMode::kAlways},
                                      {"never", ColorMode::kNever}},
                                     [](CliOptions& o, ColorMode m) { o.color = m; })}},
      // SolveOptions.
      {"no_ttt", {true, kRequest, BoolInto("no_ttt", [](CliOptions& o, bool x) {
                    o.solve_options.set_ttt(!x);
                  })}},
      {"seed", {false, kRequest, [](CliOptions& o, const std::string& v) -> absl::Status {
                  uint64_t x = 0;
                  if (!absl::SimpleAtoi(v, &x)) return Bad("seed", v, "is not an unsigned integer");
                  o.solve_options.set_seed(x);
                  return absl::OkStatus();
                }}},
      {"ttt_max_samples", {false, kRequest, IntInto("ttt_max_samples", [](CliOptions& o, int x) {
                             Ttt(o).set_max_samples(x);
                           })}},
      {"ttt_permute_n", {false, kRequest, IntInto("ttt_permute_n", [](CliOptions& o, int x) {
                           Ttt(o).set_permute_n(x);
                         })}},
      {"ttt_augment", {true, kRequest, BoolInto("ttt_augment", [](CliOptions& o, bool x) {
                         Ttt(o).set_augment(x);
                       })}},
      {"ttt_leave_two", {true, kRequest, BoolInto("ttt_leave_two", [](CliOptions& o, bool x) {
                           Ttt(o).set_leave_two_top_up(x);
                         })}},
      {"loss_mask", {false, kRequest,
                     EnumInto<v1::LossMask>(
                         "loss_mask",
                         {{"outputs_after_first", v1::LOSS_MASK_OUTPUTS_AFTER_FIRST},
                          {"answer_only", v1::LOSS_MASK_ANSWER_ONLY}},
                         [](CliOptions& o, v1::LossMask m) { Ttt(o).set_loss_mask(m); })}},
      {"ttt_lr", {false, kRequest, DoubleInto("ttt_lr", [](CliOptions& o, double x) {
                    Ttt(o).set_learning_rate(x);
                  })}},
      {"ttt_weight_decay", {false, kRequest, DoubleInto("ttt_weight_decay", [](CliOptions& o, double x) {
                              Ttt(o).set_weight_decay(x);
                            })}},
      {"ttt_batch_size", {false, kRequest, IntInto("ttt_batch_size", [](CliOptions& o, int x) {
                            Ttt(o).set_batch_size(x);
                          })}},
      {"ttt_grad_accum", {false, kRequest, IntInto("ttt_grad_accum", [](CliOptions& o, int x) {
                            Ttt(o).set_grad_accum(x);
                          })}},
      {"ttt_epochs", {false, kRequest, IntInto("ttt_epochs", [](CliOptions& o, int x) {
                        Ttt(o).set_epochs(x);
                      })}},
      {"ttt_max_steps", {false, kRequest, IntInto("ttt_max_steps", [](CliOptions& o, int x) {
                           Ttt(o).set_max_steps(x);
                         })}},
      {"ttt_warmup", {false, kRequest, DoubleInto("ttt_warmup", [](CliOptions& o, double x) {
                        Ttt(o).set_warmup_fraction(x);
                      })}},
      {"ttt_clip", {false, kRequest, DoubleInto("ttt_clip", [](CliOptions& o, double x) {
                      Ttt(o).set_clip_grad_norm(x);
                    })}},
      {"lora_rank", {false, kRequest, IntInto("lora_rank", [](CliOptions& o, int x) {
                       Ttt(o).set_lora_rank(x);
                     })}},
      {"lora_alpha", {false, kRequest, DoubleInto("lora_alpha", [](CliOptions& o, double x) {
                        Ttt(o).set_lora_alpha(x);
                      })}},
      {"lora_dropout", {false, kRequest, DoubleInto("lora_dropout", [](CliOptions& o, double x) {
                          Ttt(o).set_lora_dropout(x);
                        })}},
      {"lora_targets", {false, kRequest, [](CliOptions& o, const std::string& v) {
                          Ttt(o).clear_lora_targets();
                          for (absl::string_view t : absl::StrSplit(v, ',', absl::SkipEmpty())) {
                            Ttt(o).add_lora_targets(std::string(t));
                          }
                          return absl::OkStatus();
                        }}},
      {"views_leave_out", {false, kRequest, IntInto("views_leave_out", [](CliOptions& o, int x) {
                             Inf(o).set_leave_out(x);
                           })}},
      {"views_permutations", {false, kRequest, IntInto("views_permutations", [](CliOptions& o, int x) {
                                Inf(o).set_permutations(x);
                              })}},
      {"views_transforms", {false, kRequest,
                            EnumInto<v1::ViewTransforms>(
                                "views_transforms",
                                {{"paper", v1::VIEW_TRANSFORMS_PAPER},
                                 {"all", v1::VIEW_TRANSFORMS_ALL},
                                 {"none", v1::VIEW_TRANSFORMS_NONE}},
                                [](CliOptions& o, v1::ViewTransforms t) { Inf(o).set_transforms(t); })}},
      {"infer_batch_size", {false, kRequest, IntInto("infer_batch_size", [](CliOptions& o, int x) {
                              Inf(o).set_batch_size(x);
                            })}},
      {"max_new_tokens", {false, kRequest, IntInto("max_new_tokens", [](CliOptions& o, int x) {
                            Inf(o).set_max_new_tokens(x);
                          })}},
      {"constrained", {true, kRequest, BoolInto("constrained", [](CliOptions& o, bool x) {
                         Inf(o).set_constrained(x);
                       })}},
      {"selection", {false, kRequest,
                     EnumInto<v1::SelectionMode>(
                         "selection",
                         {{"vote", v1::SELECTION_MODE_VOTE},
                          {"majority", v1::SELECTION_MODE_MAJORITY},
                          {"poe", v1::SELECTION_MODE_POE},
                          {"votes_then_poe", v1::SELECTION_MODE_VOTES_THEN_POE}},
                         [](CliOptions& o, v1::SelectionMode m) { o.solve_options.set_selection(m); })}},
      {"poe_top_k", {false, kRequest, IntInto("poe_top_k", [](CliOptions& o, int x) {
                       o.solve_options.set_poe_top_k(x);
                     })}},
      {"poe_views", {false, kRequest, IntInto("poe_views", [](CliOptions& o, int x) {
                       o.solve_options.set_poe_views(x);
                     })}},
      {"base_attempt", {true, kRequest, BoolInto("base_attempt", [](CliOptions& o, bool x) {
                          o.solve_options.set_base_attempt(x);
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
  };
  return *flags;
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
  return R"(arc-client: the command-line client of the ARC test-time-training service.

usage: arc-client --server TARGET [--deadline SECONDS] [--retries N] [--color auto|always|never]
                  <command> [args] [options]

TARGET: host:port | a,b,... (IP endpoints, round-robin) | dns:///name:port (round-robin over
        every address of the name).

commands:
  solve FILE        solve an ARC task file and print the ranked grids
                      --stream          live TTT and inference progress (SolveStream)
                      --json            print the response as JSON
                      --task_json       send the file's text as task_json instead of messages
                      --candidates N    candidate grids drawn per test input (default 4)
  eval PATH         solve every task of a file, directory or Kaggle challenges file
                      --solutions FILE  Kaggle solutions (test outputs) for the pass@2 report
                      --concurrency N   calls in flight (default 1)
                      --out FILE        write the Kaggle submission
                      --limit N         the first N tasks only
  submit FILE       enqueue a task as a job and print the job
  get JOB           a job's state (and result once done)
  watch JOB         stream a job's progress until it finishes
  cancel JOB        cancel a job
  list              jobs on the server (--state queued|running|succeeded|failed|cancelled,
                    --limit N)
  info              the server's model, device, defaults and limits
  health            grpc.health.v1 Check (--service NAME); exit 0 only when SERVING
  load FILE         ghz-like load on Solve with one task
                      --concurrency C   workers (default 1)
                      --total N | --duration SECONDS
                      --rate RPS        calls per second over all workers (default unlimited)

solve options (solve, eval, submit, load; unset ones take the server's defaults):
  --no_ttt --seed N --ttt_max_samples N --ttt_permute_n N --ttt_augment=BOOL --ttt_leave_two=BOOL
  --loss_mask outputs_after_first|answer_only --ttt_lr X --ttt_weight_decay X --ttt_batch_size N
  --ttt_grad_accum N --ttt_epochs N --ttt_max_steps N --ttt_warmup X --ttt_clip X --lora_rank N
  --lora_alpha X --lora_dropout X --lora_targets a,b --views_leave_out N --views_permutations N
  --views_transforms paper|all|none --infer_batch_size N --max_new_tokens N --constrained=BOOL
  --selection vote|majority|poe|votes_then_poe --poe_top_k N --poe_views N --base_attempt=BOOL
  --include_views
  --task_id NAME --request_id ID (solve, submit)

deadlines: --deadline applies to each call (default 600 s for solve, eval, watch and load calls,
10 s for the others). Retries (--retries, default 3) back off exponentially with jitter on
UNAVAILABLE and RESOURCE_EXHAUSTED, waiting at least the server's retry-after-ms; load never
retries.

exit codes: 0 success; 1 an RPC failed (the gRPC code and message are printed), a job failed, an
eval task failed or a load call failed; 2 usage or unreadable input file; 3 health not SERVING.
)";
}

}  // namespace arc::client
