#include "core/model/lora.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/core/grad_mode.h>
#include <c10/util/Exception.h>

#include <cmath>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "core/data/file_util.h"
#include "core/data/rng.h"
#include "core/data/status_macros.h"
#include "core/model/tensor_io.h"
#include "nlohmann/json.hpp"

namespace arc {
namespace {

using Json = nlohmann::json;

constexpr ProjectionKind kLayerKinds[] = {
    ProjectionKind::kQ,    ProjectionKind::kK,  ProjectionKind::kV,   ProjectionKind::kO,
    ProjectionKind::kGate, ProjectionKind::kUp, ProjectionKind::kDown};

bool IsAttention(ProjectionKind kind) {
  return kind == ProjectionKind::kQ || kind == ProjectionKind::kK || kind == ProjectionKind::kV ||
         kind == ProjectionKind::kO;
}

// (in, out) features of a projection.
std::pair<int64_t, int64_t> ProjectionShape(const ModelConfig& c, ProjectionKind kind) {
  const int64_t q = c.num_attention_heads * c.head_dim, kv = c.num_key_value_heads * c.head_dim;
  switch (kind) {
    case ProjectionKind::kQ:
      return {c.hidden_size, q};
    case ProjectionKind::kK:
    case ProjectionKind::kV:
      return {c.hidden_size, kv};
    case ProjectionKind::kO:
      return {q, c.hidden_size};
    case ProjectionKind::kGate:
    case ProjectionKind::kUp:
      return {c.hidden_size, c.intermediate_size};
    case ProjectionKind::kDown:
      return {c.intermediate_size, c.hidden_size};
    case ProjectionKind::kLmHead:
      return {c.hidden_size, c.vocab_size};
  }
  return {0, 0};
}

// kaiming_uniform_(a = sqrt(5)) on an (r, in) matrix: gain sqrt(2 / (1 + 5)), bound
// gain * sqrt(3 / fan_in) = 1 / sqrt(in). Drawn from `rng` in float32 on the CPU.
at::Tensor KaimingUniformA(int64_t rank, int64_t in, Rng& rng) {
  at::Tensor a = at::empty({rank, in}, at::TensorOptions().dtype(at::kFloat));
  const double bound = 1.0 / std::sqrt(static_cast<double>(in));
  float* data = a.data_ptr<float>();
  for (int64_t i = 0; i < a.numel(); ++i) {
    data[i] = static_cast<float>((2.0 * rng.UniformDouble() - 1.0) * bound);
  }
  return a;
}

absl::Status ConfigError(absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat("adapter_config.json: ", message));
}

// Parses adapter_config.json into a LoraConfig, refusing PEFT options this implementation does not
// reproduce (they would silently change the function the adapter computes).
absl::StatusOr<LoraConfig> ParseAdapterConfig(const std::string& text, uint64_t seed) {
  const Json j = Json::parse(text, /*cb=*/nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return ConfigError("not a JSON object");
  auto get = [&](const char* key) -> const Json* {
    auto it = j.find(key);
    return it == j.end() || it->is_null() ? nullptr : &*it;
  };
  const Json* peft_type = get("peft_type");
  if (peft_type == nullptr || !peft_type->is_string() || peft_type->get<std::string>() != "LORA") {
    return ConfigError(absl::StrCat("peft_type ", peft_type == nullptr ? "null" : peft_type->dump(),
                                    " is not supported (only \"LORA\")"));
  }
  LoraConfig c;
  c.seed = seed;
  const Json* r = get("r");
  if (r == nullptr || !r->is_number_integer()) return ConfigError("'r' must be an integer");
  c.rank = r->get<int64_t>();
  const Json* alpha = get("lora_alpha");
  if (alpha == nullptr || !alpha->is_number()) return ConfigError("'lora_alpha' must be a number");
  c.alpha = alpha->get<double>();
  if (const Json* dropout = get("lora_dropout")) {
    if (!dropout->is_number()) return ConfigError("'lora_dropout' must be a number");
    c.dropout = dropout->get<double>();
  }
  const Json* targets = get("target_modules");
  if (targets == nullptr || !targets->is_array()) {
    return ConfigError("'target_modules' must be a list of module names");
  }
  c.targets.clear();
  for (const Json& t : *targets) {
    if (!t.is_string()) return ConfigError("'target_modules' must be a list of module names");
    absl::StatusOr<ProjectionKind> kind = ParseProjectionKind(t.get<std::string>());
    if (!kind.ok()) return ConfigError(kind.status().message());
    c.targets.push_back(*kind);
  }
  if (const Json* bias = get("bias")) {
    if (!bias->is_string() || bias->get<std::string>() != "none") {
      return ConfigError(absl::StrCat("bias ", bias->dump(), " is not supported (only \"none\")"));
    }
  }
  for (const char* flag : {"use_dora", "use_rslora", "fan_in_fan_out"}) {
    const Json* v = get(flag);
    if (v != nullptr && (!v->is_boolean() || v->get<bool>())) {
      return ConfigError(absl::StrCat("'", flag, "' is not supported (must be false)"));
    }
  }
  for (const char* list : {"layers_to_transform", "modules_to_save"}) {
    const Json* v = get(list);
    if (v != nullptr && !(v->is_array() && v->empty())) {
      return ConfigError(absl::StrCat("'", list, "' is not supported (must be null)"));
    }
  }
  absl::Status valid = c.Validate();
  if (!valid.ok()) return ConfigError(valid.message());
  return c;
}

std::string ShapeText(at::IntArrayRef sizes) {
  return absl::StrCat("[", absl::StrJoin(sizes, ", "), "]");
}

}  // namespace

absl::StatusOr<ProjectionKind> ParseProjectionKind(const std::string& name) {
  for (int k = 0; k < kNumProjectionKinds; ++k) {
    const auto kind = static_cast<ProjectionKind>(k);
    if (name == ProjectionName(kind)) return kind;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown LoRA target '", name,
      "' (expected q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj or lm_head)"));
}

