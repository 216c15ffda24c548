#include "train/validation.h"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>
#include <c10/util/Exception.h>

#include <optional>

#include "absl/strings/str_cat.h"
#include "core/data/status_macros.h"
#include "core/model/training.h"
#include "train/length_batches.h"
#include "train/pretrain_data.h"

namespace arc {

absl::StatusOr<EvalStats> EvaluateSamples(const LlamaForCausalLMImpl& net,
                                          const std::vector<RenderedPrompt>& samples,
                                          int64_t batch_tokens, int64_t pad_id) {
  EvalStats out;
  if (samples.empty()) return out;
  std::vector<int> lengths;
  for (const RenderedPrompt& s : samples) lengths.push_back(static_cast<int>(s.ids.size()));
  ARC_ASSIGN_OR_RETURN(const std::vector<std::vector<int>> groups,
                       MakeLengthBatches(lengths, batch_tokens));
  std::vector<int> wrong_answer_tokens(samples.size(), 0);
  double loss_sum = 0, answer_loss_sum = 0;
  int64_t answer_correct = 0;
  try {
    at::NoGradGuard no_grad;
    const at::Device device = net.options().device;
    for (const std::vector<int>& g : groups) {
      std::vector<const RenderedPrompt*> rows;
      for (int i : g) rows.push_back(&samples[i]);
      const TrainingBatch batch = MakeTrainingBatch(rows, pad_id);
      if (batch.targets.size(0) == 0) continue;
      const at::Tensor logits = TargetLogits(net, /*adapter=*/nullptr, batch);  // (N, V)
      const at::Tensor targets = batch.targets.to(device);
      const at::Tensor losses = at::cross_entropy_loss(logits, targets, {}, at::Reduction::None)
                                    .to(at::kCPU)
                                    .contiguous();
      const at::Tensor correct = logits.argmax(-1).eq(targets).to(at::kCPU).contiguous();
      const float* l = losses.data_ptr<float>();
      const bool* c = correct.data_ptr<bool>();
      for (size_t n = 0; n < batch.row_of.size(); ++n) {
        loss_sum += l[n];
        ++out.loss_tokens;
        if (batch.answer[n]) {
          answer_loss_sum += l[n];
          ++out.answer_tokens;
          answer_correct += c[n];
          if (!c[n]) ++wrong_answer_tokens[g[batch.row_of[n]]];
        }
      }
    }
  } catch (const c10::Error& e) {
    return absl::InternalError(absl::StrCat("evaluation: libtorch: ", e.what_without_backtrace()));
  }
  out.samples = static_cast<int>(samples.size());
  for (size_t i = 0; i < samples.size(); ++i) {
    out.exact += samples[i].answer_end > samples[i].prompt_length && wrong_answer_tokens[i] == 0;
  }
  if (out.loss_tokens > 0) out.loss = loss_sum / out.loss_tokens;
  if (out.answer_tokens > 0) {
    out.answer_loss = answer_loss_sum / out.answer_tokens;
    out.answer_token_accuracy = static_cast<double>(answer_correct) / out.answer_tokens;
  }
  return out;
}

absl::StatusOr<std::vector<Task>> GenerateTaskSet(const std::vector<std::string>& families,
                                                  uint64_t seed, int count,
                                                  const Difficulty& difficulty) {
  if (families.empty()) return absl::InvalidArgumentError("families: empty");
  std::vector<Task> out;
  for (int i = 0; i < count; ++i) {
    ARC_ASSIGN_OR_RETURN(
        Task t, GenerateTask(families[i % families.size()], TaskSeed(seed, i), difficulty));
    out.push_back(std::move(t));
  }
  return out;
}

absl::StatusOr<std::vector<RenderedPrompt>> MakeEvalSamples(const std::vector<Task>& tasks,
                                                            const PromptFormat& format,
                                                            int max_seq_len) {
  std::vector<RenderedPrompt> out;
  for (const Task& task : tasks) {
    for (const TestCase& test : task.test) {
      if (!test.output.has_value()) continue;
      ARC_ASSIGN_OR_RETURN(
          std::optional<CappedPrompt> r,
          RenderWithinLength(format, task.train, Example{test.input, *test.output}, max_seq_len));
      if (r.has_value()) out.push_back(std::move(r->prompt));
    }
  }
  return out;
}

}  // namespace arc
