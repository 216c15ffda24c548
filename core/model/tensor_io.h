// Safetensors files <-> libtorch tensors, and a checked getter for model loading.
//
// Loading copies every tensor out of the file mapping into memory the tensor owns, so a returned
// tensor never aliases a mapping that is unmapped when the ShardedSafetensors goes away; the
// mapping's pages of a tensor just read are released at once, so a load peaks near the size of
// what it keeps, not twice that. Saving
// takes contiguous CPU copies and writes through WriteSafetensors (atomic, reference layout).
//
// dtypes: BOOL, U8, I8, I16, I32, I64, F16, BF16, F32 and F64 map to their at::ScalarType; U16,
// U32, U64 and the F8 types have no libtorch 1.13 equivalent and fail with UNIMPLEMENTED naming the
// tensor. A requested target dtype applies to floating-point tensors only; integer and bool tensors
// keep their type.
//
// Every function catches c10::Error (INTERNAL) and std::bad_alloc (RESOURCE_EXHAUSTED) and returns
// it as a Status; none throws. Thread safety: the functions hold no state; concurrent calls on
// distinct maps are safe, and LoadTensors/ReadTensor may share one ShardedSafetensors.
#ifndef ARC_CORE_MODEL_TENSOR_IO_H_
#define ARC_CORE_MODEL_TENSOR_IO_H_

#include <ATen/core/Tensor.h>
#include <c10/core/ScalarType.h>
#include <c10/util/ArrayRef.h>

#include <map>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/text/safetensors.h"

namespace arc {

// The libtorch type of a safetensors dtype; UNIMPLEMENTED for U16/U32/U64/F8_*.
absl::StatusOr<at::ScalarType> ToScalarType(DType dtype);
// The safetensors dtype of a libtorch type; UNIMPLEMENTED for complex, quantized and other types.
absl::StatusOr<DType> FromScalarType(at::ScalarType type);

// One tensor as an owned CPU tensor, converted to `dtype` when given and the tensor is
// floating-point. NOT_FOUND when absent (the ShardedSafetensors message).
absl::StatusOr<at::Tensor> ReadTensor(const ShardedSafetensors& file, absl::string_view name,
                                      std::optional<at::ScalarType> dtype = std::nullopt);

// Every tensor of a checkpoint. `path` is whatever ShardedSafetensors::Open accepts: a
// .safetensors file, an index, or a model directory. `dtype`, when given, must be a floating type
// (kFloat, kHalf, kBFloat16, kDouble); INVALID_ARGUMENT otherwise.
absl::StatusOr<std::map<std::string, at::Tensor>> LoadTensors(
    const std::string& path, std::optional<at::ScalarType> dtype = std::nullopt);
absl::StatusOr<std::map<std::string, at::Tensor>> LoadTensors(
    const ShardedSafetensors& file, std::optional<at::ScalarType> dtype = std::nullopt);

// Writes the tensors (any device, any strides; sparse tensors are refused) as one safetensors file.
// INVALID_ARGUMENT for undefined or sparse tensors, UNIMPLEMENTED for dtypes without a safetensors
// name, plus WriteSafetensors' errors.
absl::Status SaveTensors(const std::string& path, const std::map<std::string, at::Tensor>& tensors,
                         const std::map<std::string, std::string>& metadata = {});

// Writes the tensors as a Hugging Face sharded checkpoint in `dir` (which must exist):
// model-0000N-of-0000M.safetensors, each at most `max_shard_bytes` unless one tensor alone is
// larger (tensors in name order, a new shard when the next would overflow), and
// model.safetensors.index.json ({"metadata": {"total_size": bytes}, "weight_map": {name: file}}).
// Removes a stale model.safetensors, which loaders would otherwise prefer. INVALID_ARGUMENT for
// max_shard_bytes <= 0, plus SaveTensors' errors.
absl::Status SaveTensorsSharded(const std::string& dir,
                                const std::map<std::string, at::Tensor>& tensors,
                                int64_t max_shard_bytes,
                                const std::map<std::string, std::string>& metadata = {});

// Removes `name` from `tensors` and returns it after checking its shape, for model loading that
// must account for every tensor of a checkpoint. NOT_FOUND `missing tensor "x"`; INVALID_ARGUMENT
// `tensor "x": shape [16, 64], expected [32, 64]` (the tensor then stays in the map).
absl::StatusOr<at::Tensor> TakeTensor(std::map<std::string, at::Tensor>& tensors,
                                      const std::string& name, at::IntArrayRef expected_shape);

// OK when every floating-point tensor holds only finite values (integer and bool tensors are
// skipped); otherwise INVALID_ARGUMENT naming the first offending tensor in name order, e.g.
//   tensor "model.norm.weight": 3 of 64 values are not finite (the first, at flat index 5, is nan)
// One pass over each tensor: over the bits of contiguous float32 CPU tensors, otherwise
// isfinite/all in chunks of 4M elements so the temporaries stay small. Memory-bound: about 2.5 ms
// per million float32 parameters on one core of the development machine, 8 ms for the embedded
// model. The count and position are computed only for a tensor that fails.
absl::Status CheckFinite(const std::map<std::string, at::Tensor>& tensors);

// OK when every tensor has been taken; otherwise INVALID_ARGUMENT naming up to five leftovers in
// name order, e.g. `2 unexpected tensors: "a", "b"`.
absl::Status CheckAllTaken(const std::map<std::string, at::Tensor>& tensors);

}  // namespace arc

#endif  // ARC_CORE_MODEL_TENSOR_IO_H_
