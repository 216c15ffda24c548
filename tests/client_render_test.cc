// Grid rendering (plain and coloured), side-by-side layout, solve/job/event formatting.
#include "client/convert.h"
#include "client/render.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace arc::client {
namespace {

using ::arc::testing::G;

TEST(ClientRenderTest, PlainGrid) {
  EXPECT_EQ(RenderGrid(G({{0, 1, 2}, {3, 4, 9}}), false), "012\n349\n");
}

TEST(ClientRenderTest, ColouredGridShowsDigitsOnAnsiBackgrounds) {
  // Every cell is " d": the digit in white or black, whichever reads on its background; a run of
  // one colour shares its escape; every row ends in a reset.
  EXPECT_EQ(RenderGrid(G({{1, 1, 2}}), true),
            "\x1b[38;5;231;48;5;26m 1 1\x1b[38;5;231;48;5;196m 2\x1b[0m\n");
  const std::vector<std::string> lines = GridLines(G({{0}, {9}}), true);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], "\x1b[38;5;231;48;5;16m 0\x1b[0m");
  EXPECT_EQ(lines[1], "\x1b[38;5;231;48;5;88m 9\x1b[0m");
  // Black digits on the light colours: green, yellow, grey, orange, sky.
  EXPECT_EQ(RenderGrid(G({{3, 4, 5, 7, 8}}), true),
            "\x1b[38;5;16;48;5;41m 3\x1b[38;5;16;48;5;220m 4\x1b[38;5;16;48;5;248m 5"
            "\x1b[38;5;16;48;5;208m 7\x1b[38;5;16;48;5;117m 8\x1b[0m\n");
  // White on the dark ones: black, blue, red, magenta, maroon.
  for (int c : {0, 1, 2, 6, 9}) {
    EXPECT_EQ(RenderGrid(G({{c}}), true).rfind("\x1b[38;5;231;", 0), 0u) << c;
  }
}

TEST(ClientRenderTest, WrongCellsAreMarkedAgainstTheExpectedOutput) {
  const Grid expected = G({{1, 3}, {4, 4}});
  // (0, 1) and (1, 0) differ: "*d" instead of " d", the colours unchanged.
  EXPECT_EQ(RenderGrid(G({{1, 2}, {5, 4}}), true, &expected),
            "\x1b[38;5;231;48;5;26m 1\x1b[38;5;231;48;5;196m*2\x1b[0m\n"
            "\x1b[38;5;16;48;5;248m*5\x1b[38;5;16;48;5;220m 4\x1b[0m\n");
  EXPECT_EQ(RenderGrid(expected, true, &expected), RenderGrid(expected, true));
  // Another shape: nothing to compare cell by cell.
  EXPECT_EQ(RenderGrid(G({{1, 2}}), true, &expected), RenderGrid(G({{1, 2}}), true));
  // Plain grids stay digits (scripts read them).
  EXPECT_EQ(RenderGrid(G({{1, 2}, {5, 4}}), false, &expected), "12\n54\n");
  EXPECT_EQ(DifferingCells(G({{1, 2}, {5, 4}}), expected), 2);
  EXPECT_EQ(DifferingCells(expected, expected), 0);
  EXPECT_EQ(DifferingCells(G({{1, 3}}), expected), -1);
}

TEST(ClientRenderTest, ColorModes) {
  EXPECT_TRUE(ShouldColor(ColorMode::kAlways, -1));
  EXPECT_FALSE(ShouldColor(ColorMode::kNever, 1));
  EXPECT_FALSE(ShouldColor(ColorMode::kAuto, -1));  // not a terminal
}

TEST(ClientRenderTest, SideBySidePadsAndWraps) {
  const std::vector<GridBlock> blocks = {
      {"input", G({{1, 2}, {3, 4}, {5, 6}}), std::nullopt},
      {"attempt 1", G({{7}}), std::nullopt},
      {"x", G({{8, 8, 8}}), std::nullopt},
  };
  EXPECT_EQ(RenderSideBySide(blocks, false, 100, 2),
            "  input   attempt 1   x\n"
            "  12      7           888\n"
            "  34\n"
            "  56\n");
  // Width 20: "input" (5) + 3 + "attempt 1" (9) = 17 + indent 2 = 19 fits; "x" goes below.
  EXPECT_EQ(RenderSideBySide(blocks, false, 20, 2),
            "  input   attempt 1\n"
            "  12      7\n"
            "  34\n"
            "  56\n"
            "\n"
            "  x\n"
            "  888\n");
}

