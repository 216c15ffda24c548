// arc-train: trains the embedded base model (every parameter, not LoRA) in the compact format on a
// mix of augmented ARC-AGI-1 `pretrain` tasks and generated tasks of the training families, with
// length-bucketed batches, AdamW, warmup + cosine, gradient clipping, periodic validation and
// checkpoints that resume bit-for-bit. The library is train/pretrain.h; docs/TRAINING.md has the
// commands and measured throughput.
//
//   arc-train (--preset tiny|small|WxL | --init DIR) --out DIR (--steps N | --tokens N |
//             --minutes M) [--checkpoint_dir DIR [--resume]] [--threads N] [--seed N] ...
//
// Run it from the repository root (the ARC data default is ../shared/data/arc-agi-1). Exit codes:
// 0 done (model written to --out), 1 error, 2 bad flags, 3 stopped by SIGINT/SIGTERM after writing
// a checkpoint (rerun the same command with --resume to continue).
#include <ATen/Parallel.h>
#include <ATen/core/grad_mode.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "core/model/arc_model.h"
#include "gen/generator.h"
#include "tools/flags/heap.h"
#include "train/pretrain.h"
#include "core/data/status_macros.h"
#include "core/text/tokenizer.h"
#include "nlohmann/json.hpp"

// Model.
ABSL_FLAG(std::string, preset, "",
          "new model: tiny (1x32), small (6x256, ~4.4M) or WxL, e.g. 256x4 (width W, L layers, "
          "head dim 32, MLP 8/3 W rounded up to 16: 256x4 is the 3.2M model of "
          "cpu-feasibility.md)");
ABSL_FLAG(std::string, init, "", "start from this model directory instead of --preset");
ABSL_FLAG(int, heads, 0, "WxL preset: attention heads (0 = W/32)");
ABSL_FLAG(int, kv_heads, 0, "WxL preset: key/value heads (0 = heads)");
ABSL_FLAG(int, ffn, 0, "WxL preset: MLP width (0 = 8W/3 rounded up to a multiple of 16)");
ABSL_FLAG(int64_t, context, 2048, "new model: max_position_embeddings");
ABSL_FLAG(bool, scaled_residual_init, true,
          "new model: scale o_proj and down_proj init by 1/sqrt(2 layers) (GPT-2)");
ABSL_FLAG(std::string, name, "", "model name in arc_model.json (default arc-<preset>-trained)");
ABSL_FLAG(std::string, out, "", "final model directory (required)");

// Data.
ABSL_FLAG(
    std::string, arc_dir, "../shared/data/arc-agi-1",
    "ARC-AGI-1 folder with splits.json and training/ (only the pretrain split is trained on)");
ABSL_FLAG(double, arc_fraction, 0.25, "share of samples from ARC pretrain tasks (rest generated)");
ABSL_FLAG(int, max_seq_len, 1024, "tokens per sample; demonstrations are dropped to fit");
ABSL_FLAG(int, min_demonstrations, 1, "a sample keeps at least this many demonstrations");
ABSL_FLAG(bool, augment_generated, true, "dihedral/colour/order augmentation of generated tasks");
ABSL_FLAG(std::string, families, "", "comma-separated generated families (default: all training)");
ABSL_FLAG(uint64_t, seed, 0, "data order, augmentation and (new model) initialisation seed");

// Optimisation.
ABSL_FLAG(int64_t, batch_tokens, 4096, "padded tokens per step (rows x longest row)");
ABSL_FLAG(int, shuffle_window, 512, "samples sorted by length together before batching");
ABSL_FLAG(double, lr, 1.5e-3, "peak learning rate");
ABSL_FLAG(int64_t, warmup_steps, 100, "linear warmup steps");
ABSL_FLAG(double, min_lr_ratio, 0.1, "the cosine ends at lr * min_lr_ratio");
ABSL_FLAG(double, beta1, 0.9, "AdamW beta1");
ABSL_FLAG(double, beta2, 0.95, "AdamW beta2");
ABSL_FLAG(double, adam_eps, 1e-8, "AdamW epsilon");
ABSL_FLAG(double, weight_decay, 0.05, "AdamW decoupled weight decay (matrices only)");
ABSL_FLAG(double, clip, 1.0, "global gradient-norm clip (0 = off)");

// Budget (the first reached stops training; the cosine follows the largest fraction done).
ABSL_FLAG(int64_t, steps, 0, "optimizer steps");
ABSL_FLAG(int64_t, tokens, 0, "training tokens (non-pad)");
ABSL_FLAG(double, minutes, 0, "training minutes over all sittings (not deterministic)");
ABSL_FLAG(int, threads, static_cast<int>(std::max(1u, std::thread::hardware_concurrency())),
          "intra-op threads (at::set_num_threads); results are deterministic per thread count");
