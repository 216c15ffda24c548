#include "train/pretrain_data.h"

#include <algorithm>
#include <bitset>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/data/augment.h"
#include "core/data/status_macros.h"
#include "core/data/range_check.h"
#include "gen/program_tasks.h"

namespace arc {
namespace {

// Colours present in any grid of the pairs.
std::bitset<kNumColours> PoolColours(const std::vector<Example>& pool) {
  std::bitset<kNumColours> used;
  for (const Example& e : pool) {
    for (uint8_t c : e.input.cells()) used.set(c);
    for (uint8_t c : e.output.cells()) used.set(c);
  }
  return used;
}

// Every pair of a task with a known output: demonstrations first, then test pairs.
std::vector<Example> PooledPairs(const Task& task) {
  std::vector<Example> pool = task.train;
  for (const TestCase& t : task.test) {
    if (t.output.has_value()) pool.push_back(Example{t.input, *t.output});
  }
  return pool;
}

// The family of a generated task id "<family>_<seed>".
std::string FamilyOfId(const std::string& id) {
  const size_t cut = id.rfind('_');
  return cut == std::string::npos ? id : id.substr(0, cut);
}

std::string Fnv1a(const std::string& text, uint64_t h = 1469598103934665603ULL) {
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return absl::StrFormat("%016x", h);
}

}  // namespace

absl::StatusOr<std::optional<CappedPrompt>> RenderWithinLength(
    const PromptFormat& format, std::vector<Example> demonstrations, const Example& target,
    int max_seq_len, int min_demonstrations, LossMaskMode mode) {
  if (static_cast<int>(demonstrations.size()) < min_demonstrations) {
    return std::optional<CappedPrompt>();
  }
  PromptInput input;
  input.query_input = target.input;
  input.query_output = target.output;
  input.demonstrations = std::move(demonstrations);
  while (true) {
    ARC_ASSIGN_OR_RETURN(RenderedPrompt r, format.Render(input, mode));
    if (static_cast<int>(r.ids.size()) <= max_seq_len) {
      return std::optional<CappedPrompt>(
          CappedPrompt{std::move(r), static_cast<int>(input.demonstrations.size())});
    }
    if (static_cast<int>(input.demonstrations.size()) <= min_demonstrations) {
      return std::optional<CappedPrompt>();
    }
    input.demonstrations.pop_back();
  }
}

absl::Status ValidatePretrainDataOptions(const PretrainDataOptions& o) {
  ARC_RETURN_IF_ERROR(CheckRange("arc_fraction", o.arc_fraction, 0, 1));
  ARC_RETURN_IF_ERROR(CheckRange("program_fraction", o.program_fraction, 0, 1));
  ARC_RETURN_IF_ERROR(CheckRange("max_seq_len", o.max_seq_len, 16, 65536));
  ARC_RETURN_IF_ERROR(CheckRange("min_demonstrations", o.min_demonstrations, 1, 10));
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<PretrainData>> PretrainData::Create(
    std::vector<Task> arc_tasks, const std::vector<Task>& forbidden, const PromptFormat& format,
    PretrainDataOptions options) {
  ARC_RETURN_IF_ERROR(ValidatePretrainDataOptions(options));
  TaskStreamOptions so;
  so.seed = Rng(options.seed).Fork(kGeneratorStream).Next();
  so.families = options.families;
  so.curriculum = options.curriculum;
  so.allow_held_out = false;  // the generator refuses held-out families
  ARC_ASSIGN_OR_RETURN(TaskStream stream, TaskStream::Create(so));

  std::set<std::string> forbidden_ids, forbidden_hashes;
  for (const Task& t : forbidden) {
    forbidden_ids.insert(t.id);
    forbidden_hashes.insert(ContentHash(t));
  }
  std::unique_ptr<PretrainData> data(
      new PretrainData(format, std::move(options), std::move(stream)));
  std::string fingerprint_text;
  for (Task& task : arc_tasks) {
    if (absl::Status s = ValidateTask(task); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("arc task ", task.id, ": ", s.message()));
    }
    if (forbidden_ids.count(task.id) > 0 || forbidden_hashes.count(ContentHash(task)) > 0) {
      return absl::FailedPreconditionError(absl::StrCat(
          "arc task ", task.id, " is a dev task; the dev split must never be trained on"));
    }
    // The smallest sample: the two cheapest pairs, one as demonstration, one as target.
    std::vector<Example> pool = PooledPairs(task);
    if (pool.size() < 2) {
      ++data->arc_dropped_;
      continue;
    }
    std::sort(pool.begin(), pool.end(), [](const Example& a, const Example& b) {
      return a.input.size() + a.output.size() < b.input.size() + b.output.size();
    });
    ARC_ASSIGN_OR_RETURN(std::optional<CappedPrompt> smallest,
                         RenderWithinLength(format, {pool[0]}, pool[1], data->options_.max_seq_len,
                                            /*min_demonstrations=*/1));
    if (!smallest.has_value()) {
      ++data->arc_dropped_;
      continue;
    }
    absl::StrAppend(&fingerprint_text, task.id, ":", ContentHash(task), ";");
    data->arc_tasks_.push_back(std::move(task));
  }
  data->arc_fingerprint_ = Fnv1a(fingerprint_text);
  if (data->options_.arc_fraction > 0 && data->arc_tasks_.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("arc_fraction is ", data->options_.arc_fraction,
                                                   " but no ARC task fits max_seq_len ",
                                                   data->options_.max_seq_len));
  }
  return data;
}

