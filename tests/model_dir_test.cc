// Bad model directories are refused at load with INVALID_ARGUMENT naming the file and the field or
// tensor, never an exception or a model that loads and computes garbage: weights holding NaN or
// Inf (written by the project's own SaveArcModel), numbers that overflow a double (`1e3080`) in
// config.json, the safetensors header, tokenizer.json, arc_model.json and solve_options.json.
// Also CheckFinite (core/model/tensor_io.h) on its own.
#include <ATen/ATen.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <string>

#include "absl/strings/str_cat.h"
#include "core/data/file_util.h"
#include "core/model/arc_model.h"
#include "core/model/tensor_io.h"
#include "core/solve/options.h"
#include "gtest/gtest.h"
#include "tests/model_test_util.h"
#include "tests/test_util.h"

namespace arc {
namespace {

constexpr float kNan = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();
const std::string kOverflow = "number 1e3080 is out of range (it overflows a double)";

class ModelDirTest : public testing::TempDirTest {
 protected:
  ModelDirTest() : TempDirTest("model_dir_") {}

  // A tiny compact model saved by SaveArcModel into a fresh directory, after `edit` changed its
  // parameters (by name, in place).
  template <typename Edit>
  std::string SaveModel(const std::string& name, Edit&& edit) {
    std::shared_ptr<const ArcModel> model = arc::testing::TinyCompactModel(5, 256, name);
    {
      at::NoGradGuard no_grad;
      std::map<std::string, at::Tensor> params = model->net->StateDict();
      edit(params);
    }
    const std::string dir = Path(name);
    const absl::Status saved = SaveArcModel(*model, dir);
    EXPECT_TRUE(saved.ok()) << saved;
    return dir;
  }
  std::string SaveGoodModel(const std::string& name) {
    return SaveModel(name, [](std::map<std::string, at::Tensor>&) {});
  }

  // LoadArcModel's INVALID_ARGUMENT message for `dir`.
  static std::string LoadError(const std::string& dir) {
    absl::StatusOr<std::shared_ptr<const ArcModel>> model = LoadArcModel(dir);
    EXPECT_FALSE(model.ok());
    if (model.ok()) return "";
    EXPECT_EQ(model.status().code(), absl::StatusCode::kInvalidArgument) << model.status();
    return std::string(model.status().message());
  }

