#include "core/text/safetensors.h"

#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/casts.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/data/rng.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace arc {
namespace {

namespace fs = std::filesystem;

const std::string kTestdata = std::string(ARC_TESTDATA_DIR) + "/safetensors";

std::string ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void WriteBytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string U64Le(uint64_t n) {
  std::string s(8, '\0');
  std::memcpy(s.data(), &n, 8);
  return s;
}

// A raw file: length field, header text as given (no padding), `data_bytes` zero bytes.
std::string RawFile(const std::string& header, size_t data_bytes) {
  return U64Le(header.size()) + header + std::string(data_bytes, '\0');
}

template <typename T>
std::string Bytes(const std::vector<T>& values) {
  return std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(T));
}

uint32_t Bits(float f) { return absl::bit_cast<uint32_t>(f); }

float FromBits(uint32_t u) { return absl::bit_cast<float>(u); }

std::vector<float> AsF32(const SafetensorsFile& file, const std::string& name) {
  const TensorInfo* info = file.Find(name);
  EXPECT_NE(info, nullptr) << name;
  if (info == nullptr) return {};
  std::vector<float> out(static_cast<size_t>(info->NumElements()));
  const absl::Status status =
      DecodeToF32(info->dtype, file.Data(name).value(), absl::MakeSpan(out));
  EXPECT_TRUE(status.ok()) << status;
  return out;
}

class SafetensorsTest : public testing::TempDirTest {
 protected:
  SafetensorsTest() : TempDirTest("safetensors_") {}

  // Writes `bytes` to a file in the test directory and opens it.
  absl::StatusOr<SafetensorsFile> OpenBytes(const std::string& bytes,
                                            const std::string& name = "t.safetensors") {
    WriteBytes(Path(name), bytes);
    return SafetensorsFile::Open(Path(name));
  }
  // The error message Open gives for `bytes`, expecting INVALID_ARGUMENT.
  std::string OpenError(const std::string& bytes) {
    absl::StatusOr<SafetensorsFile> file = OpenBytes(bytes);
    EXPECT_FALSE(file.ok());
    if (file.ok()) return "";
    EXPECT_EQ(file.status().code(), absl::StatusCode::kInvalidArgument) << file.status();
    return std::string(file.status().message());
  }
};

// ---------------------------------------------------------------------------------------------
// dtypes and conversions

TEST(DTypeTest, NamesAndSizes) {
  const std::vector<std::pair<DType, std::string>> all = {
      {DType::kBool, "BOOL"},      {DType::kU8, "U8"},          {DType::kI8, "I8"},
      {DType::kF8E5M2, "F8_E5M2"}, {DType::kF8E4M3, "F8_E4M3"}, {DType::kI16, "I16"},
      {DType::kU16, "U16"},        {DType::kF16, "F16"},        {DType::kBF16, "BF16"},
      {DType::kI32, "I32"},        {DType::kU32, "U32"},        {DType::kF32, "F32"},
      {DType::kF64, "F64"},        {DType::kI64, "I64"},        {DType::kU64, "U64"}};
  for (const auto& [dtype, name] : all) {
    EXPECT_EQ(std::string(DTypeName(dtype)), name);
    EXPECT_EQ(DTypeFromName(name).value(), dtype);
  }
  EXPECT_EQ(DTypeSize(DType::kBool), 1u);
  EXPECT_EQ(DTypeSize(DType::kF8E4M3), 1u);
  EXPECT_EQ(DTypeSize(DType::kBF16), 2u);
  EXPECT_EQ(DTypeSize(DType::kF16), 2u);
  EXPECT_EQ(DTypeSize(DType::kF32), 4u);
  EXPECT_EQ(DTypeSize(DType::kU64), 8u);
  EXPECT_EQ(DTypeFromName("f32").status().message(),
            "unknown dtype \"f32\" (known: BOOL, U8, I8, F8_E5M2, F8_E4M3, I16, U16, F16, BF16, "
            "I32, U32, F32, F64, I64, U64)");
}

TEST(ConversionTest, BF16ExactCases) {
  EXPECT_EQ(F32ToBF16(1.0f), 0x3f80);
  EXPECT_EQ(F32ToBF16(-2.5f), 0xc020);
  EXPECT_EQ(F32ToBF16(0.0f), 0x0000);
  EXPECT_EQ(F32ToBF16(-0.0f), 0x8000);
  // 65504 = 0x477fe000: the dropped half 0xe000 is above the tie, so it rounds up to 65536.
  EXPECT_EQ(F32ToBF16(65504.0f), 0x4780);
  // Ties go to the even neighbour.
  EXPECT_EQ(F32ToBF16(FromBits(0x3f808000)), 0x3f80);  // 1 + 2^-8: tie, 0x3f80 is even
  EXPECT_EQ(F32ToBF16(FromBits(0x3f818000)), 0x3f82);  // 1 + 3*2^-8: tie, 0x3f81 is odd
  EXPECT_EQ(F32ToBF16(FromBits(0x3f808001)), 0x3f81);  // just above the tie
  EXPECT_EQ(F32ToBF16(FromBits(0x3f807fff)), 0x3f80);  // just below the tie
  // Subnormals.
  EXPECT_EQ(F32ToBF16(FromBits(0x00010000)), 0x0001);  // the smallest bf16 subnormal, exact
  EXPECT_EQ(F32ToBF16(FromBits(0x00000001)), 0x0000);  // the smallest float rounds to zero
  EXPECT_EQ(F32ToBF16(FromBits(0x00008000)), 0x0000);  // tie -> even (zero)
  EXPECT_EQ(F32ToBF16(FromBits(0x00018000)), 0x0002);  // tie -> even
  EXPECT_EQ(F32ToBF16(FromBits(0x807f8000)), 0x8080);  // rounds up into the smallest normal
  // Infinities, overflow and NaN (NaN stays NaN even when its payload is in the dropped bits).
  EXPECT_EQ(F32ToBF16(std::numeric_limits<float>::infinity()), 0x7f80);
  EXPECT_EQ(F32ToBF16(-std::numeric_limits<float>::infinity()), 0xff80);
  EXPECT_EQ(F32ToBF16(std::numeric_limits<float>::max()), 0x7f80);
  EXPECT_EQ(F32ToBF16(std::numeric_limits<float>::quiet_NaN()), 0x7fc0);
  EXPECT_EQ(F32ToBF16(FromBits(0xffc00000)), 0xffc0);
  EXPECT_EQ(F32ToBF16(FromBits(0x7f800001)), 0x7fc0);

  EXPECT_EQ(BF16ToF32(0x3f80), 1.0f);
  EXPECT_EQ(BF16ToF32(0xc020), -2.5f);
  EXPECT_EQ(Bits(BF16ToF32(0x0001)), 0x00010000u);
  EXPECT_EQ(Bits(BF16ToF32(0x8000)), 0x80000000u);
  EXPECT_TRUE(std::isinf(BF16ToF32(0xff80)));
  EXPECT_TRUE(std::isnan(BF16ToF32(0x7fc1)));
}

