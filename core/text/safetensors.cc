#include "core/text/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <limits>
#include <set>
#include <tuple>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/data/json_parse.h"
#include "core/data/status_macros.h"
#include "nlohmann/json.hpp"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "safetensors.cc reads and writes little-endian data in place: a little-endian host is needed"
#endif

namespace arc {
namespace {

using Json = nlohmann::json;

// The reference implementation's limit; a larger header is an attack or a mistake, not a model.
constexpr uint64_t kMaxHeaderBytes = 100'000'000;
// Real headers nest three levels deep; a bound keeps hostile "[[[[..." headers cheap to reject.
constexpr int kMaxHeaderDepth = 16;

struct DTypeEntry {
  DType dtype;
  absl::string_view name;
  size_t size;
};

// In enum order, so kDTypes[static_cast<int>(d)].dtype == d.
constexpr DTypeEntry kDTypes[] = {
    {DType::kBool, "BOOL", 1},      {DType::kU8, "U8", 1},          {DType::kI8, "I8", 1},
    {DType::kF8E5M2, "F8_E5M2", 1}, {DType::kF8E4M3, "F8_E4M3", 1}, {DType::kI16, "I16", 2},
    {DType::kU16, "U16", 2},        {DType::kF16, "F16", 2},        {DType::kBF16, "BF16", 2},
    {DType::kI32, "I32", 4},        {DType::kU32, "U32", 4},        {DType::kF32, "F32", 4},
    {DType::kF64, "F64", 8},        {DType::kI64, "I64", 8},        {DType::kU64, "U64", 8},
};

std::string KnownDTypeNames() {
  std::vector<absl::string_view> names;
  for (const DTypeEntry& e : kDTypes) names.push_back(e.name);
  return absl::StrJoin(names, ", ");
}

absl::Status ErrnoError(int err, const std::string& what) {
  return absl::Status(absl::ErrnoToStatusCode(err), absl::StrCat(what, ": ", std::strerror(err)));
}

std::string Quote(absl::string_view s) { return absl::StrCat("\"", s, "\""); }

// The message for a parse fault other than a syntax error, naming where it is. In a header the
// first path step is a tensor name, shown the way the entry checks show it:
//   m.safetensors: tensor "w": data_offsets[1]: number 1e3080 is out of range (it overflows a
//   double), at header byte 56
std::string DescribeHeaderFault(absl::string_view text, const std::string& what,
                                const std::exception& e) {
  JsonFault fault = LocateJsonFault(std::string_view(text.data(), text.size()), kMaxHeaderDepth);
  if (fault.kind != JsonFault::Kind::kNumberOverflow) {
    return absl::StrCat(what, " is not valid JSON (", JsonExceptionText(e), ")");
  }
  std::string where = what;
  if (absl::EndsWith(what, ": header") && !fault.path.empty() && fault.path[0].index < 0 &&
      fault.path[0].key != "__metadata__") {
    where = absl::StrCat(what.substr(0, what.size() - 8), ": tensor ", Quote(fault.path[0].key));
    fault.path.erase(fault.path.begin());
  }
  const std::string inner = FormatJsonPath(fault.path);
  return absl::StrCat(where, ": ", inner.empty() ? "" : absl::StrCat(inner, ": "), "number ",
                      fault.token, " is out of range (it overflows a double), at ",
                      absl::EndsWith(what, ": header") ? "header " : "", "byte ", fault.byte);
}

// Parses a JSON object, rejecting duplicate keys at any level (nlohmann would silently keep one of
// them, and a duplicated tensor name would make two readers disagree on the file). `what` prefixes
// messages ("<path>: header").
absl::StatusOr<Json> ParseJsonObject(absl::string_view text, const std::string& what) {
  // Nesting is bounded before the parser runs, so that neither it nor the parsed value's
  // destructor sees pathological depth.
  if (DepthExceededAt(std::string_view(text.data(), text.size()), kMaxHeaderDepth) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " nests deeper than ", kMaxHeaderDepth, " levels"));
  }
  std::vector<std::set<std::string>> keys;  // one set per open object
  std::string duplicate;
  auto callback = [&](int /*depth*/, Json::parse_event_t event, Json& parsed) {
    switch (event) {
      case Json::parse_event_t::object_start:
        keys.emplace_back();
        break;
      case Json::parse_event_t::object_end:
        if (!keys.empty()) keys.pop_back();
        break;
      case Json::parse_event_t::key:
        if (!keys.empty() && !keys.back().insert(parsed.get<std::string>()).second &&
            duplicate.empty()) {
          duplicate = parsed.get<std::string>();
        }
        break;
      default:
        break;
    }
    return true;
  };
  Json json;
  try {
    json = Json::parse(text.begin(), text.end(), callback);
  } catch (const Json::parse_error& e) {
    // e.byte counts from 1 (nlohmann's convention); at end of input it is size + 1.
    return absl::InvalidArgumentError(
        absl::StrCat(what, " is not valid JSON (syntax error at byte ", e.byte, ")"));
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError(absl::StrCat(what, ": out of memory while parsing"));
  } catch (const std::exception& e) {
    // Anything else the parser throws (out_of_range 406: a number such as 1e3080 that overflows a
    // double): a second, tracking pass names the JSON path of the fault.
    return absl::InvalidArgumentError(DescribeHeaderFault(text, what, e));
  }
  if (!duplicate.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(what, " has duplicate key ", Quote(duplicate)));
  }
  if (!json.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(what, " is not a JSON object"));
  }
  return json;
}

