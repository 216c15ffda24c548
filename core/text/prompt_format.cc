#include "core/text/prompt_format.h"

#include <algorithm>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace arc {
namespace {

absl::string_view AV(std::string_view s) { return absl::string_view(s.data(), s.size()); }

absl::Status ValidateInput(const PromptInput& input) {
  const TaskLimits limits;  // the ARC 30x30 limit; both formats' grammars rely on it
  for (size_t k = 0; k < input.demonstrations.size(); ++k) {
    const std::string path = absl::StrCat("demonstrations[", k, "]");
    if (auto s = ValidateGrid(input.demonstrations[k].input, path + ".input", limits); !s.ok()) {
      return s;
    }
    if (auto s = ValidateGrid(input.demonstrations[k].output, path + ".output", limits); !s.ok()) {
      return s;
    }
  }
  if (auto s = ValidateGrid(input.query_input, "query_input", limits); !s.ok()) return s;
  if (input.query_output) return ValidateGrid(*input.query_output, "query_output", limits);
  return absl::OkStatus();
}

// Builds ids and mask side by side.
class Builder {
 public:
  void Add(int id, bool loss) {
    out_.ids.push_back(id);
    out_.loss_mask.push_back(loss ? 1 : 0);
  }
  void Add(absl::Span<const int> ids, bool loss) {
    for (int id : ids) Add(id, loss);
  }
  int size() const { return static_cast<int>(out_.ids.size()); }
  RenderedPrompt& result() { return out_; }

 private:
  RenderedPrompt out_;
};

// ---------------------------------------------------------------------------------------------
// compact

void AddCompactRows(const Grid& g, bool loss, Builder* b) {
  for (int r = 0; r < g.rows(); ++r) {
    for (int c = 0; c < g.cols(); ++c) b->Add(g.at(r, c), loss);
    b->Add(kCompactRowEnd, loss);
  }
}

int CompactGridTokens(const Grid& g) { return g.rows() * (g.cols() + 1); }

// The grid rows read so far from generated compact tokens.
struct CompactScan {
  std::vector<std::vector<int>> rows;
  std::vector<int> current;  // cells of the unfinished row
  int stop_position = -1;    // index of the stop token, -1 when none was seen
};

absl::StatusOr<CompactScan> ScanCompact(absl::Span<const int> tokens) {
  CompactScan s;
  for (size_t pos = 0; pos < tokens.size(); ++pos) {
    const int id = tokens[pos];
    if (id == kCompactEos) {
      s.stop_position = static_cast<int>(pos);
      break;
    }
    const int r = static_cast<int>(s.rows.size());
    if (id >= 0 && id <= 9) {
      if (static_cast<int>(s.current.size()) == kArcMaxSide) {
        return absl::InvalidArgumentError(
            absl::StrCat("row ", r, " has more than ", kArcMaxSide, " cells"));
      }
      s.current.push_back(id);
    } else if (id == kCompactRowEnd) {
      if (s.current.empty())
        return absl::InvalidArgumentError(absl::StrCat("row ", r, " is empty"));
      if (!s.rows.empty() && s.current.size() != s.rows[0].size()) {
        return absl::InvalidArgumentError(absl::StrCat("row ", r, " has ", s.current.size(),
                                                       " cells, expected ", s.rows[0].size()));
      }
      if (r == kArcMaxSide) {
        return absl::InvalidArgumentError(absl::StrCat("more than ", kArcMaxSide, " rows"));
      }
      s.rows.push_back(std::move(s.current));
      s.current.clear();
    } else {
      const char* names[] = {"<I>", "<O>", "<s>", "</s>", "<pad>"};
      const std::string what =
          (id >= kCompactInput && id < kCompactVocabSize) ? names[id - kCompactInput] : "?";
      return absl::InvalidArgumentError(
          absl::StrCat("unexpected token ", id, " (", what, ") at position ", pos));
    }
  }
  return s;
}

class CompactFormat final : public PromptFormat {
 public:
  explicit CompactFormat(const Tokenizer& tokenizer) : tokenizer_(tokenizer) {}

  std::string_view name() const override { return "compact"; }
  const Tokenizer& tokenizer() const override { return tokenizer_; }

