#include "core/text/bpe_tokenizer.h"

#include <algorithm>
#include <cstddef>
#include <queue>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "core/text/tokenizer_json.h"
#include "nlohmann/json.hpp"

namespace arc {
namespace {

using Json = nlohmann::json;

// Debian's abseil has its own string_view type; StrCat and hash-map lookups want that one.
absl::string_view AV(std::string_view s) { return absl::string_view(s.data(), s.size()); }

absl::Status FieldError(std::string_view field, std::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(AV(field), ": ", AV(what)));
}

// ---------------------------------------------------------------------------------------------
// Unicode classes for the split pattern.

struct CodePointRange {
  uint32_t first;
  uint32_t last;
};

// Non-ASCII \p{L} and \p{N} as inclusive ranges, generated with Python 3's unicodedata (Unicode
// 14.0): walking U+0080..U+10FFFF, a code point whose category starts with 'L' (resp. 'N') extends
// or opens a range, an unassigned one (Cn) is skipped without closing the open range, any other
// closes it. ASCII is handled in code. Regenerate:
//   import unicodedata as u
//   def ranges(p):
//     r, s, e = [], None, None
//     for c in range(0x80, 0x110000):
//       k = u.category(chr(c))
//       if k == 'Cn': continue
//       if k.startswith(p): s, e = (c if s is None else s), c
//       elif s is not None: r.append((s, e)); s = None
//     return r + ([(s, e)] if s is not None else [])
// clang-format off
constexpr CodePointRange kLetterRanges[] = {
    {0xAA, 0xAA}, {0xB5, 0xB5}, {0xBA, 0xBA}, {0xC0, 0xD6}, {0xD8, 0xF6}, {0xF8, 0x2C1},
    {0x2C6, 0x2D1}, {0x2E0, 0x2E4}, {0x2EC, 0x2EC}, {0x2EE, 0x2EE}, {0x370, 0x374}, {0x376, 0x37D},
    {0x37F, 0x37F}, {0x386, 0x386}, {0x388, 0x3F5}, {0x3F7, 0x481}, {0x48A, 0x559}, {0x560, 0x588},
    {0x5D0, 0x5F2}, {0x620, 0x64A}, {0x66E, 0x66F}, {0x671, 0x6D3}, {0x6D5, 0x6D5}, {0x6E5, 0x6E6},
    {0x6EE, 0x6EF}, {0x6FA, 0x6FC}, {0x6FF, 0x6FF}, {0x710, 0x710}, {0x712, 0x72F}, {0x74D, 0x7A5},
    {0x7B1, 0x7B1}, {0x7CA, 0x7EA}, {0x7F4, 0x7F5}, {0x7FA, 0x7FA}, {0x800, 0x815}, {0x81A, 0x81A},
    {0x824, 0x824}, {0x828, 0x828}, {0x840, 0x858}, {0x860, 0x887}, {0x889, 0x88E}, {0x8A0, 0x8C9},
    {0x904, 0x939}, {0x93D, 0x93D}, {0x950, 0x950}, {0x958, 0x961}, {0x971, 0x980}, {0x985, 0x9B9},
    {0x9BD, 0x9BD}, {0x9CE, 0x9CE}, {0x9DC, 0x9E1}, {0x9F0, 0x9F1}, {0x9FC, 0x9FC}, {0xA05, 0xA39},
    {0xA59, 0xA5E}, {0xA72, 0xA74}, {0xA85, 0xAB9}, {0xABD, 0xABD}, {0xAD0, 0xAE1}, {0xAF9, 0xAF9},
    {0xB05, 0xB39}, {0xB3D, 0xB3D}, {0xB5C, 0xB61}, {0xB71, 0xB71}, {0xB83, 0xBB9}, {0xBD0, 0xBD0},
    {0xC05, 0xC39}, {0xC3D, 0xC3D}, {0xC58, 0xC61}, {0xC80, 0xC80}, {0xC85, 0xCB9}, {0xCBD, 0xCBD},
    {0xCDD, 0xCE1}, {0xCF1, 0xCF2}, {0xD04, 0xD3A}, {0xD3D, 0xD3D}, {0xD4E, 0xD4E}, {0xD54, 0xD56},
    {0xD5F, 0xD61}, {0xD7A, 0xD7F}, {0xD85, 0xDC6}, {0xE01, 0xE30}, {0xE32, 0xE33}, {0xE40, 0xE46},
    {0xE81, 0xEB0}, {0xEB2, 0xEB3}, {0xEBD, 0xEC6}, {0xEDC, 0xF00}, {0xF40, 0xF6C}, {0xF88, 0xF8C},
    {0x1000, 0x102A}, {0x103F, 0x103F}, {0x1050, 0x1055}, {0x105A, 0x105D}, {0x1061, 0x1061},
    {0x1065, 0x1066}, {0x106E, 0x1070}, {0x1075, 0x1081}, {0x108E, 0x108E}, {0x10A0, 0x10FA},
    {0x10FC, 0x135A}, {0x1380, 0x138F}, {0x13A0, 0x13FD}, {0x1401, 0x166C}, {0x166F, 0x167F},
    {0x1681, 0x169A}, {0x16A0, 0x16EA}, {0x16F1, 0x1711}, {0x171F, 0x1731}, {0x1740, 0x1751},
    {0x1760, 0x1770}, {0x1780, 0x17B3}, {0x17D7, 0x17D7}, {0x17DC, 0x17DC}, {0x1820, 0x1884},
    {0x1887, 0x18A8}, {0x18AA, 0x191E}, {0x1950, 0x19C9}, {0x1A00, 0x1A16}, {0x1A20, 0x1A54},
    {0x1AA7, 0x1AA7}, {0x1B05, 0x1B33}, {0x1B45, 0x1B4C}, {0x1B83, 0x1BA0}, {0x1BAE, 0x1BAF},
    {0x1BBA, 0x1BE5}, {0x1C00, 0x1C23}, {0x1C4D, 0x1C4F}, {0x1C5A, 0x1C7D}, {0x1C80, 0x1CBF},
    {0x1CE9, 0x1CEC}, {0x1CEE, 0x1CF3}, {0x1CF5, 0x1CF6}, {0x1CFA, 0x1DBF}, {0x1E00, 0x1FBC},
    {0x1FBE, 0x1FBE}, {0x1FC2, 0x1FCC}, {0x1FD0, 0x1FDB}, {0x1FE0, 0x1FEC}, {0x1FF2, 0x1FFC},
    {0x2071, 0x2071}, {0x207F, 0x207F}, {0x2090, 0x209C}, {0x2102, 0x2102}, {0x2107, 0x2107},
    {0x210A, 0x2113}, {0x2115, 0x2115}, {0x2119, 0x211D}, {0x2124, 0x2124}, {0x2126, 0x2126},
    {0x2128, 0x2128}, {0x212A, 0x212D}, {0x212F, 0x2139}, {0x213C, 0x213F}, {0x2145, 0x2149},
    {0x214E, 0x214E}, {0x2183, 0x2184}, {0x2C00, 0x2CE4}, {0x2CEB, 0x2CEE}, {0x2CF2, 0x2CF3},
    {0x2D00, 0x2D6F}, {0x2D80, 0x2DDE}, {0x2E2F, 0x2E2F}, {0x3005, 0x3006}, {0x3031, 0x3035},
    {0x303B, 0x303C}, {0x3041, 0x3096}, {0x309D, 0x309F}, {0x30A1, 0x30FA}, {0x30FC, 0x318E},
    {0x31A0, 0x31BF}, {0x31F0, 0x31FF}, {0x3400, 0x4DBF}, {0x4E00, 0xA48C}, {0xA4D0, 0xA4FD},
    {0xA500, 0xA60C}, {0xA610, 0xA61F}, {0xA62A, 0xA66E}, {0xA67F, 0xA69D}, {0xA6A0, 0xA6E5},
    {0xA717, 0xA71F}, {0xA722, 0xA788}, {0xA78B, 0xA801}, {0xA803, 0xA805}, {0xA807, 0xA80A},
    {0xA80C, 0xA822}, {0xA840, 0xA873}, {0xA882, 0xA8B3}, {0xA8F2, 0xA8F7}, {0xA8FB, 0xA8FB},
    {0xA8FD, 0xA8FE}, {0xA90A, 0xA925}, {0xA930, 0xA946}, {0xA960, 0xA97C}, {0xA984, 0xA9B2},
    {0xA9CF, 0xA9CF}, {0xA9E0, 0xA9E4}, {0xA9E6, 0xA9EF}, {0xA9FA, 0xAA28}, {0xAA40, 0xAA42},
    {0xAA44, 0xAA4B}, {0xAA60, 0xAA76}, {0xAA7A, 0xAA7A}, {0xAA7E, 0xAAAF}, {0xAAB1, 0xAAB1},
    {0xAAB5, 0xAAB6}, {0xAAB9, 0xAABD}, {0xAAC0, 0xAAC0}, {0xAAC2, 0xAADD}, {0xAAE0, 0xAAEA},
    {0xAAF2, 0xAAF4}, {0xAB01, 0xAB5A}, {0xAB5C, 0xAB69}, {0xAB70, 0xABE2}, {0xAC00, 0xD7FB},
    {0xF900, 0xFB1D}, {0xFB1F, 0xFB28}, {0xFB2A, 0xFBB1}, {0xFBD3, 0xFD3D}, {0xFD50, 0xFDC7},
    {0xFDF0, 0xFDFB}, {0xFE70, 0xFEFC}, {0xFF21, 0xFF3A}, {0xFF41, 0xFF5A}, {0xFF66, 0xFFDC},
    {0x10000, 0x100FA}, {0x10280, 0x102D0}, {0x10300, 0x1031F}, {0x1032D, 0x10340},
    {0x10342, 0x10349}, {0x10350, 0x10375}, {0x10380, 0x1039D}, {0x103A0, 0x103CF},
    {0x10400, 0x1049D}, {0x104B0, 0x10563}, {0x10570, 0x10855}, {0x10860, 0x10876},
    {0x10880, 0x1089E}, {0x108E0, 0x108F5}, {0x10900, 0x10915}, {0x10920, 0x10939},
    {0x10980, 0x109B7}, {0x109BE, 0x109BF}, {0x10A00, 0x10A00}, {0x10A10, 0x10A35},
    {0x10A60, 0x10A7C}, {0x10A80, 0x10A9C}, {0x10AC0, 0x10AC7}, {0x10AC9, 0x10AE4},
    {0x10B00, 0x10B35}, {0x10B40, 0x10B55}, {0x10B60, 0x10B72}, {0x10B80, 0x10B91},
    {0x10C00, 0x10CF2}, {0x10D00, 0x10D23}, {0x10E80, 0x10EA9}, {0x10EB0, 0x10F1C},
    {0x10F27, 0x10F45}, {0x10F70, 0x10F81}, {0x10FB0, 0x10FC4}, {0x10FE0, 0x10FF6},
    {0x11003, 0x11037}, {0x11071, 0x11072}, {0x11075, 0x11075}, {0x11083, 0x110AF},
    {0x110D0, 0x110E8}, {0x11103, 0x11126}, {0x11144, 0x11144}, {0x11147, 0x11172},
    {0x11176, 0x11176}, {0x11183, 0x111B2}, {0x111C1, 0x111C4}, {0x111DA, 0x111DA},
    {0x111DC, 0x111DC}, {0x11200, 0x1122B}, {0x11280, 0x112A8}, {0x112B0, 0x112DE},
    {0x11305, 0x11339}, {0x1133D, 0x1133D}, {0x11350, 0x11350}, {0x1135D, 0x11361},
    {0x11400, 0x11434}, {0x11447, 0x1144A}, {0x1145F, 0x114AF}, {0x114C4, 0x114C5},
    {0x114C7, 0x114C7}, {0x11580, 0x115AE}, {0x115D8, 0x115DB}, {0x11600, 0x1162F},
    {0x11644, 0x11644}, {0x11680, 0x116AA}, {0x116B8, 0x116B8}, {0x11700, 0x1171A},
    {0x11740, 0x1182B}, {0x118A0, 0x118DF}, {0x118FF, 0x1192F}, {0x1193F, 0x1193F},
    {0x11941, 0x11941}, {0x119A0, 0x119D0}, {0x119E1, 0x119E1}, {0x119E3, 0x119E3},
    {0x11A00, 0x11A00}, {0x11A0B, 0x11A32}, {0x11A3A, 0x11A3A}, {0x11A50, 0x11A50},
    {0x11A5C, 0x11A89}, {0x11A9D, 0x11A9D}, {0x11AB0, 0x11C2E}, {0x11C40, 0x11C40},
    {0x11C72, 0x11C8F}, {0x11D00, 0x11D30}, {0x11D46, 0x11D46}, {0x11D60, 0x11D89},
    {0x11D98, 0x11D98}, {0x11EE0, 0x11EF2}, {0x11FB0, 0x11FB0}, {0x12000, 0x12399},
    {0x12480, 0x12FF0}, {0x13000, 0x1342E}, {0x14400, 0x16A5E}, {0x16A70, 0x16ABE},
    {0x16AD0, 0x16AED}, {0x16B00, 0x16B2F}, {0x16B40, 0x16B43}, {0x16B63, 0x16E7F},
    {0x16F00, 0x16F4A}, {0x16F50, 0x16F50}, {0x16F93, 0x16FE1}, {0x16FE3, 0x16FE3},
    {0x17000, 0x1BC99}, {0x1D400, 0x1D6C0}, {0x1D6C2, 0x1D6DA}, {0x1D6DC, 0x1D6FA},
    {0x1D6FC, 0x1D714}, {0x1D716, 0x1D734}, {0x1D736, 0x1D74E}, {0x1D750, 0x1D76E},
    {0x1D770, 0x1D788}, {0x1D78A, 0x1D7A8}, {0x1D7AA, 0x1D7C2}, {0x1D7C4, 0x1D7CB},
    {0x1DF00, 0x1DF1E}, {0x1E100, 0x1E12C}, {0x1E137, 0x1E13D}, {0x1E14E, 0x1E14E},
    {0x1E290, 0x1E2AD}, {0x1E2C0, 0x1E2EB}, {0x1E7E0, 0x1E8C4}, {0x1E900, 0x1E943},
    {0x1E94B, 0x1E94B}, {0x1EE00, 0x1EEBB}, {0x20000, 0x3134A},
};
constexpr CodePointRange kNumberRanges[] = {
    {0xB2, 0xB3}, {0xB9, 0xB9}, {0xBC, 0xBE}, {0x660, 0x669}, {0x6F0, 0x6F9}, {0x7C0, 0x7C9},
    {0x966, 0x96F}, {0x9E6, 0x9EF}, {0x9F4, 0x9F9}, {0xA66, 0xA6F}, {0xAE6, 0xAEF}, {0xB66, 0xB6F},
    {0xB72, 0xB77}, {0xBE6, 0xBF2}, {0xC66, 0xC6F}, {0xC78, 0xC7E}, {0xCE6, 0xCEF}, {0xD58, 0xD5E},
    {0xD66, 0xD78}, {0xDE6, 0xDEF}, {0xE50, 0xE59}, {0xED0, 0xED9}, {0xF20, 0xF33},
    {0x1040, 0x1049}, {0x1090, 0x1099}, {0x1369, 0x137C}, {0x16EE, 0x16F0}, {0x17E0, 0x17F9},
    {0x1810, 0x1819}, {0x1946, 0x194F}, {0x19D0, 0x19DA}, {0x1A80, 0x1A99}, {0x1B50, 0x1B59},
    {0x1BB0, 0x1BB9}, {0x1C40, 0x1C49}, {0x1C50, 0x1C59}, {0x2070, 0x2070}, {0x2074, 0x2079},
    {0x2080, 0x2089}, {0x2150, 0x2182}, {0x2185, 0x2189}, {0x2460, 0x249B}, {0x24EA, 0x24FF},
    {0x2776, 0x2793}, {0x2CFD, 0x2CFD}, {0x3007, 0x3007}, {0x3021, 0x3029}, {0x3038, 0x303A},
    {0x3192, 0x3195}, {0x3220, 0x3229}, {0x3248, 0x324F}, {0x3251, 0x325F}, {0x3280, 0x3289},
    {0x32B1, 0x32BF}, {0xA620, 0xA629}, {0xA6E6, 0xA6EF}, {0xA830, 0xA835}, {0xA8D0, 0xA8D9},
    {0xA900, 0xA909}, {0xA9D0, 0xA9D9}, {0xA9F0, 0xA9F9}, {0xAA50, 0xAA59}, {0xABF0, 0xABF9},
    {0xFF10, 0xFF19}, {0x10107, 0x10133}, {0x10140, 0x10178}, {0x1018A, 0x1018B},
    {0x102E1, 0x102FB}, {0x10320, 0x10323}, {0x10341, 0x10341}, {0x1034A, 0x1034A},
    {0x103D1, 0x103D5}, {0x104A0, 0x104A9}, {0x10858, 0x1085F}, {0x10879, 0x1087F},
    {0x108A7, 0x108AF}, {0x108FB, 0x108FF}, {0x10916, 0x1091B}, {0x109BC, 0x109BD},
    {0x109C0, 0x109FF}, {0x10A40, 0x10A48}, {0x10A7D, 0x10A7E}, {0x10A9D, 0x10A9F},
    {0x10AEB, 0x10AEF}, {0x10B58, 0x10B5F}, {0x10B78, 0x10B7F}, {0x10BA9, 0x10BAF},
    {0x10CFA, 0x10CFF}, {0x10D30, 0x10E7E}, {0x10F1D, 0x10F26}, {0x10F51, 0x10F54},
    {0x10FC5, 0x10FCB}, {0x11052, 0x1106F}, {0x110F0, 0x110F9}, {0x11136, 0x1113F},
    {0x111D0, 0x111D9}, {0x111E1, 0x111F4}, {0x112F0, 0x112F9}, {0x11450, 0x11459},
    {0x114D0, 0x114D9}, {0x11650, 0x11659}, {0x116C0, 0x116C9}, {0x11730, 0x1173B},
    {0x118E0, 0x118F2}, {0x11950, 0x11959}, {0x11C50, 0x11C6C}, {0x11D50, 0x11D59},
    {0x11DA0, 0x11DA9}, {0x11FC0, 0x11FD4}, {0x12400, 0x1246E}, {0x16A60, 0x16A69},
    {0x16AC0, 0x16AC9}, {0x16B50, 0x16B61}, {0x16E80, 0x16E96}, {0x1D2E0, 0x1D2F3},
    {0x1D360, 0x1D378}, {0x1D7CE, 0x1D7FF}, {0x1E140, 0x1E149}, {0x1E2F0, 0x1E2F9},
    {0x1E8C7, 0x1E8CF}, {0x1E950, 0x1E959}, {0x1EC71, 0x1ECAB}, {0x1ECAD, 0x1ECAF},
    {0x1ECB1, 0x1ED2D}, {0x1ED2F, 0x1ED3D}, {0x1F100, 0x1F10C}, {0x1FBF0, 0x1FBF9},
};
// clang-format on

bool InRanges(uint32_t cp, const CodePointRange* begin, const CodePointRange* end) {
  // The last range whose first <= cp.
  const CodePointRange* it = std::upper_bound(
      begin, end, cp, [](uint32_t v, const CodePointRange& r) { return v < r.first; });
  return it != begin && cp <= (it - 1)->last;
}

bool IsLetter(uint32_t cp) {
  if (cp < 0x80) return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z');
  return InRanges(cp, std::begin(kLetterRanges), std::end(kLetterRanges));
}

bool IsNumber(uint32_t cp) {
  if (cp < 0x80) return cp >= '0' && cp <= '9';
  return InRanges(cp, std::begin(kNumberRanges), std::end(kNumberRanges));
}

// Unicode White_Space (what \s means in the Oniguruma regex `tokenizers` uses).
bool IsSpace(uint32_t cp) {
  if (cp < 0x80) return cp == ' ' || (cp >= 0x09 && cp <= 0x0D);
  return cp == 0x85 || cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) ||
         cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

bool IsNewline(uint32_t cp) { return cp == '\r' || cp == '\n'; }

// [^\s\p{L}\p{N}]: punctuation, symbols, marks, controls, and invalid bytes.
bool IsOther(uint32_t cp) { return !IsSpace(cp) && !IsLetter(cp) && !IsNumber(cp); }

constexpr uint32_t kInvalidByte = 0xFFFFFFFF;  // never a letter, number or space

struct Utf8Char {
  uint32_t cp;
  size_t len;
};

// The code point starting at s[pos] (pos < s.size()). A byte that does not start a well-formed
// UTF-8 sequence decodes as kInvalidByte of length 1, so any byte string can be split.
Utf8Char DecodeAt(std::string_view s, size_t pos) {
  const auto b = [&](size_t k) { return static_cast<uint8_t>(s[pos + k]); };
  const size_t left = s.size() - pos;
  const uint8_t b0 = b(0);
  if (b0 < 0x80) return {b0, 1};
  const auto cont = [&](size_t k) { return k < left && (b(k) & 0xC0) == 0x80; };
  if (b0 >= 0xC2 && b0 <= 0xDF && cont(1)) return {((b0 & 0x1Fu) << 6) | (b(1) & 0x3Fu), 2};
  if (b0 >= 0xE0 && b0 <= 0xEF && cont(1) && cont(2)) {
    const uint32_t cp = ((b0 & 0x0Fu) << 12) | ((b(1) & 0x3Fu) << 6) | (b(2) & 0x3Fu);
    if (cp >= 0x800 && (cp < 0xD800 || cp > 0xDFFF)) return {cp, 3};
  }
  if (b0 >= 0xF0 && b0 <= 0xF4 && cont(1) && cont(2) && cont(3)) {
    const uint32_t cp =
        ((b0 & 0x07u) << 18) | ((b(1) & 0x3Fu) << 12) | ((b(2) & 0x3Fu) << 6) | (b(3) & 0x3Fu);
    if (cp >= 0x10000 && cp <= 0x10FFFF) return {cp, 4};
  }
  return {kInvalidByte, 1};
}

char AsciiLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// The end of the match of kLlama3SplitPattern at t[i] (i < t.size()). The numbered steps are the
// pattern's alternatives in order; the first that matches wins, as in the regex.
size_t MatchLlama3Piece(std::string_view t, size_t i) {
  const size_t n = t.size();
  const Utf8Char c0 = DecodeAt(t, i);
  const size_t i1 = i + c0.len;
  const auto cp_at = [&](size_t p) { return p < n ? DecodeAt(t, p).cp : kInvalidByte; };
  const auto run_end = [&](size_t p, bool (*pred)(uint32_t)) {
    while (p < n) {
      const Utf8Char c = DecodeAt(t, p);
      if (!pred(c.cp)) break;
      p += c.len;
    }
    return p;
  };

  // 1. (?i:'s|'t|'re|'ve|'m|'ll|'d)
  if (c0.cp == '\'' && i1 < n) {
    const char a = AsciiLower(t[i1]);
    if (a == 's' || a == 't' || a == 'm' || a == 'd') return i1 + 1;
    if (i1 + 1 < n) {
      const char b = AsciiLower(t[i1 + 1]);
      if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) {
        return i1 + 2;
      }
    }
  }
  // 2. [^\r\n\p{L}\p{N}]?\p{L}+
  if (IsLetter(c0.cp)) return run_end(i1, IsLetter);
  if (!IsNewline(c0.cp) && !IsNumber(c0.cp) && IsLetter(cp_at(i1))) return run_end(i1, IsLetter);
  // 3. \p{N}{1,3}
  if (IsNumber(c0.cp)) {
    size_t j = i1;
    for (int k = 1; k < 3 && j < n; ++k) {
      const Utf8Char c = DecodeAt(t, j);
      if (!IsNumber(c.cp)) break;
      j += c.len;
    }
    return j;
  }
  // 4. ' ?[^\s\p{L}\p{N}]+[\r\n]*'
  size_t j = i;
  if (c0.cp == ' ' && IsOther(cp_at(i1))) j = i1;
  if (j > i || IsOther(c0.cp)) {
    j = run_end(j, IsOther);
    while (j < n && (t[j] == '\r' || t[j] == '\n')) ++j;
    return j;
  }
  // Every other character was matched above, so c0 is whitespace. Scan its run once.
  size_t end = i;
  size_t after_last_newline = 0;  // 0: no newline in the run (a match never ends at 0)
  size_t last_char_start = i;
  while (end < n) {
    const Utf8Char c = DecodeAt(t, end);
    if (!IsSpace(c.cp)) break;
    if (IsNewline(c.cp)) after_last_newline = end + c.len;
    last_char_start = end;
    end += c.len;
  }
  // 5. \s*[\r\n]+ : greedy \s* backs off to the last newline of the run.
  if (after_last_newline != 0) return after_last_newline;
  // 6. \s+(?!\S) : the whole run at the end of the text, else all but its last character.
  if (end == n) return n;
  if (last_char_start > i) return last_char_start;
  // 7. \s+
  return end;
}

