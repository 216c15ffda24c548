// model-dir-bench: what serving one model directory costs on this machine, phase by phase, the way
// the solver runs it (bench/llama1b.sh runs it on the llama-3.2-1b preset).
//
//   model-dir-bench --model DIR --task FILE [--dtype auto] [--threads N] [--ttt_steps 3]
//                   [--ttt_samples 8] [--views 4] [--new_tokens 24] [--json]
//
//   load     LoadArcModel (config, shards, tokenizer, finite check): seconds, the weights' bytes on
//            disk and in memory, resident memory after it
//   ttt      TrainAdapter over the task's real TTT samples (BuildTttData with the directory's
//            solve options, e.g. the marc preset: rank 128 on q, v, gate, up, down, lm_head):
//            seconds of the first step and per later step, trained tokens per second
//   prefill  one forward over `views` copies of the task's inference prompt (all demonstrations +
//            the test input): prompt tokens per second
//   decode   GreedyDecode of those prompts for new_tokens steps over the grid grammar's tokens
//            (GridTokens below), once with each step's LM head restricted to the allowed tokens and
//            once over the full vocabulary: generated tokens per second (a one-step decode's time,
//            the prefill, taken out), and whether the two produced the same tokens
//   peak     the process's peak resident memory (VmHWM) against the weights' bytes
#include <c10/core/InferenceMode.h>
#include <torch/utils.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/data/task_io.h"
#include "core/model/arc_model.h"
#include "core/model/decode.h"
#include "core/model/lora.h"
#include "core/solve/options.h"
#include "core/solve/ttt.h"
#include "core/solve/ttt_data.h"
#include "nlohmann/json.hpp"
#include "tools/flags/usage.h"

ABSL_FLAG(std::string, model, "", "model directory (required)");
ABSL_FLAG(std::string, task, "", "ARC task file whose TTT samples and prompt are used (required)");
ABSL_FLAG(std::string, dtype, "auto", "auto, float32 or bfloat16 (as arc-server --dtype)");
ABSL_FLAG(int, threads, static_cast<int>(std::max(1u, std::thread::hardware_concurrency())),
          "intra-op threads for libtorch");
ABSL_FLAG(int, ttt_steps, 3,
          "TTT optimizer steps measured (the first is reported apart); 0 skips TTT");
ABSL_FLAG(int, ttt_samples, 8, "TTT samples built from the task (the batch size is the model's)");
ABSL_FLAG(int, views, 4, "prompts decoded together");
ABSL_FLAG(int, new_tokens, 24, "tokens generated per prompt at most");
ABSL_FLAG(bool, json, false, "print JSON instead of the table");

namespace arc {
namespace {

using Clock = std::chrono::steady_clock;

double Since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// A field of /proc/self/status in bytes (VmRSS, VmHWM), 0 when unreadable.
int64_t StatusBytes(const std::string& field) {
  std::ifstream in("/proc/self/status");
  std::string key;
  int64_t kb = 0;
  while (in >> key) {
    if (key == field + ":") {
      in >> kb;
      return kb * 1024;
    }
    std::getline(in, key);
  }
  return 0;
}

// Every token the format's grid grammar allows anywhere along `answer` (a real answer's tokens),
// stop tokens excluded: a random model decoding under the grammar itself ends its grids after a
// few tokens, so the decode measurement keeps it to the grammar's tokens (the same number of
// allowed columns per step) for exactly new_tokens steps.
class GridTokens final : public TokenConstraint {
 public:
  GridTokens(const PromptFormat& format, const std::vector<int>& answer) {
    std::set<int64_t> ids;
    for (size_t i = 0; i <= answer.size(); ++i) {
      absl::StatusOr<std::vector<int>> allowed =
          format.AllowedNextTokens(absl::MakeConstSpan(answer.data(), i));
      if (allowed.ok()) ids.insert(allowed->begin(), allowed->end());
    }
    for (int stop : format.StopTokens()) ids.erase(stop);
    ids_.assign(ids.begin(), ids.end());
  }
  std::vector<int64_t> AllowedTokens(int64_t, const std::vector<int64_t>&) const override {
    return ids_;
  }
  size_t size() const { return ids_.size(); }

