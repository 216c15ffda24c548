// arc-init-model: writes a seeded, randomly initialised Llama model directory in the compact format
// (config.json, model.safetensors, tokenizer.json, arc_model.json). It solves nothing by itself: it
// is the starting point for arc-train and the stand-in the pipeline's tests and benchmarks use.
//
//   arc-init-model --preset NAME --out DIR [--seed N] [--context TOKENS]
// NAME is one of the compact configurations of NamedModelConfigs() (core/model/model_config.h):
// tiny (1 layer of width 32, 10k parameters, for smoke tests) or small (4.24M parameters).
#include <iostream>
#include <string>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "core/model/arc_model.h"
#include "core/model/model_config.h"
#include "tools/flags/usage.h"

ABSL_FLAG(std::string, preset, "small",
          absl::StrCat("a named compact configuration: ",
                       arc::ModelConfigNames(/*compact_only=*/true)));
ABSL_FLAG(std::string, out, "", "output directory (required)");
ABSL_FLAG(std::string, name, "", "model name (default arc-<preset>-random)");
ABSL_FLAG(uint64_t, seed, 0, "initialisation seed");
ABSL_FLAG(int64_t, context, 2048, "context length in tokens (max_position_embeddings)");

namespace arc {
namespace {

int Run() {
  const std::string out = absl::GetFlag(FLAGS_out);
  if (out.empty()) {
    std::cerr << "arc-init-model: --out: required\n";
    return 2;
  }
  absl::StatusOr<ModelConfig> config =
      FindModelConfig(absl::GetFlag(FLAGS_preset), "--preset", /*compact_only=*/true);
  if (!config.ok()) {
    std::cerr << "arc-init-model: " << config.status().message() << "\n";
    return 2;
  }
  config->max_position_embeddings = absl::GetFlag(FLAGS_context);
  absl::StatusOr<LlamaForCausalLM> net = CreateLlama(*config);
  if (!net.ok()) {
    std::cerr << "arc-init-model: " << net.status() << "\n";
    return 2;
  }
  (*net)->InitializeWeights(absl::GetFlag(FLAGS_seed));
  std::string name = absl::GetFlag(FLAGS_name);
  if (name.empty()) name = absl::StrCat("arc-", absl::GetFlag(FLAGS_preset), "-random");
  absl::StatusOr<std::shared_ptr<const ArcModel>> model =
      MakeArcModel(name, std::move(*net), MakeCompactTokenizer(), "compact");
  if (!model.ok()) {
    std::cerr << "arc-init-model: " << model.status() << "\n";
    return 1;
  }
  if (absl::Status s = SaveArcModel(**model, out); !s.ok()) {
    std::cerr << "arc-init-model: " << s << "\n";
    return 1;
  }
  std::cout << "wrote " << out << ": " << name << ", " << config->NumParameters()
            << " parameters, context " << config->max_position_embeddings << "\n";
  return 0;
}

}  // namespace
}  // namespace arc

int main(int argc, char** argv) {
  const arc::ToolHelp help{
      "arc-init-model",
      "writes a seeded, randomly initialised Llama model directory in the compact format "
      "(config.json, model.safetensors, tokenizer.json, arc_model.json). It solves nothing by "
      "itself: it is the starting point of arc-train (--init) and the stand-in model of tests and "
      "benchmarks.",
      "arc-init-model --out DIR [--preset NAME] [--seed N] [--context TOKENS] [--name NAME]",
      {},
      {},
      absl::StrCat("presets:\n", arc::ModelConfigHelp(/*compact_only=*/true))};
  if (!arc::ParseFlagsOnlyCommandLine(argc, argv, help)) return 2;
  return arc::Run();
}
