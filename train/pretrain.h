// Base-model pretraining (the library behind tools/arc_train.cc): full training of every parameter
// of a compact-format Llama model on a mix of augmented ARC `pretrain` tasks and generated tasks.
//
// The pieces, each usable and testable on its own:
//   - LoadArcSplits: the fixed pretrain/dev split of ARC-AGI-1 (splits.json), checked disjoint.
//   - PretrainData: sample `i` of the training stream as a pure function of (options, i): with
//     probability arc_fraction an augmented ARC pretrain task, otherwise generated task i of a
//     TaskStream over the training families (never a held-out family, never a dev task). Either way
//     the task's demonstrations and test pairs are pooled, one pair is the target, the rest
//     (shuffled) are demonstrations, and the whole thing is transformed by a random dihedral
//     element and a colour permutation fixing 0. Demonstrations are dropped from the end until the
//     rendered sample fits max_seq_len. The loss mask is LossMaskMode::kOutputsAfterFirst.
//   - MakeLengthBatches: length bucketing under a token budget (rows * longest row <= budget).
//   - PretrainLearningRate: linear warmup, then a cosine over the run's progress to a floor.
//   - AdamW: a plain AdamW whose state (exp_avg, exp_avg_sq, step per parameter) saves and loads as
//     tensors, so a checkpoint is exact.
//   - Pretrainer: the loop state (model, optimizer, data position, counters), one optimizer step at
//   a
//     time, validation, and checkpoints that resume bit-for-bit.
//
// Determinism: every random choice comes from arc::Rng streams forked from the seed and a sample or
// chunk index, so the data never depends on how a run was split into sittings. With the same flags,
// seed and thread count (libtorch's CPU kernels reduce in a thread-count-dependent order) a run
// gives the same weights whether or not it was interrupted and resumed. A --minutes budget makes
// the schedule depend on wall time and so is the one exception.
//
// Ownership and thread safety: PretrainData is immutable after Create and thread-safe; it refers to
// a PromptFormat that must outlive it. A Pretrainer owns its optimizer and trains the parameters of
// the model it was given in place (the ArcModel is shared, but nobody else may use it while
// training runs); one thread drives it.
#ifndef ARC_TRAIN_PRETRAIN_H_
#define ARC_TRAIN_PRETRAIN_H_

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/model/arc_model.h"
#include "gen/generator.h"
#include "core/data/grid.h"
#include "core/text/prompt_format.h"
#include "core/data/rng.h"

