// Fuzz target: tokenizer.json text (ParseTokenizerJson, core/text/tokenizer.h). Never crashes or
// throws; a refusal is INVALID_ARGUMENT; an accepted tokenizer decodes what it encodes and its own
// tokenizer.json (ToJson) reads back to a tokenizer that encodes the same ids.
#include "core/text/tokenizer.h"
#include "fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using arc::fuzz::Check;
  absl::StatusOr<std::unique_ptr<arc::Tokenizer>> tok =
      arc::ParseTokenizerJson(arc::fuzz::AsText(data, size));
  arc::fuzz::CheckRefusal(tok.status(), "ParseTokenizerJson");
  if (!tok.ok()) return 0;
  const std::string sample = (*tok)->kind() == "compact" ? "0123\n98" : "Hello, ARC! 0 1\n2";
  const absl::StatusOr<std::vector<int>> ids = (*tok)->Encode(sample);
  Check(ids.ok(), "an accepted tokenizer encodes plain text");
  const absl::StatusOr<std::string> text = (*tok)->Decode(*ids);
  Check(text.ok() && *text == sample, "Decode(Encode(s)) == s");
  absl::StatusOr<std::unique_ptr<arc::Tokenizer>> again = arc::ParseTokenizerJson((*tok)->ToJson());
  Check(again.ok(), "ToJson reads back");
  const absl::StatusOr<std::vector<int>> ids_again = (*again)->Encode(sample);
  Check(ids_again.ok() && *ids_again == *ids, "the re-read tokenizer encodes the same ids");
  return 0;
}