 private:
  std::vector<int64_t> ids_;
};

int Fail(const std::string& message) {
  std::cerr << "model-dir-bench: " << message << "\n";
  return 1;
}

int Main() {
  const std::string dir = absl::GetFlag(FLAGS_model);
  const std::string task_path = absl::GetFlag(FLAGS_task);
  if (dir.empty()) return Fail("--model: required");
  if (task_path.empty()) return Fail("--task: required");
  if (absl::GetFlag(FLAGS_ttt_steps) < 0) {
    return Fail(absl::StrCat("--ttt_steps: ", absl::GetFlag(FLAGS_ttt_steps), " is negative"));
  }
  for (const auto& [flag, value] :
       {std::pair<const char*, int>{"ttt_samples", absl::GetFlag(FLAGS_ttt_samples)},
        {"views", absl::GetFlag(FLAGS_views)},
        {"new_tokens", absl::GetFlag(FLAGS_new_tokens)},
        {"threads", absl::GetFlag(FLAGS_threads)}}) {
    if (value < 1) return Fail(absl::StrCat("--", flag, ": ", value, " is not positive"));
  }
  torch::set_num_threads(absl::GetFlag(FLAGS_threads));
  absl::StatusOr<Task> task = ReadTaskFile(task_path);
  if (!task.ok()) return Fail(absl::StrCat("--task: ", task.status().message()));

  // Load.
  ModelOptions options;
  absl::StatusOr<at::ScalarType> dtype =
      ChooseModelDtype(dir, absl::GetFlag(FLAGS_dtype), options.device);
  if (!dtype.ok()) return Fail(absl::StrCat("--dtype: ", dtype.status().message()));
  options.dtype = *dtype;
  const int64_t rss_before = StatusBytes("VmRSS");
  Clock::time_point t = Clock::now();
  absl::StatusOr<std::shared_ptr<const ArcModel>> loaded = LoadArcModel(dir, options);
  if (!loaded.ok()) return Fail(absl::StrCat("--model: ", loaded.status().ToString()));
  const ArcModel& model = **loaded;
  nlohmann::json out;
  out["load_seconds"] = Since(t);
  out["dtype"] = options.dtype == at::kBFloat16 ? "bfloat16" : "float32";
  out["parameters"] = model.NumParameters();
  int64_t memory_bytes = 0, disk_bytes = 0;
  for (const auto& [name, p] : model.net->StateDict()) memory_bytes += p.numel() * p.element_size();
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() == ".safetensors") disk_bytes += entry.file_size();
  }
  out["weights_bytes"] = memory_bytes;
  out["weights_bytes_on_disk"] = disk_bytes;
  out["rss_after_load_bytes"] = StatusBytes("VmRSS") - rss_before;
  out["peak_after_load_bytes"] = StatusBytes("VmHWM");

