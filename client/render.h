// Rendering: grids, solve results, job states, server info and progress as terminal text.
//
// Grids are drawn either plain (one digit per cell, one line per row: what scripts and pipes get)
// or coloured (two spaces per cell on the ANSI 256-colour background nearest to the ARC palette:
// 0 black, 1 blue, 2 red, 3 green, 4 yellow, 5 grey, 6 magenta, 7 orange, 8 sky, 9 maroon).
// Several grids are laid out side by side under their titles and wrapped at a width.
//
// Pure functions of their arguments (no I/O) except ShouldColor, which looks at the terminal and
// the environment; all thread-safe.
#ifndef ARC_CLIENT_RENDER_H_
#define ARC_CLIENT_RENDER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "arc/v1/arc_solver.pb.h"
#include "core/data/grid.h"

namespace arc::client {

enum class ColorMode { kAuto, kAlways, kNever };

// kAuto: colour when `fd` is a terminal, TERM is not "dumb" and NO_COLOR is unset.
bool ShouldColor(ColorMode mode, int fd);
// The terminal width from COLUMNS, else `fallback`.
int TerminalWidth(int fallback = 120);

// One string per grid row: digits, or coloured cells ending in a reset.
std::vector<std::string> GridLines(const Grid& grid, bool color);
// GridLines joined, each line ending in '\n'.
std::string RenderGrid(const Grid& grid, bool color);

struct GridBlock {
  std::string title;
  Grid grid;
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
// the test's output; then TTT statistics, timings and token counts. `task` may be null (only the
// response is shown).
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

// A solve result as the JSON that arc-solve's report holds per task (core/solve/result_json.h):
// "seconds" is the job's total (admission to result), "job" carries its id and time queued, and
// "correct" is scored against `task` when it is given and knows the outputs. INVALID_ARGUMENT when
// the response holds a malformed grid.
absl::StatusOr<std::string> SolveResponseJson(const v1::SolveResponse& response, const Task* task);

// A google.protobuf message as indented JSON with the proto field names (lower_snake_case). For
// jobs, job lists and server info; solve results print with SolveResponseJson.
std::string ToJson(const google::protobuf::Message& message);

}  // namespace arc::client

#endif  // ARC_CLIENT_RENDER_H_
