// arc-generate: writes procedurally generated ARC-like tasks as ARC task files, for inspection and
// for arc-tasks / arc-solve.
//
//   arc-generate --list
//       Prints every family (held-out ones marked) with its rule and the knobs it needs.
//   arc-generate --family F|all|training|held_out|F1,F2,... --count N --seed S --out DIR
//                [--min_side 3 --max_side 10 --max_objects 4 --max_colours 4]
//       Writes N tasks per family as DIR/<family>_<S>_<i>.json, i = 0..N-1, where task i is
//       GenerateTask(family, TaskSeed(S, i), difficulty). Families that cannot generate at the
//       difficulty are reported and skipped (exit status 1 if any was skipped).
//   arc-generate --programs training|held_out --count N --seed S --out DIR
//                [--min_depth 1 --max_depth 4] [difficulty flags]
//       Writes N tasks from random DSL programs (gen/program_tasks.h) as DIR/program_<S>_<i>.json
//       (held_out: held_out_program_<S>_<i>.json), each with its "program" text, and prints the
//       acceptance rate of the non-triviality filter and the tasks per second.
#include <array>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "core/data/enum_names.h"
#include "core/data/file_util.h"
#include "core/data/task_io.h"
#include "gen/generator.h"
#include "gen/program_tasks.h"
#include "tools/flags/usage.h"

ABSL_FLAG(bool, list, false, "print the families and exit");
ABSL_FLAG(std::string, family, "all",
          "a family name, a comma-separated list, or all / training / held_out");
ABSL_FLAG(int, count, 1, "tasks per family");
ABSL_FLAG(uint64_t, seed, 0, "run seed; task i uses TaskSeed(seed, i)");
ABSL_FLAG(std::string, out, "", "output directory, created if missing (required unless --list)");
ABSL_FLAG(std::string, programs, "",
          "training or held_out: write tasks of random DSL programs (never / always a held-out "
          "program shape) instead of families");
ABSL_FLAG(int, min_depth, arc::ProgramTaskOptions{}.min_depth,
          "--programs: fewest primitives per program (1..max_depth)");
ABSL_FLAG(int, max_depth, arc::ProgramTaskOptions{}.max_depth,
          "--programs: most primitives per program (min_depth..4)");
ABSL_FLAG(int, min_side, arc::Difficulty{}.min_side,
          "smallest side of the grids a family promises (1..30)");
ABSL_FLAG(int, max_side, arc::Difficulty{}.max_side, "largest side of every grid (min_side..30)");
ABSL_FLAG(int, max_objects, arc::Difficulty{}.max_objects,
          "most objects in one input, for families built from objects (1..30)");
ABSL_FLAG(int, max_colours, arc::Difficulty{}.max_colours,
          "most distinct non-background colours in any one grid (1..9)");

