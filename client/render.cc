#include "client/render.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "client/convert.h"
#include "core/solve/result_json.h"

namespace arc::client {
namespace {

// xterm-256 colours nearest to the ARC palette (#000000, #0074D9, #FF4136, #2ECC40, #FFDC00,
// #AAAAAA, #F012BE, #FF851B, #7FDBFF, #870C25). 256-colour codes, not 24-bit ones, because more
// terminals (and tmux/screen defaults) render them.
constexpr int kAnsi256[kNumColours] = {16, 26, 196, 41, 220, 248, 199, 208, 117, 88};
// The digit's colour on each background: white (231) on the dark ones, black (16) on the light.
constexpr int kAnsi256Digit[kNumColours] = {231, 231, 231, 16, 16, 16, 231, 16, 16, 231};
constexpr char kReset[] = "\x1b[0m";

int VisibleWidth(const Grid& grid, bool color) { return grid.cols() * (color ? 2 : 1); }

std::string Seconds(double s) { return absl::StrFormat("%.2f s", s); }

std::string Shape(const v1::Grid& g) {
  return absl::StrCat(g.rows_size(), "x", g.rows_size() ? g.rows(0).size() : 0);
}

std::string UnixMs(int64_t ms) {
  if (ms <= 0) return "-";
  return absl::FormatTime("%Y-%m-%d %H:%M:%S", absl::FromUnixMillis(ms), absl::LocalTimeZone());
}

}  // namespace

bool ShouldColor(ColorMode mode, int fd) {
  if (mode == ColorMode::kAlways) return true;
  if (mode == ColorMode::kNever) return false;
  if (std::getenv("NO_COLOR") != nullptr) return false;
  const char* term = std::getenv("TERM");
  if (term != nullptr && std::strcmp(term, "dumb") == 0) return false;
  return ::isatty(fd) == 1;
}

int TerminalWidth(int fallback) {
  int w = 0;
  const char* cols = std::getenv("COLUMNS");
  if (cols != nullptr && absl::SimpleAtoi(cols, &w) && w >= 20) return w;
  return fallback;
}

int DifferingCells(const Grid& grid, const Grid& expected) {
  if (grid.rows() != expected.rows() || grid.cols() != expected.cols()) return -1;
  int n = 0;
  for (int r = 0; r < grid.rows(); ++r) {
    for (int c = 0; c < grid.cols(); ++c) n += grid.at(r, c) != expected.at(r, c);
  }
  return n;
}

std::vector<std::string> GridLines(const Grid& grid, bool color, const Grid* expected) {
  if (expected != nullptr && DifferingCells(grid, *expected) < 0) expected = nullptr;
  std::vector<std::string> lines;
  lines.reserve(static_cast<size_t>(grid.rows()));
  for (int r = 0; r < grid.rows(); ++r) {
    std::string line;
    int last = -1;
    for (int c = 0; c < grid.cols(); ++c) {
      const int v = grid.at(r, c);
      if (!color) {
        line.push_back(static_cast<char>('0' + v));
        continue;
      }
      // Runs of one colour share an escape sequence: the digit's colour, then the background.
      if (v != last) {
        absl::StrAppend(&line, "\x1b[38;5;", kAnsi256Digit[v], ";48;5;", kAnsi256[v], "m");
      }
      const bool wrong = expected != nullptr && expected->at(r, c) != v;
      line.push_back(wrong ? '*' : ' ');
      line.push_back(static_cast<char>('0' + v));
      last = v;
    }
    if (color && grid.cols() > 0) line += kReset;
    lines.push_back(std::move(line));
  }
  return lines;
}

std::string RenderGrid(const Grid& grid, bool color, const Grid* expected) {
  std::string out;
  for (const std::string& line : GridLines(grid, color, expected)) {
    absl::StrAppend(&out, line, "\n");
  }
  return out;
}

std::string RenderSideBySide(const std::vector<GridBlock>& blocks, bool color, int max_width,
                             int indent) {
  constexpr int kGap = 3;
  std::string out;
  const std::string pad(static_cast<size_t>(std::max(indent, 0)), ' ');
  size_t start = 0;
  while (start < blocks.size()) {
    // Take as many blocks as fit (at least one).
    std::vector<int> widths;
    int used = indent;
    size_t end = start;
    while (end < blocks.size()) {
      const int w = std::max(static_cast<int>(blocks[end].title.size()),
                             VisibleWidth(blocks[end].grid, color));
      const int need = (end == start ? 0 : kGap) + w;
      if (end > start && used + need > max_width) break;
      used += need;
      widths.push_back(w);
      ++end;
    }
    int height = 0;
    std::vector<std::vector<std::string>> lines;
    for (size_t i = start; i < end; ++i) {
      lines.push_back(
          GridLines(blocks[i].grid, color, blocks[i].expected ? &*blocks[i].expected : nullptr));
      height = std::max(height, blocks[i].grid.rows());
    }
    // Row -1 is the title line.
    for (int r = -1; r < height; ++r) {
      std::string line = pad;
      std::string pending;  // spaces held back so that lines never end in padding
      for (size_t i = start; i < end; ++i) {
        const size_t k = i - start;
        if (k > 0) pending.append(kGap, ' ');
        std::string cell;
        int visible = 0;
        if (r < 0) {
          cell = blocks[i].title;
          visible = static_cast<int>(cell.size());
        } else if (r < static_cast<int>(lines[k].size())) {
          cell = lines[k][static_cast<size_t>(r)];
          visible = VisibleWidth(blocks[i].grid, color);
        }
        if (!cell.empty()) {
          line += pending;
          pending.clear();
          line += cell;
        }
        pending.append(static_cast<size_t>(widths[k] - visible), ' ');
      }
      absl::StrAppend(&out, line, "\n");
    }
    start = end;
    if (start < blocks.size()) out += "\n";
  }
  return out;
}

std::string FormatSolveResponse(const v1::SolveResponse& response, const Task* task,
                                const RenderOptions& options) {
  std::string out;
  absl::StrAppend(&out, "task ", response.task_id().empty() ? "-" : response.task_id(), "  hash ",
                  response.task_hash(), "  job ", response.job_id(), "\n");
  for (int i = 0; i < response.predictions_size(); ++i) {
    const v1::TestPrediction& p = response.predictions(i);
    const TestCase* tc = (task != nullptr && i < static_cast<int>(task->test.size()))
                             ? &task->test[static_cast<size_t>(i)]
                             : nullptr;
    absl::StrAppend(&out, "\ntest ", i, ": ", p.num_views(), " views, ", p.invalid_outputs(),
                    " invalid, ", p.candidates_size(), " candidates, leave_out ", p.leave_out(),
                    "\n");
    std::vector<GridBlock> blocks;
    const std::optional<Grid> expected = tc != nullptr ? tc->output : std::nullopt;
    if (tc != nullptr) {
      blocks.push_back({"input", tc->input, std::nullopt});
      if (expected) blocks.push_back({"expected", *expected, std::nullopt});
    }
    // Attempts first (they are the first two candidates when there are candidates), then further
    // candidate grids up to the limit; their wrong cells marked when the output is known.
    auto add = [&](const std::string& title, const v1::Grid& g) {
      absl::StatusOr<Grid> grid = GridFromProto(g, title);
      if (grid.ok()) blocks.push_back({title, *std::move(grid), expected});
    };
    if (p.has_attempt_1() && p.attempt_1().rows_size() > 0) add("attempt 1", p.attempt_1());
    if (p.has_attempt_2() && p.attempt_2().rows_size() > 0) add("attempt 2", p.attempt_2());
    for (int c = 2; c < p.candidates_size() && c < options.max_candidate_grids; ++c) {
      add(absl::StrCat("#", c + 1), p.candidates(c).grid());
    }
    if (!blocks.empty()) {
      out += RenderSideBySide(blocks, options.color, options.max_width, /*indent=*/2);
    }
    if (p.candidates_size() == 0) {
      out += "  no valid prediction from any view (the attempts are placeholders)\n";
    }
    if (tc != nullptr && tc->output) {
      std::vector<std::string> verdicts;
      bool any = false;
      for (int a = 0; a < 2; ++a) {
        const v1::Grid& g = a == 0 ? p.attempt_1() : p.attempt_2();
        if (g.rows_size() == 0) continue;
        absl::StatusOr<Grid> grid = GridFromProto(g, "attempt");
        const bool ok = grid.ok() && *grid == *tc->output;
        any = any || ok;
        std::string why;
        if (grid.ok() && !ok) {
          const int diff = DifferingCells(*grid, *tc->output);
          why = diff < 0
                    ? absl::StrCat(" (", grid->rows(), "x", grid->cols(), ", expected ",
                                   tc->output->rows(), "x", tc->output->cols(), ")")
                    : absl::StrCat(" (", diff, diff == 1 ? " cell differs)" : " cells differ)");
        }
        verdicts.push_back(absl::StrCat("attempt ", a + 1, ": ", ok ? "correct" : "wrong", why));
      }
      absl::StrAppend(&out, "  ", absl::StrJoin(verdicts, ", "),
                      verdicts.empty() ? "no attempt" : "", "  => test ", i, " ",
                      any ? "CORRECT" : "WRONG", "\n");
    }
    if (p.candidates_size() > 0) {
      absl::StrAppend(&out, "  rank  shape   votes       score  views  expert\n");
      for (int c = 0; c < p.candidates_size(); ++c) {
        const v1::Candidate& cand = p.candidates(c);
        std::string row = absl::StrFormat(
            "  %4d  %-6s %6d %11.4f  %5d  %-10s%s", c + 1, Shape(cand.grid()), cand.votes(),
            cand.score(), cand.views_size(), cand.expert(),
            c < 2 ? absl::StrCat("  (attempt ", c + 1, ")") : std::string());
        absl::StrAppend(&out, absl::StripTrailingAsciiWhitespace(row), "\n");
        if (!cand.program().empty()) {
          absl::StrAppend(&out, "        program ", cand.program(), "  (explains ",
                          cand.explained(), " demonstrations)\n");
        }
      }
    }
    for (const v1::ViewPrediction& v : p.views()) {
      absl::StrAppend(&out, "  view ", v.view());
      if (v.valid()) {
        absl::StrAppend(&out, "  ", Shape(v.output()), "  ", absl::StrJoin(v.output().rows(), "/"),
                        "\n");
      } else {
        absl::StrAppend(&out, "  invalid: ", v.error(), "\n");
      }
    }
  }
  const v1::SearchStats& st = response.search();
  if (st.enabled()) {
    absl::StrAppend(&out, "\nsearch: ", st.explained() ? "explained" : "not explained", ", ",
                    st.programs(), " programs, ", st.nodes(), " states, depth ",
                    st.depth_completed(), st.ttt_skipped() ? ", ttt skipped" : "",
                    st.stopped_by_deadline() ? ", stopped by the deadline" : "", "\n");
  }
  const v1::TttStats& t = response.ttt();
  if (t.enabled()) {
    absl::StrAppend(
        &out, absl::StrFormat("\nttt: %d samples, %d steps, loss %.4f -> %.4f, %d tokens\n",
                              t.samples(), t.steps(), t.first_loss(), t.last_loss(), t.tokens()));
  } else {
    out += "\nttt: off\n";
  }
  const v1::Timings& tm = response.timings();
  absl::StrAppend(&out, "timings: queue ", Seconds(tm.queue_seconds()), ", search ",
                  Seconds(tm.search_seconds()), ", ttt_data ",
                  Seconds(tm.ttt_data_seconds()), ", ttt_train ", Seconds(tm.ttt_train_seconds()),
                  ", inference ", Seconds(tm.inference_seconds()), ", selection ",
                  Seconds(tm.selection_seconds()), ", total ", Seconds(tm.total_seconds()), "\n");
  absl::StrAppend(&out, "tokens: prompt ", response.prompt_tokens(), ", generated ",
                  response.generated_tokens(), "\n");
  return out;
}

std::string FormatEvent(const v1::SolveEvent& event) {
  switch (event.event_case()) {
    case v1::SolveEvent::kQueuedPosition:
      return absl::StrCat("queued: ", event.queued_position(), " jobs ahead");
    case v1::SolveEvent::kPhase:
      return absl::StrCat("phase: ", PhaseName(event.phase()));
    case v1::SolveEvent::kTttProgress: {
      const v1::TttProgress& p = event.ttt_progress();
      return absl::StrFormat("ttt step %d/%d  loss %.4f  lr %.2e", p.step(), p.total_steps(),
                             p.loss(), p.learning_rate());
    }
    case v1::SolveEvent::kInferenceProgress:
      return absl::StrCat("inference ", event.inference_progress().views_done(), "/",
                          event.inference_progress().views_total(), " views");
    case v1::SolveEvent::kResult:
      return "result";
    case v1::SolveEvent::kError:
      return absl::StrCat("error: ", StatusCodeName(event.error().code()), ": ",
                          event.error().message());
    default:
      return "event";
  }
}

std::string ProgressBar(int done, int total, int width) {
  const int filled = total > 0 ? static_cast<int>(static_cast<int64_t>(width) * done / total) : 0;
  return absl::StrCat(
      "[", std::string(static_cast<size_t>(filled), '#'),
      std::string(static_cast<size_t>(std::max(width - filled, 0)), '.'), "] ",
      absl::StrFormat("%*d/%d", static_cast<int>(absl::StrCat(total).size()), done, total));
}

std::string FormatJob(const v1::Job& job) {
  std::string out;
  absl::StrAppend(&out, "job ", job.job_id(), "\n");
  absl::StrAppend(&out, "  state     ", JobStateName(job.state()), "\n");
  absl::StrAppend(&out, "  phase     ", PhaseName(job.phase()), "\n");
  if (!job.task_id().empty()) absl::StrAppend(&out, "  task      ", job.task_id(), "\n");
  absl::StrAppend(&out, "  hash      ", job.task_hash(), "\n");
  if (!job.request_id().empty()) absl::StrAppend(&out, "  request   ", job.request_id(), "\n");
  absl::StrAppend(&out, "  created   ", UnixMs(job.created_unix_ms()), "\n");
  absl::StrAppend(&out, "  started   ", UnixMs(job.started_unix_ms()), "\n");
  absl::StrAppend(&out, "  finished  ", UnixMs(job.finished_unix_ms()), "\n");
  if (job.has_error() && job.error().code() != 0) {
    absl::StrAppend(&out, "  error     ", StatusCodeName(job.error().code()), ": ",
                    job.error().message(), "\n");
  }
  return out;
}

std::string FormatJobList(const v1::ListJobsResponse& jobs) {
  std::string out = absl::StrFormat("%-24s %-10s %-10s %-20s %-16s %s\n", "JOB", "STATE", "PHASE",
                                    "TASK", "HASH", "CREATED");
  for (const v1::Job& j : jobs.jobs()) {
    absl::StrAppend(&out, absl::StrFormat("%-24s %-10s %-10s %-20s %-16s %s\n", j.job_id(),
                                          JobStateName(j.state()), PhaseName(j.phase()),
                                          j.task_id().empty() ? "-" : j.task_id(), j.task_hash(),
                                          UnixMs(j.created_unix_ms())));
  }
  absl::StrAppend(&out, jobs.jobs_size(), " jobs\n");
  return out;
}

std::string FormatServerInfo(const v1::ServerInfo& info) {
  std::string out;
  absl::StrAppend(&out, "version            ", info.version(), "\n");
  absl::StrAppend(&out, "model              ", info.model_name(), "\n");
  absl::StrAppend(&out, "prompt format      ", info.prompt_format(), "\n");
  absl::StrAppend(&out, "device             ", info.device(), "\n");
  absl::StrAppend(&out, "parameters         ", info.parameters(), "\n");
  absl::StrAppend(&out, "context tokens     ", info.context_tokens(), "\n");
  absl::StrAppend(&out, "workers            ", info.workers(), "\n");
  absl::StrAppend(&out, "queue capacity     ", info.queue_capacity(), "\n");
  absl::StrAppend(&out, "max message bytes  ", info.max_message_bytes(), "\n");
  if (!info.limits().empty()) absl::StrAppend(&out, "limits             ", info.limits(), "\n");
  absl::StrAppend(&out, "defaults           ", ToJson(info.defaults()), "\n");
  return out;
}

absl::StatusOr<nlohmann::json> SolveResponseToJson(const v1::SolveResponse& response,
                                                   const Task* task) {
  absl::StatusOr<SolveResult> result = SolveResultFromResponse(response);
  if (!result.ok()) return result.status();
  ResultContext context;
  context.seconds = response.timings().total_seconds();
  context.task = task;
  context.job_id = response.job_id();
  context.queue_seconds = response.timings().queue_seconds();
  return SolveResultToJson(*result, context);
}

absl::StatusOr<std::string> SolveResponseJson(const v1::SolveResponse& response, const Task* task) {
  absl::StatusOr<nlohmann::json> json = SolveResponseToJson(response, task);
  if (!json.ok()) return json.status();
  return JsonText(*json);
}

namespace {

using FD = google::protobuf::FieldDescriptor;

// A float as the shortest decimal with 6 significant digits (as the result JSON writes losses).
double ShortFloat(float f) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.6g", static_cast<double>(f));
  return std::strtod(text, nullptr);
}

// One value of a scalar field; `index` < 0 for a singular field.
nlohmann::json ScalarJson(const google::protobuf::Message& m, const FD* f, int index) {
  const google::protobuf::Reflection* r = m.GetReflection();
  const bool rep = index >= 0;
  switch (f->cpp_type()) {
    case FD::CPPTYPE_INT32:
      return rep ? r->GetRepeatedInt32(m, f, index) : r->GetInt32(m, f);
    case FD::CPPTYPE_INT64:
      return rep ? r->GetRepeatedInt64(m, f, index) : r->GetInt64(m, f);
    case FD::CPPTYPE_UINT32:
      return rep ? r->GetRepeatedUInt32(m, f, index) : r->GetUInt32(m, f);
    case FD::CPPTYPE_UINT64:
      return rep ? r->GetRepeatedUInt64(m, f, index) : r->GetUInt64(m, f);
    case FD::CPPTYPE_DOUBLE:
      return rep ? r->GetRepeatedDouble(m, f, index) : r->GetDouble(m, f);
    case FD::CPPTYPE_FLOAT:
      return ShortFloat(rep ? r->GetRepeatedFloat(m, f, index) : r->GetFloat(m, f));
    case FD::CPPTYPE_BOOL:
      return rep ? r->GetRepeatedBool(m, f, index) : r->GetBool(m, f);
    case FD::CPPTYPE_ENUM:
      return (rep ? r->GetRepeatedEnum(m, f, index) : r->GetEnum(m, f))->name();
    case FD::CPPTYPE_STRING:
      return rep ? r->GetRepeatedString(m, f, index) : r->GetString(m, f);
    case FD::CPPTYPE_MESSAGE:
      break;
  }
  return nullptr;
}

}  // namespace

