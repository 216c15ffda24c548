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

// The precision to hold and compute a model directory's weights in on `device`, for `choice`
// "float32", "bfloat16" or "auto": bfloat16 on CUDA; on the CPU bfloat16 when config.json's
// torch_dtype is "bfloat16" and CpuHasFastBfloat16(), else float32. Why: with libtorch 1.13 a CPU
// bfloat16 matmul is fast only through oneDNN, which libtorch uses for it when the CPU has AVX-512
// (BW, VL, DQ); there it beats float32 (docs/GPU.md: 4x at 256 rows with AMX, 3.6x for one row,
// half the memory); elsewhere it falls back to a scalar loop at about 1.8 GFLOP/s, so a float32
// copy is the faster choice and converting a layer on the fly costs more than its product.
// INVALID_ARGUMENT for another `choice`; a missing or unreadable config.json is the loader's
// business (auto then picks float32 on the CPU).
absl::StatusOr<at::ScalarType> ChooseModelDtype(const std::string& dir, std::string_view choice,
                                                at::Device device);
// Whether libtorch's oneDNN bfloat16 matmul path is available on this CPU (x86 AVX-512 BW, VL and
// DQ, and oneDNN enabled).
bool CpuHasFastBfloat16();

// Loads a model directory. Errors name the file and the fault.
absl::StatusOr<std::shared_ptr<const ArcModel>> LoadArcModel(const std::string& dir,
                                                            const ModelOptions& options = {});

// Wraps an in-memory network with a tokenizer and a format named `format_name` (tests, training).
absl::StatusOr<std::shared_ptr<const ArcModel>> MakeArcModel(std::string name, LlamaForCausalLM net,
                                                            std::unique_ptr<Tokenizer> tokenizer,
                                                            const std::string& format_name);

// Writes config.json, model.safetensors, tokenizer.json and arc_model.json into `dir` (created if
// missing); with max_shard_bytes > 0 the weights go to safetensors shards of at most that size
// with model.safetensors.index.json (SaveLlamaDir).
absl::Status SaveArcModel(const ArcModel& model, const std::string& dir,
                          int64_t max_shard_bytes = 0);

}  // namespace arc

#endif  // ARC_CORE_MODEL_ARC_MODEL_H_
