#include "tools/flags/usage.h"

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <map>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/parse.h"
#include "absl/flags/reflection.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"

namespace arc {
namespace {

constexpr size_t kWidth = 100;       // paragraphs are wrapped to this many columns
constexpr size_t kMaxFlagColumn = 34;  // help starts here unless `--name=default` is longer

// absl's own flags (--flagfile, --help*, --version, ...): listed by --helpfull, not by --help.
bool IsAbslFlag(const absl::CommandLineFlag& flag) {
  return absl::StrContains(flag.Filename(), "absl/");
}

// `text` wrapped to kWidth columns, each line starting with `indent`.
std::string Wrap(absl::string_view text, absl::string_view indent) {
  std::string out, line;
  for (absl::string_view word : absl::StrSplit(text, absl::ByAnyChar(" \n"), absl::SkipEmpty())) {
    if (!line.empty() && indent.size() + line.size() + 1 + word.size() > kWidth) {
      absl::StrAppend(&out, indent, line, "\n");
      line.clear();
    }
    absl::StrAppend(&line, line.empty() ? "" : " ", word);
  }
  if (!line.empty()) absl::StrAppend(&out, indent, line, "\n");
  return out;
}

// The words of a synopsis line, a bracketed group ([--seed N], (--steps N | --tokens N)) being one.
std::vector<std::string> SynopsisWords(absl::string_view line) {
  std::vector<std::string> words;
  std::string word;
  int depth = 0;
  for (char c : line) {
    if (c == ' ' && depth == 0) {
      if (!word.empty()) words.push_back(std::move(word));
      word.clear();
      continue;
    }
    if (c == '[' || c == '(') ++depth;
    if ((c == ']' || c == ')') && depth > 0) --depth;
    word += c;
  }
  if (!word.empty()) words.push_back(std::move(word));
  return words;
}

// The synopsis after "usage: ": each of its lines wrapped to kWidth columns, continuation lines
// indented past the program name.
std::string Synopsis(const ToolHelp& help) {
  const std::string usage = "usage: ";
  std::string out;
  bool first = true;
  for (absl::string_view line : absl::StrSplit(help.synopsis, '\n')) {
    // Keep a line's own leading spaces (alignment under the previous line).
    const size_t words_at = std::min(line.find_first_not_of(' '), line.size());
    const std::string lead = absl::StrCat(first ? usage : std::string(usage.size(), ' '),
                                          line.substr(0, words_at));
    const std::string wrap_indent(usage.size() + help.name.size() + 1, ' ');
    std::string current = lead;
    bool empty = true;
    for (const std::string& word : SynopsisWords(line.substr(words_at))) {
      if (!empty && current.size() + 1 + word.size() > kWidth) {
        absl::StrAppend(&out, current, "\n");
        current = wrap_indent;
        empty = true;
      }
      absl::StrAppend(&current, empty ? "" : " ", word);
      empty = false;
    }
    absl::StrAppend(&out, current, "\n");
    first = false;
  }
  return out;
}

// `--name=DEFAULT` as one would type it: an empty or spaced string default is quoted.
std::string FlagWithDefault(const absl::CommandLineFlag& flag) {
  std::string value = flag.DefaultValue();
  if (value.empty() || absl::StrContains(value, ' ')) value = absl::StrCat("\"", value, "\"");
  return absl::StrCat("--", flag.Name(), "=", value);
}

// One line per flag: `  --name=DEFAULT   help`.
std::string FlagLines(const std::vector<const absl::CommandLineFlag*>& flags) {
  std::vector<std::pair<std::string, std::string>> rows;
  size_t column = 0;
  for (const absl::CommandLineFlag* f : flags) {
    rows.emplace_back(FlagWithDefault(*f), absl::StrReplaceAll(f->Help(), {{"\n", " "}}));
    if (rows.back().first.size() <= kMaxFlagColumn) column = std::max(column, rows.back().first.size());
  }
  std::string out;
  for (const auto& [flag, help] : rows) {
    const size_t pad = flag.size() < column ? column - flag.size() : 0;
    absl::StrAppend(&out, "  ", flag, std::string(pad + 2, ' '), help, "\n");
  }
  return out;
}

bool IsHelpArgument(absl::string_view arg) {
  return arg == "--help" || arg == "-help" || arg == "-h" || arg == "--helpshort" ||
         arg == "-helpshort";
}

// absl's usage configuration: its --helpshort/--help=WORD look at this program's flags (not at
// the files named after the binary, absl's default), and --version names the program.
void ConfigureAbslUsage(const ToolHelp& help) {
  absl::FlagsUsageConfig config;
  config.contains_help_flags = [](absl::string_view file) {
    return !absl::StrContains(file, "absl/");
  };
  config.contains_helpshort_flags = config.contains_help_flags;
  config.version_string = [name = help.name] { return absl::StrCat(name, " " ARC_VERSION "\n"); };
  absl::SetFlagsUsageConfig(config);
  absl::SetProgramUsageMessage(absl::StrCat(help.name, ": ", help.description, "\n\nusage: ",
                                            help.synopsis));
}

}  // namespace

std::string ToolHelpText(const ToolHelp& help) {
  std::string out = Wrap(absl::StrCat(help.name, ": ", help.description), "");
  absl::StrAppend(&out, "\n", Synopsis(help));
  if (!help.commands.empty()) {
    size_t column = 0;
    for (const auto& c : help.commands) column = std::max(column, c.first.size());
    absl::StrAppend(&out, "\ncommands:\n");
    const std::string hang(column + 4, ' ');
    for (const auto& [name, line] : help.commands) {
      // Wrapped with a hanging indent; the first line's indent is replaced by the name.
      const std::string text = Wrap(line, hang);
      absl::StrAppend(&out, "  ", name, std::string(column - name.size() + 2, ' '),
                      text.substr(hang.size()));
    }
  }

  // Group the program's flags: the sections first claim theirs, the rest are the tool's own.
  std::map<absl::string_view, const absl::CommandLineFlag*> sorted;
  for (const auto& [name, flag] : absl::GetAllFlags()) {
    if (!IsAbslFlag(*flag) && !flag->IsRetired()) sorted.emplace(name, flag);
  }
  std::vector<const absl::CommandLineFlag*> own;
  std::vector<std::vector<const absl::CommandLineFlag*>> grouped(help.sections.size());
  for (const auto& [name, flag] : sorted) {
    const std::string file = flag->Filename();
    auto section = std::find_if(help.sections.begin(), help.sections.end(),
                                [&](const FlagSection& s) { return absl::EndsWith(file, s.file_suffix); });
    if (section == help.sections.end()) {
      own.push_back(flag);
    } else {
      grouped[section - help.sections.begin()].push_back(flag);
    }
  }
  if (!own.empty()) absl::StrAppend(&out, "\nflags:\n", FlagLines(own));
  for (size_t i = 0; i < help.sections.size(); ++i) {
    if (grouped[i].empty()) continue;
    absl::StrAppend(&out, "\n", Wrap(absl::StrCat(help.sections[i].title, ":"), ""),
                    FlagLines(grouped[i]));
  }
  if (!help.epilogue.empty()) absl::StrAppend(&out, "\n", help.epilogue);
  if (!absl::EndsWith(out, "\n")) out += "\n";
  absl::StrAppend(&out, "\n",
                  Wrap("Flags are --name=VALUE or --name VALUE (booleans: --name, --noname). "
                       "--flagfile=FILE reads flags from a file, one per line; --helpfull lists "
                       "absl's own flags too; --help=WORD lists the flags whose name or help "
                       "contains WORD.",
                       ""));
  return out;
}

std::vector<std::string> ParseToolCommandLine(int argc, char** argv, const ToolHelp& help) {
  ConfigureAbslUsage(help);
  for (int i = 1; i < argc; ++i) {
    const absl::string_view arg = argv[i];
    if (arg == "--") break;  // the rest are positional
    if (IsHelpArgument(arg)) {
      std::cout << ToolHelpText(help);
      std::cout.flush();
      std::exit(0);
    }
  }
  std::vector<char*> rest = absl::ParseCommandLine(argc, argv);
  return std::vector<std::string>(rest.begin() + 1, rest.end());
}

bool ParseFlagsOnlyCommandLine(int argc, char** argv, const ToolHelp& help) {
  const std::vector<std::string> rest = ParseToolCommandLine(argc, argv, help);
  if (!rest.empty()) {
    std::cerr << help.name << ": unexpected argument \"" << rest[0]
              << "\" (flags only; see --help)\n";
    return false;
  }
  return true;
}

int UsageError(const ToolHelp& help, const std::string& message) {
  std::cerr << help.name << ": " << message << "\n"
            << Synopsis(help) << "run `" << help.name << " --help` for the commands and flags\n";
  return 2;
}

}  // namespace arc