ABSL_FLAG(std::string, device, "cpu", "cpu, cuda or cuda:N (parameters and optimizer in float32)");
ABSL_FLAG(bool, keep_freed_memory, true,
          "keep freed blocks in the heap instead of unmapping them (glibc): the attention buffers "
          "are reused instead of page-faulted in again every step");

// Checkpoints.
ABSL_FLAG(std::string, checkpoint_dir, "", "where step-NNNNNNNN checkpoints go (empty = none)");
ABSL_FLAG(double, checkpoint_minutes, 10, "checkpoint every this many wall minutes (0 = off)");
ABSL_FLAG(int64_t, checkpoint_steps, 0, "checkpoint every this many steps (0 = off)");
ABSL_FLAG(int, keep_checkpoints, 3, "newest checkpoints kept (0 = all)");
ABSL_FLAG(bool, resume, false, "continue from the newest checkpoint in --checkpoint_dir, if any");

// Reporting.
ABSL_FLAG(int64_t, log_every, 10, "progress line every this many steps");
ABSL_FLAG(int64_t, eval_every, 500, "validation every this many steps (0 = only at the end)");
ABSL_FLAG(int, eval_tasks, 70, "generated tasks per validation set");
ABSL_FLAG(uint64_t, eval_seed, 1000000, "seed of the generated validation sets");
ABSL_FLAG(bool, eval_dev, true, "also report loss on dev tasks (monitoring only, never trained)");
ABSL_FLAG(std::string, log_jsonl, "", "append progress and validation records to this file");
ABSL_FLAG(int64_t, kill_self_at_step, 0,
          "testing: SIGKILL this process right after step N (what a resume must survive)");

namespace arc {
namespace {

using Clock = std::chrono::steady_clock;

std::atomic<bool> g_stop{false};

extern "C" void OnSignal(int) { g_stop.store(true); }

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

absl::StatusOr<ModelConfig> PresetConfig(const std::string& preset) {
  if (absl::StatusOr<ModelConfig> named = FindModelConfig(preset, "--preset", true); named.ok()) {
    named->max_position_embeddings = absl::GetFlag(FLAGS_context);
    return *named;
  }
  // WxL: width W, L layers, head dimension 32 unless --heads says otherwise.
  ModelConfig c = *FindModelConfig("tiny", "--preset", true);  // vocabulary, special ids, norms
  const std::vector<std::string> parts = absl::StrSplit(preset, 'x');
  int64_t width = 0, layers = 0;
  if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &width) ||
      !absl::SimpleAtoi(parts[1], &layers) || width < 32 || width % 32 != 0 || layers < 1 ||
      layers > 64) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--preset: \"", preset,
        "\" is not tiny, small or WxL with W a multiple of 32 and 1 <= L <= 64 (e.g. 256x4)"));
  }
  c.hidden_size = width;
  c.num_hidden_layers = layers;
  const int heads = absl::GetFlag(FLAGS_heads);
  c.num_attention_heads = heads > 0 ? heads : width / 32;
  const int kv = absl::GetFlag(FLAGS_kv_heads);
  c.num_key_value_heads = kv > 0 ? kv : c.num_attention_heads;
  const int ffn = absl::GetFlag(FLAGS_ffn);
  c.intermediate_size = ffn > 0 ? ffn : (8 * width / 3 + 15) / 16 * 16;
  c.head_dim = c.hidden_size / c.num_attention_heads;
  c.max_position_embeddings = absl::GetFlag(FLAGS_context);
  return c;
}