absl::Status LoraConfig::Validate() const {
  if (rank <= 0)
    return absl::InvalidArgumentError(absl::StrCat("rank must be positive, got ", rank));
  if (!(alpha > 0)) {
    return absl::InvalidArgumentError(absl::StrCat("alpha must be positive, got ", alpha));
  }
  if (!(dropout >= 0 && dropout < 1)) {
    return absl::InvalidArgumentError(absl::StrCat("dropout must be in [0, 1), got ", dropout));
  }
  if (targets.empty()) return absl::InvalidArgumentError("targets must not be empty");
  std::set<ProjectionKind> seen;
  for (ProjectionKind t : targets) {
    if (!seen.insert(t).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("targets lists '", ProjectionName(t), "' twice"));
    }
  }
  if (dtype.has_value() && !at::isFloatingType(*dtype)) {
    return absl::InvalidArgumentError("dtype must be a floating-point type");
  }
  return absl::OkStatus();
}

std::string PeftTensorName(int64_t layer, ProjectionKind kind, bool is_b) {
  const char* ab = is_b ? "lora_B" : "lora_A";
  if (kind == ProjectionKind::kLmHead)
    return absl::StrCat("base_model.model.lm_head.", ab, ".weight");
  return absl::StrCat("base_model.model.model.layers.", layer,
                      IsAttention(kind) ? ".self_attn." : ".mlp.", ProjectionName(kind), ".", ab,
                      ".weight");
}

LoraAdapter::LoraAdapter(const ModelConfig& model_config, const LoraConfig& config,
                         const ModelOptions& options)
    : model_config_(model_config),
      config_(config),
      layers_(model_config.num_hidden_layers),
      dropout_generator_(at::make_generator<at::CPUGeneratorImpl>(config.seed)) {
  // One Rng stream for all A matrices, in NamedParameters() order, so values depend only on the
  // seed, the shapes and the target set.
  Rng rng(config.seed);
  const at::TensorOptions t =
      at::TensorOptions().dtype(config.dtype.value_or(options.dtype)).device(options.device);
  std::set<ProjectionKind> targeted(config.targets.begin(), config.targets.end());
  auto make = [&](ProjectionKind kind) {
    const auto [in, out] = ProjectionShape(model_config, kind);
    LoraWeights w;
    w.a = KaimingUniformA(config.rank, in, rng).to(t).set_requires_grad(true);
    w.b = at::zeros({out, config.rank}, t).set_requires_grad(true);
    return w;
  };
  for (int64_t l = 0; l < model_config.num_hidden_layers; ++l) {
    for (ProjectionKind kind : kLayerKinds) {
      if (targeted.count(kind) != 0) layers_[l][static_cast<int>(kind)] = make(kind);
    }
  }
  if (targeted.count(ProjectionKind::kLmHead) != 0) lm_head_ = make(ProjectionKind::kLmHead);
  SnapshotInitial();
}

