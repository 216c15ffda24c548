// Prompt formats: how an in-context ARC problem (demonstrations, a query input and optionally its
// answer) becomes token ids with a per-token loss mask, and how generated tokens become a grid.
//
// Two formats share the PromptFormat interface (see MakePromptFormat):
//
//   "compact" (the embedded model; needs the compact tokenizer). A grid is its rows, each row its
//   cell digits followed by the row end "\n", so an HxW grid costs H*(W+1) tokens:
//       <s>  ( <I> input-rows <O> output-rows </s> )*  <I> query-rows <O>  [ answer-rows </s> ]
//   Every output grid, demonstration or answer, is closed by </s>; the prompt ends with the query's
//   <O>, so a model learns "rows then </s>" for every output and generation stops at </s>.
//
//   "marc" (Llama-3 checkpoints of the MIT paper; needs a BPE tokenizer with the Llama-3 special
//   tokens). The exact text of reference/mit-ttt-pipeline.md 1.2-1.4: numpy grid text, " -> ",
//   a "#" footer, the system PROMPT, and the Llama-3 chat template with stripped message bodies:
//       <|begin_of_text|> <|start_header_id|>system<|end_header_id|>"\n\n" {system} <|eot_id|>
//       <|start_header_id|>user<|end_header_id|>"\n\n" {query} <|eot_id|>
//       <|start_header_id|>assistant<|end_header_id|>"\n\n"  [ {answer}# <|eot_id|> <|end_of_text|>
//       ]
//   Each piece is tokenized separately, as torchtune does, so the ids equal the paper's.
//
// Loss masks are computed from the rendered structure (which tokens belong to which output), not by
// searching for token ids; for marc this reproduces the paper's id-based rule (reference 3.5).
//
// Ownership and thread safety: a PromptFormat holds a non-owning reference to its Tokenizer, which
// must outlive it. Formats are immutable; every method is const and safe to call concurrently.
#ifndef ARC_CORE_TEXT_PROMPT_FORMAT_H_
#define ARC_CORE_TEXT_PROMPT_FORMAT_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "core/data/grid.h"
#include "core/text/tokenizer.h"

namespace arc {

// One in-context problem.
struct PromptInput {
  std::vector<Example> demonstrations;
  Grid query_input;
  std::optional<Grid> query_output;  // present for training and scoring; absent for inference

  // The task's demonstrations and its test case `test_index` (with the output when known).
  // INVALID_ARGUMENT when test_index is out of range.
  static absl::StatusOr<PromptInput> FromTask(const Task& task, int test_index);
};

// Which tokens carry loss (loss_mask == 1).
enum class LossMaskMode {
  // The paper's default (reference 3.5): the outputs of demonstrations 2..k (with their end token:
  // "#"/"#\n" for marc, </s> for compact) and the whole answer (marc: including the assistant
  // header and <|eot_id|>; compact: answer rows and </s>). Inputs, the first demonstration's
  // output, BOS and the final <|end_of_text|> carry none.
  kOutputsAfterFirst,
  // Only the answer tokens and the stop token that ends them: ids[prompt_length, answer_end).
  kAnswerOnly,
};

struct RenderedPrompt {
  std::vector<int> ids;
  std::vector<uint8_t> loss_mask;  // same length as ids; 1 = the token is a training target
  // ids[0, prompt_length) is the inference prompt: generation continues from here.
  int prompt_length = 0;
  // One past the answer's stop token (compact </s>, marc <|eot_id|>); equals prompt_length when
  // there is no answer. ids[prompt_length, answer_end) is what a perfect model generates.
  int answer_end = 0;
};

class PromptFormat {
 public:
  virtual ~PromptFormat() = default;

  // "compact" or "marc".
  virtual std::string_view name() const = 0;
  virtual const Tokenizer& tokenizer() const = 0;

  // Renders ids and loss mask. INVALID_ARGUMENT naming the grid ("demonstrations[1].output: 31
  // rows, limit 30") for empty grids or grids over 30x30.
  virtual absl::StatusOr<RenderedPrompt> Render(
      const PromptInput& input, LossMaskMode mode = LossMaskMode::kOutputsAfterFirst) const = 0;

  // Token count of Render(input).ids (prompt, plus answer and end tokens when present), for
  // length budgets. Same errors as Render.
  virtual absl::StatusOr<int> CountTokens(const PromptInput& input) const;

  // Tokens an answer grid of this shape costs, including its stop token (compact: rows*(cols+1)+1).
  virtual int AnswerTokens(int rows, int cols) const = 0;

  // Token ids that end generation (compact: </s>; marc: <|eot_id|>, <|end_of_text|>).
  virtual std::vector<int> StopTokens() const = 0;

  // Parses generated tokens (everything after the prompt) into a grid. Reads up to the first stop
  // token or the end. INVALID_ARGUMENT with the reason, e.g. "no grid", "row 2 has 3 cells,
  // expected 4", "cell value 'x'", "more than 30 rows". Ragged rows are always an error (unlike
  // the paper's reshape).
  virtual absl::StatusOr<Grid> ParseOutput(absl::Span<const int> generated) const = 0;

  // Grammar for constrained decoding: the sorted token ids allowed after `generated` so that the
  // output stays a well-formed grid of at most 30x30 (compact: digits while the row has room, the
  // row end once a row is non-empty and, after the first row, exactly as wide as the first, the
  // stop token only after a complete row; marc: the tokens made of grid-text characters that keep
  // the text a prefix of "[[a b]\n [c d]]#" with rows as wide as the first, then <|eot_id|>).
  // INVALID_ARGUMENT when `generated` already breaks the grammar. The base class returns
  // UNIMPLEMENTED (a format without a grammar).
  virtual absl::StatusOr<std::vector<int>> AllowedNextTokens(absl::Span<const int> generated) const;
};

// "compact" or "marc" over `tokenizer` (which must outlive the format). INVALID_ARGUMENT for an
// unknown name (listing the known ones) or a tokenizer the format cannot use.
absl::StatusOr<std::unique_ptr<PromptFormat>> MakePromptFormat(std::string_view name,
                                                               const Tokenizer& tokenizer);

// The known format names.
std::vector<std::string> PromptFormatNames();

// The marc format's system prompt (reference 1.3 PROMPT with an empty description) and the line
// that introduces the demonstrations.
inline constexpr std::string_view kMarcSystemPrompt =
    "Figure out the underlying transformation in the following examples and apply it to the test "
    "case. Here are some examples from this transformation, your answer must follow the format.\n";
inline constexpr std::string_view kMarcGridsIntro =
    "The input-output grids are provided as python arrays:\n";

// The marc chat message bodies before the template's strip (reference 1.3): system =
// kMarcSystemPrompt + kMarcGridsIntro + (in + " -> " + out + "#\n") per demonstration;
// user = query + " -> "; assistant = answer + "#" when the answer is present.
struct MarcMessages {
  std::string system;
  std::string user;
  std::optional<std::string> assistant;
};
MarcMessages MakeMarcMessages(const PromptInput& input);

}  // namespace arc

#endif  // ARC_CORE_TEXT_PROMPT_FORMAT_H_
