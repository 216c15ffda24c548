#include "core/solve/solver.h"

#include <ATen/Parallel.h>
#include <c10/core/InferenceMode.h>

#include <algorithm>
#include <filesystem>

#include "core/data/file_util.h"
#include "core/data/task_io.h"
#include "core/model/lora.h"
#include "core/solve/options.h"
#include "gtest/gtest.h"
#include "tests/model_test_util.h"
#include "tests/test_util.h"

namespace arc {
namespace {

// Every test here runs libtorch on one thread: reproducible results, and the suite
// shares the machine with the other tests.
class OneTorchThread : public ::testing::Environment {
 public:
  void SetUp() override { at::set_num_threads(1); }
};
::testing::Environment* const kOneTorchThread =
    ::testing::AddGlobalTestEnvironment(new OneTorchThread);

using ::arc::testing::G;

// Records what a solve reports; cancels once `cancel_after` polls have been answered (< 0: never).
class Recorder : public SolveObserver {
 public:
  void OnPhase(SolvePhase phase) override { phases.push_back(phase); }
  void OnTttStep(const TttProgress& p) override { ttt_steps.push_back(p.step); }
  void OnInference(int done, int total) override {
    if (inference_calls++ == 0) first_views_done = done;
    views_done = done;
    views_total = total;
  }
  bool IsCancelled() override {
    if (cancel_after_steps >= 0 && static_cast<int>(ttt_steps.size()) >= cancel_after_steps) {
      return true;
    }
    return cancel_after >= 0 && ++polls > cancel_after;
  }

