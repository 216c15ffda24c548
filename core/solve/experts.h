// Experts: which experts answer a task, and the one rule that merges their answers.
//
// Two experts solve different ARC tasks (reference arc-anchors.md: induction and transduction):
//   search  the program search (core/search): a DSL program that maps every demonstration input to
//           its output, run on the test input. Its answers carry the program as text.
//   ttt     the paper's pipeline: test-time training, views, hierarchical vote (core/solve/solver.h).
//
// The merge rule, per test input (MergeExperts):
//   1. Verified search answers first: answers of programs that reproduce every demonstration
//      exactly, in the search's own order (simplest program first; core/search/search.h). A
//      verified answer that the TTT vote also produced gains the TTT votes and names both experts.
//   2. Then the TTT candidates, in vote order (those not already listed).
//   3. Then the search's partial answers (programs that reproduce only some demonstrations), in
//      the search's order.
// Attempts 1 and 2 are the first two of that list. Without TTT (experts = search, or TTT skipped
// because the search explained the task) the list is the search's answers alone; without search it
// is the TTT vote unchanged, so `experts = ttt` reproduces the TTT-only solver exactly. With both
// experts, a task too long for the model's context gets no TTT candidates (the solver reports why)
// and keeps the search's answers.
//
// Pure functions of their arguments; thread-safe.
#ifndef ARC_CORE_SOLVE_EXPERTS_H_
#define ARC_CORE_SOLVE_EXPERTS_H_

#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "core/data/vote.h"
#include "core/search/search.h"

namespace arc {

enum class Experts {
  kBoth,    // search first, then TTT (skipped when the search explains the task and
            // SolveOptions::skip_ttt_when_explained is set)
  kSearch,  // the program search alone
  kTtt,     // test-time training alone (the paper's pipeline)
};
std::string_view ExpertsName(Experts experts);
// INVALID_ARGUMENT naming the allowed values for anything but "both", "search", "ttt".
absl::StatusOr<Experts> ParseExperts(std::string_view name);
bool UsesSearch(Experts experts);
bool UsesTtt(Experts experts);

// The expert names a candidate carries in Candidate::expert.
inline constexpr char kSearchExpert[] = "search";
inline constexpr char kTttExpert[] = "ttt";
inline constexpr char kBothExperts[] = "search+ttt";

// True when every test input has at least one verified answer (a program that reproduces every
// demonstration).
bool SearchExplainsTask(const search::SearchResult& result);

// The merge rule above for one test input. `ttt` is the TTT selection's ranked list (expert "ttt"
// is set on its entries here); `search` the search's answers for this test input (may be empty).
std::vector<Candidate> MergeExperts(const std::vector<search::SearchCandidate>& search,
                                    std::vector<Candidate> ttt);

}  // namespace arc

#endif  // ARC_CORE_SOLVE_EXPERTS_H_