// A non-negative JSON integer (floats such as 2.0 are rejected, as serde does for usize).
bool AsU64(const Json& j, uint64_t* out) {
  if (j.is_number_unsigned()) {
    *out = j.get<uint64_t>();
    return true;
  }
  if (j.is_number_integer() && j.get<int64_t>() >= 0) {
    *out = static_cast<uint64_t>(j.get<int64_t>());
    return true;
  }
  return false;
}

// product(shape) * element_size, or false on 64-bit overflow. A zero dimension makes the product
// zero whatever the other dimensions are.
bool ByteCount(const std::vector<int64_t>& shape, size_t element_size, uint64_t* bytes) {
  uint64_t n = 1;
  if (std::find(shape.begin(), shape.end(), 0) != shape.end()) {
    *bytes = 0;
    return true;
  }
  for (int64_t d : shape) {
    if (__builtin_mul_overflow(n, static_cast<uint64_t>(d), &n)) return false;
  }
  return !__builtin_mul_overflow(n, static_cast<uint64_t>(element_size), bytes);
}

// Validates one header entry; on success fills `info` (name already set).
absl::Status ParseTensorEntry(const Json& entry, uint64_t data_bytes, const std::string& prefix,
                              TensorInfo* info) {
  if (!entry.is_object()) return absl::InvalidArgumentError(prefix + "entry is not an object");
  const auto dtype_it = entry.find("dtype");
  if (dtype_it == entry.end()) return absl::InvalidArgumentError(prefix + "missing \"dtype\"");
  if (!dtype_it->is_string()) {
    return absl::InvalidArgumentError(prefix + "\"dtype\" is not a string");
  }
  const std::string& dtype_name = dtype_it->get_ref<const std::string&>();
  absl::StatusOr<DType> dtype = DTypeFromName(dtype_name);
  if (!dtype.ok())
    return absl::InvalidArgumentError(prefix + std::string(dtype.status().message()));
  info->dtype = *dtype;

  const auto shape_it = entry.find("shape");
  if (shape_it == entry.end()) return absl::InvalidArgumentError(prefix + "missing \"shape\"");
  if (!shape_it->is_array()) {
    return absl::InvalidArgumentError(prefix +
                                      "\"shape\" must be an array of non-negative integers");
  }
  info->shape.clear();
  for (const Json& dim : *shape_it) {
    uint64_t d = 0;
    if (!AsU64(dim, &d)) {
      return absl::InvalidArgumentError(prefix +
                                        "\"shape\" must be an array of non-negative integers");
    }
    if (d > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return absl::InvalidArgumentError(
          absl::StrCat(prefix, "shape dimension ", d, " is too large"));
    }
    info->shape.push_back(static_cast<int64_t>(d));
  }

  const auto offsets_it = entry.find("data_offsets");
  if (offsets_it == entry.end()) {
    return absl::InvalidArgumentError(prefix + "missing \"data_offsets\"");
  }
  if (!offsets_it->is_array() || offsets_it->size() != 2 ||
      !AsU64((*offsets_it)[0], &info->begin) || !AsU64((*offsets_it)[1], &info->end)) {
    return absl::InvalidArgumentError(prefix +
                                      "\"data_offsets\" must be two non-negative integers");
  }
  const std::string offsets = absl::StrCat("data_offsets [", info->begin, ", ", info->end, "]");
  if (info->begin > info->end) {
    return absl::InvalidArgumentError(absl::StrCat(prefix, offsets, " are reversed"));
  }
  if (info->end > data_bytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(prefix, offsets, " exceed the data buffer of ", data_bytes, " bytes"));
  }
  uint64_t needed = 0;
  if (!ByteCount(info->shape, DTypeSize(info->dtype), &needed)) {
    return absl::InvalidArgumentError(absl::StrCat(prefix, "shape ", ShapeToString(info->shape),
                                                   " with dtype ", dtype_name,
                                                   " overflows a 64-bit byte count"));
  }
  if (needed != info->end - info->begin) {
    return absl::InvalidArgumentError(
        absl::StrCat(prefix, "shape ", ShapeToString(info->shape), " with dtype ", dtype_name,
                     " needs ", needed, " bytes but ", offsets, " span ", info->end - info->begin));
  }
  return absl::OkStatus();
}