TEST(ConversionTest, F16ExactCases) {
  EXPECT_EQ(F32ToF16(1.0f), 0x3c00);
  EXPECT_EQ(F32ToF16(-2.5f), 0xc100);
  EXPECT_EQ(F32ToF16(0.0f), 0x0000);
  EXPECT_EQ(F32ToF16(-0.0f), 0x8000);
  EXPECT_EQ(F32ToF16(65504.0f), 0x7bff);  // the largest half
  EXPECT_EQ(F32ToF16(65519.996f), 0x7bff);
  EXPECT_EQ(F32ToF16(65520.0f), 0x7c00);  // tie between 65504 (odd) and 65536 -> infinity
  EXPECT_EQ(F32ToF16(-1e6f), 0xfc00);
  // Ties to even among normals: 1 + 2^-11 lies halfway between 0x3c00 and 0x3c01.
  EXPECT_EQ(F32ToF16(1.0f + std::ldexp(1.0f, -11)), 0x3c00);
  EXPECT_EQ(F32ToF16(1.0f + 3 * std::ldexp(1.0f, -11)), 0x3c02);
  EXPECT_EQ(F32ToF16(std::nextafter(1.0f + std::ldexp(1.0f, -11), 2.0f)), 0x3c01);
  // Subnormals: 2^-24 is the smallest half; 2^-25 is a tie with zero (even).
  EXPECT_EQ(F32ToF16(std::ldexp(1.0f, -24)), 0x0001);
  EXPECT_EQ(F32ToF16(std::ldexp(1.0f, -25)), 0x0000);
  EXPECT_EQ(F32ToF16(std::nextafter(std::ldexp(1.0f, -25), 1.0f)), 0x0001);
  EXPECT_EQ(F32ToF16(std::ldexp(3.0f, -26)), 0x0001);      // 0.75 ulp -> 1
  EXPECT_EQ(F32ToF16(std::ldexp(3.0f, -25)), 0x0002);      // 1.5 ulp: tie -> even 2
  EXPECT_EQ(F32ToF16(std::ldexp(5.0f, -25)), 0x0002);      // 2.5 ulp: tie -> even 2
  EXPECT_EQ(F32ToF16(-std::ldexp(1023.0f, -24)), 0x83ff);  // the largest subnormal
  EXPECT_EQ(F32ToF16(std::ldexp(1.0f, -14)), 0x0400);      // the smallest normal
  EXPECT_EQ(F32ToF16(std::ldexp(2047.0f, -25)), 0x0400);   // tie 0x3ff/0x400 -> even 0x400
  EXPECT_EQ(F32ToF16(FromBits(0x00000001)), 0x0000);       // float subnormal -> zero
  EXPECT_EQ(F32ToF16(FromBits(0x80000001)), 0x8000);
  // Infinities and NaN.
  EXPECT_EQ(F32ToF16(std::numeric_limits<float>::infinity()), 0x7c00);
  EXPECT_EQ(F32ToF16(-std::numeric_limits<float>::infinity()), 0xfc00);
  EXPECT_EQ(F32ToF16(std::numeric_limits<float>::quiet_NaN()), 0x7e00);
  EXPECT_EQ(F32ToF16(FromBits(0xff800001)), 0xfe00);

  EXPECT_EQ(F16ToF32(0x3c00), 1.0f);
  EXPECT_EQ(F16ToF32(0xc100), -2.5f);
  EXPECT_EQ(F16ToF32(0x7bff), 65504.0f);
  EXPECT_EQ(F16ToF32(0x0001), std::ldexp(1.0f, -24));
  EXPECT_EQ(F16ToF32(0x83ff), -std::ldexp(1023.0f, -24));
  EXPECT_EQ(F16ToF32(0x0400), std::ldexp(1.0f, -14));
  EXPECT_EQ(Bits(F16ToF32(0x8000)), 0x80000000u);
  EXPECT_EQ(F16ToF32(0x7c00), std::numeric_limits<float>::infinity());
  EXPECT_EQ(F16ToF32(0xfc00), -std::numeric_limits<float>::infinity());
  EXPECT_TRUE(std::isnan(F16ToF32(0x7e00)));
  EXPECT_TRUE(std::isnan(F16ToF32(0x7c01)));
}

TEST(ConversionTest, Every16BitPatternRoundTrips) {
  for (uint32_t h = 0; h <= 0xffff; ++h) {
    const uint16_t bits = static_cast<uint16_t>(h);
    const float f16 = F16ToF32(bits);
    const float bf16 = BF16ToF32(bits);
    if (std::isnan(f16)) {
      EXPECT_EQ(F32ToF16(f16) & 0x7e00, 0x7e00) << h;
    } else {
      ASSERT_EQ(F32ToF16(f16), bits) << h;
    }
    if (std::isnan(bf16)) {
      EXPECT_EQ(F32ToBF16(bf16) & 0x7fc0, 0x7fc0) << h;
    } else {
      ASSERT_EQ(F32ToBF16(bf16), bits) << h;
    }
  }
}

// An independent reference: the nearest of the two bracketing halves, found by binary search over
// all finite non-negative halves, ties to the even bit pattern.
uint16_t ReferenceF32ToF16(float x) {
  static const std::vector<double>* halves = [] {
    auto* v = new std::vector<double>;
    for (uint32_t h = 0; h < 0x7c00; ++h) v->push_back(F16ToF32(static_cast<uint16_t>(h)));
    return v;
  }();
  const uint16_t sign = std::signbit(x) ? 0x8000 : 0;
  const double a = std::fabs(static_cast<double>(x));
  if (a >= 65520.0) return sign | 0x7c00;
  const auto it = std::lower_bound(halves->begin(), halves->end(), a);
  const uint16_t hi = static_cast<uint16_t>(it - halves->begin());
  if (*it == a || hi == 0) return sign | hi;
  const uint16_t lo = hi - 1;
  const double dlo = a - (*halves)[lo];
  const double dhi = (*it) - a;
  if (dlo < dhi) return sign | lo;
  if (dhi < dlo) return sign | hi;
  return sign | ((lo & 1) ? hi : lo);
}

TEST(ConversionTest, F16MatchesReferenceOnRandomFloats) {
  Rng rng(2024);
  for (int i = 0; i < 200000; ++i) {
    // Exponents around the half range (subnormals through overflow) plus random mantissas.
    const uint32_t exponent = static_cast<uint32_t>(rng.UniformInt(90, 145));
    const uint32_t bits = (static_cast<uint32_t>(rng.Below(2)) << 31) | (exponent << 23) |
                          static_cast<uint32_t>(rng.Below(1u << 23));
    const float x = FromBits(bits);
    ASSERT_EQ(F32ToF16(x), ReferenceF32ToF16(x)) << std::hex << bits;
  }
}

