#include "core/solve/selection.h"

#include <algorithm>
#include <utility>

#include "core/data/status_macros.h"
#include "core/model/decode.h"

namespace arc {
namespace {

// The selection mode's vote (product-of-experts modes re-rank the hierarchical vote afterwards).
VoteResult Vote(SelectionMode mode, const std::vector<Prediction>& predictions) {
  return mode == SelectionMode::kMajority ? MajorityVote(predictions) : HierarchicalVote(predictions);
}

// The scoring requests for the top `k` candidates: each under the first `views` dihedral views of
// the demonstrations of `first`; `owner[i]` is request i's candidate. Renders over the context are
// skipped (they would not fit the model).
struct ScoreBatch {
  std::vector<ScoreRequest> requests;
  std::vector<size_t> owner;
};
ScoreBatch PoeRequests(const Task& task, int test_index, const View& first,
                       const std::vector<Candidate>& ranked, size_t k, int views,
                       const PromptFormat& format, int64_t context) {
  ScoreBatch batch;
  for (size_t c = 0; c < k; ++c) {
    for (int m = 0; m < views; ++m) {
      const Dihedral d = kAllDihedral[m];
      PromptInput in;
      for (int j : first.demonstrations) {
        in.demonstrations.push_back({ApplyDihedral(d, task.train[j].input),
                                     ApplyDihedral(d, task.train[j].output)});
      }
      in.query_input = ApplyDihedral(d, task.test[test_index].input);
      in.query_output = ApplyDihedral(d, ranked[c].grid);
      absl::StatusOr<RenderedPrompt> r = format.Render(in);
      if (!r.ok() || r->answer_end > context) continue;
      batch.requests.push_back(
          {std::vector<int64_t>(r->ids.begin(), r->ids.begin() + r->prompt_length),
           std::vector<int64_t>(r->ids.begin() + r->prompt_length, r->ids.begin() + r->answer_end)});
      batch.owner.push_back(c);
    }
  }
  return batch;
}

// Product of experts: scores the top K candidates and reorders them (by score for kPoe, by votes
// then score for kVotesThenPoe); the rest keep their vote order.
absl::StatusOr<std::vector<Candidate>> RerankByPoe(const Task& task, const SelectionInput& input,
                                                   const InferenceModel& model,
                                                   const PromptFormat& format, int64_t context,
                                                   const SelectionOptions& options, int batch_size,
                                                   SolveObserver& observer,
                                                   std::vector<Candidate> ranked) {
  const size_t k = std::min<size_t>(ranked.size(), options.poe_top_k);
  const ScoreBatch batch = PoeRequests(task, input.test_index, *input.first_view, ranked, k,
                                       options.poe_views, format, context);
  ScoreOptions so;
  so.max_batch_size = batch_size;
  so.pad_token_id = format.tokenizer().pad_id();
  so.is_cancelled = [&observer] { return observer.IsCancelled(); };
  ARC_ASSIGN_OR_RETURN(std::vector<double> scores,
                       ScoreContinuations(*model.net, model.adapter, batch.requests, so));
  for (size_t c = 0; c < k; ++c) ranked[c].score = 0;
  for (size_t i = 0; i < scores.size(); ++i) ranked[batch.owner[i]].score += scores[i];
  auto by_score = [](const Candidate& a, const Candidate& b) { return a.score > b.score; };
  auto by_votes = [](const Candidate& a, const Candidate& b) {
    return a.votes != b.votes ? a.votes > b.votes : a.score > b.score;
  };
  if (options.mode == SelectionMode::kPoe) {
    std::stable_sort(ranked.begin(), ranked.begin() + k, by_score);
  } else {
    std::stable_sort(ranked.begin(), ranked.begin() + k, by_votes);
  }
  return ranked;
}

}  // namespace

void PlaceAsSecond(const Candidate& candidate, std::vector<Candidate>& ranked) {
  auto same = std::find_if(ranked.begin(), ranked.end(),
                           [&](const Candidate& c) { return c.grid == candidate.grid; });
  if (same == ranked.begin() && !ranked.empty()) return;  // already attempt 1
  Candidate moved = same == ranked.end() ? candidate : *same;
  if (same != ranked.end()) ranked.erase(same);
  ranked.insert(ranked.begin() + std::min<size_t>(1, ranked.size()), std::move(moved));
}

absl::StatusOr<std::vector<Candidate>> RankCandidates(const Task& task, const SelectionInput& input,
                                                      const InferenceModel& model,
                                                      const PromptFormat& format,
                                                      int64_t context_tokens,
                                                      const SelectionOptions& options,
                                                      int batch_size, SolveObserver& observer) {
  std::vector<Candidate> ranked = Vote(options.mode, *input.predictions).ranked;
  const bool poe =
      options.mode == SelectionMode::kPoe || options.mode == SelectionMode::kVotesThenPoe;
  if (poe && !ranked.empty()) {
    ARC_ASSIGN_OR_RETURN(ranked, RerankByPoe(task, input, model, format, context_tokens, options,
                                             batch_size, observer, std::move(ranked)));
  }
  if (input.base_predictions != nullptr) {
    const VoteResult base_vote = Vote(options.mode, *input.base_predictions);
    if (!base_vote.ranked.empty()) PlaceAsSecond(base_vote.ranked.front(), ranked);
  }
  return ranked;
}

}  // namespace arc