template <typename Fn>
void ForEachLlama3Piece(std::string_view text, Fn&& fn) {
  size_t i = 0;
  while (i < text.size()) {
    const size_t end = MatchLlama3Piece(text, i);
    fn(text.substr(i, end - i));
    i = end;
  }
}

// ---------------------------------------------------------------------------------------------
// GPT-2's byte-level alphabet: printable bytes stand for themselves, the other 68 bytes map to
// U+0100.. in byte order, so every token is a printable string.

struct ByteLevelAlphabet {
  std::array<uint32_t, 256> to_cp{};
  std::array<int, 324> to_byte{};  // by code point; -1 when not a byte symbol

  ByteLevelAlphabet() {
    to_byte.fill(-1);
    uint32_t next = 256;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || b >= 174;
      to_cp[b] = printable ? static_cast<uint32_t>(b) : next++;
      to_byte[to_cp[b]] = b;
    }
  }
};

const ByteLevelAlphabet& Alphabet() {
  static const ByteLevelAlphabet* const alphabet = new ByteLevelAlphabet();
  return *alphabet;
}

// Byte-level token text (UTF-8) -> raw bytes; nullopt when a character is not a byte symbol.
std::optional<std::string> ByteLevelDecode(std::string_view token) {
  std::string out;
  out.reserve(token.size());
  for (size_t i = 0; i < token.size();) {
    const Utf8Char c = DecodeAt(token, i);
    if (c.cp >= Alphabet().to_byte.size() || Alphabet().to_byte[c.cp] < 0) return std::nullopt;
    out.push_back(static_cast<char>(Alphabet().to_byte[c.cp]));
    i += c.len;
  }
  return out;
}

