// The fish completion script.
#include <fmt/format.h>

#include <sstream>
#include <string>
#include <vector>

#include "cli_model.h"

namespace sessionctl::cli::docgen {
namespace {

// 'text' for fish, where only \ and ' are special inside single quotes.
std::string fish_quote(const std::string& text) {
  std::string out = "'";
  for (char c : one_line(text)) {
    if (c == '\\' || c == '\'') out += '\\';
    out += c;
  }
  return out + "'";
}

std::string fish_option(const Opt& o, const std::string& condition) {
  std::string line = "complete -c sessionctl";
  if (!condition.empty()) line += " -n " + fish_quote(condition);
  for (const auto& s : o.shorts) line += " -s " + s;
  for (const auto& l : o.longs) line += " -l " + l;
  switch (o.kind) {
    case ValueKind::none:
      break;
    case ValueKind::free:
      line += " -x";
      break;
    case ValueKind::choices:
      line += " -x -a " + fish_quote(join(o.choices, " "));
      break;
    case ValueKind::file:
      line += " -r -F";
      break;
    case ValueKind::directory:
      line += " -x -a '(__fish_complete_directories)'";
      break;
  }
  return line + " -d " + fish_quote(o.description) + "\n";
}

}  // namespace

std::string fish_completion(const Cli& cli) {
  std::ostringstream out;
  out << header_comment("Fish") << "\n";
  out << "# No file names unless an option or argument takes a file.\n"
      << "complete -c sessionctl -f\n\n"
      << "# Commands\n";
  for (const auto& c : cli.commands) {
    out << "complete -c sessionctl -n '__fish_use_subcommand' -a " << c.name << " -d " << fish_quote(c.summary) << "\n";
  }
  out << "\n# Before the command only\n";
  for (const auto& o : cli.options) {
    if (o.stands_alone()) out << fish_option(o, "__fish_use_subcommand");
  }
  out << "\n# Global options: before and after the command\n";
  for (const Opt* o : global_options(cli)) out << fish_option(*o, "");
  for (const auto& c : cli.commands) {
    std::vector<std::string> names = {c.name};
    names.insert(names.end(), c.aliases.begin(), c.aliases.end());
    std::string cond = "__fish_seen_subcommand_from " + join(names, " ");
    out << "\n# " << c.name << (c.aliases.empty() ? "" : " (" + join(c.aliases, ", ") + ")") << "\n";
    for (const auto& o : c.options) out << fish_option(o, cond);
    if (!c.positionals.empty()) {
      const Opt& p = c.positionals.front();
      if (p.kind == ValueKind::file) out << "complete -c sessionctl -n " << fish_quote(cond) << " -F\n";
      if (p.kind == ValueKind::directory) {
        out << "complete -c sessionctl -n " << fish_quote(cond) << " -a '(__fish_complete_directories)'\n";
      }
      if (p.kind == ValueKind::choices) {
        out << "complete -c sessionctl -n " << fish_quote(cond) << " -a " << fish_quote(join(p.choices, " ")) << "\n";
      }
    }
  }
  return out.str();
}

}  // namespace sessionctl::cli::docgen
