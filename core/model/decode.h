// Batched greedy decoding and continuation scoring with the Llama decoder (core/llama.h).
//
// GreedyDecode: prompts (token ids, any lengths) are decoded in chunks of at most max_batch_size,
// longest first so a chunk's prompts have similar lengths. A float32 CPU model runs each chunk
// through CpuDecoder (core/model/cpu_decoder.h: packed rows, each with its own cache, no padding;
// DecodeOptions::direct_cpu); otherwise each chunk is left-padded with
// pad_token_id under an attention mask, prefilled through a KvCache in one forward, then extended
// one token per step by argmax over the logits (restricted to the constraint's allowed tokens when
// a TokenConstraint is given). A sequence stops on any stop token, on max_new_tokens, or when the
// constraint allows nothing; finished sequences leave the batch (their cache rows are dropped) so
// the rest run on. The cancellation callback is polled before every step and before every chunk.
//
// ScoreContinuations: for (prompt, continuation) pairs, the summed log-probability of the
// continuation's tokens given the prompt and the preceding continuation tokens. Pairs are batched
// right-padded (causal attention never lets a real token see a later pad, so no mask is needed) and
// only the positions that predict continuation tokens go through the LM head.
//
// Log-probabilities are those of the unconstrained model (log_softmax over the full vocabulary in
// float32), so a decoded sequence's sum_logprob equals ScoreContinuations of its tokens (stop token
// included) up to floating-point noise, unless DecodeOptions::restrict_to_allowed trades them for
// a step that never forms the full-vocabulary logits.
//
// Memory: a chunk's KvCache holds layers x 2 x (chunk, Hkv, longest prompt + max_new_tokens, D)
// elements in the model dtype, allocated once per chunk (CpuDecoder: each row's own prompt +
// max_new_tokens slots instead of the longest's); choose max_batch_size accordingly.
//
// Both run under c10::InferenceMode on the calling thread and only read the model and the adapter,
// so several threads may decode on one shared base model at once, each with its own (or no)
// adapter. Errors: INVALID_ARGUMENT for bad inputs (empty prompt, token outside the vocabulary, bad
// options), CANCELLED when the callback says so, INTERNAL when libtorch throws.
#ifndef ARC_CORE_MODEL_DECODE_H_
#define ARC_CORE_MODEL_DECODE_H_

#include <cstdint>
#include <functional>
#include <vector>

#include "absl/status/statusor.h"
#include "core/model/llama.h"

namespace arc {

class LoraAdapter;

// A grammar over generated tokens, e.g. "digits, row ends with a consistent width, then EOS".
// Implementations must be safe to call from the decoding thread; they are queried once per active
// sequence per step.
class TokenConstraint {
 public:
  virtual ~TokenConstraint() = default;
  // The token ids allowed next for the prompt at position `prompt_index` of the GreedyDecode call,
  // given the tokens it has generated so far. An empty list ends the sequence (kConstraint).
  virtual std::vector<int64_t> AllowedTokens(int64_t prompt_index,
                                             const std::vector<int64_t>& generated) const = 0;
};

struct DecodeOptions {
  // Upper bound on generated tokens per sequence (stop token included). > 0.
  int64_t max_new_tokens = 256;
  // Any of these ends a sequence (typically ModelConfig::eos_token_ids). May be empty.
  std::vector<int64_t> stop_token_ids;
  // Fills the left padding; its value is irrelevant to the result (masked), it need only be a
  // valid id.
  int64_t pad_token_id = 0;
  // Sequences decoded together. > 0.
  int64_t max_batch_size = 16;
  // Optional grammar; not owned, must outlive the call.
  const TokenConstraint* constraint = nullptr;
  // With a constraint: each step's LM head computes only the logits of the tokens some row of the
  // batch may take (a few grid tokens instead of, for Llama-3, 128,256), and argmax runs over each
  // row's allowed ones, so the tokens are those of the full-vocabulary step (up to float rounding
  // of the product; ties go to the lowest id either way). sum_logprob then holds log p
  // renormalised over each step's allowed tokens, not the unconstrained model's log p. Ignored
  // without a constraint.
  bool restrict_to_allowed = false;
  // Optional; returning true stops decoding with CANCELLED before the next step (and between the
  // pieces of a chunked prefill).
  std::function<bool()> is_cancelled;
  // A float32 model on the CPU (with a float32 adapter or none) decodes through CpuDecoder (core/
  // model/cpu_decoder.h): direct BLAS calls on packed, unpadded rows instead of libtorch operations
  // on a left-padded batch; the tokens agree with the libtorch path up to float32 rounding of the
  // hidden states (a near-tie of two logits can break the other way). false: always libtorch.
  bool direct_cpu = true;
  // > 0: a batch whose prompts hold more than this many tokens in all (rows x the longest prompt)
  // is prefilled in pieces along time of about this many tokens, with a cancellation check between
  // pieces, so one prefill cannot delay a cancellation by seconds. 0: one prefill call. The result
  // is the same up to float rounding (the KV cache carries the earlier pieces).
  int64_t prefill_chunk_tokens = 0;
  // On the direct CPU path: a prompt that shares at least this many leading tokens with an earlier
  // prompt of its batch (views of one task whose first demonstrations coincide) starts from a copy
  // of that prompt's cached keys and values and prefills only its remainder
  // (CpuDecoder::CopyPrefix). The tokens agree with a full prefill up to float rounding. 0: off.
  int64_t share_prefix_tokens = 32;
};

enum class FinishReason { kStopToken, kMaxNewTokens, kConstraint };

struct DecodeResult {
  std::vector<int64_t> tokens;  // generated ids, stop token excluded
  FinishReason finish_reason = FinishReason::kMaxNewTokens;
  int64_t stop_token = -1;       // the stop id that ended the sequence (kStopToken), else -1
  int64_t prompt_tokens = 0;     // length of the prompt
  int64_t generated_tokens = 0;  // tokens decoded, stop token included
  double sum_logprob = 0.0;      // sum of log p over the generated_tokens tokens
};

// Decodes every prompt; results are in the order of `prompts`. `adapter` may be null.
absl::StatusOr<std::vector<DecodeResult>> GreedyDecode(
    const LlamaForCausalLMImpl& model, const LoraAdapter* adapter,
    const std::vector<std::vector<int64_t>>& prompts, const DecodeOptions& options);

struct ScoreRequest {
  std::vector<int64_t> prompt;        // non-empty
  std::vector<int64_t> continuation;  // may be empty (score 0)
};

struct ScoreOptions {
  int64_t max_batch_size = 16;         // pairs per forward, > 0
  int64_t pad_token_id = 0;            // fills the right padding (never attended to)
  std::function<bool()> is_cancelled;  // polled before every batch
};

// sum_t log p(continuation[t] | prompt, continuation[<t]) for each request, in request order.
absl::StatusOr<std::vector<double>> ScoreContinuations(const LlamaForCausalLMImpl& model,
                                                       const LoraAdapter* adapter,
                                                       const std::vector<ScoreRequest>& requests,
                                                       const ScoreOptions& options = {});

}  // namespace arc

#endif  // ARC_CORE_MODEL_DECODE_H_