  std::vector<SolvePhase> phases;
  std::vector<int> ttt_steps;
  int inference_calls = 0;
  int first_views_done = -1;
  int views_done = 0;
  int views_total = 0;
  int cancel_after = -1;
  int cancel_after_steps = -1;  // cancels once this many TTT steps were reported (< 0: never)
  int polls = 0;
};

std::shared_ptr<const ArcModel> TinyModel(uint64_t seed = 1) {
  return arc::testing::TinyCompactModel(seed);
}

using ::arc::testing::ColourSwapTask;

// "Fill the grid with the colour of the scattered cells": 3x3 inputs with a few cells of one colour
// c, outputs 3x3 all c. Learnable by a tiny random-initialised model in a few hundred TTT steps
// (content-based attention), unlike copy-based rules.
Task FillTask(int demonstrations, uint64_t seed) {
  Rng rng(seed);
  Task t;
  t.id = "fill";
  auto pair = [&rng](int colour) {
    Grid in(3, 3);
    for (int k = 0; k < 3; ++k) {
      in.set(static_cast<int>(rng.Below(3)), static_cast<int>(rng.Below(3)),
             static_cast<uint8_t>(colour));
    }
    return Example{in, Grid(3, 3, static_cast<uint8_t>(colour))};
  };
  for (int i = 0; i < demonstrations; ++i) t.train.push_back(pair(1 + static_cast<int>(rng.Below(9))));
  Example q = pair(1 + static_cast<int>(rng.Below(9)));
  t.test.push_back({q.input, q.output});
  return t;
}

// What both option sets below share: the TTT expert alone (the program search would explain
// these tasks and skip TTT), 3x3 samples only (no size-changing augmenters: few tokens), and the
// optimizer steps decided by max_steps rather than the epochs.
SolveOptions TttExpertOnSmallGrids(int max_steps, int batch_size, double learning_rate) {
  SolveOptions o;
  o.experts = Experts::kTtt;
  o.ttt_data.augment = false;
  o.train.epochs = 100;
  o.train.max_steps = max_steps;
  o.train.batch_size = batch_size;
  o.train.learning_rate = learning_rate;
  return o;
}

// TTT settings under which the tiny model learns FillTask: 4 colour-permuted copies per sample for
// colour variety, all LoRA targets.
SolveOptions LearningOptions() {
  SolveOptions o = TttExpertOnSmallGrids(/*max_steps=*/200, /*batch_size=*/8, 3e-3);
  o.ttt_data.permute_n = 4;
  o.lora.rank = 16;
  o.lora.alpha = 16;
  o.lora.targets = {ProjectionKind::kQ,    ProjectionKind::kK,  ProjectionKind::kV,
                    ProjectionKind::kO,    ProjectionKind::kGate, ProjectionKind::kUp,
                    ProjectionKind::kDown, ProjectionKind::kLmHead};
  return o;
}

SolveOptions FastOptions() {
  SolveOptions o = TttExpertOnSmallGrids(/*max_steps=*/8, /*batch_size=*/4, 1e-3);
  o.ttt_data.max_samples = 64;
  o.ttt_data.permute_n = 1;
  o.ttt_data.permute_colours = false;  // colours carry the rule here
  o.views.permutations = 1;
  o.inference.batch_size = 8;
  return o;
}

TEST(SolverTest, OptionsAreValidatedWithTheFieldName) {
  Solver solver(TinyModel());
  SolveOptions o = FastOptions();
  o.train.batch_size = 0;
  EXPECT_EQ(std::string(solver.Solve(ColourSwapTask(3, 1), o).status().message()),
            "ttt_batch_size (train.batch_size): 0 is outside 1..256");
  o = FastOptions();
  o.inference.batch_size = 1000;
  EXPECT_EQ(std::string(solver.Solve(ColourSwapTask(3, 1), o).status().message()),
            "infer_batch_size (inference.batch_size): 1000 is outside 1..256");
  Task bad = ColourSwapTask(3, 1);
  bad.train.clear();
  EXPECT_EQ(solver.Solve(bad, o).status().code(), absl::StatusCode::kInvalidArgument);
}

// TTT learns a small task: the loss falls by more than 20x and the right grid is attempt 1, where
// the same random base model without TTT does not produce it.
TEST(SolverTest, TestTimeTrainingLearnsASmallTask) {
  Solver solver(TinyModel());
  const Task task = FillTask(4, 1);
  SolveOptions o = LearningOptions();
  Recorder recorder;
  absl::StatusOr<SolveResult> r = solver.Solve(task, o, &recorder);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(recorder.phases, (std::vector<SolvePhase>{SolvePhase::kTttData, SolvePhase::kTttTrain,
                                              SolvePhase::kInference, SolvePhase::kSelection}));
  EXPECT_TRUE(r->ttt);
  ASSERT_EQ(recorder.ttt_steps.size(), 200u);  // one call per optimizer step, in order
  EXPECT_EQ(recorder.ttt_steps.front(), 1);
  EXPECT_EQ(recorder.ttt_steps.back(), 200);
  EXPECT_EQ(recorder.views_done, recorder.views_total);
  EXPECT_EQ(recorder.views_total, r->tests[0].num_views);
  EXPECT_EQ(r->train_stats.steps, 200);
  EXPECT_EQ(r->train_stats.samples, 80);  // (4 leave-one + 12 leave-two) x (1 + 4 permuted)
  EXPECT_GT(r->train_stats.first_loss, 20 * r->train_stats.last_loss)
      << r->train_stats.first_loss << " -> " << r->train_stats.last_loss;
  ASSERT_FALSE(r->tests[0].candidates.empty());
  EXPECT_EQ(r->tests[0].candidates[0].grid, *task.test[0].output);
  EXPECT_EQ(r->AttemptsFor(0).attempt_1, *task.test[0].output);

  SolveOptions no_ttt = o;
  no_ttt.ttt = false;
  absl::StatusOr<SolveResult> base = solver.Solve(task, no_ttt);
  ASSERT_TRUE(base.ok()) << base.status();
  EXPECT_FALSE(base->ttt);
  EXPECT_NE(base->AttemptsFor(0).attempt_1, *task.test[0].output);
  EXPECT_NE(base->AttemptsFor(0).attempt_2, *task.test[0].output);

}

// base_attempt: the adapted model's attempt 1 stays, the base model's own top candidate (what the
// same solve without TTT ranks first) becomes attempt 2; the progress counts both inference passes.
TEST(SolverTest, BaseAttemptAddsTheBaseModelsTopCandidate) {
  // A random model and task where the base model's views give valid grids (most random tiny
  // models produce none without training) and its top candidate differs from the adapted one's.
  Solver solver(TinyModel(10));
  const Task task = ColourSwapTask(3, 10);
  SolveOptions o = FastOptions();
  absl::StatusOr<SolveResult> adapted = solver.Solve(task, o);
  SolveOptions no_ttt = o;
  no_ttt.ttt = false;
  absl::StatusOr<SolveResult> base = solver.Solve(task, no_ttt);
  ASSERT_TRUE(adapted.ok() && base.ok());
  ASSERT_FALSE(base->tests[0].candidates.empty());
  ASSERT_FALSE(adapted->tests[0].candidates.empty());
  const Candidate& base_top = base->tests[0].candidates[0];
  const Candidate& adapted_top = adapted->tests[0].candidates[0];
  ASSERT_NE(base_top.grid, adapted_top.grid) << "pick a task where the two models disagree";

  SolveOptions guarded = o;
  guarded.selection.base_attempt = true;
  Recorder last;
  absl::StatusOr<SolveResult> g = solver.Solve(task, guarded, &last);
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_EQ(g->AttemptsFor(0).attempt_1, adapted_top.grid);
  EXPECT_EQ(g->AttemptsFor(0).attempt_2, base_top.grid);
  EXPECT_EQ(g->tests[0].candidates[1].votes, base_top.votes);
  EXPECT_EQ(g->tests[0].candidates.size(),
            adapted->tests[0].candidates.size() +
                (std::none_of(adapted->tests[0].candidates.begin(),
                              adapted->tests[0].candidates.end(),
                              [&](const Candidate& c) { return c.grid == base_top.grid; })
                     ? 1
                     : 0));
  EXPECT_EQ(g->tests[0].num_views, adapted->tests[0].num_views);
  EXPECT_EQ(last.views_total, 2 * g->tests[0].num_views);
  EXPECT_EQ(last.views_done, last.views_total);
  EXPECT_EQ(last.first_views_done, 0);
  EXPECT_EQ(g->generated_tokens, adapted->generated_tokens + base->generated_tokens);

  // Without TTT the option changes nothing.
  no_ttt.selection.base_attempt = true;
  absl::StatusOr<SolveResult> base_again = solver.Solve(task, no_ttt);
  ASSERT_TRUE(base_again.ok());
  EXPECT_EQ(base_again->AttemptsFor(0).attempt_2, base->AttemptsFor(0).attempt_2);
  EXPECT_EQ(base_again->generated_tokens, base->generated_tokens);
}

Candidate Cand(int colour, int votes) {
  Candidate c;
  c.grid = Grid(1, 1, static_cast<uint8_t>(colour));
  c.votes = votes;
  return c;
}

std::vector<int> Colours(const std::vector<Candidate>& ranked) {
  std::vector<int> out;
  for (const Candidate& c : ranked) out.push_back(c.grid.at(0, 0));
  return out;
}

TEST(PlaceAsSecondTest, MovesInsertsOrLeavesAttemptOne) {
  std::vector<Candidate> ranked = {Cand(1, 5), Cand(2, 3), Cand(3, 1)};
  PlaceAsSecond(Cand(3, 9), ranked);  // present: moved, keeps the ranked entry's votes
  EXPECT_EQ(Colours(ranked), (std::vector<int>{1, 3, 2}));
  EXPECT_EQ(ranked[1].votes, 1);
  PlaceAsSecond(Cand(4, 7), ranked);  // absent: inserted with its own votes
  EXPECT_EQ(Colours(ranked), (std::vector<int>{1, 4, 3, 2}));
  EXPECT_EQ(ranked[1].votes, 7);
  PlaceAsSecond(Cand(1, 0), ranked);  // already attempt 1: unchanged
  EXPECT_EQ(Colours(ranked), (std::vector<int>{1, 4, 3, 2}));
  std::vector<Candidate> one = {Cand(1, 2)};
  PlaceAsSecond(Cand(2, 1), one);
  EXPECT_EQ(Colours(one), (std::vector<int>{1, 2}));
  std::vector<Candidate> none;
  PlaceAsSecond(Cand(2, 1), none);
  EXPECT_EQ(Colours(none), (std::vector<int>{2}));
}

// Full fine-tuning (a private copy of the base) learns the same task; the shared base is untouched.
TEST(SolverTest, FullFineTuningLearnsAndLeavesTheBaseAlone) {
  std::shared_ptr<const ArcModel> model = TinyModel();
  const at::Tensor before = model->net->StateDict().at("model.layers.0.mlp.up_proj.weight").clone();
  Solver solver(model);
  const Task task = FillTask(4, 1);
  SolveOptions o = LearningOptions();
  o.full_finetune = true;
  o.train.learning_rate = 1e-3;
  absl::StatusOr<SolveResult> r = solver.Solve(task, o);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->full_finetune);
  EXPECT_EQ(r->adapter_parameters, model->net->config().NumParameters());
  EXPECT_GT(r->train_stats.first_loss, 20 * r->train_stats.last_loss)
      << r->train_stats.first_loss << " -> " << r->train_stats.last_loss;
  EXPECT_EQ(r->AttemptsFor(0).attempt_1, *task.test[0].output);
  EXPECT_TRUE(at::equal(before, model->net->StateDict().at("model.layers.0.mlp.up_proj.weight")));

