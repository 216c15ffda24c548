#include "train/pretrain.h"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>
#include <c10/util/Exception.h>
#include <unistd.h>

#include <algorithm>
#include <bitset>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <numeric>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "core/data/augment.h"
#include "core/data/file_util.h"
#include "core/data/rng.h"
#include "core/data/status_macros.h"
#include "core/data/task_io.h"
#include "core/model/tensor_io.h"
#include "nlohmann/json.hpp"

namespace arc {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

// Fork streams of the run seed, one per independent use, so that no two uses share draws.
constexpr uint64_t kSampleStream = 1;      // then Fork(sample index)
constexpr uint64_t kBatchOrderStream = 2;  // then Fork(chunk index)
constexpr uint64_t kGeneratorStream = 3;   // the TaskStream's seed

constexpr char kCheckpointPrefix[] = "step-";
constexpr char kStateFormat[] = "arc-train-checkpoint/1";

absl::Status Range(const char* field, double v, double lo, double hi) {
  if (v >= lo && v <= hi) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", v, " is outside ", lo, "..", hi));
}

absl::Status Prefixed(const absl::Status& s, absl::string_view prefix) {
  if (s.ok()) return s;
  return absl::Status(s.code(), absl::StrCat(prefix, ": ", s.message()));
}

std::vector<std::string> StringList(const Json& j, const std::string& path, const char* key,
                                    absl::Status& error) {
  std::vector<std::string> out;
  if (!j.contains(key) || !j[key].is_array()) {
    error = absl::InvalidArgumentError(absl::StrCat(path, ": ", key, ": expected a list of ids"));
    return out;
  }
  for (const Json& v : j[key]) {
    if (!v.is_string()) {
      error = absl::InvalidArgumentError(absl::StrCat(path, ": ", key, ": expected strings"));
      return out;
    }
    out.push_back(v.get<std::string>());
  }
  return out;
}

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

std::string CheckpointName(int64_t step) {
  return absl::StrFormat("%s%08d", kCheckpointPrefix, step);
}

// Complete checkpoints (step-NNNNNNNN with a state.json) under `dir`, by step.
std::map<int64_t, std::string> ListCheckpoints(const std::string& dir) {
  std::map<int64_t, std::string> out;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return out;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (!absl::StartsWith(name, kCheckpointPrefix)) continue;
    const std::string digits = name.substr(sizeof(kCheckpointPrefix) - 1);
    int64_t step = 0;
    if (digits.empty() || !std::all_of(digits.begin(), digits.end(), ::isdigit) ||
        !absl::SimpleAtoi(digits, &step)) {
      continue;  // e.g. a temporary directory of an interrupted save
    }
    if (!fs::exists(entry.path() / "state.json", ec)) continue;
    out[step] = entry.path().string();
  }
  return out;
}

// One right-padded batch: tokens (B, T) and, flattened as row * T + t, the positions t whose next
// token ids[t+1] carries loss, with those ids and whether each is an answer token.
struct Batch {
  at::Tensor tokens;            // (B, T) int64
  at::Tensor positions;         // (N) int64
  at::Tensor targets;           // (N) int64
  std::vector<int> row_of;      // (N) the sample row of each target
  std::vector<uint8_t> answer;  // (N) 1 when the target is an answer token
  int64_t real_tokens = 0;
  int64_t padded_tokens = 0;
};

Batch MakeBatch(const std::vector<const RenderedPrompt*>& rows, int64_t pad_id) {
  int64_t t_max = 0;
  for (const RenderedPrompt* p : rows) t_max = std::max<int64_t>(t_max, p->ids.size());
  const int64_t b = static_cast<int64_t>(rows.size());
  std::vector<int64_t> tokens(b * t_max, pad_id), positions, targets;
  Batch batch;
  for (int64_t r = 0; r < b; ++r) {
    const RenderedPrompt& p = *rows[r];
    for (size_t t = 0; t < p.ids.size(); ++t) {
      tokens[r * t_max + t] = p.ids[t];
      if (t > 0 && p.loss_mask[t]) {
        positions.push_back(r * t_max + static_cast<int64_t>(t) - 1);
        targets.push_back(p.ids[t]);
        batch.row_of.push_back(static_cast<int>(r));
        batch.answer.push_back(static_cast<int>(t) >= p.prompt_length &&
                               static_cast<int>(t) < p.answer_end);
      }
    }
    batch.real_tokens += static_cast<int64_t>(p.ids.size());
  }
  batch.tokens = at::tensor(tokens, at::kLong).view({b, t_max});
  batch.positions = at::tensor(positions, at::kLong);
  batch.targets = at::tensor(targets, at::kLong);
  batch.padded_tokens = b * t_max;
  return batch;
}

