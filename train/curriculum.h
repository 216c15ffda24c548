// The curricula of pretraining: the difficulty (grid sides, objects, colours) of the generated
// tasks, families and programs alike, as the run advances.
//
// Rule: a curriculum is a list of stages; stage k begins at a fixed *sample index*, the sum of the
// earlier stages' num_tasks (ARC samples count too, since sample i's generated task is task i of
// the stream), and the last stage lasts for ever. A step rule counted in samples, not a validation
// loss rule, so a stage begins at the same sample in every run with the same options, whatever the
// batch sizes, the thread count or the split into sittings: resuming needs only the data position.
//
// Named curricula (--curriculum):
//   default  gen's DefaultCurriculum(): sides 3-6 (2 objects, 3 colours) for 50k samples, 3-8
//            (3, 4) for 100k, then 3-10 (4, 5). What models/default was trained with (it never left
//            stage 1: each --init sitting restarts at sample 0).
//   v2       sides 3-6 (2 objects, 3 colours) for 20k samples, 3-8 (3, 4) for 40k, 3-10 (4, 6) for
//            60k, then 3-S (6 objects, 8 colours) for ever, where S is LargestFittingSide(format,
//            max_seq_len) clamped to 10..30 (12 at the default 1024 tokens, 17 at 2048). At ~350
//            tokens a sample, stage 4 begins near 45M tokens: a 100M-token run spends half its
//            tokens on the largest grids.
//
// Thread safety: pure functions.
#ifndef ARC_TRAIN_CURRICULUM_H_
#define ARC_TRAIN_CURRICULUM_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "core/text/prompt_format.h"
#include "gen/generator.h"

namespace arc {

// The largest side s such that a sample of `pairs` pairs (demonstrations and the target) of s x s
// input and output grids renders in `format` within max_seq_len tokens; 0 when not even 1x1 fits.
int LargestFittingSide(const PromptFormat& format, int max_seq_len, int pairs = 3);

// "default" or "v2" (above). INVALID_ARGUMENT naming --curriculum and the names otherwise.
absl::StatusOr<std::vector<CurriculumStage>> NamedCurriculum(std::string_view name,
                                                             const PromptFormat& format,
                                                             int max_seq_len);

// One line: "3-6 sides, 2 objects, 3 colours until sample 20000; ...; 3-12 sides, ... after".
std::string DescribeCurriculum(const std::vector<CurriculumStage>& stages);

}  // namespace arc

#endif  // ARC_TRAIN_CURRICULUM_H_
