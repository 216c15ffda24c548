#include "server/proto_conversion.h"

#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "core/data/status_macros.h"
#include "core/data/task_io.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"

namespace arc::server {
namespace {

absl::Status Invalid(const std::string& path, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(path, ": ", what));
}

using google::protobuf::EnumDescriptor;
using google::protobuf::EnumValueDescriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

// The SolveOptions <-> proto conversion is driven by the option table (core/solve/option_table.h):
// each row names its field's path in v1::SolveOptions, read and written here by reflection, so a
// new option needs no code in this file. Enum values map to the table's choices by name:
// LOSS_MASK_ANSWER_ONLY is "answer_only" (the enum's name in upper snake case is the prefix).

std::string EnumPrefix(const EnumDescriptor& e) { return ProtoEnumPrefix(e.name()); }

// Walks `path` ("ttt_options.learning_rate") from `message` to the message holding the last
// field and returns that field; MutableLeaf creates the sub-messages on the way.
const FieldDescriptor* Leaf(const std::string& path, const Message*& message) {
  const FieldDescriptor* field = nullptr;
  for (absl::string_view part : absl::StrSplit(path, '.')) {
    if (field != nullptr) message = &message->GetReflection()->GetMessage(*message, field);
    field = message->GetDescriptor()->FindFieldByName(std::string(part));
  }
  return field;
}
const FieldDescriptor* MutableLeaf(const std::string& path, Message*& message) {
  const FieldDescriptor* field = nullptr;
  for (absl::string_view part : absl::StrSplit(path, '.')) {
    if (field != nullptr) message = message->GetReflection()->MutableMessage(message, field);
    field = message->GetDescriptor()->FindFieldByName(std::string(part));
  }
  return field;
}

// The request's value of the option, or nullopt when the request leaves it to the defaults
// (an unset optional field, an enum at 0 = UNSPECIFIED, an empty repeated field).
absl::StatusOr<std::optional<OptionValue>> RequestValue(const v1::SolveOptions& request,
                                                        const SolveOptionSpec& spec,
                                                        const std::string& path) {
  const Message* message = &request;
  const FieldDescriptor* f = Leaf(spec.proto, message);
  const Reflection* r = message->GetReflection();
  if (f->is_repeated()) {
    if (r->FieldSize(*message, f) == 0) return std::nullopt;
    std::vector<std::string> items;
    for (int i = 0; i < r->FieldSize(*message, f); ++i) {
      items.push_back(r->GetRepeatedString(*message, f, i));
    }
    return OptionValue(std::move(items));
  }
  if (f->has_presence() && !r->HasField(*message, f)) return std::nullopt;
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_BOOL:
      return OptionValue(r->GetBool(*message, f));
    case FieldDescriptor::CPPTYPE_INT32:
      return OptionValue(int64_t{r->GetInt32(*message, f)});
    case FieldDescriptor::CPPTYPE_UINT64:
      return OptionValue(r->GetUInt64(*message, f));
    case FieldDescriptor::CPPTYPE_DOUBLE:
      return OptionValue(r->GetDouble(*message, f));
    case FieldDescriptor::CPPTYPE_ENUM: {
      const int number = r->GetEnumValue(*message, f);
      if (number == 0) return std::nullopt;
      const EnumValueDescriptor* v = f->enum_type()->FindValueByNumber(number);
      if (v == nullptr) {
        return Invalid(path, absl::StrCat(number, " is not a ", f->enum_type()->name(), " value"));
      }
      return OptionValue(absl::AsciiStrToLower(
          absl::StripPrefix(v->name(), EnumPrefix(*f->enum_type()))));
    }
    default:
      break;
  }
  return absl::InternalError(absl::StrCat(path, ": no conversion for the proto field's type"));
}