  // TTT over the task's own samples, with the directory's solve options (skipped with 0 steps).
  absl::StatusOr<SolveOptions> solve = LoadModelSolveOptions(dir);
  if (!solve.ok()) return Fail(solve.status().ToString());
  const PromptFormat& format = *model.format;
  if (absl::GetFlag(FLAGS_ttt_steps) > 0) {
    TttDataOptions data = solve->ttt_data;
    data.max_samples = absl::GetFlag(FLAGS_ttt_samples);
    absl::StatusOr<TttData> ttt_data = BuildTttData(*task, data, [&](const Task& s) {
      PromptInput in{s.train, s.test[0].input, s.test[0].output};
      absl::StatusOr<int> n = format.CountTokens(in);
      return n.ok() ? *n : 1 << 30;
    });
    if (!ttt_data.ok()) return Fail(ttt_data.status().ToString());
    std::vector<RenderedPrompt> samples;
    int64_t sample_tokens = 0;
    for (const TttSample& s : ttt_data->samples) {
      absl::StatusOr<RenderedPrompt> r = format.Render(
          {s.task.train, s.task.test[0].input, s.task.test[0].output}, solve->loss_mask);
      if (!r.ok()) return Fail(r.status().ToString());
      sample_tokens += static_cast<int64_t>(r->ids.size());
      samples.push_back(*std::move(r));
    }
    absl::StatusOr<std::unique_ptr<LoraAdapter>> adapter =
        LoraAdapter::Create(model.net->config(), solve->lora, options);
    if (!adapter.ok()) return Fail(adapter.status().ToString());
    TttTrainOptions train = solve->train;
    train.max_steps = absl::GetFlag(FLAGS_ttt_steps);
    std::vector<double> step_seconds;
    t = Clock::now();
    absl::StatusOr<TttTrainStats> stats = TrainAdapter(
        *model.net, **adapter, samples, train,
        [&](const TttProgress&) {
          step_seconds.push_back(Since(t));
          t = Clock::now();
        },
        nullptr);
    if (!stats.ok()) return Fail(stats.status().ToString());
    double later = 0;
    for (size_t i = 1; i < step_seconds.size(); ++i) later += step_seconds[i];
    out["ttt"] = {{"lora_rank", solve->lora.rank},
                  {"lora_parameters", (*adapter)->NumParameters()},
                  {"batch_size", train.batch_size},
                  {"samples", static_cast<int64_t>(samples.size())},
                  {"mean_sample_tokens", sample_tokens / std::max<int64_t>(1, samples.size())},
                  {"steps", stats->steps},
                  {"first_step_seconds", step_seconds.empty() ? 0.0 : step_seconds[0]},
                  {"seconds_per_step",
                   step_seconds.size() > 1 ? later / (step_seconds.size() - 1) : step_seconds[0]},
                  {"tokens_per_second", stats->tokens / stats->seconds},
                  {"first_loss", stats->first_loss},
                  {"last_loss", stats->last_loss}};
    adapter->reset();
  }

  // Prefill and decode over copies of the inference prompt.
  // The task's test input with its demonstrations; the answer only lends its tokens to GridTokens
  // (a demonstration's output stands in when the task file has no test output).
  const Grid answer_grid = task->test[0].output.value_or(task->train[0].output);
  absl::StatusOr<RenderedPrompt> rendered =
      format.Render({task->train, task->test[0].input, answer_grid});
  if (!rendered.ok()) return Fail(rendered.status().ToString());
  const std::vector<int64_t> prompt(rendered->ids.begin(),
                                    rendered->ids.begin() + rendered->prompt_length);
  const int views = absl::GetFlag(FLAGS_views);
  const std::vector<std::vector<int64_t>> prompts(views, prompt);
  double prefill_seconds = 0;
  {
    c10::InferenceMode guard;
    const at::Tensor tokens =
        at::tensor(prompt, at::kLong).unsqueeze(0).expand({views, -1}).contiguous();
    model.net->Hidden(tokens);           // warm-up
    for (int run = 0; run < 2; ++run) {  // the faster of two: the machine may be shared
      t = Clock::now();
      model.net->Hidden(tokens);
      prefill_seconds = run == 0 ? Since(t) : std::min(prefill_seconds, Since(t));
    }
  }
  out["prefill"] = {{"prompt_tokens", static_cast<int64_t>(prompt.size())},
                    {"views", views},
                    {"seconds", prefill_seconds},
                    {"tokens_per_second", views * prompt.size() / prefill_seconds}};
  const GridTokens grammar(format, std::vector<int>(rendered->ids.begin() + rendered->prompt_length,
                                                    rendered->ids.begin() + rendered->answer_end));
  out["decode_allowed_tokens"] = static_cast<int64_t>(grammar.size());
  DecodeOptions decode;
  decode.max_new_tokens = absl::GetFlag(FLAGS_new_tokens);
  decode.pad_token_id = format.tokenizer().pad_id();
  decode.max_batch_size = views;
  decode.constraint = &grammar;
  // Per mode: one decode of a single step (the prefill and one step) and one of new_tokens steps;
  // their difference is new_tokens - 1 steps of every row.
  std::vector<std::vector<int64_t>> outputs[2];
  for (bool restricted : {true, false}) {
    decode.restrict_to_allowed = restricted;
    double seconds[2] = {0, 0};
    for (int run = 0; run < 2; ++run) {
      decode.max_new_tokens = run == 0 ? 1 : absl::GetFlag(FLAGS_new_tokens);
      t = Clock::now();
      absl::StatusOr<std::vector<DecodeResult>> r =
          GreedyDecode(*model.net, nullptr, prompts, decode);
      seconds[run] = Since(t);
      if (!r.ok()) return Fail(r.status().ToString());
      if (run == 1) {
        for (const DecodeResult& d : *r) outputs[restricted ? 0 : 1].push_back(d.tokens);
      }
    }
    const int64_t steps = absl::GetFlag(FLAGS_new_tokens) - 1;
    out[restricted ? "decode_restricted" : "decode_full_vocabulary"] = {
        {"one_step_seconds", seconds[0]},
        {"seconds", seconds[1]},
        {"tokens_per_second",
         steps > 0 ? views * steps / std::max(1e-9, seconds[1] - seconds[0]) : 0.0}};
  }
  out["decode_same_tokens"] = outputs[0] == outputs[1];
  out["peak_rss_bytes"] = StatusBytes("VmHWM");
  out["peak_over_weights"] = static_cast<double>(StatusBytes("VmHWM")) / memory_bytes;