// Raw bytes -> byte-level token text (UTF-8).
std::string ByteLevelEncode(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char ch : bytes) {
    const uint32_t cp = Alphabet().to_cp[static_cast<uint8_t>(ch)];
    if (cp < 0x80) {
      out.push_back(static_cast<char>(cp));
    } else {  // all symbols are below U+0800: two bytes
      out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }
  return out;
}

uint64_t PairKey(int left, int right) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
}

// ---------------------------------------------------------------------------------------------
// tokenizer.json checks.

bool IsNullOrAbsent(const Json& obj, const char* key) {
  const auto it = obj.find(key);
  return it == obj.end() || it->is_null();
}

bool BoolOr(const Json& obj, const char* key, bool fallback) {
  const auto it = obj.find(key);
  return (it == obj.end() || !it->is_boolean()) ? fallback : it->get<bool>();
}

std::string TypeOf(const Json& obj) {
  const auto it = obj.find("type");
  return (it != obj.end() && it->is_string()) ? it->get<std::string>() : "<missing>";
}

constexpr char kSupportedPreTokenizer[] =
    "supported: Sequence[Split(the Llama-3 regex, Isolated), ByteLevel(add_prefix_space=false, "
    "use_regex=false)]";

absl::Status CheckPreTokenizer(const Json& root) {
  const auto it = root.find("pre_tokenizer");
  if (it == root.end() || it->is_null()) {
    return FieldError("pre_tokenizer",
                      absl::StrCat("null is not supported (", kSupportedPreTokenizer, ")"));
  }
  const Json& pt = *it;
  if (!pt.is_object() || TypeOf(pt) != "Sequence") {
    return FieldError("pre_tokenizer.type", absl::StrCat("'", TypeOf(pt), "' is not supported (",
                                                         kSupportedPreTokenizer, ")"));
  }
  const auto seq = pt.find("pretokenizers");
  if (seq == pt.end() || !seq->is_array() || seq->size() != 2) {
    return FieldError("pre_tokenizer.pretokenizers",
                      absl::StrCat("expected 2 entries (", kSupportedPreTokenizer, ")"));
  }
  const Json& split = (*seq)[0];
  if (!split.is_object() || TypeOf(split) != "Split") {
    return FieldError("pre_tokenizer.pretokenizers[0].type",
                      absl::StrCat("'", split.is_object() ? TypeOf(split) : "?",
                                   "' is not supported (", kSupportedPreTokenizer, ")"));
  }
  const auto pattern = split.find("pattern");
  if (pattern == split.end() || !pattern->is_object() || !pattern->contains("Regex") ||
      !(*pattern)["Regex"].is_string() ||
      (*pattern)["Regex"].get<std::string>() != kLlama3SplitPattern) {
    return FieldError("pre_tokenizer.pretokenizers[0].pattern",
                      "only the Llama-3 split regex is supported");
  }
  if (!split.contains("behavior") || split["behavior"] != "Isolated") {
    return FieldError("pre_tokenizer.pretokenizers[0].behavior", "only 'Isolated' is supported");
  }
  if (BoolOr(split, "invert", false)) {
    return FieldError("pre_tokenizer.pretokenizers[0].invert", "true is not supported");
  }
  const Json& bl = (*seq)[1];
  if (!bl.is_object() || TypeOf(bl) != "ByteLevel") {
    return FieldError("pre_tokenizer.pretokenizers[1].type",
                      absl::StrCat("'", bl.is_object() ? TypeOf(bl) : "?", "' is not supported (",
                                   kSupportedPreTokenizer, ")"));
  }
  if (BoolOr(bl, "add_prefix_space", false)) {
    return FieldError("pre_tokenizer.pretokenizers[1].add_prefix_space", "true is not supported");
  }
  if (BoolOr(bl, "use_regex", true)) {
    return FieldError("pre_tokenizer.pretokenizers[1].use_regex",
                      "true is not supported (the Split step already splits)");
  }
  return absl::OkStatus();
}