std::optional<CappedPrompt> PretrainData::FromPool(const std::vector<Example>& pool,
                                                   Rng& rng) const {
  // A target whose sample cannot fit even with min_demonstrations (a large pair of a task with
  // small ones) is redrawn a few times before the sample is given up.
  constexpr int kTargetDraws = 4;
  for (int attempt = 0; attempt < kTargetDraws && pool.size() >= 2; ++attempt) {
    const size_t target = static_cast<size_t>(rng.Below(pool.size()));
    std::vector<Example> demos;
    for (size_t i = 0; i < pool.size(); ++i) {
      if (i != target) demos.push_back(pool[i]);
    }
    rng.Shuffle(demos);
    absl::StatusOr<std::optional<CappedPrompt>> r =
        RenderWithinLength(*format_, std::move(demos), pool[target], options_.max_seq_len,
                           options_.min_demonstrations);
    if (r.ok() && r->has_value()) return std::move(**r);
  }
  return std::nullopt;
}

Task PretrainData::GeneratedTask(int64_t index, bool program, PretrainSample& sample) const {
  // The curriculum advances with the sample index, for program tasks as for families.
  if (program) {
    const uint64_t seed = Rng(options_.seed).Fork(kProgramStream).Next();
    absl::StatusOr<ProgramTask> p =
        GenerateProgramTask(TaskSeed(seed, index), stream_.DifficultyAt(index));
    // GenerateProgramTask fails only on a generator bug (its tests sweep the difficulties); the
    // sample then falls back to the family task of the index rather than stopping the run.
    if (p.ok()) {
      sample.task_id = p->task.id;
      sample.family = "program";
      sample.program = p->program;
      return std::move(p->task);
    }
  }
  Task task = stream_.At(index);
  sample.task_id = task.id;
  sample.family = FamilyOfId(task.id);
  return task;
}

std::optional<PretrainSample> PretrainData::SampleAt(int64_t index) const {
  Rng rng = Rng(options_.seed).Fork(kSampleStream).Fork(static_cast<uint64_t>(index));
  const bool from_arc = rng.UniformDouble() < options_.arc_fraction;
  PretrainSample sample;
  std::vector<Example> pool;
  bool augment = true;
  if (from_arc) {
    const Task& task = arc_tasks_[static_cast<size_t>(rng.Below(arc_tasks_.size()))];
    pool = PooledPairs(task);
    sample.task_id = task.id;
  } else {
    // The draw happens only when programs are mixed in, so that runs without them keep their data.
    const bool program =
        options_.program_fraction > 0 && rng.UniformDouble() < options_.program_fraction;
    pool = PooledPairs(GeneratedTask(index, program, sample));
    augment = options_.augment_generated;
  }
  std::optional<CappedPrompt> capped;
  if (augment) {
    const Dihedral d = kAllDihedral[static_cast<size_t>(rng.Below(kAllDihedral.size()))];
    const ColourMap colours = ColourMap::RandomFixingZero(rng, PoolColours(pool));
    for (Example& e : pool) {
      e.input = colours.Apply(ApplyDihedral(d, e.input));
      e.output = colours.Apply(ApplyDihedral(d, e.output));
    }
    capped = FromPool(pool, rng);
  } else {
    // As generated: the test pair after the demonstrations in their order.
    const Example target = pool.back();
    pool.pop_back();
    absl::StatusOr<std::optional<CappedPrompt>> r = RenderWithinLength(
        *format_, std::move(pool), target, options_.max_seq_len, options_.min_demonstrations);
    if (r.ok()) capped = std::move(*r);
  }
  if (!capped.has_value()) return std::nullopt;
  sample.index = index;
  sample.from_arc = from_arc;
  sample.demonstrations = capped->demonstrations;
  sample.prompt = std::move(capped->prompt);
  return sample;
}

}  // namespace arc
