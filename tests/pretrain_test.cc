// Tests of train/ (train/pretrain.h lists its files): the data mix (never dev, never held-out
// families), loss masks and augmentations of samples, length batching, the learning-rate schedule,
// AdamW, and the training loop (loss falls, determinism, checkpoints that resume bit-for-bit and
// refuse damaged files).
#include "train/pretrain.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <torch/optim/adamw.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/data/augment.h"
#include "gen/generator.h"
#include "gen/program_tasks.h"
#include "train/curriculum.h"
#include "core/data/task_io.h"
#include "core/model/tensor_io.h"
#include "model_test_util.h"

namespace arc {
namespace {

namespace fs = std::filesystem;

const std::string kArcDir = std::string(ARC_SHARED_DIR) + "/data/arc-agi-1";

bool HaveArcData() { return fs::exists(kArcDir + "/splits.json"); }

std::string TempDir(const std::string& name) {
  const fs::path p =
      fs::temp_directory_path() / absl::StrCat("pretrain_test_", ::getpid(), "_", name);
  fs::remove_all(p);
  fs::create_directories(p);
  return p.string();
}

// Small generated tasks standing in for ARC tasks (no data files needed), ids "arc<i>".
std::vector<Task> FakeArcTasks(int n, uint64_t seed) {
  std::vector<Task> tasks;
  const std::vector<std::string> families = {"flip", "colour_map", "gravity", "tile"};
  for (int i = 0; i < n; ++i) {
    Task t = GenerateTask(families[i % families.size()], TaskSeed(seed, i), Difficulty{3, 5, 2, 3})
                 .value();
    t.id = absl::StrCat("arc", i);
    tasks.push_back(std::move(t));
  }
  return tasks;
}

std::vector<CurriculumStage> SmallCurriculum() { return {{0, Difficulty{3, 5, 2, 3}}}; }

// Splits compact ids "<s> (<I> rows <O> rows </s>)*" into pairs; the last pair is the target.
std::vector<Example> DecodePairs(const std::vector<int>& ids) {
  std::vector<Example> pairs;
  std::vector<std::vector<int>> rows;
  std::vector<int> row;
  Grid input;
  auto finish = [&]() {
    Grid g = Grid::FromRows(rows).value();
    rows.clear();
    return g;
  };
  for (size_t i = 1; i < ids.size(); ++i) {
    const int id = ids[i];
    if (id < 10) {
      row.push_back(id);
    } else if (id == kCompactRowEnd) {
      rows.push_back(row);
      row.clear();
    } else if (id == kCompactOutput) {
      input = finish();
    } else if (id == kCompactEos) {
      pairs.push_back(Example{input, finish()});
    }
  }
  return pairs;
}

// True when every pair of `sample` is a distinct pair of `source` under one dihedral element and
// one colour bijection that keeps 0.
bool IsAugmentationOf(const std::vector<Example>& sample, const std::vector<Example>& source) {
  for (Dihedral d : kAllDihedral) {
    std::map<int, int> colour = {{0, 0}};  // source colour -> sample colour; 0 stays 0
    std::set<int> used_sources;
    bool ok = true;
    auto same = [&](const Grid& src, const Grid& dst, std::map<int, int>& map) {
      const Grid t = ApplyDihedral(d, src);
      if (t.rows() != dst.rows() || t.cols() != dst.cols()) return false;
      for (size_t k = 0; k < t.cells().size(); ++k) {
        const int a = t.cells()[k], b = dst.cells()[k];
        auto it = map.find(a);
        if (it == map.end()) {
          for (auto& [x, y] : map) {
            if (y == b) return false;  // not a bijection
          }
          map[a] = b;
        } else if (it->second != b) {
          return false;
        }
      }
      return true;
    };
    for (const Example& e : sample) {
      bool found = false;
      for (size_t s = 0; s < source.size() && !found; ++s) {
        if (used_sources.count(static_cast<int>(s))) continue;
        std::map<int, int> trial = colour;
        if (same(source[s].input, e.input, trial) && same(source[s].output, e.output, trial)) {
          colour = trial;
          used_sources.insert(static_cast<int>(s));
          found = true;
        }
      }
      if (!found) {
        ok = false;
        break;
      }
    }
    if (ok) return true;
  }
  return false;
}

std::vector<Example> Pool(const Task& t) {
  std::vector<Example> pool = t.train;
  for (const TestCase& c : t.test) pool.push_back(Example{c.input, *c.output});
  return pool;
}

// ---------------------------------------------------------------------------------------------
// Splits and the data mix.

TEST(ArcSplitsTest, RealSplitsAreDisjoint) {
  if (!HaveArcData()) GTEST_SKIP() << "no ARC data at " << kArcDir;
  const ArcSplits s = LoadArcSplits(kArcDir).value();
  EXPECT_EQ(s.pretrain.size(), 300u);
  EXPECT_EQ(s.dev.size(), 100u);
  std::set<std::string> dev;
  for (const Task& t : s.dev) dev.insert(t.id);
  for (const Task& t : s.pretrain) EXPECT_EQ(dev.count(t.id), 0u) << t.id;
}

TEST(ArcSplitsTest, OverlappingSplitsAreRefused) {
  const std::string dir = TempDir("splits");
  fs::create_directories(dir + "/training");
  const std::vector<Task> tasks = FakeArcTasks(2, 1);
  std::ofstream(dir + "/training/aaaa.json") << TaskToJson(tasks[0]);
  std::ofstream(dir + "/training/bbbb.json") << TaskToJson(tasks[1]);
  std::ofstream(dir + "/training/cccc.json") << TaskToJson(tasks[1]);  // bbbb's content
  std::ofstream(dir + "/splits.json") << R"({"pretrain": ["aaaa", "bbbb"], "dev": ["bbbb"]})";
  absl::StatusOr<ArcSplits> s = LoadArcSplits(dir);
  EXPECT_EQ(s.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.status().message(),
            dir + "/splits.json: task bbbb is in both the pretrain and the dev split");

  std::ofstream(dir + "/splits.json") << R"({"pretrain": ["aaaa", "cccc"], "dev": ["bbbb"]})";
  s = LoadArcSplits(dir);
  EXPECT_EQ(s.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.status().message(),
            dir + "/splits.json: pretrain task cccc has the content of a dev task");

  std::ofstream(dir + "/splits.json") << R"({"pretrain": ["aaaa"]})";
  s = LoadArcSplits(dir);
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.status().message(), dir + "/splits.json: dev: expected a list of ids");
  fs::remove_all(dir);
}

TEST(PretrainDataTest, DevTasksAndHeldOutFamiliesAreRefused) {
  const auto model = testing::TinyCompactModel();
  std::vector<Task> arc = FakeArcTasks(4, 2);
  std::vector<Task> dev = {arc[2]};
  dev[0].id = "dev0";  // same content under another id
  absl::StatusOr<std::unique_ptr<PretrainData>> data =
      PretrainData::Create(arc, dev, *model->format, {});
  EXPECT_EQ(data.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(data.status().message(),
            "arc task arc2 is a dev task; the dev split must never be trained on");

  PretrainDataOptions o;
  o.families = {"flip", "colour_swap"};
  data = PretrainData::Create(FakeArcTasks(2, 3), {}, *model->format, o);
  EXPECT_EQ(data.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(data.status().message(),
            "families: \"colour_swap\" is held out of training; set allow_held_out to stream it");

  o = {};
  o.arc_fraction = 1.5;
  data = PretrainData::Create(FakeArcTasks(2, 3), {}, *model->format, o);
  EXPECT_EQ(data.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(data.status().message(), "arc_fraction: 1.5 is outside 0..1");
}

TEST(PretrainDataTest, MixNeverYieldsDevTasksOrHeldOutFamilies) {
  if (!HaveArcData()) GTEST_SKIP() << "no ARC data at " << kArcDir;
  const auto model = testing::TinyCompactModel();
  ArcSplits splits = LoadArcSplits(kArcDir).value();
  std::set<std::string> pretrain_ids, dev_ids;
  for (const Task& t : splits.pretrain) pretrain_ids.insert(t.id);
  for (const Task& t : splits.dev) dev_ids.insert(t.id);
  const std::vector<std::string> held = HeldOutFamilies();
  const std::vector<std::string> training = TrainingFamilies();
  PretrainDataOptions o;
  o.seed = 5;
  o.arc_fraction = 0.5;
  o.max_seq_len = 512;
  std::map<std::string, Task> by_id;
  for (const Task& t : splits.pretrain) by_id[t.id] = t;
  const auto data = PretrainData::Create(splits.pretrain, splits.dev, *model->format, o).value();
  EXPECT_GT(data->num_arc_tasks(), 150);
  EXPECT_EQ(data->num_arc_tasks() + data->num_arc_tasks_dropped(), 300);
  int arc = 0, n = 0;
  std::set<std::string> families_seen;
  for (int64_t i = 0; i < 400; ++i) {
    const std::optional<PretrainSample> s = data->SampleAt(i);
    if (!s.has_value()) continue;
    ++n;
    EXPECT_LE(s->prompt.ids.size(), 512u);
    EXPECT_EQ(dev_ids.count(s->task_id), 0u) << s->task_id;
    if (s->from_arc) {
      ++arc;
      EXPECT_EQ(pretrain_ids.count(s->task_id), 1u) << s->task_id;
      EXPECT_TRUE(IsAugmentationOf(DecodePairs(s->prompt.ids), Pool(by_id.at(s->task_id))))
          << s->task_id;
    } else {
      families_seen.insert(s->family);
      EXPECT_EQ(std::count(held.begin(), held.end(), s->family), 0) << s->family;
      EXPECT_EQ(std::count(training.begin(), training.end(), s->family), 1) << s->family;
    }
  }
  EXPECT_GE(n, 380);  // a large ARC pair that does not fit 512 tokens is redrawn, rarely given up
  EXPECT_NEAR(static_cast<double>(arc) / n, 0.5, 0.08);
  EXPECT_GE(families_seen.size(), 30u);
  // A pure function of the index.
  EXPECT_EQ(data->SampleAt(17)->prompt.ids, data->SampleAt(17)->prompt.ids);
}

TEST(PretrainDataTest, GeneratedSamplesAreAugmentedPoolsOfTheirTask) {
  const auto model = testing::TinyCompactModel();
  PretrainDataOptions o;
  o.arc_fraction = 0;
  o.curriculum = SmallCurriculum();
  const auto data = PretrainData::Create({}, {}, *model->format, o).value();
  std::set<int> demo_counts;
  for (int64_t i = 0; i < 60; ++i) {
    const PretrainSample s = data->SampleAt(i).value();
    ASSERT_FALSE(s.from_arc);
    const size_t cut = s.task_id.rfind('_');
    const uint64_t seed = std::stoull(s.task_id.substr(cut + 1));
    const Task source = GenerateTask(s.family, seed, SmallCurriculum()[0].difficulty).value();
    const std::vector<Example> pairs = DecodePairs(s.prompt.ids);
    EXPECT_EQ(static_cast<int>(pairs.size()), s.demonstrations + 1);
    EXPECT_TRUE(IsAugmentationOf(pairs, Pool(source))) << s.task_id;
    demo_counts.insert(s.demonstrations);
  }
  EXPECT_GE(demo_counts.size(), 2u);  // 3-5 demonstrations, all pairs pooled
}

TEST(PretrainDataTest, ProgramTasksAreMixedInAndNeverHeldOut) {
  const auto model = testing::TinyCompactModel();
  PretrainDataOptions o;
  o.seed = 3;
  o.arc_fraction = 0;
  o.program_fraction = 0.5;
  o.curriculum = SmallCurriculum();
  const auto data = PretrainData::Create({}, {}, *model->format, o).value();
  const uint64_t program_seed = Rng(o.seed).Fork(kProgramStream).Next();
  int programs = 0, n = 0;
  for (int64_t i = 0; i < 200; ++i) {
    const std::optional<PretrainSample> s = data->SampleAt(i);
    if (!s.has_value()) continue;
    ++n;
    if (s->program.empty()) {
      EXPECT_NE(s->family, "program");
      continue;
    }
    ++programs;
    EXPECT_EQ(s->family, "program");
    const std::vector<int> steps = ParseProgramText(s->program).value();
    EXPECT_FALSE(IsHeldOutProgram(steps)) << s->program;
    // The sample is an augmented pool of program task i at the curriculum's difficulty.
    const ProgramTask source =
        GenerateProgramTask(TaskSeed(program_seed, i), SmallCurriculum()[0].difficulty).value();
    EXPECT_EQ(source.program, s->program);
    EXPECT_TRUE(IsAugmentationOf(DecodePairs(s->prompt.ids), Pool(source.task))) << s->program;
  }
  EXPECT_NEAR(static_cast<double>(programs) / n, 0.5, 0.1);
  // Families only when program_fraction is 0.
  o.program_fraction = 0;
  const auto families = PretrainData::Create({}, {}, *model->format, o).value();
  for (int64_t i = 0; i < 50; ++i) EXPECT_TRUE(families->SampleAt(i)->program.empty());
  o.program_fraction = 1.5;
  EXPECT_EQ(PretrainData::Create({}, {}, *model->format, o).status().message(),
            "program_fraction: 1.5 is outside 0..1");
}

TEST(CurriculumTest, NamedCurriculaAndTheLargestSideThatFits) {
  const auto model = testing::TinyCompactModel();
  // Compact: an s x s grid costs s*(s+1) tokens; 3 pairs of them plus markers.
  EXPECT_EQ(LargestFittingSide(*model->format, 1024), 12);
  EXPECT_EQ(LargestFittingSide(*model->format, 2048), 17);
  EXPECT_EQ(LargestFittingSide(*model->format, 8), 0);
  const std::vector<CurriculumStage> v2 = NamedCurriculum("v2", *model->format, 1024).value();
  ASSERT_EQ(v2.size(), 4u);
  EXPECT_EQ(v2[0].num_tasks, 20000);
  EXPECT_EQ(v2[3].difficulty.max_side, 12);
  EXPECT_EQ(v2[3].difficulty.max_objects, 6);
  EXPECT_EQ(v2[3].difficulty.max_colours, 8);
  EXPECT_EQ(NamedCurriculum("v2", *model->format, 256).value()[3].difficulty.max_side, 10);
  EXPECT_EQ(NamedCurriculum("default", *model->format, 1024).value().size(),
            DefaultCurriculum().size());
  const absl::StatusOr<std::vector<CurriculumStage>> bad =
      NamedCurriculum("v3", *model->format, 1024);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.status().message(), "--curriculum: \"v3\" is not default or v2");
  EXPECT_EQ(DescribeCurriculum({{10, Difficulty{3, 6, 2, 3}}, {0, Difficulty{3, 12, 6, 8}}}),
            "3-6 sides, 2 objects, 3 colours until sample 10; 3-12 sides, 6 objects, 8 colours "
            "after");
}

// Each stage begins at its sample index: every grid is within the stage's sides, and the last
// stage reaches past 10.
TEST(CurriculumTest, StagesBeginAtTheirSampleIndex) {
  const auto model = testing::TinyCompactModel();
  PretrainDataOptions o;
  o.arc_fraction = 0;
  o.program_fraction = 0.5;
  o.curriculum = NamedCurriculum("v2", *model->format, 1024).value();
  const auto data = PretrainData::Create({}, {}, *model->format, o).value();
  auto largest_side = [&](int64_t from, int64_t count) {
    int largest = 0;
    for (int64_t i = from; i < from + count; ++i) {
      const std::optional<PretrainSample> s = data->SampleAt(i);
      if (!s.has_value()) continue;
      for (const Example& e : DecodePairs(s->prompt.ids)) {
        for (const Grid* g : {&e.input, &e.output}) {
          largest = std::max({largest, g->rows(), g->cols()});
        }
      }
    }
    return largest;
  };
  EXPECT_EQ(largest_side(20000 - 40, 40), 6);
  EXPECT_EQ(largest_side(20000, 40), 8);
  EXPECT_EQ(largest_side(120000 - 40, 40), 10);
  EXPECT_EQ(largest_side(120000, 60), 12);
}

TEST(PretrainDataTest, LossMaskCoversExactlyTheOutputsAfterTheFirstDemonstration) {
  const auto model = testing::TinyCompactModel();
  PretrainDataOptions o;
  o.arc_fraction = 0.5;
  o.max_seq_len = 150;  // forces demonstrations to be dropped
  o.curriculum = SmallCurriculum();
  const auto data = PretrainData::Create(FakeArcTasks(6, 4), {}, *model->format, o).value();
  int dropped = 0;
  for (int64_t i = 0; i < 80; ++i) {
    const std::optional<PretrainSample> s = data->SampleAt(i);
    if (!s.has_value()) continue;
    const std::vector<int>& ids = s->prompt.ids;
    ASSERT_LE(ids.size(), 200u);
    // Expected: tokens after each <O> up to and including its </s>, from the second output on.
    std::vector<uint8_t> expected(ids.size(), 0);
    int outputs = 0;
    bool in_output = false;
    for (size_t t = 0; t < ids.size(); ++t) {
      if (ids[t] == kCompactOutput) {
        ++outputs;
        in_output = true;
        continue;
      }
      if (in_output && outputs >= 2) expected[t] = 1;
      if (ids[t] == kCompactEos) in_output = false;
    }
    EXPECT_EQ(outputs, s->demonstrations + 1);
    EXPECT_EQ(s->prompt.loss_mask, expected) << "sample " << i;
    EXPECT_EQ(ids.back(), kCompactEos);
    EXPECT_EQ(s->prompt.answer_end, static_cast<int>(ids.size()));
    const Example target = DecodePairs(ids).back();
    EXPECT_EQ(s->prompt.answer_end - s->prompt.prompt_length,
              target.output.rows() * (target.output.cols() + 1) + 1);
    dropped += s->demonstrations < 3;  // every pool has at least 4 pairs
  }
  EXPECT_GT(dropped, 0);
}

TEST(RenderWithinLengthTest, DropsDemonstrationsFromTheEnd) {
  const auto model = testing::TinyCompactModel();
  const Task t = FakeArcTasks(1, 9)[0];
  const Example target{t.test[0].input, *t.test[0].output};
  const int full = static_cast<int>(
      RenderWithinLength(*model->format, t.train, target, 100000)->value().prompt.ids.size());
  const std::optional<CappedPrompt> one =
      RenderWithinLength(*model->format, t.train, target, full - 1).value();
  ASSERT_TRUE(one.has_value());
  EXPECT_EQ(one->demonstrations, static_cast<int>(t.train.size()) - 1);
  EXPECT_FALSE(RenderWithinLength(*model->format, t.train, target, 20).value().has_value());
}

// ---------------------------------------------------------------------------------------------
// Batching and schedule.

TEST(LengthBatchesTest, GreedyLongestFirstWithinTheBudget) {
  const std::vector<int> lengths = {100, 300, 250, 90, 400, 410, 50};
  const auto batches = MakeLengthBatches(lengths, 820).value();
  EXPECT_EQ(batches, (std::vector<std::vector<int>>{{5, 4}, {1, 2}, {0, 3, 6}}));

  const auto bad = MakeLengthBatches({100, 900}, 820);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.status().message(),
            "sample 1: length 900 is outside 1..820 (the token budget per batch)");

  Rng rng(3);
  std::vector<int> many;
  for (int i = 0; i < 500; ++i) many.push_back(static_cast<int>(rng.UniformInt(20, 1024)));
  const auto groups = MakeLengthBatches(many, 4096).value();
  std::vector<int> seen;
  int64_t padded = 0, real = 0;
  for (const auto& g : groups) {
    int longest = 0;
    for (int i : g) {
      longest = std::max(longest, many[i]);
      real += many[i];
      seen.push_back(i);
    }
    EXPECT_LE(static_cast<int64_t>(g.size()) * longest, 4096);
    padded += static_cast<int64_t>(g.size()) * longest;
  }
  std::sort(seen.begin(), seen.end());
  for (int i = 0; i < 500; ++i) EXPECT_EQ(seen[i], i);
  EXPECT_LT(1.0 - static_cast<double>(real) / padded, 0.02);  // sorted: little padding
}

TEST(LearningRateTest, WarmupThenCosineToTheFloor) {
  const LrSchedule s{1e-3, 10, 0.1};
  EXPECT_DOUBLE_EQ(WarmupCosineLearningRate(s, 0, 0), 1e-4);
  EXPECT_DOUBLE_EQ(WarmupCosineLearningRate(s, 4, 0), 5e-4);
  EXPECT_DOUBLE_EQ(WarmupCosineLearningRate(s, 9, 0), 1e-3);
  EXPECT_DOUBLE_EQ(WarmupCosineLearningRate(s, 50, 0.5), 1e-3 * (0.1 + 0.9 * 0.5));
  EXPECT_NEAR(WarmupCosineLearningRate(s, 50, 0.25),
              1e-3 * (0.1 + 0.9 * 0.5 * (1 + std::sqrt(0.5))), 1e-15);
  EXPECT_DOUBLE_EQ(WarmupCosineLearningRate(s, 100, 1.0), 1e-4);
  EXPECT_DOUBLE_EQ(WarmupCosineLearningRate(s, 100, 1.7), 1e-4);
  EXPECT_DOUBLE_EQ(WarmupCosineLearningRate(LrSchedule{2e-3, 0, 0}, 0, 0), 2e-3);
  EXPECT_DOUBLE_EQ(WarmupCosineLearningRate(LrSchedule{2e-3, 0, 0}, 7, 1), 0);
}

TEST(AdamWTest, MatchesTorchAdamW) {
  at::manual_seed(0);
  const at::Tensor w0 = at::randn({4, 3}), b0 = at::randn({3});
  at::Tensor w1 = w0.clone().set_requires_grad(true), b1 = b0.clone().set_requires_grad(true);
  at::Tensor w2 = w0.clone().set_requires_grad(true), b2 = b0.clone().set_requires_grad(true);
  AdamW ours({{"w", w1}, {"b", b1}}, AdamWOptions{0.9, 0.95, 1e-8, 0.1});
  // Torch decays every parameter it is given; ours decays matrices only, so the vector gets its
  // own group without decay.
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(
      std::vector<at::Tensor>{w2},
      std::make_unique<torch::optim::AdamWOptions>(
          torch::optim::AdamWOptions(0.01).betas({0.9, 0.95}).eps(1e-8).weight_decay(0.1)));
  groups.emplace_back(
      std::vector<at::Tensor>{b2},
      std::make_unique<torch::optim::AdamWOptions>(
          torch::optim::AdamWOptions(0.01).betas({0.9, 0.95}).eps(1e-8).weight_decay(0)));
  torch::optim::AdamW theirs(groups, torch::optim::AdamWOptions(0.01));
  const at::Tensor x = at::randn({5, 4});
  for (int step = 0; step < 5; ++step) {
    ours.ZeroGrad();
    theirs.zero_grad();
    (at::matmul(x, w1) + b1).pow(2).sum().backward();
    (at::matmul(x, w2) + b2).pow(2).sum().backward();
    ours.Step(0.01);
    theirs.step();
  }
  EXPECT_TRUE(at::allclose(w1, w2, 1e-6, 1e-7));
  EXPECT_TRUE(at::allclose(b1, b2, 1e-6, 1e-7));
  EXPECT_EQ(ours.StateTensors().at("step/w").item<int64_t>(), 5);
}

// ---------------------------------------------------------------------------------------------
// The loop.

struct TrainRun {
  std::shared_ptr<const ArcModel> model;
  std::shared_ptr<const PretrainData> data;
  std::unique_ptr<Pretrainer> trainer;
};

PretrainOptions LoopOptions(int64_t steps) {
  PretrainOptions o;
  o.batch_tokens = 512;
  o.shuffle_window = 8;  // about four batches per chunk: steps cross chunks
  o.schedule = LrSchedule{3e-3, 4, 0.1};
  o.max_steps = steps;
  return o;
}

TrainRun MakeRun(uint64_t init_seed, PretrainOptions options, double arc_fraction = 0.3,
                 double program_fraction = 0) {
  TrainRun r;
  r.model = testing::TinyCompactModel(init_seed);
  PretrainDataOptions d;
  d.seed = 11;
  d.arc_fraction = arc_fraction;
  d.program_fraction = program_fraction;
  d.max_seq_len = 256;
  d.curriculum = SmallCurriculum();
  r.data = PretrainData::Create(FakeArcTasks(8, 5), {}, *r.model->format, d).value();
  r.trainer = Pretrainer::Create(r.model, r.data, options).value();
  return r;
}

void ExpectSameWeights(const ArcModel& a, const ArcModel& b) {
  const auto sa = a.net->StateDict(), sb = b.net->StateDict();
  ASSERT_EQ(sa.size(), sb.size());
  for (const auto& [name, t] : sa) EXPECT_TRUE(at::equal(t, sb.at(name))) << name;
}

TEST(PretrainerTest, LossFallsOnASmallGeneratedSet) {
  PretrainOptions o = LoopOptions(30);
  o.batch_tokens = 2048;
  o.shuffle_window = 64;
  TrainRun r;
  r.model = testing::TinyCompactModel(1);
  PretrainDataOptions d;
  d.arc_fraction = 0;
  d.max_seq_len = 256;
  d.families = {"flip", "colour_map", "gravity"};
  d.curriculum = SmallCurriculum();
  r.data = PretrainData::Create({}, {}, *r.model->format, d).value();
  r.trainer = Pretrainer::Create(r.model, r.data, o).value();
  // A fixed set: the held-back evaluation of generated tasks of the same families.
  const std::vector<RenderedPrompt> eval =
      MakeEvalSamples(GenerateTaskSet(d.families, 77, 12, SmallCurriculum()[0].difficulty).value(),
                      *r.model->format, 256)
          .value();
  const EvalStats before = r.trainer->Evaluate(eval).value();
  double first = 0, last = 0;
  for (int i = 0; i < 30; ++i) {
    const StepStats s = r.trainer->Step().value();
    EXPECT_LE(s.padded_tokens, 2048);
    EXPECT_GT(s.loss_tokens, 0);
    if (i < 5) first += s.loss / 5;
    if (i >= 25) last += s.loss / 5;
  }
  EXPECT_TRUE(r.trainer->Done());
  EXPECT_EQ(r.trainer->state().step, 30);
  EXPECT_LT(last, first - 0.5) << "first " << first << " last " << last;
  const EvalStats after = r.trainer->Evaluate(eval).value();
  EXPECT_EQ(after.samples, 12);
  EXPECT_LT(after.loss, before.loss - 0.5);
  EXPECT_GT(after.answer_token_accuracy, before.answer_token_accuracy);
}

TEST(PretrainerTest, SameSeedSameWeights) {
  TrainRun a = MakeRun(1, LoopOptions(5)), b = MakeRun(1, LoopOptions(5));
  while (!a.trainer->Done()) ASSERT_TRUE(a.trainer->Step().ok());
  while (!b.trainer->Done()) ASSERT_TRUE(b.trainer->Step().ok());
  ExpectSameWeights(*a.model, *b.model);
  EXPECT_EQ(a.trainer->state().tokens, b.trainer->state().tokens);
  EXPECT_GT(a.trainer->state().chunk, 0);
}

TEST(PretrainerTest, ResumeFromCheckpointEqualsAnUninterruptedRun) {
  const std::string dir = TempDir("resume");
  TrainRun whole = MakeRun(1, LoopOptions(8));
  for (int i = 0; i < 8; ++i) {
    ASSERT_TRUE(whole.trainer->Step().ok());
    if (i == 2) {
      ASSERT_TRUE(whole.trainer->SaveCheckpoint(dir, /*keep=*/0).ok());
      EXPECT_GT(whole.trainer->state().batch_in_chunk, 0);  // saved in the middle of a chunk
    }
  }
  // A half-written save of a killed run must be ignored.
  fs::create_directories(dir + "/step-00000099.tmp-12345");
  std::ofstream(dir + "/step-00000099.tmp-12345/state.json") << "{";
  fs::create_directories(dir + "/step-00000050");  // no state.json: incomplete
  ASSERT_EQ(LatestCheckpoint(dir), dir + "/step-00000003");

  // Another initialisation: the checkpoint must overwrite everything.
  TrainRun resumed = MakeRun(42, LoopOptions(8));
  ASSERT_TRUE(resumed.trainer->RestoreCheckpoint(*LatestCheckpoint(dir)).ok());
  EXPECT_EQ(resumed.trainer->state().step, 3);
  while (!resumed.trainer->Done()) ASSERT_TRUE(resumed.trainer->Step().ok());
  EXPECT_EQ(resumed.trainer->state().step, 8);
  ExpectSameWeights(*whole.model, *resumed.model);
  EXPECT_EQ(resumed.trainer->state().tokens, whole.trainer->state().tokens);
  EXPECT_EQ(resumed.trainer->state().chunk, whole.trainer->state().chunk);
  EXPECT_GT(whole.trainer->state().chunk, 0);
  EXPECT_EQ(resumed.trainer->state().batch_in_chunk, whole.trainer->state().batch_in_chunk);

  // The checkpoint is a model directory, and so is the final save.
  const auto ckpt_model = LoadArcModel(dir + "/step-00000003").value();
  EXPECT_EQ(ckpt_model->format->name(), "compact");
  const std::string out = dir + "/final";
  ASSERT_TRUE(SaveArcModel(resumed.trainer->model(), out).ok());
  const auto loaded = LoadArcModel(out).value();
  EXPECT_EQ(loaded->name, "tiny");
  ExpectSameWeights(*loaded, *whole.model);
  fs::remove_all(dir);
}

// The same with DSL-program tasks in the mix: the data position alone resumes it.
TEST(PretrainerTest, ResumeWithProgramTasksEqualsAnUninterruptedRun) {
  const std::string dir = TempDir("resume_programs");
  TrainRun whole = MakeRun(1, LoopOptions(7), 0.3, /*program_fraction=*/0.5);
  for (int i = 0; i < 7; ++i) {
    ASSERT_TRUE(whole.trainer->Step().ok());
    if (i == 3) {
      ASSERT_TRUE(whole.trainer->SaveCheckpoint(dir, /*keep=*/0).ok());
    }
  }
  EXPECT_GT(whole.trainer->state().program_samples, 0);
  TrainRun resumed = MakeRun(7, LoopOptions(7), 0.3, /*program_fraction=*/0.5);
  ASSERT_TRUE(resumed.trainer->RestoreCheckpoint(*LatestCheckpoint(dir)).ok());
  EXPECT_EQ(resumed.trainer->state().step, 4);
  while (!resumed.trainer->Done()) ASSERT_TRUE(resumed.trainer->Step().ok());
  ExpectSameWeights(*whole.model, *resumed.model);
  EXPECT_EQ(resumed.trainer->state().program_samples, whole.trainer->state().program_samples);
  EXPECT_EQ(resumed.trainer->state().tokens, whole.trainer->state().tokens);
  fs::remove_all(dir);
}

TEST(PretrainerTest, KeepsTheNewestCheckpoints) {
  const std::string dir = TempDir("keep");
  TrainRun r = MakeRun(1, LoopOptions(4));
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(r.trainer->Step().ok());
    EXPECT_EQ(r.trainer->SaveCheckpoint(dir, /*keep=*/2).value(),
              absl::StrCat(dir, "/step-0000000", i + 1));
  }
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"step-00000003", "step-00000004"}));
  fs::remove_all(dir);
}

