#include "train/pretrainer.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <chrono>
#include <map>

#include "absl/strings/str_cat.h"
#include "core/data/rng.h"
#include "core/data/status_macros.h"
#include "core/model/tensor_io.h"
#include "nlohmann/json.hpp"
#include "train/length_batches.h"
#include "core/data/range_check.h"

namespace arc {
namespace {

using Json = nlohmann::json;

absl::Status Prefixed(const absl::Status& s, absl::string_view prefix) {
  if (s.ok()) return s;
  return absl::Status(s.code(), absl::StrCat(prefix, ": ", s.message()));
}

}  // namespace

absl::Status ValidatePretrainOptions(const PretrainOptions& o, int max_seq_len) {
  if (o.batch_tokens < max_seq_len) {
    return absl::InvalidArgumentError(absl::StrCat("batch_tokens: ", o.batch_tokens,
                                                   " is below max_seq_len ", max_seq_len,
                                                   "; a longest sample must fit one batch"));
  }
  ARC_RETURN_IF_ERROR(CheckRange("shuffle_window", o.shuffle_window, 1, 1000000));
  ARC_RETURN_IF_ERROR(CheckRange("learning_rate", o.schedule.peak, 0, 1));
  ARC_RETURN_IF_ERROR(CheckRange("warmup_steps", o.schedule.warmup_steps, 0, 1e9));
  ARC_RETURN_IF_ERROR(CheckRange("min_lr_ratio", o.schedule.min_ratio, 0, 1));
  ARC_RETURN_IF_ERROR(CheckRange("beta1", o.adamw.beta1, 0, 0.999999));
  ARC_RETURN_IF_ERROR(CheckRange("beta2", o.adamw.beta2, 0, 0.999999));
  ARC_RETURN_IF_ERROR(CheckRange("adam_eps", o.adamw.eps, 1e-12, 1));
  ARC_RETURN_IF_ERROR(CheckRange("weight_decay", o.adamw.weight_decay, 0, 10));
  ARC_RETURN_IF_ERROR(CheckRange("clip", o.clip, 0, 1e6));
  ARC_RETURN_IF_ERROR(CheckRange("max_steps", o.max_steps, 0, 1e15));
  ARC_RETURN_IF_ERROR(CheckRange("max_tokens", o.max_tokens, 0, 1e18));
  ARC_RETURN_IF_ERROR(CheckRange("max_minutes", o.max_minutes, 0, 1e9));
  if (o.max_steps == 0 && o.max_tokens == 0 && o.max_minutes == 0) {
    return absl::InvalidArgumentError("no budget: set max_steps, max_tokens or max_minutes");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Pretrainer>> Pretrainer::Create(
    std::shared_ptr<const ArcModel> model, std::shared_ptr<const PretrainData> data,
    PretrainOptions options) {
  if (model == nullptr || data == nullptr) {
    return absl::InvalidArgumentError("pretrainer: model and data are required");
  }
  ARC_RETURN_IF_ERROR(ValidatePretrainOptions(options, data->options().max_seq_len));
  if (model->format->name() != data->format().name() ||
      model->tokenizer->vocab_size() != data->format().tokenizer().vocab_size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("pretrainer: the model's format \"", std::string(model->format->name()),
                     "\" is not the data's \"", std::string(data->format().name()), "\""));
  }
  if (model->MaxSequenceLength() < data->options().max_seq_len) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_seq_len: ", data->options().max_seq_len, " exceeds the model's context ",
                     model->MaxSequenceLength(), " (max_position_embeddings)"));
  }
  std::map<std::string, at::Tensor> params = model->net->StateDict();
  for (auto& [name, p] : params) p.set_requires_grad(true);
  AdamW optimizer(params, options.adamw);
  return std::unique_ptr<Pretrainer>(
      new Pretrainer(std::move(model), std::move(data), std::move(options), std::move(optimizer)));
}