  absl::StatusOr<RenderedPrompt> Render(const PromptInput& input,
                                        LossMaskMode mode) const override {
    if (auto s = ValidateInput(input); !s.ok()) return s;
    Builder b;
    b.Add(kCompactBos, false);
    for (size_t k = 0; k < input.demonstrations.size(); ++k) {
      const Example& d = input.demonstrations[k];
      const bool loss = mode == LossMaskMode::kOutputsAfterFirst && k >= 1;
      b.Add(kCompactInput, false);
      AddCompactRows(d.input, false, &b);
      b.Add(kCompactOutput, false);
      AddCompactRows(d.output, loss, &b);
      b.Add(kCompactEos, loss);
    }
    b.Add(kCompactInput, false);
    AddCompactRows(input.query_input, false, &b);
    b.Add(kCompactOutput, false);
    b.result().prompt_length = b.size();
    if (input.query_output) {
      AddCompactRows(*input.query_output, true, &b);
      b.Add(kCompactEos, true);
    }
    b.result().answer_end = b.size();
    return std::move(b.result());
  }

  absl::StatusOr<int> CountTokens(const PromptInput& input) const override {
    if (auto s = ValidateInput(input); !s.ok()) return s;
    int n = 1;  // BOS
    for (const Example& d : input.demonstrations) {
      n += 3 + CompactGridTokens(d.input) + CompactGridTokens(d.output);  // <I> <O> </s>
    }
    n += 2 + CompactGridTokens(input.query_input);  // <I> <O>
    if (input.query_output) n += CompactGridTokens(*input.query_output) + 1;
    return n;
  }

  int AnswerTokens(int rows, int cols) const override { return rows * (cols + 1) + 1; }

  std::vector<int> StopTokens() const override { return {kCompactEos}; }

  absl::StatusOr<Grid> ParseOutput(absl::Span<const int> generated) const override {
    absl::StatusOr<CompactScan> s = ScanCompact(generated);
    if (!s.ok()) return s.status();
    if (!s->current.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("row ", s->rows.size(), " is not ended by a row end"));
    }
    if (s->rows.empty()) return absl::InvalidArgumentError("no grid");
    return Grid::FromRows(s->rows);
  }

  absl::StatusOr<std::vector<int>> AllowedNextTokens(
      absl::Span<const int> generated) const override {
    absl::StatusOr<CompactScan> s = ScanCompact(generated);
    if (!s.ok()) return s.status();
    if (s->stop_position >= 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("already ended by the stop token at position ", s->stop_position));
    }
    const size_t rows = s->rows.size();
    const size_t cells = s->current.size();
    const size_t width = rows == 0 ? kArcMaxSide : s->rows[0].size();
    if (cells > width) {
      return absl::InvalidArgumentError(
          absl::StrCat("row ", rows, " has ", cells, " cells, more than ", width));
    }
    std::vector<int> allowed;
    if (rows < static_cast<size_t>(kArcMaxSide) && cells < width) {
      for (int d = 0; d <= 9; ++d) allowed.push_back(d);
    }
    if (cells > 0 && (rows == 0 || cells == width)) allowed.push_back(kCompactRowEnd);
    if (cells == 0 && rows > 0) allowed.push_back(kCompactEos);
    return allowed;
  }

 private:
  const Tokenizer& tokenizer_;
};

// ---------------------------------------------------------------------------------------------
// marc

// [begin, end) byte range of one demonstration output in the system text.
struct Range {
  size_t begin;
  size_t end;
};

// The system text before stripping and the byte range of every demonstration's output: from the
// space after "->" through "#\n". The paper's rule puts exactly these bytes' tokens in the loss
// (" ->" is its own pre-token, so the next token starts at that space).
std::string MarcSystemText(const PromptInput& input, std::vector<Range>* outputs) {
  std::string text = absl::StrCat(AV(kMarcSystemPrompt), AV(kMarcGridsIntro));
  for (const Example& d : input.demonstrations) {
    absl::StrAppend(&text, d.input.ToString(), " ->");
    const size_t begin = text.size();
    absl::StrAppend(&text, " ", d.output.ToString(), "#\n");
    if (outputs != nullptr) outputs->push_back({begin, text.size()});
  }
  return text;
}