TEST(PretrainerTest, DamagedOrForeignCheckpointsAreRefused) {
  const std::string dir = TempDir("damaged");
  TrainRun r = MakeRun(1, LoopOptions(4));
  ASSERT_TRUE(r.trainer->Step().ok());
  ASSERT_TRUE(r.trainer->Step().ok());
  const std::string ckpt = r.trainer->SaveCheckpoint(dir).value();

  TrainRun other = MakeRun(1, LoopOptions(4));
  ASSERT_TRUE(other.trainer->Step().ok());  // step 1: must stay so after each refusal

  {  // a tensor of the wrong shape
    auto weights = LoadTensors(ckpt + "/model.safetensors").value();
    weights["model.norm.weight"] = at::ones({3});
    ASSERT_TRUE(SaveTensors(ckpt + "/model.safetensors", weights).ok());
    const absl::Status s = other.trainer->RestoreCheckpoint(ckpt);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(s.message(), ckpt +
                               "/model.safetensors: tensor \"model.norm.weight\": shape [3], "
                               "expected [64]");
    EXPECT_EQ(other.trainer->state().step, 1);
  }
  {  // a missing optimizer tensor
    auto moments = LoadTensors(ckpt + "/optimizer.safetensors").value();
    moments.erase("exp_avg_sq/lm_head.weight");
    ASSERT_TRUE(SaveTensors(ckpt + "/optimizer.safetensors", moments).ok());
    const absl::Status s = other.trainer->RestoreCheckpoint(ckpt);
    EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
    EXPECT_EQ(s.message(),
              ckpt + "/optimizer.safetensors: missing tensor \"exp_avg_sq/lm_head.weight\"");
    EXPECT_EQ(other.trainer->state().step, 1);
  }
  {  // written with other training options
    PretrainOptions o = LoopOptions(4);
    o.batch_tokens = 2048;
    TrainRun foreign = MakeRun(1, o);
    const absl::Status s = foreign.trainer->RestoreCheckpoint(ckpt);
    EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_EQ(s.message(), ckpt +
                               ": the checkpoint was written with batch_tokens=512, this run "
                               "has batch_tokens=2048; resume with the checkpoint's options or "
                               "use another --checkpoint_dir");
  }
  {  // written without program tasks, resumed with them
    TrainRun foreign = MakeRun(1, LoopOptions(4), 0.3, /*program_fraction=*/0.25);
    const absl::Status s = foreign.trainer->RestoreCheckpoint(ckpt);
    EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_EQ(s.message(), ckpt +
                               ": the checkpoint was written with program_fraction=(absent), "
                               "this run has program_fraction=0.25; resume with the "
                               "checkpoint's options or use another --checkpoint_dir");
  }
  fs::remove_all(dir);
}