absl::StatusOr<std::shared_ptr<const ArcModel>> BuildModel(const ModelOptions& model_options) {
  const std::string init = absl::GetFlag(FLAGS_init), preset = absl::GetFlag(FLAGS_preset);
  if (init.empty() == preset.empty()) {
    return absl::InvalidArgumentError("exactly one of --init and --preset is required");
  }
  std::string name = absl::GetFlag(FLAGS_name);
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
  ARC_ASSIGN_OR_RETURN(const ModelConfig config, PresetConfig(preset));
  ARC_ASSIGN_OR_RETURN(LlamaForCausalLM net, CreateLlama(config, model_options));
  net->InitializeWeights(absl::GetFlag(FLAGS_seed));
  if (absl::GetFlag(FLAGS_scaled_residual_init)) {
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

void AppendJsonl(const nlohmann::json& record) {
  const std::string path = absl::GetFlag(FLAGS_log_jsonl);
  if (path.empty()) return;
  std::ofstream out(path, std::ios::app);
  out << record.dump() << "\n";
}

absl::Status RunEvals(const Pretrainer& trainer, const std::vector<EvalSet>& sets) {
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
  AppendJsonl(record);
  return absl::OkStatus();
}

absl::StatusOr<std::string> Checkpoint(const Pretrainer& trainer) {
  ARC_ASSIGN_OR_RETURN(std::string dir,
                       trainer.SaveCheckpoint(absl::GetFlag(FLAGS_checkpoint_dir),
                                              absl::GetFlag(FLAGS_keep_checkpoints)));
  std::cout << "checkpoint " << dir << "\n" << std::flush;
  return dir;
}

absl::Status Run() {
  const std::string out = absl::GetFlag(FLAGS_out);
  if (out.empty()) return absl::InvalidArgumentError("--out: required");
  const std::string checkpoint_dir = absl::GetFlag(FLAGS_checkpoint_dir);
  if (absl::GetFlag(FLAGS_resume) && checkpoint_dir.empty()) {
    return absl::InvalidArgumentError("--resume needs --checkpoint_dir");
  }
  const int threads = absl::GetFlag(FLAGS_threads);
  if (threads < 1) return absl::InvalidArgumentError("--threads: must be >= 1");
  at::set_num_threads(threads);
  if (absl::GetFlag(FLAGS_keep_freed_memory)) KeepFreedMemory();
  ModelOptions model_options;
  try {
    model_options.device = at::Device(absl::GetFlag(FLAGS_device));
  } catch (const c10::Error& e) {
    return absl::InvalidArgumentError(absl::StrCat("--device: \"", absl::GetFlag(FLAGS_device),
                                                   "\" is not a device (cpu, cuda, cuda:N)"));
  }
  model_options.dtype = at::kFloat;

  ARC_ASSIGN_OR_RETURN(std::shared_ptr<const ArcModel> model, BuildModel(model_options));
  const ModelConfig& config = model->net->config();

  // Data: the pretrain split only; the dev split is loaded to exclude it (and to monitor on it).
  ARC_ASSIGN_OR_RETURN(ArcSplits splits, LoadArcSplits(absl::GetFlag(FLAGS_arc_dir)));
  PretrainDataOptions data_options;
  data_options.seed = absl::GetFlag(FLAGS_seed);
  data_options.arc_fraction = absl::GetFlag(FLAGS_arc_fraction);
  data_options.max_seq_len = absl::GetFlag(FLAGS_max_seq_len);
  data_options.min_demonstrations = absl::GetFlag(FLAGS_min_demonstrations);
  data_options.augment_generated = absl::GetFlag(FLAGS_augment_generated);
  for (absl::string_view f :
       absl::StrSplit(absl::GetFlag(FLAGS_families), ',', absl::SkipEmpty())) {
    data_options.families.emplace_back(f);
  }
  const size_t pretrain_tasks = splits.pretrain.size();
  ARC_ASSIGN_OR_RETURN(
      std::shared_ptr<const PretrainData> data,
      PretrainData::Create(std::move(splits.pretrain), splits.dev, *model->format, data_options));

  PretrainOptions options;
  options.batch_tokens = absl::GetFlag(FLAGS_batch_tokens);
  options.shuffle_window = absl::GetFlag(FLAGS_shuffle_window);
  options.schedule.peak = absl::GetFlag(FLAGS_lr);
  options.schedule.warmup_steps = absl::GetFlag(FLAGS_warmup_steps);
  options.schedule.min_ratio = absl::GetFlag(FLAGS_min_lr_ratio);
  options.adamw.beta1 = absl::GetFlag(FLAGS_beta1);
  options.adamw.beta2 = absl::GetFlag(FLAGS_beta2);
  options.adamw.eps = absl::GetFlag(FLAGS_adam_eps);
  options.adamw.weight_decay = absl::GetFlag(FLAGS_weight_decay);
  options.clip = absl::GetFlag(FLAGS_clip);
  options.max_steps = absl::GetFlag(FLAGS_steps);
  options.max_tokens = absl::GetFlag(FLAGS_tokens);
  options.max_minutes = absl::GetFlag(FLAGS_minutes);
  ARC_ASSIGN_OR_RETURN(std::unique_ptr<Pretrainer> trainer,
                       Pretrainer::Create(model, data, options));

  // Validation sets: generated tasks of the held-out families and, with another seed, of the
  // training families (fixed for the run), plus the dev tasks that fit (loss only).
  std::vector<EvalSet> evals;
  const int eval_tasks = absl::GetFlag(FLAGS_eval_tasks);
  const uint64_t eval_seed = absl::GetFlag(FLAGS_eval_seed);
  if (eval_tasks > 0) {
    ARC_ASSIGN_OR_RETURN(std::vector<Task> held,
                         GenerateTaskSet(HeldOutFamilies(), eval_seed, eval_tasks));
    ARC_ASSIGN_OR_RETURN(
        std::vector<Task> seen,
        GenerateTaskSet(data_options.families.empty() ? TrainingFamilies() : data_options.families,
                        eval_seed + 1, eval_tasks));
    EvalSet h{"held_out", {}}, s{"train_families", {}};
    ARC_ASSIGN_OR_RETURN(h.samples,
                         MakeEvalSamples(held, *model->format, data_options.max_seq_len));
    ARC_ASSIGN_OR_RETURN(s.samples,
                         MakeEvalSamples(seen, *model->format, data_options.max_seq_len));
    evals.push_back(std::move(h));
    evals.push_back(std::move(s));
  }
  if (absl::GetFlag(FLAGS_eval_dev)) {
    EvalSet d{"dev", {}};
    ARC_ASSIGN_OR_RETURN(d.samples,
                         MakeEvalSamples(splits.dev, *model->format, data_options.max_seq_len));
    evals.push_back(std::move(d));
  }

  std::cout << absl::StrFormat(
      "arc-train: model %s: %d parameters (hidden %d, layers %d, heads %d/%d, mlp %d, context "
      "%d)\n",
      model->name, model->NumParameters(), config.hidden_size, config.num_hidden_layers,
      config.num_attention_heads, config.num_key_value_heads, config.intermediate_size,
      config.max_position_embeddings);
  std::cout << absl::StrFormat(
      "data: %d of %d ARC pretrain tasks usable at max_seq_len %d (%d too long), %d dev tasks "
      "excluded; %d generated families (%d held out, never trained); arc_fraction %.2f\n",
      data->num_arc_tasks(), pretrain_tasks, data_options.max_seq_len,
      data->num_arc_tasks_dropped(), splits.dev.size(),
      data_options.families.empty() ? TrainingFamilies().size() : data_options.families.size(),
      HeldOutFamilies().size(), data_options.arc_fraction);
  for (const EvalSet& e : evals)
    std::cout << "eval set " << e.name << ": " << e.samples.size() << " samples\n";
  std::cout << absl::StrFormat(
                   "device %s; threads %d; batch_tokens %d; lr %.3g warmup %d min_ratio %.2f; "
                   "budget steps %d tokens %d "
                   "minutes %.1f\n",
                   model_options.device.str(), threads, options.batch_tokens, options.schedule.peak,
                   options.schedule.warmup_steps, options.schedule.min_ratio, options.max_steps,
                   options.max_tokens, options.max_minutes)
            << std::flush;

  if (absl::GetFlag(FLAGS_resume)) {
    if (std::optional<std::string> latest = LatestCheckpoint(checkpoint_dir)) {
      ARC_RETURN_IF_ERROR(trainer->RestoreCheckpoint(*latest));
      const PretrainState& s = trainer->state();
      std::cout << absl::StrFormat("resumed from %s: step %d, %s tokens, %s trained\n", *latest,
                                   s.step, Count(s.tokens), Duration(s.seconds))
                << std::flush;
    } else {
      std::cout << "resume: no checkpoint in " << checkpoint_dir << ", starting fresh\n";
    }
  }

  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  const int64_t log_every = std::max<int64_t>(1, absl::GetFlag(FLAGS_log_every));
  const int64_t eval_every = absl::GetFlag(FLAGS_eval_every);
  const int64_t checkpoint_steps = absl::GetFlag(FLAGS_checkpoint_steps);
  const double checkpoint_seconds = 60 * absl::GetFlag(FLAGS_checkpoint_minutes);
  const Clock::time_point sitting_start = Clock::now();
  Clock::time_point last_checkpoint = sitting_start;
  double w_loss = 0, w_seconds = 0, w_gnorm = 0;
  int64_t w_loss_tokens = 0, w_tokens = 0, w_padded = 0, w_steps = 0;
  while (!trainer->Done()) {
    if (g_stop.load()) break;
    ARC_ASSIGN_OR_RETURN(const StepStats st, trainer->Step());
    if (!std::isfinite(st.loss)) {
      return absl::InternalError(
          absl::StrCat("step ", st.step, ": loss is ", st.loss, "; lower --lr or check the data"));
    }
    w_loss += st.loss * st.loss_tokens;
    w_loss_tokens += st.loss_tokens;
    w_tokens += st.tokens;
    w_padded += st.padded_tokens;
    w_seconds += st.seconds;
    w_gnorm += st.grad_norm;
    ++w_steps;
    if (st.step == absl::GetFlag(FLAGS_kill_self_at_step)) std::raise(SIGKILL);
    const PretrainState& s = trainer->state();
    if (st.step % log_every == 0 || trainer->Done()) {
      const double loss = w_loss / std::max<int64_t>(1, w_loss_tokens);
      const double tps = w_tokens / std::max(1e-9, w_seconds);
      const double pad = w_padded > 0 ? 1.0 - static_cast<double>(w_tokens) / w_padded : 0;
      std::cout << absl::StrFormat(
                       "step %d | tokens %s | %.0f tok/s | loss %.4f | lr %.3e | gnorm %.2f | "
                       "pad %.1f%% | arc %.0f%% | %s\n",
                       st.step, Count(s.tokens), tps, loss, st.lr, w_gnorm / w_steps, 100 * pad,
                       100.0 * s.arc_samples / std::max<int64_t>(1, s.samples), Duration(s.seconds))
                << std::flush;
      AppendJsonl({{"kind", "train"},
                   {"step", st.step},
                   {"tokens", s.tokens},
                   {"tokens_per_second", tps},
                   {"loss", loss},
                   {"lr", st.lr},
                   {"grad_norm", w_gnorm / w_steps},
                   {"pad_fraction", pad},
                   {"seconds", s.seconds}});
      w_loss = w_seconds = w_gnorm = 0;
      w_loss_tokens = w_tokens = w_padded = w_steps = 0;
    }
    if (eval_every > 0 && st.step % eval_every == 0 && !trainer->Done()) {
      ARC_RETURN_IF_ERROR(RunEvals(*trainer, evals));
    }
    if (!checkpoint_dir.empty() && !trainer->Done()) {
      const bool by_steps = checkpoint_steps > 0 && st.step % checkpoint_steps == 0;
      const bool by_time = checkpoint_seconds > 0 &&
                           std::chrono::duration<double>(Clock::now() - last_checkpoint).count() >=
                               checkpoint_seconds;
      if (by_steps || by_time) {
        ARC_RETURN_IF_ERROR(Checkpoint(*trainer).status());
        last_checkpoint = Clock::now();
      }
    }
  }
  if (!trainer->Done()) {  // stopped by a signal
    if (!checkpoint_dir.empty()) {
      ARC_RETURN_IF_ERROR(Checkpoint(*trainer).status());
      std::cout << "stopped at step " << trainer->state().step
                << "; rerun with --resume to continue\n";
    } else {
      std::cout << "stopped at step " << trainer->state().step
                << " without --checkpoint_dir: progress is lost\n";
    }
    return absl::CancelledError("interrupted");
  }
  ARC_RETURN_IF_ERROR(RunEvals(*trainer, evals));
  if (!checkpoint_dir.empty()) ARC_RETURN_IF_ERROR(Checkpoint(*trainer).status());
  ARC_RETURN_IF_ERROR(SaveArcModel(*model, out));
  const PretrainState& s = trainer->state();
  std::cout << absl::StrFormat(
      "done: step %d, %s tokens (%s loss tokens, %.1f%% padding), %s samples (%.0f%% ARC), %s of "
      "training, %.0f tok/s overall; model written to %s\n",
      s.step, Count(s.tokens), Count(s.loss_tokens),
      s.padded_tokens > 0 ? 100.0 * (1.0 - static_cast<double>(s.tokens) / s.padded_tokens) : 0.0,
      Count(s.samples), 100.0 * s.arc_samples / std::max<int64_t>(1, s.samples),
      Duration(s.seconds), s.tokens / std::max(1e-9, s.seconds), out);
  return absl::OkStatus();
}

}  // namespace
}  // namespace arc

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "arc-train (--preset tiny|small|WxL | --init DIR) --out DIR (--steps N | --tokens N | "
      "--minutes M) [--checkpoint_dir DIR [--resume]] [--threads N] [--seed N] ...");
  absl::ParseCommandLine(argc, argv);
  const absl::Status s = arc::Run();
  if (s.ok()) return 0;
  if (absl::IsCancelled(s)) return 3;
  std::cerr << "arc-train: " << s << "\n";
  return absl::IsInvalidArgument(s) ? 2 : 1;
}