v1::SolveResponse Response() {
  v1::SolveResponse r;
  r.set_job_id("job-1");
  r.set_task_id("flip");
  r.set_task_hash("00112233aabbccdd");
  v1::TestPrediction* p = r.add_predictions();
  *p->mutable_attempt_1() = GridToProto(G({{2, 1}}));
  *p->mutable_attempt_2() = GridToProto(G({{1, 2}}));
  p->set_num_views(12);
  p->set_invalid_outputs(1);
  for (auto [grid, votes] :
       std::vector<std::pair<Grid, int>>{{G({{2, 1}}), 8}, {G({{1, 2}}), 2}, {G({{0, 0}}), 1}}) {
    v1::Candidate* c = p->add_candidates();
    *c->mutable_grid() = GridToProto(grid);
    c->set_votes(votes);
    for (int v = 0; v < votes; ++v) c->add_views("v");
    c->set_expert(votes == 8 ? "search+ttt" : "ttt");
    if (votes == 8) {
      c->set_program("flip_lr(x)");
      c->set_explained(3);
    }
  }
  r.mutable_ttt()->set_enabled(true);
  r.mutable_ttt()->set_samples(10);
  r.mutable_ttt()->set_steps(2);
  r.mutable_ttt()->set_first_loss(2.5);
  r.mutable_ttt()->set_last_loss(2.25);
  r.mutable_timings()->set_total_seconds(1.5);
  return r;
}

