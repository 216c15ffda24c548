#include "tools/flags/solve_flags.h"

#include <string>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "tools/flags/heap.h"
#include "core/solve/views.h"

// Process
ABSL_FLAG(bool, keep_freed_memory, true,
          "keep freed memory in the heap (glibc): TTT steps reuse their attention buffers instead "
          "of page-faulting them in again; the process keeps its peak heap size");
// The TTT defaults below (--ttt_lr, --ttt_augment, --lora_rank, --lora_alpha) are tuned for the
// embedded model models/default on held-out generator families (models/default/MODEL_CARD.md); the
// core SolveOptions defaults stay closer to the paper.
ABSL_FLAG(bool, ttt, true, "test-time training (false: the paper's no-TTT baseline)");
ABSL_FLAG(uint64_t, seed, 0, "seed for TTT data, LoRA init, batch order and views");
// TTT data
ABSL_FLAG(int, ttt_max_samples, 250, "TTT samples per task (the paper's cap)");
ABSL_FLAG(int, ttt_permute_n, 1, "colour/order-permuted copies per TTT sample");
ABSL_FLAG(bool, ttt_augment, false,
          "apply the paper's 23 augmenters to TTT samples (off: tuned for models/default)");
ABSL_FLAG(bool, ttt_leave_two, true, "top up leave-one-out samples with leave-two-out ones");
ABSL_FLAG(std::string, loss_mask, "outputs_after_first",
          "outputs_after_first (paper) or answer_only");
// TTT training
ABSL_FLAG(double, ttt_lr, 3e-3, "peak learning rate (tuned for models/default; the paper: 1e-4)");
ABSL_FLAG(double, ttt_weight_decay, 0.01, "AdamW weight decay");
ABSL_FLAG(int, ttt_batch_size, 2, "samples per batch");
ABSL_FLAG(int, ttt_grad_accum, 1, "batches per optimizer step");
ABSL_FLAG(int, ttt_epochs, 2, "passes over the samples");
ABSL_FLAG(int, ttt_max_steps, 0, "stop after this many optimizer steps (0 = the epochs decide)");
ABSL_FLAG(double, ttt_warmup, 0.1, "warmup fraction of the steps");
ABSL_FLAG(double, ttt_clip, 0, "gradient-norm clip (0 = off)");
ABSL_FLAG(bool, full_finetune, false,
          "train a private copy of the whole model instead of LoRA (small models)");
ABSL_FLAG(int, lora_rank, 32, "LoRA rank (tuned for models/default)");
ABSL_FLAG(double, lora_alpha, 32, "LoRA alpha (scale = alpha / rank)");
ABSL_FLAG(double, lora_dropout, 0, "LoRA dropout");
ABSL_FLAG(std::string, lora_targets, "q_proj,v_proj,gate_proj,up_proj,down_proj",
          "comma-separated: q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj,lm_head");
// Inference and selection
ABSL_FLAG(int, views_leave_out, 1, "demonstrations left out per view (0 = all used)");
ABSL_FLAG(int, views_permutations, 2, "extra demonstration orders per subset");
ABSL_FLAG(std::string, views_transforms, "paper", "paper (5 transforms), all (7) or none");
ABSL_FLAG(int, infer_batch_size, 16, "views decoded together");
ABSL_FLAG(int, max_new_tokens, 0, "answer token budget (0 = from the task's grid sizes)");
ABSL_FLAG(bool, constrained, true, "grid grammar while decoding");
ABSL_FLAG(std::string, selection, "vote", "vote, majority, poe or votes_then_poe");
ABSL_FLAG(int, poe_top_k, 4, "candidates re-scored by product of experts");
ABSL_FLAG(int, poe_views, 4, "dihedral views per candidate for product of experts");
ABSL_FLAG(bool, base_attempt, false,
          "after TTT, the base model's top candidate becomes attempt 2 when it differs from the "
          "adapted model's attempt 1 (one more inference pass)");

