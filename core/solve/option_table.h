// The solve-option table: every option of a solve (TTT data, training, LoRA, views, inference,
// selection, experts and program search) declared once, with its name, kind, built-in default, range or allowed values, its
// SolveOptions field, its path in the proto SolveOptions message and its help text. Every surface
// is generated from it or checked against it (tests/options_table_test.cc):
//   core        the SolveOptions field defaults (core/solve/options.h, ttt.h, ttt_data.h, views.h),
//               ValidateSolveOptions, a model directory's solve_options.json
//               (core/solve/options.h)
//   tools       the absl flags of arc-solve and arc-server (tools/flags/solve_flags.cc)
//   server      the request conversion, its per-request limits and GetServerInfo's defaults
//               (server/proto_conversion.cc, server/server_options.cc)
//   client      arc-client's solve-option flags (client/cli.cc)
//   docs        docs/SOLVE_OPTIONS.md and README.md
//
// Precedence, lowest first: the built-in default (this table) < the model directory's
// solve_options.json < a flag given on the arc-solve / arc-server command line < the request's
// field (arc-server only).
//
// This header is plain preprocessor text, constexpr data and one string helper with no dependency
// (no libtorch, no abseil, no protobuf), so that arc-client, which never links core/solve, reads
// the same table. The `member` column is only expanded by core/solve/options.cc.
//
// Columns of ARC_SOLVE_OPTIONS(X):
//   X(name, kind, member, default, lo, hi, bounds, choices, proto, help)
//   name     flag name, JSON key of solve_options.json, arc-client flag
//   kind     Bool, Int, Uint, Double, Choice (one of `choices`), List (a comma-separated subset of
//            `choices`, in order, no duplicates)
//   member   the SolveOptions field
//   default  the built-in default: a literal of the kind (a string for Choice and List)
//   lo, hi   the valid range of Int and Double (ignored otherwise); `bounds` says which ends are
//            open: Closed ("lo..hi"), OpenLow ("(lo, hi]"), OpenHigh ("[lo, hi)")
//   choices  comma-separated allowed values of Choice and List; they are the proto enum's value
//            names without the enum's prefix, lower-cased (LOSS_MASK_ANSWER_ONLY -> answer_only)
//   proto    the field's path in arc.v1.SolveOptions, "" when a request cannot set it
//   help     one line for --help and the docs
//
// The built-in defaults are the paper's generic values (scaled to small models where the paper's
// would not fit); a model's tuned values live in its directory (models/default/solve_options.json).
#ifndef ARC_CORE_SOLVE_OPTION_TABLE_H_
#define ARC_CORE_SOLVE_OPTION_TABLE_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