absl::StatusOr<Json> ReadJsonFile(const std::string& path) {
  ARC_ASSIGN_OR_RETURN(const std::string text, ReadFile(path, 1 << 24));
  try {
    return Json::parse(text);
  } catch (const Json::parse_error& e) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": invalid JSON at byte ", e.byte));
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// ARC data.

absl::StatusOr<ArcSplits> LoadArcSplits(const std::string& arc_dir) {
  const std::string path = arc_dir + "/splits.json";
  ARC_ASSIGN_OR_RETURN(const Json j, ReadJsonFile(path));
  if (!j.is_object()) return absl::InvalidArgumentError(absl::StrCat(path, ": expected an object"));
  absl::Status error;
  const std::vector<std::string> pretrain_ids = StringList(j, path, "pretrain", error);
  const std::vector<std::string> dev_ids = StringList(j, path, "dev", error);
  ARC_RETURN_IF_ERROR(error);
  const std::set<std::string> dev_set(dev_ids.begin(), dev_ids.end());
  for (const std::string& id : pretrain_ids) {
    if (dev_set.count(id) > 0) {
      return absl::FailedPreconditionError(
          absl::StrCat(path, ": task ", id, " is in both the pretrain and the dev split"));
    }
  }
  ArcSplits splits;
  for (const std::string& id : dev_ids) {
    ARC_ASSIGN_OR_RETURN(Task t, ReadTaskFile(absl::StrCat(arc_dir, "/training/", id, ".json")));
    splits.dev.push_back(std::move(t));
  }
  std::set<std::string> dev_hashes;
  for (const Task& t : splits.dev) dev_hashes.insert(ContentHash(t));
  for (const std::string& id : pretrain_ids) {
    ARC_ASSIGN_OR_RETURN(Task t, ReadTaskFile(absl::StrCat(arc_dir, "/training/", id, ".json")));
    if (dev_hashes.count(ContentHash(t)) > 0) {
      return absl::FailedPreconditionError(
          absl::StrCat(path, ": pretrain task ", id, " has the content of a dev task"));
    }
    splits.pretrain.push_back(std::move(t));
  }
  return splits;
}

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

// ---------------------------------------------------------------------------------------------
// The training stream.

absl::Status ValidatePretrainDataOptions(const PretrainDataOptions& o) {
  ARC_RETURN_IF_ERROR(Range("arc_fraction", o.arc_fraction, 0, 1));
  ARC_RETURN_IF_ERROR(Range("max_seq_len", o.max_seq_len, 16, 65536));
  ARC_RETURN_IF_ERROR(Range("min_demonstrations", o.min_demonstrations, 1, 10));
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
    // The generator's task `index`: the curriculum advances with the sample index.
    const Task task = stream_.At(index);
    pool = PooledPairs(task);
    sample.task_id = task.id;
    sample.family = FamilyOfId(task.id);
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

absl::StatusOr<std::vector<std::vector<int>>> MakeLengthBatches(const std::vector<int>& lengths,
                                                                int64_t token_budget) {
  for (size_t i = 0; i < lengths.size(); ++i) {
    if (lengths[i] < 1 || lengths[i] > token_budget) {
      return absl::InvalidArgumentError(absl::StrCat("sample ", i, ": length ", lengths[i],
                                                     " is outside 1..", token_budget,
                                                     " (the token budget per batch)"));
    }
  }
  std::vector<int> order(lengths.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int a, int b) { return lengths[a] > lengths[b]; });
  std::vector<std::vector<int>> batches;
  int64_t longest = 0;
  for (int i : order) {
    // Longest first, so the batch's longest row is its first; a row fits while rows * longest
    // stays within the budget.
    if (batches.empty() ||
        static_cast<int64_t>(batches.back().size() + 1) * longest > token_budget) {
      batches.emplace_back();
      longest = lengths[i];
    }
    batches.back().push_back(i);
  }
  return batches;
}