  o.full_finetune_max_parameters = 1000;
  EXPECT_EQ(solver.Solve(task, o).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(SolverTest, SameSeedSameResultAndViewsAreReported) {
  Solver solver(TinyModel());
  const Task task = ColourSwapTask(3, 2);
  SolveOptions o = FastOptions();
  o.include_views = true;
  absl::StatusOr<SolveResult> a = solver.Solve(task, o);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->task_hash, ContentHash(task));
  EXPECT_EQ(a->train_stats.steps, 8);
  ASSERT_EQ(a->tests.size(), 1u);
  const TestResult& t = a->tests[0];
  EXPECT_EQ(t.num_views, static_cast<int>(t.views.size()));
  EXPECT_GE(t.num_views, 8);
  int valid = 0, votes = 0;
  for (const ViewPrediction& v : t.views) {
    valid += v.valid;
    if (!v.valid) {
      EXPECT_FALSE(v.error.empty()) << v.view;
    }
  }
  for (const Candidate& c : t.candidates) votes += c.votes;
  EXPECT_EQ(valid + t.invalid_outputs, t.num_views);  // invalid outputs are counted, not fatal
  EXPECT_EQ(votes, valid);

  // Same seed, same everything; the solver is reusable.
  absl::StatusOr<SolveResult> b = solver.Solve(task, o);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(a->train_stats.last_loss, b->train_stats.last_loss);
  EXPECT_EQ(a->tests[0].invalid_outputs, b->tests[0].invalid_outputs);
  ASSERT_EQ(a->tests[0].views.size(), b->tests[0].views.size());
  for (size_t i = 0; i < a->tests[0].views.size(); ++i) {
    EXPECT_EQ(a->tests[0].views[i].output, b->tests[0].views[i].output);
    EXPECT_EQ(a->tests[0].views[i].error, b->tests[0].views[i].error);
  }
  // Another seed trains differently.
  o.seed = 7;
  absl::StatusOr<SolveResult> c = solver.Solve(task, o);
  ASSERT_TRUE(c.ok());
  EXPECT_NE(a->train_stats.last_loss, c->train_stats.last_loss);
}

TEST(SolverTest, ProductOfExpertsRanksByScore) {
  Solver solver(TinyModel());
  SolveOptions o = LearningOptions();
  o.selection.mode = SelectionMode::kPoe;
  o.selection.poe_top_k = 3;
  o.selection.poe_views = 2;
  absl::StatusOr<SolveResult> r = solver.Solve(FillTask(4, 3), o);
  ASSERT_TRUE(r.ok()) << r.status();
  const std::vector<Candidate>& c = r->tests[0].candidates;
  ASSERT_FALSE(c.empty());
  // Scores are summed log-likelihoods (negative), sorted descending over the top K.
  const size_t k = std::min<size_t>(3, c.size());
  for (size_t i = 0; i < k; ++i) EXPECT_LT(c[i].score, 0);
  for (size_t i = 1; i < k; ++i) EXPECT_GE(c[i - 1].score, c[i].score);
}

TEST(SolverTest, CancellationStopsTrainingAndLeavesTheSolverUsable) {
  Solver solver(TinyModel());
  SolveOptions o = FastOptions();
  o.train.max_steps = 1000;
  o.train.epochs = 100;
  Recorder cancel;
  // (Polled many times per step now: before and after each micro-batch, in backward.)
  cancel.cancel_after_steps = 3;
  absl::StatusOr<SolveResult> r = solver.Solve(ColourSwapTask(3, 4), o, &cancel);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(std::string(r.status().message()).rfind("ttt cancelled at step 3 of ", 0), 0u)
      << r.status();
  EXPECT_TRUE(solver.Solve(ColourSwapTask(3, 4), FastOptions()).ok());
}

TEST(SolverTest, TooLongForTheContextIsFailedPrecondition) {
  Solver solver(TinyModel());
  Task big;
  big.id = "big";
  for (int i = 0; i < 2; ++i) big.train.push_back({Grid(20, 20, 1), Grid(20, 20, 2)});
  big.test.push_back({Grid(20, 20, 1), std::nullopt});
  SolveOptions o = FastOptions();
  o.ttt = false;
  absl::StatusOr<SolveResult> r = solver.Solve(big, o);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(std::string(r.status().message()),
            "test[0]: no view fits the model's context of 512 tokens: the shortest prompt (one "
            "demonstration) has 1266 tokens and the answer needs up to 422");
}

// With both experts, a task too long for the model's context keeps the search's answers: TTT is
// skipped (before any training), and the reason is reported.
TEST(SolverTest, BothExpertsKeepTheSearchWhenTheTaskIsTooLongForTheModel) {
  Solver solver(TinyModel());
  Task big;
  big.id = "big";
  for (int i = 0; i < 2; ++i) big.train.push_back({Grid(20, 20, 1), Grid(20, 20, 2)});
  big.test.push_back({Grid(20, 20, 1), Grid(20, 20, 2)});
  SolveOptions o = FastOptions();
  o.experts = Experts::kBoth;
  o.search.skip_ttt_when_explained = false;  // TTT would run if the task fitted
  absl::StatusOr<SolveResult> r = solver.Solve(big, o);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->search.ttt_skipped);
  EXPECT_NE(r->search.ttt_skipped_because.find("no view fits the model's context of 512 tokens"),
            std::string::npos)
      << r->search.ttt_skipped_because;
  EXPECT_FALSE(r->ttt);
  ASSERT_EQ(r->tests.size(), 1u);
  ASSERT_FALSE(r->tests[0].candidates.empty());
  EXPECT_EQ(r->tests[0].candidates[0].grid, Grid(20, 20, 2));
  EXPECT_EQ(r->tests[0].candidates[0].expert, kSearchExpert);
}

// The marc preset: marc's effective settings on top of the built-in ones, with a LoRA on lm_head
// that saves and loads in the PEFT layout, also over tied embeddings (Llama-3.2's case).
TEST(SolverTest, MarcPresetTrainsLmHeadAndItsAdapterRoundTrips) {
  absl::StatusOr<SolveOptions> o =
      ApplySolveOptionsJson(MarcPresetSolveOptionsJson(), "marc preset", SolveOptions{});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->lora.rank, 128);
  EXPECT_DOUBLE_EQ(o->lora.alpha, 16.0);
  EXPECT_DOUBLE_EQ(o->train.learning_rate, 1e-4);
  EXPECT_EQ(o->ttt_data.translate, TranslateMode::kMarc);
  const std::vector<ProjectionKind> want = {ProjectionKind::kQ,    ProjectionKind::kV,
                                            ProjectionKind::kGate, ProjectionKind::kUp,
                                            ProjectionKind::kDown, ProjectionKind::kLmHead};
  EXPECT_EQ(o->lora.targets, want);