namespace arc {

// ---------------------------------------------------------------------------------------------
// ARC data.

struct ArcSplits {
  std::vector<Task> pretrain;  // trainable, in splits.json order
  std::vector<Task> dev;       // for measurement only; never a training sample
};

// Reads <arc_dir>/splits.json ({"pretrain": [ids], "dev": [ids]}) and the task files
// <arc_dir>/training/<id>.json of both lists. FAILED_PRECONDITION when an id is in both lists or a
// pretrain task has the content of a dev task; NOT_FOUND / INVALID_ARGUMENT naming the file for a
// missing or malformed file or field.
absl::StatusOr<ArcSplits> LoadArcSplits(const std::string& arc_dir);

// A rendered sample and how many demonstrations it kept.
struct CappedPrompt {
  RenderedPrompt prompt;
  int demonstrations = 0;
};

// Renders `target` after `demonstrations` (in that order), dropping demonstrations from the end
// until the sample has at most max_seq_len tokens. nullopt when even `min_demonstrations` do not
// fit (or there are fewer). Errors are the format's (grids over 30x30).
absl::StatusOr<std::optional<CappedPrompt>> RenderWithinLength(
    const PromptFormat& format, std::vector<Example> demonstrations, const Example& target,
    int max_seq_len, int min_demonstrations = 1,
    LossMaskMode mode = LossMaskMode::kOutputsAfterFirst);

// ---------------------------------------------------------------------------------------------
// The training stream.

struct PretrainDataOptions {
  uint64_t seed = 0;
  double arc_fraction = 0.25;     // share of samples from ARC pretrain tasks, 0..1
  int max_seq_len = 1024;         // tokens per sample, 16..65536; demonstrations dropped to fit
  int min_demonstrations = 1;     // a sample keeps at least this many, 1..10
  bool augment_generated = true;  // dihedral, colour and order augmentation of generated tasks too
  // Generated families; empty means TrainingFamilies(). Held-out families are refused.
  std::vector<std::string> families;
  // The generator's curriculum, indexed by sample index; empty means DefaultCurriculum().
  std::vector<CurriculumStage> curriculum;
};

absl::Status ValidatePretrainDataOptions(const PretrainDataOptions& options);

struct PretrainSample {
  int64_t index = 0;
  bool from_arc = false;
  std::string task_id;     // the ARC id, or the generated "<family>_<seed>"
  std::string family;      // the generated family; empty for ARC samples
  int demonstrations = 0;  // kept after the length cap
  RenderedPrompt prompt;   // ids and loss mask (kOutputsAfterFirst)
};

class PretrainData {
 public:
  // `arc_tasks`: the pretrain split. `forbidden`: the dev split; FAILED_PRECONDITION naming the
  // task when an ARC task has a forbidden id or a forbidden task's content. ARC tasks whose
  // smallest sample (the smallest pair as target after the smallest other pair) exceeds max_seq_len
  // are left out (counted in num_arc_tasks_dropped). INVALID_ARGUMENT for bad options, an invalid
  // task, or arc_fraction > 0 with no usable ARC task. `format` must outlive the object.
  static absl::StatusOr<std::unique_ptr<PretrainData>> Create(std::vector<Task> arc_tasks,
                                                              const std::vector<Task>& forbidden,
                                                              const PromptFormat& format,
                                                              PretrainDataOptions options);

  // Sample `index` (>= 0): a pure function of (options, ARC tasks, index). nullopt when the drawn
  // pair cannot fit max_seq_len after a few redraws (rare; the caller skips it).
  std::optional<PretrainSample> SampleAt(int64_t index) const;

  const PretrainDataOptions& options() const { return options_; }
  const PromptFormat& format() const { return *format_; }
  int num_arc_tasks() const { return static_cast<int>(arc_tasks_.size()); }
  int num_arc_tasks_dropped() const { return arc_dropped_; }
  // FNV-1a over the ARC tasks' content hashes: identifies the training data in checkpoints.
  const std::string& arc_fingerprint() const { return arc_fingerprint_; }

 private:
  PretrainData(const PromptFormat& format, PretrainDataOptions options, TaskStream stream)
      : format_(&format), options_(std::move(options)), stream_(std::move(stream)) {}
  // A random pair of `pool` as the target after the others, shuffled.
  std::optional<CappedPrompt> FromPool(const std::vector<Example>& pool, Rng& rng) const;

  const PromptFormat* format_;
  PretrainDataOptions options_;
  TaskStream stream_;
  std::vector<Task> arc_tasks_;
  int arc_dropped_ = 0;
  std::string arc_fingerprint_;
};

// Groups samples of similar length: indices sorted by length (longest first, ties by index), then
// cut greedily so that every batch has rows * (its longest length) <= token_budget. Every index
// appears in exactly one batch. INVALID_ARGUMENT when a length is < 1 or > token_budget.
absl::StatusOr<std::vector<std::vector<int>>> MakeLengthBatches(const std::vector<int>& lengths,
                                                                int64_t token_budget);

// ---------------------------------------------------------------------------------------------
// Schedule and optimizer.

struct LrSchedule {
  double peak = 1.5e-3;
  int64_t warmup_steps = 100;  // linear ramp over the first steps: peak * (step + 1) / warmup
  double min_ratio = 0.1;      // the cosine ends at peak * min_ratio
};

// peak * min(1, (step+1)/warmup) * (r + (1 - r) * 0.5 * (1 + cos(pi * min(progress, 1)))), with
// r = min_ratio and `progress` the fraction of the budget done (steps, tokens or time), so the
// schedule needs no total step count when the budget is tokens or minutes.
double PretrainLearningRate(const LrSchedule& schedule, int64_t step, double progress);

struct AdamWOptions {
  double beta1 = 0.9;
  double beta2 = 0.95;
  double eps = 1e-8;
  double weight_decay = 0.05;  // decoupled; applied to matrices (dim >= 2) only, not to norms
};

// torch.optim.AdamW's update, written out so that its state is plain named tensors.
// Not thread-safe; the parameters are trained in place.
class AdamW {
 public:
  // `params`: leaf tensors by name (gradients are read from .grad()).
  AdamW(std::map<std::string, at::Tensor> params, AdamWOptions options);

