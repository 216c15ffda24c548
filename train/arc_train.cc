#include "train/arc_train.h"

#include <ATen/Parallel.h>
#include <ATen/core/grad_mode.h>

#include <chrono>
#include <cmath>
#include <csignal>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "core/data/status_macros.h"
#include "core/model/arc_model.h"
#include "core/text/tokenizer.h"
#include "gen/generator.h"
#include "nlohmann/json.hpp"
#include "train/arc_splits.h"
#include "gen/program_tasks.h"
#include "train/checkpoint.h"
#include "train/curriculum.h"
#include "train/validation.h"

namespace arc {
namespace {

using Clock = std::chrono::steady_clock;

std::string Duration(double seconds) {
  const int64_t s = static_cast<int64_t>(seconds);
  if (s >= 3600) return absl::StrFormat("%dh%02dm%02ds", s / 3600, s / 60 % 60, s % 60);
  if (s >= 60) return absl::StrFormat("%dm%02ds", s / 60, s % 60);
  return absl::StrFormat("%.1fs", seconds);
}

std::string Count(int64_t n) {
  if (n >= 1000000000) return absl::StrFormat("%.2fG", n / 1e9);
  if (n >= 1000000) return absl::StrFormat("%.2fM", n / 1e6);
  if (n >= 1000) return absl::StrFormat("%.1fk", n / 1e3);
  return absl::StrCat(n);
}

// A new model's configuration: a named compact preset or WxL.
absl::StatusOr<ModelConfig> PresetConfig(const ArcTrainOptions& o) {
  const std::string& preset = o.preset;
  if (absl::StatusOr<ModelConfig> named = FindModelConfig(preset, "--preset", true); named.ok()) {
    named->max_position_embeddings = o.context;
    return *named;
  }
  // WxL: width W, L layers, head dimension 32 unless --heads says otherwise.
  absl::StatusOr<ModelConfig> wxl = WidthLayersConfig(preset, "--preset");
  if (!wxl.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--preset: \"", preset,
        "\" is not tiny, small or WxL with W a multiple of 32 and 1 <= L <= 64 (e.g. 256x4)"));
  }
  ModelConfig c = *wxl;
  const int64_t width = c.hidden_size;
  c.num_attention_heads = o.heads > 0 ? o.heads : width / 32;
  c.num_key_value_heads = o.kv_heads > 0 ? o.kv_heads : c.num_attention_heads;
  c.intermediate_size = o.ffn > 0 ? o.ffn : (8 * width / 3 + 15) / 16 * 16;
  c.head_dim = c.hidden_size / c.num_attention_heads;
  c.max_position_embeddings = o.context;
  return c;
}

// The model to train: loaded from --init (renamed <name>-trained) or a seeded new one.
absl::StatusOr<std::shared_ptr<const ArcModel>> BuildModel(const ArcTrainOptions& o,
                                                           const ModelOptions& model_options) {
  const std::string& init = o.init;
  const std::string& preset = o.preset;
  if (init.empty() == preset.empty()) {
    return absl::InvalidArgumentError("exactly one of --init and --preset is required");
  }
  std::string name = o.name;
  if (!init.empty()) {
    ARC_ASSIGN_OR_RETURN(std::shared_ptr<const ArcModel> loaded, LoadArcModel(init, model_options));
    if (loaded->format->name() != "compact") {
      return absl::InvalidArgumentError(absl::StrCat("--init: ", init, " uses the \"",
                                                     std::string(loaded->format->name()),
                                                     "\" format; arc-train trains compact models"));
    }
    if (name.empty()) {
      name = absl::EndsWith(loaded->name, "-trained") ? loaded->name : loaded->name + "-trained";
    }
    return MakeArcModel(name, loaded->net, MakeCompactTokenizer(), "compact");
  }
  ARC_ASSIGN_OR_RETURN(const ModelConfig config, PresetConfig(o));
  ARC_ASSIGN_OR_RETURN(LlamaForCausalLM net, CreateLlama(config, model_options));
  net->InitializeWeights(o.data.seed);
  if (o.scaled_residual_init) {
    at::NoGradGuard no_grad;
    const double scale = 1.0 / std::sqrt(2.0 * config.num_hidden_layers);
    for (auto& [param_name, t] : net->StateDict()) {
      if (absl::EndsWith(param_name, "o_proj.weight") ||
          absl::EndsWith(param_name, "down_proj.weight")) {
        t.mul_(scale);
      }
    }
  }
  if (name.empty()) name = absl::StrCat("arc-", preset, "-trained");
  return MakeArcModel(name, std::move(net), MakeCompactTokenizer(), "compact");
}

