// arc-solve: the whole pipeline offline, without a server.
//
//   arc-solve [--model DIR] --tasks PATH [--solutions FILE] [--out out/submission.json]
//             [--report out/report.json] [--limit N] [--task_ids a,b] [--no_ttt] [options]
//
// PATH is a task file, a directory of them or a Kaggle challenges file. For every task: TTT (unless
// --no_ttt, the paper's baseline), inference over views, voting; a line per task (id, TTT loss first
// and last, seconds, correct or not when outputs are known); then a table with pass@2
// (all-or-nothing and fractional), per-prediction accuracy and mean seconds per task by phase.
// Writes the Kaggle submission (--out) and a JSON report (--report), by default in the current
// directory's out/ (an empty path skips the file). The default model is found from any directory
// (tools/flags/paths.h). On a terminal a progress bar with an ETA is drawn on stderr. The work is
// core/solve/batch_solve.h's; this file parses flags.
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include <ATen/Parallel.h>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "core/data/task_io.h"
#include "core/model/arc_model.h"
#include "core/solve/batch_solve.h"
#include "core/solve/solver.h"
#include "tools/flags/paths.h"
#include "tools/flags/heap.h"
#include "tools/flags/solve_flags.h"

ABSL_FLAG(std::string, model, arc::kDefaultModelDir,
          "model directory (the default, the embedded model, is also found next to the binary)");
ABSL_FLAG(std::string, tasks, "", "task file, directory or Kaggle challenges file (required)");
ABSL_FLAG(std::string, solutions, "", "Kaggle solutions file (test outputs) for scoring");
ABSL_FLAG(std::string, out, "out/submission.json", "write the Kaggle submission here (\"\": none)");
ABSL_FLAG(std::string, report, "out/report.json", "write the JSON report here (\"\": none)");
ABSL_FLAG(int, limit, 0, "solve only the first N tasks (0 = all)");
ABSL_FLAG(std::string, task_ids, "", "comma-separated task ids to solve (default all)");
ABSL_FLAG(bool, no_ttt, false, "skip test-time training (the paper's baseline; same as --nottt)");
ABSL_FLAG(int, threads, 0, "torch intra-op threads (0 = hardware concurrency)");
ABSL_FLAG(std::string, html, "", "write a visual report here: one self-contained HTML page");
ABSL_FLAG(std::string, dtype, "auto",
          "auto, float32 or bfloat16: the weights' precision (auto: bfloat16 for a bfloat16 "
          "checkpoint when this CPU has AVX-512, else float32; as arc-server --dtype)");
// The TTT, inference and selection flags (--ttt_*, --lora_*, --views_*, --selection, --seed, ...)
// come from tools/flags/solve_flags.h, shared with arc-server.

