// arc-train: trains the embedded base model (every parameter, not LoRA) in the compact format on a
// mix of augmented ARC-AGI-1 `pretrain` tasks and generated tasks of the training families, with
// length-bucketed batches, AdamW, warmup + cosine, gradient clipping, periodic validation and
// checkpoints that resume bit-for-bit. This file only parses flags: the run is RunArcTrain
// (train/arc_train.h), the library train/pretrain.h; docs/TRAINING.md has the commands and
// measured throughput.
//
//   arc-train (--preset tiny|small|WxL | --init DIR) --out DIR (--steps N | --tokens N |
//             --minutes M) [--checkpoint_dir DIR [--resume]] [--threads N] [--seed N] ...
//
// Run it from the repository root (the ARC data default is ../shared/data/arc-agi-1). Exit codes:
// 0 done (model written to --out), 1 error, 2 bad flags, 3 stopped by SIGINT/SIGTERM after writing
// a checkpoint (rerun the same command with --resume to continue).
#include "train/arc_train.h"

#include <algorithm>
#include <atomic>
#include <csignal>
#include <iostream>
#include <string>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/strings/str_split.h"
#include "tools/flags/heap.h"
#include "tools/flags/usage.h"

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
ABSL_FLAG(double, program_fraction, 0,
          "share of the generated samples that are random DSL-program tasks (0..1; "
          "gen/program_tasks.h, never a held-out program shape)");
ABSL_FLAG(std::string, curriculum, "default",
          "default or v2: grid sides, objects and colours by sample index (train/curriculum.h)");
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

std::atomic<bool> g_stop{false};

extern "C" void OnSignal(int) { g_stop.store(true); }

ArcTrainOptions OptionsFromFlags() {
  ArcTrainOptions o;
  o.preset = absl::GetFlag(FLAGS_preset);
  o.init = absl::GetFlag(FLAGS_init);
  o.heads = absl::GetFlag(FLAGS_heads);
  o.kv_heads = absl::GetFlag(FLAGS_kv_heads);
  o.ffn = absl::GetFlag(FLAGS_ffn);
  o.context = absl::GetFlag(FLAGS_context);
  o.scaled_residual_init = absl::GetFlag(FLAGS_scaled_residual_init);
  o.name = absl::GetFlag(FLAGS_name);
  o.out = absl::GetFlag(FLAGS_out);

  o.arc_dir = absl::GetFlag(FLAGS_arc_dir);
  o.data.seed = absl::GetFlag(FLAGS_seed);
  o.data.arc_fraction = absl::GetFlag(FLAGS_arc_fraction);
  o.data.max_seq_len = absl::GetFlag(FLAGS_max_seq_len);
  o.data.min_demonstrations = absl::GetFlag(FLAGS_min_demonstrations);
  o.data.augment_generated = absl::GetFlag(FLAGS_augment_generated);
  o.data.program_fraction = absl::GetFlag(FLAGS_program_fraction);
  o.curriculum = absl::GetFlag(FLAGS_curriculum);
  for (absl::string_view f :
       absl::StrSplit(absl::GetFlag(FLAGS_families), ',', absl::SkipEmpty())) {
    o.data.families.emplace_back(f);
  }

  PretrainOptions& t = o.training;
  t.batch_tokens = absl::GetFlag(FLAGS_batch_tokens);
  t.shuffle_window = absl::GetFlag(FLAGS_shuffle_window);
  t.schedule.peak = absl::GetFlag(FLAGS_lr);
  t.schedule.warmup_steps = absl::GetFlag(FLAGS_warmup_steps);
  t.schedule.min_ratio = absl::GetFlag(FLAGS_min_lr_ratio);
  t.adamw.beta1 = absl::GetFlag(FLAGS_beta1);
  t.adamw.beta2 = absl::GetFlag(FLAGS_beta2);
  t.adamw.eps = absl::GetFlag(FLAGS_adam_eps);
  t.adamw.weight_decay = absl::GetFlag(FLAGS_weight_decay);
  t.clip = absl::GetFlag(FLAGS_clip);
  t.max_steps = absl::GetFlag(FLAGS_steps);
  t.max_tokens = absl::GetFlag(FLAGS_tokens);
  t.max_minutes = absl::GetFlag(FLAGS_minutes);
  o.threads = absl::GetFlag(FLAGS_threads);
  o.device = absl::GetFlag(FLAGS_device);

  o.checkpoint_dir = absl::GetFlag(FLAGS_checkpoint_dir);
  o.checkpoint_minutes = absl::GetFlag(FLAGS_checkpoint_minutes);
  o.checkpoint_steps = absl::GetFlag(FLAGS_checkpoint_steps);
  o.keep_checkpoints = absl::GetFlag(FLAGS_keep_checkpoints);
  o.resume = absl::GetFlag(FLAGS_resume);

  o.log_every = absl::GetFlag(FLAGS_log_every);
  o.eval_every = absl::GetFlag(FLAGS_eval_every);
  o.eval_tasks = absl::GetFlag(FLAGS_eval_tasks);
  o.eval_seed = absl::GetFlag(FLAGS_eval_seed);
  o.eval_dev = absl::GetFlag(FLAGS_eval_dev);
  o.log_jsonl = absl::GetFlag(FLAGS_log_jsonl);
  o.kill_self_at_step = absl::GetFlag(FLAGS_kill_self_at_step);
  return o;
}

}  // namespace
}  // namespace arc

int main(int argc, char** argv) {
  const arc::ToolHelp help{
      "arc-train",
      "trains the embedded base model (every parameter, not LoRA) in the compact format on a mix "
      "of augmented ARC-AGI-1 pretrain tasks (--arc_dir) and generated tasks of the training "
      "families, with length-bucketed batches, AdamW, warmup and cosine decay, gradient clipping, "
      "periodic validation and checkpoints that resume bit for bit (docs/TRAINING.md). Exit "
      "status: 0 done (model written to --out), 1 error, 2 bad flags, 3 stopped by SIGINT/SIGTERM "
      "after writing a checkpoint (rerun with --resume to continue).",
      "arc-train (--preset tiny|small|WxL | --init DIR) --out DIR (--steps N | --tokens N | "
      "--minutes M) [--checkpoint_dir DIR [--resume]] [--threads N] [--seed N] [flags]",
      {},
      {},
      ""};
  if (!arc::ParseFlagsOnlyCommandLine(argc, argv, help)) return 2;
  if (absl::GetFlag(FLAGS_keep_freed_memory)) arc::KeepFreedMemory();
  std::signal(SIGINT, arc::OnSignal);
  std::signal(SIGTERM, arc::OnSignal);
  const absl::Status s = arc::RunArcTrain(arc::OptionsFromFlags(), arc::g_stop);
  if (s.ok()) return 0;
  if (absl::IsCancelled(s)) return 3;
  std::cerr << "arc-train: " << s << "\n";
  return absl::IsInvalidArgument(s) ? 2 : 1;
}