// The first of `names` that is an added token.
std::optional<int> FirstPresent(const absl::flat_hash_map<std::string, int>& index,
                                std::initializer_list<const char*> names) {
  for (const char* name : names) {
    const auto it = index.find(name);
    if (it != index.end()) return it->second;
  }
  return std::nullopt;
}

constexpr int kMaxTokenId = 1 << 24;  // far above any real vocabulary
// Ids index per-token tables, so a file's ids must stay within twice the tokens it lists plus
// this slack (real vocabularies are dense; Llama-3 lists 128,256 tokens with ids 0..128,255):
// otherwise one entry with id 6,000,000 in a 50-byte file would allocate 6M table rows (a
// fuzzer-found input took over 10 s and 200 MB).
constexpr int64_t kTokenIdSlack = 1024;

}  // namespace

std::vector<std::string_view> Llama3PreTokenize(std::string_view text) {
  std::vector<std::string_view> pieces;
  ForEachLlama3Piece(text, [&](std::string_view piece) { pieces.push_back(piece); });
  return pieces;
}

absl::StatusOr<std::unique_ptr<BpeTokenizer>> BpeTokenizer::FromJson(const Json& root) {
  if (!root.is_object()) return FieldError("tokenizer.json", "not a JSON object");
  if (!IsNullOrAbsent(root, "normalizer")) {
    const Json& norm = root["normalizer"];
    return FieldError("normalizer.type", absl::StrCat("'", norm.is_object() ? TypeOf(norm) : "?",
                                                      "' is not supported (only null)"));
  }
  if (auto s = CheckPreTokenizer(root); !s.ok()) return s;
  {
    const auto it = root.find("decoder");
    if (it == root.end() || !it->is_object() || TypeOf(*it) != "ByteLevel") {
      return FieldError(
          "decoder.type",
          absl::StrCat("'", (it != root.end() && it->is_object()) ? TypeOf(*it) : "null",
                       "' is not supported (only ByteLevel)"));
    }
  }
  const auto model_it = root.find("model");
  if (model_it == root.end() || !model_it->is_object()) return FieldError("model", "missing");
  const Json& model = *model_it;
  if (TypeOf(model) != "BPE") {
    return FieldError("model.type", absl::StrCat("'", TypeOf(model), "' is not supported here"));
  }
  if (!IsNullOrAbsent(model, "dropout")) {
    return FieldError("model.dropout", "BPE dropout is not supported (must be null)");
  }
  if (BoolOr(model, "byte_fallback", false)) {
    return FieldError("model.byte_fallback", "true is not supported (byte-level BPE only)");
  }
  for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"}) {
    if (!IsNullOrAbsent(model, key) && !(model[key].is_string() && model[key] == "")) {
      return FieldError(absl::StrCat("model.", key), "subword affixes are not supported");
    }
  }

  std::unique_ptr<BpeTokenizer> tok(new BpeTokenizer());
  tok->ignore_merges_ = BoolOr(model, "ignore_merges", false);

  // Vocabulary.
  const auto vocab_it = model.find("vocab");
  if (vocab_it == model.end() || !vocab_it->is_object()) {
    return FieldError("model.vocab", "missing or not an object");
  }
  // The ids' bound: see kTokenIdSlack.
  int64_t listed = static_cast<int64_t>(vocab_it->size());
  if (const auto added = root.find("added_tokens"); added != root.end() && added->is_array()) {
    listed += static_cast<int64_t>(added->size());
  }
  const int64_t id_limit = std::min<int64_t>(kMaxTokenId, 2 * listed + kTokenIdSlack);
  int max_id = -1;
  for (const auto& [text, id_json] : vocab_it->items()) {
    if (!id_json.is_number_integer() || id_json.get<int64_t>() < 0 ||
        id_json.get<int64_t>() >= id_limit) {
      return FieldError(
          absl::StrCat("model.vocab['", absl::CHexEscape(text), "']"),
          absl::StrCat("id must be an integer in 0..", id_limit - 1,
                       " (below twice the tokens the file lists, plus ", kTokenIdSlack, ")"));
    }
    max_id = std::max(max_id, id_json.get<int>());
  }
  std::vector<bool> in_vocab;
  auto grow = [&](int id) {
    if (id >= static_cast<int>(tok->token_bytes_.size())) {
      tok->token_bytes_.resize(id + 1);
      in_vocab.resize(id + 1, false);
      tok->is_added_.resize(id + 1, false);
    }
  };
  grow(max_id);
  tok->vocab_index_.reserve(vocab_it->size());
  for (const auto& [text, id_json] : vocab_it->items()) {
    const int id = id_json.get<int>();
    std::optional<std::string> bytes = ByteLevelDecode(text);
    if (!bytes || bytes->empty()) {
      return FieldError(absl::StrCat("model.vocab['", absl::CHexEscape(text), "']"),
                        "not a byte-level token (characters outside the byte alphabet)");
    }
    if (in_vocab[id]) {
      return FieldError("model.vocab", absl::StrCat("id ", id, " is used twice"));
    }
    in_vocab[id] = true;
    tok->vocab_index_.emplace(*bytes, id);
    tok->token_bytes_[id] = std::move(*bytes);
  }
  for (int b = 0; b < 256; ++b) {
    const auto it = tok->vocab_index_.find(std::string(1, static_cast<char>(b)));
    if (it == tok->vocab_index_.end()) {
      return FieldError("model.vocab", absl::StrCat("byte 0x", absl::Hex(b, absl::kZeroPad2),
                                                    " has no token; not a byte-level vocabulary"));
    }
    tok->byte_ids_[b] = it->second;
  }

  // Merges, in rank order.
  const auto merges_it = model.find("merges");
  if (merges_it == model.end() || !merges_it->is_array()) {
    return FieldError("model.merges", "missing or not an array");
  }
  tok->merges_.reserve(merges_it->size());
  tok->merge_list_.reserve(merges_it->size());
  int rank = 0;
  for (const Json& m : *merges_it) {
    const std::string field = absl::StrCat("model.merges[", rank, "]");
    std::string left, right;
    if (m.is_string()) {
      const std::string& s = m.get_ref<const std::string&>();
      const size_t space = s.find(' ');
      if (space == std::string::npos || s.find(' ', space + 1) != std::string::npos) {
        return FieldError(field, absl::StrCat("'", absl::CHexEscape(s), "' is not \"a b\""));
      }
      left = s.substr(0, space);
      right = s.substr(space + 1);
    } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
      left = m[0].get<std::string>();
      right = m[1].get<std::string>();
    } else {
      return FieldError(field, "expected \"a b\" or [\"a\", \"b\"]");
    }
    std::optional<std::string> lb = ByteLevelDecode(left), rb = ByteLevelDecode(right);
    const auto li = lb ? tok->vocab_index_.find(*lb) : tok->vocab_index_.end();
    const auto ri = rb ? tok->vocab_index_.find(*rb) : tok->vocab_index_.end();
    if (li == tok->vocab_index_.end() || ri == tok->vocab_index_.end()) {
      return FieldError(field, absl::StrCat("'", absl::CHexEscape(left), "' or '",
                                            absl::CHexEscape(right), "' is not in the vocab"));
    }
    const auto mi = tok->vocab_index_.find(*lb + *rb);
    if (mi == tok->vocab_index_.end()) {
      return FieldError(field,
                        absl::StrCat("'", absl::CHexEscape(left + right), "' is not in the vocab"));
    }
    // A repeated pair keeps its first (lowest) rank.
    if (tok->merges_.emplace(PairKey(li->second, ri->second), Merge{rank, mi->second}).second) {
      tok->merge_list_.emplace_back(li->second, ri->second);
    }
    ++rank;
  }

  // Added tokens.
  if (const auto it = root.find("added_tokens"); it != root.end() && !it->is_null()) {
    if (!it->is_array()) return FieldError("added_tokens", "not an array");
    for (size_t k = 0; k < it->size(); ++k) {
      const Json& a = (*it)[k];
      const std::string field = absl::StrCat("added_tokens[", k, "]");
      if (!a.is_object() || !a.contains("id") || !a["id"].is_number_integer() ||
          !a.contains("content") || !a["content"].is_string()) {
        return FieldError(field, "expected an object with integer 'id' and string 'content'");
      }
      AddedToken t;
      const int64_t id = a["id"].get<int64_t>();
      if (id < 0 || id >= id_limit) {
        return FieldError(absl::StrCat(field, ".id"),
                          absl::StrCat(id, " is outside 0..", id_limit - 1,
                                       " (below twice the tokens the file lists, plus ",
                                       kTokenIdSlack, ")"));
      }
      t.id = static_cast<int>(id);
      t.content = a["content"].get<std::string>();
      t.special = BoolOr(a, "special", false);
      t.normalized = BoolOr(a, "normalized", false);
      if (t.content.empty()) return FieldError(absl::StrCat(field, ".content"), "empty");
      for (const char* flag : {"lstrip", "rstrip", "single_word"}) {
        if (BoolOr(a, flag, false)) {
          return FieldError(absl::StrCat(field, ".", flag), "true is not supported");
        }
      }
      grow(t.id);
      if (in_vocab[t.id] && tok->token_bytes_[t.id] != t.content) {
        return FieldError(field, absl::StrCat("id ", t.id, " is a different token in model.vocab"));
      }
      if (tok->is_added_[t.id] || tok->added_index_.count(t.content) != 0) {
        return FieldError(field, absl::StrCat("'", absl::CHexEscape(t.content), "' (id ", t.id,
                                              ") is added twice"));
      }
      tok->is_added_[t.id] = true;
      tok->token_bytes_[t.id] = t.content;
      tok->added_index_.emplace(t.content, t.id);
      tok->added_.push_back(std::move(t));
    }
  }
  // Longest first, so the scan in EncodeWithSpecials finds the longest match at a position.
  for (size_t k = 0; k < tok->added_.size(); ++k) {
    tok->added_by_first_byte_[static_cast<uint8_t>(tok->added_[k].content[0])].push_back(
        static_cast<int>(k));
  }
  for (auto& list : tok->added_by_first_byte_) {
    std::stable_sort(list.begin(), list.end(), [&](int a, int b) {
      return tok->added_[a].content.size() > tok->added_[b].content.size();
    });
  }

  const std::optional<int> bos =
      FirstPresent(tok->added_index_, {"<|begin_of_text|>", "<s>", "<bos>", "<|endoftext|>"});
  const std::optional<int> eos =
      FirstPresent(tok->added_index_, {"<|end_of_text|>", "</s>", "<eos>", "<|endoftext|>"});
  if (!bos || !eos) {
    return FieldError("added_tokens", absl::StrCat("no ", !bos ? "BOS" : "EOS",
                                                   " token found (looked for <|begin_of_text|>, "
                                                   "<s>, <bos> / <|end_of_text|>, </s>, <eos>, "
                                                   "<|endoftext|>)"));
  }
  tok->bos_id_ = *bos;
  tok->eos_id_ = *eos;
  tok->pad_id_ =
      FirstPresent(tok->added_index_, {"<|finetune_right_pad_id|>", "<pad>", "<|pad|>", "[PAD]"})
          .value_or(*eos);

  if (const auto it = root.find("post_processor"); it != root.end()) {
    tok->post_processor_json_ = it->dump();
  }
  tok->decoder_json_ = root.at("decoder").dump();
  return tok;
}