// ---------------------------------------------------------------------------------------------
// Schedule and optimizer.

double PretrainLearningRate(const LrSchedule& s, int64_t step, double progress) {
  const double warm =
      s.warmup_steps > 0 ? std::min(1.0, static_cast<double>(step + 1) / s.warmup_steps) : 1.0;
  const double p = std::clamp(progress, 0.0, 1.0);
  const double cosine = 0.5 * (1.0 + std::cos(M_PI * p));
  return s.peak * warm * (s.min_ratio + (1.0 - s.min_ratio) * cosine);
}

AdamW::AdamW(std::map<std::string, at::Tensor> params, AdamWOptions options) : options_(options) {
  at::NoGradGuard no_grad;
  for (auto& [name, p] : params) {
    Slot slot;
    slot.param = p;
    slot.exp_avg = at::zeros_like(p, at::MemoryFormat::Contiguous);
    slot.exp_avg_sq = at::zeros_like(p, at::MemoryFormat::Contiguous);
    slot.decay = p.dim() >= 2;
    slots_.emplace(name, std::move(slot));
  }
}

void AdamW::ZeroGrad() {
  for (auto& [name, s] : slots_) s.param.mutable_grad().reset();
}

double AdamW::ClipGradNorm(double max_norm) {
  at::NoGradGuard no_grad;
  std::vector<at::Tensor> norms;
  for (auto& [name, s] : slots_) {
    if (s.param.grad().defined()) norms.push_back(s.param.grad().norm(2));
  }
  if (norms.empty()) return 0;
  const double total = at::stack(norms).norm(2).item<double>();
  if (max_norm > 0) {
    const double coef = max_norm / (total + 1e-6);
    if (coef < 1) {
      for (auto& [name, s] : slots_) {
        if (s.param.grad().defined()) s.param.grad().mul_(coef);
      }
    }
  }
  return total;
}

void AdamW::Step(double lr) {
  at::NoGradGuard no_grad;
  const double b1 = options_.beta1, b2 = options_.beta2;
  for (auto& [name, s] : slots_) {
    const at::Tensor& g = s.param.grad();
    if (!g.defined()) continue;
    ++s.step;
    if (s.decay && options_.weight_decay > 0) s.param.mul_(1.0 - lr * options_.weight_decay);
    s.exp_avg.mul_(b1).add_(g, 1.0 - b1);
    s.exp_avg_sq.mul_(b2).addcmul_(g, g, 1.0 - b2);
    const double bias1 = 1.0 - std::pow(b1, static_cast<double>(s.step));
    const double bias2 = 1.0 - std::pow(b2, static_cast<double>(s.step));
    const at::Tensor denom = (s.exp_avg_sq.sqrt() / std::sqrt(bias2)).add_(options_.eps);
    s.param.addcdiv_(s.exp_avg, denom, -lr / bias1);
  }
}

std::map<std::string, at::Tensor> AdamW::StateTensors() const {
  std::map<std::string, at::Tensor> out;
  for (const auto& [name, s] : slots_) {
    out.emplace("exp_avg/" + name, s.exp_avg);
    out.emplace("exp_avg_sq/" + name, s.exp_avg_sq);
    out.emplace("step/" + name, at::full({1}, s.step, at::kLong));
  }
  return out;
}

