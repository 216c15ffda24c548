// The solve-option command-line flags shared by arc-solve and arc-server (absl flags), generated
// from the option table (core/solve/option_table.h): one flag per option, with the option's name,
// its built-in default and its help text (`--help` lists them; docs/SOLVE_OPTIONS.md is the
// same table with the models/default column). Plus the process flag --keep_freed_memory.
//
// A solve flag takes effect only when given on the command line, so the precedence is
//   built-in default < the model directory's solve_options.json < a flag given < (server) request.
// The default that --help prints is the built-in one; `models/default/solve_options.json` sets the
// values tuned for the embedded model (docs/SOLVE_OPTIONS.md lists both).
//
// Linking `arc_flags` (tools/flags) defines them; call SolveOptionsFromFlags after
// absl::ParseCommandLine.
#ifndef ARC_TOOLS_FLAGS_SOLVE_FLAGS_H_
#define ARC_TOOLS_FLAGS_SOLVE_FLAGS_H_

#include "absl/status/statusor.h"
#include "core/solve/options.h"
#include "tools/flags/usage.h"

namespace arc {

// `base` (usually LoadModelSolveOptions(model_dir)) with every solve flag that was given on the
// command line on top. INVALID_ARGUMENT naming the flag and the limit, e.g.
// `--loss_mask: "x" is not one of outputs_after_first, answer_only` or
// `--ttt_batch_size: 0 is outside 1..256`.
absl::StatusOr<SolveOptions> SolveOptionsFromFlags(const SolveOptions& base);

// Applies the process-wide flags (--keep_freed_memory, see tools/flags/heap.h). Call once after
// absl::ParseCommandLine, before any worker threads start.
void ApplyProcessFlags();

// The --help section of the flags above, for ToolHelp::sections (tools/flags/usage.h).
FlagSection SolveFlagsSection();

}  // namespace arc

#endif  // ARC_TOOLS_FLAGS_SOLVE_FLAGS_H_