// Python's str.strip() for the ASCII whitespace this text can contain: [begin, end).
Range StripRange(std::string_view s) {
  const auto ws = [](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
  };
  size_t b = 0, e = s.size();
  while (b < e && ws(s[b])) ++b;
  while (e > b && ws(s[e - 1])) --e;
  return {b, e};
}

std::string_view Strip(std::string_view s) {
  const Range r = StripRange(s);
  return s.substr(r.begin, r.end - r.begin);
}

// Parses numpy's str() of an int grid, strictly: "[[a b]\n [c d]]", single-digit cells, equal row
// widths, at most 30x30; whitespace between tokens is free; an optional "#" may follow the grid.
absl::StatusOr<Grid> ParseNumpyGrid(std::string_view text) {
  const size_t n = text.size();
  size_t p = 0;
  const auto is_ws = [](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
  };
  const auto skip_ws = [&] {
    while (p < n && is_ws(text[p])) ++p;
  };
  const auto shown = [&](size_t at) {
    return absl::StrCat("'", absl::CHexEscape(AV(text.substr(at, 10))), "'");
  };
  skip_ws();
  if (p >= n || text[p] != '[') return absl::InvalidArgumentError("no grid");
  ++p;
  std::vector<std::vector<int>> rows;
  while (true) {
    skip_ws();
    if (p >= n) return absl::InvalidArgumentError("grid is not closed by ']'");
    if (text[p] == ']') {
      ++p;
      break;
    }
    const int r = static_cast<int>(rows.size());
    if (text[p] != '[') {
      return absl::InvalidArgumentError(
          absl::StrCat("expected '[' to start row ", r, ", found ", shown(p)));
    }
    ++p;
    std::vector<int> row;
    while (true) {
      skip_ws();
      if (p >= n) return absl::InvalidArgumentError(absl::StrCat("row ", r, " is not closed"));
      if (text[p] == ']') {
        ++p;
        break;
      }
      size_t q = p;
      while (q < n && !is_ws(text[q]) && text[q] != '[' && text[q] != ']' && text[q] != '#') ++q;
      if (q == p) {
        return absl::InvalidArgumentError(absl::StrCat("unexpected ", shown(p), " in row ", r));
      }
      const std::string_view cell = text.substr(p, q - p);
      if (cell.size() != 1 || cell[0] < '0' || cell[0] > '9') {
        return absl::InvalidArgumentError(
            absl::StrCat("cell value '", absl::CHexEscape(AV(cell)), "'"));
      }
      if (static_cast<int>(row.size()) == kArcMaxSide) {
        return absl::InvalidArgumentError(
            absl::StrCat("row ", r, " has more than ", kArcMaxSide, " cells"));
      }
      row.push_back(cell[0] - '0');
      p = q;
    }
    if (row.empty()) return absl::InvalidArgumentError(absl::StrCat("row ", r, " is empty"));
    if (!rows.empty() && row.size() != rows[0].size()) {
      return absl::InvalidArgumentError(
          absl::StrCat("row ", r, " has ", row.size(), " cells, expected ", rows[0].size()));
    }
    if (r == kArcMaxSide) {
      return absl::InvalidArgumentError(absl::StrCat("more than ", kArcMaxSide, " rows"));
    }
    rows.push_back(std::move(row));
  }
  if (rows.empty()) return absl::InvalidArgumentError("no grid");
  skip_ws();
  if (p < n && text[p] == '#') ++p;
  skip_ws();
  if (p < n) return absl::InvalidArgumentError(absl::StrCat("text after the grid: ", shown(p)));
  return Grid::FromRows(rows);
}

