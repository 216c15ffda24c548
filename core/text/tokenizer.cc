#include "core/text/tokenizer.h"

#include <array>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "core/data/file_util.h"
#include "core/data/json_parse.h"
#include "core/text/bpe_tokenizer.h"
#include "core/text/tokenizer_json.h"
#include "nlohmann/json.hpp"

namespace arc {
namespace {

using Json = nlohmann::json;

// Token texts by id.
constexpr std::array<std::string_view, kCompactVocabSize> kCompactSymbols = {
    "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "\n", "<I>", "<O>", "<s>", "</s>", "<pad>"};

// Printable form of one byte of input text for error messages.
std::string ShowByte(char c) { return absl::StrCat("'", absl::CHexEscape(std::string(1, c)), "'"); }

class CompactTokenizer final : public Tokenizer {
 public:
  std::string_view kind() const override { return "compact"; }

  absl::StatusOr<std::vector<int>> Encode(std::string_view text) const override {
    return EncodeImpl(text, /*specials=*/false);
  }

  absl::StatusOr<std::vector<int>> EncodeWithSpecials(std::string_view text) const override {
    return EncodeImpl(text, /*specials=*/true);
  }

  absl::StatusOr<std::string> Decode(absl::Span<const int> ids) const override {
    std::string out;
    out.reserve(ids.size());
    for (size_t k = 0; k < ids.size(); ++k) {
      if (ids[k] < 0 || ids[k] >= kCompactVocabSize) {
        return absl::InvalidArgumentError(absl::StrCat("ids[", k, "]: ", ids[k],
                                                       " is not a compact token id (0..",
                                                       kCompactVocabSize - 1, ")"));
      }
      out += kCompactSymbols[ids[k]];
    }
    return out;
  }

  int vocab_size() const override { return kCompactVocabSize; }

  std::optional<int> TokenId(std::string_view token) const override {
    for (int id = 0; id < kCompactVocabSize; ++id) {
      if (kCompactSymbols[id] == token) return id;
    }
    return std::nullopt;
  }

  std::optional<std::string> TokenText(int id) const override {
    if (id < 0 || id >= kCompactVocabSize) return std::nullopt;
    return std::string(kCompactSymbols[id]);
  }

  int bos_id() const override { return kCompactBos; }
  int eos_id() const override { return kCompactEos; }
  int pad_id() const override { return kCompactPad; }

  std::string ToJson() const override {
    // A Hugging Face `tokenizers` file: the markers are special added tokens (matched before
    // pre-tokenization), a Split isolates every remaining character, WordLevel maps it, and Fuse
    // joins decoded tokens without spaces. Unknown characters fail in `tokenizers` too (the
    // unk_token is deliberately not in the vocab).
    using tokenizer_json::OJson;
    OJson added = OJson::array();
    for (int id = kCompactInput; id < kCompactVocabSize; ++id) {
      added.push_back(tokenizer_json::AddedToken(id, std::string(kCompactSymbols[id]),
                                                 /*normalized=*/false, /*special=*/true));
    }
    OJson root = tokenizer_json::Root(std::move(added));
    root["pre_tokenizer"] = {{"type", "Split"},
                             {"pattern", {{"Regex", "[\\s\\S]"}}},
                             {"behavior", "Isolated"},
                             {"invert", false}};
    root["post_processor"] = nullptr;
    root["decoder"] = {{"type", "Fuse"}};
    OJson vocab = OJson::object();
    for (int id = 0; id < kCompactVocabSize; ++id) vocab[std::string(kCompactSymbols[id])] = id;
    root["model"] = {{"type", "WordLevel"}, {"vocab", std::move(vocab)}, {"unk_token", "<unk>"}};
    return root.dump(2);
  }

 private:
  absl::StatusOr<std::vector<int>> EncodeImpl(std::string_view text, bool specials) const {
    std::vector<int> ids;
    ids.reserve(text.size());
    for (size_t i = 0; i < text.size();) {
      const char c = text[i];
      if (c >= '0' && c <= '9') {
        ids.push_back(c - '0');
        ++i;
        continue;
      }
      if (c == '\n') {
        ids.push_back(kCompactRowEnd);
        ++i;
        continue;
      }
      int matched = -1;
      if (specials) {
        for (int id = kCompactInput; id < kCompactVocabSize; ++id) {
          if (text.compare(i, kCompactSymbols[id].size(), kCompactSymbols[id]) == 0) {
            matched = id;
            break;
          }
        }
      }
      if (matched < 0) {
        return absl::InvalidArgumentError(absl::StrCat(
            "text[", i, "]: ", ShowByte(c), " is not a compact symbol (digits 0-9, '\\n'",
            specials ? ", <I>, <O>, <s>, </s>, <pad>)" : "; markers need EncodeWithSpecials)"));
      }
      ids.push_back(matched);
      i += kCompactSymbols[matched].size();
    }
    return ids;
  }
};

// True when `vocab` is exactly the compact table.
bool IsCompactVocab(const Json& vocab) {
  if (!vocab.is_object() || vocab.size() != kCompactSymbols.size()) return false;
  for (int id = 0; id < kCompactVocabSize; ++id) {
    const auto it = vocab.find(std::string(kCompactSymbols[id]));
    if (it == vocab.end() || !it->is_number_integer() || it->get<int>() != id) return false;
  }
  return true;
}

}  // namespace

std::unique_ptr<Tokenizer> MakeCompactTokenizer() { return std::make_unique<CompactTokenizer>(); }

namespace {

absl::StatusOr<std::unique_ptr<Tokenizer>> TokenizerFromJson(const Json& root) {
  if (!root.is_object()) return absl::InvalidArgumentError("tokenizer.json: not a JSON object");
  const auto model = root.find("model");
  if (model == root.end() || !model->is_object()) {
    return absl::InvalidArgumentError("model: missing or not an object");
  }
  const auto type = model->find("type");
  const std::string type_name =
      (type != model->end() && type->is_string()) ? type->get<std::string>() : "<missing>";
  if (type_name == "WordLevel") {
    const auto vocab = model->find("vocab");
    if (vocab == model->end() || !IsCompactVocab(*vocab)) {
      return absl::InvalidArgumentError(
          "model.vocab: the only supported WordLevel tokenizer is arc's compact vocabulary "
          "(0-9 -> 0..9, \"\\n\" 10, <I> 11, <O> 12, <s> 13, </s> 14, <pad> 15)");
    }
    return MakeCompactTokenizer();
  }
  if (type_name == "BPE") {
    auto bpe = BpeTokenizer::FromJson(root);
    if (!bpe.ok()) return bpe.status();
    return std::unique_ptr<Tokenizer>(std::move(bpe).value());
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "model.type: '", type_name, "' is not supported (supported: BPE, WordLevel compact)"));
}

}  // namespace

absl::StatusOr<std::unique_ptr<Tokenizer>> ParseTokenizerJson(std::string_view json_text) {
  // The checks test every type before reading; GuardJson is the backstop for the library's
  // exceptions.
  return GuardJson("", [&]() -> absl::StatusOr<std::unique_ptr<Tokenizer>> {
    absl::StatusOr<Json> root = ParseJson(json_text);
    if (!root.ok()) {
      return absl::Status(root.status().code(),
                          absl::StrCat("tokenizer.json: ", root.status().message()));
    }
    return TokenizerFromJson(*root);
  });
}

absl::StatusOr<std::unique_ptr<Tokenizer>> LoadTokenizer(const std::string& path) {
  absl::StatusOr<std::string> text = ReadFile(path);
  if (!text.ok()) return text.status();
  auto tok = ParseTokenizerJson(*text);
  if (!tok.ok()) {
    return absl::Status(tok.status().code(), absl::StrCat(path, ": ", tok.status().message()));
  }
  return tok;
}

}  // namespace arc