// clang-format off
#define ARC_SOLVE_OPTIONS(X)                                                                      \
  X(ttt, Bool, ttt, true, 0, 0, Closed, "", "ttt",                                                \
    "test-time training (false: the paper's no-TTT baseline)")                                    \
  X(seed, Uint, seed, 0, 0, 0, Closed, "", "seed",                                                \
    "seed for TTT data, LoRA init, batch order and views")                                        \
  X(ttt_max_samples, Int, ttt_data.max_samples, 250, 1, 100000, Closed, "",                       \
    "ttt_options.max_samples", "TTT samples per task (the paper's cap)")                          \
  X(ttt_max_tokens, Int, ttt_data.max_total_tokens, 0, 0, 100000000, Closed, "",                 \
    "ttt_options.max_tokens",                                                                     \
    "TTT token budget per task: samples past it are dropped, last first (0 = none)")             \
  X(ttt_permute_n, Int, ttt_data.permute_n, 1, 0, 8, Closed, "", "ttt_options.permute_n",         \
    "colour/order-permuted copies per TTT sample")                                                \
  X(ttt_augment, Bool, ttt_data.augment, true, 0, 0, Closed, "", "ttt_options.augment",           \
    "apply the paper's 23 augmenters to TTT samples")                                             \
  X(ttt_translate, Choice, ttt_data.translate, "consistent", 0, 0, Closed, "consistent,marc",    \
    "ttt_options.translate",                                                                      \
    "RandomTranslateXY shifts: consistent (one per task, inputs and outputs alike) or marc "      \
    "(marc's exactly: the same for every task, an output moved apart from its input)")           \
  X(ttt_leave_two, Bool, ttt_data.leave_two_top_up, true, 0, 0, Closed, "",                       \
    "ttt_options.leave_two_top_up", "top up leave-one-out samples with leave-two-out ones")       \
  X(loss_mask, Choice, loss_mask, "outputs_after_first", 0, 0, Closed,                            \
    "outputs_after_first,answer_only", "ttt_options.loss_mask",                                   \
    "outputs_after_first (paper) or answer_only")                                                 \
  X(ttt_lr, Double, train.learning_rate, 1e-4, 0, 1, Closed, "", "ttt_options.learning_rate",     \
    "peak learning rate (the paper's)")                                                           \
  X(ttt_weight_decay, Double, train.weight_decay, 0.01, 0, 10, Closed, "",                        \
    "ttt_options.weight_decay", "AdamW weight decay")                                             \
  X(ttt_batch_size, Int, train.batch_size, 2, 1, 256, Closed, "", "ttt_options.batch_size",       \
    "samples per batch")                                                                          \
  X(ttt_grad_accum, Int, train.grad_accum, 1, 1, 64, Closed, "", "ttt_options.grad_accum",        \
    "batches per optimizer step")                                                                 \
  X(ttt_epochs, Int, train.epochs, 2, 1, 100, Closed, "", "ttt_options.epochs",                   \
    "passes over the samples")                                                                    \
  X(ttt_max_steps, Int, train.max_steps, 0, 0, 1000000, Closed, "", "ttt_options.max_steps",      \
    "stop after this many optimizer steps (0 = the epochs decide)")                               \
  X(ttt_warmup, Double, train.warmup_fraction, 0.1, 0, 1, Closed, "",                             \
    "ttt_options.warmup_fraction", "warmup fraction of the steps")                                \
  X(ttt_clip, Double, train.clip_grad_norm, 0.0, 0, 1e6, Closed, "",                              \
    "ttt_options.clip_grad_norm", "gradient-norm clip (0 = off)")                                 \
  X(full_finetune, Bool, full_finetune, false, 0, 0, Closed, "", "",                              \
    "train a private copy of the whole model instead of LoRA (small models; not per request)")    \
  X(lora_rank, Int, lora.rank, 8, 1, 4096, Closed, "", "ttt_options.lora_rank",                   \
    "LoRA rank (the paper's 128 scaled down for small models)")                                   \
  X(lora_alpha, Double, lora.alpha, 16.0, 0, 1e6, OpenLow, "", "ttt_options.lora_alpha",          \
    "LoRA alpha (scale = alpha / rank)")                                                          \
  X(lora_dropout, Double, lora.dropout, 0.0, 0, 1, OpenHigh, "", "ttt_options.lora_dropout",      \
    "LoRA dropout")                                                                               \
  X(lora_targets, List, lora.targets, "q_proj,v_proj,gate_proj,up_proj,down_proj", 0, 0, Closed,  \
    "q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj,lm_head", "ttt_options.lora_targets", \
    "the projections that get a LoRA adapter (the paper's)")                                      \
  X(views_leave_out, Int, views.leave_out, 1, 0, 20, Closed, "", "inference.leave_out",           \
    "demonstrations left out per view (0 = all used)")                                            \
  X(views_permutations, Int, views.permutations, 2, 0, 8, Closed, "", "inference.permutations",   \
    "extra demonstration orders per subset")                                                      \
  X(views_transforms, Choice, views.transforms, "paper", 0, 0, Closed, "paper,all,none",          \
    "inference.transforms", "paper (5 transforms), all (7) or none")                              \
  X(infer_batch_size, Int, inference.batch_size, 16, 1, 256, Closed, "", "inference.batch_size",  \
    "views decoded together")                                                                     \
  X(max_new_tokens, Int, inference.max_new_tokens, 0, 0, 65536, Closed, "",                       \
    "inference.max_new_tokens", "answer token budget (0 = from the task's grid sizes)")           \
  X(constrained, Bool, inference.constrained, true, 0, 0, Closed, "", "inference.constrained",    \
    "grid grammar while decoding")                                                                \
  X(selection, Choice, selection.mode, "vote", 0, 0, Closed, "vote,majority,poe,votes_then_poe",  \
    "selection", "vote, majority, poe or votes_then_poe")                                         \
  X(poe_top_k, Int, selection.poe_top_k, 4, 1, 32, Closed, "", "poe_top_k",                       \
    "candidates re-scored by product of experts")                                                 \
  X(poe_views, Int, selection.poe_views, 4, 1, 8, Closed, "", "poe_views",                        \
    "dihedral views per candidate for product of experts")                                        \
  X(base_attempt, Bool, selection.base_attempt, false, 0, 0, Closed, "", "base_attempt",          \
    "after TTT, the base model's top candidate becomes attempt 2 when it differs from the "       \
    "adapted model's attempt 1 (one more inference pass)")                                       \
  X(experts, Choice, experts, "both", 0, 0, Closed, "both,search,ttt", "experts",                 \
    "both (program search first, then TTT), search or ttt (core/solve/experts.h)")                \
  X(search_depth, Int, search.max_depth, 3, 1, 4, Closed, "", "search.max_depth",                 \
    "primitives per searched program")                                                            \
  X(search_work, Int, search.work_millions, 1500, 1, 1000000, Closed, "", "search.work_millions", \
    "the search's deterministic budget, in millions of work units (cells read and written)")      \
  X(search_seconds, Double, search.max_seconds, 60.0, 0, 3600, OpenLow, "", "search.max_seconds", \
    "hard wall-clock stop of the search (a safety stop, not part of the deterministic budget)")   \
  X(skip_ttt_when_explained, Bool, search.skip_ttt_when_explained, true, 0, 0, Closed, "",        \
    "search.skip_ttt_when_explained",                                                             \
    "with experts=both, skip TTT when a program explains every demonstration for every test input")
