// The one table of subcommands: it drives dispatch, --help, the man page and the shell completions.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "context.h"

namespace sessionctl::cli {

using Runner = std::function<void(Context&)>;

struct CommandDef {
  std::string name;
  std::vector<std::string> aliases;   // e.g. backup for export
  std::string summary;                // one line, for --help and completions
  std::string description;            // paragraphs for the man page
  std::vector<std::string> examples;  // shell lines for the man page
  // Adds the subcommand's flags to `app` and returns the function that runs it.
  std::function<Runner(CLI::App& app)> setup;
};

// Every subcommand, in the order help shows them.
const std::vector<CommandDef>& command_table();

// The whole command line: global flags plus one subcommand per table entry.
struct CliApp {
  std::unique_ptr<CLI::App> app;
  std::unique_ptr<GlobalOptions> global;
  std::vector<std::pair<CLI::App*, Runner>> runners;
};
CliApp build_cli();

// CLI11 reads an argument written "[a,b]" as a list; run_main marks such arguments so that an id like
// "[abc]" survives parsing, and the commands take the mark off with this.
std::string unescape_arg(const std::string& arg);

// The check every numeric flag (type name N) carries: digits only, within [min, max], so "5x", "x" and
// "-1" get one plain message ("'5x' is not a whole number of 0 or more") instead of CLI11's.
CLI::Validator whole_number(long long min, long long max);

// "--wide=yes": CLI11 would read the value as a boolean ("--wide=no" turning it off); a flag takes no
// value, so the message refusing the first "--flag=value" among `args` (any command's flag), if any.
std::optional<std::string> flag_with_value(const CLI::App& app, const std::vector<std::string>& args);

// Parses argv, runs the chosen subcommand and maps any error to its exit code and one stderr line.
int run_main(int argc, char** argv);

// Subcommand setups, one per file in commands/.
Runner setup_status(CLI::App& app);
Runner setup_list(CLI::App& app);
Runner setup_inspect(CLI::App& app);
Runner setup_stats(CLI::App& app);
Runner setup_doctor(CLI::App& app);
Runner setup_extend(CLI::App& app);
Runner setup_delete(CLI::App& app);
Runner setup_mask(CLI::App& app);
Runner setup_cleanup(CLI::App& app);
Runner setup_export(CLI::App& app);
Runner setup_import(CLI::App& app);
Runner setup_verify(CLI::App& app);
Runner setup_smoke(CLI::App& app);
Runner setup_persist_test(CLI::App& app);
Runner setup_profiles(CLI::App& app);

// inspect's view of named sessions (mask without --in-place shows the same, masked whatever --reveal says).
void show_sessions(Context& ctx, const std::vector<std::string>& targets, bool all_items, bool reveal);

}  // namespace sessionctl::cli
