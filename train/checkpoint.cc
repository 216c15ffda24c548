#include "train/checkpoint.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/data/file_util.h"
#include "core/data/status_macros.h"
#include "core/model/tensor_io.h"
#include "train/json_file.h"

namespace arc {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

constexpr char kCheckpointPrefix[] = "step-";
constexpr char kStateFormat[] = "arc-train-checkpoint/1";

std::string CheckpointName(int64_t step) {
  return absl::StrFormat("%s%08d", kCheckpointPrefix, step);
}

// Complete checkpoints (step-NNNNNNNN with a state.json) under `dir`, by step.
std::map<int64_t, std::string> ListCheckpoints(const std::string& dir) {
  std::map<int64_t, std::string> out;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return out;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (!absl::StartsWith(name, kCheckpointPrefix)) continue;
    const std::string digits = name.substr(sizeof(kCheckpointPrefix) - 1);
    int64_t step = 0;
    if (digits.empty() || !std::all_of(digits.begin(), digits.end(), ::isdigit) ||
        !absl::SimpleAtoi(digits, &step)) {
      continue;  // e.g. a temporary directory of an interrupted save
    }
    if (!fs::exists(entry.path() / "state.json", ec)) continue;
    out[step] = entry.path().string();
  }
  return out;
}

}  // namespace

absl::StatusOr<std::string> WriteCheckpoint(const std::string& checkpoint_dir, int keep,
                                            const ArcModel& model,
                                            const std::map<std::string, at::Tensor>& optimizer,
                                            const CheckpointRecord& record) {
  const PretrainState& s = record.state;
  std::error_code ec;
  fs::create_directories(checkpoint_dir, ec);
  if (ec) return absl::PermissionDeniedError(absl::StrCat(checkpoint_dir, ": ", ec.message()));
  const std::string final_dir = (fs::path(checkpoint_dir) / CheckpointName(s.step)).string();
  // Same step, same state (the run is deterministic and resuming with other options is refused):
  // a checkpoint already there is this one.
  if (fs::exists(fs::path(final_dir) / "state.json", ec)) return final_dir;
  // Leftovers of a save that was killed half-way (one trainer per checkpoint directory).
  for (const auto& entry : fs::directory_iterator(checkpoint_dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (absl::StartsWith(name, kCheckpointPrefix) && absl::StrContains(name, ".tmp")) {
      fs::remove_all(entry.path(), ec);
    }
  }
  const std::string tmp = absl::StrCat(final_dir, ".tmp-", ::getpid());
  fs::remove_all(tmp, ec);
  fs::create_directories(tmp, ec);
  if (ec) return absl::PermissionDeniedError(absl::StrCat(tmp, ": ", ec.message()));

  ARC_RETURN_IF_ERROR(SaveArcModel(model, tmp));
  ARC_RETURN_IF_ERROR(SaveTensors(tmp + "/optimizer.safetensors", optimizer));
  const Json state = {
      {"format", kStateFormat},
      {"step", s.step},
      {"tokens", s.tokens},
      {"padded_tokens", s.padded_tokens},
      {"loss_tokens", s.loss_tokens},
      {"samples", s.samples},
      {"arc_samples", s.arc_samples},
      {"program_samples", s.program_samples},
      {"chunk", s.chunk},
      {"batch_in_chunk", s.batch_in_chunk},
      {"seconds", s.seconds},
      {"options", Json::parse(record.options_json)},
      {"budget",
       {{"max_steps", record.max_steps},
        {"max_tokens", record.max_tokens},
        {"max_minutes", record.max_minutes}}},
  };
  ARC_RETURN_IF_ERROR(WriteFileAtomic(tmp + "/state.json", state.dump(2) + "\n"));
  // The rename is the commit point: a kill before it leaves only a temporary directory.
  fs::rename(tmp, final_dir, ec);
  if (ec) {
    return absl::PermissionDeniedError(
        absl::StrCat(final_dir, ": rename of the checkpoint failed (", ec.message(), ")"));
  }
  if (keep > 0) {
    std::map<int64_t, std::string> all = ListCheckpoints(checkpoint_dir);
    while (static_cast<int>(all.size()) > keep) {
      fs::remove_all(all.begin()->second, ec);
      all.erase(all.begin());
    }
  }
  return final_dir;
}

absl::StatusOr<PretrainState> ReadCheckpointState(const std::string& dir,
                                                  const std::string& options_json) {
  const std::string state_path = dir + "/state.json";
  ARC_ASSIGN_OR_RETURN(const Json j, ReadJsonFile(state_path));
  PretrainState s;
  try {
    if (j.value("format", std::string()) != kStateFormat) {
      return absl::InvalidArgumentError(
          absl::StrCat(state_path, ": format: expected \"", kStateFormat, "\""));
    }
    const Json want = Json::parse(options_json);
    const Json& have = j.at("options");
    for (auto it = want.begin(); it != want.end(); ++it) {
      if (!have.contains(it.key()) || have[it.key()] != it.value()) {
        return absl::FailedPreconditionError(
            absl::StrCat(dir, ": the checkpoint was written with ", it.key(), "=",
                         have.contains(it.key()) ? have[it.key()].dump() : "(absent)",
                         ", this run has ", it.key(), "=", it.value().dump(),
                         "; resume with the checkpoint's options or use another --checkpoint_dir"));
      }
    }
    s.step = j.at("step").get<int64_t>();
    s.tokens = j.at("tokens").get<int64_t>();
    s.padded_tokens = j.at("padded_tokens").get<int64_t>();
    s.loss_tokens = j.at("loss_tokens").get<int64_t>();
    s.samples = j.at("samples").get<int64_t>();
    s.arc_samples = j.at("arc_samples").get<int64_t>();
    // Absent in checkpoints written before program tasks existed (none were trained then).
    s.program_samples = j.value("program_samples", int64_t{0});
    s.chunk = j.at("chunk").get<int64_t>();
    s.batch_in_chunk = j.at("batch_in_chunk").get<int64_t>();
    s.seconds = j.at("seconds").get<double>();
  } catch (const Json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(state_path, ": ", e.what()));
  }
  return s;
}

std::optional<std::string> LatestCheckpoint(const std::string& checkpoint_dir) {
  std::map<int64_t, std::string> all = ListCheckpoints(checkpoint_dir);
  if (all.empty()) return std::nullopt;
  return all.rbegin()->second;
}

}  // namespace arc