TEST(ConversionTest, BulkDecodeAndEncode) {
  const std::vector<float> values = {1.0f, -2.5f, 0.15625f};
  std::vector<uint8_t> bf16(6), f16(6), f32(12);
  ASSERT_TRUE(EncodeFromF32(values, DType::kBF16, absl::MakeSpan(bf16)).ok());
  ASSERT_TRUE(EncodeFromF32(values, DType::kF16, absl::MakeSpan(f16)).ok());
  ASSERT_TRUE(EncodeFromF32(values, DType::kF32, absl::MakeSpan(f32)).ok());
  EXPECT_EQ(bf16, (std::vector<uint8_t>{0x80, 0x3f, 0x20, 0xc0, 0x20, 0x3e}));
  EXPECT_EQ(f16, (std::vector<uint8_t>{0x00, 0x3c, 0x00, 0xc1, 0x00, 0x31}));
  for (const auto& [dtype, bytes] : std::vector<std::pair<DType, std::vector<uint8_t>>>{
           {DType::kBF16, bf16}, {DType::kF16, f16}, {DType::kF32, f32}}) {
    std::vector<float> back(3);
    ASSERT_TRUE(DecodeToF32(dtype, bytes, absl::MakeSpan(back)).ok());
    EXPECT_EQ(back, values);
  }
  std::vector<float> two(2);
  EXPECT_EQ(DecodeToF32(DType::kF16, f16, absl::MakeSpan(two)).message(),
            "decoding 6 bytes of F16 into 2 floats");
  EXPECT_EQ(DecodeToF32(DType::kI32, f32, absl::MakeSpan(two)).message(),
            "cannot decode dtype I32 to F32");
  EXPECT_EQ(EncodeFromF32(values, DType::kU8, absl::MakeSpan(f32)).message(),
            "cannot encode F32 as dtype U8");
  EXPECT_EQ(EncodeFromF32(values, DType::kF16, absl::MakeSpan(f32)).code(),
            absl::StatusCode::kInvalidArgument);
}

// ---------------------------------------------------------------------------------------------
// Round trips and the reference layout

TEST_F(SafetensorsTest, RoundTripWithMetadata) {
  const std::vector<float> w = {1.0f, -2.5f, 3.25f, 0.0f, -0.0f, 65504.0f};
  std::vector<uint16_t> bf16, f16;
  for (float v : w) {
    bf16.push_back(F32ToBF16(v));
    f16.push_back(F32ToF16(v));
  }
  const std::vector<int64_t> ids = {5, -7, 1LL << 40};
  const std::vector<TensorView> tensors = {
      {"w.f32", DType::kF32, {2, 3}, w.data(), w.size() * 4},
      {"w.bf16", DType::kBF16, {3, 2}, bf16.data(), bf16.size() * 2},
      {"w.f16", DType::kF16, {6}, f16.data(), f16.size() * 2},
      {"ids", DType::kI64, {3}, ids.data(), ids.size() * 8},
      {"scalar", DType::kF32, {}, w.data(), 4},
      {"empty", DType::kF32, {0, 4}, nullptr, 0},
  };
  const std::map<std::string, std::string> metadata = {{"format", "pt"},
                                                       {"note", "a \"quoted\"\n"}};
  ASSERT_TRUE(WriteSafetensors(Path("m.safetensors"), tensors, metadata).ok());

  absl::StatusOr<SafetensorsFile> file = SafetensorsFile::Open(Path("m.safetensors"));
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(file->path(), Path("m.safetensors"));
  EXPECT_EQ(file->names(),
            (std::vector<std::string>{"empty", "ids", "scalar", "w.bf16", "w.f16", "w.f32"}));
  EXPECT_EQ(file->metadata(), metadata);
  EXPECT_EQ(file->header_bytes() % 8, 0u);
  EXPECT_EQ(file->data_bytes(), 24u + 12 + 12 + 24 + 4);
  for (const TensorView& t : tensors) {
    const TensorInfo info = file->Info(t.name).value();
    EXPECT_EQ(info.dtype, t.dtype) << t.name;
    EXPECT_EQ(info.shape, t.shape) << t.name;
    EXPECT_EQ(info.NumBytes(), t.bytes) << t.name;
    const absl::Span<const uint8_t> data = file->Data(t.name).value();
    ASSERT_EQ(data.size(), t.bytes);
    if (t.bytes > 0) {
      EXPECT_EQ(std::memcmp(data.data(), t.data, t.bytes), 0) << t.name;
    }
    // The reference layout aligns every tensor to its element size.
    EXPECT_EQ(reinterpret_cast<uintptr_t>(data.data()) % DTypeSize(t.dtype), 0u) << t.name;
  }
  EXPECT_EQ(file->Info("scalar")->NumElements(), 1);
  EXPECT_EQ(file->Info("empty")->NumElements(), 0);
  EXPECT_EQ(AsF32(*file, "w.f32"), w);
  // All exact in bfloat16 except 65504, which rounded to 65536 on the way in.
  EXPECT_EQ(AsF32(*file, "w.bf16"),
            (std::vector<float>{1.0f, -2.5f, 3.25f, 0.0f, -0.0f, 65536.0f}));
  EXPECT_EQ(AsF32(*file, "w.f16"), w);

  // Layout: ids (I64) first, then the F32 tensors by name, then BF16, then F16.
  EXPECT_EQ(file->Info("ids")->begin, 0u);
  EXPECT_EQ(file->Info("empty")->begin, 24u);
  EXPECT_EQ(file->Info("scalar")->begin, 24u);
  EXPECT_EQ(file->Info("w.f32")->begin, 28u);
  EXPECT_EQ(file->Info("w.bf16")->begin, 52u);
  EXPECT_EQ(file->Info("w.f16")->begin, 64u);

  // Copying through View reproduces the file byte for byte; no temp files are left behind.
  std::vector<TensorView> views;
  for (const std::string& name : file->names()) views.push_back(file->View(name).value());
  ASSERT_TRUE(WriteSafetensors(Path("copy.safetensors"), views, file->metadata()).ok());
  EXPECT_EQ(ReadBytes(Path("copy.safetensors")), ReadBytes(Path("m.safetensors")));
  int entries = 0;
  for (const auto& entry : fs::directory_iterator(dir_)) {
    (void)entry;
    ++entries;
  }
  EXPECT_EQ(entries, 2);

  EXPECT_EQ(file->Info("nope").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(file->Data("nope").status().message(),
            absl::StrCat(Path("m.safetensors"), ": no tensor \"nope\""));
  EXPECT_EQ(file->Find("nope"), nullptr);
  EXPECT_FALSE(file->Contains("nope"));
  EXPECT_TRUE(file->Contains("ids"));
}

// The byte sequences the reference implementation's own tests pin (safetensors/src/tensor.rs:
// test_serialization, test_empty), rebuilt here from their header text.
TEST_F(SafetensorsTest, WriterMatchesReferenceBytes) {
  const std::vector<float> data = {0, 1, 2, 3, 4, 5};
  ASSERT_TRUE(
      WriteSafetensors(Path("a.safetensors"), {{"attn.0", DType::kF32, {1, 2, 3}, data.data(), 24}})
          .ok());
  const std::string header = R"({"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}})";
  ASSERT_EQ(header.size(), 64u);
  EXPECT_EQ(ReadBytes(Path("a.safetensors")), U64Le(64) + header + Bytes(data));

  // Shorter name: the header needs 7 spaces of padding.
  ASSERT_TRUE(WriteSafetensors(Path("b.safetensors"),
                               {{"attn0", DType::kF32, {1, 1, 2, 3}, data.data(), 24}})
                  .ok());
  const std::string header_b =
      R"({"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}})";
  EXPECT_EQ(ReadBytes(Path("b.safetensors")), U64Le(72) + header_b + "       " + Bytes(data));

  ASSERT_TRUE(WriteSafetensors(Path("c.safetensors"), {}).ok());
  EXPECT_EQ(ReadBytes(Path("c.safetensors")), U64Le(8) + "{}      ");
  ASSERT_TRUE(WriteSafetensors(Path("d.safetensors"), {}, {{"framework", "pt"}}).ok());
  EXPECT_EQ(ReadBytes(Path("d.safetensors")),
            U64Le(40) + R"({"__metadata__":{"framework":"pt"}})" + "     ");
  // Both open cleanly (a file with no tensors and an empty buffer is valid).
  EXPECT_TRUE(SafetensorsFile::Open(Path("c.safetensors")).ok());
  EXPECT_EQ(SafetensorsFile::Open(Path("d.safetensors"))->metadata().at("framework"), "pt");
}

