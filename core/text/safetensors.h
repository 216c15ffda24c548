// Safetensors files: reading (memory-mapped, validated), writing (atomic), sharded checkpoints, and
// F16/BF16 <-> F32 conversion. No libtorch here; core/tensor_io.h converts to and from at::Tensor.
//
// The format (Hugging Face `safetensors`): an 8-byte little-endian u64 N, then N bytes of UTF-8
// JSON
//   {"__metadata__": {"k": "v", ...},                                  (optional, strings only)
//    "name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, ...}
// possibly padded with trailing spaces, then the data buffer. Offsets are relative to the start of
// the buffer, data is little-endian and row-major.
//
// Validation follows the reference implementation's rules, all checked in Open before anything is
// handed out: the header is at most 100 MB, starts with '{', is a JSON object without duplicate
// keys; every dtype is known, every shape a list of non-negative integers, end - begin equals
// product(shape) * element size (with overflow checks), and the tensors, sorted by offset, tile the
// buffer exactly: no overlap, no gap, nothing after the last tensor. Keys of a tensor entry other
// than dtype/shape/data_offsets are ignored, as the reference implementation does.
// No exception of the JSON library escapes: a syntax error names the byte, a number that overflows
// a double (`"data_offsets": [0, 1e3080]`) names the tensor and the field, e.g.
//   m.safetensors: tensor "w": data_offsets[1]: number 1e3080 is out of range (it overflows a
//   double), at header byte 56
// and a float where an integer belongs (`[0, 4.0]`) is refused like any other non-integer.
//
// Status codes: a file that cannot be opened gets the code of its errno (NOT_FOUND,
// PERMISSION_DENIED, ...); every malformed file, truncation included, is INVALID_ARGUMENT (the
// caller's only remedy is a different file, so truncation is not singled out as DATA_LOSS).
// Messages start with the path and name the tensor, e.g.
//   model.safetensors: tensor "model.norm.weight": data_offsets [0, 100] exceed the data buffer
//   of 64 bytes
//
// Dtypes: all those of the reference format are read and written as opaque bytes (BOOL, U8, I8,
// F8_E5M2, F8_E4M3, I16, U16, F16, BF16, I32, U32, F32, F64, I64, U64); value conversion exists for
// F32, F16 and BF16 (and F64 -> F32). Host byte order must be little-endian (checked at compile
// time).
//
// Ownership and threads: SafetensorsFile owns a read-only private mapping of the file and unmaps it
// on destruction; it is movable, not copyable, and immutable after Open, so any number of threads
// may read from one instance concurrently. Spans and TensorViews it returns point into the mapping
// and are valid until the SafetensorsFile (or ShardedSafetensors) is destroyed; moving the object
// keeps them valid. The file must not be truncated in place while mapped (reads would fault);
// WriteSafetensors replaces files by rename, which leaves existing mappings of the old file intact.
#ifndef ARC_CORE_TEXT_SAFETENSORS_H_
#define ARC_CORE_TEXT_SAFETENSORS_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace arc {

// Element types of the format. The order is the reference implementation's (increasing alignment);
// WriteSafetensors lays tensors out in decreasing order of it, as that implementation does, so
// every tensor starts at a multiple of its element size.
enum class DType {
  kBool,
  kU8,
  kI8,
  kF8E5M2,
  kF8E4M3,
  kI16,
  kU16,
  kF16,
  kBF16,
  kI32,
  kU32,
  kF32,
  kF64,
  kI64,
  kU64,
};

// Bytes per element (1, 2, 4 or 8).
size_t DTypeSize(DType dtype);
// The format's name: "F32", "BF16", "BOOL", "F8_E4M3", ...
absl::string_view DTypeName(DType dtype);
// The inverse of DTypeName; INVALID_ARGUMENT listing the known names for anything else.
absl::StatusOr<DType> DTypeFromName(absl::string_view name);

// The header entry of one tensor.
struct TensorInfo {
  std::string name;
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;
  uint64_t begin = 0;  // byte offsets into the data buffer, [begin, end)
  uint64_t end = 0;

  int64_t NumElements() const;
  uint64_t NumBytes() const { return end - begin; }
};

// A tensor to write, or one read back (then `data` points into a mapping). `bytes` must equal
// product(shape) * DTypeSize(dtype); `data` is little-endian row-major and need not be aligned.
struct TensorView {
  std::string name;
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;
  const void* data = nullptr;
  size_t bytes = 0;
};