// The tensors must tile the data buffer exactly (the reference implementation's rule): sorted by
// offsets, each starts where the previous ended and the last ends at the end of the buffer.
absl::Status CheckTiling(const std::vector<TensorInfo>& tensors, uint64_t data_bytes,
                         const std::string& path) {
  std::vector<const TensorInfo*> sorted;
  sorted.reserve(tensors.size());
  for (const TensorInfo& t : tensors) sorted.push_back(&t);
  std::sort(sorted.begin(), sorted.end(), [](const TensorInfo* a, const TensorInfo* b) {
    return std::tie(a->begin, a->end, a->name) < std::tie(b->begin, b->end, b->name);
  });
  uint64_t covered = 0;
  const TensorInfo* previous = nullptr;
  for (const TensorInfo* t : sorted) {
    if (t->begin < covered) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": tensors ", Quote(previous->name), " (data_offsets [",
                       previous->begin, ", ", previous->end, "]) and ", Quote(t->name),
                       " (data_offsets [", t->begin, ", ", t->end, "]) overlap"));
    }
    if (t->begin > covered) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": data buffer bytes [", covered, ", ",
                                                     t->begin, ") belong to no tensor"));
    }
    covered = t->end;
    previous = t;
  }
  if (covered != data_bytes) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": data buffer bytes [", covered, ", ",
                                                   data_bytes, ") belong to no tensor"));
  }
  return absl::OkStatus();
}

// Compact JSON text of a string (escaped as serde_json does for the characters that matter);
// INVALID_ARGUMENT when it is not UTF-8.
absl::StatusOr<std::string> JsonString(const std::string& s, absl::string_view what) {
  try {
    return Json(s).dump();
  } catch (const Json::type_error&) {
    return absl::InvalidArgumentError(absl::StrCat(what, " is not valid UTF-8"));
  }
}

absl::Status WriteAll(int fd, const void* data, size_t bytes, const std::string& path) {
  const char* p = static_cast<const char*>(data);
  while (bytes > 0) {
    // Linux writes at most ~2 GiB per call; chunk explicitly so large tensors are not an edge case.
    const size_t chunk = std::min<size_t>(bytes, size_t{1} << 30);
    const ssize_t n = ::write(fd, p, chunk);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError(errno, absl::StrCat(path, ": write failed"));
    }
    if (n == 0) return ErrnoError(EIO, absl::StrCat(path, ": write made no progress"));
    p += n;
    bytes -= static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

bool IsDirectory(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool Exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

std::string DirName(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string JoinPath(const std::string& dir, const std::string& name) {
  if (dir.empty()) return name;
  if (dir.back() == '/') return dir + name;
  return dir + "/" + name;
}

absl::StatusOr<std::string> ReadSmallFile(const std::string& path, uint64_t limit) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return ErrnoError(errno, absl::StrCat(path, ": cannot open"));
  std::string text;
  char buffer[65536];
  while (true) {
    const ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      return ErrnoError(err, absl::StrCat(path, ": read failed"));
    }
    if (n == 0) break;
    text.append(buffer, static_cast<size_t>(n));
    if (text.size() > limit) {
      ::close(fd);
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": larger than the limit of ", limit, " bytes"));
    }
  }
  ::close(fd);
  return text;
}

}  // namespace

size_t DTypeSize(DType dtype) { return kDTypes[static_cast<int>(dtype)].size; }

absl::string_view DTypeName(DType dtype) { return kDTypes[static_cast<int>(dtype)].name; }