// tests/testdata/safetensors/hf_layout.safetensors is written by make_fixtures.py following the
// reference library's layout rules (dtype-rank order, compact header, space padding).
TEST_F(SafetensorsTest, ReadsReferenceLayoutFixture) {
  absl::StatusOr<SafetensorsFile> file =
      SafetensorsFile::Open(kTestdata + "/hf_layout.safetensors");
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(file->names(), (std::vector<std::string>{"attention_mask", "lm_head.weight",
                                                     "model.embed_tokens.weight",
                                                     "model.norm.weight", "position_ids"}));
  EXPECT_EQ(file->metadata(), (std::map<std::string, std::string>{{"format", "pt"}}));
  EXPECT_EQ(file->header_bytes(), 392u);
  EXPECT_EQ(file->data_bytes(), 74u);
  EXPECT_EQ(AsF32(*file, "model.embed_tokens.weight"),
            (std::vector<float>{1.0f, -2.5f, 0.5f, 3.0f, -0.0f, 65504.0f}));
  EXPECT_EQ(AsF32(*file, "model.norm.weight"), (std::vector<float>{1.0f, -2.5f, 0.15625f}));
  EXPECT_EQ(AsF32(*file, "lm_head.weight"),
            (std::vector<float>{1.0f, -2.5f, 65504.0f, std::ldexp(1.0f, -24)}));
  const TensorInfo ids = file->Info("position_ids").value();
  EXPECT_EQ(ids.dtype, DType::kI64);
  EXPECT_EQ(ids.shape, (std::vector<int64_t>{1, 4}));
  std::vector<int64_t> id_values(4);
  std::memcpy(id_values.data(), file->Data("position_ids")->data(), 32);
  EXPECT_EQ(id_values, (std::vector<int64_t>{0, 1, 2, 3}));
  const absl::Span<const uint8_t> mask = file->Data("attention_mask").value();
  EXPECT_EQ(std::vector<uint8_t>(mask.begin(), mask.end()), (std::vector<uint8_t>{1, 0, 1, 1}));
  EXPECT_EQ(file->Info("attention_mask")->dtype, DType::kBool);

  // Writing the same tensors reproduces the fixture byte for byte.
  std::vector<TensorView> views;
  for (const std::string& name : file->names()) views.push_back(file->View(name).value());
  ASSERT_TRUE(WriteSafetensors(Path("same.safetensors"), views, file->metadata()).ok());
  EXPECT_EQ(ReadBytes(Path("same.safetensors")), ReadBytes(kTestdata + "/hf_layout.safetensors"));
}

TEST_F(SafetensorsTest, ReadsUnpaddedLegacyFixture) {
  absl::StatusOr<SafetensorsFile> file =
      SafetensorsFile::Open(kTestdata + "/legacy_unpadded.safetensors");
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(file->header_bytes(), 122u);
  EXPECT_TRUE(file->metadata().empty());
  const absl::Span<const uint8_t> a = file->Data("a").value();
  EXPECT_EQ(std::vector<uint8_t>(a.begin(), a.end()), (std::vector<uint8_t>{7, 8, 9}));
  // "b" starts at file offset 8 + 122 + 3 = 133: unaligned, which decoding must tolerate.
  EXPECT_NE(reinterpret_cast<uintptr_t>(file->Data("b")->data()) % 4, 0u);
  EXPECT_EQ(AsF32(*file, "b"), (std::vector<float>{0.25f, -1.0f}));
}

TEST_F(SafetensorsTest, MovedFileKeepsServing) {
  absl::StatusOr<SafetensorsFile> opened =
      SafetensorsFile::Open(kTestdata + "/hf_layout.safetensors");
  ASSERT_TRUE(opened.ok());
  const TensorInfo* info = opened->Find("model.norm.weight");
  SafetensorsFile moved = *std::move(opened);
  EXPECT_EQ(moved.Find("model.norm.weight"), info);  // pointers survive the move
  EXPECT_EQ(AsF32(moved, "model.norm.weight"), (std::vector<float>{1.0f, -2.5f, 0.15625f}));
}

TEST_F(SafetensorsTest, ConcurrentReads) {
  absl::StatusOr<SafetensorsFile> file =
      SafetensorsFile::Open(kTestdata + "/hf_layout.safetensors");
  ASSERT_TRUE(file.ok());
  std::vector<uint64_t> sums(4, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int rep = 0; rep < 200; ++rep) {
        for (const std::string& name : file->names()) {
          const absl::Span<const uint8_t> data = file->Data(name).value();
          for (uint8_t b : data) sums[t] += b;
        }
      }
    });
  }
  for (std::thread& th : threads) th.join();
  for (int t = 1; t < 4; ++t) EXPECT_EQ(sums[t], sums[0]);
}

// ---------------------------------------------------------------------------------------------
// Malformed files: each check with its exact message