struct EvalSet {
  std::string name;
  std::vector<RenderedPrompt> samples;
};

void AppendJsonl(const std::string& path, const nlohmann::json& record) {
  if (path.empty()) return;
  std::ofstream out(path, std::ios::app);
  out << record.dump() << "\n";
}

// One "eval step" line over every validation set, and its JSONL record.
absl::Status RunEvals(const Pretrainer& trainer, const std::vector<EvalSet>& sets,
                      const std::string& log_jsonl) {
  const Clock::time_point start = Clock::now();
  std::vector<std::string> parts;
  nlohmann::json record = {
      {"kind", "eval"}, {"step", trainer.state().step}, {"tokens", trainer.state().tokens}};
  for (const EvalSet& set : sets) {
    ARC_ASSIGN_OR_RETURN(const EvalStats e, trainer.Evaluate(set.samples));
    parts.push_back(absl::StrFormat("%s loss %.4f answer %.4f acc %.1f%% exact %d/%d", set.name,
                                    e.loss, e.answer_loss, 100 * e.answer_token_accuracy, e.exact,
                                    e.samples));
    record[set.name] = {{"loss", e.loss},
                        {"answer_loss", e.answer_loss},
                        {"answer_token_accuracy", e.answer_token_accuracy},
                        {"exact", e.exact},
                        {"samples", e.samples}};
  }
  std::cout << absl::StrFormat(
                   "eval step %d | %s | %s\n", trainer.state().step, absl::StrJoin(parts, " | "),
                   Duration(std::chrono::duration<double>(Clock::now() - start).count()))
            << std::flush;
  AppendJsonl(log_jsonl, record);
  return absl::OkStatus();
}

absl::StatusOr<std::string> Checkpoint(const Pretrainer& trainer, const ArcTrainOptions& o) {
  ARC_ASSIGN_OR_RETURN(std::string dir,
                       trainer.SaveCheckpoint(o.checkpoint_dir, o.keep_checkpoints));
  std::cout << "checkpoint " << dir << "\n" << std::flush;
  return dir;
}

// The flags that are checked before any work, and the libtorch settings they ask for.
absl::StatusOr<ModelOptions> Prepare(const ArcTrainOptions& o) {
  if (o.out.empty()) return absl::InvalidArgumentError("--out: required");
  if (o.resume && o.checkpoint_dir.empty()) {
    return absl::InvalidArgumentError("--resume needs --checkpoint_dir");
  }
  if (o.threads < 1) return absl::InvalidArgumentError("--threads: must be >= 1");
  at::set_num_threads(o.threads);
  ModelOptions model_options;
  try {
    model_options.device = at::Device(o.device);
  } catch (const c10::Error& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("--device: \"", o.device, "\" is not a device (cpu, cuda, cuda:N)"));
  }
  model_options.dtype = at::kFloat;
  return model_options;
}

