// The zsh completion script.
#include <fmt/format.h>

#include <sstream>
#include <string>
#include <vector>

#include "cli_model.h"

namespace sessionctl::cli::docgen {
namespace {

// zsh: '[' ']' and '\' are special inside an _arguments description.
std::string zsh_desc(const std::string& text) {
  std::string out;
  for (char c : one_line(text)) {
    if (c == '[' || c == ']' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

// "message:action" for an option's value.
std::string zsh_value(const Opt& o) {
  std::string message = o.type;
  std::string m;
  for (char c : message) {
    if (c == ':' || c == '\\') m += '\\';
    m += c;
  }
  switch (o.kind) {
    case ValueKind::none:
      return "";
    case ValueKind::free:
      return ":" + m + ": ";
    case ValueKind::choices:
      return ":" + m + ":(" + join(o.choices, " ") + ")";
    case ValueKind::file:
      return ":" + m + ":_files";
    case ValueKind::directory:
      return ":" + m + ":_files -/";
  }
  return "";
}

std::vector<std::string> zsh_option_specs(const Opt& o) {
  std::vector<std::string> out;
  std::vector<std::string> exclusion;
  if (o.stands_alone()) {
    exclusion = {"-", "*"};
  } else {
    if (!o.repeatable) exclusion = o.spellings();
    for (const auto& x : o.excludes) exclusion.push_back(x);
  }
  std::string prefix = exclusion.empty() ? "" : "(" + join(exclusion, " ") + ")";
  if (o.repeatable) prefix += "*";
  for (const auto& s : o.spellings()) {
    std::string suffix;
    if (o.takes_value()) suffix = s.size() == 2 ? "+" : "=";
    out.push_back(sh_quote(fmt::format("{}{}{}[{}]{}", prefix, s, suffix, zsh_desc(o.description), zsh_value(o))));
  }
  return out;
}

}  // namespace

std::string zsh_completion(const Cli& cli) {
  std::ostringstream out;
  out << "#compdef sessionctl\n" << header_comment("Zsh") << "\n";
  out << "_sessionctl() {\n"
      << "  local curcontext=\"$curcontext\" state state_descr line ret=1\n"
      << "  typeset -A opt_args\n"
      << "  # Global options: valid before and after the command.\n"
      << "  local -a global_opts\n"
      << "  global_opts=(\n";
  for (const Opt* o : global_options(cli)) {
    for (const auto& spec : zsh_option_specs(*o)) out << "    " << spec << "\n";
  }
  out << "  )\n\n";
  out << "  _arguments -C -s -S $global_opts \\\n";
  for (const auto& o : cli.options) {
    if (!o.stands_alone()) continue;
    for (const auto& spec : zsh_option_specs(o)) out << "    " << spec << " \\\n";
  }
  out << "    '1:command:_sessionctl_commands' \\\n"
      << "    '*::argument:->command' && ret=0\n\n"
      << "  case $state in\n"
      << "    (command)\n"
      << "      curcontext=\"${curcontext%:*:*}:sessionctl-${words[1]}:\"\n"
      << "      case ${words[1]} in\n";
  for (const auto& c : cli.commands) {
    std::vector<std::string> names = {c.name};
    names.insert(names.end(), c.aliases.begin(), c.aliases.end());
    out << "        (" << join(names, "|") << ")\n"
        << "          _arguments -s -S $global_opts";
    for (const auto& o : c.options) {
      for (const auto& spec : zsh_option_specs(o)) out << " \\\n            " << spec;
    }
    for (std::size_t i = 0; i < c.positionals.size(); ++i) {
      const Opt& p = c.positionals[i];
      Opt value = p;
      if (value.kind == ValueKind::none) value.kind = ValueKind::free;
      std::string spec = p.repeatable ? "*" : (p.required ? std::to_string(i + 1) : std::to_string(i + 1) + ":");
      out << " \\\n            " << sh_quote(spec + zsh_value(value));
    }
    out << " && ret=0\n"
        << "          ;;\n";
  }
  out << "      esac\n"
      << "      ;;\n"
      << "  esac\n"
      << "  return ret\n"
      << "}\n\n";
  out << "(( $+functions[_sessionctl_commands] )) ||\n"
      << "_sessionctl_commands() {\n"
      << "  local -a commands\n"
      << "  commands=(\n";
  for (const auto& c : cli.commands) {
    std::vector<std::string> names = {c.name};
    names.insert(names.end(), c.aliases.begin(), c.aliases.end());
    for (const auto& n : names) out << "    " << sh_quote(n + ":" + one_line(c.summary)) << "\n";
  }
  out << "  )\n"
      << "  _describe -t commands 'sessionctl command' commands\n"
      << "}\n\n"
      << "_sessionctl \"$@\"\n";
  return out.str();
}

}  // namespace sessionctl::cli::docgen
