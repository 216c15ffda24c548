// Fuzz target: config.json text (ParseModelConfig, core/model/model_config.h; the torch-free
// target arc_core_model_config). Never crashes or throws; a refusal is INVALID_ARGUMENT; an
// accepted config validates, counts its parameters and FLOPs without overflow (UBSan) and survives
// ToJson and back unchanged.
#include "core/model/model_config.h"
#include "fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using arc::fuzz::Check;
  const absl::StatusOr<arc::ModelConfig> config =
      arc::ParseModelConfig(arc::fuzz::AsText(data, size));
  arc::fuzz::CheckRefusal(config.status(), "ParseModelConfig");
  if (!config.ok()) return 0;
  Check(config->Validate().ok(), "an accepted config validates");
  Check(config->NumParameters() > 0, "parameters are counted");
  Check(config->ForwardFlopsPerToken(config->max_position_embeddings) > 0, "FLOPs are counted");
  const absl::StatusOr<arc::ModelConfig> back = arc::ParseModelConfig(config->ToJson());
  Check(back.ok(), "ToJson reads back");
  Check(back->ToJson() == config->ToJson(), "ToJson round-trips");
  return 0;
}
