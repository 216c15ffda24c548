// arc-bench: throughput of the model layer on this machine.
//
//   arc-bench [--threads N] [--seq_len 64] [--new_tokens 32] [--batches 1,16]
//             [--configs golden,small-kv4] [--min_seconds 0.5] [--attention_block_elements N]
//             [--json]
//
// For each model configuration and batch size it measures
//   forward  logits for (B, seq_len) tokens under InferenceMode,
//   train    one LoRA training step (forward, cross-entropy, backward, AdamW: TrainStep of
//            core/model/training.h, the step TTT runs) on (B, seq_len); --direct_cpu=false runs it
//            through autograd instead of core/model/cpu_trainer.h,
//   decode   GreedyDecode of B prompts of seq_len/2 tokens for new_tokens tokens (prefill included
//            in the time, only generated tokens counted; --direct_cpu=false: the libtorch path
//            instead of core/model/cpu_decoder.h),
// in tokens per second and achieved GFLOP/s, next to the float32 matrix-product peak measured in
// the same run (a square at::mm). FLOP counts are the dense model's
// (ModelConfig::ForwardFlopsPerToken, 2 per multiply-add); a training step counts as 2x the forward
// (the forward plus the backward's input gradients; frozen base weights need no weight gradients),
// LoRA's own work ignored.
//
// Each row also reports the process's peak resident memory during that row (Linux: VmHWM, reset
// before the row through /proc/self/clear_refs), so a long --seq_len shows what a training step or
// a decode costs in memory.
//
// Configurations: any name of NamedModelConfigs() (core/model/model_config.h) or the path of a
// config.json (e.g. models/default/config.json), with a 4096-token context; by default golden (the golden-test shape: 2 layers, hidden 64, 4 heads, 2 KV heads,
// intermediate 128, vocab 20) and small-kv4 (~4.4M parameters: 6 layers, hidden 256, 8 heads, 4 KV
// heads, intermediate 704, vocab 16). Weights are seeded random (speed does not depend on their
// values).
#include <c10/core/InferenceMode.h>
#include <torch/utils.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "core/model/cpu_trainer.h"
#include "core/model/decode.h"
#include "core/model/llama.h"
#include "core/model/lora.h"
#include "core/model/model_config.h"
#include "core/model/training.h"
#include "nlohmann/json.hpp"
#include "tools/flags/heap.h"
#include "tools/flags/usage.h"

ABSL_FLAG(int, threads, static_cast<int>(std::max(1u, std::thread::hardware_concurrency())),
          "intra-op threads for libtorch (torch::set_num_threads)");
ABSL_FLAG(int, seq_len, 64, "tokens per sequence for forward and train");
ABSL_FLAG(int, new_tokens, 32, "tokens generated per sequence in the decode measurement");
ABSL_FLAG(std::string, batches, "1,16", "comma-separated batch sizes");
ABSL_FLAG(std::string, configs, "golden,small-kv4",
          absl::StrCat("comma-separated names of: ", arc::ModelConfigNames(),
                       ", WxL (width x layers, as arc-train --preset), or paths of config.json "
                       "files"));
ABSL_FLAG(double, min_seconds, 0.5, "minimum measuring time per row");
ABSL_FLAG(int, matmul_size, 1024, "side of the square float32 matmul that measures the peak");
ABSL_FLAG(bool, json, false, "print JSON instead of the table");
ABSL_FLAG(std::string, phases, "forward,train,decode",
          "comma-separated phases to measure: forward, train, decode");
ABSL_FLAG(bool, keep_freed_memory, true,
          "keep freed memory in the heap, as arc-solve, arc-server and arc-train do by default "
          "(tools/flags/heap.h); each row starts from a trimmed heap so its peak MB is its own");
ABSL_FLAG(bool, direct_cpu, true,
          "decode and train a float32 CPU model through the direct BLAS paths "
          "(core/model/cpu_decoder.h, core/model/cpu_trainer.h); false: through libtorch "
          "operations and autograd, as before they existed");
ABSL_FLAG(int64_t, attention_block_elements, arc::ModelOptions().attention_block_elements,
          "score elements per attention block (core/model/attention.h); a huge value computes "
          "each layer's attention in one block");