// "[2, 3]" (the shape text used in messages here and in tensor_io).
std::string ShapeToString(absl::Span<const int64_t> shape);

// One .safetensors file, memory-mapped and validated.
class SafetensorsFile {
 public:
  // Maps and validates `path` (see the file comment for the checks and codes).
  static absl::StatusOr<SafetensorsFile> Open(const std::string& path);
  // The same checks over the bytes of a file held in memory (the object keeps them); `name` stands
  // for the path in messages and path(). Used by the fuzz target fuzz/safetensors_fuzz.cc.
  static absl::StatusOr<SafetensorsFile> FromBytes(std::string bytes,
                                                   const std::string& name = "<memory>");

  SafetensorsFile(SafetensorsFile&&);
  SafetensorsFile& operator=(SafetensorsFile&&);
  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;
  ~SafetensorsFile();

  // The path given to Open.
  const std::string& path() const { return path_; }
  // Tensor names, sorted.
  const std::vector<std::string>& names() const { return names_; }
  bool Contains(absl::string_view name) const { return index_.contains(name); }
  // Header entry, or nullptr when there is no such tensor.
  const TensorInfo* Find(absl::string_view name) const;
  // Header entry; NOT_FOUND `<path>: no tensor "x"` when absent.
  absl::StatusOr<TensorInfo> Info(absl::string_view name) const;
  // The tensor's bytes inside the mapping (possibly unaligned: memcpy them out); NOT_FOUND as Info.
  absl::StatusOr<absl::Span<const uint8_t>> Data(absl::string_view name) const;
  // Header entry and bytes together, ready to pass to WriteSafetensors; NOT_FOUND as Info.
  absl::StatusOr<TensorView> View(absl::string_view name) const;
  // The "__metadata__" map (empty when absent).
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  // Drops the resident pages of the tensor's bytes from a file mapping once they have been copied
  // out: otherwise every page read stays resident (and counted in the process's RSS) until the file
  // is unmapped, so a load would peak at twice what it keeps. Later reads fault the pages back in
  // from the file, so the data stay readable. Does nothing for FromBytes objects or absent names.
  // Safe beside concurrent readers of the same tensor (they fault the pages back in).
  void ReleasePages(absl::string_view name) const;
  // Length of the JSON header (N) and of the data buffer, in bytes.
  uint64_t header_bytes() const { return header_bytes_; }
  uint64_t data_bytes() const { return data_bytes_; }

 private:
  struct Mapping;
  SafetensorsFile() = default;
  // Validates the bytes of `mapping` and takes it.
  static absl::StatusOr<SafetensorsFile> FromMapping(const std::string& path,
                                                     std::unique_ptr<Mapping> mapping);

  std::string path_;
  std::unique_ptr<Mapping> mapping_;
  const uint8_t* data_ = nullptr;  // start of the data buffer inside the mapping
  uint64_t header_bytes_ = 0;
  uint64_t data_bytes_ = 0;
  std::vector<TensorInfo> tensors_;                 // sorted by name
  absl::flat_hash_map<std::string, size_t> index_;  // name -> position in tensors_
  std::vector<std::string> names_;                  // sorted
  std::map<std::string, std::string> metadata_;
};

// Writes a safetensors file the way the reference implementation lays it out: tensors ordered by
// decreasing dtype alignment, then by name (bytewise); header as compact JSON with "__metadata__"
// first (omitted when `metadata` is empty; keys sorted), padded with spaces to a multiple of 8.
// Writes `<path>.tmp.<pid>.<n>` in the same directory, fsyncs it and renames it over `path`, so
// readers see the old file or the new one, never a partial one; the temp file is removed on
// failure. INVALID_ARGUMENT for bad input (empty or duplicate names, the name "__metadata__",
// negative dims, `bytes` not matching shape and dtype, null data with non-zero bytes, strings that
// are not UTF-8); the errno's code for I/O failures.
absl::Status WriteSafetensors(const std::string& path, const std::vector<TensorView>& tensors,
                              const std::map<std::string, std::string>& metadata = {});