void SetProtoValue(const SolveOptionSpec& spec, const OptionValue& value, v1::SolveOptions& out) {
  Message* message = &out;
  const FieldDescriptor* f = MutableLeaf(spec.proto, message);
  const Reflection* r = message->GetReflection();
  switch (spec.kind) {
    case OptionKind::kBool:
      r->SetBool(message, f, std::get<bool>(value));
      break;
    case OptionKind::kInt:
      r->SetInt32(message, f, static_cast<int32_t>(std::get<int64_t>(value)));
      break;
    case OptionKind::kUint:
      r->SetUInt64(message, f, std::get<uint64_t>(value));
      break;
    case OptionKind::kDouble:
      r->SetDouble(message, f, std::get<double>(value));
      break;
    case OptionKind::kChoice: {
      // A value no enum names (a custom transform list) goes out as UNSPECIFIED.
      const EnumValueDescriptor* v = f->enum_type()->FindValueByName(
          EnumPrefix(*f->enum_type()) + absl::AsciiStrToUpper(std::get<std::string>(value)));
      r->SetEnumValue(message, f, v == nullptr ? 0 : v->number());
      break;
    }
    case OptionKind::kList:
      r->ClearField(message, f);
      for (const std::string& item : std::get<std::vector<std::string>>(value)) {
        r->AddString(message, f, item);
      }
      break;
  }
}

}  // namespace

absl::StatusOr<Grid> GridFromProto(const v1::Grid& grid, const std::string& path,
                                   const TaskLimits& limits) {
  if (grid.rows_size() == 0) return Invalid(path, "empty grid");
  if (grid.rows_size() > limits.max_side) {
    return Invalid(path, absl::StrCat(grid.rows_size(), " rows, limit ", limits.max_side));
  }
  const size_t width = grid.rows(0).size();
  if (width == 0) return Invalid(absl::StrCat(path, ".rows[0]"), "empty row");
  if (static_cast<int64_t>(width) > limits.max_side) {
    return Invalid(path, absl::StrCat(width, " columns, limit ", limits.max_side));
  }
  Grid g(grid.rows_size(), static_cast<int>(width));
  for (int r = 0; r < grid.rows_size(); ++r) {
    const std::string& row = grid.rows(r);
    if (row.size() != width) {
      return Invalid(path,
                     absl::StrCat("row ", r, " has ", row.size(), " cells, expected ", width));
    }
    for (size_t c = 0; c < width; ++c) {
      const char ch = row[c];
      if (ch < '0' || ch > '9') {
        return Invalid(absl::StrCat(path, ".rows[", r, "]"),
                       absl::StrCat("character ", c, " is not a colour digit 0..9"));
      }
      g.set(r, static_cast<int>(c), static_cast<uint8_t>(ch - '0'));
    }
  }
  return g;
}

v1::Grid GridToProto(const Grid& grid) {
  v1::Grid out;
  for (int r = 0; r < grid.rows(); ++r) {
    std::string row(static_cast<size_t>(grid.cols()), '0');
    for (int c = 0; c < grid.cols(); ++c) row[c] = static_cast<char>('0' + grid.at(r, c));
    out.add_rows(std::move(row));
  }
  return out;
}

absl::StatusOr<Task> TaskFromRequest(const v1::SolveRequest& request, const TaskLimits& limits) {
  switch (request.source_case()) {
    case v1::SolveRequest::kTaskJson: {
      absl::StatusOr<Task> task = ParseTaskJson(request.task_json(), request.task_id(), limits);
      if (!task.ok()) {
        return absl::InvalidArgumentError(absl::StrCat("task_json: ", task.status().message()));
      }
      return task;
    }
    case v1::SolveRequest::kTask: {
      const v1::Task& t = request.task();
      // Counts first, so that a huge list is refused before any grid is converted.
      if (t.train_size() > limits.max_train_examples) {
        return Invalid("task.train", absl::StrCat(t.train_size(), " demonstrations, limit ",
                                                  limits.max_train_examples));
      }
      if (t.test_size() > limits.max_test_inputs) {
        return Invalid("task.test",
                       absl::StrCat(t.test_size(), " test inputs, limit ", limits.max_test_inputs));
      }
      Task task;
      task.id = request.task_id();
      for (int i = 0; i < t.train_size(); ++i) {
        const std::string p = absl::StrCat("task.train[", i, "]");
        if (!t.train(i).has_input()) return Invalid(p + ".input", "required");
        if (!t.train(i).has_output()) return Invalid(p + ".output", "required");
        ARC_ASSIGN_OR_RETURN(Grid in, GridFromProto(t.train(i).input(), p + ".input", limits));
        ARC_ASSIGN_OR_RETURN(Grid out, GridFromProto(t.train(i).output(), p + ".output", limits));
        task.train.push_back({std::move(in), std::move(out)});
      }
      for (int i = 0; i < t.test_size(); ++i) {
        const std::string p = absl::StrCat("task.test[", i, "]");
        if (!t.test(i).has_input()) return Invalid(p + ".input", "required");
        TestCase tc;
        ARC_ASSIGN_OR_RETURN(tc.input, GridFromProto(t.test(i).input(), p + ".input", limits));
        if (t.test(i).has_output()) {
          ARC_ASSIGN_OR_RETURN(tc.output, GridFromProto(t.test(i).output(), p + ".output", limits));
        }
        task.test.push_back(std::move(tc));
      }
      // Counts at the low end and anything else ValidateTask knows, with its paths under "task.".
      if (absl::Status s = ValidateTask(task, limits); !s.ok()) {
        return absl::InvalidArgumentError(absl::StrCat("task.", s.message()));
      }
      return task;
    }
    case v1::SolveRequest::SOURCE_NOT_SET:
      break;
  }
  return absl::InvalidArgumentError("task: required (set task or task_json)");
}

