// EnumName: one table of {value, name} per enum, read by both its Name and its Parse function, so
// that adding a value is one line and the two directions cannot drift apart.
//
//   constexpr EnumName<Colour> kColours[] = {{Colour::kRed, "red"}, {Colour::kBlue, "blue"}};
//   const char* ColourName(Colour c) { return NameOf(kColours, c, "unknown"); }
//   std::optional<Colour> c = ValueOf(kColours, "blue");
//   std::string list = NameList(kColours);  // "red, blue", for "is not one of ..." messages
//
// Header-only and dependency-free, so every layer (core, server, client, tools) may include it.
#ifndef ARC_CORE_DATA_ENUM_NAMES_H_
#define ARC_CORE_DATA_ENUM_NAMES_H_

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace arc {

template <typename E>
struct EnumName {
  E value;
  // A string literal: const char* (not string_view) so callers that hand out const char* can.
  const char* name;
};

// The name of `value`, or `fallback` for a value the table does not list.
template <typename E, size_t N>
constexpr const char* NameOf(const EnumName<E> (&table)[N], E value, const char* fallback) {
  for (const EnumName<E>& entry : table) {
    if (entry.value == value) return entry.name;
  }
  return fallback;
}

// The value named exactly `name` (case-sensitive), or nullopt.
template <typename E, size_t N>
constexpr std::optional<E> ValueOf(const EnumName<E> (&table)[N], std::string_view name) {
  for (const EnumName<E>& entry : table) {
    if (name == entry.name) return entry.value;
  }
  return std::nullopt;
}

// The names in table order, joined by ", ".
template <typename E, size_t N>
std::string NameList(const EnumName<E> (&table)[N]) {
  std::string out;
  for (const EnumName<E>& entry : table) {
    if (!out.empty()) out += ", ";
    out += entry.name;
  }
  return out;
}

}  // namespace arc

#endif  // ARC_CORE_DATA_ENUM_NAMES_H_