// clang-format on

namespace arc {

enum class OptionKind { kBool, kInt, kUint, kDouble, kChoice, kList };
enum class OptionBounds { kClosed, kOpenLow, kOpenHigh };

// One row of the table without its SolveOptions field (that part lives in core/solve/options.h).
struct SolveOptionSpec {
  const char* name;
  OptionKind kind;
  // The built-in default: `default_number` for Bool (0/1), Int, Uint and Double, `default_text`
  // for Choice and List.
  double default_number;
  const char* default_text;
  double lo;
  double hi;
  OptionBounds bounds;
  const char* choices;  // comma-separated, "" unless Choice or List
  const char* proto;    // path in arc.v1.SolveOptions, "" when not per request
  const char* help;
};

namespace option_table_internal {
// A template for the numeric literals (an exact match, so a literal 0 is not a null pointer).
template <typename T>
constexpr double NumberOf(T v) { return static_cast<double>(v); }
constexpr double NumberOf(const char*) { return 0; }
template <typename T>
constexpr const char* TextOf(T) { return ""; }
constexpr const char* TextOf(const char* s) { return s; }
}  // namespace option_table_internal

// The built-in defaults as constants, for the field initializers of the option structs
// (e.g. TttTrainOptions::learning_rate = solve_option_default::ttt_lr).
namespace solve_option_default {
#define ARC_SOLVE_OPTION_DEFAULT_(name, kind, member, def, ...) inline constexpr auto name = def;
ARC_SOLVE_OPTIONS(ARC_SOLVE_OPTION_DEFAULT_)
#undef ARC_SOLVE_OPTION_DEFAULT_
}  // namespace solve_option_default

#define ARC_SOLVE_OPTION_SPEC_(name, kind, member, def, lo, hi, bounds, choices, proto, help) \
  SolveOptionSpec{#name,                                                                     \
                  OptionKind::k##kind,                                                       \
                  option_table_internal::NumberOf(def),                                      \
                  option_table_internal::TextOf(def),                                        \
                  lo,                                                                        \
                  hi,                                                                        \
                  OptionBounds::k##bounds,                                                   \
                  choices,                                                                   \
                  proto,                                                                     \
                  help},
inline constexpr SolveOptionSpec kSolveOptionSpecs[] = {ARC_SOLVE_OPTIONS(ARC_SOLVE_OPTION_SPEC_)};
#undef ARC_SOLVE_OPTION_SPEC_
inline constexpr size_t kNumSolveOptions = sizeof(kSolveOptionSpecs) / sizeof(kSolveOptionSpecs[0]);

// The prefix of a proto enum's value names: the enum's name in upper snake case and "_"
// ("LossMask" -> "LOSS_MASK_"); a Choice's value `c` is the enum value prefix + upper-case `c`.
inline std::string ProtoEnumPrefix(std::string_view enum_name) {
  std::string out;
  for (char c : enum_name) {
    if (c >= 'A' && c <= 'Z' && !out.empty()) out += '_';
    out += (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
  }
  return out + "_";
}

// The row named `name`, or nullptr.
inline const SolveOptionSpec* FindSolveOptionSpec(std::string_view name) {
  for (const SolveOptionSpec& s : kSolveOptionSpecs) {
    if (name == s.name) return &s;
  }
  return nullptr;
}

}  // namespace arc

#endif  // ARC_CORE_SOLVE_OPTION_TABLE_H_