absl::StatusOr<DType> DTypeFromName(absl::string_view name) {
  for (const DTypeEntry& e : kDTypes) {
    if (e.name == name) return e.dtype;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown dtype ", Quote(name), " (known: ", KnownDTypeNames(), ")"));
}

int64_t TensorInfo::NumElements() const {
  // Open checked that the product times the element size fits the file, unless a dimension is
  // zero, in which case the others may be anything.
  if (std::find(shape.begin(), shape.end(), 0) != shape.end()) return 0;
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::string ShapeToString(absl::Span<const int64_t> shape) {
  return absl::StrCat("[", absl::StrJoin(shape, ", "), "]");
}

// ----------------------------------------------------------------------------------------------
// SafetensorsFile

// The file's bytes: a read-only mapping (Open), or a string held in memory (FromBytes).
struct SafetensorsFile::Mapping {
  void* addr = nullptr;
  size_t size = 0;
  std::string owned;
  Mapping(void* a, size_t s) : addr(a), size(s) {}
  explicit Mapping(std::string bytes) : owned(std::move(bytes)) {}
  ~Mapping() {
    if (addr != nullptr) ::munmap(addr, size);
  }
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;

  const uint8_t* data() const {
    return addr != nullptr ? static_cast<const uint8_t*>(addr)
                           : reinterpret_cast<const uint8_t*>(owned.data());
  }
  uint64_t bytes() const { return addr != nullptr ? size : owned.size(); }
};

void SafetensorsFile::ReleasePages(absl::string_view name) const {
  const TensorInfo* info = Find(name);
  if (info == nullptr || mapping_ == nullptr || mapping_->addr == nullptr) return;
  static const uintptr_t page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  const uintptr_t start = reinterpret_cast<uintptr_t>(data_ + info->begin);
  const uintptr_t begin = (start + page - 1) / page * page;  // whole pages inside the tensor only
  const uintptr_t end = (start + info->NumBytes()) / page * page;
  if (end > begin) ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
}

SafetensorsFile::SafetensorsFile(SafetensorsFile&&) = default;
SafetensorsFile& SafetensorsFile::operator=(SafetensorsFile&&) = default;
SafetensorsFile::~SafetensorsFile() = default;

namespace {

absl::Status TooShort(const std::string& path, uint64_t bytes) {
  return absl::InvalidArgumentError(
      absl::StrCat(path, ": file is ", bytes, " bytes, too short for the 8-byte header length"));
}

}  // namespace

absl::StatusOr<SafetensorsFile> SafetensorsFile::Open(const std::string& path) {
  // O_NONBLOCK: opening a FIFO must not hang waiting for a writer (it is then refused as not a
  // regular file); for regular files the flag has no effect.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return ErrnoError(errno, absl::StrCat(path, ": cannot open"));
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    return ErrnoError(err, absl::StrCat(path, ": cannot stat"));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return absl::InvalidArgumentError(absl::StrCat(path, ": not a regular file"));
  }
  const uint64_t file_bytes = static_cast<uint64_t>(st.st_size);
  if (file_bytes < 8) {
    ::close(fd);
    return TooShort(path, file_bytes);
  }
  void* addr = ::mmap(nullptr, file_bytes, PROT_READ, MAP_PRIVATE, fd, 0);
  const int mmap_errno = errno;
  ::close(fd);  // the mapping keeps the file alive
  if (addr == MAP_FAILED) return ErrnoError(mmap_errno, absl::StrCat(path, ": cannot mmap"));
  return FromMapping(path, std::make_unique<Mapping>(addr, file_bytes));
}

absl::StatusOr<SafetensorsFile> SafetensorsFile::FromBytes(std::string bytes,
                                                           const std::string& name) {
  if (bytes.size() < 8) return TooShort(name, bytes.size());
  return FromMapping(name, std::make_unique<Mapping>(std::move(bytes)));
}

absl::StatusOr<SafetensorsFile> SafetensorsFile::FromMapping(const std::string& path,
                                                             std::unique_ptr<Mapping> mapping) {
  SafetensorsFile file;
  file.path_ = path;
  file.mapping_ = std::move(mapping);
  const uint8_t* bytes = file.mapping_->data();
  const uint64_t file_bytes = file.mapping_->bytes();

  uint64_t header_bytes = 0;
  std::memcpy(&header_bytes, bytes, 8);
  if (header_bytes > kMaxHeaderBytes) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": header length ", header_bytes,
                                                   " exceeds the limit of ", kMaxHeaderBytes,
                                                   " bytes"));
  }
  if (header_bytes > file_bytes - 8) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": header length ", header_bytes,
                                                   " runs past the end of the file (", file_bytes,
                                                   " bytes)"));
  }
  const absl::string_view header(reinterpret_cast<const char*>(bytes + 8), header_bytes);
  if (header.empty() || header.front() != '{') {
    return absl::InvalidArgumentError(absl::StrCat(path, ": header does not start with '{'"));
  }
  ARC_ASSIGN_OR_RETURN(const Json json, ParseJsonObject(header, path + ": header"));

  file.header_bytes_ = header_bytes;
  file.data_bytes_ = file_bytes - 8 - header_bytes;
  file.data_ = bytes + 8 + header_bytes;

  // nlohmann objects iterate in key order, so tensors_ comes out sorted by name. The entry checks
  // test every type before reading; GuardJson is the backstop for the library's exceptions.
  const auto read_entries = [&]() -> absl::Status {
    for (const auto& [key, value] : json.items()) {
      if (key == "__metadata__") {
        if (value.is_null()) continue;  // the reference reader accepts null for "no metadata"
        if (!value.is_object()) {
          return absl::InvalidArgumentError(
              absl::StrCat(path, ": \"__metadata__\" must be an object of strings"));
        }
        for (const auto& [mkey, mvalue] : value.items()) {
          if (!mvalue.is_string()) {
            return absl::InvalidArgumentError(
                absl::StrCat(path, ": \"__metadata__\" entry ", Quote(mkey), " is not a string"));
          }
          file.metadata_[mkey] = mvalue.get<std::string>();
        }
        continue;
      }
      TensorInfo info;
      info.name = key;
      ARC_RETURN_IF_ERROR(ParseTensorEntry(
          value, file.data_bytes_, absl::StrCat(path, ": tensor ", Quote(key), ": "), &info));
      file.index_.emplace(key, file.tensors_.size());
      file.names_.push_back(key);
      file.tensors_.push_back(std::move(info));
    }
    return CheckTiling(file.tensors_, file.data_bytes_, path);
  };
  ARC_RETURN_IF_ERROR(GuardJson(path, read_entries));
  return file;
}

