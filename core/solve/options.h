// SolveOptions: everything one solve can be told (TTT data, training, LoRA, views, inference,
// selection), the option table that names, bounds and documents each of its user-facing fields
// (core/solve/option_table.h), validation, and a model directory's own defaults.
//
// Each option is declared once, in ARC_SOLVE_OPTIONS (option_table.h); this file binds each row to
// its SolveOptions field. The struct fields' default initializers are the table's built-in
// defaults, so SolveOptions{} is the built-in column of the table. Fields that no surface exposes
// (e.g. TttTrainOptions::beta1, ViewOptions::max_views) keep their own defaults beside the field.
//
// Precedence, lowest first (arc-solve and arc-server):
//   1. built-in       SolveOptions{} (the table's defaults, the paper's generic values)
//   2. model          <model dir>/solve_options.json, a JSON object of option name -> value
//                     (LoadModelSolveOptions); models/default has one with its tuned values
//   3. command line   a solve flag given explicitly (tools/flags/solve_flags.h)
//   4. request        a field set in the request's SolveOptions (arc-server only, within the
//                     server's limits; server/proto_conversion.h)
//
// Thread-safety: the table is immutable after first use; all functions are pure.
#ifndef ARC_CORE_SOLVE_OPTIONS_H_
#define ARC_CORE_SOLVE_OPTIONS_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/model/lora.h"
#include "core/solve/experts.h"
#include "core/solve/option_table.h"
#include "core/solve/ttt.h"
#include "core/solve/ttt_data.h"
#include "core/solve/views.h"
#include "core/text/prompt_format.h"