  if (absl::GetFlag(FLAGS_json)) {
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  const double gib = 1024.0 * 1024 * 1024;
  std::cout << absl::StrFormat(
      "model %s: %d parameters in %s, %.2f GiB of weights (%.2f GiB on disk)\n"
      "load                %.1f s, +%.2f GiB resident\n",
      dir, out["parameters"].get<int64_t>(), out["dtype"].get<std::string>(), memory_bytes / gib,
      disk_bytes / gib, out["load_seconds"].get<double>(),
      out["rss_after_load_bytes"].get<int64_t>() / gib);
  if (out.contains("ttt")) {
    const nlohmann::json& ttt = out["ttt"];
    std::cout << absl::StrFormat(
        "ttt (rank %d, batch %d, %d-token samples)  first step %.1f s, then %.1f s/step, "
        "%.0f tok/s\n",
        ttt["lora_rank"].get<int64_t>(), ttt["batch_size"].get<int64_t>(),
        ttt["mean_sample_tokens"].get<int64_t>(), ttt["first_step_seconds"].get<double>(),
        ttt["seconds_per_step"].get<double>(), ttt["tokens_per_second"].get<double>());
  }
  std::cout << absl::StrFormat(
      "prefill (%d x %d tokens)  %.1f tok/s\n"
      "decode (%d grid tokens allowed)  restricted %.2f tok/s, full vocabulary %.2f tok/s, "
      "same tokens: %s\n"
      "peak resident       %.2f GiB = %.2f x the weights\n",
      views, static_cast<int>(prompt.size()), out["prefill"]["tokens_per_second"].get<double>(),
      static_cast<int>(grammar.size()), out["decode_restricted"]["tokens_per_second"].get<double>(),
      out["decode_full_vocabulary"]["tokens_per_second"].get<double>(),
      out["decode_same_tokens"].get<bool>() ? "yes" : "no",
      out["peak_rss_bytes"].get<int64_t>() / gib, out["peak_over_weights"].get<double>());
  return 0;
}

}  // namespace
}  // namespace arc

int main(int argc, char** argv) {
  const arc::ToolHelp help{
      "model-dir-bench",
      "measures one model directory phase by phase as the solver runs it: load (seconds, memory), "
      "LoRA TTT steps on the task's own samples with the directory's solve options, prefill and "
      "grammar-constrained decoding (restricted and full-vocabulary LM head), peak resident "
      "memory against the weights' bytes.",
      "model-dir-bench --model DIR --task FILE [--dtype auto] [--threads N] [--ttt_steps 3] "
      "[--ttt_samples 8] [--views 4] [--new_tokens 24] [--json]",
      {},
      {},
      ""};
  if (!arc::ParseFlagsOnlyCommandLine(argc, argv, help)) return 2;
  return arc::Main();
}