const TensorInfo* SafetensorsFile::Find(absl::string_view name) const {
  const auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

absl::StatusOr<TensorInfo> SafetensorsFile::Info(absl::string_view name) const {
  const TensorInfo* info = Find(name);
  if (info == nullptr) {
    return absl::NotFoundError(absl::StrCat(path_, ": no tensor ", Quote(name)));
  }
  return *info;
}

absl::StatusOr<absl::Span<const uint8_t>> SafetensorsFile::Data(absl::string_view name) const {
  const TensorInfo* info = Find(name);
  if (info == nullptr) {
    return absl::NotFoundError(absl::StrCat(path_, ": no tensor ", Quote(name)));
  }
  return absl::Span<const uint8_t>(data_ + info->begin, info->NumBytes());
}

absl::StatusOr<TensorView> SafetensorsFile::View(absl::string_view name) const {
  const TensorInfo* info = Find(name);
  if (info == nullptr) {
    return absl::NotFoundError(absl::StrCat(path_, ": no tensor ", Quote(name)));
  }
  return TensorView{info->name, info->dtype, info->shape, data_ + info->begin, info->NumBytes()};
}

// ----------------------------------------------------------------------------------------------
// Writer

absl::Status WriteSafetensors(const std::string& path, const std::vector<TensorView>& tensors,
                              const std::map<std::string, std::string>& metadata) {
  // Validate everything before touching the file system.
  std::set<absl::string_view> seen;
  for (const TensorView& t : tensors) {
    const std::string prefix = absl::StrCat(path, ": tensor ", Quote(t.name), ": ");
    if (t.name.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": empty tensor name"));
    }
    if (t.name == "__metadata__") {
      return absl::InvalidArgumentError(prefix + "the name is reserved for the metadata");
    }
    if (!seen.insert(t.name).second) return absl::InvalidArgumentError(prefix + "duplicate name");
    for (int64_t d : t.shape) {
      if (d < 0) {
        return absl::InvalidArgumentError(
            absl::StrCat(prefix, "negative dimension in shape ", ShapeToString(t.shape)));
      }
    }
    uint64_t needed = 0;
    if (!ByteCount(t.shape, DTypeSize(t.dtype), &needed) || needed != t.bytes) {
      return absl::InvalidArgumentError(absl::StrCat(prefix, t.bytes, " bytes given, shape ",
                                                     ShapeToString(t.shape), " with dtype ",
                                                     DTypeName(t.dtype), " needs ", needed));
    }
    if (t.bytes > 0 && t.data == nullptr) {
      return absl::InvalidArgumentError(prefix + "null data");
    }
  }

  // The reference layout: decreasing dtype alignment, then name.
  std::vector<const TensorView*> order;
  order.reserve(tensors.size());
  for (const TensorView& t : tensors) order.push_back(&t);
  std::sort(order.begin(), order.end(), [](const TensorView* a, const TensorView* b) {
    if (a->dtype != b->dtype) return static_cast<int>(a->dtype) > static_cast<int>(b->dtype);
    return a->name < b->name;
  });

  std::string header = "{";
  bool first = true;
  if (!metadata.empty()) {
    header += "\"__metadata__\":{";
    for (const auto& [key, value] : metadata) {
      ARC_ASSIGN_OR_RETURN(const std::string k,
                           JsonString(key, absl::StrCat(path, ": metadata key")));
      ARC_ASSIGN_OR_RETURN(const std::string v,
                           JsonString(value, absl::StrCat(path, ": metadata value of ", k)));
      absl::StrAppend(&header, first ? "" : ",", k, ":", v);
      first = false;
    }
    header += "}";
    first = false;
  }
  uint64_t offset = 0;
  for (const TensorView* t : order) {
    ARC_ASSIGN_OR_RETURN(const std::string name,
                         JsonString(t->name, absl::StrCat(path, ": a tensor name")));
    absl::StrAppend(&header, first ? "" : ",", name, ":{\"dtype\":\"", DTypeName(t->dtype),
                    "\",\"shape\":[", absl::StrJoin(t->shape, ","), "],\"data_offsets\":[", offset,
                    ",", offset + t->bytes, "]}");
    offset += t->bytes;
    first = false;
  }
  header += "}";
  header.append((8 - header.size() % 8) % 8, ' ');
  if (header.size() > kMaxHeaderBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": header of ", header.size(), " bytes exceeds the limit of ", kMaxHeaderBytes));
  }

  // Unique per process and call; O_EXCL guards against a stale file from a crashed writer.
  static std::atomic<uint64_t> counter{0};
  std::string tmp;
  int fd = -1;
  for (int attempt = 0; attempt < 16 && fd < 0; ++attempt) {
    tmp = absl::StrCat(path, ".tmp.", ::getpid(), ".", counter.fetch_add(1));
    fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0 && errno != EEXIST) break;
  }
  if (fd < 0) return ErrnoError(errno, absl::StrCat(tmp, ": cannot create"));

  absl::Status status = [&]() -> absl::Status {
    const uint64_t n = header.size();
    ARC_RETURN_IF_ERROR(WriteAll(fd, &n, 8, tmp));
    ARC_RETURN_IF_ERROR(WriteAll(fd, header.data(), header.size(), tmp));
    for (const TensorView* t : order) ARC_RETURN_IF_ERROR(WriteAll(fd, t->data, t->bytes, tmp));
    if (::fsync(fd) != 0) return ErrnoError(errno, absl::StrCat(tmp, ": fsync failed"));
    return absl::OkStatus();
  }();
  if (::close(fd) != 0 && status.ok()) {
    status = ErrnoError(errno, absl::StrCat(tmp, ": close failed"));
  }
  if (status.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) {
    status = ErrnoError(errno, absl::StrCat(path, ": cannot rename ", tmp, " over it"));
  }
  if (!status.ok()) ::unlink(tmp.c_str());
  return status;
}

