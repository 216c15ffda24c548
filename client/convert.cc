#include "client/convert.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "core/data/enum_names.h"

namespace arc::client {
namespace {

absl::Status Invalid(const std::string& path, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(path, ": ", what));
}

}  // namespace

v1::Grid GridToProto(const Grid& grid) {
  v1::Grid out;
  for (int r = 0; r < grid.rows(); ++r) {
    std::string* row = out.add_rows();
    row->reserve(static_cast<size_t>(grid.cols()));
    for (int c = 0; c < grid.cols(); ++c) row->push_back(static_cast<char>('0' + grid.at(r, c)));
  }
  return out;
}

absl::StatusOr<Grid> GridFromProto(const v1::Grid& grid, const std::string& path) {
  if (grid.rows_size() == 0) return Invalid(path, "empty grid");
  const size_t width = grid.rows(0).size();
  for (int r = 0; r < grid.rows_size(); ++r) {
    const std::string& row = grid.rows(r);
    if (row.empty()) return Invalid(absl::StrCat(path, ".rows[", r, "]"), "empty row");
    if (row.size() != width) {
      return Invalid(path,
                     absl::StrCat("row ", r, " has ", row.size(), " cells, expected ", width));
    }
  }
  // Sizes are checked before cells so that a ragged grid is reported as such even when it also
  // holds a bad digit further on.
  Grid out(grid.rows_size(), static_cast<int>(width));
  for (int r = 0; r < grid.rows_size(); ++r) {
    const std::string& row = grid.rows(r);
    for (size_t c = 0; c < width; ++c) {
      const char ch = row[c];
      if (ch < '0' || ch > '9') {
        const std::string shown =
            absl::ascii_isprint(static_cast<unsigned char>(ch))
                ? std::string(1, ch)
                : absl::StrCat("\\x", absl::Hex(static_cast<unsigned char>(ch), absl::kZeroPad2));
        return Invalid(absl::StrCat(path, ".rows[", r, "][", c, "]"),
                       absl::StrCat("'", shown, "' is not a colour digit 0..9"));
      }
      out.set(r, static_cast<int>(c), static_cast<uint8_t>(ch - '0'));
    }
  }
  return out;
}

v1::Task TaskToProto(const Task& task) {
  v1::Task out;
  for (const Example& e : task.train) {
    v1::Example* x = out.add_train();
    *x->mutable_input() = GridToProto(e.input);
    *x->mutable_output() = GridToProto(e.output);
  }
  for (const TestCase& t : task.test) {
    v1::TestInput* x = out.add_test();
    *x->mutable_input() = GridToProto(t.input);
    if (t.output) *x->mutable_output() = GridToProto(*t.output);
  }
  return out;
}

absl::StatusOr<Task> TaskFromProto(const v1::Task& task, std::string id, const TaskLimits& limits) {
  Task out;
  out.id = std::move(id);
  for (int i = 0; i < task.train_size(); ++i) {
    const std::string p = absl::StrCat("train[", i, "]");
    Example e;
    auto in = GridFromProto(task.train(i).input(), p + ".input");
    if (!in.ok()) return in.status();
    auto o = GridFromProto(task.train(i).output(), p + ".output");
    if (!o.ok()) return o.status();
    e.input = *std::move(in);
    e.output = *std::move(o);
    out.train.push_back(std::move(e));
  }
  for (int i = 0; i < task.test_size(); ++i) {
    const std::string p = absl::StrCat("test[", i, "]");
    TestCase t;
    auto in = GridFromProto(task.test(i).input(), p + ".input");
    if (!in.ok()) return in.status();
    t.input = *std::move(in);
    if (task.test(i).has_output()) {
      auto o = GridFromProto(task.test(i).output(), p + ".output");
      if (!o.ok()) return o.status();
      t.output = *std::move(o);
    }
    out.test.push_back(std::move(t));
  }
  if (absl::Status s = ValidateTask(out, limits); !s.ok()) return s;
  return out;
}

absl::StatusOr<std::vector<Attempts>> AttemptsFromResponse(const v1::SolveResponse& response,
                                                           int num_tests) {
  std::vector<Attempts> out(static_cast<size_t>(num_tests), Attempts{Grid(1, 1), Grid(1, 1)});
  for (int i = 0; i < response.predictions_size() && i < num_tests; ++i) {
    const v1::TestPrediction& p = response.predictions(i);
    const std::string path = absl::StrCat("predictions[", i, "]");
    if (p.has_attempt_1() && p.attempt_1().rows_size() > 0) {
      auto g = GridFromProto(p.attempt_1(), path + ".attempt_1");
      if (!g.ok()) return g.status();
      out[static_cast<size_t>(i)].attempt_1 = *std::move(g);
    }
    if (p.has_attempt_2() && p.attempt_2().rows_size() > 0) {
      auto g = GridFromProto(p.attempt_2(), path + ".attempt_2");
      if (!g.ok()) return g.status();
      out[static_cast<size_t>(i)].attempt_2 = *std::move(g);
    }
  }
  return out;
}