absl::Status AdamW::LoadStateTensors(std::map<std::string, at::Tensor> tensors) {
  struct Loaded {
    at::Tensor exp_avg, exp_avg_sq;
    int64_t step;
  };
  std::map<std::string, Loaded> loaded;
  for (const auto& [name, s] : slots_) {
    Loaded l;
    ARC_ASSIGN_OR_RETURN(l.exp_avg, TakeTensor(tensors, "exp_avg/" + name, s.param.sizes()));
    ARC_ASSIGN_OR_RETURN(l.exp_avg_sq, TakeTensor(tensors, "exp_avg_sq/" + name, s.param.sizes()));
    ARC_ASSIGN_OR_RETURN(const at::Tensor step, TakeTensor(tensors, "step/" + name, {1}));
    for (const auto& [what, t] : {std::pair<const char*, const at::Tensor&>{"exp_avg/", l.exp_avg},
                                  {"exp_avg_sq/", l.exp_avg_sq}}) {
      if (t.scalar_type() != s.param.scalar_type()) {
        return absl::InvalidArgumentError(
            absl::StrCat("tensor \"", what, name, "\": dtype ", c10::toString(t.scalar_type()),
                         ", expected ", c10::toString(s.param.scalar_type())));
      }
    }
    if (step.scalar_type() != at::kLong) {
      return absl::InvalidArgumentError(absl::StrCat("tensor \"step/", name, "\": dtype ",
                                                     c10::toString(step.scalar_type()),
                                                     ", expected Long"));
    }
    l.step = step.item<int64_t>();
    loaded.emplace(name, std::move(l));
  }
  ARC_RETURN_IF_ERROR(CheckAllTaken(tensors));
  for (auto& [name, s] : slots_) {
    Loaded& l = loaded.at(name);
    s.exp_avg = l.exp_avg.to(s.param.device()).contiguous();
    s.exp_avg_sq = l.exp_avg_sq.to(s.param.device()).contiguous();
    s.step = l.step;
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------------------------
// The loop.

absl::Status ValidatePretrainOptions(const PretrainOptions& o, int max_seq_len) {
  if (o.batch_tokens < max_seq_len) {
    return absl::InvalidArgumentError(absl::StrCat("batch_tokens: ", o.batch_tokens,
                                                   " is below max_seq_len ", max_seq_len,
                                                   "; a longest sample must fit one batch"));
  }
  ARC_RETURN_IF_ERROR(Range("shuffle_window", o.shuffle_window, 1, 1000000));
  ARC_RETURN_IF_ERROR(Range("learning_rate", o.schedule.peak, 0, 1));
  ARC_RETURN_IF_ERROR(Range("warmup_steps", o.schedule.warmup_steps, 0, 1e9));
  ARC_RETURN_IF_ERROR(Range("min_lr_ratio", o.schedule.min_ratio, 0, 1));
  ARC_RETURN_IF_ERROR(Range("beta1", o.adamw.beta1, 0, 0.999999));
  ARC_RETURN_IF_ERROR(Range("beta2", o.adamw.beta2, 0, 0.999999));
  ARC_RETURN_IF_ERROR(Range("adam_eps", o.adamw.eps, 1e-12, 1));
  ARC_RETURN_IF_ERROR(Range("weight_decay", o.adamw.weight_decay, 0, 10));
  ARC_RETURN_IF_ERROR(Range("clip", o.clip, 0, 1e6));
  ARC_RETURN_IF_ERROR(Range("max_steps", o.max_steps, 0, 1e15));
  ARC_RETURN_IF_ERROR(Range("max_tokens", o.max_tokens, 0, 1e18));
  ARC_RETURN_IF_ERROR(Range("max_minutes", o.max_minutes, 0, 1e9));
  if (o.max_steps == 0 && o.max_tokens == 0 && o.max_minutes == 0) {
    return absl::InvalidArgumentError("no budget: set max_steps, max_tokens or max_minutes");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Pretrainer>> Pretrainer::Create(
    std::shared_ptr<const ArcModel> model, std::shared_ptr<const PretrainData> data,
    PretrainOptions options) {
  if (model == nullptr || data == nullptr) {
    return absl::InvalidArgumentError("pretrainer: model and data are required");
  }
  ARC_RETURN_IF_ERROR(ValidatePretrainOptions(options, data->options().max_seq_len));
  if (model->format->name() != data->format().name() ||
      model->tokenizer->vocab_size() != data->format().tokenizer().vocab_size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("pretrainer: the model's format \"", std::string(model->format->name()),
                     "\" is not the data's \"", std::string(data->format().name()), "\""));
  }
  if (model->MaxSequenceLength() < data->options().max_seq_len) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_seq_len: ", data->options().max_seq_len, " exceeds the model's context ",
                     model->MaxSequenceLength(), " (max_position_embeddings)"));
  }
  std::map<std::string, at::Tensor> params = model->net->StateDict();
  for (auto& [name, p] : params) p.set_requires_grad(true);
  AdamW optimizer(params, options.adamw);
  return std::unique_ptr<Pretrainer>(
      new Pretrainer(std::move(model), std::move(data), std::move(options), std::move(optimizer)));
}