void BpeTokenizer::EncodePiece(std::string_view piece, std::vector<int>* out) const {
  if (piece.size() == 1) {
    out->push_back(byte_ids_[static_cast<uint8_t>(piece[0])]);
    return;
  }
  if (ignore_merges_) {
    const auto it = vocab_index_.find(AV(piece));
    if (it != vocab_index_.end()) {
      out->push_back(it->second);
      return;
    }
  }
  // Symbols form a linked list over the piece's bytes; a merge folds the right symbol into the
  // left one. Candidate merges wait in a min-heap keyed by (rank, position); entries made stale by
  // an earlier merge are skipped when popped.
  struct Symbol {
    int id;
    int prev;
    int next;  // -1 at the ends
  };
  struct Candidate {
    int rank;
    int pos;
    int left;
    int right;
    int result;
    bool operator>(const Candidate& o) const {
      return rank != o.rank ? rank > o.rank : pos > o.pos;
    }
  };
  const int n = static_cast<int>(piece.size());
  std::vector<Symbol> sym(n);
  for (int k = 0; k < n; ++k) {
    sym[k] = {byte_ids_[static_cast<uint8_t>(piece[k])], k - 1, k + 1 < n ? k + 1 : -1};
  }
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<Candidate>> heap;
  const auto consider = [&](int pos) {
    const int next = sym[pos].next;
    if (next < 0) return;
    const auto it = merges_.find(PairKey(sym[pos].id, sym[next].id));
    if (it != merges_.end()) {
      heap.push({it->second.rank, pos, sym[pos].id, sym[next].id, it->second.result});
    }
  };
  for (int k = 0; k + 1 < n; ++k) consider(k);
  while (!heap.empty()) {
    const Candidate c = heap.top();
    heap.pop();
    Symbol& left = sym[c.pos];
    // Merged symbols only ever get longer, so matching ids prove the pair is still current.
    if (left.id != c.left || left.next < 0 || sym[left.next].id != c.right) continue;
    const int right = left.next;
    left.id = c.result;
    left.next = sym[right].next;
    if (left.next >= 0) sym[left.next].prev = c.pos;
    sym[right].id = -1;
    if (left.prev >= 0) consider(left.prev);
    consider(c.pos);
  }
  for (int k = 0; k >= 0; k = sym[k].next) out->push_back(sym[k].id);
}

