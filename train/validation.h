// Pretraining validation: fixed sets of samples (generated tasks of chosen families, ARC tasks) and
// the teacher-forced measures over them (loss per target token, answer-token loss and accuracy,
// exact answers). arc-train reports them every --eval_every steps (train/arc_train.h).
//
// Thread safety: no shared state; EvaluateSamples only reads the model (hold it for the call).
#ifndef ARC_TRAIN_VALIDATION_H_
#define ARC_TRAIN_VALIDATION_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/data/grid.h"
#include "core/model/llama.h"
#include "core/text/prompt_format.h"
#include "gen/generator.h"

namespace arc {

struct EvalStats {
  int samples = 0;
  int64_t loss_tokens = 0;
  double loss = 0;  // per loss token (kOutputsAfterFirst mask)
  int64_t answer_tokens = 0;
  double answer_loss = 0;            // per token of the target output (rows and stop token)
  double answer_token_accuracy = 0;  // argmax == target, teacher-forced
  int exact = 0;                     // samples whose every answer token is the argmax
};

// Teacher-forced loss over `samples` (batched by length under batch_tokens, right-padded with
// pad_id), without gradients. INVALID_ARGUMENT for a sample longer than batch_tokens; INTERNAL on
// a libtorch failure.
absl::StatusOr<EvalStats> EvaluateSamples(const LlamaForCausalLMImpl& net,
                                          const std::vector<RenderedPrompt>& samples,
                                          int64_t batch_tokens, int64_t pad_id);

// `count` generated tasks, task i = GenerateTask(families[i % n], TaskSeed(seed, i), difficulty).
// Errors are GenerateTask's.
absl::StatusOr<std::vector<Task>> GenerateTaskSet(const std::vector<std::string>& families,
                                                  uint64_t seed, int count,
                                                  const Difficulty& difficulty = {});

// One sample per test pair with a known output: the task's demonstrations in order, then that pair,
// no augmentation, demonstrations dropped from the end to fit max_seq_len (pairs that never fit
// are skipped).
absl::StatusOr<std::vector<RenderedPrompt>> MakeEvalSamples(const std::vector<Task>& tasks,
                                                            const PromptFormat& format,
                                                            int max_seq_len);

}  // namespace arc

#endif  // ARC_TRAIN_VALIDATION_H_
