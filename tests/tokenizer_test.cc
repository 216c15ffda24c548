// The Tokenizer interface through the compact tokenizer, and tokenizer.json dispatch/errors.
#include "core/text/tokenizer.h"

#include <filesystem>
#include <fstream>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/test_util.h"

namespace arc {
namespace {

constexpr char kNotCompact[] =
    "model.vocab: the only supported WordLevel tokenizer is arc's compact vocabulary (0-9 -> "
    "0..9, \"\\n\" 10, <I> 11, <O> 12, <s> 13, </s> 14, <pad> 15)";

TEST(CompactTokenizerTest, IdsAndNames) {
  auto tok = MakeCompactTokenizer();
  EXPECT_EQ(tok->kind(), "compact");
  EXPECT_EQ(tok->vocab_size(), 16);
  EXPECT_EQ(tok->bos_id(), 13);
  EXPECT_EQ(tok->eos_id(), 14);
  EXPECT_EQ(tok->pad_id(), 15);
  EXPECT_EQ(tok->TokenId("<I>"), 11);
  EXPECT_EQ(tok->TokenId("<O>"), 12);
  EXPECT_EQ(tok->TokenId("<s>"), 13);
  EXPECT_EQ(tok->TokenId("</s>"), 14);
  EXPECT_EQ(tok->TokenId("<pad>"), 15);
  EXPECT_EQ(tok->TokenId("\n"), 10);
  EXPECT_EQ(tok->TokenId("7"), 7);
  EXPECT_EQ(tok->TokenId("<x>"), std::nullopt);
  EXPECT_EQ(tok->TokenText(12), "<O>");
  EXPECT_EQ(tok->TokenText(16), std::nullopt);
  EXPECT_EQ(tok->TokenText(-1), std::nullopt);
}

TEST(CompactTokenizerTest, EncodeDigitsAndNewlines) {
  auto tok = MakeCompactTokenizer();
  EXPECT_EQ(tok->Encode("012\n345\n").value(), (std::vector<int>{0, 1, 2, 10, 3, 4, 5, 10}));
  EXPECT_EQ(tok->Encode("").value(), std::vector<int>{});
}

TEST(CompactTokenizerTest, EncodeWithSpecials) {
  auto tok = MakeCompactTokenizer();
  EXPECT_EQ(tok->EncodeWithSpecials("<s><I>12\n<O>3\n</s><pad>").value(),
            (std::vector<int>{13, 11, 1, 2, 10, 12, 3, 10, 14, 15}));
}

TEST(CompactTokenizerTest, EncodeRejectsOtherCharacters) {
  auto tok = MakeCompactTokenizer();
  struct Refusal {
    std::string text;
    bool with_specials;  // EncodeWithSpecials, else plain Encode (which does not parse markers)
    std::string message;
  };
  const std::vector<Refusal> refusals = {
      {"12 3", false,
       "text[2]: ' ' is not a compact symbol (digits 0-9, '\\n'; markers need "
       "EncodeWithSpecials)"},
      {"<s>1", false,
       "text[0]: '<' is not a compact symbol (digits 0-9, '\\n'; markers need "
       "EncodeWithSpecials)"},
      {"<I>1<X>", true,
       "text[4]: '<' is not a compact symbol (digits 0-9, '\\n', <I>, <O>, <s>, </s>, <pad>)"},
      {"\x01", true,
       "text[0]: '\\x01' is not a compact symbol (digits 0-9, '\\n', <I>, <O>, <s>, </s>, "
       "<pad>)"},
  };
  for (const Refusal& r : refusals) {
    absl::StatusOr<std::vector<int>> ids =
        r.with_specials ? tok->EncodeWithSpecials(r.text) : tok->Encode(r.text);
    EXPECT_EQ(ids.status().code(), absl::StatusCode::kInvalidArgument) << r.text;
    EXPECT_EQ(ids.status().message(), r.message);
  }
}

TEST(CompactTokenizerTest, DecodeRoundTrip) {
  auto tok = MakeCompactTokenizer();
  const std::vector<int> ids = {13, 11, 1, 2, 10, 12, 3, 10, 14, 15};
  EXPECT_EQ(tok->Decode(ids).value(), "<s><I>12\n<O>3\n</s><pad>");
  EXPECT_EQ(tok->EncodeWithSpecials(tok->Decode(ids).value()).value(), ids);
  absl::StatusOr<std::string> bad = tok->Decode({1, 16});
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.status().message(), "ids[1]: 16 is not a compact token id (0..15)");
  EXPECT_EQ(tok->Decode({-3}).status().message(), "ids[0]: -3 is not a compact token id (0..15)");
}

TEST(CompactTokenizerTest, JsonIsAHuggingFaceWordLevelFile) {
  auto tok = MakeCompactTokenizer();
  const nlohmann::json j = nlohmann::json::parse(tok->ToJson());
  EXPECT_EQ(j["version"], "1.0");
  EXPECT_EQ(j["model"]["type"], "WordLevel");
  EXPECT_EQ(j["model"]["vocab"]["\n"], 10);
  EXPECT_EQ(j["model"]["vocab"]["9"], 9);
  EXPECT_EQ(j["model"]["vocab"]["<pad>"], 15);
  EXPECT_EQ(j["model"]["vocab"].size(), 16u);
  ASSERT_EQ(j["added_tokens"].size(), 5u);
  EXPECT_EQ(j["added_tokens"][0]["content"], "<I>");
  EXPECT_EQ(j["added_tokens"][0]["id"], 11);
  EXPECT_EQ(j["added_tokens"][4]["content"], "<pad>");
  EXPECT_EQ(j["added_tokens"][4]["special"], true);
  EXPECT_EQ(j["pre_tokenizer"]["type"], "Split");
  EXPECT_EQ(j["pre_tokenizer"]["pattern"]["Regex"], "[\\s\\S]");
  EXPECT_EQ(j["decoder"]["type"], "Fuse");
}

TEST(LoadTokenizerTest, CompactRoundTripsThroughAFile) {
  const std::string dir = testing::TempDir("tokenizer");
  const std::string path = dir + "/tokenizer.json";
  {
    std::ofstream out(path);
    out << MakeCompactTokenizer()->ToJson();
  }
  absl::StatusOr<std::unique_ptr<Tokenizer>> tok = LoadTokenizer(path);
  ASSERT_TRUE(tok.ok()) << tok.status();
  EXPECT_EQ((*tok)->kind(), "compact");
  EXPECT_EQ((*tok)->Encode("90\n").value(), (std::vector<int>{9, 0, 10}));
  std::filesystem::remove_all(dir);
}

TEST(LoadTokenizerTest, MissingFileIsNotFound) {
  absl::StatusOr<std::unique_ptr<Tokenizer>> tok = LoadTokenizer("/nonexistent/tokenizer.json");
  EXPECT_EQ(tok.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(tok.status().message(), "/nonexistent/tokenizer.json: no such file");
}

TEST(LoadTokenizerTest, ErrorsStartWithThePath) {
  const std::string dir = testing::TempDir("tokenizer_bad");
  const std::string path = dir + "/tokenizer.json";
  {
    std::ofstream out(path);
    out << R"({"model": {"type": "Unigram", "vocab": []}})";
  }
  absl::StatusOr<std::unique_ptr<Tokenizer>> tok = LoadTokenizer(path);
  EXPECT_EQ(tok.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(tok.status().message(),
            path + ": model.type: 'Unigram' is not supported (supported: BPE, WordLevel compact)");
  std::filesystem::remove_all(dir);
}

TEST(ParseTokenizerJsonTest, Errors) {
  EXPECT_EQ(ParseTokenizerJson("{not json").status().message(),
            "tokenizer.json: invalid JSON at byte 3: syntax error while parsing object key - "
            "invalid literal; last read: '{no'; expected string literal");
  // A number that overflows a double names its field (regression: it escaped as an exception).
  absl::StatusOr<std::unique_ptr<Tokenizer>> overflow =
      ParseTokenizerJson(R"({"model": {"type": "BPE", "vocab": {"a": 1e3080}}})");
  EXPECT_EQ(overflow.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(overflow.status().message(),
            "tokenizer.json: model.vocab.a: number 1e3080 is out of range (it overflows a "
            "double), at byte 47");
  EXPECT_EQ(ParseTokenizerJson("[1]").status().message(), "tokenizer.json: not a JSON object");
  EXPECT_EQ(ParseTokenizerJson("{}").status().message(), "model: missing or not an object");
  EXPECT_EQ(ParseTokenizerJson(R"({"model": {}})").status().message(),
            "model.type: '<missing>' is not supported (supported: BPE, WordLevel compact)");
  // A WordLevel file with another vocabulary is refused, naming the field.
  absl::StatusOr<std::unique_ptr<Tokenizer>> other =
      ParseTokenizerJson(R"({"model": {"type": "WordLevel", "vocab": {"a": 0}}})");
  EXPECT_EQ(other.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(other.status().message(), kNotCompact);
  // Same size, one id swapped.
  nlohmann::json j = nlohmann::json::parse(MakeCompactTokenizer()->ToJson());
  j["model"]["vocab"]["0"] = 1;
  j["model"]["vocab"]["1"] = 0;
  EXPECT_EQ(ParseTokenizerJson(j.dump()).status().message(), kNotCompact);
}

}  // namespace
}  // namespace arc
