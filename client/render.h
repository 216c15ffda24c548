// Rendering: grids, solve results, job states, server info and progress as terminal text.
//
// Grids are drawn either plain (one digit per cell, one line per row: what scripts and pipes get)
// or coloured: two columns per cell, " 3", the digit on the ANSI 256-colour background nearest to
// the ARC palette (0 black, 1 blue, 2 red, 3 green, 4 yellow, 5 grey, 6 magenta, 7 orange, 8 sky,
// 9 maroon) in black or white, whichever reads on that background. Given the expected output, a
// coloured grid marks the cells that differ from it as "*3" (same shape only); plain grids stay
// digits, and the verdict line counts the differing cells. Several grids are laid out side by side
// under their titles and wrapped at a width.
//
// Pure functions of their arguments (no I/O) except ShouldColor, which looks at the terminal and
// the environment; all thread-safe.
#ifndef ARC_CLIENT_RENDER_H_
#define ARC_CLIENT_RENDER_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "arc/v1/arc_solver.pb.h"
#include "core/data/grid.h"
#include "nlohmann/json.hpp"

namespace arc::client {

enum class ColorMode { kAuto, kAlways, kNever };

// kAuto: colour when `fd` is a terminal, TERM is not "dumb" and NO_COLOR is unset.
bool ShouldColor(ColorMode mode, int fd);
// The terminal width from COLUMNS, else `fallback`.
int TerminalWidth(int fallback = 120);

// One string per grid row: digits, or coloured cells ending in a reset. With `expected` of the
// same shape, coloured cells that differ from it are marked.
std::vector<std::string> GridLines(const Grid& grid, bool color, const Grid* expected = nullptr);
// GridLines joined, each line ending in '\n'.
std::string RenderGrid(const Grid& grid, bool color, const Grid* expected = nullptr);

// Cells of `grid` that differ from `expected`; -1 when the shapes differ.
int DifferingCells(const Grid& grid, const Grid& expected);

struct GridBlock {
  std::string title;
  Grid grid;
  std::optional<Grid> expected;  // marks the differing cells (coloured only)
};
// Blocks side by side (three spaces apart, titles above, shorter grids padded below), starting a
// new band of blocks when the next one would pass `max_width` columns. Every line is indented by
// `indent` spaces. Lines have no trailing spaces in plain mode.
std::string RenderSideBySide(const std::vector<GridBlock>& blocks, bool color, int max_width,
                             int indent = 0);

struct RenderOptions {
  bool color = false;
  int max_width = 120;
  int max_candidate_grids = 4;  // candidates drawn as grids (all are listed in the table)
};

// A solve result: per test input the input (and known output), the attempts and further candidate
// grids, a candidate table (votes, score, views), whether each attempt is correct when `task` has
// the test's output (a wrong one with its differing cells counted and, coloured, marked); then TTT
// statistics, timings and token counts. `task` may be null (only the response is shown).
std::string FormatSolveResponse(const v1::SolveResponse& response, const Task* task,
                                const RenderOptions& options);

// One line (no newline) describing a stream event, e.g. "ttt step 3/10  loss 2.3456  lr 1.00e-04".
std::string FormatEvent(const v1::SolveEvent& event);

// "[#########.........]  45/100" in `width` bar cells.
std::string ProgressBar(int done, int total, int width = 30);

// A job in a few lines (its result, when present, is left to FormatSolveResponse).
std::string FormatJob(const v1::Job& job);
// A table of jobs, newest first as the server sent them.
std::string FormatJobList(const v1::ListJobsResponse& jobs);
std::string FormatServerInfo(const v1::ServerInfo& info);

// A solve result as the JSON that arc-solve's report holds per task (core/solve/result_json.h,
// docs/JSON.md): "seconds" is the job's total (admission to result), "job" carries its id and time
// queued, and "correct" is scored against `task` when it is given and knows the outputs.
// INVALID_ARGUMENT when the response holds a malformed grid.
absl::StatusOr<nlohmann::json> SolveResponseToJson(const v1::SolveResponse& response,
                                                   const Task* task);
// SolveResponseToJson as text (core/solve/result_json.h's JsonText: a grid row per line).
absl::StatusOr<std::string> SolveResponseJson(const v1::SolveResponse& response, const Task* task);

// A message in the ARC-native JSON of docs/JSON.md, for jobs, job lists and server info: the proto
// field names (lower_snake_case), every number a JSON number (64-bit ones too, unlike protobuf's
// JSON), enums by their proto names, a Grid as nested integer lists ([[0, 1], [2, 3]]) and a solve
// result (a job's "result") as SolveResponseToJson's entry. Every field without presence is
// written, default or not; message, oneof and `optional` fields only when set.
nlohmann::json MessageToJson(const google::protobuf::Message& message);
// MessageToJson as text (JsonText).
std::string ToJson(const google::protobuf::Message& message);

}  // namespace arc::client

#endif  // ARC_CLIENT_RENDER_H_