namespace arc {
namespace {

int Fail(const absl::Status& s) {
  std::cerr << "arc-generate: " << s << "\n";
  return s.code() == absl::StatusCode::kInvalidArgument ? 2 : 1;
}

const char* SizesName(SizePromise p) {
  static constexpr EnumName<SizePromise> kNames[] = {{SizePromise::kAllGrids, "all grids"},
                                                     {SizePromise::kInputs, "inputs"},
                                                     {SizePromise::kOutputs, "outputs"}};
  return NameOf(kNames, p, "");
}

int List() {
  for (const FamilyInfo& f : Families()) {
    std::cout << absl::StrFormat(
        "%-22s %-9s %-56s sides in range: %-9s needs side>=%d colours>=%d objects>=%d\n", f.name,
        f.held_out ? "HELD-OUT" : "", f.rule, SizesName(f.sizes), f.needs_max_side,
        f.needs_max_colours, f.needs_max_objects);
  }
  std::cout << absl::StrFormat("%d families, %d held out\n", Families().size(),
                               HeldOutFamilies().size());
  return 0;
}

absl::StatusOr<std::vector<std::string>> SelectFamilies(const std::string& spec) {
  if (spec == "all") return FamilyNames();
  if (spec == "training") return TrainingFamilies();
  if (spec == "held_out") return HeldOutFamilies();
  std::vector<std::string> out;
  const std::vector<std::string> known = FamilyNames();
  for (absl::string_view part : absl::StrSplit(spec, ',', absl::SkipEmpty())) {
    const std::string name(part);
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      return absl::InvalidArgumentError(absl::StrCat("--family: unknown family \"", name,
                                                     "\"; known: ", absl::StrJoin(known, ", ")));
    }
    out.push_back(name);
  }
  if (out.empty()) return absl::InvalidArgumentError("--family: no family named");
  return out;
}

// --programs: N program tasks, the filter's acceptance rate and the speed.
int GeneratePrograms(const std::string& dir, int count, const Difficulty& d) {
  const std::string split = absl::GetFlag(FLAGS_programs);
  ProgramTaskOptions o;
  o.min_depth = absl::GetFlag(FLAGS_min_depth);
  o.max_depth = absl::GetFlag(FLAGS_max_depth);
  if (split == "held_out") {
    o.split = ProgramSplit::kHeldOut;
  } else if (split != "training") {
    return Fail(absl::InvalidArgumentError(
        absl::StrCat("--programs: \"", split, "\" is not training or held_out")));
  }
  if (absl::Status s = ValidateProgramTaskOptions(o); !s.ok()) {
    return Fail(absl::InvalidArgumentError(absl::StrCat("--", s.message())));
  }
  const uint64_t seed = absl::GetFlag(FLAGS_seed);
  const std::string prefix = split == "held_out" ? "held_out_program" : "program";
  std::array<int64_t, kNumProgramRejections> rejected{};
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < count; ++i) {
    absl::StatusOr<ProgramTask> t = GenerateProgramTask(TaskSeed(seed, i), d, o);
    if (!t.ok()) return Fail(t.status());
    for (int r = 0; r < kNumProgramRejections; ++r) rejected[r] += t->rejected[r];
    t->task.id = absl::StrCat(prefix, "_", seed, "_", i);
    const std::string path = (std::filesystem::path(dir) / (t->task.id + ".json")).string();
    if (absl::Status s = WriteFileAtomic(path, ProgramTaskToJson(*t)); !s.ok()) return Fail(s);
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  int64_t drawn = count;
  std::vector<std::string> reasons;
  for (int r = 0; r < kNumProgramRejections; ++r) {
    drawn += rejected[r];
    if (rejected[r] > 0) {
      reasons.push_back(absl::StrCat(ProgramRejectionName(static_cast<ProgramRejection>(r)), " ",
                                     rejected[r]));
    }
  }
  std::cout << absl::StrFormat(
      "%d %s program tasks written to %s in %.2fs (%.0f tasks/s); %d programs drawn, %.1f%% kept "
      "(rejected: %s)\n",
      count, split, dir, seconds, count / std::max(seconds, 1e-9), drawn, 100.0 * count / drawn,
      reasons.empty() ? "none" : absl::StrJoin(reasons, ", "));
  return 0;
}

int Generate() {
  const std::string dir = absl::GetFlag(FLAGS_out);
  if (dir.empty()) return Fail(absl::InvalidArgumentError("--out: required"));
  const int count = absl::GetFlag(FLAGS_count);
  if (count < 1) {
    return Fail(absl::InvalidArgumentError(absl::StrCat("--count: ", count, ", must be >= 1")));
  }
  const Difficulty d{absl::GetFlag(FLAGS_min_side), absl::GetFlag(FLAGS_max_side),
                     absl::GetFlag(FLAGS_max_objects), absl::GetFlag(FLAGS_max_colours)};
  if (absl::Status s = ValidateDifficulty(d); !s.ok()) {
    return Fail(absl::InvalidArgumentError(absl::StrCat("--", s.message())));
  }
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return Fail(
        absl::InvalidArgumentError(absl::StrCat("--out: cannot create ", dir, ": ", ec.message())));
  }
  if (!absl::GetFlag(FLAGS_programs).empty()) return GeneratePrograms(dir, count, d);
  absl::StatusOr<std::vector<std::string>> families = SelectFamilies(absl::GetFlag(FLAGS_family));
  if (!families.ok()) return Fail(families.status());
  const uint64_t seed = absl::GetFlag(FLAGS_seed);
  int written = 0, skipped = 0;
  for (const std::string& family : *families) {
    if (absl::Status s = CheckFeasible(family, d); !s.ok()) {
      std::cerr << "arc-generate: skipping " << s.message() << "\n";
      ++skipped;
      continue;
    }
    for (int i = 0; i < count; ++i) {
      absl::StatusOr<Task> task = GenerateTask(family, TaskSeed(seed, i), d);
      if (!task.ok()) return Fail(task.status());
      task->id = absl::StrCat(family, "_", seed, "_", i);
      const std::string path = (std::filesystem::path(dir) / (task->id + ".json")).string();
      if (absl::Status s = WriteFileAtomic(path, TaskToJson(*task)); !s.ok()) return Fail(s);
      ++written;
    }
  }
  std::cout << absl::StrFormat("%d tasks written to %s (%d families skipped)\n", written, dir,
                               skipped);
  return skipped == 0 ? 0 : 1;
}

}  // namespace
}  // namespace arc

int main(int argc, char** argv) {
  const arc::ToolHelp help{
      "arc-generate",
      "writes procedurally generated ARC-like tasks as ARC task files, for inspection, arc-tasks "
      "and arc-solve: N tasks per family as DIR/<family>_<seed>_<i>.json, task i generated from "
      "TaskSeed(seed, i) at the difficulty the side/object/colour flags give. Families that "
      "cannot generate at that difficulty are reported and skipped (exit status 1). --list prints "
      "every family (held-out ones marked) with its rule. --programs training|held_out writes tasks of "
      "random DSL programs instead (gen/program_tasks.h: depth --min_depth..--max_depth, each "
      "task's \"program\" text in its file; held_out: always a held-out program shape), and "
      "prints the filter's acceptance rate.",
      "arc-generate --list\n"
      "arc-generate --out DIR [--family F|all|training|held_out|F1,F2] [--count N] [--seed S]\n"
      "             [--min_side N] [--max_side N] [--max_objects N] [--max_colours N]\n"
      "arc-generate --out DIR --programs training|held_out [--count N] [--seed S]\n"
      "             [--min_depth N] [--max_depth N] [difficulty flags]",
      {},
      {},
      ""};
  if (!arc::ParseFlagsOnlyCommandLine(argc, argv, help)) return 2;
  if (absl::GetFlag(FLAGS_list)) return arc::List();
  return arc::Generate();
}