TEST_F(SafetensorsTest, OpenFailures) {
  const absl::StatusOr<SafetensorsFile> missing = SafetensorsFile::Open(Path("missing"));
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(missing.status().message(),
            absl::StrCat(Path("missing"), ": cannot open: No such file or directory"));
  const absl::StatusOr<SafetensorsFile> dir = SafetensorsFile::Open(dir_);
  EXPECT_EQ(dir.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(dir.status().message(), absl::StrCat(dir_, ": not a regular file"));
  // A FIFO is refused without blocking on the open.
  ASSERT_EQ(::mkfifo(Path("fifo").c_str(), 0600), 0);
  EXPECT_EQ(SafetensorsFile::Open(Path("fifo")).status().message(),
            absl::StrCat(Path("fifo"), ": not a regular file"));
}

TEST_F(SafetensorsTest, TruncatedFiles) {
  const std::string full = ReadBytes(kTestdata + "/hf_layout.safetensors");
  ASSERT_EQ(full.size(), 8u + 392 + 74);
  const std::string p = Path("t.safetensors");
  for (size_t cut : {0, 1, 7}) {
    EXPECT_EQ(OpenError(full.substr(0, cut)),
              absl::StrCat(p, ": file is ", cut, " bytes, too short for the 8-byte header length"));
  }
  for (size_t cut : {8, 9, 200, 399}) {
    EXPECT_EQ(
        OpenError(full.substr(0, cut)),
        absl::StrCat(p, ": header length 392 runs past the end of the file (", cut, " bytes)"));
  }
  // Cut inside the data: the first tensor by name, attention_mask at [70, 74], no longer fits.
  for (size_t data : {0, 1, 40, 73}) {
    EXPECT_EQ(OpenError(full.substr(0, 400 + data)),
              absl::StrCat(p,
                           ": tensor \"attention_mask\": data_offsets [70, 74] exceed the data "
                           "buffer of ",
                           data, " bytes"));
  }
  // One byte too many is caught as well.
  EXPECT_EQ(OpenError(full + "x"),
            absl::StrCat(p, ": data buffer bytes [74, 75) belong to no tensor"));
}

TEST_F(SafetensorsTest, BadHeaderLength) {
  const std::string p = Path("t.safetensors");
  EXPECT_EQ(OpenError(U64Le(10000) + "{}"),
            absl::StrCat(p, ": header length 10000 runs past the end of the file (10 bytes)"));
  EXPECT_EQ(OpenError(U64Le(~uint64_t{0}) + "{}"),
            absl::StrCat(p,
                         ": header length 18446744073709551615 exceeds the limit of 100000000 "
                         "bytes"));
  EXPECT_EQ(OpenError(U64Le(0)), absl::StrCat(p, ": header does not start with '{'"));
  EXPECT_EQ(OpenError(RawFile(" {}", 0)), absl::StrCat(p, ": header does not start with '{'"));
  EXPECT_EQ(OpenError(RawFile("[1]", 0)), absl::StrCat(p, ": header does not start with '{'"));
}

TEST_F(SafetensorsTest, BadJson) {
  const std::string p = Path("t.safetensors");
  EXPECT_EQ(OpenError(RawFile("{\"a\":1,}", 0)),
            absl::StrCat(p, ": header is not valid JSON (syntax error at byte 8)"));
  EXPECT_EQ(OpenError(RawFile("{\"a\"", 0)),
            absl::StrCat(p, ": header is not valid JSON (syntax error at byte 5)"));
  EXPECT_EQ(OpenError(RawFile("{} x", 0)),
            absl::StrCat(p, ": header is not valid JSON (syntax error at byte 4)"));
  EXPECT_EQ(OpenError(RawFile("{\"\xff\":1}", 0)),
            absl::StrCat(p, ": header is not valid JSON (syntax error at byte 3)"));
  EXPECT_EQ(OpenError(RawFile("{\"a\":" + std::string(20, '[') + std::string(20, ']') + "}", 0)),
            absl::StrCat(p, ": header nests deeper than 16 levels"));
  const std::string entry = R"({"dtype":"U8","shape":[1],"data_offsets":[0,1]})";
  EXPECT_EQ(OpenError(RawFile("{\"x\":" + entry + ",\"x\":" + entry + "}", 1)),
            absl::StrCat(p, ": header has duplicate key \"x\""));
  EXPECT_EQ(OpenError(RawFile(
                R"({"x":{"dtype":"U8","dtype":"U8","shape":[1],"data_offsets":[0,1]}})", 1)),
            absl::StrCat(p, ": header has duplicate key \"dtype\""));
}

TEST_F(SafetensorsTest, BadEntries) {
  const std::string p = Path("t.safetensors");
  const std::string t = absl::StrCat(p, ": tensor \"x\": ");
  auto error = [&](const std::string& entry, size_t data) {
    return OpenError(RawFile("{\"x\":" + entry + "}", data));
  };
  EXPECT_EQ(error("[1]", 0), t + "entry is not an object");
  EXPECT_EQ(error(R"({"shape":[1],"data_offsets":[0,4]})", 4), t + "missing \"dtype\"");
  EXPECT_EQ(error(R"({"dtype":3,"shape":[1],"data_offsets":[0,4]})", 4),
            t + "\"dtype\" is not a string");
  EXPECT_EQ(error(R"({"dtype":"F128","shape":[1],"data_offsets":[0,16]})", 16),
            t + "unknown dtype \"F128\" (known: BOOL, U8, I8, F8_E5M2, F8_E4M3, I16, U16, F16, "
                "BF16, I32, U32, F32, F64, I64, U64)");
  EXPECT_EQ(error(R"({"dtype":"F32","data_offsets":[0,4]})", 4), t + "missing \"shape\"");
  for (const char* shape : {"[-1]", "[2.0]", "2", "[\"2\"]", "[null]"}) {
    EXPECT_EQ(
        error(absl::StrCat(R"({"dtype":"F32","shape":)", shape, R"(,"data_offsets":[0,4]})"), 4),
        t + "\"shape\" must be an array of non-negative integers")
        << shape;
  }
  EXPECT_EQ(error(R"({"dtype":"F32","shape":[9223372036854775808],"data_offsets":[0,4]})", 4),
            t + "shape dimension 9223372036854775808 is too large");
  EXPECT_EQ(error(R"({"dtype":"F32","shape":[1]})", 4), t + "missing \"data_offsets\"");
  for (const char* offsets : {"[0]", "[0,4,8]", "[-1,4]", "[0,4.5]", "[0,4.0]", "[0,4e0]", "{}"}) {
    EXPECT_EQ(error(absl::StrCat(R"({"dtype":"F32","shape":[1],"data_offsets":)", offsets, "}"), 4),
              t + "\"data_offsets\" must be two non-negative integers")
        << offsets;
  }
  EXPECT_EQ(error(R"({"dtype":"F32","shape":[1],"data_offsets":[4,0]})", 4),
            t + "data_offsets [4, 0] are reversed");
  EXPECT_EQ(error(R"({"dtype":"F32","shape":[25],"data_offsets":[0,100]})", 64),
            t + "data_offsets [0, 100] exceed the data buffer of 64 bytes");
  EXPECT_EQ(error(R"({"dtype":"F32","shape":[2,3],"data_offsets":[0,16]})", 16),
            t + "shape [2, 3] with dtype F32 needs 24 bytes but data_offsets [0, 16] span 16");
  EXPECT_EQ(error(R"({"dtype":"BF16","shape":[4294967296,4294967296],"data_offsets":[0,0]})", 0),
            t + "shape [4294967296, 4294967296] with dtype BF16 overflows a 64-bit byte count");
  // A zero dimension makes any other dimension harmless.
  EXPECT_TRUE(
      OpenBytes(
          RawFile(R"({"x":{"dtype":"F64","shape":[0,9223372036854775807],"data_offsets":[0,0]}})",
                  0))
          .ok());
  // Unknown keys in an entry are ignored (as the reference reader does).
  EXPECT_TRUE(
      OpenBytes(RawFile(R"({"x":{"dtype":"U8","shape":[2],"data_offsets":[0,2],"extra":1}})", 2))
          .ok());
}

// A number that overflows a double anywhere in the header (nlohmann throws out_of_range for it,
// not parse_error) is INVALID_ARGUMENT naming the tensor and the field. Regression: it escaped as
// an exception and arc-server aborted at start-up.
TEST_F(SafetensorsTest, NumbersThatOverflowADoubleNameTheTensorAndField) {
  const std::string p = Path("t.safetensors");
  const std::string overflow = "number 1e3080 is out of range (it overflows a double)";
  EXPECT_EQ(OpenError(RawFile(R"({"x":{"dtype":"F32","shape":[1],"data_offsets":[0,1e3080]}})", 4)),
            absl::StrCat(p, ": tensor \"x\": data_offsets[1]: ", overflow, ", at header byte 56"));
  EXPECT_EQ(OpenError(RawFile(R"({"x":{"dtype":"F32","shape":[1e3080],"data_offsets":[0,4]}})", 4)),
            absl::StrCat(p, ": tensor \"x\": shape[0]: ", overflow, ", at header byte 35"));
  EXPECT_EQ(OpenError(RawFile(R"({"x":1e3080})", 0)),
            absl::StrCat(p, ": tensor \"x\": ", overflow, ", at header byte 11"));
  EXPECT_EQ(OpenError(RawFile(R"({"__metadata__":{"a":1e3080}})", 0)),
            absl::StrCat(p, ": header: __metadata__.a: ", overflow, ", at header byte 27"));
}

// FromBytes runs Open's checks over bytes in memory (what fuzz/safetensors_fuzz.cc feeds it).
TEST_F(SafetensorsTest, FromBytesChecksLikeOpen) {
  const std::string bytes = ReadBytes(kTestdata + "/hf_layout.safetensors");
  absl::StatusOr<SafetensorsFile> opened =
      SafetensorsFile::Open(kTestdata + "/hf_layout.safetensors");
  absl::StatusOr<SafetensorsFile> held = SafetensorsFile::FromBytes(bytes, "held");
  ASSERT_TRUE(opened.ok() && held.ok()) << held.status();
  EXPECT_EQ(held->path(), "held");
  EXPECT_EQ(held->names(), opened->names());
  for (const std::string& name : held->names()) {
    const absl::Span<const uint8_t> a = held->Data(name).value(), b = opened->Data(name).value();
    EXPECT_EQ(std::string(a.begin(), a.end()), std::string(b.begin(), b.end())) << name;
  }
  EXPECT_EQ(std::string(SafetensorsFile::FromBytes("1234").status().message()),
            "<memory>: file is 4 bytes, too short for the 8-byte header length");
  EXPECT_EQ(
      std::string(SafetensorsFile::FromBytes(RawFile(R"({"x":1e3080})", 0)).status().message()),
      "<memory>: tensor \"x\": number 1e3080 is out of range (it overflows a double), at "
      "header byte 11");
}

TEST_F(SafetensorsTest, BadMetadata) {
  const std::string p = Path("t.safetensors");
  EXPECT_EQ(OpenError(RawFile(R"({"__metadata__":[1]})", 0)),
            absl::StrCat(p, ": \"__metadata__\" must be an object of strings"));
  EXPECT_EQ(OpenError(RawFile(R"({"__metadata__":{"a":"b","n":1}})", 0)),
            absl::StrCat(p, ": \"__metadata__\" entry \"n\" is not a string"));
  absl::StatusOr<SafetensorsFile> null_meta = OpenBytes(RawFile(R"({"__metadata__":null})", 0));
  ASSERT_TRUE(null_meta.ok()) << null_meta.status();
  EXPECT_TRUE(null_meta->metadata().empty());
}

TEST_F(SafetensorsTest, OverlapsAndGaps) {
  const std::string p = Path("t.safetensors");
  auto two = [](int a0, int a1, int b0, int b1) {
    return absl::StrCat(R"({"a":{"dtype":"F32","shape":[)", (a1 - a0) / 4, R"(],"data_offsets":[)",
                        a0, ",", a1, R"(]},"b":{"dtype":"F32","shape":[)", (b1 - b0) / 4,
                        R"(],"data_offsets":[)", b0, ",", b1, "]}}");
  };
  EXPECT_EQ(OpenError(RawFile(two(0, 16, 8, 24), 24)),
            absl::StrCat(p,
                         ": tensors \"a\" (data_offsets [0, 16]) and \"b\" (data_offsets "
                         "[8, 24]) overlap"));
  EXPECT_EQ(OpenError(RawFile(two(0, 16, 0, 16), 16)),
            absl::StrCat(p,
                         ": tensors \"a\" (data_offsets [0, 16]) and \"b\" (data_offsets "
                         "[0, 16]) overlap"));
  EXPECT_EQ(OpenError(RawFile(two(0, 8, 16, 24), 24)),
            absl::StrCat(p, ": data buffer bytes [8, 16) belong to no tensor"));
  EXPECT_EQ(OpenError(RawFile(two(8, 16, 16, 24), 24)),
            absl::StrCat(p, ": data buffer bytes [0, 8) belong to no tensor"));
  EXPECT_EQ(OpenError(RawFile(two(0, 8, 8, 16), 24)),
            absl::StrCat(p, ": data buffer bytes [16, 24) belong to no tensor"));
  EXPECT_EQ(OpenError(RawFile("{}", 3)),
            absl::StrCat(p, ": data buffer bytes [0, 3) belong to no tensor"));
  // Out of name order in the buffer, and with space padding: fine.
  EXPECT_TRUE(OpenBytes(RawFile(two(8, 16, 0, 8) + "   ", 16)).ok());
}

// ---------------------------------------------------------------------------------------------
// Writer errors

TEST_F(SafetensorsTest, WriterRejectsBadInput) {
  const std::string p = Path("w.safetensors");
  const std::vector<float> v = {1, 2, 3, 4};
  auto write = [&](const std::vector<TensorView>& t) {
    const absl::Status s = WriteSafetensors(p, t);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
    return std::string(s.message());
  };
  EXPECT_EQ(write({{"", DType::kF32, {4}, v.data(), 16}}), p + ": empty tensor name");
  EXPECT_EQ(write({{"__metadata__", DType::kF32, {4}, v.data(), 16}}),
            p + ": tensor \"__metadata__\": the name is reserved for the metadata");
  EXPECT_EQ(write({{"a", DType::kF32, {4}, v.data(), 16}, {"a", DType::kF32, {4}, v.data(), 16}}),
            p + ": tensor \"a\": duplicate name");
  EXPECT_EQ(write({{"a", DType::kF32, {2, -2}, v.data(), 16}}),
            p + ": tensor \"a\": negative dimension in shape [2, -2]");
  EXPECT_EQ(write({{"a", DType::kF32, {2, 2}, v.data(), 12}}),
            p + ": tensor \"a\": 12 bytes given, shape [2, 2] with dtype F32 needs 16");
  EXPECT_EQ(write({{"a", DType::kF32, {4}, nullptr, 16}}), p + ": tensor \"a\": null data");
  EXPECT_EQ(write({{"bad\xff", DType::kF32, {4}, v.data(), 16}}),
            p + ": a tensor name is not valid UTF-8");
  EXPECT_FALSE(fs::exists(p));
  EXPECT_TRUE(fs::is_empty(dir_));  // no temp files left

  const absl::Status no_dir = WriteSafetensors(Path("no/such/dir.safetensors"), {});
  EXPECT_EQ(no_dir.code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(absl::StartsWith(no_dir.message(), Path("no/such/dir.safetensors") + ".tmp."))
      << no_dir;
}

TEST_F(SafetensorsTest, WriterReplacesExistingFile) {
  const std::string p = Path("w.safetensors");
  const std::vector<float> v = {1, 2, 3, 4};
  ASSERT_TRUE(WriteSafetensors(p, {{"a", DType::kF32, {4}, v.data(), 16}}).ok());
  absl::StatusOr<SafetensorsFile> old_file = SafetensorsFile::Open(p);
  ASSERT_TRUE(old_file.ok());
  ASSERT_TRUE(WriteSafetensors(p, {{"b", DType::kF32, {2}, v.data(), 8}}).ok());
  // The old mapping still reads the old contents; a fresh open sees the new file.
  EXPECT_EQ(AsF32(*old_file, "a"), v);
  EXPECT_EQ(SafetensorsFile::Open(p)->names(), (std::vector<std::string>{"b"}));
}

// ---------------------------------------------------------------------------------------------
// Sharded checkpoints

class ShardedTest : public SafetensorsTest {
 protected:
  // Two shards: shard 1 holds a (F32 [2]) and b (BF16 [2]); shard 2 holds c (F16 [3]).
  void WriteShards() {
    const std::vector<uint16_t> b = {F32ToBF16(1.5f), F32ToBF16(-2.0f)};
    const std::vector<uint16_t> c = {F32ToF16(0.5f), F32ToF16(0.25f), F32ToF16(-4.0f)};
    ASSERT_TRUE(WriteSafetensors(
                    Path("model-00001-of-00002.safetensors"),
                    {{"a", DType::kF32, {2}, a_.data(), 8}, {"b", DType::kBF16, {2}, b.data(), 4}},
                    {{"format", "pt"}})
                    .ok());
    ASSERT_TRUE(WriteSafetensors(Path("model-00002-of-00002.safetensors"),
                                 {{"c", DType::kF16, {3}, c.data(), 6}}, {{"format", "pt"}})
                    .ok());
  }
  void WriteIndex(const std::string& weight_map) {
    WriteBytes(
        Path("model.safetensors.index.json"),
        R"({"metadata": {"total_size": 18, "format": "pt"}, "weight_map": )" + weight_map + "}");
  }
  std::string IndexPath() const { return Path("model.safetensors.index.json"); }
  std::string IndexError(const std::string& weight_map) {
    WriteIndex(weight_map);
    absl::StatusOr<ShardedSafetensors> s = ShardedSafetensors::OpenIndex(IndexPath());
    EXPECT_FALSE(s.ok());
    if (s.ok()) return "";
    EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument) << s.status();
    return std::string(s.status().message());
  }
  // Writes the kGoodMap index and returns how opening it went (after a test damaged a shard).
  absl::Status OpenGoodIndex() {
    WriteIndex(kGoodMap);
    return ShardedSafetensors::OpenIndex(IndexPath()).status();
  }
  // An index error caused by shard 2: the index, the shard as named in it, then the shard file's
  // own message.
  std::string Shard2Error(const std::string& shard_message) const {
    return absl::StrCat(IndexPath(), ": shard \"model-00002-of-00002.safetensors\": ",
                        Path("model-00002-of-00002.safetensors"), shard_message);
  }

  const std::vector<float> a_ = {3.0f, -1.0f};
  const std::string kGoodMap = R"({"a": "model-00001-of-00002.safetensors",
      "b": "model-00001-of-00002.safetensors", "c": "model-00002-of-00002.safetensors"})";
};