v1::Task TaskToProto(const Task& task) {
  v1::Task out;
  for (const Example& e : task.train) {
    v1::Example* x = out.add_train();
    *x->mutable_input() = GridToProto(e.input);
    *x->mutable_output() = GridToProto(e.output);
  }
  for (const TestCase& tc : task.test) {
    v1::TestInput* x = out.add_test();
    *x->mutable_input() = GridToProto(tc.input);
    if (tc.output) *x->mutable_output() = GridToProto(*tc.output);
  }
  return out;
}

absl::StatusOr<SolveOptions> ResolveSolveOptions(const v1::SolveOptions& request,
                                                 const SolveOptions& defaults,
                                                 const OptionLimits& limits) {
  SolveOptions o = defaults;
  for (const SolveOption& option : SolveOptionTable()) {
    if (*option.spec.proto == '\0') continue;  // not per request (e.g. full_finetune)
    const std::string path = absl::StrCat("options.", option.spec.proto);
    ARC_ASSIGN_OR_RETURN(std::optional<OptionValue> value,
                         RequestValue(request, option.spec, path));
    if (!value) continue;
    ARC_RETURN_IF_ERROR(
        CheckOptionValue(option.spec, *value, path, OptionLimit(limits, option.spec.name)));
    option.put(*value, o);
  }
  o.include_views = request.include_views();

  // The server's budget holds whatever the request says: "epochs decide" still stops at the step
  // limit, and no test input decodes more views than the limit.
  if (o.train.max_steps == 0 || o.train.max_steps > limits.ttt_steps) {
    o.train.max_steps = limits.ttt_steps;
  }
  o.views.max_views = std::min(o.views.max_views, limits.views);
  // A backstop for anything the per-field checks above do not cover (e.g. combinations).
  if (absl::Status s = ValidateSolveOptions(o); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("options: ", s.message()));
  }
  return o;
}

v1::SolveOptions SolveOptionsToProto(const SolveOptions& o) {
  v1::SolveOptions out;
  for (const SolveOption& option : SolveOptionTable()) {
    if (*option.spec.proto != '\0') SetProtoValue(option.spec, option.get(o), out);
  }
  out.set_include_views(o.include_views);
  return out;
}

std::string DescribeLimits(const OptionLimits& l, const TaskLimits& t) {
  return absl::StrCat(
      "ttt_options.max_steps <= ", l.ttt_steps,
      " (0 = epochs decide, capped there); ttt_options.max_samples <= ", l.ttt_samples,
      "; ttt_options.batch_size <= ", l.ttt_batch_size, "; ttt_options.lora_rank <= ", l.lora_rank,
      "; inference.batch_size <= ", l.inference_batch_size,
      "; inference.max_new_tokens <= ", l.new_tokens, "; search.work_millions <= ", l.search_work,
      "; views per test input <= ", l.views,
      "; grids <= ", t.max_side, "x", t.max_side, "; demonstrations <= ", t.max_train_examples,
      "; test inputs <= ", t.max_test_inputs);
}

