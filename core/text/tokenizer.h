// Tokenizers: the interface every prompt format tokenizes through, the `compact` tokenizer of the
// embedded model, and loading any supported Hugging Face tokenizer.json.
//
// Two implementations exist:
//   - "compact" (this file): one token per grid cell digit plus a handful of structural tokens, for
//     the small embedded model. Ids are fixed (see kCompact* below), vocab size 16.
//   - "bpe" (core/bpe_tokenizer.h): byte-level BPE read from a Hugging Face tokenizer.json with the
//     Llama-3 pre-tokenizer, whose ids match the real Llama-3 tokenizer.
//
// Encoding never adds special tokens (no BOS/EOS); prompt formats place them explicitly.
// `Encode` treats its input as plain text: the literal text of a special token such as "<s>" or
// "<|eot_id|>" is NOT turned into that token (compact: it is an error; bpe: it is encoded as the
// ordinary characters). `EncodeWithSpecials` recognises the added/special tokens' literal text
// first (leftmost, longest match), the way Hugging Face `tokenizers` does by default.
//
// Ownership and thread safety: a Tokenizer is immutable after construction; all methods are const
// and safe to call concurrently from any number of threads. LoadTokenizer returns sole ownership.
#ifndef ARC_CORE_TEXT_TOKENIZER_H_
#define ARC_CORE_TEXT_TOKENIZER_H_

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace arc {

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;

  // "compact" or "bpe".
  virtual std::string_view kind() const = 0;

  // Plain text to ids; special-token text is not parsed (see the file comment). Never adds BOS/EOS.
  // compact: INVALID_ARGUMENT naming the byte offset of any character other than 0-9 and '\n'.
  // bpe: always succeeds (every byte sequence is encodable).
  virtual absl::StatusOr<std::vector<int>> Encode(std::string_view text) const = 0;

  // Like Encode, but literal occurrences of added/special tokens become their ids first.
  virtual absl::StatusOr<std::vector<int>> EncodeWithSpecials(std::string_view text) const = 0;

  // Ids to text. Special/added tokens decode to their literal text (e.g. "<|eot_id|>").
  // INVALID_ARGUMENT for an id that is not in the vocabulary. bpe: the result is the raw bytes,
  // which can end inside a UTF-8 character when the ids cut one (no U+FFFD substitution).
  virtual absl::StatusOr<std::string> Decode(absl::Span<const int> ids) const = 0;

  // One past the largest id (the size of the model's embedding table must be at least this).
  virtual int vocab_size() const = 0;

  // The id of a special/added token by its literal text, e.g. TokenId("<|eot_id|>") == 128009.
  // bpe also answers for ordinary vocabulary entries given as raw text (TokenId(" ->") == 1492).
  virtual std::optional<int> TokenId(std::string_view token) const = 0;

  // The text of one token (the raw bytes for bpe), or nullopt for an id outside the vocabulary.
  virtual std::optional<std::string> TokenText(int id) const = 0;

  // Beginning/end of sequence and padding ids; always valid ids of this vocabulary.
  virtual int bos_id() const = 0;
  virtual int eos_id() const = 0;
  virtual int pad_id() const = 0;

  // A Hugging Face tokenizer.json text that LoadTokenizer/ParseTokenizerJson read back into an
  // equivalent tokenizer.
  virtual std::string ToJson() const = 0;
};

// Compact vocabulary: ids 0..9 are the digits "0".."9" (cell colours), then:
inline constexpr int kCompactRowEnd = 10;  // "\n", ends every grid row
inline constexpr int kCompactInput = 11;   // "<I>", starts an input grid
inline constexpr int kCompactOutput = 12;  // "<O>", starts an output grid
inline constexpr int kCompactBos = 13;     // "<s>"
inline constexpr int kCompactEos = 14;     // "</s>", ends every output grid
inline constexpr int kCompactPad = 15;     // "<pad>"
inline constexpr int kCompactVocabSize = 16;

// The compact tokenizer. Its tokenizer.json is a valid Hugging Face file: a WordLevel model whose
// vocab is exactly the 16 symbols above, the five markers as special added tokens, a Split
// pre-tokenizer isolating every character and a Fuse decoder. LoadTokenizer recognises it by that
// vocabulary.
std::unique_ptr<Tokenizer> MakeCompactTokenizer();

// Reads a tokenizer.json and builds the matching implementation:
//   model.type "WordLevel" with the compact vocabulary  -> compact
//   model.type "BPE" (byte-level, Llama-3 pre-tokenizer) -> bpe
// NOT_FOUND when the file is missing; INVALID_ARGUMENT (message starts with the path, then the
// JSON field at fault, e.g. "pre_tokenizer.type: 'Metaspace' is not supported ...", or for a JSON
// fault "tokenizer.json: model.vocab.a: number 1e3080 is out of range ...") otherwise. Never
// throws.
absl::StatusOr<std::unique_ptr<Tokenizer>> LoadTokenizer(const std::string& path);

// The same from tokenizer.json text already in memory (messages start with the field).
absl::StatusOr<std::unique_ptr<Tokenizer>> ParseTokenizerJson(std::string_view json_text);

}  // namespace arc

#endif  // ARC_CORE_TEXT_TOKENIZER_H_