double Pretrainer::Progress() const {
  double p = 0;
  if (options_.max_steps > 0)
    p = std::max(p, static_cast<double>(state_.step) / options_.max_steps);
  if (options_.max_tokens > 0) {
    p = std::max(p, static_cast<double>(state_.tokens) / static_cast<double>(options_.max_tokens));
  }
  if (options_.max_minutes > 0) p = std::max(p, state_.seconds / (60.0 * options_.max_minutes));
  return std::min(p, 1.0);
}

void Pretrainer::LoadChunk() {
  const int64_t window = options_.shuffle_window;
  std::vector<PretrainSample> samples;
  samples.reserve(static_cast<size_t>(window));
  for (int64_t i = state_.chunk * window; i < (state_.chunk + 1) * window; ++i) {
    std::optional<PretrainSample> s = data_->SampleAt(i);
    if (s.has_value()) samples.push_back(std::move(*s));
  }
  std::vector<int> lengths;
  for (const PretrainSample& s : samples) lengths.push_back(static_cast<int>(s.prompt.ids.size()));
  // Lengths are at most max_seq_len <= batch_tokens (checked in Create), so this cannot fail.
  std::vector<std::vector<int>> groups = MakeLengthBatches(lengths, options_.batch_tokens).value();
  // Sorted batches come longest first; shuffle their order so the step-to-step length (and the
  // gradient noise that goes with it) does not drift within a chunk.
  Rng order_rng = Rng(data_->options().seed).Fork(kBatchOrderStream).Fork(state_.chunk);
  order_rng.Shuffle(groups);
  chunk_batches_.clear();
  for (const std::vector<int>& g : groups) {
    std::vector<PretrainSample> batch;
    for (int i : g) batch.push_back(samples[i]);
    chunk_batches_.push_back(std::move(batch));
  }
  loaded_chunk_ = state_.chunk;
}

absl::StatusOr<StepStats> Pretrainer::Step() {
  const auto start = std::chrono::steady_clock::now();
  if (loaded_chunk_ != state_.chunk) LoadChunk();
  while (state_.batch_in_chunk >= static_cast<int64_t>(chunk_batches_.size())) {
    ++state_.chunk;
    state_.batch_in_chunk = 0;
    LoadChunk();
    if (chunk_batches_.empty()) {  // not one of shuffle_window samples fits: the data cannot
      return absl::FailedPreconditionError(
          absl::StrCat("no sample of chunk ", state_.chunk, " fits max_seq_len ",
                       data_->options().max_seq_len, " tokens; raise it"));
    }
  }
  const std::vector<PretrainSample>& samples = chunk_batches_[state_.batch_in_chunk];
  std::vector<const RenderedPrompt*> rows;
  int64_t arc_rows = 0, program_rows = 0;
  for (const PretrainSample& s : samples) {
    rows.push_back(&s.prompt);
    arc_rows += s.from_arc;
    program_rows += !s.program.empty();
  }
  std::vector<TrainingBatch> batches;
  batches.push_back(MakeTrainingBatch(rows, data_->format().tokenizer().pad_id()));
  StepStats stats;
  stats.lr = WarmupCosineLearningRate(options_.schedule, state_.step, Progress());
  TrainStepOptions step_options;
  step_options.learning_rate = stats.lr;
  step_options.clip_grad_norm = options_.clip;
  absl::StatusOr<TrainStepResult> r =
      TrainStep(*model_->net, /*adapter=*/nullptr, optimizer_, batches, step_options);
  if (!r.ok()) {
    return absl::Status(r.status().code(), absl::StrCat("training step ", state_.step + 1, ": ",
                                                        r.status().message()));
  }
  stats.loss = r->loss;
  stats.grad_norm = r->grad_norm;
  ++state_.batch_in_chunk;
  ++state_.step;
  stats.step = state_.step;
  stats.rows = static_cast<int64_t>(rows.size());
  stats.tokens = r->real_tokens;
  stats.padded_tokens = r->padded_tokens;
  stats.loss_tokens = r->loss_tokens;
  state_.tokens += stats.tokens;
  state_.padded_tokens += stats.padded_tokens;
  state_.loss_tokens += stats.loss_tokens;
  state_.samples += stats.rows;
  state_.arc_samples += arc_rows;
  state_.program_samples += program_rows;
  stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  state_.seconds += stats.seconds;
  return stats;
}

