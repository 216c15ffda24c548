// Pretraining checkpoints: where a run is (PretrainState) and the directory that records it.
//
// A checkpoint is <checkpoint_dir>/step-<8 digits>/ holding the model files as SaveArcModel writes
// them (so a checkpoint is itself a model directory), optimizer.safetensors (AdamW::StateTensors)
// and state.json (the counters, the data position, the trajectory options and the budget). It is
// written through a temporary directory and a rename, so a kill leaves either a complete checkpoint
// or none. train/pretrainer.h saves and restores through these functions.
//
// Thread safety: one writer per checkpoint directory; the functions share no state.
#ifndef ARC_TRAIN_CHECKPOINT_H_
#define ARC_TRAIN_CHECKPOINT_H_

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/model/arc_model.h"

namespace arc {

// Where a run is. Everything needed, with the weights and optimizer state, to resume exactly.
struct PretrainState {
  int64_t step = 0;    // optimizer steps done
  int64_t tokens = 0;  // non-pad tokens trained on
  int64_t padded_tokens = 0;
  int64_t loss_tokens = 0;  // tokens that carried loss
  int64_t samples = 0;
  int64_t arc_samples = 0;
  int64_t program_samples = 0;  // DSL-program tasks among the samples
  int64_t chunk = 0;           // data position: chunk of shuffle_window samples ...
  int64_t batch_in_chunk = 0;  // ... and the next batch within it
  double seconds = 0;          // training time (steps only), summed over sittings
};

// What state.json records besides the counters.
struct CheckpointRecord {
  PretrainState state;
  std::string options_json;  // the options that decide the trajectory, a JSON object
  int64_t max_steps = 0;     // the budget (informational; a resumed run may change it)
  int64_t max_tokens = 0;
  double max_minutes = 0;
};

// Writes the checkpoint of record.state.step under `checkpoint_dir` (created if needed) and keeps
// the newest `keep` checkpoints (0 = all). A checkpoint of that step already there is returned
// as it is (the run is deterministic). Returns the directory.
absl::StatusOr<std::string> WriteCheckpoint(const std::string& checkpoint_dir, int keep,
                                            const ArcModel& model,
                                            const std::map<std::string, at::Tensor>& optimizer,
                                            const CheckpointRecord& record);

// The state recorded in `dir`/state.json. FAILED_PRECONDITION naming the option when the
// checkpoint was written with trajectory options other than `options_json`; INVALID_ARGUMENT /
// NOT_FOUND naming the file for a wrong format or a missing field.
absl::StatusOr<PretrainState> ReadCheckpointState(const std::string& dir,
                                                  const std::string& options_json);

// The newest complete checkpoint directory under `checkpoint_dir` (step-NNNNNNNN; temporary
// directories of an interrupted save are ignored), or nullopt when there is none or the directory
// does not exist.
std::optional<std::string> LatestCheckpoint(const std::string& checkpoint_dir);

}  // namespace arc

#endif  // ARC_TRAIN_CHECKPOINT_H_