namespace arc {

absl::StatusOr<SolveOptions> SolveOptionsFromFlags() {
  SolveOptions o;
  o.ttt = absl::GetFlag(FLAGS_ttt);
  o.seed = absl::GetFlag(FLAGS_seed);
  o.ttt_data.max_samples = absl::GetFlag(FLAGS_ttt_max_samples);
  o.ttt_data.permute_n = absl::GetFlag(FLAGS_ttt_permute_n);
  o.ttt_data.augment = absl::GetFlag(FLAGS_ttt_augment);
  o.ttt_data.leave_two_top_up = absl::GetFlag(FLAGS_ttt_leave_two);
  const std::string mask = absl::GetFlag(FLAGS_loss_mask);
  if (mask == "outputs_after_first") {
    o.loss_mask = LossMaskMode::kOutputsAfterFirst;
  } else if (mask == "answer_only") {
    o.loss_mask = LossMaskMode::kAnswerOnly;
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        "--loss_mask: \"", mask, "\" is not one of outputs_after_first, answer_only"));
  }
  o.train.learning_rate = absl::GetFlag(FLAGS_ttt_lr);
  o.train.weight_decay = absl::GetFlag(FLAGS_ttt_weight_decay);
  o.train.batch_size = absl::GetFlag(FLAGS_ttt_batch_size);
  o.train.grad_accum = absl::GetFlag(FLAGS_ttt_grad_accum);
  o.train.epochs = absl::GetFlag(FLAGS_ttt_epochs);
  o.train.max_steps = absl::GetFlag(FLAGS_ttt_max_steps);
  o.train.warmup_fraction = absl::GetFlag(FLAGS_ttt_warmup);
  o.train.clip_grad_norm = absl::GetFlag(FLAGS_ttt_clip);
  o.full_finetune = absl::GetFlag(FLAGS_full_finetune);
  o.lora.rank = absl::GetFlag(FLAGS_lora_rank);
  o.lora.alpha = absl::GetFlag(FLAGS_lora_alpha);
  o.lora.dropout = absl::GetFlag(FLAGS_lora_dropout);
  o.lora.targets.clear();
  for (absl::string_view t :
       absl::StrSplit(absl::GetFlag(FLAGS_lora_targets), ',', absl::SkipEmpty())) {
    absl::StatusOr<ProjectionKind> kind = ParseProjectionKind(std::string(t));
    if (!kind.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("--lora_targets: ", kind.status().message()));
    }
    o.lora.targets.push_back(*kind);
  }
  o.views.leave_out = absl::GetFlag(FLAGS_views_leave_out);
  o.views.permutations = absl::GetFlag(FLAGS_views_permutations);
  const std::string transforms = absl::GetFlag(FLAGS_views_transforms);
  if (transforms == "paper") {
    o.views.transforms = PaperViewTransforms();
  } else if (transforms == "all") {
    o.views.transforms = AllViewTransforms();
  } else if (transforms == "none") {
    o.views.transforms.clear();
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("--views_transforms: \"", transforms, "\" is not one of paper, all, none"));
  }
  o.inference.batch_size = absl::GetFlag(FLAGS_infer_batch_size);
  o.inference.max_new_tokens = absl::GetFlag(FLAGS_max_new_tokens);
  o.inference.constrained = absl::GetFlag(FLAGS_constrained);
  absl::StatusOr<SelectionMode> mode = ParseSelectionMode(absl::GetFlag(FLAGS_selection));
  if (!mode.ok()) return absl::InvalidArgumentError(absl::StrCat("--", mode.status().message()));
  o.selection.mode = *mode;
  o.selection.poe_top_k = absl::GetFlag(FLAGS_poe_top_k);
  o.selection.poe_views = absl::GetFlag(FLAGS_poe_views);
  o.selection.base_attempt = absl::GetFlag(FLAGS_base_attempt);
  return o;
}

void ApplyProcessFlags() {
  if (absl::GetFlag(FLAGS_keep_freed_memory)) KeepFreedMemory();
}

}  // namespace arc
