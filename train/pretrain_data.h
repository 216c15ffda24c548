// The pretraining data mix: sample `i` of the training stream as a pure function of (options, i).
// With probability arc_fraction it is an augmented ARC pretrain task, otherwise a generated task:
// with probability program_fraction (of the generated samples) a task of a random DSL program
// (gen/program_tasks.h, training mode: never a held-out program shape), else task i of a TaskStream
// over the training families (never a held-out family). Both follow the curriculum at index i
// (train/curriculum.h); no sample is ever a dev task. Either way the task's demonstrations and test pairs are pooled, one
// pair is the target, the rest (shuffled) are demonstrations, and the whole thing is transformed by
// a random dihedral element and a colour permutation fixing 0. Demonstrations are dropped from the
// end until the rendered sample fits max_seq_len. The loss mask is
// LossMaskMode::kOutputsAfterFirst.
//
// Determinism: every random choice comes from arc::Rng streams forked from the seed and the sample
// index, so the data never depends on how a run was split into sittings.
//
// Ownership and thread safety: PretrainData is immutable after Create and thread-safe; it refers to
// a PromptFormat that must outlive it.
#ifndef ARC_TRAIN_PRETRAIN_DATA_H_
#define ARC_TRAIN_PRETRAIN_DATA_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/data/grid.h"
#include "core/data/rng.h"
#include "core/text/prompt_format.h"
#include "gen/generator.h"

namespace arc {

// Fork streams of the run seed, one per independent use, so that no two uses share draws.
inline constexpr uint64_t kSampleStream = 1;      // then Fork(sample index)
inline constexpr uint64_t kBatchOrderStream = 2;  // then Fork(chunk index): train/pretrainer.cc
inline constexpr uint64_t kGeneratorStream = 3;   // the TaskStream's seed
inline constexpr uint64_t kProgramStream = 4;     // program task i: TaskSeed(this seed, i)

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

struct PretrainDataOptions {
  uint64_t seed = 0;
  double arc_fraction = 0.25;     // share of samples from ARC pretrain tasks, 0..1
  int max_seq_len = 1024;         // tokens per sample, 16..65536; demonstrations dropped to fit
  int min_demonstrations = 1;     // a sample keeps at least this many, 1..10
  bool augment_generated = true;  // dihedral, colour and order augmentation of generated tasks too
  // Share of the generated samples that are DSL-program tasks, 0..1 (0: families only, the data
  // of runs before program tasks existed, sample for sample).
  double program_fraction = 0;
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
  std::string family;      // the generated family, "program" for a program task; empty for ARC
  std::string program;     // the program text of a program task
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
  // The generated task of sample `index` (a program task when `program` and one was generated).
  Task GeneratedTask(int64_t index, bool program, PretrainSample& sample) const;
  // A random pair of `pool` as the target after the others, shuffled.
  std::optional<CappedPrompt> FromPool(const std::vector<Example>& pool, Rng& rng) const;

  const PromptFormat* format_;
  PretrainDataOptions options_;
  TaskStream stream_;
  std::vector<Task> arc_tasks_;
  int arc_dropped_ = 0;
  std::string arc_fingerprint_;
};

}  // namespace arc

#endif  // ARC_TRAIN_PRETRAIN_DATA_H_