// Validation sets: generated tasks of the held-out families and, with another seed, of the
// training families (fixed for the run), plus the dev tasks that fit (loss only).
absl::StatusOr<std::vector<EvalSet>> MakeEvalSets(const ArcTrainOptions& o, const ArcModel& model,
                                                  const std::vector<Task>& dev) {
  const PretrainDataOptions& data_options = o.data;
  std::vector<EvalSet> evals;
  if (o.eval_tasks > 0) {
    ARC_ASSIGN_OR_RETURN(std::vector<Task> held,
                         GenerateTaskSet(HeldOutFamilies(), o.eval_seed, o.eval_tasks));
    ARC_ASSIGN_OR_RETURN(
        std::vector<Task> seen,
        GenerateTaskSet(data_options.families.empty() ? TrainingFamilies() : data_options.families,
                        o.eval_seed + 1, o.eval_tasks));
    // Held-out program shapes at the families' validation difficulty.
    std::vector<Task> programs;
    ProgramTaskOptions held_out_programs;
    held_out_programs.split = ProgramSplit::kHeldOut;
    for (int i = 0; i < o.eval_tasks; ++i) {
      ARC_ASSIGN_OR_RETURN(ProgramTask p, GenerateProgramTask(TaskSeed(o.eval_seed + 2, i),
                                                              Difficulty{}, held_out_programs));
      programs.push_back(std::move(p.task));
    }
    EvalSet h{"held_out", {}}, s{"train_families", {}}, p{"held_out_programs", {}};
    ARC_ASSIGN_OR_RETURN(h.samples, MakeEvalSamples(held, *model.format, data_options.max_seq_len));
    ARC_ASSIGN_OR_RETURN(s.samples, MakeEvalSamples(seen, *model.format, data_options.max_seq_len));
    ARC_ASSIGN_OR_RETURN(p.samples,
                         MakeEvalSamples(programs, *model.format, data_options.max_seq_len));
    evals.push_back(std::move(h));
    evals.push_back(std::move(s));
    evals.push_back(std::move(p));
  }
  if (o.eval_dev) {
    EvalSet d{"dev", {}};
    ARC_ASSIGN_OR_RETURN(d.samples, MakeEvalSamples(dev, *model.format, data_options.max_seq_len));
    evals.push_back(std::move(d));
  }
  return evals;
}

void PrintHeader(const ArcTrainOptions& o, const ArcModel& model, const PretrainData& data,
                 size_t pretrain_tasks, size_t dev_tasks, const std::vector<EvalSet>& evals,
                 const ModelOptions& model_options) {
  const ModelConfig& config = model.net->config();
  const PretrainDataOptions& data_options = data.options();
  const PretrainOptions& options = o.training;
  std::cout << absl::StrFormat(
      "arc-train: model %s: %d parameters (hidden %d, layers %d, heads %d/%d, mlp %d, context "
      "%d)\n",
      model.name, model.NumParameters(), config.hidden_size, config.num_hidden_layers,
      config.num_attention_heads, config.num_key_value_heads, config.intermediate_size,
      config.max_position_embeddings);
  std::cout << absl::StrFormat(
      "data: %d of %d ARC pretrain tasks usable at max_seq_len %d (%d too long), %d dev tasks "
      "excluded; %d generated families (%d held out, never trained); arc_fraction %.2f; "
      "program_fraction %.2f of the generated samples (held-out program shapes never trained)\n",
      data.num_arc_tasks(), pretrain_tasks, data_options.max_seq_len, data.num_arc_tasks_dropped(),
      dev_tasks,
      data_options.families.empty() ? TrainingFamilies().size() : data_options.families.size(),
      HeldOutFamilies().size(), data_options.arc_fraction, data_options.program_fraction);
  std::cout << "curriculum " << (o.data.curriculum.empty() ? o.curriculum : "custom") << ": "
            << DescribeCurriculum(data_options.curriculum) << "\n";
  for (const EvalSet& e : evals)
    std::cout << "eval set " << e.name << ": " << e.samples.size() << " samples\n";
  std::cout << absl::StrFormat(
                   "device %s; threads %d; batch_tokens %d; lr %.3g warmup %d min_ratio %.2f; "
                   "budget steps %d tokens %d "
                   "minutes %.1f\n",
                   model_options.device.str(), o.threads, options.batch_tokens,
                   options.schedule.peak, options.schedule.warmup_steps, options.schedule.min_ratio,
                   options.max_steps, options.max_tokens, options.max_minutes)
            << std::flush;
}

