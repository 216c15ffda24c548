#include "core/model/decode.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <c10/util/Exception.h>

#include <algorithm>
#include <functional>
#include <limits>
#include <memory>
#include <numeric>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/data/status_macros.h"
#include "core/model/cpu_decoder.h"
#include "core/model/interrupt.h"
#include "core/model/kv_cache.h"
#include "core/model/lora.h"
#include "core/model/model_config.h"

namespace arc {
namespace {

absl::Status CheckTokens(const std::vector<int64_t>& ids, int64_t vocab, const char* what,
                         size_t index) {
  for (size_t t = 0; t < ids.size(); ++t) {
    if (ids[t] < 0 || ids[t] >= vocab) {
      return absl::InvalidArgumentError(absl::StrCat(what, " ", index, " token ", t, " is ", ids[t],
                                                     ", outside the vocabulary [0, ", vocab, ")"));
    }
  }
  return absl::OkStatus();
}

// Indices of `lengths` ordered longest first (stable, so equal lengths keep their order).
std::vector<size_t> LongestFirst(const std::vector<int64_t>& lengths) {
  std::vector<size_t> order(lengths.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return lengths[a] > lengths[b]; });
  return order;
}

// Which prompts of a chunk start from another's cache: row r copies the first shared[r] tokens
// of row source[r] (an earlier row) when shared[r] > 0, and is prefilled in wave[r].
struct PrefixPlan {
  std::vector<int64_t> source, shared;
  std::vector<int> wave;
  int waves = 0;  // the largest wave
};

// For each row, the earlier row with the longest common prefix, shared when at least
// `min_tokens` (> 0) long; at most the prompt's length - 1, so every row extends at least one
// token of its own. Quadratic in rows, linear in tokens: a chunk is at most max_batch_size rows.
PrefixPlan PlanSharedPrefixes(const std::vector<std::vector<int64_t>>& prompts,
                              const std::vector<size_t>& chunk, int64_t min_tokens) {
  const size_t b = chunk.size();
  PrefixPlan plan{std::vector<int64_t>(b, -1), std::vector<int64_t>(b, 0), std::vector<int>(b, 0)};
  if (min_tokens <= 0) return plan;
  for (size_t r = 1; r < b; ++r) {
    const std::vector<int64_t>& p = prompts[chunk[r]];
    for (size_t s = 0; s < r; ++s) {
      const std::vector<int64_t>& q = prompts[chunk[s]];
      const size_t most = std::min(p.size() - 1, q.size());
      size_t n = 0;
      while (n < most && p[n] == q[n]) ++n;
      if (static_cast<int64_t>(n) >= min_tokens && static_cast<int64_t>(n) > plan.shared[r]) {
        plan.shared[r] = static_cast<int64_t>(n);
        plan.source[r] = static_cast<int64_t>(s);
      }
    }
    if (plan.shared[r] > 0) {
      plan.wave[r] = plan.wave[plan.source[r]] + 1;
      plan.waves = std::max(plan.waves, plan.wave[r]);
    }
  }
  return plan;
}

// Decodes one chunk of prompts (indices into `prompts`) into `results`.
absl::Status DecodeChunk(const LlamaForCausalLMImpl& model, const LoraAdapter* adapter,
                         const std::vector<std::vector<int64_t>>& prompts,
                         const std::vector<size_t>& chunk, const DecodeOptions& options,
                         std::vector<DecodeResult>& results) {
  const at::Device device = model.options().device;
  const int64_t vocab = model.config().vocab_size;
  const int64_t b = static_cast<int64_t>(chunk.size());
  int64_t max_len = 0;
  for (size_t i : chunk) max_len = std::max<int64_t>(max_len, prompts[i].size());

  // Left-padded prompt batch and its mask, built on the CPU.
  at::Tensor tokens = at::full({b, max_len}, options.pad_token_id, at::kLong);  // (B, L)
  at::Tensor mask = at::zeros({b, max_len}, at::kLong);                         // (B, L)
  for (int64_t r = 0; r < b; ++r) {
    const std::vector<int64_t>& p = prompts[chunk[r]];
    const int64_t pad = max_len - static_cast<int64_t>(p.size());
    std::copy(p.begin(), p.end(), tokens[r].data_ptr<int64_t>() + pad);
    mask[r].narrow(0, pad, static_cast<int64_t>(p.size())).fill_(1);
    results[chunk[r]].prompt_tokens = static_cast<int64_t>(p.size());
  }

  // The trunk: the direct float32 CPU path (packed rows, each with its own cache) where it applies,
  // else the libtorch model over a left-padded batch and a KvCache.
  std::unique_ptr<CpuDecoder> direct;
  std::unique_ptr<KvCache> cache;
  if (options.direct_cpu && CpuDecoder::Supports(model, adapter)) {
    std::vector<int64_t> capacities;
    for (size_t i : chunk) {
      capacities.push_back(static_cast<int64_t>(prompts[i].size()) + options.max_new_tokens);
    }
    direct = std::make_unique<CpuDecoder>(model, adapter, capacities);
  } else {
    cache = std::make_unique<KvCache>(model.config(), b, max_len + options.max_new_tokens,
                                      model.options().tensor_options());
  }
  // The prefill, in pieces along time when the batch is large (see DecodeOptions).
  int64_t piece = max_len;
  if (options.prefill_chunk_tokens > 0 && b * max_len > options.prefill_chunk_tokens) {
    piece = std::max<int64_t>(1, options.prefill_chunk_tokens / b);
  }
  // The last position's final hidden state, (B, C): one LM-head product per step follows, over the
  // whole vocabulary or only over the tokens the constraint allows.
  auto last_hidden = [&](const at::Tensor& step_tokens, const at::Tensor& step_mask) {
    const at::Tensor h = model.Hidden(step_tokens, step_mask, adapter, cache.get());  // (B, T, C)
    return h.select(1, h.size(1) - 1);                                                // (B, C)
  };
  at::Tensor hidden;  // (B, C)
  if (direct != nullptr) {
    // Prompts that share a long prefix with an earlier prompt of the chunk copy its cache (see
    // DecodeOptions::share_prefix_tokens) and prefill from there, in waves: a prompt's wave is one
    // after its source's, so every source is complete when it is copied.
    const PrefixPlan plan = PlanSharedPrefixes(prompts, chunk, options.share_prefix_tokens);
    for (int wave = 0; wave <= plan.waves; ++wave) {
      int64_t longest = 0;  // the wave's longest remainder
      for (int64_t r = 0; r < b; ++r) {
        if (plan.wave[r] != wave) continue;
        if (plan.shared[r] > 0) direct->CopyPrefix(plan.source[r], r, plan.shared[r]);
        longest = std::max<int64_t>(longest, prompts[chunk[r]].size() - plan.shared[r]);
      }
      const int64_t wave_piece = piece < max_len ? piece : longest;
      for (int64_t start = 0; start < longest; start += wave_piece) {
        if ((wave > 0 || start > 0) && options.is_cancelled && options.is_cancelled()) {
          return absl::CancelledError(
              absl::StrCat("decoding cancelled during the prefill, at token ", start, " of ",
                           longest, " (wave ", wave, ")"));
        }
        // Each row's own tokens [shared + start, shared + start + wave_piece) of its unpadded
        // prompt; shorter remainders end early and rows of other waves get nothing (a row given
        // nothing keeps its last hidden state).
        std::vector<std::vector<int64_t>> pieces(b);
        for (int64_t r = 0; r < b; ++r) {
          if (plan.wave[r] != wave) continue;
          const std::vector<int64_t>& p = prompts[chunk[r]];
          const int64_t size = static_cast<int64_t>(p.size());
          const int64_t from = std::min<int64_t>(plan.shared[r] + start, size);
          const int64_t to = std::min<int64_t>(plan.shared[r] + start + wave_piece, size);
          pieces[r].assign(p.begin() + from, p.begin() + to);
        }
        hidden = direct->Extend(pieces);  // (B, C), on the CPU like the model
      }
    }
  } else {
    for (int64_t start = 0; start < max_len; start += piece) {
      if (start > 0 && options.is_cancelled && options.is_cancelled()) {
        return absl::CancelledError(absl::StrCat("decoding cancelled during the prefill, at token ",
                                                 start, " of ", max_len));
      }
      const int64_t len = std::min(piece, max_len - start);
      hidden = last_hidden(tokens.narrow(1, start, len).to(device),
                           mask.narrow(1, start, len).to(device));  // (B, C)
    }
  }

  const std::set<int64_t> stops(options.stop_token_ids.begin(), options.stop_token_ids.end());
  const bool restricted = options.constraint != nullptr && options.restrict_to_allowed;
  std::vector<size_t> active = chunk;  // batch row -> prompt index
  for (int64_t step = 0; !active.empty(); ++step) {
    if (options.is_cancelled && options.is_cancelled()) {
      return absl::CancelledError(absl::StrCat("decoding cancelled after ", step, " steps"));
    }
    const int64_t rows = static_cast<int64_t>(active.size());
    // Columns of the step's logits: the whole vocabulary, or (restricted) the sorted union of the
    // rows' allowed tokens, column k standing for token columns[k].
    std::vector<int64_t> columns;
    std::vector<std::vector<int64_t>> allowed_ids(rows);
    std::vector<bool> constraint_ended(rows, false);
    if (options.constraint != nullptr) {
      for (int64_t r = 0; r < rows; ++r) {
        allowed_ids[r] = options.constraint->AllowedTokens(static_cast<int64_t>(active[r]),
                                                           results[active[r]].tokens);
        if (allowed_ids[r].empty()) constraint_ended[r] = true;
        for (int64_t id : allowed_ids[r]) {
          if (id < 0 || id >= vocab) {
            return absl::InvalidArgumentError(absl::StrCat(
                "the token constraint allowed ", id, ", outside the vocabulary [0, ", vocab, ")"));
          }
          if (restricted) columns.push_back(id);
        }
      }
      std::sort(columns.begin(), columns.end());
      columns.erase(std::unique(columns.begin(), columns.end()), columns.end());
      if (restricted && columns.empty()) columns.push_back(0);  // every row has ended
    }
    at::Tensor logits;  // (B, V) or (B, K) float32
    if (restricted) {
      logits = model.LogitsOver(hidden, at::tensor(columns, at::kLong).to(device), adapter);
    } else {
      logits = model.Logits(hidden, adapter);
    }
    const int64_t width = logits.size(1);
    at::Tensor scores = logits;  // (B, width)
    if (options.constraint != nullptr) {
      at::Tensor allowed = at::zeros({rows, width}, at::kBool);  // (B, width)
      for (int64_t r = 0; r < rows; ++r) {
        bool* row = allowed[r].data_ptr<bool>();
        for (int64_t id : allowed_ids[r]) {
          row[restricted ? std::lower_bound(columns.begin(), columns.end(), id) - columns.begin()
                         : id] = true;
        }
      }
      scores = logits.masked_fill(allowed.to(device).logical_not(),
                                  -std::numeric_limits<float>::infinity());
    }
    // The unconstrained model's log p over the whole vocabulary, or (restricted) log p
    // renormalised over the allowed tokens.
    const at::Tensor logprobs = at::log_softmax(restricted ? scores : logits, -1);     // (B, width)
    const at::Tensor next = scores.argmax(-1);                                         // (B)
    const at::Tensor next_logprob = logprobs.gather(1, next.unsqueeze(1)).squeeze(1);  // (B)
    at::Tensor next_cpu = next.to(at::kCPU);
    if (restricted) {
      int64_t* col = next_cpu.data_ptr<int64_t>();
      for (int64_t r = 0; r < rows; ++r) col[r] = columns[col[r]];
    }
    const at::Tensor logprob_cpu = next_logprob.to(at::kCPU, at::kDouble);
    const int64_t* next_ids = next_cpu.data_ptr<int64_t>();
    const double* lp = logprob_cpu.data_ptr<double>();

    std::vector<int64_t> keep;
    for (int64_t r = 0; r < rows; ++r) {
      DecodeResult& res = results[active[r]];
      if (constraint_ended[r]) {
        res.finish_reason = FinishReason::kConstraint;
        continue;
      }
      const int64_t id = next_ids[r];
      res.generated_tokens += 1;
      res.sum_logprob += lp[r];
      if (stops.count(id) != 0) {
        res.finish_reason = FinishReason::kStopToken;
        res.stop_token = id;
        continue;
      }
      res.tokens.push_back(id);
      if (res.generated_tokens >= options.max_new_tokens) {
        res.finish_reason = FinishReason::kMaxNewTokens;
        continue;
      }
      keep.push_back(r);
    }
    if (keep.empty()) break;

    at::Tensor step_tokens = next_cpu.view({rows, 1});  // (B, 1)
    if (static_cast<int64_t>(keep.size()) < rows) {
      const at::Tensor rows_kept = at::tensor(keep, at::kLong);
      if (direct != nullptr) {
        direct->KeepRows(keep);
      } else {
        cache->KeepRows(rows_kept);
      }
      step_tokens = step_tokens.index_select(0, rows_kept);  // (B', 1)
      std::vector<size_t> still;
      for (int64_t r : keep) still.push_back(active[r]);
      active = std::move(still);
    }
    if (direct != nullptr) {
      const int64_t* ids = step_tokens.data_ptr<int64_t>();
      std::vector<std::vector<int64_t>> next_tokens(step_tokens.size(0));
      for (size_t r = 0; r < next_tokens.size(); ++r) next_tokens[r] = {ids[r]};
      hidden = direct->Extend(next_tokens);  // (B', C)
    } else {
      hidden = last_hidden(step_tokens.to(device), /*attention_mask=*/{});  // (B', C)
    }
  }
  return absl::OkStatus();
}

// Calls batch(start, end) for [start, end) = consecutive slices of [0, n) of at most
// max_batch_size positions, in inference mode. is_cancelled is polled before every batch and,
// through a ScopedForwardInterrupt, before every decoder block of every forward pass (a long
// prefill stops within one block); a libtorch exception becomes Internal("<what>: ...").
template <typename Batch>
absl::Status InBatches(size_t n, int64_t max_batch_size, const std::function<bool()>& is_cancelled,
                       const char* cancelled_message, const char* what, Batch&& batch) {
  try {
    c10::InferenceMode inference;
    const ScopedForwardInterrupt interrupt(is_cancelled);
    for (size_t start = 0; start < n; start += max_batch_size) {
      if (is_cancelled && is_cancelled()) return absl::CancelledError(cancelled_message);
      const size_t end = std::min(n, start + static_cast<size_t>(max_batch_size));
      ARC_RETURN_IF_ERROR(batch(start, end));
    }
  } catch (const ForwardInterrupted&) {
    return absl::CancelledError(absl::StrCat(what, " cancelled in a forward pass"));
  } catch (const c10::Error& e) {
    return absl::InternalError(absl::StrCat(what, ": ", e.what_without_backtrace()));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<DecodeResult>> GreedyDecode(
    const LlamaForCausalLMImpl& model, const LoraAdapter* adapter,
    const std::vector<std::vector<int64_t>>& prompts, const DecodeOptions& options) {
  const int64_t vocab = model.config().vocab_size;
  if (options.max_new_tokens <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_new_tokens must be positive, got ", options.max_new_tokens));
  }
  if (options.max_batch_size <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_batch_size must be positive, got ", options.max_batch_size));
  }
  ARC_RETURN_IF_ERROR(CheckTokenId("pad_token_id", options.pad_token_id, vocab));
  for (int64_t id : options.stop_token_ids) {
    ARC_RETURN_IF_ERROR(CheckTokenId("stop token", id, vocab));
  }
  std::vector<int64_t> lengths;
  for (size_t i = 0; i < prompts.size(); ++i) {
    if (prompts[i].empty())
      return absl::InvalidArgumentError(absl::StrCat("prompt ", i, " is empty"));
    ARC_RETURN_IF_ERROR(CheckTokens(prompts[i], vocab, "prompt", i));
    lengths.push_back(static_cast<int64_t>(prompts[i].size()));
  }

  std::vector<DecodeResult> results(prompts.size());
  const std::vector<size_t> order = LongestFirst(lengths);
  ARC_RETURN_IF_ERROR(
      InBatches(order.size(), options.max_batch_size, options.is_cancelled,
                "decoding cancelled before a batch", "decoding", [&](size_t start, size_t end) {
                  const std::vector<size_t> chunk(order.begin() + start, order.begin() + end);
                  return DecodeChunk(model, adapter, prompts, chunk, options, results);
                }));
  return results;
}

absl::StatusOr<std::vector<double>> ScoreContinuations(const LlamaForCausalLMImpl& model,
                                                       const LoraAdapter* adapter,
                                                       const std::vector<ScoreRequest>& requests,
                                                       const ScoreOptions& options) {
  const int64_t vocab = model.config().vocab_size;
  if (options.max_batch_size <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_batch_size must be positive, got ", options.max_batch_size));
  }
  ARC_RETURN_IF_ERROR(CheckTokenId("pad_token_id", options.pad_token_id, vocab));
  std::vector<int64_t> lengths;
  for (size_t i = 0; i < requests.size(); ++i) {
    if (requests[i].prompt.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("request ", i, " has an empty prompt"));
    }
    ARC_RETURN_IF_ERROR(CheckTokens(requests[i].prompt, vocab, "request prompt", i));
    ARC_RETURN_IF_ERROR(CheckTokens(requests[i].continuation, vocab, "request continuation", i));
    lengths.push_back(
        static_cast<int64_t>(requests[i].prompt.size() + requests[i].continuation.size()));
  }

  std::vector<double> scores(requests.size(), 0.0);
  const std::vector<size_t> order = LongestFirst(lengths);
  const at::Device device = model.options().device;
  ARC_RETURN_IF_ERROR(InBatches(
      order.size(), options.max_batch_size, options.is_cancelled, "scoring cancelled", "scoring",
      [&](size_t start, size_t end) -> absl::Status {
        const int64_t b = static_cast<int64_t>(end - start);
        const int64_t t = lengths[order[start]];  // longest first
        at::Tensor tokens =
            at::full({b, t}, options.pad_token_id, at::kLong);  // (B, T) right-padded
        std::vector<int64_t> rows, targets, owner;  // flat position b*T + p predicts targets[i]
        for (int64_t r = 0; r < b; ++r) {
          const ScoreRequest& req = requests[order[start + r]];
          int64_t* row = tokens[r].data_ptr<int64_t>();
          std::copy(req.prompt.begin(), req.prompt.end(), row);
          std::copy(req.continuation.begin(), req.continuation.end(), row + req.prompt.size());
          const int64_t p0 = static_cast<int64_t>(req.prompt.size());
          for (size_t k = 0; k < req.continuation.size(); ++k) {
            rows.push_back(r * t + p0 - 1 + static_cast<int64_t>(k));
            targets.push_back(req.continuation[k]);
            owner.push_back(static_cast<int64_t>(order[start + r]));
          }
        }
        if (rows.empty()) return absl::OkStatus();
        const at::Tensor hidden = model.Hidden(tokens.to(device), {}, adapter);  // (B, T, C)
        const at::Tensor picked =
            hidden.reshape({b * t, hidden.size(2)})
                .index_select(0, at::tensor(rows, at::kLong).to(device));                // (N, C)
        const at::Tensor logprobs = at::log_softmax(model.Logits(picked, adapter), -1);  // (N, V)
        const at::Tensor chosen =
            logprobs.gather(1, at::tensor(targets, at::kLong).to(device).unsqueeze(1))
                .squeeze(1);  // (N)
        const at::Tensor chosen_cpu = chosen.to(at::kCPU, at::kDouble);
        const double* lp = chosen_cpu.data_ptr<double>();
        for (size_t i = 0; i < owner.size(); ++i) scores[owner[i]] += lp[i];
        return absl::OkStatus();
      }));
  return scores;
}

}  // namespace arc