TEST_F(ShardedTest, LoadsThroughIndexDirectoryAndDispatch) {
  WriteShards();
  WriteIndex(kGoodMap);
  for (const std::string& path : {IndexPath(), dir_, dir_ + "/"}) {
    absl::StatusOr<ShardedSafetensors> ckpt = ShardedSafetensors::Open(path);
    ASSERT_TRUE(ckpt.ok()) << ckpt.status();
    EXPECT_EQ(ckpt->path(), IndexPath());
    EXPECT_EQ(ckpt->names(), (std::vector<std::string>{"a", "b", "c"}));
    EXPECT_EQ(ckpt->metadata(),
              (std::map<std::string, std::string>{{"format", "pt"}, {"total_size", "18"}}));
    ASSERT_EQ(ckpt->shards().size(), 2u);
    EXPECT_EQ(ckpt->ShardOf("c"), &ckpt->shards()[1]);
    EXPECT_EQ(ckpt->Info("b")->dtype, DType::kBF16);
    EXPECT_EQ(ckpt->Find("c")->shape, (std::vector<int64_t>{3}));
    std::vector<float> c(3);
    ASSERT_TRUE(DecodeToF32(DType::kF16, ckpt->Data("c").value(), absl::MakeSpan(c)).ok());
    EXPECT_EQ(c, (std::vector<float>{0.5f, 0.25f, -4.0f}));
    EXPECT_EQ(ckpt->View("a")->bytes, 8u);
    EXPECT_EQ(std::memcmp(ckpt->View("a")->data, a_.data(), 8), 0);
    EXPECT_EQ(ckpt->Data("zzz").status().message(),
              absl::StrCat(IndexPath(), ": no tensor \"zzz\""));
    EXPECT_EQ(ckpt->Info("zzz").status().code(), absl::StatusCode::kNotFound);
    EXPECT_EQ(ckpt->Find("zzz"), nullptr);
  }

  // A single model.safetensors wins over the index in a directory.
  ASSERT_TRUE(WriteSafetensors(Path("model.safetensors"), {{"a", DType::kF32, {2}, a_.data(), 8}},
                               {{"k", "v"}})
                  .ok());
  absl::StatusOr<ShardedSafetensors> single = ShardedSafetensors::Open(dir_);
  ASSERT_TRUE(single.ok()) << single.status();
  EXPECT_EQ(single->path(), Path("model.safetensors"));
  EXPECT_EQ(single->names(), (std::vector<std::string>{"a"}));
  EXPECT_EQ(single->metadata(), (std::map<std::string, std::string>{{"k", "v"}}));
  EXPECT_EQ(ShardedSafetensors::Open(Path("model.safetensors"))->shards().size(), 1u);
}