// ----------------------------------------------------------------------------------------------
// ShardedSafetensors

absl::StatusOr<ShardedSafetensors> ShardedSafetensors::Open(const std::string& path) {
  if (IsDirectory(path)) return OpenDirectory(path);
  if (absl::EndsWith(path, ".index.json")) {
    return OpenIndex(path);
  }
  return OpenFile(path);
}

absl::StatusOr<ShardedSafetensors> ShardedSafetensors::OpenDirectory(const std::string& dir) {
  const std::string single = JoinPath(dir, "model.safetensors");
  if (Exists(single)) return OpenFile(single);
  const std::string index = JoinPath(dir, "model.safetensors.index.json");
  if (Exists(index)) return OpenIndex(index);
  return absl::NotFoundError(
      absl::StrCat(dir, ": neither model.safetensors nor model.safetensors.index.json exists"));
}

absl::StatusOr<ShardedSafetensors> ShardedSafetensors::OpenFile(const std::string& path) {
  ARC_ASSIGN_OR_RETURN(SafetensorsFile file, SafetensorsFile::Open(path));
  ShardedSafetensors result;
  result.path_ = path;
  result.names_ = file.names();
  result.metadata_ = file.metadata();
  for (const std::string& name : result.names_) result.where_.emplace(name, 0);
  result.shards_.push_back(std::move(file));
  return result;
}

absl::StatusOr<ShardedSafetensors> ShardedSafetensors::OpenIndex(const std::string& index_path) {
  // The index walk tests every type before reading; GuardJson is the backstop.
  return GuardJson(index_path, [&] { return OpenIndexUnguarded(index_path); });
}

