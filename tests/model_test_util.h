// Model configurations and model directories shared by the model-level and server tests, all
// taken from the one table of named configurations (core/model/model_config.h).
#ifndef ARC_TESTS_MODEL_TEST_UTIL_H_
#define ARC_TESTS_MODEL_TEST_UTIL_H_

#include <memory>
#include <string>
#include <utility>

#include "core/model/arc_model.h"
#include "core/model/model_config.h"
#include "core/text/tokenizer.h"

namespace arc::testing {

// The "golden" configuration (2 layers of width 64, 4 heads, 2 KV heads, MLP 128, a 20-token
// vocabulary) with tied or untied embeddings.
inline ModelConfig TinyModelConfig(bool tied = false) {
  ModelConfig c = FindModelConfig("golden", "TinyModelConfig").value();
  c.tie_word_embeddings = tied;
  return c;
}

// The named configuration `shape` over the compact tokenizer's vocabulary with its BOS and EOS (no
// PAD), rms_norm_eps 1e-6 and a context of `context` tokens: what the pipeline tests have always
// run on (their expectations were written against these numbers).
inline ModelConfig CompactTestConfig(const char* shape, int64_t context) {
  ModelConfig c = FindModelConfig(shape, "CompactTestConfig").value();
  c.vocab_size = kCompactVocabSize;
  c.rms_norm_eps = 1e-6;
  c.max_position_embeddings = context;
  c.bos_token_id = kCompactBos;
  c.eos_token_ids = {kCompactEos};
  c.pad_token_id.reset();
  return c;
}

// The golden shape as a compact-format model: a randomly initialised ArcModel for pipeline tests.
inline ModelConfig TinyCompactConfig(int64_t context = 512) {
  return CompactTestConfig("golden", context);
}

// A randomly initialised compact-format ArcModel of `config`.
inline std::shared_ptr<const ArcModel> RandomCompactModel(const ModelConfig& config, uint64_t seed,
                                                          const std::string& name) {
  LlamaForCausalLM net = CreateLlama(config).value();
  net->InitializeWeights(seed);
  return MakeArcModel(name, std::move(net), MakeCompactTokenizer(), "compact").value();
}

inline std::shared_ptr<const ArcModel> TinyCompactModel(uint64_t seed = 1, int64_t context = 512,
                                                        const std::string& name = "tiny") {
  return RandomCompactModel(TinyCompactConfig(context), seed, name);
}

}  // namespace arc::testing

#endif  // ARC_TESTS_MODEL_TEST_UTIL_H_
