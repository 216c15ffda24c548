#include "server/proto_conversion.h"

#include <cmath>
#include <set>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/model/lora.h"
#include "core/data/status_macros.h"
#include "core/data/task_io.h"
#include "core/solve/views.h"

namespace arc::server {
namespace {

absl::Status Invalid(const std::string& path, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(path, ": ", what));
}

// A field's value against its valid range [lo, hi] and, when `limit` is given, the server limit
// (which wins over hi when lower). Doubles print in their shortest form (absl::StrCat).
template <typename T>
absl::Status CheckRange(const std::string& path, T value, T lo, T hi,
                        std::optional<T> limit = std::nullopt) {
  if constexpr (std::is_floating_point_v<T>) {
    if (!std::isfinite(value)) return Invalid(path, absl::StrCat(value, " is not a finite number"));
  }
  if (limit && value > *limit && *limit <= hi && value >= lo) {
    return Invalid(path, absl::StrCat(value, " is above the server limit ", *limit));
  }
  const T top = limit ? std::min(hi, *limit) : hi;
  if (value < lo || value > top) {
    return Invalid(path, absl::StrCat(value, " is outside ", lo, "..", top));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Dihedral>> TransformsFromProto(v1::ViewTransforms t,
                                                          const std::vector<Dihedral>& fallback) {
  switch (t) {
    case v1::VIEW_TRANSFORMS_UNSPECIFIED:
      return fallback;
    case v1::VIEW_TRANSFORMS_PAPER:
      return PaperViewTransforms();
    case v1::VIEW_TRANSFORMS_ALL:
      return AllViewTransforms();
    case v1::VIEW_TRANSFORMS_NONE:
      return std::vector<Dihedral>{};
    default:
      return Invalid("options.inference.transforms",
                     absl::StrCat(static_cast<int>(t), " is not a ViewTransforms value"));
  }
}

v1::ViewTransforms TransformsToProto(const std::vector<Dihedral>& transforms) {
  if (transforms.empty()) return v1::VIEW_TRANSFORMS_NONE;
  if (transforms == PaperViewTransforms()) return v1::VIEW_TRANSFORMS_PAPER;
  if (transforms == AllViewTransforms()) return v1::VIEW_TRANSFORMS_ALL;
  return v1::VIEW_TRANSFORMS_UNSPECIFIED;  // a custom list (not expressible in the proto)
}

absl::StatusOr<SelectionMode> SelectionFromProto(v1::SelectionMode m, SelectionMode fallback) {
  switch (m) {
    case v1::SELECTION_MODE_UNSPECIFIED:
      return fallback;
    case v1::SELECTION_MODE_VOTE:
      return SelectionMode::kVote;
    case v1::SELECTION_MODE_MAJORITY:
      return SelectionMode::kMajority;
    case v1::SELECTION_MODE_POE:
      return SelectionMode::kPoe;
    case v1::SELECTION_MODE_VOTES_THEN_POE:
      return SelectionMode::kVotesThenPoe;
    default:
      return Invalid("options.selection",
                     absl::StrCat(static_cast<int>(m), " is not a SelectionMode value"));
  }
}

v1::SelectionMode SelectionToProto(SelectionMode m) {
  switch (m) {
    case SelectionMode::kVote:
      return v1::SELECTION_MODE_VOTE;
    case SelectionMode::kMajority:
      return v1::SELECTION_MODE_MAJORITY;
    case SelectionMode::kPoe:
      return v1::SELECTION_MODE_POE;
    case SelectionMode::kVotesThenPoe:
      return v1::SELECTION_MODE_VOTES_THEN_POE;
  }
  return v1::SELECTION_MODE_UNSPECIFIED;
}

absl::Status ApplyTtt(const v1::TttOptions& t, const OptionLimits& limits, SolveOptions& o) {
  const std::string p = "options.ttt_options.";
  if (t.has_max_samples()) {
    ARC_RETURN_IF_ERROR(
        CheckRange<int64_t>(p + "max_samples", t.max_samples(), 1, 100000, limits.ttt_samples));
    o.ttt_data.max_samples = t.max_samples();
  }
  if (t.has_permute_n()) {
    ARC_RETURN_IF_ERROR(CheckRange<int64_t>(p + "permute_n", t.permute_n(), 0, 8));
    o.ttt_data.permute_n = t.permute_n();
  }
  if (t.has_augment()) o.ttt_data.augment = t.augment();
  if (t.has_leave_two_top_up()) o.ttt_data.leave_two_top_up = t.leave_two_top_up();
  switch (t.loss_mask()) {
    case v1::LOSS_MASK_UNSPECIFIED:
      break;
    case v1::LOSS_MASK_OUTPUTS_AFTER_FIRST:
      o.loss_mask = LossMaskMode::kOutputsAfterFirst;
      break;
    case v1::LOSS_MASK_ANSWER_ONLY:
      o.loss_mask = LossMaskMode::kAnswerOnly;
      break;
    default:
      return Invalid(p + "loss_mask",
                     absl::StrCat(static_cast<int>(t.loss_mask()), " is not a LossMask value"));
  }
  if (t.has_learning_rate()) {
    ARC_RETURN_IF_ERROR(CheckRange<double>(p + "learning_rate", t.learning_rate(), 0, 1));
    o.train.learning_rate = t.learning_rate();
  }
  if (t.has_weight_decay()) {
    ARC_RETURN_IF_ERROR(CheckRange<double>(p + "weight_decay", t.weight_decay(), 0, 10));
    o.train.weight_decay = t.weight_decay();
  }
  if (t.has_batch_size()) {
    ARC_RETURN_IF_ERROR(
        CheckRange<int64_t>(p + "batch_size", t.batch_size(), 1, 256, limits.ttt_batch_size));
    o.train.batch_size = t.batch_size();
  }
  if (t.has_grad_accum()) {
    ARC_RETURN_IF_ERROR(CheckRange<int64_t>(p + "grad_accum", t.grad_accum(), 1, 64));
    o.train.grad_accum = t.grad_accum();
  }
  if (t.has_epochs()) {
    ARC_RETURN_IF_ERROR(CheckRange<int64_t>(p + "epochs", t.epochs(), 1, 100));
    o.train.epochs = t.epochs();
  }
  if (t.has_max_steps()) {
    ARC_RETURN_IF_ERROR(
        CheckRange<int64_t>(p + "max_steps", t.max_steps(), 0, 1000000, limits.ttt_steps));
    o.train.max_steps = t.max_steps();
  }
  if (t.has_warmup_fraction()) {
    ARC_RETURN_IF_ERROR(CheckRange<double>(p + "warmup_fraction", t.warmup_fraction(), 0, 1));
    o.train.warmup_fraction = t.warmup_fraction();
  }
  if (t.has_clip_grad_norm()) {
    ARC_RETURN_IF_ERROR(CheckRange<double>(p + "clip_grad_norm", t.clip_grad_norm(), 0, 1e6));
    o.train.clip_grad_norm = t.clip_grad_norm();
  }
  if (t.has_lora_rank()) {
    ARC_RETURN_IF_ERROR(
        CheckRange<int64_t>(p + "lora_rank", t.lora_rank(), 1, 4096, limits.lora_rank));
    o.lora.rank = t.lora_rank();
  }
  if (t.has_lora_alpha()) {
    if (!(t.lora_alpha() > 0) || !std::isfinite(t.lora_alpha()) || t.lora_alpha() > 1e6) {
      return Invalid(p + "lora_alpha", absl::StrCat(t.lora_alpha(), " is outside (0, 1e6]"));
    }
    o.lora.alpha = t.lora_alpha();
  }
  if (t.has_lora_dropout()) {
    if (!(t.lora_dropout() >= 0 && t.lora_dropout() < 1)) {
      return Invalid(p + "lora_dropout", absl::StrCat(t.lora_dropout(), " is outside [0, 1)"));
    }
    o.lora.dropout = t.lora_dropout();
  }
  if (t.lora_targets_size() > 0) {
    std::vector<ProjectionKind> targets;
    std::set<ProjectionKind> seen;
    for (int i = 0; i < t.lora_targets_size(); ++i) {
      const std::string path = absl::StrCat(p, "lora_targets[", i, "]");
      absl::StatusOr<ProjectionKind> kind = ParseProjectionKind(t.lora_targets(i));
      if (!kind.ok()) return Invalid(path, kind.status().message());
      if (!seen.insert(*kind).second) {
        return Invalid(path, absl::StrCat("\"", t.lora_targets(i), "\" is listed twice"));
      }
      targets.push_back(*kind);
    }
    o.lora.targets = std::move(targets);
  }
  return absl::OkStatus();
}

absl::Status ApplyInference(const v1::InferenceOptions& in, const OptionLimits& limits,
                            const TaskLimits& task_limits, SolveOptions& o) {
  const std::string p = "options.inference.";
  if (in.has_leave_out()) {
    ARC_RETURN_IF_ERROR(
        CheckRange<int64_t>(p + "leave_out", in.leave_out(), 0, task_limits.max_train_examples));
    o.views.leave_out = in.leave_out();
  }
  if (in.has_permutations()) {
    ARC_RETURN_IF_ERROR(CheckRange<int64_t>(p + "permutations", in.permutations(), 0, 8));
    o.views.permutations = in.permutations();
  }
  ARC_ASSIGN_OR_RETURN(o.views.transforms,
                       TransformsFromProto(in.transforms(), o.views.transforms));
  if (in.has_batch_size()) {
    ARC_RETURN_IF_ERROR(CheckRange<int64_t>(p + "batch_size", in.batch_size(), 1, 256,
                                            limits.inference_batch_size));
    o.inference.batch_size = in.batch_size();
  }
  if (in.has_max_new_tokens()) {
    ARC_RETURN_IF_ERROR(CheckRange<int64_t>(p + "max_new_tokens", in.max_new_tokens(), 0, 1 << 16,
                                            limits.new_tokens));
    o.inference.max_new_tokens = in.max_new_tokens();
  }
  if (in.has_constrained()) o.inference.constrained = in.constrained();
  return absl::OkStatus();
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
  if (request.has_ttt()) o.ttt = request.ttt();
  if (request.has_seed()) o.seed = request.seed();
  ARC_RETURN_IF_ERROR(ApplyTtt(request.ttt_options(), limits, o));
  ARC_RETURN_IF_ERROR(ApplyInference(request.inference(), limits, TaskLimits{}, o));
  ARC_ASSIGN_OR_RETURN(o.selection.mode, SelectionFromProto(request.selection(), o.selection.mode));
  if (request.has_poe_top_k()) {
    ARC_RETURN_IF_ERROR(CheckRange<int64_t>("options.poe_top_k", request.poe_top_k(), 1, 32));
    o.selection.poe_top_k = request.poe_top_k();
  }
  if (request.has_poe_views()) {
    ARC_RETURN_IF_ERROR(CheckRange<int64_t>("options.poe_views", request.poe_views(), 1, 8));
    o.selection.poe_views = request.poe_views();
  }
  if (request.has_base_attempt()) o.selection.base_attempt = request.base_attempt();
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
  out.set_ttt(o.ttt);
  out.set_seed(o.seed);
  v1::TttOptions* t = out.mutable_ttt_options();
  t->set_max_samples(o.ttt_data.max_samples);
  t->set_permute_n(o.ttt_data.permute_n);
  t->set_augment(o.ttt_data.augment);
  t->set_leave_two_top_up(o.ttt_data.leave_two_top_up);
  t->set_loss_mask(o.loss_mask == LossMaskMode::kAnswerOnly ? v1::LOSS_MASK_ANSWER_ONLY
                                                            : v1::LOSS_MASK_OUTPUTS_AFTER_FIRST);
  t->set_learning_rate(o.train.learning_rate);
  t->set_weight_decay(o.train.weight_decay);
  t->set_batch_size(o.train.batch_size);
  t->set_grad_accum(o.train.grad_accum);
  t->set_epochs(o.train.epochs);
  t->set_max_steps(o.train.max_steps);
  t->set_warmup_fraction(o.train.warmup_fraction);
  t->set_clip_grad_norm(o.train.clip_grad_norm);
  t->set_lora_rank(static_cast<int32_t>(o.lora.rank));
  t->set_lora_alpha(o.lora.alpha);
  t->set_lora_dropout(o.lora.dropout);
  for (ProjectionKind k : o.lora.targets) t->add_lora_targets(ProjectionName(k));
  v1::InferenceOptions* in = out.mutable_inference();
  in->set_leave_out(o.views.leave_out);
  in->set_permutations(o.views.permutations);
  in->set_transforms(TransformsToProto(o.views.transforms));
  in->set_batch_size(o.inference.batch_size);
  in->set_max_new_tokens(o.inference.max_new_tokens);
  in->set_constrained(o.inference.constrained);
  out.set_selection(SelectionToProto(o.selection.mode));
  out.set_poe_top_k(o.selection.poe_top_k);
  out.set_poe_views(o.selection.poe_views);
  out.set_base_attempt(o.selection.base_attempt);
  out.set_include_views(o.include_views);
  return out;
}

std::string DescribeLimits(const OptionLimits& l, const TaskLimits& t) {
  return absl::StrCat(
      "ttt_options.max_steps <= ", l.ttt_steps,
      " (0 = epochs decide, capped there); ttt_options.max_samples <= ", l.ttt_samples,
      "; ttt_options.batch_size <= ", l.ttt_batch_size, "; ttt_options.lora_rank <= ", l.lora_rank,
      "; inference.batch_size <= ", l.inference_batch_size,
      "; inference.max_new_tokens <= ", l.new_tokens, "; views per test input <= ", l.views,
      "; grids <= ", t.max_side, "x", t.max_side, "; demonstrations <= ", t.max_train_examples,
      "; test inputs <= ", t.max_test_inputs);
}

v1::Phase PhaseToProto(SolvePhase phase) {
  switch (phase) {
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
  t->set_base_leave1(r.data_stats.base_leave1);
  t->set_base_leave2(r.data_stats.base_leave2);
  t->set_augmented(r.data_stats.augmented);
  t->set_dropped_oversize(r.data_stats.dropped_oversize);
  t->set_duplicates(r.data_stats.duplicates);
  t->set_dropped_over_tokens(r.data_stats.dropped_over_tokens);
  t->set_selected_leave1(r.data_stats.selected_leave1);
  t->set_selected_leave2(r.data_stats.selected_leave2);
  v1::Timings* tm = out.mutable_timings();
  tm->set_queue_seconds(queue_seconds);
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
