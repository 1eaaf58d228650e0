// The bash completion script.
#include <fmt/format.h>

#include <sstream>
#include <string>
#include <vector>

#include "cli_model.h"

namespace sessionctl::cli::docgen {

std::string bash_completion(const Cli& cli) {
  std::vector<const Opt*> globals = global_options(cli);
  std::ostringstream out;
  out << header_comment("Bash");
  out << "# Global options work before and after the command; each command adds its own.\n\n";

  // The value an option wants, as a case arm body; "" when it takes none.
  auto value_action = [](const Opt& o) -> std::string {
    switch (o.kind) {
      case ValueKind::none:
        return "";
      case ValueKind::free:
        return "return ;;";
      case ValueKind::choices:
        return "_sessionctl_words " + sh_quote(join(o.choices, " ")) + "; return ;;";
      case ValueKind::file:
        return "_sessionctl_files; return ;;";
      case ValueKind::directory:
        return "_sessionctl_dirs; return ;;";
    }
    return "";
  };

  out << "_sessionctl_words() {\n"
      << "    mapfile -t COMPREPLY < <(compgen -W \"$1\" -- \"$cur\")\n"
      << "}\n\n"
      << "_sessionctl_files() {\n"
      << "    compopt -o filenames 2>/dev/null\n"
      << "    mapfile -t COMPREPLY < <(compgen -f -- \"$cur\")\n"
      << "}\n\n"
      << "_sessionctl_dirs() {\n"
      << "    compopt -o filenames 2>/dev/null\n"
      << "    mapfile -t COMPREPLY < <(compgen -d -- \"$cur\")\n"
      << "}\n\n";

  out << "_sessionctl() {\n"
      << "    local cur=\"${COMP_WORDS[COMP_CWORD]}\" prev=\"\" cword=$COMP_CWORD\n"
      << "    (( cword > 0 )) && prev=\"${COMP_WORDS[cword-1]}\"\n"
      << "    # bash splits --opt=value at '=', so the option is one word further back.\n"
      << "    if [[ $cur == \"=\" ]]; then\n"
      << "        cur=\"\"\n"
      << "    elif [[ $prev == \"=\" ]] && (( cword > 1 )); then\n"
      << "        prev=\"${COMP_WORDS[cword-2]}\"\n"
      << "    fi\n"
      << "    COMPREPLY=()\n\n";

  // Which command: the first word that is neither an option nor a global option's value.
  std::vector<std::string> global_value_flags;
  for (const Opt* o : globals) {
    if (o->takes_value()) {
      for (const auto& s : o->spellings()) global_value_flags.push_back(s);
    }
  }
  out << "    local cmd=\"\" i word\n"
      << "    for (( i = 1; i < cword; i++ )); do\n"
      << "        word=\"${COMP_WORDS[i]}\"\n"
      << "        case \"$word\" in\n";
  if (!global_value_flags.empty()) {
    out << "            " << join(global_value_flags, "|") << ")\n"
        << "                [[ ${COMP_WORDS[i+1]} == \"=\" ]] && (( i++ ))\n"
        << "                (( i++ )) ;;\n";
  }
  out << "            -*) ;;\n"
      << "            *) cmd=\"$word\"; break ;;\n"
      << "        esac\n"
      << "    done\n";
  bool any_alias =
      std::any_of(cli.commands.begin(), cli.commands.end(), [](const Command& c) { return !c.aliases.empty(); });
  if (any_alias) {
    out << "    case \"$cmd\" in\n";
    for (const auto& c : cli.commands) {
      if (!c.aliases.empty()) out << "        " << join(c.aliases, "|") << ") cmd=" << c.name << " ;;\n";
    }
    out << "    esac\n";
  }
  out << "\n";

  // Option values: the command's own options first, since they may shadow a global one. Options
  // whose value cannot be guessed share one arm that offers nothing (rather than file names).
  out << "    case \"$cmd:$prev\" in\n";
  auto value_arms = [&](const std::vector<const Opt*>& opts, const std::string& scope) {
    std::vector<std::string> free;
    for (const Opt* o : opts) {
      std::string action = value_action(*o);
      if (action.empty()) continue;
      std::vector<std::string> pats;
      for (const auto& s : o->spellings()) pats.push_back(fmt::format("{}:{}", scope, s));
      if (o->kind == ValueKind::free) {
        free.insert(free.end(), pats.begin(), pats.end());
      } else {
        out << "        " << join(pats, "|") << ") " << action << "\n";
      }
    }
    if (!free.empty()) out << "        " << join(free, "|") << ") return ;;\n";
  };
  for (const auto& c : cli.commands) {
    std::vector<const Opt*> own;
    for (const auto& o : c.options) own.push_back(&o);
    value_arms(own, c.name);
  }
  value_arms(globals, "*");
  out << "    esac\n\n";

  // Flags.
  std::vector<std::string> global_flags;
  for (const Opt* o : globals) {
    for (const auto& s : o->spellings()) global_flags.push_back(s);
  }
  std::vector<std::string> top_flags;
  for (const auto& o : cli.options) {
    if (o.stands_alone()) {
      for (const auto& s : o.spellings()) top_flags.push_back(s);
    }
  }
  out << "    if [[ $cur == -* ]]; then\n"
      << "        local flags=" << sh_quote(join(global_flags, " ")) << "\n"
      << "        case \"$cmd\" in\n"
      << "            \"\") flags+=" << sh_quote(" " + join(top_flags, " ")) << " ;;\n";
  for (const auto& c : cli.commands) {
    std::vector<std::string> own;
    for (const auto& o : c.options) {
      for (const auto& s : o.spellings()) own.push_back(s);
    }
    out << "            " << c.name << ") flags+=" << sh_quote(" " + join(own, " ")) << " ;;\n";
  }
  out << "        esac\n"
      << "        _sessionctl_words \"$flags\"\n"
      << "        return\n"
      << "    fi\n\n";

  // Commands, then the command's arguments.
  std::vector<std::string> names;
  for (const auto& c : cli.commands) names.push_back(c.name);
  out << "    if [[ -z $cmd ]]; then\n"
      << "        _sessionctl_words " << sh_quote(join(names, " ")) << "\n"
      << "        return\n"
      << "    fi\n";
  std::vector<std::string> arg_arms;
  for (const auto& c : cli.commands) {
    // Only the first positional is offered a completion: ids live in Redis, not on this host.
    if (c.positionals.empty()) continue;
    std::string action = value_action(c.positionals.front());
    if (action.empty() || action == "return ;;") continue;
    arg_arms.push_back("        " + c.name + ") " + action);
  }
  if (!arg_arms.empty()) {
    out << "    case \"$cmd\" in\n";
    for (const auto& a : arg_arms) out << a << "\n";
    out << "    esac\n";
  }
  out << "}\n\n"
      << "complete -F _sessionctl sessionctl\n";
  return out.str();
}

}  // namespace sessionctl::cli::docgen
