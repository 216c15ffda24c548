#include "train/curriculum.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace arc {

int LargestFittingSide(const PromptFormat& format, int max_seq_len, int pairs) {
  int best = 0;
  for (int side = 1; side <= kArcMaxSide; ++side) {
    const Grid g(side, side, 1);
    PromptInput input;
    input.demonstrations.assign(static_cast<size_t>(std::max(0, pairs - 1)), Example{g, g});
    input.query_input = g;
    input.query_output = g;
    absl::StatusOr<int> tokens = format.CountTokens(input);
    if (!tokens.ok() || *tokens > max_seq_len) break;
    best = side;
  }
  return best;
}

absl::StatusOr<std::vector<CurriculumStage>> NamedCurriculum(std::string_view name,
                                                             const PromptFormat& format,
                                                             int max_seq_len) {
  if (name == "default") return DefaultCurriculum();
  if (name == "v2") {
    const int largest = std::clamp(LargestFittingSide(format, max_seq_len), 10, kArcMaxSide);
    return std::vector<CurriculumStage>{
        {20000, Difficulty{3, 6, 2, 3}},
        {40000, Difficulty{3, 8, 3, 4}},
        {60000, Difficulty{3, 10, 4, 6}},
        {0, Difficulty{3, largest, 6, 8}},
    };
  }
  return absl::InvalidArgumentError(
      absl::StrCat("--curriculum: \"", std::string(name), "\" is not default or v2"));
}

std::string DescribeCurriculum(const std::vector<CurriculumStage>& stages) {
  std::vector<std::string> parts;
  int64_t end = 0;
  for (size_t i = 0; i < stages.size(); ++i) {
    const Difficulty& d = stages[i].difficulty;
    const bool last = i + 1 == stages.size();
    end += last ? 0 : stages[i].num_tasks;
    parts.push_back(absl::StrCat(d.min_side, "-", d.max_side, " sides, ", d.max_objects,
                                 " objects, ", d.max_colours, " colours ",
                                 last ? "after" : absl::StrCat("until sample ", end)));
  }
  return absl::StrJoin(parts, "; ");
}

}  // namespace arc