absl::StatusOr<ShardedSafetensors> ShardedSafetensors::OpenIndexUnguarded(
    const std::string& index_path) {
  ARC_ASSIGN_OR_RETURN(const std::string text, ReadSmallFile(index_path, kMaxHeaderBytes));
  ARC_ASSIGN_OR_RETURN(const Json json, ParseJsonObject(text, index_path));

  ShardedSafetensors result;
  result.path_ = index_path;
  const auto meta_it = json.find("metadata");
  if (meta_it != json.end() && !meta_it->is_null()) {
    if (!meta_it->is_object()) {
      return absl::InvalidArgumentError(
          absl::StrCat(index_path, ": \"metadata\" must be an object"));
    }
    for (const auto& [key, value] : meta_it->items()) {
      result.metadata_[key] = value.is_string() ? value.get<std::string>() : value.dump();
    }
  }
  const auto map_it = json.find("weight_map");
  if (map_it == json.end()) {
    return absl::InvalidArgumentError(absl::StrCat(index_path, ": missing \"weight_map\""));
  }
  if (!map_it->is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat(index_path, ": \"weight_map\" must be an object of strings"));
  }
  std::map<std::string, std::string> weight_map;  // tensor -> shard file name
  std::set<std::string> shard_names;
  for (const auto& [tensor, shard] : map_it->items()) {
    if (!shard.is_string()) {
      return absl::InvalidArgumentError(
          absl::StrCat(index_path, ": \"weight_map\" entry ", Quote(tensor), " is not a string"));
    }
    const std::string& file = shard.get_ref<const std::string&>();
    // Shards live beside the index; refusing paths keeps a crafted index from reading elsewhere.
    if (file.empty() || file == "." || file == ".." || file.find('/') != std::string::npos ||
        file.find('\\') != std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat(index_path, ": tensor ", Quote(tensor),
                                                     ": shard ", Quote(file),
                                                     " must be a plain file name"));
    }
    weight_map.emplace(tensor, file);
    shard_names.insert(file);
  }

  const std::string dir = DirName(index_path);
  std::vector<std::string> ordered(shard_names.begin(), shard_names.end());
  for (const std::string& shard : ordered) {
    absl::StatusOr<SafetensorsFile> file = SafetensorsFile::Open(JoinPath(dir, shard));
    if (!file.ok()) {
      return absl::Status(file.status().code(), absl::StrCat(index_path, ": shard ", Quote(shard),
                                                             ": ", file.status().message()));
    }
    const size_t shard_index = result.shards_.size();
    for (const std::string& name : file->names()) {
      const auto [it, inserted] = result.where_.emplace(name, shard_index);
      if (!inserted) {
        return absl::InvalidArgumentError(
            absl::StrCat(index_path, ": tensor ", Quote(name), " appears in shards ",
                         Quote(ordered[it->second]), " and ", Quote(shard)));
      }
    }
    result.shards_.push_back(*std::move(file));
  }
  for (const auto& [tensor, shard] : weight_map) {
    const auto it = result.where_.find(tensor);
    if (it == result.where_.end() || ordered[it->second] != shard) {
      return absl::InvalidArgumentError(absl::StrCat(index_path, ": tensor ", Quote(tensor),
                                                     " is listed in shard ", Quote(shard),
                                                     " but that shard has no such tensor"));
    }
  }
  result.names_.reserve(result.where_.size());
  for (const auto& entry : result.where_) result.names_.push_back(entry.first);
  std::sort(result.names_.begin(), result.names_.end());
  return result;
}

absl::Status ShardedSafetensors::NotFound(absl::string_view name) const {
  return absl::NotFoundError(absl::StrCat(path_, ": no tensor ", Quote(name)));
}

const SafetensorsFile* ShardedSafetensors::ShardOf(absl::string_view name) const {
  const auto it = where_.find(name);
  return it == where_.end() ? nullptr : &shards_[it->second];
}

const TensorInfo* ShardedSafetensors::Find(absl::string_view name) const {
  const SafetensorsFile* shard = ShardOf(name);
  return shard == nullptr ? nullptr : shard->Find(name);
}

absl::StatusOr<TensorInfo> ShardedSafetensors::Info(absl::string_view name) const {
  const SafetensorsFile* shard = ShardOf(name);
  if (shard == nullptr) return NotFound(name);
  return shard->Info(name);
}

absl::StatusOr<absl::Span<const uint8_t>> ShardedSafetensors::Data(absl::string_view name) const {
  const SafetensorsFile* shard = ShardOf(name);
  if (shard == nullptr) return NotFound(name);
  return shard->Data(name);
}

absl::StatusOr<TensorView> ShardedSafetensors::View(absl::string_view name) const {
  const SafetensorsFile* shard = ShardOf(name);
  if (shard == nullptr) return NotFound(name);
  return shard->View(name);
}

// ----------------------------------------------------------------------------------------------
// Conversions