absl::Status ResumeIfAsked(const ArcTrainOptions& o, Pretrainer& trainer) {
  if (!o.resume) return absl::OkStatus();
  if (std::optional<std::string> latest = LatestCheckpoint(o.checkpoint_dir)) {
    ARC_RETURN_IF_ERROR(trainer.RestoreCheckpoint(*latest));
    const PretrainState& s = trainer.state();
    std::cout << absl::StrFormat("resumed from %s: step %d, %s tokens, %s trained\n", *latest,
                                 s.step, Count(s.tokens), Duration(s.seconds))
              << std::flush;
  } else {
    std::cout << "resume: no checkpoint in " << o.checkpoint_dir << ", starting fresh\n";
  }
  return absl::OkStatus();
}

// The steps since the last progress line, reported every log_every steps.
class ProgressWindow {
 public:
  void Add(const StepStats& st) {
    loss_ += st.loss * st.loss_tokens;
    loss_tokens_ += st.loss_tokens;
    tokens_ += st.tokens;
    padded_ += st.padded_tokens;
    seconds_ += st.seconds;
    gnorm_ += st.grad_norm;
    ++steps_;
  }

  // Prints the window's line (and its JSONL record) and starts a new window.
  void Report(const StepStats& st, const PretrainState& s, const std::string& log_jsonl) {
    const double loss = loss_ / std::max<int64_t>(1, loss_tokens_);
    const double tps = tokens_ / std::max(1e-9, seconds_);
    const double pad = padded_ > 0 ? 1.0 - static_cast<double>(tokens_) / padded_ : 0;
    std::cout << absl::StrFormat(
                     "step %d | tokens %s | %.0f tok/s | loss %.4f | lr %.3e | gnorm %.2f | "
                     "pad %.1f%% | arc %.0f%% | prog %.0f%% | %s\n",
                     st.step, Count(s.tokens), tps, loss, st.lr, gnorm_ / steps_, 100 * pad,
                     100.0 * s.arc_samples / std::max<int64_t>(1, s.samples),
                     100.0 * s.program_samples / std::max<int64_t>(1, s.samples),
                     Duration(s.seconds))
              << std::flush;
    AppendJsonl(log_jsonl, {{"kind", "train"},
                            {"step", st.step},
                            {"tokens", s.tokens},
                            {"tokens_per_second", tps},
                            {"loss", loss},
                            {"lr", st.lr},
                            {"grad_norm", gnorm_ / steps_},
                            {"pad_fraction", pad},
                            {"seconds", s.seconds}});
    *this = ProgressWindow();
  }

 private:
  double loss_ = 0, seconds_ = 0, gnorm_ = 0;
  int64_t loss_tokens_ = 0, tokens_ = 0, padded_ = 0, steps_ = 0;
};

// Steps until the budget is spent or `stop` is set, with progress lines, validation and periodic
// checkpoints.
absl::Status TrainToBudget(const ArcTrainOptions& o, Pretrainer& trainer,
                           const std::vector<EvalSet>& evals, const std::atomic<bool>& stop) {
  const int64_t log_every = std::max<int64_t>(1, o.log_every);
  const double checkpoint_seconds = 60 * o.checkpoint_minutes;
  Clock::time_point last_checkpoint = Clock::now();
  ProgressWindow window;
  while (!trainer.Done()) {
    if (stop.load()) break;
    ARC_ASSIGN_OR_RETURN(const StepStats st, trainer.Step());
    if (!std::isfinite(st.loss)) {
      return absl::InternalError(
          absl::StrCat("step ", st.step, ": loss is ", st.loss, "; lower --lr or check the data"));
    }
    window.Add(st);
    if (st.step == o.kill_self_at_step) std::raise(SIGKILL);
    if (st.step % log_every == 0 || trainer.Done()) {
      window.Report(st, trainer.state(), o.log_jsonl);
    }
    if (o.eval_every > 0 && st.step % o.eval_every == 0 && !trainer.Done()) {
      ARC_RETURN_IF_ERROR(RunEvals(trainer, evals, o.log_jsonl));
    }
    if (!o.checkpoint_dir.empty() && !trainer.Done()) {
      const bool by_steps = o.checkpoint_steps > 0 && st.step % o.checkpoint_steps == 0;
      const bool by_time = checkpoint_seconds > 0 &&
                           std::chrono::duration<double>(Clock::now() - last_checkpoint).count() >=
                               checkpoint_seconds;
      if (by_steps || by_time) {
        ARC_RETURN_IF_ERROR(Checkpoint(trainer, o).status());
        last_checkpoint = Clock::now();
      }
    }
  }
  return absl::OkStatus();
}