double Pretrainer::Progress() const {
  double p = 0;
  if (options_.max_steps > 0)
    p = std::max(p, static_cast<double>(state_.step) / options_.max_steps);
  if (options_.max_tokens > 0) {
    p = std::max(p, static_cast<double>(state_.tokens) / static_cast<double>(options_.max_tokens));
  }
  if (options_.max_minutes > 0) p = std::max(p, state_.seconds / (60.0 * options_.max_minutes));
  return std::min(p, 1.0);
}

void Pretrainer::LoadChunk() {
  const int64_t window = options_.shuffle_window;
  std::vector<PretrainSample> samples;
  samples.reserve(static_cast<size_t>(window));
  for (int64_t i = state_.chunk * window; i < (state_.chunk + 1) * window; ++i) {
    std::optional<PretrainSample> s = data_->SampleAt(i);
    if (s.has_value()) samples.push_back(std::move(*s));
  }
  std::vector<int> lengths;
  for (const PretrainSample& s : samples) lengths.push_back(static_cast<int>(s.prompt.ids.size()));
  // Lengths are at most max_seq_len <= batch_tokens (checked in Create), so this cannot fail.
  std::vector<std::vector<int>> groups = MakeLengthBatches(lengths, options_.batch_tokens).value();
  // Sorted batches come longest first; shuffle their order so the step-to-step length (and the
  // gradient noise that goes with it) does not drift within a chunk.
  Rng order_rng = Rng(data_->options().seed).Fork(kBatchOrderStream).Fork(state_.chunk);
  order_rng.Shuffle(groups);
  chunk_batches_.clear();
  for (const std::vector<int>& g : groups) {
    std::vector<PretrainSample> batch;
    for (int i : g) batch.push_back(samples[i]);
    chunk_batches_.push_back(std::move(batch));
  }
  loaded_chunk_ = state_.chunk;
}

absl::StatusOr<StepStats> Pretrainer::Step() {
  const auto start = std::chrono::steady_clock::now();
  if (loaded_chunk_ != state_.chunk) LoadChunk();
  while (state_.batch_in_chunk >= static_cast<int64_t>(chunk_batches_.size())) {
    ++state_.chunk;
    state_.batch_in_chunk = 0;
    LoadChunk();
    if (chunk_batches_.empty()) {  // not one of shuffle_window samples fits: the data cannot
      return absl::FailedPreconditionError(
          absl::StrCat("no sample of chunk ", state_.chunk, " fits max_seq_len ",
                       data_->options().max_seq_len, " tokens; raise it"));
    }
  }
  const std::vector<PretrainSample>& samples = chunk_batches_[state_.batch_in_chunk];
  std::vector<const RenderedPrompt*> rows;
  int64_t arc_rows = 0;
  for (const PretrainSample& s : samples) {
    rows.push_back(&s.prompt);
    arc_rows += s.from_arc;
  }
  const Batch batch = MakeBatch(rows, data_->format().tokenizer().pad_id());
  StepStats stats;
  stats.lr = PretrainLearningRate(options_.schedule, state_.step, Progress());
  try {
    const LlamaForCausalLMImpl& net = *model_->net;
    const at::Device device = net.options().device;
    optimizer_.ZeroGrad();
    const at::Tensor hidden = net.Hidden(batch.tokens.to(device));  // (B, T, C)
    const at::Tensor picked = hidden.reshape({-1, hidden.size(-1)})
                                  .index_select(0, batch.positions.to(device));  // (N, C)
    const at::Tensor logits = net.Logits(picked);                                // (N, V)
    const at::Tensor loss = at::cross_entropy_loss(logits, batch.targets.to(device));
    loss.backward();
    stats.loss = loss.item<double>();
    stats.grad_norm = optimizer_.ClipGradNorm(options_.clip);
    optimizer_.Step(stats.lr);
    optimizer_.ZeroGrad();
  } catch (const c10::Error& e) {
    return absl::InternalError(absl::StrCat("training step ", state_.step + 1,
                                            ": libtorch: ", e.what_without_backtrace()));
  }
  ++state_.batch_in_chunk;
  ++state_.step;
  stats.step = state_.step;
  stats.rows = static_cast<int64_t>(rows.size());
  stats.tokens = batch.real_tokens;
  stats.padded_tokens = batch.padded_tokens;
  stats.loss_tokens = batch.targets.size(0);
  state_.tokens += stats.tokens;
  state_.padded_tokens += stats.padded_tokens;
  state_.loss_tokens += stats.loss_tokens;
  state_.samples += stats.rows;
  state_.arc_samples += arc_rows;
  stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  state_.seconds += stats.seconds;
  return stats;
}