// Character-level automaton for the numpy grid text the marc format answers with,
// "[[a b]\n [c d]]#": every row as wide as the first, at most 30x30. Used by
// MarcFormat::AllowedNextTokens, which runs each candidate token's characters from the state reached
// after the text generated so far.
class NumpyGridAutomaton {
 public:
  // Consumes one character; false when it cannot continue a valid grid text.
  bool Feed(char ch) {
    switch (phase_) {
      case kOpen1: return Expect(ch == '[', kOpen2);
      case kOpen2: return Expect(ch == '[', kRowStart);
      case kRowStart:
      case kAfterSpace:
        if (ch < '0' || ch > '9') return false;
        ++cells_;
        if (cells_ > (rows_ == 0 ? kArcMaxSide : width_)) return false;
        phase_ = kAfterDigit;
        return true;
      case kAfterDigit:
        if (ch == ' ') return Expect(true, kAfterSpace);
        if (ch != ']') return false;
        if (rows_ == 0) width_ = cells_;
        if (cells_ != width_) return false;
        ++rows_;
        cells_ = 0;
        phase_ = kRowClosed;
        return true;
      case kRowClosed:
        if (ch == ']') return Expect(true, kGridClosed);
        return Expect(ch == '\n' && rows_ < kArcMaxSide, kNewline);
      case kNewline: return Expect(ch == ' ', kIndent);
      case kIndent: return Expect(ch == '[', kRowStart);
      case kGridClosed: return Expect(ch == '#', kDone);
      case kDone: return false;
    }
    return false;
  }
  bool complete() const { return phase_ == kDone; }

 private:
  enum Phase { kOpen1, kOpen2, kRowStart, kAfterDigit, kAfterSpace, kRowClosed, kNewline, kIndent,
               kGridClosed, kDone };
  bool Expect(bool ok, Phase next) {
    if (ok) phase_ = next;
    return ok;
  }
  Phase phase_ = kOpen1;
  int rows_ = 0;
  int cells_ = 0;
  int width_ = 0;
};

class MarcFormat final : public PromptFormat {
 public:
  static absl::StatusOr<std::unique_ptr<MarcFormat>> Create(const Tokenizer& tokenizer) {
    std::unique_ptr<MarcFormat> f(new MarcFormat(tokenizer));
    struct Special {
      const char* text;
      int* id;
    };
    for (const Special& s :
         {Special{"<|begin_of_text|>", &f->bos_}, Special{"<|end_of_text|>", &f->end_of_text_},
          Special{"<|start_header_id|>", &f->start_header_},
          Special{"<|end_header_id|>", &f->end_header_}, Special{"<|eot_id|>", &f->eot_}}) {
      const std::optional<int> id = tokenizer.TokenId(s.text);
      if (!id) {
        return absl::InvalidArgumentError(
            absl::StrCat("format 'marc' needs the Llama-3 special token ", s.text, ", which the '",
                         AV(tokenizer.kind()), "' tokenizer lacks"));
      }
      *s.id = *id;
    }
    for (auto [role, header] :
         {std::pair{"system", &f->system_header_}, std::pair{"user", &f->user_header_},
          std::pair{"assistant", &f->assistant_header_}}) {
      absl::StatusOr<std::vector<int>> role_ids = tokenizer.Encode(role);
      absl::StatusOr<std::vector<int>> blank = tokenizer.Encode("\n\n");
      if (!role_ids.ok()) return role_ids.status();
      if (!blank.ok()) return blank.status();
      header->push_back(f->start_header_);
      header->insert(header->end(), role_ids->begin(), role_ids->end());
      header->push_back(f->end_header_);
      header->insert(header->end(), blank->begin(), blank->end());
    }
    // Tokens made only of grid-text characters: the only ones a grid answer can use.
    for (int id = 0; id < tokenizer.vocab_size(); ++id) {
      if (id == f->eot_ || id == f->end_of_text_) continue;
      const std::optional<std::string> text = tokenizer.TokenText(id);
      if (!text || text->empty()) continue;
      if (text->find_first_not_of("0123456789 []\n#") != std::string::npos) continue;
      f->grid_tokens_.emplace_back(id, *text);
    }
    return f;
  }

  std::string_view name() const override { return "marc"; }

