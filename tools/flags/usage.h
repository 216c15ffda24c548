// The command-line front of every absl-flag binary (arc-tasks, arc-generate, arc-init-model,
// arc-bench, arc-train, arc-solve, arc-server): one `--help` for all of them, and the checks of
// positional arguments.
//
// `--help` (also -h, -help, --helpshort) prints, on stdout, and exits 0:
//
//   arc-solve: <one-paragraph description>
//
//   usage: <synopsis>
//
//   commands:                          (subcommand tools only)
//     check     validate tasks and print a summary
//
//   flags:
//     --limit=0                  solve only the first N tasks (0 = all)
//     --model=models/default     model directory ...
//
//   <section title>:               (flags defined in a file a FlagSection names)
//     --ttt=true                 ...
//
//   <epilogue>
//
// Every flag the binary defines is listed, one line each, as `--name=DEFAULT` and its help; flags
// are grouped by the file that defines them (absl records it), alphabetical within a group. absl's
// own flags (--flagfile, --fromenv, --helpfull, ...) are left to `--helpfull`, which, like
// `--help=WORD` and `--version`, is still absl's (absl exits 1 after those help forms).
//
// An unknown flag or a bad value is absl's error, which names the flag (`ERROR: Unknown command line
// flag 'x'`, `ERROR: Illegal value 'y' specified for flag 'threads'`); absl exits 1 then.
//
// Thread-compatible: call once, from main, before any threads start.
#ifndef ARC_TOOLS_FLAGS_USAGE_H_
#define ARC_TOOLS_FLAGS_USAGE_H_

#include <string>
#include <utility>
#include <vector>

namespace arc {

// A group of flags in the help: those defined in a file whose path ends in `file_suffix`.
struct FlagSection {
  std::string title;        // e.g. "solve options (docs/SOLVE_OPTIONS.md)"
  std::string file_suffix;  // e.g. "tools/flags/solve_flags.cc"
};

struct ToolHelp {
  std::string name;         // the binary, e.g. "arc-solve"
  std::string description;  // one paragraph: what it does, what it reads and writes
  std::string synopsis;     // the usage line(s), without "usage: "
  // Subcommands (arc-tasks): name and one line each. Empty for flags-only tools.
  std::vector<std::pair<std::string, std::string>> commands;
  // Flags matched by a section are listed under its title, after the tool's own "flags".
  std::vector<FlagSection> sections;
  std::string epilogue;  // printed after the flags (e.g. a table of presets); may be empty
};

// The --help text (see the top of this file).
std::string ToolHelpText(const ToolHelp& help);

// Parses the command line with absl. `--help` prints ToolHelpText on stdout and exits 0. Returns the
// positional arguments, without the program name.
std::vector<std::string> ParseToolCommandLine(int argc, char** argv, const ToolHelp& help);

// For tools that take flags only: parses, and returns false after printing
// `<name>: unexpected argument "..." (flags only; see --help)` on stderr when a positional argument
// was given (exit with status 2 then).
bool ParseFlagsOnlyCommandLine(int argc, char** argv, const ToolHelp& help);

// Prints `<name>: <message>` and `run \`<name> --help\` for ...` on stderr; returns 2 (the exit
// status of a usage error).
int UsageError(const ToolHelp& help, const std::string& message);

}  // namespace arc

#endif  // ARC_TOOLS_FLAGS_USAGE_H_