nlohmann::json MessageToJson(const google::protobuf::Message& message) {
  // The two messages with an ARC-native form of their own.
  if (const auto* grid = dynamic_cast<const v1::Grid*>(&message)) {
    absl::StatusOr<Grid> g = GridFromProto(*grid, "grid");
    if (g.ok()) return g->ToRows();
  } else if (const auto* response = dynamic_cast<const v1::SolveResponse*>(&message)) {
    absl::StatusOr<nlohmann::json> j = SolveResponseToJson(*response, nullptr);
    if (j.ok()) return *std::move(j);
  }
  // Otherwise field by field (a malformed grid or result falls back to this too).
  nlohmann::json out = nlohmann::json::object();
  const google::protobuf::Descriptor* d = message.GetDescriptor();
  const google::protobuf::Reflection* r = message.GetReflection();
  for (int i = 0; i < d->field_count(); ++i) {
    const FD* f = d->field(i);
    const bool is_message = f->cpp_type() == FD::CPPTYPE_MESSAGE;
    if (f->is_repeated()) {
      nlohmann::json items = nlohmann::json::array();
      for (int k = 0; k < r->FieldSize(message, f); ++k) {
        items.push_back(is_message ? MessageToJson(r->GetRepeatedMessage(message, f, k))
                                   : ScalarJson(message, f, k));
      }
      out[f->name()] = std::move(items);
    } else if (f->has_presence() && !r->HasField(message, f)) {
      continue;
    } else {
      out[f->name()] =
          is_message ? MessageToJson(r->GetMessage(message, f)) : ScalarJson(message, f, -1);
    }
  }
  return out;
}

std::string ToJson(const google::protobuf::Message& message) {
  return JsonText(MessageToJson(message));
}

}  // namespace arc::client