  // Replaces the first `from` of a file with `to`, which ends in 1e3080; returns the byte the
  // parser names for it (1-based, the number's last byte), or 0 when `from` is missing.
  static size_t Overflow(const std::string& path, const std::string& from, const std::string& to) {
    std::string text = ReadFile(path).value();
    const size_t at = text.find(from);
    EXPECT_NE(at, std::string::npos) << from << " not in " << path;
    if (at == std::string::npos) return 0;
    text.replace(at, from.size(), to);
    EXPECT_TRUE(WriteFileAtomic(path, text).ok());
    return at + to.size();
  }
};

// Regression: a model whose weights held NaN loaded, the server reported SERVING and answered with
// invalid views, and arc-solve printed a TTT loss of -nan and exited 0.
TEST_F(ModelDirTest, WeightsWithNanOrInfAreRefusedNamingTheTensor) {
  const std::string good = SaveGoodModel("good");
  ASSERT_TRUE(LoadArcModel(good).ok());

  const std::string nan = SaveModel("nan", [](std::map<std::string, at::Tensor>& p) {
    p.at("model.norm.weight")[3].fill_(kNan);
    p.at("model.norm.weight")[10].fill_(kNan);
  });
  EXPECT_EQ(LoadError(nan), nan +
                                ": tensor \"model.norm.weight\": 2 of 64 values are not finite "
                                "(the first, at flat index 3, is nan)");

  const std::string inf = SaveModel("inf", [](std::map<std::string, at::Tensor>& p) {
    p.at("model.layers.1.mlp.down_proj.weight")[63][127].fill_(-kInf);
  });
  EXPECT_EQ(LoadError(inf), inf +
                                ": tensor \"model.layers.1.mlp.down_proj.weight\": 1 of 8192 "
                                "values are not finite (the first, at flat index 8191, is -inf)");
}

TEST_F(ModelDirTest, OverflowingNumbersInEveryModelFileNameTheField) {
  const std::string config = SaveGoodModel("config");
  size_t byte =
      Overflow(config + "/config.json", "\"rope_theta\": 10000.0", "\"rope_theta\": 1e3080");
  EXPECT_EQ(LoadError(config), absl::StrCat(config, "/config.json: config.json: rope_theta: ",
                                            kOverflow, ", at byte ", byte));

  // The safetensors header: the end of the first tensor's data_offsets (the header length field
  // rewritten to match).
  const std::string header = SaveGoodModel("header");
  {
    const std::string path = header + "/model.safetensors";
    std::string bytes = ReadFile(path).value();
    uint64_t n = 0;
    std::memcpy(&n, bytes.data(), 8);
    std::string text = bytes.substr(8, n);
    const std::string from = "\"data_offsets\":[0,";
    const size_t at = text.find(from) + from.size();
    text.replace(at, text.find(']', at) - at, "1e3080");
    byte = at + 6;
    const uint64_t m = text.size();
    std::string out(8, '\0');
    std::memcpy(out.data(), &m, 8);
    ASSERT_TRUE(WriteFileAtomic(path, out + text + bytes.substr(8 + n)).ok());
  }
  EXPECT_EQ(LoadError(header),
            absl::StrCat(header, "/model.safetensors: tensor \"lm_head.weight\": data_offsets[1]: ",
                         kOverflow, ", at header byte ", byte));

  const std::string tokenizer = SaveGoodModel("tokenizer");
  byte = Overflow(tokenizer + "/tokenizer.json", "\"<pad>\": 15", "\"<pad>\": 1e3080");
  EXPECT_EQ(LoadError(tokenizer),
            absl::StrCat(tokenizer, "/tokenizer.json: tokenizer.json: model.vocab.<pad>: ",
                         kOverflow, ", at byte ", byte));

  const std::string meta = SaveGoodModel("meta");
  ASSERT_TRUE(WriteFileAtomic(meta + "/arc_model.json", R"({"name": 1e3080})").ok());
  EXPECT_EQ(LoadError(meta),
            absl::StrCat(meta, "/arc_model.json: name: ", kOverflow, ", at byte 15"));

  const std::string options = SaveGoodModel("options");
  ASSERT_TRUE(WriteFileAtomic(options + "/solve_options.json", R"({"ttt_lr": 1e3080})").ok());
  absl::StatusOr<SolveOptions> loaded = LoadModelSolveOptions(options);
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(loaded.status().message(),
            absl::StrCat(options, "/solve_options.json: ttt_lr: ", kOverflow, ", at byte 17"));
}

TEST(CheckFiniteTest, FindsTheFirstNonFiniteValueOfAnyFloatingTypeAcrossChunks) {
  std::map<std::string, at::Tensor> tensors = {
      {"a", at::ones({3, 4})},
      {"ids", at::full({5}, 7, at::kLong)},  // integer tensors are always finite: skipped
      {"empty", at::empty({0, 8})},
  };
  EXPECT_TRUE(CheckFinite(tensors).ok());

  for (const at::ScalarType type : {at::kFloat, at::kHalf, at::kBFloat16, at::kDouble}) {
    std::map<std::string, at::Tensor> one = {{"h", at::zeros({2, 3}, type)}};
    one.at("h")[1][2].fill_(kInf);
    const absl::Status s = CheckFinite(one);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c10::toString(type);
    EXPECT_EQ(s.message(),
              "tensor \"h\": 1 of 6 values are not finite (the first, at flat index 5, is inf)")
        << c10::toString(type);
  }

  // Past the first 4M-element chunk (float64 takes the chunked isfinite path, float32 the bit
  // scan), and in a non-contiguous view.
  at::Tensor big = at::zeros({(int64_t{1} << 22) + 10}, at::kDouble);
  big[(int64_t{1} << 22) + 7].fill_(kNan);
  EXPECT_EQ(CheckFinite({{"big", big}}).message(),
            "tensor \"big\": 1 of 4194314 values are not finite (the first, at flat index "
            "4194311, is nan)");
  at::Tensor wide = at::zeros({4, 6});
  wide[2][1].fill_(kNan);
  EXPECT_EQ(CheckFinite({{"t", wide.t()}}).message(),
            "tensor \"t\": 1 of 24 values are not finite (the first, at flat index 6, is nan)");
  // The first failing tensor in name order.
  EXPECT_EQ(CheckFinite({{"b", big}, {"a", wide}}).message(),
            "tensor \"a\": 1 of 24 values are not finite (the first, at flat index 13, is nan)");
}

}  // namespace
}  // namespace arc