void BpeTokenizer::EncodeOrdinary(std::string_view text, std::vector<int>* out) const {
  ForEachLlama3Piece(text, [&](std::string_view piece) { EncodePiece(piece, out); });
}

absl::StatusOr<std::vector<int>> BpeTokenizer::Encode(std::string_view text) const {
  std::vector<int> out;
  out.reserve(text.size() / 2 + 1);
  EncodeOrdinary(text, &out);
  return out;
}

absl::StatusOr<std::vector<int>> BpeTokenizer::EncodeWithSpecials(std::string_view text) const {
  std::vector<int> out;
  out.reserve(text.size() / 2 + 1);
  size_t segment_start = 0;
  for (size_t i = 0; i < text.size();) {
    const auto& candidates = added_by_first_byte_[static_cast<uint8_t>(text[i])];
    const AddedToken* match = nullptr;
    for (int k : candidates) {
      const std::string& content = added_[k].content;
      if (text.compare(i, content.size(), content) == 0) {
        match = &added_[k];
        break;
      }
    }
    if (match == nullptr) {
      ++i;
      continue;
    }
    EncodeOrdinary(text.substr(segment_start, i - segment_start), &out);
    out.push_back(match->id);
    i += match->content.size();
    segment_start = i;
  }
  EncodeOrdinary(text.substr(segment_start), &out);
  return out;
}