  // Grid grammar: the tokens whose text keeps the generated text a prefix of a valid numpy grid
  // text ending in "#", then <|eot_id|> once it is complete.
  absl::StatusOr<std::vector<int>> AllowedNextTokens(
      absl::Span<const int> generated) const override {
    NumpyGridAutomaton state;
    for (size_t k = 0; k < generated.size(); ++k) {
      const std::optional<std::string> text = tokenizer_.TokenText(generated[k]);
      if (!text) return absl::InvalidArgumentError(absl::StrCat("token ", generated[k], " has no text"));
      if (generated[k] == eot_ || generated[k] == end_of_text_) {
        return absl::InvalidArgumentError(
            absl::StrCat("already ended by the stop token at position ", k));
      }
      for (char ch : *text) {
        if (!state.Feed(ch)) {
          return absl::InvalidArgumentError(
              absl::StrCat("token ", k, " breaks the grid text grammar"));
        }
      }
    }
    std::vector<int> allowed;
    if (state.complete()) {
      allowed.push_back(eot_);
      return allowed;
    }
    for (const auto& [id, text] : grid_tokens_) {
      NumpyGridAutomaton next = state;
      bool ok = true;
      for (char ch : text) {
        if (!(ok = next.Feed(ch))) break;
      }
      if (ok) allowed.push_back(id);
    }
    std::sort(allowed.begin(), allowed.end());
    return allowed;
  }
  const Tokenizer& tokenizer() const override { return tokenizer_; }

  absl::StatusOr<RenderedPrompt> Render(const PromptInput& input,
                                        LossMaskMode mode) const override {
    if (auto s = ValidateInput(input); !s.ok()) return s;
    Builder b;
    b.Add(bos_, false);

    // System turn: the stripped body is tokenized whole (exactly the paper's ids); each token's
    // byte span then says whether it lies inside a demonstration output.
    std::vector<Range> outputs;
    const std::string system_text = MarcSystemText(input, &outputs);
    const Range kept = StripRange(system_text);
    const std::string_view body =
        std::string_view(system_text).substr(kept.begin, kept.end - kept.begin);
    absl::StatusOr<std::vector<int>> body_ids = tokenizer_.Encode(body);
    if (!body_ids.ok()) return body_ids.status();
    b.Add(system_header_, false);
    size_t offset = kept.begin;  // byte offset of the current token in system_text
    size_t next_output = 1;      // demonstration 1 (the first) never carries loss
    for (size_t k = 0; k < body_ids->size(); ++k) {
      const int id = (*body_ids)[k];
      const std::optional<std::string> bytes = tokenizer_.TokenText(id);
      if (!bytes) return absl::InternalError(absl::StrCat("marc: token ", id, " has no text"));
      const size_t begin = offset, end = offset + bytes->size();
      offset = end;
      while (next_output < outputs.size() && outputs[next_output].end <= begin) ++next_output;
      bool loss = false;
      if (next_output < outputs.size() && end > outputs[next_output].begin) {
        const Range& out = outputs[next_output];
        if (begin < out.begin || end > out.end) {
          // Only possible if the tokenizer merged across " ->" or "#\n"; never with Llama-3.
          return absl::InternalError(absl::StrCat("marc: token ", k, " of the system turn ",
                                                  "straddles demonstration ", next_output,
                                                  "'s output boundary"));
        }
        loss = mode == LossMaskMode::kOutputsAfterFirst;
      }
      b.Add(id, loss);
    }
    if (offset != kept.end) {
      return absl::InternalError("marc: system token texts do not add up to the system text");
    }
    b.Add(eot_, false);

    // User turn: the query, never in the loss.
    const std::string user_text = absl::StrCat(input.query_input.ToString(), " -> ");
    absl::StatusOr<std::vector<int>> user_ids = tokenizer_.Encode(Strip(user_text));
    if (!user_ids.ok()) return user_ids.status();
    b.Add(user_header_, false);
    b.Add(*user_ids, false);
    b.Add(eot_, false);

    // Assistant turn: the header is the end of the inference prompt (add_generation_prompt) but is
    // trained on in the paper's mask, like the answer and its <|eot_id|>.
    b.Add(assistant_header_, mode == LossMaskMode::kOutputsAfterFirst);
    b.result().prompt_length = b.size();
    if (input.query_output) {
      const std::string answer_text = absl::StrCat(input.query_output->ToString(), "#");
      absl::StatusOr<std::vector<int>> answer_ids = tokenizer_.Encode(Strip(answer_text));
      if (!answer_ids.ok()) return answer_ids.status();
      b.Add(*answer_ids, true);
      b.Add(eot_, true);
      b.result().answer_end = b.size();
      b.Add(end_of_text_, false);
    } else {
      b.result().answer_end = b.size();
      // Without an answer the header is the generation prompt and carries no loss.
      std::fill(b.result().loss_mask.end() - static_cast<long>(assistant_header_.size()),
                b.result().loss_mask.end(), 0);
    }
    return std::move(b.result());
  }

