#include "core/model/tensor_io.h"

#include <ATen/ATen.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <string>

#include "absl/strings/str_cat.h"
#include "core/data/rng.h"
#include "core/text/safetensors.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace arc {
namespace {

namespace fs = std::filesystem;

const std::string kFixture = std::string(ARC_TESTDATA_DIR) + "/safetensors/hf_layout.safetensors";

// Bitwise equality of dtype, shape and contents (NaN payloads included).
void ExpectBitEqual(const at::Tensor& a, const at::Tensor& b, const std::string& name) {
  ASSERT_EQ(a.scalar_type(), b.scalar_type()) << name;
  ASSERT_EQ(a.sizes(), b.sizes()) << name;
  const at::Tensor ca = a.contiguous();
  const at::Tensor cb = b.contiguous();
  ASSERT_EQ(std::memcmp(ca.data_ptr(), cb.data_ptr(), ca.numel() * ca.element_size()), 0) << name;
}

// A float tensor of random bit patterns over a wide exponent range, plus the special values.
at::Tensor RandomFloats(Rng& rng, int64_t n) {
  at::Tensor t = at::empty({n}, at::kFloat);
  float* p = t.data_ptr<float>();
  const float specials[] = {0.0f,
                            -0.0f,
                            1.0f,
                            -2.5f,
                            65504.0f,
                            std::ldexp(1.0f, -24),
                            std::ldexp(1.0f, -130),  // float subnormal
                            std::numeric_limits<float>::infinity(),
                            -std::numeric_limits<float>::infinity(),
                            std::numeric_limits<float>::max()};
  for (int64_t i = 0; i < n; ++i) {
    if (i < static_cast<int64_t>(std::size(specials))) {
      p[i] = specials[i];
      continue;
    }
    const uint32_t exponent = static_cast<uint32_t>(rng.UniformInt(80, 160));
    const uint32_t bits = (static_cast<uint32_t>(rng.Below(2)) << 31) | (exponent << 23) |
                          static_cast<uint32_t>(rng.Below(1u << 23));
    std::memcpy(&p[i], &bits, 4);
  }
  return t;
}

class TensorIoTest : public testing::TempDirTest {
 protected:
  TensorIoTest() : TempDirTest("tensor_io_") {}
};

TEST_F(TensorIoTest, RoundTripIsBitExact) {
  Rng rng(7);
  const at::Tensor f32 = RandomFloats(rng, 600).reshape({20, 30});
  at::Tensor nan = f32.clone();
  const uint32_t payload_nan = 0x7fa00001;  // a signalling NaN with a payload
  std::memcpy(nan.data_ptr<float>() + 3, &payload_nan, 4);
  // BF16 and F16 tensors holding arbitrary 16-bit patterns (NaNs and subnormals included).
  at::Tensor bits = at::empty({4, 64}, at::kShort);
  for (int64_t i = 0; i < bits.numel(); ++i) {
    bits.data_ptr<int16_t>()[i] = static_cast<int16_t>(rng.Below(65536));
  }
  const std::map<std::string, at::Tensor> tensors = {
      {"f32", f32},
      {"f32.nan", nan},
      {"bf16", bits.view(at::kBFloat16)},
      {"f16", bits.flip({1}).contiguous().view(at::kHalf)},
      {"transposed", f32.t()},  // non-contiguous input is saved in logical order
      {"scalar", at::full({}, 3.5, at::kFloat)},
      {"empty", at::empty({0, 5}, at::kBFloat16)},
      {"ids", at::arange(10, at::kLong)},
      {"mask", at::arange(6, at::kInt).remainder(2).to(at::kBool)},
      {"f64", at::arange(3, at::kDouble) / 3},
  };
  ASSERT_TRUE(SaveTensors(Path("m.safetensors"), tensors, {{"format", "pt"}}).ok());

  absl::StatusOr<std::map<std::string, at::Tensor>> loaded = LoadTensors(Path("m.safetensors"));
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  ASSERT_EQ(loaded->size(), tensors.size());
  for (const auto& [name, tensor] : tensors) {
    ASSERT_EQ(loaded->count(name), 1u) << name;
    ExpectBitEqual(loaded->at(name), tensor, name);
  }

  // The torch-free reader sees the same dtypes and the metadata.
  absl::StatusOr<SafetensorsFile> file = SafetensorsFile::Open(Path("m.safetensors"));
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(file->Info("bf16")->dtype, DType::kBF16);
  EXPECT_EQ(file->Info("f16")->dtype, DType::kF16);
  EXPECT_EQ(file->Info("transposed")->shape, (std::vector<int64_t>{30, 20}));
  EXPECT_EQ(file->Info("mask")->dtype, DType::kBool);
  EXPECT_EQ(file->metadata().at("format"), "pt");
}

TEST_F(TensorIoTest, LoadedTensorsOwnTheirMemory) {
  absl::StatusOr<ShardedSafetensors> file = ShardedSafetensors::Open(kFixture);
  ASSERT_TRUE(file.ok());
  absl::StatusOr<at::Tensor> t = ReadTensor(*file, "model.embed_tokens.weight");
  ASSERT_TRUE(t.ok()) << t.status();
  const absl::Span<const uint8_t> mapped = file->Data("model.embed_tokens.weight").value();
  const auto* p = static_cast<const uint8_t*>(t->data_ptr());
  EXPECT_TRUE(p + mapped.size() <= mapped.data() || p >= mapped.data() + mapped.size());
  file = absl::CancelledError("closed");  // unmaps the file
  EXPECT_EQ(t->sum().item<float>(), 1.0f - 2.5f + 0.5f + 3.0f + 65504.0f);
}

TEST_F(TensorIoTest, ReadsReferenceFixture) {
  absl::StatusOr<std::map<std::string, at::Tensor>> native = LoadTensors(kFixture);
  ASSERT_TRUE(native.ok()) << native.status();
  EXPECT_EQ(native->at("lm_head.weight").scalar_type(), at::kHalf);
  EXPECT_EQ(native->at("model.norm.weight").scalar_type(), at::kBFloat16);
  EXPECT_EQ(native->at("position_ids").scalar_type(), at::kLong);
  EXPECT_EQ(native->at("attention_mask").scalar_type(), at::kBool);
  EXPECT_TRUE(native->at("position_ids").equal(at::arange(4, at::kLong).reshape({1, 4})));

  // A target dtype converts floating tensors only.
  absl::StatusOr<std::map<std::string, at::Tensor>> f32 = LoadTensors(kFixture, at::kFloat);
  ASSERT_TRUE(f32.ok()) << f32.status();
  EXPECT_EQ(f32->at("lm_head.weight").scalar_type(), at::kFloat);
  EXPECT_TRUE(
      f32->at("lm_head.weight")
          .equal(at::tensor({1.0f, -2.5f, 65504.0f, std::ldexp(1.0f, -24)}).reshape({2, 2})));
  EXPECT_TRUE(f32->at("model.norm.weight").equal(at::tensor({1.0f, -2.5f, 0.15625f})));
  EXPECT_EQ(f32->at("position_ids").scalar_type(), at::kLong);
  EXPECT_EQ(f32->at("attention_mask").scalar_type(), at::kBool);
}

// F32 -> BF16/F16 on load goes through libtorch; our scalar helpers must agree with it bit for bit
// (both round to nearest even), which cross-checks the helpers against an independent
// implementation.
TEST_F(TensorIoTest, DtypeConversionOnLoadMatchesHelpers) {
  Rng rng(99);
  const at::Tensor f32 = RandomFloats(rng, 100000);
  ASSERT_TRUE(SaveTensors(Path("f.safetensors"), {{"w", f32}}).ok());
  for (const at::ScalarType target : {at::kBFloat16, at::kHalf}) {
    absl::StatusOr<std::map<std::string, at::Tensor>> loaded =
        LoadTensors(Path("f.safetensors"), target);
    ASSERT_TRUE(loaded.ok()) << loaded.status();
    const at::Tensor& w = loaded->at("w");
    ASSERT_EQ(w.scalar_type(), target);
    ExpectBitEqual(w, f32.to(target), "w");
    const auto* got = static_cast<const uint16_t*>(w.data_ptr());
    const float* src = f32.data_ptr<float>();
    for (int64_t i = 0; i < f32.numel(); ++i) {
      const uint16_t mine = target == at::kBFloat16 ? F32ToBF16(src[i]) : F32ToF16(src[i]);
      ASSERT_EQ(got[i], mine) << "element " << i << " value " << src[i];
    }
  }
  // Widening back is exact.
  ASSERT_TRUE(SaveTensors(Path("b.safetensors"), {{"w", f32.to(at::kBFloat16)}}).ok());
  absl::StatusOr<std::map<std::string, at::Tensor>> wide =
      LoadTensors(Path("b.safetensors"), at::kFloat);
  ASSERT_TRUE(wide.ok());
  ExpectBitEqual(wide->at("w"), f32.to(at::kBFloat16).to(at::kFloat), "w");
}

TEST_F(TensorIoTest, LoadsShardedDirectory) {
  ASSERT_TRUE(SaveTensors(Path("model-00001-of-00002.safetensors"),
                          {{"a", at::ones({2, 2}, at::kBFloat16)}})
                  .ok());
  ASSERT_TRUE(
      SaveTensors(Path("model-00002-of-00002.safetensors"), {{"b", at::full({3}, 2.0, at::kHalf)}})
          .ok());
  std::ofstream(Path("model.safetensors.index.json"))
      << R"({"metadata": {"total_size": 14}, "weight_map": {"a": "model-00001-of-00002.safetensors", "b": "model-00002-of-00002.safetensors"}})";
  absl::StatusOr<std::map<std::string, at::Tensor>> loaded = LoadTensors(dir_, at::kFloat);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_TRUE(loaded->at("a").equal(at::ones({2, 2}, at::kFloat)));
  EXPECT_TRUE(loaded->at("b").equal(at::full({3}, 2.0, at::kFloat)));
}

TEST_F(TensorIoTest, TakeTensorChecksNamesAndShapes) {
  std::map<std::string, at::Tensor> tensors = {
      {"lm_head.weight", at::zeros({16, 64})},
      {"model.norm.weight", at::ones({64})},
      {"extra.a", at::zeros({1})},
      {"extra.b", at::zeros({1})},
  };
  const absl::StatusOr<at::Tensor> missing =
      TakeTensor(tensors, "model.layers.3.mlp.up_proj.weight", {128, 64});
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(missing.status().message(), "missing tensor \"model.layers.3.mlp.up_proj.weight\"");
  const absl::StatusOr<at::Tensor> wrong = TakeTensor(tensors, "lm_head.weight", {32, 64});
  EXPECT_EQ(wrong.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(wrong.status().message(),
            "tensor \"lm_head.weight\": shape [16, 64], expected [32, 64]");
  EXPECT_EQ(tensors.count("lm_head.weight"), 1u);  // a failed take leaves it in place

  absl::StatusOr<at::Tensor> norm = TakeTensor(tensors, "model.norm.weight", {64});
  ASSERT_TRUE(norm.ok());
  EXPECT_TRUE(norm->equal(at::ones({64})));
  EXPECT_EQ(tensors.count("model.norm.weight"), 0u);
  EXPECT_EQ(TakeTensor(tensors, "model.norm.weight", {64}).status().message(),
            "missing tensor \"model.norm.weight\"");

  EXPECT_EQ(CheckAllTaken(tensors).message(),
            "3 unexpected tensors: \"extra.a\", \"extra.b\", \"lm_head.weight\"");
  ASSERT_TRUE(TakeTensor(tensors, "lm_head.weight", {16, 64}).ok());
  ASSERT_TRUE(TakeTensor(tensors, "extra.a", {1}).ok());
  EXPECT_EQ(CheckAllTaken(tensors).message(), "1 unexpected tensor: \"extra.b\"");
  ASSERT_TRUE(TakeTensor(tensors, "extra.b", {1}).ok());
  EXPECT_TRUE(CheckAllTaken(tensors).ok());

  std::map<std::string, at::Tensor> many;
  for (int i = 0; i < 7; ++i) many[absl::StrCat("t", i)] = at::zeros({1});
  EXPECT_EQ(CheckAllTaken(many).message(),
            "7 unexpected tensors: \"t0\", \"t1\", \"t2\", \"t3\", \"t4\", ...");
}

TEST_F(TensorIoTest, Errors) {
  const absl::StatusOr<std::map<std::string, at::Tensor>> bad_target =
      LoadTensors(kFixture, at::kInt);
  EXPECT_EQ(bad_target.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(bad_target.status().message(), "target dtype Int is not a floating-point type");

  const absl::StatusOr<std::map<std::string, at::Tensor>> missing = LoadTensors(Path("nope"));
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);

  // U16 exists in the format but not in libtorch 1.13.
  const std::vector<uint16_t> u16 = {1, 2};
  ASSERT_TRUE(
      WriteSafetensors(Path("u16.safetensors"), {{"u", DType::kU16, {2}, u16.data(), 4}}).ok());
  const absl::StatusOr<std::map<std::string, at::Tensor>> unsupported =
      LoadTensors(Path("u16.safetensors"));
  EXPECT_EQ(unsupported.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_EQ(unsupported.status().message(),
            Path("u16.safetensors") + ": tensor \"u\": dtype U16 has no libtorch equivalent");

  const absl::Status complex =
      SaveTensors(Path("c.safetensors"), {{"z", at::zeros({2}, at::kComplexFloat)}});
  EXPECT_EQ(complex.code(), absl::StatusCode::kUnimplemented);
  EXPECT_EQ(complex.message(), Path("c.safetensors") +
                                   ": tensor \"z\": libtorch dtype ComplexFloat has no "
                                   "safetensors equivalent");
  const absl::Status undefined = SaveTensors(Path("c.safetensors"), {{"u", at::Tensor()}});
  EXPECT_EQ(undefined.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(undefined.message(), Path("c.safetensors") + ": tensor \"u\": undefined tensor");
  const absl::Status sparse = SaveTensors(Path("c.safetensors"), {{"s", at::eye(3).to_sparse()}});
  EXPECT_EQ(sparse.message(),
            Path("c.safetensors") + ": tensor \"s\": only dense (strided) tensors can be saved");
  EXPECT_FALSE(fs::exists(Path("c.safetensors")));

  absl::StatusOr<ShardedSafetensors> file = ShardedSafetensors::Open(kFixture);
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(ReadTensor(*file, "nope").status().message(), kFixture + ": no tensor \"nope\"");
}

TEST_F(TensorIoTest, ShardedSaveWritesAnIndexAndLoadsBack) {
  std::map<std::string, at::Tensor> tensors;
  for (int i = 0; i < 5; ++i) {
    tensors.emplace(absl::StrCat("layer.", i, ".weight"),
                    at::arange(1000 * (i + 1), at::kFloat).to(at::kBFloat16));
  }
  // 2,000 + 4,000 + ... + 10,000 bytes in shards of at most 7,000: [2k, 4k], [6k], [8k], [10k]
  // (a tensor over the limit gets a shard of its own).
  std::filesystem::remove(dir_ + "/model.safetensors");
  ASSERT_TRUE(SaveTensors(dir_ + "/model.safetensors", tensors).ok());  // a stale single file
  ASSERT_TRUE(SaveTensorsSharded(dir_, tensors, /*max_shard_bytes=*/7000).ok());
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/model.safetensors"));
  for (int i = 1; i <= 4; ++i) {
    EXPECT_TRUE(
        std::filesystem::exists(absl::StrCat(dir_, "/model-0000", i, "-of-00004.safetensors")))
        << i;
  }
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/model-00005-of-00004.safetensors"));
  const ShardedSafetensors file = ShardedSafetensors::Open(dir_).value();
  EXPECT_EQ(file.shards().size(), 4u);
  EXPECT_EQ(file.ShardOf("layer.1.weight")->path(), dir_ + "/model-00001-of-00004.safetensors");
  EXPECT_EQ(file.ShardOf("layer.4.weight")->path(), dir_ + "/model-00004-of-00004.safetensors");
  std::map<std::string, at::Tensor> back = LoadTensors(dir_).value();
  ASSERT_EQ(back.size(), tensors.size());
  for (const auto& [name, t] : tensors) EXPECT_TRUE(back.at(name).equal(t)) << name;
  // Reading a tensor releases its pages; reading it again faults them back from the file.
  EXPECT_TRUE(ReadTensor(file, "layer.4.weight").value().equal(tensors.at("layer.4.weight")));
  EXPECT_TRUE(ReadTensor(file, "layer.4.weight").value().equal(tensors.at("layer.4.weight")));
  const absl::Status bad = SaveTensorsSharded(dir_, tensors, 0);
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.message(), "max_shard_bytes must be positive, got 0");
}

}  // namespace
}  // namespace arc
