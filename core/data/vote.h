// Candidate selection for one test input: the MIT TTT paper's hierarchical vote (reference
// mit-ttt-pipeline.md section 5) with a deterministic tie order, and a plain majority vote.
//
// Input: one Prediction per inference view, already mapped back into the task's frame. Output: the
// unique grids ranked, ranked[0] and ranked[1] being the two attempts of a submission. Everything
// here is a pure function of its arguments: no state, safe to call from any thread, and the same
// input (in the same order) always gives the same result.
//
// ---------------------------------------------------------------------------------------------
// The rule, in enough detail to predict any result by hand.
//
// Order of first occurrence. Wherever the paper iterates a Python set (whose order is arbitrary),
// we use the order in which values first occur in the list being counted. "Most common" means the
// highest count, and among equal counts the value that occurs first.
//
// Top3(outs), for a list of grids `outs` (the paper's get_all_type_of_votingsv2):
//   U  = the distinct grids of outs, in order of first occurrence; count(u) = occurrences in outs.
//   S  = U stably sorted by count, descending (so ties keep first-occurrence order).
//   c1 = S[0]; c2 = c3 = c1.
//   if |U| > 2: c2 = S[1], c3 = S[2];  else if |U| == 2: c2 = S[1].
//   row = RowColMajority(outs, false); col = RowColMajority(outs, true).
//   if c2 == c1: c2 = (row != c1) ? row : col.
//   if c3 == c1 or c3 == c2: c3 = (row != c1 and row != c2) ? row : col.
//   Empty outs give no candidates.
//
// RowColMajority(outs, transpose) (the paper's row_base_majority_voting):
//   (transpose: work on every output transposed and transpose the result back, i.e. column votes.)
//   (H, W) = the most common shape among outs.
//   For r in 0..H-1: row r of the result = the most common row among { o.row(r) : o in outs,
//   o has more than r rows and exactly W columns }. Outputs of another height but the same width
//   take part, as in the paper.
//
// HierarchicalVote(predictions) (the paper's vote):
//   Categories: a prediction's `category`, with "" read as "identity" (the paper's
//   `inverter or "identity"`). Category order: "identity" first, then the others in order of first
//   appearance. (The paper walks a fixed key list of its five transform names; we take every
//   category so that other view sets work.) A category named "all" is an ordinary category; the
//   pool below is kept apart from it.
//   Pool "all" = the concatenation of the categories' predictions, in category order (so identity
//   outputs come first), as the paper's concat(by[k] for k in by).
//   cands = Top3(all) ++ Top3(category 1) ++ Top3(category 2) ++ ...   (3 grids each; a category
//   holding a single prediction therefore puts that grid into cands 3 times: in the paper each
//   transform is used by exactly one view, so that one view fills as many slots as the whole
//   identity block.)
//   (C1, C2, C3) = Top3(cands).
//   Identity tie-break, only when an "identity" category exists (without one the paper's code
//   throws and swallows the error, i.e. skips it): if count of C2 in cands == count of C3 in cands,
//   then if identity-count(C2) > identity-count(C3) keep C2, else C2 = C3 (equal identity counts:
//   C3 wins, as in the paper).
//   The paper submits (C1, C2).
//
// VoteResult.ranked lists unique grids: C1, then C2 if it differs from C1, then every other
// distinct predicted grid by raw votes descending (first occurrence on ties). `votes` and `views`
// always come from the raw predictions, so a grid that only a filler produced would have votes 0
// and no views.
//
// Consequences worth knowing:
// - Deliberately NOT reproduced: numpy's argsort tie quirk. The paper takes c1 with argmax (first
//   maximum) but c2 with argsort(cnt)[-2], which on tied counts picks the same entry as argmax, so
//   the paper's top3([A, B]) == (A, A, A) and the second real output never becomes a candidate.
//   With the stable first-occurrence order here, Top3([A, B]) == (A, B, A): the second distinct
//   output is attempt 2, which is what the code clearly intends and strictly better for pass@2.
// - With this tie order the row/column fillers can only reproduce c1: they are consulted only when
//   |U| <= 2, and with at most two distinct grids every row (and column) vote is won by c1's row
//   (the more frequent grid, or on equal counts the first one, whose rows also occur first). So a
//   filler never introduces a grid that no view produced. The paper's novel filler grids came from
//   its two different set orders (grids vs rows) disagreeing on ties. RowColMajority itself can
//   build a new grid from 3+ outputs (see the tests); it is kept for fidelity and exposed.
// - The tie-break can leave C2 == C1: when cands holds only two distinct grids with equal counts,
//   C3 is a filler equal to C1 and, on equal identity counts, C2 = C3 = C1. The paper then submits
//   the same grid twice; here `ranked` has unique grids, so ranked[1] (attempt 2) is the most voted
//   other predicted grid instead.
// - Reordering predictions changes the result only through ties: a tie in Top3 goes to the grid
//   that occurs first (in the pool: identity predictions first), and the identity tie-break above.
//
// MajorityVote(predictions): unique grids by raw count, descending, first occurrence on ties
// (categories ignored). A baseline and a fallback.
#ifndef ARC_CORE_DATA_VOTE_H_
#define ARC_CORE_DATA_VOTE_H_

#include <string>
#include <vector>

#include "core/data/grid.h"
#include "core/data/submission.h"

namespace arc {

// The category of an untransformed view.
inline constexpr char kIdentityCategory[] = "identity";

// One inverted prediction from one inference view.
struct Prediction {
  Grid output;           // already inverse-transformed into the task's frame
  std::string category;  // "identity" for untransformed views, else the view's transform name
                         // (e.g. "transpose", "rot90"); "" counts as "identity"
  std::string view;      // a unique, human-readable view id, e.g. "loo2/perm1/transpose"
};

struct Candidate {
  Grid grid;
  int votes = 0;                   // how many predictions equal this grid (over all categories)
  std::vector<std::string> views;  // the views that produced it, in prediction order (empty for a
                                   // row/column filler)
  double score = 0;                // filled by later re-scoring (product of experts); 0 here
  // Which expert produced it (core/solve/experts.h: "ttt", "search", "search+ttt"); empty from
  // the vote functions here. For search answers: the program as one-line DSL text and how many
  // demonstrations it reproduces exactly.
  std::string expert;
  std::string program;
  int explained = 0;
};

struct VoteResult {
  std::vector<Candidate> ranked;  // unique grids; ranked[0] = attempt 1, ranked[1] = attempt 2,
                                  // then the rest
  int num_predictions = 0;
};

// The paper's hierarchical vote with the tie order above. Empty input gives an empty `ranked`.
VoteResult HierarchicalVote(const std::vector<Prediction>& predictions);

// Unique grids ranked by raw count, descending, first occurrence on ties.
VoteResult MajorityVote(const std::vector<Prediction>& predictions);

// Attempts for a submission: ranked[0] and ranked[1]; ranked[0] twice when there is only one
// candidate; [[0]] twice when there is none (as the paper does for an empty vote).
Attempts ToAttempts(const VoteResult& r);

// The building blocks, exposed so that tests and readers can check a case by hand.
// Top3: (c1, c2, c3) as above; empty when `outs` is empty.
std::vector<Grid> Top3(const std::vector<Grid>& outs);
// Row-majority grid (column-majority when `transpose`); an empty grid when `outs` is empty.
Grid RowColMajority(const std::vector<Grid>& outs, bool transpose);

}  // namespace arc

#endif  // ARC_CORE_DATA_VOTE_H_
