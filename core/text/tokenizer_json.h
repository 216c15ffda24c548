// The parts of a Hugging Face tokenizer.json that both tokenizers here write (the compact one in
// tokenizer.cc, the byte-level BPE one in bpe_tokenizer.cc): the opening fields and the entries of
// "added_tokens". Internal to core/text. Pure functions, thread-safe.
#ifndef ARC_CORE_TEXT_TOKENIZER_JSON_H_
#define ARC_CORE_TEXT_TOKENIZER_JSON_H_

#include <string>
#include <utility>

#include "nlohmann/json.hpp"

namespace arc::tokenizer_json {

using OJson = nlohmann::ordered_json;

// One "added_tokens" entry, with the flags neither tokenizer uses (single_word, lstrip, rstrip)
// false.
inline OJson AddedToken(int id, const std::string& content, bool normalized, bool special) {
  return {{"id", id},        {"content", content},       {"single_word", false}, {"lstrip", false},
          {"rstrip", false}, {"normalized", normalized}, {"special", special}};
}

// The document up to its normalizer: version "1.0", no truncation or padding, `added_tokens`, no
// normalizer. The caller appends pre_tokenizer, post_processor, decoder and model (ordered_json
// keeps the insertion order, so the file reads in the order `tokenizers` writes it).
inline OJson Root(OJson added_tokens) {
  OJson root;
  root["version"] = "1.0";
  root["truncation"] = nullptr;
  root["padding"] = nullptr;
  root["added_tokens"] = std::move(added_tokens);
  root["normalizer"] = nullptr;
  return root;
}

}  // namespace arc::tokenizer_json

#endif  // ARC_CORE_TEXT_TOKENIZER_JSON_H_