absl::StatusOr<EvalStats> Pretrainer::Evaluate(const std::vector<RenderedPrompt>& samples) const {
  EvalStats out;
  if (samples.empty()) return out;
  std::vector<int> lengths;
  for (const RenderedPrompt& s : samples) lengths.push_back(static_cast<int>(s.ids.size()));
  ARC_ASSIGN_OR_RETURN(const std::vector<std::vector<int>> groups,
                       MakeLengthBatches(lengths, options_.batch_tokens));
  std::vector<int> wrong_answer_tokens(samples.size(), 0);
  double loss_sum = 0, answer_loss_sum = 0;
  int64_t answer_correct = 0;
  try {
    at::NoGradGuard no_grad;
    const LlamaForCausalLMImpl& net = *model_->net;
    const at::Device device = net.options().device;
    for (const std::vector<int>& g : groups) {
      std::vector<const RenderedPrompt*> rows;
      for (int i : g) rows.push_back(&samples[i]);
      const Batch batch = MakeBatch(rows, data_->format().tokenizer().pad_id());
      if (batch.targets.size(0) == 0) continue;
      const at::Tensor hidden = net.Hidden(batch.tokens.to(device));  // (B, T, C)
      const at::Tensor logits = net.Logits(
          hidden.reshape({-1, hidden.size(-1)}).index_select(0, batch.positions.to(device)));
      const at::Tensor targets = batch.targets.to(device);
      const at::Tensor losses = at::cross_entropy_loss(logits, targets, {}, at::Reduction::None)
                                    .to(at::kCPU)
                                    .contiguous();
      const at::Tensor correct = logits.argmax(-1).eq(targets).to(at::kCPU).contiguous();
      const float* l = losses.data_ptr<float>();
      const bool* c = correct.data_ptr<bool>();
      for (size_t n = 0; n < batch.row_of.size(); ++n) {
        loss_sum += l[n];
        ++out.loss_tokens;
        if (batch.answer[n]) {
          answer_loss_sum += l[n];
          ++out.answer_tokens;
          answer_correct += c[n];
          if (!c[n]) ++wrong_answer_tokens[g[batch.row_of[n]]];
        }
      }
    }
  } catch (const c10::Error& e) {
    return absl::InternalError(absl::StrCat("evaluation: libtorch: ", e.what_without_backtrace()));
  }
  out.samples = static_cast<int>(samples.size());
  for (size_t i = 0; i < samples.size(); ++i) {
    out.exact += samples[i].answer_end > samples[i].prompt_length && wrong_answer_tokens[i] == 0;
  }
  if (out.loss_tokens > 0) out.loss = loss_sum / out.loss_tokens;
  if (out.answer_tokens > 0) {
    out.answer_loss = answer_loss_sum / out.answer_tokens;
    out.answer_token_accuracy = static_cast<double>(answer_correct) / out.answer_tokens;
  }
  return out;
}