  int AnswerTokens(int rows, int cols) const override {
    // Digits and spaces are separate pre-tokens, so the count depends on the shape only.
    const absl::StatusOr<std::vector<int>> ids =
        tokenizer_.Encode(absl::StrCat(Grid(rows, cols).ToString(), "#"));
    return ids.ok() ? static_cast<int>(ids->size()) + 1 : 0;  // + <|eot_id|>
  }

  std::vector<int> StopTokens() const override { return {eot_, end_of_text_}; }

  absl::StatusOr<Grid> ParseOutput(absl::Span<const int> generated) const override {
    size_t end = 0;
    while (end < generated.size() && generated[end] != eot_ && generated[end] != end_of_text_) {
      ++end;
    }
    absl::StatusOr<std::string> text = tokenizer_.Decode(generated.subspan(0, end));
    if (!text.ok()) return text.status();
    return ParseNumpyGrid(*text);
  }

 private:
  explicit MarcFormat(const Tokenizer& tokenizer) : tokenizer_(tokenizer) {}

  const Tokenizer& tokenizer_;
  int bos_ = 0;
  int end_of_text_ = 0;
  int start_header_ = 0;
  int end_header_ = 0;
  int eot_ = 0;
  // <|start_header_id|> role <|end_header_id|> "\n\n"
  std::vector<int> system_header_;
  std::vector<int> user_header_;
  std::vector<int> assistant_header_;
  std::vector<std::pair<int, std::string>> grid_tokens_;  // (id, text) of grid-character tokens
};

}  // namespace

absl::StatusOr<PromptInput> PromptInput::FromTask(const Task& task, int test_index) {
  if (test_index < 0 || test_index >= static_cast<int>(task.test.size())) {
    return absl::InvalidArgumentError(absl::StrCat("test_index: ", test_index, " is outside 0..",
                                                   static_cast<int>(task.test.size()) - 1));
  }
  PromptInput input;
  input.demonstrations = task.train;
  input.query_input = task.test[test_index].input;
  input.query_output = task.test[test_index].output;
  return input;
}

absl::StatusOr<int> PromptFormat::CountTokens(const PromptInput& input) const {
  absl::StatusOr<RenderedPrompt> r = Render(input);
  if (!r.ok()) return r.status();
  return static_cast<int>(r->ids.size());
}

absl::StatusOr<std::vector<int>> PromptFormat::AllowedNextTokens(
    absl::Span<const int> generated) const {
  return absl::UnimplementedError(
      absl::StrCat("format '", AV(name()), "' has no decoding grammar"));
}

std::vector<std::string> PromptFormatNames() { return {"compact", "marc"}; }

absl::StatusOr<std::unique_ptr<PromptFormat>> MakePromptFormat(std::string_view name,
                                                               const Tokenizer& tokenizer) {
  if (name == "compact") {
    if (tokenizer.kind() != "compact") {
      return absl::InvalidArgumentError(absl::StrCat(
          "format 'compact' needs the compact tokenizer, got '", AV(tokenizer.kind()), "'"));
    }
    return std::unique_ptr<PromptFormat>(new CompactFormat(tokenizer));
  }
  if (name == "marc") {
    absl::StatusOr<std::unique_ptr<MarcFormat>> f = MarcFormat::Create(tokenizer);
    if (!f.ok()) return f.status();
    return std::unique_ptr<PromptFormat>(std::move(f).value());
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown prompt format '", AV(name), "' (known: ",
                                                 absl::StrJoin(PromptFormatNames(), ", "), ")"));
}

MarcMessages MakeMarcMessages(const PromptInput& input) {
  MarcMessages m;
  m.system = MarcSystemText(input, nullptr);
  m.user = absl::StrCat(input.query_input.ToString(), " -> ");
  if (input.query_output) m.assistant = absl::StrCat(input.query_output->ToString(), "#");
  return m;
}

}  // namespace arc