// After TrainToBudget: a stopped run checkpoints and returns CANCELLED; a finished one is
// validated, checkpointed and written to --out.
absl::Status Finish(const ArcTrainOptions& o, const Pretrainer& trainer,
                    const std::vector<EvalSet>& evals) {
  if (!trainer.Done()) {  // stopped by a signal
    if (!o.checkpoint_dir.empty()) {
      ARC_RETURN_IF_ERROR(Checkpoint(trainer, o).status());
      std::cout << "stopped at step " << trainer.state().step
                << "; rerun with --resume to continue\n";
    } else {
      std::cout << "stopped at step " << trainer.state().step
                << " without --checkpoint_dir: progress is lost\n";
    }
    return absl::CancelledError("interrupted");
  }
  ARC_RETURN_IF_ERROR(RunEvals(trainer, evals, o.log_jsonl));
  if (!o.checkpoint_dir.empty()) ARC_RETURN_IF_ERROR(Checkpoint(trainer, o).status());
  ARC_RETURN_IF_ERROR(SaveArcModel(trainer.model(), o.out));
  const PretrainState& s = trainer.state();
  std::cout << absl::StrFormat(
      "done: step %d, %s tokens (%s loss tokens, %.1f%% padding), %s samples (%.0f%% ARC), %s of "
      "training, %.0f tok/s overall; model written to %s\n",
      s.step, Count(s.tokens), Count(s.loss_tokens),
      s.padded_tokens > 0 ? 100.0 * (1.0 - static_cast<double>(s.tokens) / s.padded_tokens) : 0.0,
      Count(s.samples), 100.0 * s.arc_samples / std::max<int64_t>(1, s.samples),
      Duration(s.seconds), s.tokens / std::max(1e-9, s.seconds), o.out);
  return absl::OkStatus();
}

}  // namespace

absl::Status RunArcTrain(const ArcTrainOptions& o, const std::atomic<bool>& stop) {
  ARC_ASSIGN_OR_RETURN(const ModelOptions model_options, Prepare(o));
  ARC_ASSIGN_OR_RETURN(std::shared_ptr<const ArcModel> model, BuildModel(o, model_options));
  // Data: the pretrain split only; the dev split is loaded to exclude it (and to monitor on it).
  ARC_ASSIGN_OR_RETURN(ArcSplits splits, LoadArcSplits(o.arc_dir));
  const size_t pretrain_tasks = splits.pretrain.size();
  PretrainDataOptions data_options = o.data;
  if (data_options.curriculum.empty()) {
    ARC_ASSIGN_OR_RETURN(data_options.curriculum,
                         NamedCurriculum(o.curriculum, *model->format, data_options.max_seq_len));
  }
  ARC_ASSIGN_OR_RETURN(
      std::shared_ptr<const PretrainData> data,
      PretrainData::Create(std::move(splits.pretrain), splits.dev, *model->format, data_options));
  ARC_ASSIGN_OR_RETURN(std::unique_ptr<Pretrainer> trainer,
                       Pretrainer::Create(model, data, o.training));
  ARC_ASSIGN_OR_RETURN(const std::vector<EvalSet> evals, MakeEvalSets(o, *model, splits.dev));
  PrintHeader(o, *model, *data, pretrain_tasks, splits.dev.size(), evals, model_options);
  ARC_RETURN_IF_ERROR(ResumeIfAsked(o, *trainer));
  ARC_RETURN_IF_ERROR(TrainToBudget(o, *trainer, evals, stop));
  return Finish(o, *trainer, evals);
}

}  // namespace arc