TEST(ClientRenderTest, SolveResponseShowsGridsVerdictsAndCandidates) {
  Task task;
  task.id = "flip";
  task.train.push_back({G({{1, 0}}), G({{0, 1}})});
  task.test.push_back({G({{1, 2}}), G({{2, 1}})});
  RenderOptions ro;
  const std::string text = FormatSolveResponse(Response(), &task, ro);
  EXPECT_NE(text.find("task flip  hash 00112233aabbccdd  job job-1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("test 0: 12 views, 1 invalid, 3 candidates"), std::string::npos) << text;
  EXPECT_NE(text.find("  input   expected   attempt 1   attempt 2   #3\n"
                      "  12      21         21          12          00\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("attempt 1: correct, attempt 2: wrong (2 cells differ)  => test 0 CORRECT"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("     1  1x2         8      0.0000      8  search+ttt  (attempt 1)\n"
                      "        program flip_lr(x)  (explains 3 demonstrations)\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("     3  1x2         1      0.0000      1  ttt\n"), std::string::npos) << text;
  EXPECT_NE(text.find("ttt: 10 samples, 2 steps, loss 2.5000 -> 2.2500"), std::string::npos)
      << text;
  EXPECT_NE(text.find("total 1.50 s"), std::string::npos) << text;

  // Only two candidate grids drawn when asked.
  ro.max_candidate_grids = 2;
  EXPECT_EQ(FormatSolveResponse(Response(), &task, ro).find("#3"), std::string::npos);

  // In colour, attempt 2's two cells are marked wrong; the input, the expected output and the
  // right attempt 1 have no mark.
  ro.color = true;
  const std::string coloured = FormatSolveResponse(Response(), &task, ro);
  EXPECT_NE(coloured.find("\x1b[38;5;231;48;5;26m*1\x1b[38;5;231;48;5;196m*2\x1b[0m"),
            std::string::npos)
      << coloured;
  size_t marks = 0;
  for (size_t at = coloured.find("m*"); at != std::string::npos; at = coloured.find("m*", at + 1)) {
    ++marks;
  }
  EXPECT_EQ(marks, 2u) << coloured;
  // Another shape is counted as such.
  v1::SolveResponse other = Response();
  *other.mutable_predictions(0)->mutable_attempt_2() = GridToProto(G({{2}}));
  EXPECT_NE(FormatSolveResponse(other, &task, RenderOptions())
                .find("attempt 2: wrong (1x1, expected 1x2)"),
            std::string::npos);
}

TEST(ClientRenderTest, EventsAndProgress) {
  v1::SolveEvent e;
  e.mutable_ttt_progress()->set_step(3);
  e.mutable_ttt_progress()->set_total_steps(10);
  e.mutable_ttt_progress()->set_loss(2.34567);
  e.mutable_ttt_progress()->set_learning_rate(1e-4);
  EXPECT_EQ(FormatEvent(e), "ttt step 3/10  loss 2.3457  lr 1.00e-04");
  e.mutable_inference_progress()->set_views_done(4);
  e.mutable_inference_progress()->set_views_total(12);
  EXPECT_EQ(FormatEvent(e), "inference 4/12 views");
  e.set_phase(v1::PHASE_INFERENCE);
  EXPECT_EQ(FormatEvent(e), "phase: inference");
  e.set_queued_position(2);
  EXPECT_EQ(FormatEvent(e), "queued: 2 jobs ahead");
  e.mutable_error()->set_code(1);
  e.mutable_error()->set_message("cancelled by the client");
  EXPECT_EQ(FormatEvent(e), "error: CANCELLED: cancelled by the client");
  EXPECT_EQ(ProgressBar(5, 10, 10), "[#####.....]  5/10");
  EXPECT_EQ(ProgressBar(0, 0, 4), "[....] 0/0");
}

TEST(ClientRenderTest, JobsAndJson) {
  v1::ListJobsResponse list;
  v1::Job* j = list.add_jobs();
  j->set_job_id("job-7");
  j->set_state(v1::JOB_STATE_SUCCEEDED);
  j->set_phase(v1::PHASE_DONE);
  j->set_task_id("flip");
  const std::string table = FormatJobList(list);
  EXPECT_NE(table.find("job-7"), std::string::npos);
  EXPECT_NE(table.find("succeeded"), std::string::npos);
  EXPECT_NE(table.find("1 jobs"), std::string::npos);
  EXPECT_NE(FormatJob(*j).find("  state     succeeded\n"), std::string::npos);
  EXPECT_EQ(ToJson(v1::GetJobRequest()), "{\n  \"job_id\": \"\"\n}");
  v1::Example example;
  *example.mutable_input() = GridToProto(G({{0, 1}, {2, 3}}));
  EXPECT_EQ(ToJson(example), "{\n  \"input\": [\n    [0, 1],\n    [2, 3]\n  ]\n}");
  v1::GetJobRequest req;
  req.set_job_id("j");
  EXPECT_EQ(ToJson(req), "{\n  \"job_id\": \"j\"\n}");
}

// The ARC-native JSON of jobs and server info (docs/JSON.md): 64-bit numbers as numbers, enums by
// name, grids as nested integer lists, a job's result as the solve-result entry.
TEST(ClientRenderTest, MessageJsonIsArcNative) {
  v1::Job job;
  job.set_job_id("job-7");
  job.set_state(v1::JOB_STATE_SUCCEEDED);
  job.set_created_unix_ms(1700000000123);
  *job.mutable_result() = Response();
  const nlohmann::json j = MessageToJson(job);
  EXPECT_EQ(j["created_unix_ms"], 1700000000123) << j.dump();
  EXPECT_TRUE(j["created_unix_ms"].is_number_integer());
  EXPECT_EQ(j["started_unix_ms"], 0);  // fields without presence are always written
  EXPECT_EQ(j["state"], "JOB_STATE_SUCCEEDED");
  EXPECT_FALSE(j.contains("error"));  // an unset message is not
  EXPECT_EQ(j["result"]["id"], "flip");
  EXPECT_EQ(j["result"]["tests"][0]["attempts"].dump(), "[[[2,1]],[[1,2]]]");
  EXPECT_EQ(j["result"]["tests"][0]["candidates"][0]["program"], "flip_lr(x)");
  EXPECT_EQ(j["result"]["ttt"]["steps"], 2);
  EXPECT_EQ(j["result"]["job"]["id"], "job-1");

  v1::ServerInfo info;
  info.set_parameters(3170000);
  info.mutable_defaults()->set_seed(18446744073709551615ull);
  info.mutable_defaults()->set_experts(v1::EXPERTS_BOTH);
  info.mutable_defaults()->mutable_ttt_options()->set_lora_rank(32);
  const nlohmann::json i = MessageToJson(info);
  EXPECT_EQ(i["parameters"], 3170000);
  EXPECT_EQ(i["defaults"]["seed"], 18446744073709551615ull);
  EXPECT_EQ(i["defaults"]["experts"], "EXPERTS_BOTH");
  EXPECT_EQ(i["defaults"]["ttt_options"]["lora_rank"], 32);
  EXPECT_FALSE(i["defaults"]["ttt_options"].contains("epochs"));  // `optional` and unset

  v1::Example example;
  *example.mutable_input() = GridToProto(G({{0, 1}, {2, 3}}));
  EXPECT_EQ(MessageToJson(example).dump(), R"({"input":[[0,1],[2,3]]})");
  // A malformed grid is shown as it came.
  example.mutable_input()->add_rows("4");
  EXPECT_EQ(MessageToJson(example).dump(), R"({"input":{"rows":["01","23","4"]}})");
}

}  // namespace
}  // namespace arc::client