  // One update at learning rate `lr` for every parameter with a defined gradient.
  void Step(double lr);
  // Drops every gradient (the next backward allocates fresh ones).
  void ZeroGrad();
  // Scales gradients so their global L2 norm is at most max_norm (torch's clip_grad_norm_, 1e-6
  // guard); returns the norm before clipping. max_norm <= 0 only measures.
  double ClipGradNorm(double max_norm);

  // "exp_avg/<name>", "exp_avg_sq/<name>" (float32, the parameter's shape) and "step/<name>"
  // (int64, shape [1]) for every parameter.
  std::map<std::string, at::Tensor> StateTensors() const;
  // Replaces the state from StateTensors() output. All-or-nothing: NOT_FOUND `missing tensor "x"`,
  // INVALID_ARGUMENT for a wrong shape or dtype or an unexpected tensor; the state is unchanged
  // then.
  absl::Status LoadStateTensors(std::map<std::string, at::Tensor> tensors);

 private:
  struct Slot {
    at::Tensor param, exp_avg, exp_avg_sq;
    int64_t step = 0;
    bool decay = false;
  };
  AdamWOptions options_;
  std::map<std::string, Slot> slots_;
};

// ---------------------------------------------------------------------------------------------
// The loop.

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

// Where a run is. Everything needed, with the weights and optimizer state, to resume exactly.
struct PretrainState {
  int64_t step = 0;    // optimizer steps done
  int64_t tokens = 0;  // non-pad tokens trained on
  int64_t padded_tokens = 0;
  int64_t loss_tokens = 0;  // tokens that carried loss
  int64_t samples = 0;
  int64_t arc_samples = 0;
  int64_t chunk = 0;           // data position: chunk of shuffle_window samples ...
  int64_t batch_in_chunk = 0;  // ... and the next batch within it
  double seconds = 0;          // training time (steps only), summed over sittings
};

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

struct EvalStats {
  int samples = 0;
  int64_t loss_tokens = 0;
  double loss = 0;  // per loss token (kOutputsAfterFirst mask)
  int64_t answer_tokens = 0;
  double answer_loss = 0;            // per token of the target output (rows and stop token)
  double answer_token_accuracy = 0;  // argmax == target, teacher-forced
  int exact = 0;                     // samples whose every answer token is the argmax
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

// The newest complete checkpoint directory under `checkpoint_dir` (step-NNNNNNNN; temporary
// directories of an interrupted save are ignored), or nullopt when there is none or the directory
// does not exist.
std::optional<std::string> LatestCheckpoint(const std::string& checkpoint_dir);

// ---------------------------------------------------------------------------------------------
// Validation sets.

// `count` generated tasks, task i = GenerateTask(families[i % n], TaskSeed(seed, i), difficulty).
// Errors are GenerateTask's.
absl::StatusOr<std::vector<Task>> GenerateTaskSet(const std::vector<std::string>& families,
                                                  uint64_t seed, int count,
                                                  const Difficulty& difficulty = {});

// One sample per test pair with a known output: the task's demonstrations in order, then that pair,
// no augmentation, demonstrations dropped from the end to fit max_seq_len (pairs that never fit
// are skipped).
absl::StatusOr<std::vector<RenderedPrompt>> MakeEvalSamples(const std::vector<Task>& tasks,
                                                            const PromptFormat& format,
                                                            int max_seq_len);

}  // namespace arc

#endif  // ARC_TRAIN_PRETRAIN_H_