TEST(PretrainerTest, OptionsAreValidated) {
  const auto model = testing::TinyCompactModel(1, /*context=*/128);
  PretrainDataOptions d;
  d.arc_fraction = 0;
  d.max_seq_len = 256;
  d.curriculum = SmallCurriculum();
  std::shared_ptr<const PretrainData> data =
      PretrainData::Create({}, {}, *model->format, d).value();
  PretrainOptions o = LoopOptions(4);
  auto t = Pretrainer::Create(model, data, o);
  EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(t.status().message(),
            "max_seq_len: 256 exceeds the model's context 128 (max_position_embeddings)");
  o.max_steps = 0;
  t = Pretrainer::Create(model, data, o);
  EXPECT_EQ(t.status().message(), "no budget: set max_steps, max_tokens or max_minutes");
  o = LoopOptions(4);
  o.batch_tokens = 100;
  t = Pretrainer::Create(model, data, o);
  EXPECT_EQ(t.status().message(),
            "batch_tokens: 100 is below max_seq_len 256; a longest sample must fit one batch");
}

// The tool end to end: a run killed with SIGKILL after its step-5 checkpoint, then resumed, ends
// with the weights of an uninterrupted run.
TEST(ArcTrainToolTest, KilledAndResumedRunEqualsAnUninterruptedRun) {
  if (!HaveArcData()) GTEST_SKIP() << "no ARC data at " << kArcDir;
  const std::string dir = TempDir("tool");
  const std::string common = absl::StrCat(
      ARC_TRAIN_BIN, " --preset tiny --steps 12 --threads 1 --arc_dir ", kArcDir,
      " --max_seq_len 256 --batch_tokens 1024 --shuffle_window 16 --eval_tasks 0 --eval_dev=false"
      " --log_every 100 --program_fraction 0.5 --curriculum v2");
  int rc = std::system(
      absl::StrCat(common, " --out ", dir, "/whole > ", dir, "/whole.log 2>&1").c_str());
  ASSERT_TRUE(WIFEXITED(rc) && WEXITSTATUS(rc) == 0) << "rc " << rc;

  const std::string resumable = absl::StrCat(common, " --out ", dir, "/resumed --checkpoint_dir ",
                                             dir, "/ckpt --checkpoint_steps 5 --resume");
  rc = std::system(
      absl::StrCat(resumable, " --kill_self_at_step 8 > ", dir, "/killed.log 2>&1").c_str());
  const bool killed = (WIFSIGNALED(rc) && WTERMSIG(rc) == SIGKILL) ||
                      (WIFEXITED(rc) && WEXITSTATUS(rc) == 128 + SIGKILL);
  ASSERT_TRUE(killed) << "rc " << rc;
  EXPECT_EQ(LatestCheckpoint(dir + "/ckpt"), dir + "/ckpt/step-00000005");
  EXPECT_FALSE(fs::exists(dir + "/resumed/model.safetensors"));

  rc = std::system(absl::StrCat(resumable, " > ", dir, "/resumed.log 2>&1").c_str());
  ASSERT_TRUE(WIFEXITED(rc) && WEXITSTATUS(rc) == 0) << "rc " << rc;
  const auto whole = LoadTensors(dir + "/whole").value();
  const auto resumed = LoadTensors(dir + "/resumed").value();
  ASSERT_EQ(whole.size(), resumed.size());
  for (const auto& [name, t] : whole) EXPECT_TRUE(at::equal(t, resumed.at(name))) << name;
  EXPECT_EQ(LatestCheckpoint(dir + "/ckpt"), dir + "/ckpt/step-00000012");
  fs::remove_all(dir);
}

}  // namespace
}  // namespace arc
