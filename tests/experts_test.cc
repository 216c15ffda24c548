// Tests of core/solve/experts.h: the experts option and the rule that merges search and TTT answers.
#include "core/solve/experts.h"

#include <gtest/gtest.h>

#include "tests/test_util.h"

namespace arc {
namespace {

using ::arc::testing::G;

search::SearchCandidate Answer(const Grid& g, std::string program, int explained, int demos) {
  search::SearchCandidate a;
  a.output = g;
  a.program = std::move(program);
  a.explained = explained;
  a.demonstrations = demos;
  a.view = "identity";
  return a;
}

Candidate Voted(const Grid& g, int votes) {
  Candidate c;
  c.grid = g;
  c.votes = votes;
  c.views = {"v" + std::to_string(votes)};
  return c;
}

TEST(ExpertsTest, NamesRoundTripAndBadNameNamesTheChoices) {
  for (Experts e : {Experts::kBoth, Experts::kSearch, Experts::kTtt}) {
    EXPECT_EQ(*ParseExperts(ExpertsName(e)), e);
  }
  auto bad = ParseExperts("magic");
  ASSERT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.status().message(), "experts: \"magic\" is not one of both, search, ttt");
  EXPECT_TRUE(UsesSearch(Experts::kBoth));
  EXPECT_TRUE(UsesTtt(Experts::kBoth));
  EXPECT_FALSE(UsesTtt(Experts::kSearch));
  EXPECT_FALSE(UsesSearch(Experts::kTtt));
}

TEST(ExpertsTest, VerifiedProgramRanksFirstThenTttThenPartialPrograms) {
  const Grid a = G({{1, 2}}), b = G({{3, 4}}), c = G({{5, 6}}), d = G({{7, 8}});
  std::vector<search::SearchCandidate> search = {Answer(c, "crop(x)", 1, 3),
                                                 Answer(a, "flipx(x)", 3, 3)};
  std::vector<Candidate> merged = MergeExperts(search, {Voted(b, 5), Voted(d, 2)});
  ASSERT_EQ(merged.size(), 4u);
  EXPECT_EQ(merged[0].grid, a);
  EXPECT_EQ(merged[0].expert, "search");
  EXPECT_EQ(merged[0].program, "flipx(x)");
  EXPECT_EQ(merged[0].explained, 3);
  EXPECT_EQ(merged[1].grid, b);
  EXPECT_EQ(merged[1].expert, "ttt");
  EXPECT_EQ(merged[1].votes, 5);
  EXPECT_EQ(merged[2].grid, d);
  EXPECT_EQ(merged[3].grid, c);
  EXPECT_EQ(merged[3].program, "crop(x)");
}

TEST(ExpertsTest, AgreementJoinsTheTttVotesToTheProgramAnswer) {
  const Grid a = G({{1, 2}}), b = G({{3, 4}});
  std::vector<Candidate> merged =
      MergeExperts({Answer(a, "rot90(x)", 2, 2)}, {Voted(b, 7), Voted(a, 3)});
  ASSERT_EQ(merged.size(), 2u);
  EXPECT_EQ(merged[0].grid, a);
  EXPECT_EQ(merged[0].expert, "search+ttt");
  EXPECT_EQ(merged[0].votes, 3);
  EXPECT_EQ(merged[0].views, (std::vector<std::string>{"identity", "v3"}));
  EXPECT_EQ(merged[1].grid, b);
  EXPECT_EQ(merged[1].expert, "ttt");
}

TEST(ExpertsTest, WithoutSearchTheTttVoteIsUnchanged) {
  const Grid a = G({{1}}), b = G({{2}});
  std::vector<Candidate> merged = MergeExperts({}, {Voted(a, 4), Voted(b, 1)});
  ASSERT_EQ(merged.size(), 2u);
  EXPECT_EQ(merged[0].grid, a);
  EXPECT_EQ(merged[0].votes, 4);
  EXPECT_EQ(merged[1].grid, b);
  EXPECT_EQ(merged[1].program, "");
}

TEST(ExpertsTest, ExplainedOnlyWhenEveryTestInputHasAVerifiedAnswer) {
  search::SearchResult r;
  EXPECT_FALSE(SearchExplainsTask(r));
  r.tests = {{Answer(G({{1}}), "x", 2, 2)}, {Answer(G({{2}}), "y", 1, 2)}};
  EXPECT_FALSE(SearchExplainsTask(r));
  r.tests[1].push_back(Answer(G({{3}}), "z", 2, 2));
  EXPECT_TRUE(SearchExplainsTask(r));
}

}  // namespace
}  // namespace arc
