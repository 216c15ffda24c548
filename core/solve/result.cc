#include "core/solve/result.h"

namespace arc {

Attempts SolveResult::AttemptsFor(int test_index) const {
  VoteResult r;
  r.ranked = tests[test_index].candidates;
  return ToAttempts(r);
}

}  // namespace arc