namespace arc {
namespace {

int Fail(const absl::Status& s) {
  std::cerr << "arc-solve: " << s << "\n";
  return s.code() == absl::StatusCode::kInvalidArgument ? 2 : 1;
}

absl::StatusOr<SolveOptions> OptionsFromFlags(const std::string& model_dir) {
  // Built-in < the model's solve_options.json < flags given (core/solve/options.h).
  absl::StatusOr<SolveOptions> model_defaults = LoadModelSolveOptions(model_dir);
  if (!model_defaults.ok()) return model_defaults.status();
  absl::StatusOr<SolveOptions> o = SolveOptionsFromFlags(*model_defaults);
  if (!o.ok()) return o.status();
  if (absl::GetFlag(FLAGS_no_ttt)) o->ttt = false;
  if (absl::Status s = ValidateSolveOptions(*o); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("options: ", s.message()));
  }
  return o;
}

int Run() {
  const std::string tasks_path = absl::GetFlag(FLAGS_tasks);
  if (tasks_path.empty()) return Fail(absl::InvalidArgumentError("--tasks: required"));
  if (absl::GetFlag(FLAGS_model).empty()) {
    return Fail(absl::InvalidArgumentError("--model: empty (a model directory)"));
  }
  absl::StatusOr<std::string> model_dir = ResolveModelDir(absl::GetFlag(FLAGS_model));
  if (!model_dir.ok()) return Fail(model_dir.status());
  absl::StatusOr<SolveOptions> options = OptionsFromFlags(*model_dir);
  if (!options.ok()) return Fail(options.status());

  const int threads = absl::GetFlag(FLAGS_threads) > 0
                          ? absl::GetFlag(FLAGS_threads)
                          : static_cast<int>(std::thread::hardware_concurrency());
  at::set_num_threads(std::max(1, threads));

  absl::StatusOr<std::vector<Task>> loaded = ReadTasks(tasks_path, absl::GetFlag(FLAGS_solutions));
  if (!loaded.ok()) return Fail(loaded.status());
  const std::vector<std::string> ids = absl::StrSplit(absl::GetFlag(FLAGS_task_ids), ',', absl::SkipEmpty());
  absl::StatusOr<std::vector<Task>> tasks =
      SelectTasks(*std::move(loaded), ids, absl::GetFlag(FLAGS_limit), tasks_path);
  if (!tasks.ok()) return Fail(absl::InvalidArgumentError(absl::StrCat("--task_ids: ", tasks.status().message())));
  if (tasks->empty()) return Fail(absl::InvalidArgumentError("no tasks to solve"));

  ModelOptions model_options;
  absl::StatusOr<at::ScalarType> dtype =
      ChooseModelDtype(*model_dir, absl::GetFlag(FLAGS_dtype), model_options.device);
  if (!dtype.ok()) {
    return Fail(absl::InvalidArgumentError(absl::StrCat("--dtype: ", dtype.status().message())));
  }
  model_options.dtype = *dtype;
  absl::StatusOr<std::shared_ptr<const ArcModel>> model = LoadArcModel(*model_dir, model_options);
  if (!model.ok()) return Fail(model.status());
  std::cout << absl::StrFormat("model %s: %d parameters, format %s, context %d; %d tasks, %d threads, %s\n",
                               (*model)->name, (*model)->NumParameters(),
                               std::string((*model)->format->name()), (*model)->MaxSequenceLength(),
                               tasks->size(), threads, options->ttt ? "with TTT" : "no TTT");
  Solver solver(*model);
  BatchOptions batch;
  batch.release_memory = [] { ReleaseFreedMemory(); };
  absl::StatusOr<BatchResult> result = SolveTasks(solver, *tasks, *options, std::cout, batch);
  if (!result.ok()) return Fail(result.status());
  for (const std::string& path : {absl::GetFlag(FLAGS_out), absl::GetFlag(FLAGS_report)}) {
    if (absl::Status s = CreateParentDirectory(path); !s.ok()) return Fail(s);
  }
  absl::Status written = WriteBatchFiles(*result, absl::GetFlag(FLAGS_out), absl::GetFlag(FLAGS_report), std::cout);
  if (!written.ok()) return Fail(written);
  written = WriteBatchHtml(*result, *tasks, absl::GetFlag(FLAGS_html), std::cout);
  if (!written.ok()) return Fail(written);
  return result->failed == 0 ? 0 : 1;
}

}  // namespace
}  // namespace arc

int main(int argc, char** argv) {
  const arc::ToolHelp help{
      "arc-solve",
      "solves ARC tasks offline with the whole pipeline, without a server: per task the program "
      "search, then test-time training of a LoRA adapter on the task's demonstrations (unless a "
      "program explains them all, or --no_ttt), inference over transformed views and voting. "
      "Prints a line per task and pass@2 when the test outputs are known; writes a Kaggle "
      "submission and a JSON report (by default out/submission.json and out/report.json in the "
      "current directory).",
      "arc-solve --tasks PATH [--model DIR] [--solutions FILE] [--out FILE] [--report FILE] "
      "[--task_ids a,b] [--limit N] [--no_ttt] [solve options]",
      {},
      {arc::SolveFlagsSection()},
      "PATH is a task file, a directory of them or a Kaggle challenges file. Precedence of a solve\n"
      "option: built-in default < the model's solve_options.json < a flag given.\n"};
  if (!arc::ParseFlagsOnlyCommandLine(argc, argv, help)) return 2;
  arc::ApplyProcessFlags();
  return arc::Run();
}