namespace arc {

struct InferenceOptions {
  int batch_size = solve_option_default::infer_batch_size;          // views decoded together
  int max_new_tokens = solve_option_default::max_new_tokens;  // 0 = the answer budget of the
                                                              // largest plausible output
  bool constrained = solve_option_default::constrained;  // grid grammar (formats that have one)
};

enum class SelectionMode {
  kVote,      // hierarchical vote (the paper)
  kMajority,  // flat majority vote
  kPoe,       // vote, then rank the top K by product-of-experts score
  kVotesThenPoe,  // vote, then order the top K by votes and break ties by the score
};
std::string_view SelectionModeName(SelectionMode mode);
absl::StatusOr<SelectionMode> ParseSelectionMode(std::string_view name);

struct SelectionOptions {
  SelectionMode mode = SelectionMode::kVote;  // table: selection
  int poe_top_k = solve_option_default::poe_top_k;  // candidates re-scored
  int poe_views = solve_option_default::poe_views;  // dihedral views per candidate (identity first)
  // After test-time training, also decode the views with the base model alone and make its top
  // candidate attempt 2 when it differs from the adapted model's attempt 1 (the adapted model's
  // own attempt 2 moves down one place). A guard for tasks that adaptation makes worse; costs one
  // more inference pass. No effect without TTT.
  bool base_attempt = solve_option_default::base_attempt;
};

// The table's LoRA defaults (lora_rank, lora_alpha, lora_dropout, lora_targets: the paper's targets
// q, v, gate, up, down, reference §3.7, at the paper's rank 128 scaled down for small models).
// The program-search expert's budget (core/search/search.h; the search itself runs with the
// worker's torch thread count, and its result does not depend on it).
struct SearchSettings {
  int max_depth = solve_option_default::search_depth;         // primitives per program
  int work_millions = solve_option_default::search_work;      // deterministic budget
  double max_seconds = solve_option_default::search_seconds;  // safety stop only
  bool skip_ttt_when_explained = solve_option_default::skip_ttt_when_explained;
};

LoraConfig DefaultTttLora();

struct SolveOptions {
  bool ttt = solve_option_default::ttt;  // false: no adaptation (the paper's baseline)
  TttDataOptions ttt_data;             // sample construction; its seed is overridden by `seed`
  LossMaskMode loss_mask = LossMaskMode::kOutputsAfterFirst;  // table: loss_mask
  LoraConfig lora = DefaultTttLora();  // its seed is overridden by `seed`
  // Full fine-tuning instead of LoRA: a private copy of the base is trained and used for this task
  // (memory: the model four times over with AdamW). For small models only: refused with
  // FAILED_PRECONDITION above full_finetune_max_parameters.
  bool full_finetune = solve_option_default::full_finetune;
  int64_t full_finetune_max_parameters = 50'000'000;
  TttTrainOptions train;               // its seed is overridden by `seed`
  ViewOptions views;                   // its seed is overridden by `seed`
  InferenceOptions inference;
  SelectionOptions selection;
  Experts experts = Experts::kBoth;    // table: experts
  SearchSettings search;
  bool include_views = false;          // return every view's raw prediction (per request)
  uint64_t seed = solve_option_default::seed;
};

// Checks every option: the table's ranges first (INVALID_ARGUMENT "NAME (FIELD): VALUE is outside
// LO..HI", e.g. "ttt_batch_size (train.batch_size): 0 is outside 1..256"), then the fields no
// surface exposes (the messages of ValidateTttDataOptions, LoraConfig::Validate,
// ValidateTttTrainOptions and ValidateViewOptions).
absl::Status ValidateSolveOptions(const SolveOptions& options);

// ---- The table bound to SolveOptions ----

// A value of one option, by kind: Bool bool, Int int64_t, Uint uint64_t, Double double, Choice
// std::string, List std::vector<std::string>.
using OptionValue =
    std::variant<bool, int64_t, uint64_t, double, std::string, std::vector<std::string>>;

struct SolveOption {
  const SolveOptionSpec& spec;
  const char* field;  // the SolveOptions field, e.g. "train.learning_rate"
  // The field's value. A Choice whose field holds something no choice names (a custom
  // ViewOptions::transforms list) reads as "custom".
  std::function<OptionValue(const SolveOptions&)> get;
  // Stores a value of the right kind that CheckOptionValue accepted.
  std::function<void(const OptionValue&, SolveOptions&)> put;
};

// Every option, in table order.
const std::vector<SolveOption>& SolveOptionTable();
// The option named `name`, or nullptr.
const SolveOption* FindSolveOption(std::string_view name);

// `value` against the option's kind, range and choices, and `limit` (a server's per-request bound
// of an Int option, which wins over hi when lower). INVALID_ARGUMENT "PATH: ...":
//   "PATH: 0 is outside 1..256", "PATH: 1 is outside [0, 1)", "PATH: 5000 is above the server
//   limit 500", "PATH: \"x\" is not one of a, b", "PATH[1]: \"q_proj\" is listed twice",
//   "PATH: inf is not a finite number", "PATH: expected an integer".
absl::Status CheckOptionValue(const SolveOptionSpec& spec, const OptionValue& value,
                              const std::string& path,
                              std::optional<int64_t> limit = std::nullopt);
// CheckOptionValue, then stores it in `options`.
absl::Status SetSolveOption(const SolveOption& option, const OptionValue& value,
                            const std::string& path, SolveOptions& options);
// Parses the text form of a value (a flag's value: true/false, a number, a choice, a
// comma-separated list). INVALID_ARGUMENT "PATH: \"x\" is not an integer" and the like.
absl::StatusOr<OptionValue> ParseOptionValue(const SolveOptionSpec& spec, std::string_view text,
                                             const std::string& path);
// The text form (round-trips through ParseOptionValue; doubles in their shortest exact form).
std::string OptionValueText(const OptionValue& value);
// The built-in default of `spec` as a value.
OptionValue DefaultOptionValue(const SolveOptionSpec& spec);

// ---- A model's defaults ----

// The file in a model directory that holds the model's solve-option defaults.
inline constexpr char kModelSolveOptionsFile[] = "solve_options.json";

// `base` with the options of `json` (a JSON object of option name -> value: true/false, numbers,
// a choice string, a list as an array of strings) on top. `source` names the text in errors:
// INVALID_ARGUMENT "SOURCE: unknown option \"x\"", "SOURCE: ttt_lr: 2 is outside 0..1".
absl::StatusOr<SolveOptions> ApplySolveOptionsJson(std::string_view json, const std::string& source,
                                                   SolveOptions base);
// The marc preset: marc's effective TTT settings (reference mit-ttt-pipeline.md §3.7) where
// they differ from the built-in defaults, as solve_options.json text: LoRA rank 128 (alpha 16 and
// lr 1e-4 are the built-in values) on q, v, gate, up, down and lm_head (marc's output-layer flag
// parses "False" as true, so its runs trained an lm_head LoRA too), and marc's translate shifts.
// arc-init-model writes it into the Llama-3 model directories it makes; copy it into a published
// checkpoint's directory to serve that checkpoint with marc's settings (docs/GPU.md).
std::string MarcPresetSolveOptionsJson();

// `base` with <model_dir>/solve_options.json on top; `base` unchanged when the file is absent.
absl::StatusOr<SolveOptions> LoadModelSolveOptions(const std::string& model_dir,
                                                   SolveOptions base = {});

// A Markdown table of every option (name, kind, built-in default, `model_defaults`' value where it
// differs, range or choices, request field, help): docs/SOLVE_OPTIONS.md is this text.
std::string SolveOptionsMarkdown(const SolveOptions& model_defaults, const std::string& model_name);

}  // namespace arc

#endif  // ARC_CORE_SOLVE_OPTIONS_H_