TEST_F(ShardedTest, EmptyDirectory) {
  const absl::StatusOr<ShardedSafetensors> s = ShardedSafetensors::Open(dir_);
  EXPECT_EQ(s.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(s.status().message(),
            dir_ + ": neither model.safetensors nor model.safetensors.index.json exists");
}

TEST_F(ShardedTest, MissingShard) {
  WriteShards();
  fs::remove(Path("model-00002-of-00002.safetensors"));
  const absl::Status s = OpenGoodIndex();
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(s.message(), Shard2Error(": cannot open: No such file or directory"));
}

TEST_F(ShardedTest, IndexErrors) {
  WriteShards();
  EXPECT_EQ(IndexError(R"({"a": "model-00001-of-00002.safetensors",
      "b": "model-00001-of-00002.safetensors", "c": "model-00002-of-00002.safetensors",
      "d": "model-00002-of-00002.safetensors"})"),
            IndexPath() +
                ": tensor \"d\" is listed in shard \"model-00002-of-00002.safetensors\" "
                "but that shard has no such tensor");
  // Listed in the wrong shard.
  EXPECT_EQ(IndexError(R"({"a": "model-00002-of-00002.safetensors",
      "c": "model-00002-of-00002.safetensors"})"),
            IndexPath() +
                ": tensor \"a\" is listed in shard \"model-00002-of-00002.safetensors\" "
                "but that shard has no such tensor");
  EXPECT_EQ(IndexError(R"({"a": "../model-00001-of-00002.safetensors"})"),
            IndexPath() +
                ": tensor \"a\": shard \"../model-00001-of-00002.safetensors\" must be "
                "a plain file name");
  EXPECT_EQ(IndexError(R"({"a": 1})"),
            IndexPath() + ": \"weight_map\" entry \"a\" is not a string");
  EXPECT_EQ(IndexError(R"([])"), IndexPath() + ": \"weight_map\" must be an object of strings");
  EXPECT_EQ(IndexError(R"({"a": "x.safetensors", "a": "y.safetensors"})"),
            IndexPath() + " has duplicate key \"a\"");
  WriteBytes(IndexPath(), R"({"metadata": {}})");
  EXPECT_EQ(ShardedSafetensors::OpenIndex(IndexPath()).status().message(),
            IndexPath() + ": missing \"weight_map\"");
  WriteBytes(IndexPath(), R"({"weight_map": {})");
  EXPECT_EQ(ShardedSafetensors::OpenIndex(IndexPath()).status().message(),
            IndexPath() + " is not valid JSON (syntax error at byte 18)");  // 1-based: at EOF
  WriteBytes(IndexPath(), R"({"metadata": {"total_size": 1e3080}, "weight_map": {}})");
  EXPECT_EQ(ShardedSafetensors::OpenIndex(IndexPath()).status().message(),
            IndexPath() +
                ": metadata.total_size: number 1e3080 is out of range (it overflows a double), "
                "at byte 34");
  WriteBytes(IndexPath(), R"({"metadata": 3, "weight_map": {}})");
  EXPECT_EQ(ShardedSafetensors::OpenIndex(IndexPath()).status().message(),
            IndexPath() + ": \"metadata\" must be an object");
}