void LoraAdapter::SnapshotInitial() {
  at::NoGradGuard no_grad;
  initial_.clear();
  for (const at::Tensor& p : Parameters()) initial_.push_back(p.detach().clone());
}

absl::StatusOr<std::unique_ptr<LoraAdapter>> LoraAdapter::Create(const ModelConfig& model_config,
                                                                 const LoraConfig& config,
                                                                 const ModelOptions& options) {
  ARC_RETURN_IF_ERROR(model_config.Validate());
  absl::Status valid = config.Validate();
  if (!valid.ok()) return absl::InvalidArgumentError(absl::StrCat("LoRA ", valid.message()));
  try {
    return std::unique_ptr<LoraAdapter>(new LoraAdapter(model_config, config, options));
  } catch (const c10::Error& e) {
    return absl::InternalError(
        absl::StrCat("creating the LoRA adapter: ", e.what_without_backtrace()));
  }
}

const LoraWeights* LoraAdapter::Find(int64_t layer, ProjectionKind kind) const {
  const LoraWeights* w = nullptr;
  if (kind == ProjectionKind::kLmHead) {
    w = &lm_head_;
  } else if (layer >= 0 && layer < static_cast<int64_t>(layers_.size())) {
    w = &layers_[layer][static_cast<int>(kind)];
  }
  return w != nullptr && w->a.defined() ? w : nullptr;
}

at::Tensor LoraAdapter::Delta(const at::Tensor& x, const LoraWeights& w) const {
  at::Tensor h = x.to(w.a.scalar_type());  // (..., in)
  if (training_ && config_.dropout > 0) {
    // Mask drawn on the CPU from the adapter's own generator (deterministic per seed, no global
    // state), then moved to the input's device.
    const double keep = 1.0 - config_.dropout;
    at::Tensor mask = at::empty(h.sizes(), at::TensorOptions().dtype(at::kFloat));
    mask.bernoulli_(keep, dropout_generator_);
    h = h * mask.div_(keep).to(h.options());  // (..., in)
  }
  const at::Tensor down = at::linear(h, w.a);   // (..., r)
  const at::Tensor up = at::linear(down, w.b);  // (..., out)
  return (up * scale()).to(x.scalar_type());    // (..., out)
}

std::vector<std::pair<std::string, at::Tensor>> LoraAdapter::NamedParameters() const {
  std::vector<std::pair<std::string, at::Tensor>> out;
  for (int64_t l = 0; l < static_cast<int64_t>(layers_.size()); ++l) {
    for (ProjectionKind kind : kLayerKinds) {
      const LoraWeights& w = layers_[l][static_cast<int>(kind)];
      if (!w.a.defined()) continue;
      out.emplace_back(PeftTensorName(l, kind, false), w.a);
      out.emplace_back(PeftTensorName(l, kind, true), w.b);
    }
  }
  if (lm_head_.a.defined()) {
    out.emplace_back(PeftTensorName(0, ProjectionKind::kLmHead, false), lm_head_.a);
    out.emplace_back(PeftTensorName(0, ProjectionKind::kLmHead, true), lm_head_.b);
  }
  return out;
}

std::vector<at::Tensor> LoraAdapter::Parameters() const {
  std::vector<at::Tensor> out;
  for (auto& [name, t] : NamedParameters()) out.push_back(t);
  return out;
}

int64_t LoraAdapter::NumParameters() const {
  int64_t n = 0;
  for (const at::Tensor& t : Parameters()) n += t.numel();
  return n;
}