namespace arc {
namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

// Mean seconds per call of `fn` after one warm-up call, over at least 2 calls and min_seconds.
double TimePerCall(const std::function<void()>& fn) {
  fn();
  const double min_seconds = absl::GetFlag(FLAGS_min_seconds);
  int calls = 0;
  const Clock::time_point start = Clock::now();
  double elapsed = 0;
  while (calls < 2 || elapsed < min_seconds) {
    fn();
    ++calls;
    elapsed = Seconds(start, Clock::now());
  }
  return elapsed / calls;
}

// Returns the heap's free pages (so a row's peak does not include what earlier rows left in a kept
// heap), then resets the process's peak resident set (VmHWM) to its current size; false where
// unsupported.
bool ResetPeakRss() {
  ReleaseFreedMemory();
  std::ofstream clear("/proc/self/clear_refs");
  clear << "5";
  clear.flush();
  return clear.good();
}

// VmHWM in bytes (0 where /proc is missing).
int64_t PeakRssBytes() {
  std::ifstream status("/proc/self/status");
  std::string key;
  while (status >> key) {
    if (key == "VmHWM:") {
      int64_t kb = 0;
      status >> kb;
      return kb * 1024;
    }
    status.ignore(1 << 20, '\n');
  }
  return 0;
}

double MatmulPeakGflops(int n) {
  c10::InferenceMode guard;
  const at::Tensor a = at::rand({n, n}), b = at::rand({n, n});
  at::Tensor c = at::empty({n, n});
  const double s = TimePerCall([&] { at::mm_out(c, a, b); });
  return 2.0 * n * n * static_cast<double>(n) / s / 1e9;
}

struct Row {
  std::string config;
  int64_t params = 0;
  int64_t batch = 0;
  std::string phase;
  double tokens_per_second = 0;
  double gflops = 0;
  int64_t peak_rss_bytes = 0;  // the process's peak resident memory during the row
};

// Whether --phases names `phase`.
bool Measure(absl::string_view phase) {
  for (absl::string_view p : absl::StrSplit(absl::GetFlag(FLAGS_phases), ',')) {
    if (p == phase) return true;
  }
  return false;
}

// Sum of forward FLOPs for `tokens` positions starting at context `start` (attention over a
// growing context).
double FlopsForSpan(const ModelConfig& c, int64_t start, int64_t tokens) {
  double total = 0;
  for (int64_t t = 0; t < tokens; ++t) total += c.ForwardFlopsPerToken(start + t + 1);
  return total;
}

std::vector<Row> BenchConfig(const std::string& name, ModelConfig config,
                             const std::vector<int64_t>& batches) {
  config.max_position_embeddings = 4096;  // room for any --seq_len + --new_tokens up to 4096
  ModelOptions model_options;
  model_options.attention_block_elements = absl::GetFlag(FLAGS_attention_block_elements);
  LlamaForCausalLM model = CreateLlama(config, model_options).value();
  model->InitializeWeights(/*seed=*/1);
  const int64_t t = absl::GetFlag(FLAGS_seq_len), new_tokens = absl::GetFlag(FLAGS_new_tokens);
  std::vector<Row> rows;
  for (int64_t b : batches) {
    const at::Tensor tokens = at::randint(config.vocab_size, {b, t}, at::kLong);
    const double forward_flops = b * FlopsForSpan(config, 0, t);

    if (Measure("forward")) {  // forward
      ResetPeakRss();
      c10::InferenceMode guard;
      const double s = TimePerCall([&] { model->forward(tokens); });
      rows.push_back({name, config.NumParameters(), b, "forward", b * t / s,
                      forward_flops / s / 1e9, PeakRssBytes()});
    }
    if (Measure("train")) {  // LoRA training step, MIT targets (q, v, gate, up, down), rank 8
      ResetPeakRss();
      LoraConfig lc;
      lc.rank = 8;
      lc.targets = {ProjectionKind::kQ, ProjectionKind::kV, ProjectionKind::kGate,
                    ProjectionKind::kUp, ProjectionKind::kDown};
      auto adapter = LoraAdapter::Create(config, lc).value();
      // The step TTT runs (core/model/training.h): every position but the last predicts the next
      // token (the loss of torch_eager_bench.py), AdamW over the adapter.
      std::vector<RenderedPrompt> samples(b);
      const int64_t* ids = tokens.data_ptr<int64_t>();
      for (int64_t i = 0; i < b; ++i) {
        samples[i].ids.assign(ids + i * t, ids + (i + 1) * t);
        samples[i].loss_mask.assign(t, 1);
      }
      std::vector<const RenderedPrompt*> sample_ptrs;
      for (const RenderedPrompt& p : samples) sample_ptrs.push_back(&p);
      const std::vector<TrainingBatch> batch = {MakeTrainingBatch(sample_ptrs, /*pad_id=*/0)};
      std::map<std::string, at::Tensor> params;
      for (const auto& [pname, tensor] : adapter->NamedParameters()) params.emplace(pname, tensor);
      AdamW optimizer(params, AdamWOptions{});
      std::unique_ptr<CpuLoraTrainer> direct;
      if (absl::GetFlag(FLAGS_direct_cpu) && CpuLoraTrainer::Supports(*model, adapter.get())) {
        direct = std::make_unique<CpuLoraTrainer>(*model, *adapter);
      }
      TrainStepOptions step;
      step.learning_rate = 1e-4;
      step.direct = direct.get();
      const double s =
          TimePerCall([&] { TrainStep(*model, adapter.get(), optimizer, batch, step).value(); });
      rows.push_back({name, config.NumParameters(), b, "train", b * t / s,
                      2 * forward_flops / s / 1e9, PeakRssBytes()});
    }
    if (Measure("decode")) {  // greedy decoding
      ResetPeakRss();
      const int64_t p = std::max<int64_t>(1, t / 2);
      std::vector<std::vector<int64_t>> prompts(b, std::vector<int64_t>(p));
      for (int64_t i = 0; i < b; ++i) {
        for (int64_t k = 0; k < p; ++k) prompts[i][k] = (i * 7 + k * 3) % config.vocab_size;
      }
      DecodeOptions options;
      options.max_new_tokens = new_tokens;
      options.max_batch_size = b;
      options.direct_cpu = absl::GetFlag(FLAGS_direct_cpu);
      const double s =
          TimePerCall([&] { GreedyDecode(*model, nullptr, prompts, options).value(); });
      const double flops =
          b * (FlopsForSpan(config, 0, p) + FlopsForSpan(config, p, new_tokens - 1));
      rows.push_back({name, config.NumParameters(), b, "decode", b * new_tokens / s,
                      flops / s / 1e9, PeakRssBytes()});
    }
  }
  return rows;
}

int Main() {
  if (absl::GetFlag(FLAGS_keep_freed_memory)) KeepFreedMemory();
  const int threads = absl::GetFlag(FLAGS_threads);
  torch::set_num_threads(threads);
  std::vector<int64_t> batches;
  for (absl::string_view s : absl::StrSplit(absl::GetFlag(FLAGS_batches), ',')) {
    int64_t b = 0;
    if (!absl::SimpleAtoi(s, &b) || b <= 0 || b > 4096) {
      std::cerr << "arc-bench: --batches: \"" << s << "\" is not a batch size in [1, 4096]\n";
      return 2;
    }
    batches.push_back(b);
  }
  for (absl::string_view p : absl::StrSplit(absl::GetFlag(FLAGS_phases), ',')) {
    if (p != "forward" && p != "train" && p != "decode") {
      std::cerr << "arc-bench: --phases: unknown phase \"" << p
                << "\" (known: forward, train, decode)\n";
      return 2;
    }
  }
  const double peak = MatmulPeakGflops(absl::GetFlag(FLAGS_matmul_size));
  std::vector<Row> rows;
  for (absl::string_view name : absl::StrSplit(absl::GetFlag(FLAGS_configs), ',')) {
    absl::StatusOr<ModelConfig> config =
        absl::EndsWith(name, ".json") ? LoadModelConfig(std::string(name))
                                      : FindModelConfig(name, "--configs");
    if (!config.ok() && !absl::EndsWith(name, ".json") && absl::StrContains(name, 'x')) {
      config = WidthLayersConfig(name, "--configs");
    }
    if (!config.ok()) {
      std::cerr << "arc-bench: " << config.status().message() << "\n";
      return 2;
    }
    for (const Row& r : BenchConfig(std::string(name), *config, batches)) rows.push_back(r);
  }

  if (absl::GetFlag(FLAGS_json)) {
    nlohmann::json j = {{"threads", threads},
                        {"seq_len", absl::GetFlag(FLAGS_seq_len)},
                        {"new_tokens", absl::GetFlag(FLAGS_new_tokens)},
                        {"matmul_peak_gflops", peak},
                        {"rows", nlohmann::json::array()}};
    for (const Row& r : rows) {
      j["rows"].push_back({{"config", r.config},
                           {"params", r.params},
                           {"batch", r.batch},
                           {"phase", r.phase},
                           {"tokens_per_second", r.tokens_per_second},
                           {"gflops", r.gflops},
                           {"peak_rss_bytes", r.peak_rss_bytes}});
    }
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  std::cout << absl::StrFormat(
      "arc-bench: %d threads, seq_len %d, new_tokens %d; float32 matmul peak (%d^3) %.1f GFLOP/s\n",
      threads, absl::GetFlag(FLAGS_seq_len), absl::GetFlag(FLAGS_new_tokens),
      absl::GetFlag(FLAGS_matmul_size), peak);
  std::cout << absl::StrFormat("%-9s %10s %6s %-8s %12s %9s %7s %9s\n", "config", "params",
                               "batch", "phase", "tokens/s", "GFLOP/s", "%peak", "peak MB");
  for (const Row& r : rows) {
    std::cout << absl::StrFormat("%-9s %10d %6d %-8s %12.0f %9.2f %6.1f%% %9.1f\n", r.config,
                                 r.params, r.batch, r.phase, r.tokens_per_second, r.gflops,
                                 100.0 * r.gflops / peak, r.peak_rss_bytes / 1048576.0);
  }
  return 0;
}

}  // namespace
}  // namespace arc

int main(int argc, char** argv) {
  const arc::ToolHelp help{
      "arc-bench",
      "measures the model layer's throughput on this machine: for each configuration and batch "
      "size, the forward pass, one LoRA training step and greedy decoding, in tokens per second "
      "and GFLOP/s, next to the float32 matrix-product peak measured in the same run. Weights are "
      "seeded random; no model directory is read.",
      "arc-bench [--configs golden,small-kv4] [--batches 1,16] [--threads N] [--seq_len 64] "
      "[--new_tokens 32] [--min_seconds 0.5] [--attention_block_elements N] "
      "[--phases forward,train,decode] [--direct_cpu=false] [--keep_freed_memory=false] [--json]",
      {},
      {},
      absl::StrCat("configurations:\n", arc::ModelConfigHelp())};
  if (!arc::ParseFlagsOnlyCommandLine(argc, argv, help)) return 2;
  return arc::Main();
}
