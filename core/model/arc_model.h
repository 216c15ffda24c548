// ArcModel: everything the solver needs from a model directory, loaded once and shared read-only
// by every worker: the Llama decoder (core/llama.h), its tokenizer (tokenizer.json) and the prompt
// format that goes with it (compact tokenizer -> "compact", byte-level BPE -> "marc").
//
// A model directory is the Hugging Face layout (config.json, model.safetensors or shards,
// tokenizer.json) plus an optional arc_model.json: {"name": str, "prompt_format": "compact"|"marc"}
// overriding the defaults (the directory name; the format implied by the tokenizer).
//
// Thread-safety: immutable after loading; share it through std::shared_ptr<const ArcModel>.
#ifndef ARC_CORE_MODEL_ARC_MODEL_H_
#define ARC_CORE_MODEL_ARC_MODEL_H_

#include <memory>
#include <optional>
#include <string_view>
#include <string>

#include "absl/status/statusor.h"
#include "core/model/llama.h"
#include "core/text/prompt_format.h"
#include "core/text/tokenizer.h"

namespace arc {

struct ArcModel {
  std::string name;
  std::string dir;  // empty when built in memory
  LlamaForCausalLM net{nullptr};
  std::unique_ptr<Tokenizer> tokenizer;
  std::unique_ptr<PromptFormat> format;  // refers to *tokenizer

  int64_t NumParameters() const;
  // Largest total sequence length (prompt + generated) the model accepts.
  int64_t MaxSequenceLength() const { return net->config().max_position_embeddings; }
};

// Loads a model directory. Errors name the file and the fault.
absl::StatusOr<std::shared_ptr<const ArcModel>> LoadArcModel(const std::string& dir,
                                                            const ModelOptions& options = {});

// Wraps an in-memory network with a tokenizer and a format named `format_name` (tests, training).
absl::StatusOr<std::shared_ptr<const ArcModel>> MakeArcModel(std::string name, LlamaForCausalLM net,
                                                            std::unique_ptr<Tokenizer> tokenizer,
                                                            const std::string& format_name);

// Writes config.json, model.safetensors, tokenizer.json and arc_model.json into `dir` (created if
// missing).
absl::Status SaveArcModel(const ArcModel& model, const std::string& dir);

}  // namespace arc

#endif  // ARC_CORE_MODEL_ARC_MODEL_H_
