#include "core/solve/experts.h"

#include <algorithm>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/data/enum_names.h"

namespace arc {
namespace {

bool Verified(const search::SearchCandidate& answer) {
  return answer.demonstrations > 0 && answer.explained == answer.demonstrations;
}

Candidate FromSearch(const search::SearchCandidate& answer) {
  Candidate c;
  c.grid = answer.output;
  c.expert = kSearchExpert;
  c.program = answer.program;
  c.explained = answer.explained;
  c.views = {answer.view};
  return c;
}

constexpr EnumName<Experts> kExperts[] = {
    {Experts::kBoth, "both"}, {Experts::kSearch, "search"}, {Experts::kTtt, "ttt"}};

}  // namespace

std::string_view ExpertsName(Experts experts) { return NameOf(kExperts, experts, "both"); }

absl::StatusOr<Experts> ParseExperts(std::string_view name) {
  if (std::optional<Experts> e = ValueOf(kExperts, name)) return *e;
  return absl::InvalidArgumentError(
      absl::StrCat("experts: \"", std::string(name), "\" is not one of ", NameList(kExperts)));
}

bool UsesSearch(Experts experts) { return experts != Experts::kTtt; }
bool UsesTtt(Experts experts) { return experts != Experts::kSearch; }

bool SearchExplainsTask(const search::SearchResult& result) {
  if (result.tests.empty()) return false;
  for (const auto& answers : result.tests) {
    if (std::none_of(answers.begin(), answers.end(), Verified)) return false;
  }
  return true;
}

std::vector<Candidate> MergeExperts(const std::vector<search::SearchCandidate>& search,
                                    std::vector<Candidate> ttt) {
  for (Candidate& c : ttt) {
    if (c.expert.empty()) c.expert = kTttExpert;
  }
  std::vector<Candidate> merged;
  merged.reserve(search.size() + ttt.size());
  auto listed = [&merged](const Grid& g) {
    return std::any_of(merged.begin(), merged.end(), [&](const Candidate& c) { return c.grid == g; });
  };
  // 1. Verified program answers, joined by the TTT votes for the same grid.
  for (const auto& answer : search) {
    if (!Verified(answer) || listed(answer.output)) continue;
    Candidate c = FromSearch(answer);
    auto same = std::find_if(ttt.begin(), ttt.end(),
                             [&](const Candidate& t) { return t.grid == c.grid; });
    if (same != ttt.end()) {
      c.expert = kBothExperts;
      c.votes = same->votes;
      c.score = same->score;
      c.views.insert(c.views.end(), same->views.begin(), same->views.end());
    }
    merged.push_back(std::move(c));
  }
  // 2. The TTT vote.
  for (Candidate& t : ttt) {
    if (!listed(t.grid)) merged.push_back(std::move(t));
  }
  // 3. Partial program answers.
  for (const auto& answer : search) {
    if (!Verified(answer) && !listed(answer.output)) merged.push_back(FromSearch(answer));
  }
  return merged;
}

}  // namespace arc
