#include "server/admission.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/model/lora.h"
#include "core/text/prompt_format.h"

namespace arc::server {
namespace {

constexpr int64_t kFixedJobBytes = int64_t{64} << 20;
constexpr int64_t kPrefillPieceTokens = 2048;  // DecodeOptions::prefill_chunk_tokens of inference

std::string Gib(int64_t bytes) { return absl::StrFormat("%.2f GiB", bytes / double(1 << 30)); }
std::string Millions(int64_t n) { return absl::StrFormat("%.1fM", n / 1e6); }

int64_t Tokens(const PromptFormat& format, const PromptInput& input, int64_t fallback) {
  absl::StatusOr<int> n = format.CountTokens(input);
  return n.ok() ? *n : fallback;
}

int64_t Binomial(int n, int k) {
  if (k < 0 || k > n) return 0;
  double r = 1;
  for (int i = 1; i <= k; ++i) r = r * (n - k + i) / i;
  return static_cast<int64_t>(std::llround(r));
}

// Input and output widths of a LoRA target.
std::pair<int64_t, int64_t> Widths(const ModelConfig& c, ProjectionKind kind) {
  const int64_t q = c.num_attention_heads * c.head_dim, kv = c.num_key_value_heads * c.head_dim;
  switch (kind) {
    case ProjectionKind::kQ: return {c.hidden_size, q};
    case ProjectionKind::kK:
    case ProjectionKind::kV: return {c.hidden_size, kv};
    case ProjectionKind::kO: return {q, c.hidden_size};
    case ProjectionKind::kGate:
    case ProjectionKind::kUp: return {c.hidden_size, c.intermediate_size};
    case ProjectionKind::kDown: return {c.intermediate_size, c.hidden_size};
    case ProjectionKind::kLmHead: return {c.hidden_size, c.vocab_size};
  }
  return {0, 0};
}

}  // namespace

std::string JobCost::Describe() const {
  return absl::StrFormat(
      "memory %s (train %s, inference %s), %s token-steps, step %.1f GFLOP (T=%d tokens per TTT "
      "sample, %d micro-batches, P=%d prompt tokens, N=%d new tokens, %d views)",
      Gib(bytes), Gib(train_bytes), Gib(infer_bytes), Millions(token_steps), step_gflop,
      train_tokens_per_sample, micro_batches, prompt_tokens, new_tokens, views);
}

JobCostModel::JobCostModel(std::shared_ptr<const ArcModel> model) : model_(std::move(model)) {
  for (const at::Tensor& p : model_->net->parameters()) {
    bytes_per_value_ = static_cast<int64_t>(p.element_size());
    break;
  }
}

JobCost JobCostModel::Estimate(const Task& task, const SolveOptions& o) const {
  const ModelConfig& c = model_->net->config();
  const PromptFormat& format = *model_->format;
  const int64_t ctx = model_->MaxSequenceLength();
  const int64_t bpv = bytes_per_value_;
  const int64_t L = c.num_hidden_layers, d = c.hidden_size, I = c.intermediate_size,
                H = c.num_attention_heads, Hkv = c.num_key_value_heads, D = c.head_dim;
  JobCost cost;
  if (o.experts == Experts::kSearch || task.train.empty()) {
    cost.bytes = kFixedJobBytes;
    return cost;
  }

  // T: every demonstration pair in one prompt (a leave-one-out sample's size).
  int max_side = 1;
  double ratio = 1;
  for (const Example& e : task.train) {
    max_side = std::max({max_side, e.output.rows(), e.output.cols()});
    ratio = std::max(ratio, double(std::max(e.output.rows(), e.output.cols())) /
                                std::max(1, std::max(e.input.rows(), e.input.cols())));
  }
  {
    PromptInput in;
    in.demonstrations.assign(task.train.begin(), task.train.end() - 1);
    in.query_input = task.train.back().input;
    in.query_output = task.train.back().output;
    int64_t t = Tokens(format, in, ctx);
    if (o.ttt_data.augment) t *= 4;  // IncreaseResolution doubles both sides of small grids
    cost.train_tokens_per_sample = std::min<int64_t>({t, ctx, o.ttt_data.max_tokens});
  }
  // P, N: the longest inference prompt and its answer budget.
  for (const TestCase& tc : task.test) {
    PromptInput in;
    in.demonstrations = task.train;
    in.query_input = tc.input;
    cost.prompt_tokens = std::max(cost.prompt_tokens, Tokens(format, in, ctx));
    max_side = std::max<int>(
        max_side, static_cast<int>(std::ceil(std::max(tc.input.rows(), tc.input.cols()) * ratio)));
  }
  max_side = std::min(max_side, kArcMaxSide);
  cost.prompt_tokens = std::min(cost.prompt_tokens, ctx);
  cost.new_tokens = o.inference.max_new_tokens > 0 ? o.inference.max_new_tokens
                                                   : format.AnswerTokens(max_side, max_side);
  cost.new_tokens = std::min(cost.new_tokens, std::max<int64_t>(1, ctx - cost.prompt_tokens));
  const int n = static_cast<int>(task.train.size());
  const int64_t subsets = std::max<int64_t>(1, Binomial(n, o.views.leave_out));
  const int64_t transforms = std::max<size_t>(1, o.views.transforms.size());
  cost.views = std::min<int64_t>(o.views.max_views,
                                 subsets * (1 + o.views.permutations) * transforms);

  // Training.
  const double T = static_cast<double>(cost.train_tokens_per_sample);
  const int64_t B = o.train.batch_size;
  double train_bytes = 0;
  if (o.ttt) {
    int64_t samples = o.ttt_data.max_samples;
    if (o.ttt_data.max_total_tokens > 0) {
      samples = std::min<int64_t>(samples, std::max<int64_t>(1, o.ttt_data.max_total_tokens /
                                                                  std::max<int64_t>(1, T)));
    }
    const int64_t per_epoch = (samples + B - 1) / B;
    cost.micro_batches = per_epoch * o.train.epochs;
    if (o.train.max_steps > 0) {
      cost.micro_batches =
          std::min<int64_t>(cost.micro_batches, int64_t{o.train.max_steps} * o.train.grad_accum);
    }
    cost.token_steps += static_cast<int64_t>(3 * cost.micro_batches * B * T);
    const double activations = double(bpv) * B * T * L * (16.0 * d + 6.0 * I + 2.0 * H * T);
    const double transient = double(bpv) * 3 * B * H * T * T;
    double trainable = 0;
    if (o.full_finetune) {
      trainable = static_cast<double>(c.NumParameters());
    } else {
      for (ProjectionKind kind : o.lora.targets) {
        const auto [in, out] = Widths(c, kind);
        trainable += double(o.lora.rank) * (in + out) * (kind == ProjectionKind::kLmHead ? 1 : L);
      }
    }
    train_bytes = activations + transient + 4.0 * bpv * trainable;
    // A forward pass stops before any decoder block once cancelled (core/model/interrupt.h), and
    // a LoRA backward at any adapter gradient (TrainStep's hooks): the unit is one block, or the
    // LM head. Full fine-tuning has no hooks: its whole backward (about twice a forward) counts.
    const double forward = B * T * c.ForwardFlopsPerToken(cost.train_tokens_per_sample / 2);
    const double head = B * T * 2.0 * d * static_cast<double>(c.vocab_size);
    const double block = (forward - head) / static_cast<double>(L);
    cost.step_gflop = (o.full_finetune ? 2.0 * forward : std::max(block, head)) / 1e9;
  }

  // Inference over the views, and the product-of-experts re-scoring.
  const double P = static_cast<double>(cost.prompt_tokens), N = static_cast<double>(cost.new_tokens);
  const int64_t b = std::min<int64_t>(o.inference.batch_size, cost.views);
  const int64_t scored = int64_t{o.selection.poe_top_k} * o.selection.poe_views;
  cost.token_steps += static_cast<int64_t>(task.test.size() * (cost.views + scored) * (P + N));
  // The prefill runs in pieces of about kPrefillPieceTokens over the batch (core/solve/
  // inference.cc): one piece's scores, b x H x piece-length x P, and activations are live at once.
  const double piece_tokens = std::min<double>(b * P, kPrefillPieceTokens);
  const double infer_bytes = double(bpv) * 2 * L * b * Hkv * D * (P + N) +
                             double(bpv) * 3 * H * piece_tokens * P +
                             double(bpv) * piece_tokens * (4.0 * d + I);
  // One decoder block of the last prefill piece, which attends to the whole prompt (the LM head
  // projects only the last position).
  const double piece_head = piece_tokens * 2.0 * d * static_cast<double>(c.vocab_size);
  cost.step_gflop = std::max(
      cost.step_gflop,
      (piece_tokens * c.ForwardFlopsPerToken(cost.prompt_tokens) - piece_head) / L / 1e9);

  cost.train_bytes = static_cast<int64_t>(train_bytes);
  cost.infer_bytes = static_cast<int64_t>(infer_bytes);
  cost.bytes = std::max(cost.train_bytes, cost.infer_bytes) + kFixedJobBytes;
  return cost;
}

absl::Status AdmitJobCost(const JobCost& cost, const CostLimits& limits) {
  if (cost.bytes > limits.max_job_bytes) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "job too large: estimated peak memory ", Gib(cost.bytes), " is above --max_job_memory_mb ",
        limits.max_job_bytes >> 20, " (", Gib(limits.max_job_bytes),
        "); lower ttt_batch_size, infer_batch_size, lora_rank or the task size. Estimate: ",
        cost.Describe()));
  }
  if (cost.token_steps > limits.max_job_token_steps) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "job too long: estimated ", Millions(cost.token_steps),
        " token-steps are above --max_job_token_steps ", Millions(limits.max_job_token_steps),
        "; lower ttt_max_samples, ttt_epochs, ttt_max_steps, views or max_new_tokens. Estimate: ",
        cost.Describe()));
  }
  if (cost.step_gflop > limits.max_step_gflop) {
    return absl::ResourceExhaustedError(absl::StrFormat(
        "job steps too large: one micro-batch or prefill batch is estimated at %.1f GFLOP, above "
        "--max_step_gflop %.1f (cancellation is checked between such steps); lower "
        "ttt_batch_size or infer_batch_size. Estimate: %s",
        cost.step_gflop, limits.max_step_gflop, cost.Describe()));
  }
  return absl::OkStatus();
}

}  // namespace arc::server