namespace {

uint32_t FloatBits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

float BitsFloat(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

}  // namespace

uint16_t F32ToBF16(float value) {
  const uint32_t x = FloatBits(value);
  if ((x & 0x7fffffffu) > 0x7f800000u)
    return static_cast<uint16_t>(((x >> 16) & 0x8000u) | 0x7fc0u);
  // Adding 0x7fff plus the lowest kept bit rounds to nearest with ties to even; a carry out of the
  // mantissa correctly bumps the exponent (up to infinity).
  const uint32_t lsb = (x >> 16) & 1u;
  return static_cast<uint16_t>((x + 0x7fffu + lsb) >> 16);
}

float BF16ToF32(uint16_t bits) { return BitsFloat(static_cast<uint32_t>(bits) << 16); }

uint16_t F32ToF16(float value) {
  const uint32_t bits = FloatBits(value);
  const uint16_t sign = static_cast<uint16_t>((bits >> 16) & 0x8000u);
  const uint32_t x = bits & 0x7fffffffu;
  if (x > 0x7f800000u) return sign | 0x7e00u;   // NaN
  if (x >= 0x477ff000u) return sign | 0x7c00u;  // >= 65520 rounds to infinity (ties to even)
  const uint32_t exponent = x >> 23;
  if (exponent < 113) {
    // Below 2^-14: a half subnormal, q = value / 2^-24 rounded. value = m * 2^(exponent - 150)
    // with the implicit bit in m, so q = m >> (126 - exponent) with the dropped bits rounded.
    if (exponent < 102) return sign;  // below 2^-25: rounds to zero (2^-25 itself is a tie -> 0)
    const uint32_t m = (x & 0x7fffffu) | 0x800000u;
    const uint32_t shift = 126 - exponent;  // 14..24
    uint32_t q = m >> shift;
    const uint32_t rest = m & ((1u << shift) - 1);
    const uint32_t half = 1u << (shift - 1);
    if (rest > half || (rest == half && (q & 1u))) ++q;  // may carry into the smallest normal
    return static_cast<uint16_t>(sign | q);
  }
  uint32_t h = ((exponent - 112) << 10) | ((x & 0x7fffffu) >> 13);
  const uint32_t rest = x & 0x1fffu;
  if (rest > 0x1000u || (rest == 0x1000u && (h & 1u))) ++h;  // carry may bump the exponent
  return static_cast<uint16_t>(sign | h);
}

float F16ToF32(uint16_t bits) {
  const uint32_t sign = static_cast<uint32_t>(bits & 0x8000u) << 16;
  const uint32_t exponent = (bits >> 10) & 0x1fu;
  const uint32_t mantissa = bits & 0x3ffu;
  if (exponent == 0) {
    // Zero or subnormal: mantissa * 2^-24, exact in float.
    const float magnitude = std::ldexp(static_cast<float>(mantissa), -24);
    return sign ? -magnitude : magnitude;
  }
  if (exponent == 31) return BitsFloat(sign | 0x7f800000u | (mantissa << 13));
  return BitsFloat(sign | ((exponent + 112) << 23) | (mantissa << 13));
}

absl::Status DecodeToF32(DType dtype, absl::Span<const uint8_t> bytes, absl::Span<float> out) {
  const size_t size = DTypeSize(dtype);
  if (dtype != DType::kF32 && dtype != DType::kF16 && dtype != DType::kBF16 &&
      dtype != DType::kF64) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot decode dtype ", DTypeName(dtype), " to F32"));
  }
  if (bytes.size() != out.size() * size) {
    return absl::InvalidArgumentError(absl::StrCat("decoding ", bytes.size(), " bytes of ",
                                                   DTypeName(dtype), " into ", out.size(),
                                                   " floats"));
  }
  const uint8_t* p = bytes.data();
  for (size_t i = 0; i < out.size(); ++i, p += size) {
    switch (dtype) {
      case DType::kF32:
        std::memcpy(&out[i], p, 4);
        break;
      case DType::kF64: {
        double d;
        std::memcpy(&d, p, 8);
        out[i] = static_cast<float>(d);
        break;
      }
      default: {
        uint16_t h;
        std::memcpy(&h, p, 2);
        out[i] = dtype == DType::kF16 ? F16ToF32(h) : BF16ToF32(h);
        break;
      }
    }
  }
  return absl::OkStatus();
}

absl::Status EncodeFromF32(absl::Span<const float> values, DType dtype, absl::Span<uint8_t> out) {
  if (dtype != DType::kF32 && dtype != DType::kF16 && dtype != DType::kBF16) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot encode F32 as dtype ", DTypeName(dtype)));
  }
  const size_t size = DTypeSize(dtype);
  if (out.size() != values.size() * size) {
    return absl::InvalidArgumentError(absl::StrCat("encoding ", values.size(), " floats as ",
                                                   DTypeName(dtype), " into ", out.size(),
                                                   " bytes"));
  }
  uint8_t* p = out.data();
  for (size_t i = 0; i < values.size(); ++i, p += size) {
    if (dtype == DType::kF32) {
      std::memcpy(p, &values[i], 4);
    } else {
      const uint16_t h = dtype == DType::kF16 ? F32ToF16(values[i]) : F32ToBF16(values[i]);
      std::memcpy(p, &h, 2);
    }
  }
  return absl::OkStatus();
}

}  // namespace arc