std::string Pretrainer::TrajectoryOptionsJson() const {
  const PretrainDataOptions& d = data_->options();
  Json curriculum = Json::array();
  for (const CurriculumStage& s : d.curriculum.empty() ? DefaultCurriculum() : d.curriculum) {
    curriculum.push_back({s.num_tasks, s.difficulty.min_side, s.difficulty.max_side,
                          s.difficulty.max_objects, s.difficulty.max_colours});
  }
  const Json j = {
      {"seed", d.seed},
      {"arc_fraction", d.arc_fraction},
      {"arc_tasks", data_->num_arc_tasks()},
      {"arc_fingerprint", data_->arc_fingerprint()},
      {"max_seq_len", d.max_seq_len},
      {"min_demonstrations", d.min_demonstrations},
      {"augment_generated", d.augment_generated},
      {"families", d.families.empty() ? TrainingFamilies() : d.families},
      {"curriculum", curriculum},
      {"batch_tokens", options_.batch_tokens},
      {"shuffle_window", options_.shuffle_window},
      {"learning_rate", options_.schedule.peak},
      {"warmup_steps", options_.schedule.warmup_steps},
      {"min_lr_ratio", options_.schedule.min_ratio},
      {"beta1", options_.adamw.beta1},
      {"beta2", options_.adamw.beta2},
      {"adam_eps", options_.adamw.eps},
      {"weight_decay", options_.adamw.weight_decay},
      {"clip", options_.clip},
  };
  return j.dump();
}

absl::StatusOr<std::string> Pretrainer::SaveCheckpoint(const std::string& checkpoint_dir,
                                                       int keep) const {
  std::error_code ec;
  fs::create_directories(checkpoint_dir, ec);
  if (ec) return absl::PermissionDeniedError(absl::StrCat(checkpoint_dir, ": ", ec.message()));
  const std::string final_dir = (fs::path(checkpoint_dir) / CheckpointName(state_.step)).string();
  // Same step, same state (the run is deterministic and resuming with other options is refused):
  // a checkpoint already there is this one.
  if (fs::exists(fs::path(final_dir) / "state.json", ec)) return final_dir;
  // Leftovers of a save that was killed half-way (one trainer per checkpoint directory).
  for (const auto& entry : fs::directory_iterator(checkpoint_dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (absl::StartsWith(name, kCheckpointPrefix) && absl::StrContains(name, ".tmp")) {
      fs::remove_all(entry.path(), ec);
    }
  }
  const std::string tmp = absl::StrCat(final_dir, ".tmp-", ::getpid());
  fs::remove_all(tmp, ec);
  fs::create_directories(tmp, ec);
  if (ec) return absl::PermissionDeniedError(absl::StrCat(tmp, ": ", ec.message()));

  ARC_RETURN_IF_ERROR(SaveArcModel(*model_, tmp));
  ARC_RETURN_IF_ERROR(SaveTensors(tmp + "/optimizer.safetensors", optimizer_.StateTensors()));
  const Json state = {
      {"format", kStateFormat},
      {"step", state_.step},
      {"tokens", state_.tokens},
      {"padded_tokens", state_.padded_tokens},
      {"loss_tokens", state_.loss_tokens},
      {"samples", state_.samples},
      {"arc_samples", state_.arc_samples},
      {"chunk", state_.chunk},
      {"batch_in_chunk", state_.batch_in_chunk},
      {"seconds", state_.seconds},
      {"options", Json::parse(TrajectoryOptionsJson())},
      {"budget",
       {{"max_steps", options_.max_steps},
        {"max_tokens", options_.max_tokens},
        {"max_minutes", options_.max_minutes}}},
  };
  ARC_RETURN_IF_ERROR(WriteFileAtomic(tmp + "/state.json", state.dump(2) + "\n"));
  // The rename is the commit point: a kill before it leaves only a temporary directory.
  fs::rename(tmp, final_dir, ec);
  if (ec) {
    return absl::PermissionDeniedError(
        absl::StrCat(final_dir, ": rename of the checkpoint failed (", ec.message(), ")"));
  }
  if (keep > 0) {
    std::map<int64_t, std::string> all = ListCheckpoints(checkpoint_dir);
    while (static_cast<int>(all.size()) > keep) {
      fs::remove_all(all.begin()->second, ec);
      all.erase(all.begin());
    }
  }
  return final_dir;
}

absl::Status Pretrainer::RestoreCheckpoint(const std::string& dir) {
  const std::string state_path = dir + "/state.json";
  ARC_ASSIGN_OR_RETURN(const Json j, ReadJsonFile(state_path));
  PretrainState s;
  try {
    if (j.value("format", std::string()) != kStateFormat) {
      return absl::InvalidArgumentError(
          absl::StrCat(state_path, ": format: expected \"", kStateFormat, "\""));
    }
    const Json want = Json::parse(TrajectoryOptionsJson());
    const Json& have = j.at("options");
    for (auto it = want.begin(); it != want.end(); ++it) {
      if (!have.contains(it.key()) || have[it.key()] != it.value()) {
        return absl::FailedPreconditionError(
            absl::StrCat(dir, ": the checkpoint was written with ", it.key(), "=",
                         have.contains(it.key()) ? have[it.key()].dump() : "(absent)",
                         ", this run has ", it.key(), "=", it.value().dump(),
                         "; resume with the checkpoint's options or use another --checkpoint_dir"));
      }
    }
    s.step = j.at("step").get<int64_t>();
    s.tokens = j.at("tokens").get<int64_t>();
    s.padded_tokens = j.at("padded_tokens").get<int64_t>();
    s.loss_tokens = j.at("loss_tokens").get<int64_t>();
    s.samples = j.at("samples").get<int64_t>();
    s.arc_samples = j.at("arc_samples").get<int64_t>();
    s.chunk = j.at("chunk").get<int64_t>();
    s.batch_in_chunk = j.at("batch_in_chunk").get<int64_t>();
    s.seconds = j.at("seconds").get<double>();
  } catch (const Json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(state_path, ": ", e.what()));
  }

  const std::string model_path = dir + "/model.safetensors";
  const std::string optimizer_path = dir + "/optimizer.safetensors";
  using TensorMap = std::map<std::string, at::Tensor>;
  ARC_ASSIGN_OR_RETURN(TensorMap weights, LoadTensors(model_path));
  ARC_ASSIGN_OR_RETURN(TensorMap moments, LoadTensors(optimizer_path));
  // Optimizer first (it validates everything before changing anything), then the weights; should
  // the weights be refused, the old optimizer state goes back, so a failure changes nothing.
  std::map<std::string, at::Tensor> previous = optimizer_.StateTensors();
  ARC_RETURN_IF_ERROR(Prefixed(optimizer_.LoadStateTensors(std::move(moments)), optimizer_path));
  if (absl::Status st = net_->LoadStateDict(weights); !st.ok()) {
    optimizer_.LoadStateTensors(std::move(previous)).IgnoreError();
    return Prefixed(st, model_path);
  }
  state_ = s;
  loaded_chunk_ = -1;
  chunk_batches_.clear();
  return absl::OkStatus();
}