namespace {

absl::StatusOr<TestResult> TestResultFromProto(const v1::TestPrediction& p, const std::string& path) {
  TestResult out;
  for (int c = 0; c < p.candidates_size(); ++c) {
    const v1::Candidate& pc = p.candidates(c);
    absl::StatusOr<Grid> grid = GridFromProto(pc.grid(), absl::StrCat(path, ".candidates[", c, "].grid"));
    if (!grid.ok()) return grid.status();
    Candidate candidate;
    candidate.grid = *std::move(grid);
    candidate.votes = pc.votes();
    candidate.views.assign(pc.views().begin(), pc.views().end());
    candidate.score = pc.score();
    candidate.expert = pc.expert();
    candidate.program = pc.program();
    candidate.explained = pc.explained();
    out.candidates.push_back(std::move(candidate));
  }
  out.num_views = p.num_views();
  out.invalid_outputs = p.invalid_outputs();
  out.leave_out = p.leave_out();
  for (int v = 0; v < p.views_size(); ++v) {
    const v1::ViewPrediction& pv = p.views(v);
    ViewPrediction view{pv.view(), pv.category(), pv.valid(), Grid(), pv.error()};
    if (pv.valid()) {
      absl::StatusOr<Grid> grid = GridFromProto(pv.output(), absl::StrCat(path, ".views[", v, "].output"));
      if (!grid.ok()) return grid.status();
      view.output = *std::move(grid);
    }
    out.views.push_back(std::move(view));
  }
  return out;
}

}  // namespace

absl::StatusOr<SolveResult> SolveResultFromResponse(const v1::SolveResponse& response) {
  SolveResult out;
  out.task_id = response.task_id();
  out.task_hash = response.task_hash();
  for (int i = 0; i < response.predictions_size(); ++i) {
    absl::StatusOr<TestResult> test =
        TestResultFromProto(response.predictions(i), absl::StrCat("predictions[", i, "]"));
    if (!test.ok()) return test.status();
    out.tests.push_back(*std::move(test));
  }
  const v1::TttStats& t = response.ttt();
  out.ttt = t.enabled();
  out.train_stats = {t.samples(), t.steps(), t.first_loss(), t.last_loss(), t.tokens(),
                     std::vector<float>(t.losses().begin(), t.losses().end())};
  out.data_stats = {t.base_leave1(),         t.base_leave2(),     t.augmented(),
                    t.dropped_oversize(),    t.duplicates(),      t.dropped_over_tokens(),
                    t.selected_leave1(),     t.selected_leave2()};
  const v1::SearchStats& st = response.search();
  out.search = {st.enabled(),         st.explained(),           st.programs(),  st.nodes(),
                st.depth_completed(), st.stopped_by_deadline(), st.ttt_skipped(),
                st.ttt_skipped_because()};
  const v1::Timings& tm = response.timings();
  out.seconds = {tm.search_seconds(), tm.ttt_data_seconds(), tm.ttt_train_seconds(),
                 tm.inference_seconds(), tm.selection_seconds()};
  out.prompt_tokens = response.prompt_tokens();
  out.generated_tokens = response.generated_tokens();
  return out;
}

namespace {

// Lower-case names for the CLI (--state filters, tables); proto enum names are accepted too.
constexpr EnumName<v1::JobState> kJobStates[] = {
    {v1::JOB_STATE_QUEUED, "queued"},       {v1::JOB_STATE_RUNNING, "running"},
    {v1::JOB_STATE_SUCCEEDED, "succeeded"}, {v1::JOB_STATE_FAILED, "failed"},
    {v1::JOB_STATE_CANCELLED, "cancelled"},
};

constexpr EnumName<v1::Phase> kPhases[] = {
    {v1::PHASE_QUEUED, "queued"},       {v1::PHASE_TTT_DATA, "ttt_data"},
    {v1::PHASE_TTT_TRAIN, "ttt_train"}, {v1::PHASE_INFERENCE, "inference"},
    {v1::PHASE_SELECTION, "selection"}, {v1::PHASE_SEARCH, "search"},
    {v1::PHASE_DONE, "done"},
};

}  // namespace

std::string JobStateName(v1::JobState state) { return NameOf(kJobStates, state, "unspecified"); }

absl::StatusOr<v1::JobState> ParseJobState(absl::string_view name) {
  const std::string lower = absl::AsciiStrToLower(name);
  for (const EnumName<v1::JobState>& s : kJobStates) {
    if (lower == s.name || name == v1::JobState_Name(s.value)) return s.value;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("--state: \"", name, "\" is not one of ", NameList(kJobStates)));
}

std::string PhaseName(v1::Phase phase) { return NameOf(kPhases, phase, "unspecified"); }

std::string StatusCodeName(int code) {
  static const char* const kNames[] = {"OK",
                                       "CANCELLED",
                                       "UNKNOWN",
                                       "INVALID_ARGUMENT",
                                       "DEADLINE_EXCEEDED",
                                       "NOT_FOUND",
                                       "ALREADY_EXISTS",
                                       "PERMISSION_DENIED",
                                       "RESOURCE_EXHAUSTED",
                                       "FAILED_PRECONDITION",
                                       "ABORTED",
                                       "OUT_OF_RANGE",
                                       "UNIMPLEMENTED",
                                       "INTERNAL",
                                       "UNAVAILABLE",
                                       "DATA_LOSS",
                                       "UNAUTHENTICATED"};
  if (code >= 0 && code < static_cast<int>(sizeof(kNames) / sizeof(kNames[0]))) {
    return kNames[code];
  }
  return absl::StrCat("CODE_", code);
}

}  // namespace arc::client
