// Fuzz target: a whole safetensors file in memory (SafetensorsFile::FromBytes runs Open's checks;
// core/text/safetensors.h). Never crashes or throws; a refusal is INVALID_ARGUMENT; an accepted
// file's tensors lie inside it, tile its data buffer, and decode (float dtypes) without reading
// outside it (ASan watches every byte).
#include <algorithm>
#include <vector>

#include "core/text/safetensors.h"
#include "fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using arc::fuzz::Check;
  absl::StatusOr<arc::SafetensorsFile> file =
      arc::SafetensorsFile::FromBytes(std::string(arc::fuzz::AsText(data, size)), "fuzz");
  arc::fuzz::CheckRefusal(file.status(), "SafetensorsFile::FromBytes");
  if (!file.ok()) return 0;
  Check(8 + file->header_bytes() + file->data_bytes() == size, "header and data cover the file");
  uint64_t covered = 0;
  for (const std::string& name : file->names()) {
    const absl::StatusOr<arc::TensorView> view = file->View(name);
    Check(view.ok(), "every listed tensor has a view");
    const arc::TensorInfo* info = file->Find(name);
    Check(info != nullptr && info->end <= file->data_bytes(), "tensors lie inside the buffer");
    covered += info->NumBytes();
    Check(static_cast<uint64_t>(info->NumElements()) * arc::DTypeSize(info->dtype) ==
              info->NumBytes(),
          "bytes = elements x dtype size");
    const arc::DType d = view->dtype;
    if (d == arc::DType::kF32 || d == arc::DType::kF16 || d == arc::DType::kBF16 ||
        d == arc::DType::kF64) {
      // Decode at most 4096 elements: all of a small tensor, the start of a large one.
      const size_t n = std::min<size_t>(view->bytes / arc::DTypeSize(d), 4096);
      std::vector<float> out(n);
      const auto bytes =
          absl::MakeConstSpan(static_cast<const uint8_t*>(view->data), n * arc::DTypeSize(d));
      Check(arc::DecodeToF32(d, bytes, absl::MakeSpan(out)).ok(), "float tensors decode");
    }
  }
  Check(covered == file->data_bytes(), "tensors tile the data buffer");
  return 0;
}