void LoraAdapter::Reset() {
  at::NoGradGuard no_grad;
  std::vector<at::Tensor> params = Parameters();
  for (size_t i = 0; i < params.size(); ++i) {
    params[i].copy_(initial_[i]);
    params[i].mutable_grad() = at::Tensor();
  }
  dropout_generator_.set_current_seed(config_.seed);
}

absl::Status LoraAdapter::LoadStateDict(const std::map<std::string, at::Tensor>& tensors) {
  const auto named = NamedParameters();
  std::set<std::string> expected;
  for (const auto& [name, param] : named) {
    expected.insert(name);
    auto it = tensors.find(name);
    if (it == tensors.end()) {
      return absl::InvalidArgumentError(absl::StrCat("missing LoRA tensor '", name, "'"));
    }
    if (!it->second.defined() || !at::isFloatingType(it->second.scalar_type())) {
      return absl::InvalidArgumentError(
          absl::StrCat("LoRA tensor '", name, "' must be floating point"));
    }
    if (it->second.sizes() != param.sizes()) {
      return absl::InvalidArgumentError(absl::StrCat("LoRA tensor '", name, "' has shape ",
                                                     ShapeText(it->second.sizes()), ", expected ",
                                                     ShapeText(param.sizes())));
    }
  }
  for (const auto& [name, t] : tensors) {
    if (expected.count(name) == 0) {
      return absl::InvalidArgumentError(absl::StrCat("unexpected LoRA tensor '", name, "'"));
    }
  }
  at::NoGradGuard no_grad;
  try {
    for (const auto& [name, param] : named) {
      at::Tensor p = param;
      p.copy_(tensors.at(name));
    }
  } catch (const c10::Error& e) {
    return absl::InternalError(absl::StrCat("loading LoRA tensors: ", e.what_without_backtrace()));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<LoraAdapter>> LoraAdapter::Load(const std::string& dir,
                                                               const ModelConfig& model_config,
                                                               const ModelOptions& options,
                                                               uint64_t seed) {
  ARC_ASSIGN_OR_RETURN(std::string text, ReadFile(dir + "/adapter_config.json", int64_t{1} << 20));
  absl::StatusOr<LoraConfig> config = ParseAdapterConfig(text, seed);
  if (!config.ok()) {
    return absl::Status(config.status().code(), absl::StrCat(dir, "/", config.status().message()));
  }
  ARC_ASSIGN_OR_RETURN(std::unique_ptr<LoraAdapter> adapter,
                       Create(model_config, *config, options));
  ARC_ASSIGN_OR_RETURN(auto tensors, LoadTensors(dir + "/adapter_model.safetensors"));
  absl::Status loaded = adapter->LoadStateDict(tensors);
  if (!loaded.ok()) {
    return absl::Status(loaded.code(),
                        absl::StrCat(dir, "/adapter_model.safetensors: ", loaded.message()));
  }
  adapter->SnapshotInitial();
  return adapter;
}

absl::Status LoraAdapter::Save(const std::string& dir) const {
  std::map<std::string, at::Tensor> tensors;
  {
    at::NoGradGuard no_grad;
    for (const auto& [name, t] : NamedParameters()) {
      tensors.emplace(name, t.detach().to(at::kCPU, at::kFloat).contiguous());
    }
  }
  ARC_RETURN_IF_ERROR(WriteFileAtomic(dir + "/adapter_config.json", ConfigJson()));
  return SaveTensors(dir + "/adapter_model.safetensors", tensors, {{"format", "pt"}});
}

std::string LoraAdapter::ConfigJson() const {
  Json targets = Json::array();
  for (ProjectionKind t : config_.targets) targets.push_back(ProjectionName(t));
  Json j = {{"peft_type", "LORA"},
            {"task_type", "CAUSAL_LM"},
            {"r", config_.rank},
            {"lora_alpha", config_.alpha},
            {"lora_dropout", config_.dropout},
            {"target_modules", targets},
            {"bias", "none"},
            {"fan_in_fan_out", false},
            {"init_lora_weights", true},
            {"use_rslora", false},
            {"use_dora", false},
            {"inference_mode", true},
            {"modules_to_save", nullptr},
            {"layers_to_transform", nullptr},
            {"base_model_name_or_path", nullptr}};
  return j.dump(2) + "\n";
}

}  // namespace arc