v1::Phase PhaseToProto(SolvePhase phase) {
  switch (phase) {
    case SolvePhase::kSearch:
      return v1::PHASE_SEARCH;
    case SolvePhase::kTttData:
      return v1::PHASE_TTT_DATA;
    case SolvePhase::kTttTrain:
      return v1::PHASE_TTT_TRAIN;
    case SolvePhase::kInference:
      return v1::PHASE_INFERENCE;
    case SolvePhase::kSelection:
      return v1::PHASE_SELECTION;
  }
  return v1::PHASE_UNSPECIFIED;
}

v1::SolveResponse ResultToProto(const SolveResult& r, const std::string& job_id,
                                double queue_seconds, double total_seconds) {
  v1::SolveResponse out;
  out.set_job_id(job_id);
  out.set_task_id(r.task_id);
  out.set_task_hash(r.task_hash);
  for (size_t i = 0; i < r.tests.size(); ++i) {
    const TestResult& tr = r.tests[i];
    v1::TestPrediction* p = out.add_predictions();
    const Attempts attempts = r.AttemptsFor(static_cast<int>(i));
    *p->mutable_attempt_1() = GridToProto(attempts.attempt_1);
    *p->mutable_attempt_2() = GridToProto(attempts.attempt_2);
    for (const Candidate& c : tr.candidates) {
      v1::Candidate* pc = p->add_candidates();
      *pc->mutable_grid() = GridToProto(c.grid);
      pc->set_votes(c.votes);
      pc->set_score(c.score);
      for (const std::string& v : c.views) pc->add_views(v);
      pc->set_expert(c.expert);
      pc->set_program(c.program);
      pc->set_explained(c.explained);
    }
    p->set_num_views(tr.num_views);
    p->set_invalid_outputs(tr.invalid_outputs);
    p->set_leave_out(tr.leave_out);
    for (const ViewPrediction& vp : tr.views) {
      v1::ViewPrediction* pv = p->add_views();
      pv->set_view(vp.view);
      pv->set_category(vp.category);
      pv->set_valid(vp.valid);
      if (vp.valid) *pv->mutable_output() = GridToProto(vp.output);
      pv->set_error(vp.error);
    }
  }
  v1::TttStats* t = out.mutable_ttt();
  t->set_enabled(r.ttt);
  t->set_samples(r.train_stats.samples);
  t->set_steps(r.train_stats.steps);
  t->set_first_loss(r.train_stats.first_loss);
  t->set_last_loss(r.train_stats.last_loss);
  t->set_tokens(r.train_stats.tokens);
  t->mutable_losses()->Add(r.train_stats.losses.begin(), r.train_stats.losses.end());
  t->set_base_leave1(r.data_stats.base_leave1);
  t->set_base_leave2(r.data_stats.base_leave2);
  t->set_augmented(r.data_stats.augmented);
  t->set_dropped_oversize(r.data_stats.dropped_oversize);
  t->set_duplicates(r.data_stats.duplicates);
  t->set_dropped_over_tokens(r.data_stats.dropped_over_tokens);
  t->set_selected_leave1(r.data_stats.selected_leave1);
  t->set_selected_leave2(r.data_stats.selected_leave2);
  v1::SearchStats* st = out.mutable_search();
  st->set_enabled(r.search.enabled);
  st->set_explained(r.search.explained);
  st->set_programs(r.search.programs);
  st->set_nodes(r.search.nodes);
  st->set_depth_completed(r.search.depth_completed);
  st->set_stopped_by_deadline(r.search.stopped_by_deadline);
  st->set_ttt_skipped(r.search.ttt_skipped);
  st->set_ttt_skipped_because(r.search.ttt_skipped_because);
  v1::Timings* tm = out.mutable_timings();
  tm->set_queue_seconds(queue_seconds);
  tm->set_search_seconds(r.seconds.search);
  tm->set_ttt_data_seconds(r.seconds.ttt_data);
  tm->set_ttt_train_seconds(r.seconds.ttt_train);
  tm->set_inference_seconds(r.seconds.inference);
  tm->set_selection_seconds(r.seconds.selection);
  tm->set_total_seconds(total_seconds);
  out.set_prompt_tokens(r.prompt_tokens);
  out.set_generated_tokens(r.generated_tokens);
  return out;
}

}  // namespace arc::server
