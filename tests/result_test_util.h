// The hand-built SolveResult that the result JSON tests (result_json_test, result_agreement_test)
// start from, so both check the task-level fields on the same values.
#ifndef ARC_TESTS_RESULT_TEST_UTIL_H_
#define ARC_TESTS_RESULT_TEST_UTIL_H_

#include "core/solve/result.h"

namespace arc::testing {

// The task-level fields (ids, TTT counts, token totals); each test adds its own timings, search
// counts and test inputs.
inline SolveResult HandBuiltResultHeader() {
  SolveResult r;
  r.task_id = "abc";
  r.task_hash = "h1";
  r.ttt = true;
  r.data_stats = {1, 2, 3, 4, 5, 6, 7, 8};
  r.train_stats = {9, 10, 2.5, 0.25, 11, {2.5f, 1.25f, 0.25f}};
  r.prompt_tokens = 300;
  r.generated_tokens = 40;
  return r;
}

}  // namespace arc::testing

#endif  // ARC_TESTS_RESULT_TEST_UTIL_H_
