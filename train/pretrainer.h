// The pretraining loop state: full training of every parameter of a compact-format Llama model on
// the data mix of train/pretrain_data.h, one optimizer step at a time (core/model/training.h's
// TrainStep on a length-bucketed batch), with validation (train/validation.h) and checkpoints
// (train/checkpoint.h) that resume bit-for-bit.
//
// Determinism: the data position is (chunk of shuffle_window samples, batch within it); a chunk's
// batch order comes from an Rng stream forked from the seed and the chunk index. With the same
// options, seed and thread count (libtorch's CPU kernels reduce in a thread-count-dependent order)
// a run gives the same weights whether or not it was interrupted and resumed. A max_minutes budget
// makes the schedule depend on wall time and so is the one exception.
//
// Ownership and thread safety: a Pretrainer owns its optimizer and trains the parameters of the
// model it was given in place (the ArcModel is shared, but nobody else may use it while training
// runs); one thread drives it.
#ifndef ARC_TRAIN_PRETRAINER_H_
#define ARC_TRAIN_PRETRAINER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/model/arc_model.h"
#include "core/model/training.h"
#include "train/checkpoint.h"
#include "train/pretrain_data.h"
#include "train/validation.h"

namespace arc {

struct PretrainOptions {
  int64_t batch_tokens = 4096;  // padded tokens per step (rows * longest), >= data.max_seq_len
  int shuffle_window = 512;     // samples sorted by length together, then batched; 1..1000000
  LrSchedule schedule;
  AdamWOptions adamw;
  double clip = 1.0;  // global gradient-norm clip; 0 = off
  // Budget: training stops at the first one reached (0 = unset; at least one must be set).
  int64_t max_steps = 0;
  int64_t max_tokens = 0;  // non-pad tokens
  double max_minutes = 0;  // training seconds / 60, summed over sittings
};

absl::Status ValidatePretrainOptions(const PretrainOptions& options, int max_seq_len);

struct StepStats {
  int64_t step = 0;  // 1-based: the step just taken
  double loss = 0;   // mean cross-entropy per loss token
  double lr = 0;
  double grad_norm = 0;  // before clipping
  int64_t rows = 0;
  int64_t tokens = 0;  // non-pad
  int64_t padded_tokens = 0;
  int64_t loss_tokens = 0;
  double seconds = 0;
};

class Pretrainer {
 public:
  // Trains model->net in place (its parameters get requires_grad). INVALID_ARGUMENT for bad
  // options, a model whose format is not data's, or a model context shorter than max_seq_len.
  static absl::StatusOr<std::unique_ptr<Pretrainer>> Create(
      std::shared_ptr<const ArcModel> model, std::shared_ptr<const PretrainData> data,
      PretrainOptions options);

  // One optimizer step on the next batch. INTERNAL on a libtorch failure; FAILED_PRECONDITION when
  // a whole chunk of samples is too long for max_seq_len.
  absl::StatusOr<StepStats> Step();
  // The fraction of the budget done, 0..1 (the largest over the budgets set).
  double Progress() const;
  bool Done() const { return Progress() >= 1.0; }

  // Teacher-forced loss over `samples` (batched by length under batch_tokens), without gradients.
  absl::StatusOr<EvalStats> Evaluate(const std::vector<RenderedPrompt>& samples) const;

  // Writes <checkpoint_dir>/step-<8 digits>/ (model files as SaveArcModel writes them, so the
  // checkpoint is itself a model directory; optimizer.safetensors; state.json) through a temporary
  // directory and a rename, so a kill leaves either a complete checkpoint or none. Keeps the newest
  // `keep` checkpoints (0 = all). Returns the directory written.
  absl::StatusOr<std::string> SaveCheckpoint(const std::string& checkpoint_dir, int keep = 3) const;
  // Restores weights, optimizer state, counters and data position from one checkpoint directory.
  // FAILED_PRECONDITION when it was written with different training options (naming the option);
  // NOT_FOUND / INVALID_ARGUMENT naming the file and tensor for a missing or mis-shaped tensor.
  // All-or-nothing: on error the trainer is unchanged.
  absl::Status RestoreCheckpoint(const std::string& dir);

  const PretrainState& state() const { return state_; }
  const PretrainOptions& options() const { return options_; }
  const ArcModel& model() const { return *model_; }
  // The options that decide the trajectory (budgets excluded), as stored in state.json.
  std::string TrajectoryOptionsJson() const;

 private:
  Pretrainer(std::shared_ptr<const ArcModel> model, std::shared_ptr<const PretrainData> data,
             PretrainOptions options, AdamW optimizer)
      : model_(std::move(model)),
        net_(model_->net),
        data_(std::move(data)),
        options_(std::move(options)),
        optimizer_(std::move(optimizer)) {}
  // Fills chunk_batches_ for state_.chunk.
  void LoadChunk();

  std::shared_ptr<const ArcModel> model_;
  LlamaForCausalLM net_;  // model_->net, writable: the trainer owns the weights while it runs
  std::shared_ptr<const PretrainData> data_;
  PretrainOptions options_;
  AdamW optimizer_;
  PretrainState state_;
  int64_t loaded_chunk_ = -1;
  std::vector<std::vector<PretrainSample>> chunk_batches_;  // the loaded chunk's batches, in order
};

}  // namespace arc

#endif  // ARC_TRAIN_PRETRAINER_H_
