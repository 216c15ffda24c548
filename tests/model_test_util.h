// Tiny model configurations and model directories shared by the model-level tests.
#ifndef ARC_TESTS_MODEL_TEST_UTIL_H_
#define ARC_TESTS_MODEL_TEST_UTIL_H_

#include <memory>
#include <string>
#include <utility>

#include "core/model/arc_model.h"
#include "core/model/model_config.h"
#include "core/text/tokenizer.h"

namespace arc::testing {

// The 2-layer, width-64 configuration (4 heads, 2 KV heads, MLP 128) over a 20-token vocabulary.
inline ModelConfig TinyModelConfig(bool tied = false) {
  ModelConfig c;
  c.vocab_size = 20;
  c.hidden_size = 64;
  c.intermediate_size = 128;
  c.num_hidden_layers = 2;
  c.num_attention_heads = 4;
  c.num_key_value_heads = 2;
  c.head_dim = 16;
  c.rms_norm_eps = 1e-5;
  c.tie_word_embeddings = tied;
  return c;
}

// The same shape over the compact tokenizer's vocabulary, with its BOS/EOS and a context of
// `context` tokens: a randomly initialised ArcModel for pipeline tests.
inline ModelConfig TinyCompactConfig(int64_t context = 512) {
  ModelConfig c = TinyModelConfig();
  c.vocab_size = kCompactVocabSize;
  c.rms_norm_eps = 1e-6;
  c.max_position_embeddings = context;
  c.bos_token_id = kCompactBos;
  c.eos_token_ids = {kCompactEos};
  return c;
}

inline std::shared_ptr<const ArcModel> TinyCompactModel(uint64_t seed = 1, int64_t context = 512,
                                                        const std::string& name = "tiny") {
  LlamaForCausalLM net = CreateLlama(TinyCompactConfig(context)).value();
  net->InitializeWeights(seed);
  return MakeArcModel(name, std::move(net), MakeCompactTokenizer(), "compact").value();
}

}  // namespace arc::testing

#endif  // ARC_TESTS_MODEL_TEST_UTIL_H_
