#include "core/model/arc_model.h"

#include <ATen/Context.h>

#include <filesystem>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "core/data/file_util.h"
#include "core/data/json_parse.h"
#include "core/data/status_macros.h"
#include "core/model/tensor_io.h"
#include "nlohmann/json.hpp"

namespace arc {

int64_t ArcModel::NumParameters() const {
  int64_t n = 0;
  for (const auto& [name, t] : net->StateDict()) n += t.numel();
  return n;
}

bool CpuHasFastBfloat16() {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  __builtin_cpu_init();
  const bool avx512 = __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
                      __builtin_cpu_supports("avx512dq");
  return avx512 && at::hasMKLDNN() && at::globalContext().userEnabledMkldnn();
#else
  return false;
#endif
}

absl::StatusOr<at::ScalarType> ChooseModelDtype(const std::string& dir, std::string_view choice,
                                                at::Device device) {
  if (choice == "float32") return at::kFloat;
  if (choice == "bfloat16") return at::kBFloat16;
  if (choice != "auto") {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", std::string(choice), "\" is not one of auto, float32, bfloat16"));
  }
  if (device.is_cuda()) return at::kBFloat16;
  absl::StatusOr<std::string> text = ReadFile(dir + "/config.json", 1 << 20);
  if (!text.ok()) return at::kFloat;
  absl::StatusOr<nlohmann::json> config = ParseJson(*text);
  if (!config.ok() || !config->is_object()) return at::kFloat;
  const auto it = config->find("torch_dtype");
  const bool bf16 = it != config->end() && it->is_string() && it->get<std::string>() == "bfloat16";
  return bf16 && CpuHasFastBfloat16() ? at::kBFloat16 : at::kFloat;
}

absl::StatusOr<std::shared_ptr<const ArcModel>> MakeArcModel(std::string name, LlamaForCausalLM net,
                                                            std::unique_ptr<Tokenizer> tokenizer,
                                                            const std::string& format_name) {
  if (tokenizer->vocab_size() > net->config().vocab_size) {
    return absl::InvalidArgumentError(absl::StrCat(
        "tokenizer has ", tokenizer->vocab_size(), " tokens, the model's vocab_size is ",
        net->config().vocab_size));
  }
  auto model = std::make_shared<ArcModel>();
  model->name = std::move(name);
  model->net = std::move(net);
  model->tokenizer = std::move(tokenizer);
  ARC_ASSIGN_OR_RETURN(model->format, MakePromptFormat(format_name, *model->tokenizer));
  return std::shared_ptr<const ArcModel>(std::move(model));
}

absl::StatusOr<std::shared_ptr<const ArcModel>> LoadArcModel(const std::string& dir,
                                                            const ModelOptions& options) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    return absl::NotFoundError(absl::StrCat(dir, ": model directory not found"));
  }
  ARC_ASSIGN_OR_RETURN(std::unique_ptr<Tokenizer> tokenizer, LoadTokenizer(dir + "/tokenizer.json"));
  std::string name = std::filesystem::path(dir).lexically_normal().filename().string();
  if (name.empty()) name = std::filesystem::path(dir).lexically_normal().parent_path().filename();
  std::string format = tokenizer->kind() == "compact" ? "compact" : "marc";
  const std::string meta_path = dir + "/arc_model.json";
  if (std::filesystem::exists(meta_path, ec)) {
    ARC_ASSIGN_OR_RETURN(const std::string text, ReadFile(meta_path, 1 << 20));
    ARC_RETURN_IF_ERROR(GuardJson(meta_path, [&]() -> absl::Status {
      absl::StatusOr<nlohmann::json> meta = ParseJson(text);
      if (!meta.ok()) {
        return absl::Status(meta.status().code(),
                            absl::StrCat(meta_path, ": ", meta.status().message()));
      }
      if (!meta->is_object()) {
        return absl::InvalidArgumentError(absl::StrCat(meta_path, ": expected an object"));
      }
      for (auto [key, field] :
           {std::pair<const char*, std::string*>{"name", &name}, {"prompt_format", &format}}) {
        const auto it = meta->find(key);
        if (it == meta->end()) continue;
        if (!it->is_string()) {
          return absl::InvalidArgumentError(
              absl::StrCat(meta_path, ": ", key, ": expected a string"));
        }
        *field = it->get<std::string>();
      }
      return absl::OkStatus();
    }));
  }
  ARC_ASSIGN_OR_RETURN(LlamaForCausalLM net, LoadLlamaDir(dir, options));
  // Weights holding NaN or Inf would load, report SERVING and decode garbage (or a TTT loss of
  // nan); one isfinite pass over every parameter refuses them here, naming the tensor.
  if (absl::Status finite = CheckFinite(net->StateDict()); !finite.ok()) {
    return absl::Status(finite.code(), absl::StrCat(dir, ": ", finite.message()));
  }
  absl::StatusOr<std::shared_ptr<const ArcModel>> model =
      MakeArcModel(name, std::move(net), std::move(tokenizer), format);
  if (!model.ok()) {
    return absl::Status(model.status().code(), absl::StrCat(dir, ": ", model.status().message()));
  }
  std::const_pointer_cast<ArcModel>(*model)->dir = dir;
  return model;
}

absl::Status SaveArcModel(const ArcModel& model, const std::string& dir, int64_t max_shard_bytes) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return absl::PermissionDeniedError(absl::StrCat(dir, ": ", ec.message()));
  ARC_RETURN_IF_ERROR(SaveLlamaDir(model.net, dir, max_shard_bytes));
  ARC_RETURN_IF_ERROR(WriteFileAtomic(dir + "/tokenizer.json", model.tokenizer->ToJson()));
  nlohmann::json meta = {{"name", model.name}, {"prompt_format", std::string(model.format->name())}};
  return WriteFileAtomic(dir + "/arc_model.json", meta.dump(2) + "\n");
}

}  // namespace arc