absl::StatusOr<EvalStats> Pretrainer::Evaluate(const std::vector<RenderedPrompt>& samples) const {
  return EvaluateSamples(*model_->net, samples, options_.batch_tokens,
                         data_->format().tokenizer().pad_id());
}

std::string Pretrainer::TrajectoryOptionsJson() const {
  const PretrainDataOptions& d = data_->options();
  Json curriculum = Json::array();
  for (const CurriculumStage& s : d.curriculum.empty() ? DefaultCurriculum() : d.curriculum) {
    curriculum.push_back({s.num_tasks, s.difficulty.min_side, s.difficulty.max_side,
                          s.difficulty.max_objects, s.difficulty.max_colours});
  }
  Json j = {
      {"seed", d.seed},
      {"arc_fraction", d.arc_fraction},
      {"arc_tasks", data_->num_arc_tasks()},
      {"arc_fingerprint", data_->arc_fingerprint()},
      {"max_seq_len", d.max_seq_len},
      {"min_demonstrations", d.min_demonstrations},
      {"augment_generated", d.augment_generated},
      {"families", d.families.empty() ? TrainingFamilies() : d.families},
      {"curriculum", curriculum},
      {"batch_tokens", options_.batch_tokens},
      {"shuffle_window", options_.shuffle_window},
      {"learning_rate", options_.schedule.peak},
      {"warmup_steps", options_.schedule.warmup_steps},
      {"min_lr_ratio", options_.schedule.min_ratio},
      {"beta1", options_.adamw.beta1},
      {"beta2", options_.adamw.beta2},
      {"adam_eps", options_.adamw.eps},
      {"weight_decay", options_.adamw.weight_decay},
      {"clip", options_.clip},
  };
  // Only when programs are mixed in, so that checkpoints of runs before them still resume.
  if (d.program_fraction > 0) j["program_fraction"] = d.program_fraction;
  return j.dump();
}

absl::StatusOr<std::string> Pretrainer::SaveCheckpoint(const std::string& checkpoint_dir,
                                                       int keep) const {
  CheckpointRecord record;
  record.state = state_;
  record.options_json = TrajectoryOptionsJson();
  record.max_steps = options_.max_steps;
  record.max_tokens = options_.max_tokens;
  record.max_minutes = options_.max_minutes;
  return WriteCheckpoint(checkpoint_dir, keep, *model_, optimizer_.StateTensors(), record);
}

absl::Status Pretrainer::RestoreCheckpoint(const std::string& dir) {
  ARC_ASSIGN_OR_RETURN(const PretrainState s, ReadCheckpointState(dir, TrajectoryOptionsJson()));
  const std::string model_path = dir + "/model.safetensors";
  const std::string optimizer_path = dir + "/optimizer.safetensors";
  using TensorMap = std::map<std::string, at::Tensor>;
  ARC_ASSIGN_OR_RETURN(TensorMap weights, LoadTensors(model_path));
  ARC_ASSIGN_OR_RETURN(TensorMap moments, LoadTensors(optimizer_path));
  // Optimizer first (it validates everything before changing anything), then the weights; should
  // the weights be refused, the old optimizer state goes back, so a failure changes nothing.
  std::map<std::string, at::Tensor> previous = optimizer_.StateTensors();
  ARC_RETURN_IF_ERROR(Prefixed(optimizer_.LoadStateTensors(std::move(moments)), optimizer_path));
  if (absl::Status st = net_->LoadStateDict(weights); !st.ok()) {
    optimizer_.LoadStateTensors(std::move(previous)).IgnoreError();
    return Prefixed(st, model_path);
  }
  state_ = s;
  loaded_chunk_ = -1;
  chunk_batches_.clear();
  return absl::OkStatus();
}

}  // namespace arc
