// The solve-option command-line flags shared by arc-solve and arc-server (absl flags), so both
// binaries spell and default every TTT, inference and selection option the same way:
//   --ttt --seed --ttt_max_samples --ttt_permute_n --ttt_augment --ttt_leave_two --loss_mask
//   --ttt_lr --ttt_weight_decay --ttt_batch_size --ttt_grad_accum --ttt_epochs --ttt_max_steps
//   --ttt_warmup --ttt_clip --full_finetune --lora_rank --lora_alpha --lora_dropout --lora_targets
//   --views_leave_out --views_permutations --views_transforms --infer_batch_size --max_new_tokens
//   --constrained --selection --poe_top_k --poe_views --base_attempt, and the process flag
//   --keep_freed_memory
// Linking `arc_flags` (tools/flags) defines them; call SolveOptionsFromFlags after
// absl::ParseCommandLine.
#ifndef ARC_TOOLS_FLAGS_SOLVE_FLAGS_H_
#define ARC_TOOLS_FLAGS_SOLVE_FLAGS_H_

#include "absl/status/statusor.h"
#include "core/solve/solver.h"

namespace arc {

// The SolveOptions the flags describe. INVALID_ARGUMENT naming the flag for an unknown enum value
// (e.g. `--loss_mask: "x" is not one of outputs_after_first, answer_only`) or an out-of-range
// option (`options: ...`).
absl::StatusOr<SolveOptions> SolveOptionsFromFlags();

// Applies the process-wide flags (--keep_freed_memory, see tools/flags/heap.h). Call once after
// absl::ParseCommandLine, before any worker threads start.
void ApplyProcessFlags();

}  // namespace arc

#endif  // ARC_TOOLS_FLAGS_SOLVE_FLAGS_H_
