// LoRA adapters for the Llama decoder (core/llama.h), stored apart from the base model.
//
// For each targeted projection W0 (out, in) of each layer, an adapter holds A (r, in) and B (out,
// r) and the model computes y = W0 x + (alpha / r) * B(A(dropout(x))). A starts as
// kaiming_uniform(a = sqrt(5)) (what torch.nn.Linear and PEFT use: U(-1/sqrt(in), 1/sqrt(in))) and
// B as zeros, so a fresh adapter leaves the model's output unchanged.
//
// One base, many adapters: the adapter is a separate object passed by pointer to the model's
// forward methods; the base model is never written. Two jobs can therefore train or decode with two
// adapters over one shared base at the same time.
//
// Randomness: A is drawn from arc::Rng(config.seed) (the project's only randomness source; no
// global torch generator and so no lock), in float32 on the CPU, then moved to the adapter's dtype
// and device, so the initial values for a seed are identical on every platform and device. LoRA
// dropout (active only between SetTraining(true) and SetTraining(false)) draws its masks from a CPU
// at::Generator owned by the adapter and seeded from the same seed; with dropout 0 (the default and
// the MIT setting) nothing random happens after construction.
//
// Reset() restores A and B to their initial values bit-exactly (a snapshot kept at construction or
// load) and clears gradients, so a worker can reuse one adapter object for task after task.
//
// Save/Load use the PEFT layout: adapter_config.json + adapter_model.safetensors with names such as
// base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight (r, in) and ...lora_B.weight (out,
// r), and base_model.model.lm_head.lora_A.weight for the LM head.
//
// Thread safety: not thread-safe to mutate (training, Reset, Load*). Concurrent forwards with
// dropout off only read the tensors and are safe. One adapter belongs to one job.
#ifndef ARC_CORE_MODEL_LORA_H_
#define ARC_CORE_MODEL_LORA_H_

#include <ATen/ATen.h>

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/model/llama.h"
#include "core/model/model_config.h"

namespace arc {

struct LoraConfig {
  int64_t rank = 8;      // r, > 0
  double alpha = 16.0;   // scale = alpha / rank
  double dropout = 0.0;  // in [0, 1)
  // The projections that get an adapter, in PEFT order of mention; no duplicates, not empty.
  std::vector<ProjectionKind> targets = {ProjectionKind::kQ, ProjectionKind::kV};
  uint64_t seed = 0;  // initialisation of A and the dropout stream
  // dtype of A and B; nullopt: the model's dtype. (float32 adapters over a bf16 base work: inputs
  // are cast to the adapter's dtype and the update back.)
  std::optional<at::ScalarType> dtype;

  // INVALID_ARGUMENT naming the field (rank, alpha, dropout, targets).
  absl::Status Validate() const;
};

// Parses a PEFT target module name: q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj,
// lm_head. INVALID_ARGUMENT for anything else.
absl::StatusOr<ProjectionKind> ParseProjectionKind(const std::string& name);

// A (r, in) and B (out, r) of one projection.
struct LoraWeights {
  at::Tensor a;
  at::Tensor b;
};

class LoraAdapter {
 public:
  // A fresh adapter for a model of `model_config` on `options`' device (A seeded, B zero).
  static absl::StatusOr<std::unique_ptr<LoraAdapter>> Create(const ModelConfig& model_config,
                                                             const LoraConfig& config,
                                                             const ModelOptions& options = {});
  // Reads a PEFT adapter directory (adapter_config.json + adapter_model.safetensors). The loaded
  // values become the Reset() snapshot. INVALID_ARGUMENT for unsupported PEFT options (use_dora,
  // use_rslora, fan_in_fan_out, layers_to_transform, modules_to_save, bias other than "none"),
  // missing/extra/misshapen tensors; NOT_FOUND for missing files. `seed` seeds the dropout stream.
  static absl::StatusOr<std::unique_ptr<LoraAdapter>> Load(const std::string& dir,
                                                           const ModelConfig& model_config,
                                                           const ModelOptions& options = {},
                                                           uint64_t seed = 0);
  // Writes adapter_config.json and adapter_model.safetensors (float32) into `dir` (which must
  // exist).
  absl::Status Save(const std::string& dir) const;

  LoraAdapter(const LoraAdapter&) = delete;
  LoraAdapter& operator=(const LoraAdapter&) = delete;

  const LoraConfig& config() const { return config_; }
  double scale() const { return config_.alpha / static_cast<double>(config_.rank); }

  // The weights of `kind` in `layer` (layer is ignored for kLmHead), or nullptr when not targeted.
  const LoraWeights* Find(int64_t layer, ProjectionKind kind) const;
  // The update scale * B(A(dropout(x))) for x (..., in): (..., out) in x's dtype.
  at::Tensor Delta(const at::Tensor& x, const LoraWeights& w) const;

  // All A and B tensors (leaves with requires_grad), in NamedParameters() order: for an optimizer.
  std::vector<at::Tensor> Parameters() const;
  // (PEFT name, tensor), layer by layer, each target's lora_A before lora_B; lm_head last.
  std::vector<std::pair<std::string, at::Tensor>> NamedParameters() const;
  int64_t NumParameters() const;

  // Restores the initial A and B bit-exactly and drops gradients.
  void Reset();
  // Overwrites A/B from PEFT-named tensors (all names required, shapes exact). Does not change the
  // Reset() snapshot.
  absl::Status LoadStateDict(const std::map<std::string, at::Tensor>& tensors);

  // Dropout is applied only in training mode (default: off).
  void SetTraining(bool training) { training_ = training; }
  bool training() const { return training_; }

  // adapter_config.json text.
  std::string ConfigJson() const;

 private:
  LoraAdapter(const ModelConfig& model_config, const LoraConfig& config,
              const ModelOptions& options);
  void SnapshotInitial();

  ModelConfig model_config_;
  LoraConfig config_;
  bool training_ = false;
  // layers_[l][kind] for the 7 per-layer projections; undefined tensors where not targeted.
  std::vector<std::array<LoraWeights, kNumProjectionKinds>> layers_;
  LoraWeights lm_head_;
  std::vector<at::Tensor> initial_;  // clones in Parameters() order
  mutable at::Generator dropout_generator_;
};

// The PEFT name of an adapter tensor, e.g.
// ("base_model.model.model.layers.3.mlp.up_proj.lora_B.weight").
std::string PeftTensorName(int64_t layer, ProjectionKind kind, bool is_b);

}  // namespace arc

#endif  // ARC_CORE_MODEL_LORA_H_
