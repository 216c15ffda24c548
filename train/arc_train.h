// arc-train's run (the tool, tools/arc_train.cc, only parses flags into ArcTrainOptions): builds
// or loads the model, the data mix and the validation sets, then drives a Pretrainer to its budget
// with progress lines and validation on stdout (and optionally JSONL), periodic checkpoints and a
// checkpoint when stopped. docs/TRAINING.md has the commands and the output.
//
// Thread safety: one run per process at a time (it sets libtorch's intra-op thread count); `stop`
// may be set from a signal handler or another thread.
#ifndef ARC_TRAIN_ARC_TRAIN_H_
#define ARC_TRAIN_ARC_TRAIN_H_

#include <atomic>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "train/pretrain_data.h"
#include "train/pretrainer.h"

namespace arc {

struct ArcTrainOptions {
  // Model: exactly one of preset (tiny, small or WxL) and init (a model directory).
  std::string preset;
  std::string init;
  int heads = 0;                     // WxL: attention heads (0 = W/32)
  int kv_heads = 0;                  // WxL: key/value heads (0 = heads)
  int ffn = 0;                       // WxL: MLP width (0 = 8W/3 rounded up to a multiple of 16)
  int64_t context = 2048;            // new model: max_position_embeddings
  bool scaled_residual_init = true;  // new model: o_proj, down_proj init * 1/sqrt(2 layers)
  std::string name;  // model name (default arc-<preset>-trained or <init name>-trained)
  std::string out;   // final model directory (required)

  // Data: ARC-AGI-1 with splits.json; data.seed also seeds a new model's initialisation.
  std::string arc_dir = "../shared/data/arc-agi-1";
  // The named curriculum (train/curriculum.h) used when data.curriculum is empty.
  std::string curriculum = "default";
  PretrainDataOptions data;
  // Optimisation and budget.
  PretrainOptions training;
  int threads = 1;             // at::set_num_threads; results are deterministic per count
  std::string device = "cpu";  // cpu, cuda or cuda:N

  // Checkpoints.
  std::string checkpoint_dir;      // empty = none
  double checkpoint_minutes = 10;  // every this many wall minutes (0 = off)
  int64_t checkpoint_steps = 0;    // every this many steps (0 = off)
  int keep_checkpoints = 3;        // newest kept (0 = all)
  bool resume = false;             // continue from the newest checkpoint in checkpoint_dir

  // Reporting.
  int64_t log_every = 10;    // progress line every this many steps
  int64_t eval_every = 500;  // validation every this many steps (0 = only at the end)
  int eval_tasks = 70;       // generated tasks per validation set (families, held-out programs)
  uint64_t eval_seed = 1000000;
  bool eval_dev = true;           // also the dev tasks (loss only, never trained)
  std::string log_jsonl;          // append progress and validation records here
  int64_t kill_self_at_step = 0;  // testing: SIGKILL the process right after this step
};

// Trains to the budget and writes the model to options.out. INVALID_ARGUMENT for bad options
// (naming the flag); CANCELLED when `stop` was set, after writing a checkpoint when there is a
// checkpoint_dir; other errors from the pieces (data, model, checkpoint files).
absl::Status RunArcTrain(const ArcTrainOptions& options, const std::atomic<bool>& stop);

}  // namespace arc

#endif  // ARC_TRAIN_ARC_TRAIN_H_