std::optional<std::string> LatestCheckpoint(const std::string& checkpoint_dir) {
  std::map<int64_t, std::string> all = ListCheckpoints(checkpoint_dir);
  if (all.empty()) return std::nullopt;
  return all.rbegin()->second;
}

// ---------------------------------------------------------------------------------------------
// Validation sets.

absl::StatusOr<std::vector<Task>> GenerateTaskSet(const std::vector<std::string>& families,
                                                  uint64_t seed, int count,
                                                  const Difficulty& difficulty) {
  if (families.empty()) return absl::InvalidArgumentError("families: empty");
  std::vector<Task> out;
  for (int i = 0; i < count; ++i) {
    ARC_ASSIGN_OR_RETURN(
        Task t, GenerateTask(families[i % families.size()], TaskSeed(seed, i), difficulty));
    out.push_back(std::move(t));
  }
  return out;
}

absl::StatusOr<std::vector<RenderedPrompt>> MakeEvalSamples(const std::vector<Task>& tasks,
                                                            const PromptFormat& format,
                                                            int max_seq_len) {
  std::vector<RenderedPrompt> out;
  for (const Task& task : tasks) {
    for (const TestCase& test : task.test) {
      if (!test.output.has_value()) continue;
      ARC_ASSIGN_OR_RETURN(
          std::optional<CappedPrompt> r,
          RenderWithinLength(format, task.train, Example{test.input, *test.output}, max_seq_len));
      if (r.has_value()) out.push_back(std::move(r->prompt));
    }
  }
  return out;
}

}  // namespace arc
