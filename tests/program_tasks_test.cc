#include "gen/program_tasks.h"

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "core/data/task_io.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace arc {
namespace {

using ::arc::testing::Pairs;

int Colours(const Grid& g) {
  std::set<uint8_t> c(g.cells().begin(), g.cells().end());
  c.erase(0);
  return static_cast<int>(c.size());
}

std::vector<int> Steps(const std::string& text) {
  absl::StatusOr<std::vector<int>> steps = ParseProgramText(text);
  EXPECT_TRUE(steps.ok()) << steps.status();
  return steps.value_or(std::vector<int>{});
}

Grid G(const std::vector<std::vector<int>>& rows) { return Grid::FromRows(rows).value(); }

// The status has `code` and its message contains `text`.
void ExpectStatus(const absl::Status& s, absl::StatusCode code, const std::string& text) {
  EXPECT_EQ(s.code(), code) << s;
  EXPECT_NE(std::string(s.message()).find(text), std::string::npos) << s;
}

Task MakeTask(const std::vector<Example>& pairs) {
  Task t;
  t.id = "hand";
  t.train.assign(pairs.begin(), pairs.end() - 1);
  t.test.push_back({pairs.back().input, pairs.back().output});
  return t;
}

TEST(ProgramTasksTest, SameSeedSameTaskAndProgram) {
  for (uint64_t seed : {0ull, 7ull, 123456789ull}) {
    absl::StatusOr<ProgramTask> a = GenerateProgramTask(seed, Difficulty{});
    absl::StatusOr<ProgramTask> b = GenerateProgramTask(seed, Difficulty{});
    ASSERT_TRUE(a.ok()) << a.status();
    ASSERT_TRUE(b.ok()) << b.status();
    EXPECT_EQ(TaskToJson(a->task), TaskToJson(b->task));
    EXPECT_EQ(a->program, b->program);
    EXPECT_EQ(a->input_kind, b->input_kind);
    EXPECT_EQ(a->rejected, b->rejected);
    EXPECT_EQ(a->task.id, "program_" + std::to_string(seed));
  }
  // Different seeds give different tasks.
  std::set<std::string> tasks;
  for (uint64_t seed = 0; seed < 20; ++seed) {
    tasks.insert(TaskToJson(GenerateProgramTask(seed, Difficulty{}).value().task));
  }
  EXPECT_EQ(tasks.size(), 20u);
}

TEST(ProgramTasksTest, EveryKeptTaskIsNonTrivialOnEveryPair) {
  std::set<std::string> programs, kinds;
  for (uint64_t seed = 0; seed < 300; ++seed) {
    absl::StatusOr<ProgramTask> t = GenerateProgramTask(seed, Difficulty{});
    ASSERT_TRUE(t.ok()) << t.status();
    ASSERT_TRUE(ValidateTask(t->task).ok());
    EXPECT_GE(t->task.train.size(), 3u);
    EXPECT_LE(t->task.train.size(), 5u);
    ASSERT_EQ(t->task.test.size(), 1u);
    ASSERT_GE(t->steps.size(), 1u);
    ASSERT_LE(t->steps.size(), 4u);
    EXPECT_EQ(ProgramText(t->steps), t->program);
    const std::vector<Example> pairs = Pairs(t->task);
    std::set<Grid> outputs, inputs;
    for (const Example& e : pairs) {
      EXPECT_NE(e.input, e.output) << t->program;
      EXPECT_GT(Colours(e.output), 0) << t->program << ": blank output";
      // The recorded output is what the program computes (run again here).
      EXPECT_EQ(RunProgram(t->steps, e.input), std::optional<Grid>(e.output)) << t->program;
      outputs.insert(e.output);
      inputs.insert(e.input);
    }
    EXPECT_GE(outputs.size(), 2u) << t->program << ": constant";
    EXPECT_EQ(inputs.size(), pairs.size()) << t->program << ": repeated input";
    ProgramRejection reason = ProgramRejection::kNotHeldOut;
    EXPECT_TRUE(PassesProgramFilter(t->steps, t->task, &reason)) << ProgramRejectionName(reason);
    programs.insert(t->program);
    kinds.insert(t->input_kind);
  }
  // Varied: nearly every task has its own program, and every input kind occurs.
  EXPECT_GE(programs.size(), 250u);
  EXPECT_EQ(kinds, (std::set<std::string>{"halves", "noise", "objects", "pattern", "pixels",
                                          "rectangles"}));
}

TEST(ProgramTasksTest, RunProgramComputesTheDslChain) {
  const Grid in = G({{1, 0, 0}, {0, 2, 0}});
  EXPECT_EQ(RunProgram(Steps("flip_lr(x)"), in), G({{0, 0, 1}, {0, 2, 0}}));
  EXPECT_EQ(RunProgram(Steps("crop(keep_2(x))"), in), G({{2}}));
  EXPECT_EQ(RunProgram(Steps("scale_2(crop(keep_1(x)))"), in), G({{1, 1}, {1, 1}}));
  EXPECT_EQ(RunProgram(Steps("keep_3(x)"), in), G({{0, 0, 0}, {0, 0, 0}}));  // blank, not failed
  EXPECT_EQ(RunProgram(Steps("largest(x)"), in), std::nullopt);              // a join needs a list
  EXPECT_EQ(RunProgram(Steps("objects4(x)"), in), std::nullopt);             // ends in a list
}

TEST(ProgramTasksTest, FilterNamesEachTrivialCase) {
  ProgramRejection reason = ProgramRejection::kNotHeldOut;
  // flip_lr of left-right symmetric inputs changes nothing.
  const Task symmetric = MakeTask({{G({{1, 0, 1}}), G({{1, 0, 1}})},
                                   {G({{2, 2}}), G({{2, 2}})},
                                   {G({{3}}), G({{3}})},
                                   {G({{4, 5, 4}}), G({{4, 5, 4}})}});
  EXPECT_FALSE(PassesProgramFilter(Steps("flip_lr(x)"), symmetric, &reason));
  EXPECT_EQ(reason, ProgramRejection::kIdentity);
  // major_colour gives the same 1x1 grid whatever the input.
  const Task constant = MakeTask({{G({{1, 1, 0}}), G({{1}})},
                                  {G({{1, 0}, {1, 2}}), G({{1}})},
                                  {G({{0, 1, 1, 3}}), G({{1}})},
                                  {G({{1}, {1}}), G({{1}})}});
  EXPECT_FALSE(PassesProgramFilter(Steps("major_colour(x)"), constant, &reason));
  EXPECT_EQ(reason, ProgramRejection::kConstant);
  // The second crop is idle.
  const Task crops2 = MakeTask({{G({{0, 1, 0}}), G({{1}})},
                                {G({{0, 0}, {2, 2}}), G({{2, 2}})},
                                {G({{0, 0, 0}, {0, 4, 0}}), G({{4}})},
                                {G({{5, 0}, {0, 0}}), G({{5}})}});
  EXPECT_TRUE(PassesProgramFilter(Steps("crop(x)"), crops2, &reason));
  EXPECT_FALSE(PassesProgramFilter(Steps("crop(crop(x))"), crops2, &reason));
  EXPECT_EQ(reason, ProgramRejection::kIdleStep);
  // A recorded output the program does not give again.
  Task wrong = crops2;
  wrong.train[0].output = G({{2}});
  EXPECT_FALSE(PassesProgramFilter(Steps("crop(x)"), wrong, &reason));
  EXPECT_EQ(reason, ProgramRejection::kNondeterministic);
  // keep_9 of inputs without colour 9 is blank.
  EXPECT_FALSE(PassesProgramFilter(Steps("keep_9(x)"), crops2, &reason));
  EXPECT_EQ(reason, ProgramRejection::kFailed);
}

TEST(ProgramTasksTest, HeldOutSetsAreFixedAndRecognised) {
  EXPECT_EQ(HeldOutPrimitives().size(), 11u);
  // gravity_*/fall_* (8) x dihedral (7) + crop x scale_2/3 (2) + keep_1..9 x smear_* (9 x 13).
  EXPECT_EQ(HeldOutStepPairs().size(), 8u * 7 + 2 + 9 * 13);
  EXPECT_TRUE(IsHeldOutProgram(Steps("hull(x)")));
  EXPECT_TRUE(IsHeldOutProgram(Steps("crop(connect_hv(x))")));
  EXPECT_TRUE(IsHeldOutProgram(Steps("rot90(gravity_d(x))")));
  EXPECT_TRUE(IsHeldOutProgram(Steps("transpose(fall_l(x))")));
  EXPECT_TRUE(IsHeldOutProgram(Steps("scale_3(crop(largest(objects8(x))))")));
  EXPECT_TRUE(IsHeldOutProgram(Steps("smear_ul(keep_7(x))")));
  // The same primitives in another order, or apart, are training programs.
  EXPECT_FALSE(IsHeldOutProgram(Steps("gravity_d(rot90(x))")));
  EXPECT_FALSE(IsHeldOutProgram(Steps("rot90(crop(gravity_d(x)))")));
  EXPECT_FALSE(IsHeldOutProgram(Steps("crop(scale_2(x))")));
  EXPECT_FALSE(IsHeldOutProgram(Steps("keep_7(smear_ul(x))")));
  EXPECT_FALSE(IsHeldOutProgram(Steps("smear_ul(keep_major(x))")));
}

TEST(ProgramTasksTest, TrainingModeNeverProducesHeldOutShapes) {
  int held_out_seen = 0;
  for (uint64_t seed = 0; seed < 400; ++seed) {
    const ProgramTask t = GenerateProgramTask(seed, Difficulty{}).value();
    EXPECT_FALSE(IsHeldOutProgram(t.steps)) << t.program;
    ProgramTaskOptions o;
    o.split = ProgramSplit::kHeldOut;
    const ProgramTask h = GenerateProgramTask(seed, Difficulty{}, o).value();
    EXPECT_TRUE(IsHeldOutProgram(h.steps)) << h.program;
    held_out_seen += IsHeldOutProgram(h.steps);
  }
  EXPECT_EQ(held_out_seen, 400);
}

TEST(ProgramTasksTest, SizesAndColoursWithinTheDifficulty) {
  for (const Difficulty& d : {Difficulty{3, 6, 2, 3}, Difficulty{3, 10, 4, 5},
                              Difficulty{3, 14, 6, 8}, Difficulty{1, 3, 1, 1}}) {
    int at_max = 0;
    for (uint64_t seed = 0; seed < 150; ++seed) {
      absl::StatusOr<ProgramTask> t = GenerateProgramTask(seed, d);
      ASSERT_TRUE(t.ok()) << t.status() << " max_side " << d.max_side;
      for (const Example& e : Pairs(t->task)) {
        for (const Grid* g : {&e.input, &e.output}) {
          EXPECT_LE(g->rows(), d.max_side) << t->program;
          EXPECT_LE(g->cols(), d.max_side) << t->program;
          at_max += g->rows() == d.max_side || g->cols() == d.max_side;
        }
        EXPECT_LE(Colours(e.input), d.max_colours) << t->program;
      }
    }
    EXPECT_GT(at_max, 0) << "no grid reaches max_side " << d.max_side;
  }
}

TEST(ProgramTasksTest, DepthOptionsAndErrors) {
  ProgramTaskOptions o;
  o.min_depth = o.max_depth = 3;
  for (uint64_t seed = 0; seed < 30; ++seed) {
    EXPECT_EQ(GenerateProgramTask(seed, Difficulty{}, o).value().steps.size(), 3u);
  }
  o.max_depth = 5;
  ExpectStatus(GenerateProgramTask(0, Difficulty{}, o).status(), absl::StatusCode::kInvalidArgument,
               "max_depth");
  o.max_depth = 2;
  ExpectStatus(GenerateProgramTask(0, Difficulty{}, o).status(), absl::StatusCode::kInvalidArgument,
               "min_depth");
  ExpectStatus(GenerateProgramTask(0, Difficulty{3, 31, 4, 4}).status(),
               absl::StatusCode::kInvalidArgument, "max_side");
  ExpectStatus(GenerateProgramTask(0, Difficulty{1, 1, 1, 1}).status(),
               absl::StatusCode::kFailedPrecondition, "program tasks need max_side >= 2, got 1");
  ProgramTaskOptions held_out;
  held_out.split = ProgramSplit::kHeldOut;
  for (uint64_t seed = 0; seed < 20; ++seed) {  // the smallest difficulty that is accepted
    EXPECT_TRUE(GenerateProgramTask(seed, Difficulty{1, 2, 1, 1}, held_out).ok()) << seed;
  }
  ExpectStatus(ParseProgramText("nope(x)").status(), absl::StatusCode::kInvalidArgument,
               "unknown primitive \"nope\"");
  ExpectStatus(ParseProgramText("crop(x").status(), absl::StatusCode::kInvalidArgument,
               "expected name(...)");
  EXPECT_EQ(ProgramText(Steps("rot90(crop(x))")), "rot90(crop(x))");
}

}  // namespace
}  // namespace arc