absl::StatusOr<std::string> BpeTokenizer::Decode(absl::Span<const int> ids) const {
  std::string out;
  for (size_t k = 0; k < ids.size(); ++k) {
    const int id = ids[k];
    if (id < 0 || id >= vocab_size() || token_bytes_[id].empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "ids[", k, "]: ", id, " is not in the vocabulary (size ", vocab_size(), ")"));
    }
    out += token_bytes_[id];
  }
  return out;
}

std::optional<int> BpeTokenizer::TokenId(std::string_view token) const {
  if (const auto it = added_index_.find(AV(token)); it != added_index_.end()) return it->second;
  if (const auto it = vocab_index_.find(AV(token)); it != vocab_index_.end()) return it->second;
  return std::nullopt;
}

std::optional<std::string> BpeTokenizer::TokenText(int id) const {
  if (id < 0 || id >= vocab_size() || token_bytes_[id].empty()) return std::nullopt;
  return token_bytes_[id];
}

bool BpeTokenizer::IsAddedToken(int id) const {
  return id >= 0 && id < static_cast<int>(is_added_.size()) && is_added_[id];
}

std::string BpeTokenizer::ToJson() const {
  using tokenizer_json::OJson;
  OJson added = OJson::array();
  for (const AddedToken& t : added_) {
    added.push_back(tokenizer_json::AddedToken(t.id, t.content, t.normalized, t.special));
  }
  OJson root = tokenizer_json::Root(std::move(added));
  root["pre_tokenizer"] = {{"type", "Sequence"},
                           {"pretokenizers",
                            {{{"type", "Split"},
                              {"pattern", {{"Regex", std::string(kLlama3SplitPattern)}}},
                              {"behavior", "Isolated"},
                              {"invert", false}},
                             {{"type", "ByteLevel"},
                              {"add_prefix_space", false},
                              {"trim_offsets", true},
                              {"use_regex", false}}}}};
  root["post_processor"] = OJson::parse(post_processor_json_);
  root["decoder"] = OJson::parse(decoder_json_);
  OJson model;
  model["type"] = "BPE";
  model["dropout"] = nullptr;
  model["unk_token"] = nullptr;
  model["continuing_subword_prefix"] = nullptr;
  model["end_of_word_suffix"] = nullptr;
  model["fuse_unk"] = false;
  model["byte_fallback"] = false;
  model["ignore_merges"] = ignore_merges_;
  OJson vocab = OJson::object();
  // Keys are unique, so append to the ordered map directly (its operator[] searches linearly).
  auto& entries = vocab.get_ref<OJson::object_t&>();
  entries.reserve(vocab_index_.size());
  for (int id = 0; id < vocab_size(); ++id) {
    if (token_bytes_[id].empty()) continue;
    // Ids that are only added tokens are not model vocabulary.
    const auto it = vocab_index_.find(token_bytes_[id]);
    if (it == vocab_index_.end() || it->second != id) continue;
    entries.emplace_back(ByteLevelEncode(token_bytes_[id]), id);
  }
  model["vocab"] = std::move(vocab);
  OJson merges = OJson::array();
  for (const auto& [left, right] : merge_list_) {
    merges.push_back(absl::StrCat(ByteLevelEncode(token_bytes_[left]), " ",
                                  ByteLevelEncode(token_bytes_[right])));
  }
  model["merges"] = std::move(merges);
  root["model"] = std::move(model);
  return root.dump();
}

}  // namespace arc