  const ModelConfig config = arc::testing::TinyModelConfig(/*tied=*/true);
  LlamaForCausalLM model = CreateLlama(config).value();
  model->InitializeWeights(/*seed=*/5, /*std=*/0.3);
  LoraConfig lora = o->lora;
  lora.rank = 4;  // the preset's 128 exceeds the tiny model's width; the targets are the point
  auto adapter = LoraAdapter::Create(config, lora).value();
  {
    at::NoGradGuard no_grad;
    for (const at::Tensor& p : adapter->Parameters()) p.normal_(0.0, 0.5);
  }
  const std::string dir = arc::testing::TempDir("marc_preset_adapter");
  ASSERT_TRUE(adapter->Save(dir).ok());
  const std::string peft = ReadFile(dir + "/adapter_config.json").value();
  EXPECT_NE(peft.find("\"lm_head\""), std::string::npos) << peft;
  auto loaded = LoraAdapter::Load(dir, config);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  ASSERT_NE((*loaded)->Find(0, ProjectionKind::kLmHead), nullptr);
  c10::InferenceMode guard;
  const at::Tensor tokens = at::tensor(std::vector<int64_t>{1, 4, 9, 2}, at::kLong).unsqueeze(0);
  const at::Tensor with = model->forward(tokens, {}, adapter.get());
  EXPECT_TRUE(at::allclose(model->forward(tokens, {}, loaded->get()), with, 1e-5, 1e-5));
  // The same block updates without the head's: the logits move, so lm_head's LoRA takes part.
  LoraConfig no_head = lora;
  no_head.targets.pop_back();
  auto blocks = LoraAdapter::Create(config, no_head).value();
  ASSERT_TRUE(blocks->LoadStateDict([&] {
    std::map<std::string, at::Tensor> t;
    for (const auto& [name, value] : adapter->NamedParameters()) {
      if (name.find("lm_head") == std::string::npos) t.emplace(name, value);
    }
    return t;
  }()).ok());
  EXPECT_FALSE(at::allclose(model->forward(tokens, {}, blocks.get()), with, 1e-3, 1e-3));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace arc