// A checkpoint of one or more safetensors files behind one lookup API: a single file, or a
// Hugging Face sharded checkpoint described by `model.safetensors.index.json`:
//   {"metadata": {"total_size": 123, ...}, "weight_map": {"tensor name": "shard file name", ...}}
// Opening an index opens every shard it names (relative to the index's directory; plain file names
// only, no '/' or "..") and checks: each listed tensor is present in its shard (INVALID_ARGUMENT),
// no tensor name appears in two shards (INVALID_ARGUMENT), every shard exists (the shard's Open
// error, e.g. NOT_FOUND, prefixed with the index path and the shard). Tensors present in a shard
// but not listed in the index are still served (the way transformers loads shards), provided they
// are not duplicated elsewhere.
//
// Movable, not copyable, immutable after opening: concurrent reads are safe. Views and spans live
// as long as this object.
class ShardedSafetensors {
 public:
  // A directory, an index file (name ending ".index.json") or a single .safetensors file.
  static absl::StatusOr<ShardedSafetensors> Open(const std::string& path);
  // A model directory: `model.safetensors` when present, else `model.safetensors.index.json`;
  // NOT_FOUND when neither exists.
  static absl::StatusOr<ShardedSafetensors> OpenDirectory(const std::string& dir);
  static absl::StatusOr<ShardedSafetensors> OpenIndex(const std::string& index_path);
  static absl::StatusOr<ShardedSafetensors> OpenFile(const std::string& path);

  ShardedSafetensors(ShardedSafetensors&&) = default;
  ShardedSafetensors& operator=(ShardedSafetensors&&) = default;
  ShardedSafetensors(const ShardedSafetensors&) = delete;
  ShardedSafetensors& operator=(const ShardedSafetensors&) = delete;

  // The index path, or the single file's path.
  const std::string& path() const { return path_; }
  // All tensor names across shards, sorted.
  const std::vector<std::string>& names() const { return names_; }
  bool Contains(absl::string_view name) const { return where_.contains(name); }
  const TensorInfo* Find(absl::string_view name) const;
  // NOT_FOUND `<path>: no tensor "x"` when absent (path as above).
  absl::StatusOr<TensorInfo> Info(absl::string_view name) const;
  absl::StatusOr<absl::Span<const uint8_t>> Data(absl::string_view name) const;
  absl::StatusOr<TensorView> View(absl::string_view name) const;
  // The index's "metadata" (non-string values as their compact JSON text, e.g. total_size "123"),
  // or the single file's "__metadata__".
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  // The opened files, in sorted order of their file names.
  const std::vector<SafetensorsFile>& shards() const { return shards_; }
  // The shard holding `name`, or nullptr.
  const SafetensorsFile* ShardOf(absl::string_view name) const;

 private:
  ShardedSafetensors() = default;
  static absl::StatusOr<ShardedSafetensors> OpenIndexUnguarded(const std::string& index_path);
  absl::Status NotFound(absl::string_view name) const;

  std::string path_;
  std::vector<SafetensorsFile> shards_;
  absl::flat_hash_map<std::string, size_t> where_;  // tensor name -> index into shards_
  std::vector<std::string> names_;
  std::map<std::string, std::string> metadata_;
};

// Scalar conversions. F32 -> F16/BF16 round to nearest, ties to even, producing subnormals, signed
// zeros and infinities exactly (values beyond the target's range become infinity); NaN becomes the
// quiet NaN of the same sign (0x7e00 / 0x7fc0 with the sign bit). F16/BF16 -> F32 are exact.
uint16_t F32ToBF16(float value);
float BF16ToF32(uint16_t bits);
uint16_t F32ToF16(float value);
float F16ToF32(uint16_t bits);

// Decodes little-endian elements of `dtype` (F32, F16, BF16 or F64) into `out`, which must hold
// exactly bytes.size() / DTypeSize(dtype) elements. INVALID_ARGUMENT for a size mismatch or another
// dtype.
absl::Status DecodeToF32(DType dtype, absl::Span<const uint8_t> bytes, absl::Span<float> out);
// Encodes floats as little-endian `dtype` (F32, F16 or BF16) into `out` of exactly
// values.size() * DTypeSize(dtype) bytes. INVALID_ARGUMENT otherwise.
absl::Status EncodeFromF32(absl::Span<const float> values, DType dtype, absl::Span<uint8_t> out);

}  // namespace arc

#endif  // ARC_CORE_TEXT_SAFETENSORS_H_
