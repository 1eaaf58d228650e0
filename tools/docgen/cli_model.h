// The command line as data, walked out of the real CLI::App that build_cli() returns, and the text
// helpers every output of sessionctl-docgen shares. One file per output renders it: man.cpp (the man
// page), bash.cpp, zsh.cpp and fish.cpp (the completion scripts).
#pragma once

#include <set>
#include <string>
#include <vector>

#include "registry.h"

namespace sessionctl::cli::docgen {

// What a value-taking option or positional argument wants, for completion.
enum class ValueKind { none, free, choices, file, directory };

struct Opt {
  std::vector<std::string> shorts;   // without '-'
  std::vector<std::string> longs;    // without "--"
  std::string positional;            // positional name ("ids"), empty for flags and options
  std::string type;                  // "FORMAT", "DURATION"; empty for flags
  std::vector<std::string> choices;  // from IsMember checks, or a value source below
  bool closed_choices = false;       // choices from a check: nothing else is accepted
  ValueKind kind = ValueKind::none;
  std::string group;
  std::string description;
  bool repeatable = false;
  bool required = false;
  bool help = false;                  // the -h/--help every App has
  bool version = false;               // the main app's --version
  std::vector<std::string> excludes;  // display names: "--no-ttl"
  std::vector<std::string> needs;
  std::string env;
  std::string default_value;

  bool is_positional() const { return shorts.empty() && longs.empty(); }
  bool takes_value() const { return kind != ValueKind::none; }
  // Answers on its own and ends the command line (help, version).
  bool stands_alone() const { return help || version; }
  // "-u", "--url": every spelling, short first.
  std::vector<std::string> spellings() const {
    std::vector<std::string> out;
    for (const auto& s : shorts) out.push_back("-" + s);
    for (const auto& l : longs) out.push_back("--" + l);
    return out;
  }
};

struct Command {
  std::string name;
  std::vector<std::string> aliases;
  std::string summary;
  std::string description;
  std::vector<std::string> examples;
  std::vector<Opt> options;         // in definition order, help first
  std::vector<Opt> positionals;     // in order
  std::vector<std::string> groups;  // option groups in order of first appearance
};

struct Cli {
  std::string name;
  std::string summary;
  std::string version;
  std::vector<Opt> options;  // the main app's: global flags, help, version
  std::vector<std::string> groups;
  std::vector<Command> commands;
};

// The whole command line of `built`: global options, then each visible subcommand with its options,
// positionals and the description and examples of its command table entry.
Cli walk(const CliApp& built);

// Every long flag anywhere ("--url"), for marking them up in prose.
std::set<std::string> all_long_flags(const Cli& cli);

// Global options that reach the subcommands: everything of the main app but its help and version,
// which the subcommands answer themselves (or not at all).
std::vector<const Opt*> global_options(const Cli& cli);

// A positional's placeholder: its type, with "..." when it repeats.
std::string positional_label(const Opt& p);

// `text` cut at every `sep` (empty pieces kept; "" is one empty piece).
std::vector<std::string> split(const std::string& text, char sep);

// `words` with `sep` between them.
std::string join(const std::vector<std::string>& words, const std::string& sep);

// 'text' for POSIX shells.
std::string sh_quote(const std::string& text);

// A description on one line, for shells that show one line per candidate.
std::string one_line(const std::string& text);

// The comment every completion script starts with; `what` names the shell.
std::string header_comment(const std::string& what);

// The outputs, each in its own file: the man page (roff) and the three completion scripts.
std::string man_page(const Cli& cli);
std::string bash_completion(const Cli& cli);
std::string zsh_completion(const Cli& cli);
std::string fish_completion(const Cli& cli);

}  // namespace sessionctl::cli::docgen