TEST_F(ShardedTest, DuplicateTensorAcrossShards) {
  WriteShards();
  // A third shard that also holds "b".
  const std::vector<uint16_t> b = {0, 0};
  ASSERT_TRUE(
      WriteSafetensors(Path("extra.safetensors"), {{"b", DType::kBF16, {2}, b.data(), 4}}).ok());
  EXPECT_EQ(IndexError(R"({"a": "model-00001-of-00002.safetensors",
      "b": "extra.safetensors", "c": "model-00002-of-00002.safetensors"})"),
            IndexPath() +
                ": tensor \"b\" appears in shards \"extra.safetensors\" and "
                "\"model-00001-of-00002.safetensors\"");
}

TEST_F(ShardedTest, UnlistedTensorsAreServed) {
  WriteShards();
  WriteIndex(
      R"({"a": "model-00001-of-00002.safetensors", "c": "model-00002-of-00002.safetensors"})");
  absl::StatusOr<ShardedSafetensors> ckpt = ShardedSafetensors::OpenIndex(IndexPath());
  ASSERT_TRUE(ckpt.ok()) << ckpt.status();
  EXPECT_EQ(ckpt->names(), (std::vector<std::string>{"a", "b", "c"}));
}

TEST_F(ShardedTest, CorruptShardNamesIndexAndShard) {
  WriteShards();
  WriteBytes(Path("model-00002-of-00002.safetensors"), "short");
  const absl::Status s = OpenGoodIndex();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), Shard2Error(": file is 5 bytes, too short for the 8-byte header length"));
}

// ---------------------------------------------------------------------------------------------
// Fuzz: seeded random corruption of a real file never crashes Open; failures are INVALID_ARGUMENT
// with a message, successes describe a consistent file.

TEST_F(SafetensorsTest, RandomCorruptionNeverCrashes) {
  const std::string original = ReadBytes(kTestdata + "/hf_layout.safetensors");
  const size_t header_end = 8 + 392;
  const std::string json_chars = "{}[]\":, 0123456789-.eE\\abcdefFIUBOL_";
  Rng rng(20240601);
  int ok = 0;
  int failed = 0;
  for (int iteration = 0; iteration < 400; ++iteration) {
    std::string bytes = original;
    const int mutations = static_cast<int>(rng.UniformInt(1, 3));
    for (int m = 0; m < mutations && !bytes.empty(); ++m) {
      const size_t size = bytes.size();
      switch (rng.Below(7)) {
        case 0:  // any byte, any value
          bytes[rng.Below(size)] = static_cast<char>(rng.Below(256));
          break;
        case 1:  // a header byte, JSON-ish value
        case 2:
          if (size > 8) {
            bytes[8 + rng.Below(std::min(size, header_end) - 8)] =
                json_chars[rng.Below(json_chars.size())];
          }
          break;
        case 3:  // truncate
          bytes.resize(rng.Below(size + 1));
          break;
        case 4: {  // rewrite the length field
          const uint64_t n = rng.Below(2) ? rng.Below(size + 16) : rng.Next();
          if (size >= 8) std::memcpy(bytes.data(), &n, 8);
          break;
        }
        case 5: {  // replace a digit in the header by a random number
          std::vector<size_t> digits;
          for (size_t i = 8; i < std::min(size, header_end); ++i) {
            if (bytes[i] >= '0' && bytes[i] <= '9') digits.push_back(i);
          }
          if (!digits.empty()) {
            const size_t at = digits[rng.Below(digits.size())];
            const uint64_t value = rng.Below(2) ? rng.Below(100) : rng.Next();
            bytes.replace(at, 1, std::to_string(value));
          }
          break;
        }
        case 6: {  // delete or insert a byte
          const size_t at = rng.Below(size);
          if (rng.Below(2)) {
            bytes.erase(at, 1);
          } else {
            bytes.insert(at, 1, json_chars[rng.Below(json_chars.size())]);
          }
          break;
        }
      }
    }
    absl::StatusOr<SafetensorsFile> file = OpenBytes(bytes);
    if (!file.ok()) {
      ++failed;
      EXPECT_EQ(file.status().code(), absl::StatusCode::kInvalidArgument) << file.status();
      EXPECT_FALSE(file.status().message().empty());
      continue;
    }
    ++ok;
    // A file that opens is self-consistent: the tensors tile the buffer inside the file.
    uint64_t total = 0;
    uint64_t checksum = 0;
    for (const std::string& name : file->names()) {
      const TensorInfo* info = file->Find(name);
      ASSERT_NE(info, nullptr);
      const absl::Span<const uint8_t> data = file->Data(name).value();
      ASSERT_EQ(data.size(), info->NumBytes());
      ASSERT_LE(info->end, file->data_bytes());
      for (uint8_t b : data) checksum += b;  // touches every byte (out of bounds would fault)
      total += data.size();
    }
    EXPECT_EQ(total, file->data_bytes());
    EXPECT_EQ(8 + file->header_bytes() + file->data_bytes(), bytes.size());
    (void)checksum;
  }
  RecordProperty("opened", ok);
  RecordProperty("rejected", failed);
  // The mutations must exercise both outcomes for the test to mean anything.
  EXPECT_GT(ok, 5);
  EXPECT_GT(failed, 100);
}

}  // namespace
}  // namespace arc
