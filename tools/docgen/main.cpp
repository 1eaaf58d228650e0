// sessionctl-docgen OUTDIR: writes OUTDIR/man/sessionctl.1 and OUTDIR/completions/{sessionctl.bash,
// _sessionctl,sessionctl.fish} by walking the real CLI::App that build_cli() returns, so that a
// subcommand or flag added to the command table shows up in the man page and every completion
// without anyone listing it here. The prose the CLI cannot know lives in manual.cpp.
//
// Output is deterministic (no clock, no environment), so the checked-in files can be compared with
// a fresh run; tests/integration/docs_test.cpp does.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "manual.h"
#include "registry.h"
#include "session/profile.h"
#include "util/utf8.h"

namespace sessionctl::cli::docgen {
namespace {

namespace fs = std::filesystem;

// ---------------------------------------------------------------------------------------------
// The command line as data, walked out of CLI::App.

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

// Values an option takes that no validator lists: --profile takes a profile name, and the built-in
// ones are known. Keyed by long name; an option that does not exist is simply never looked up.
std::vector<std::string> value_source(const std::string& long_name) {
  if (long_name == "profile") {
    std::vector<std::string> names;
    const ProfileSet builtin = ProfileSet::builtin();
    for (const auto& p : builtin.all()) names.push_back(p.name);
    return names;
  }
  return {};
}

std::vector<std::string> split(const std::string& text, char sep) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : text) {
    if (c == sep) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  out.push_back(cur);
  return out;
}

// CLI11 spells a type with its validators: "FORMAT:{table,json,jsonl}", "TEXT:FILE".
void read_type(const CLI::Option& o, Opt& opt) {
  std::vector<std::string> parts = split(o.get_type_name(), ':');
  opt.type = parts.front();
  bool file = opt.type == "FILE", dir = opt.type == "DIR";
  for (std::size_t i = 1; i < parts.size(); ++i) {
    const std::string& v = parts[i];
    if (v.size() >= 2 && v.front() == '{' && v.back() == '}') {
      for (std::string choice : split(v.substr(1, v.size() - 2), ',')) {
        if (auto arrow = choice.find("->"); arrow != std::string::npos) choice.erase(arrow);  // IsMember on a map
        if (!choice.empty()) opt.choices.push_back(choice);
      }
      opt.closed_choices = true;
    } else if (v == "FILE") {
      file = true;
    } else if (v == "DIR") {
      dir = true;
    }
  }
  if (opt.choices.empty() && !opt.longs.empty()) opt.choices = value_source(opt.longs.front());
  if (o.get_items_expected_max() == 0) {
    opt.kind = ValueKind::none;
    opt.type.clear();
  } else if (!opt.choices.empty()) {
    opt.kind = ValueKind::choices;
  } else if (file) {
    opt.kind = ValueKind::file;
  } else if (dir) {
    opt.kind = ValueKind::directory;
  } else {
    opt.kind = ValueKind::free;
  }
}

// The options of an App that answer on their own rather than configure a run.
struct Special {
  const CLI::Option* help = nullptr;
  const CLI::Option* version = nullptr;
};

Opt read_option(const CLI::Option& o, const Special& special) {
  Opt opt;
  opt.shorts = o.get_snames();
  opt.longs = o.get_lnames();
  if (opt.shorts.empty() && opt.longs.empty()) opt.positional = o.get_name(true);
  opt.group = o.get_group();
  opt.description = o.get_description();
  opt.required = o.get_required();
  opt.help = &o == special.help;
  opt.version = &o == special.version;
  opt.env = o.get_envname();
  opt.default_value = o.get_default_str();
  read_type(o, opt);
  opt.repeatable = o.get_items_expected_max() > 1;
  if (opt.type.empty() && opt.is_positional()) opt.type = opt.positional;
  for (const CLI::Option* x : o.get_excludes()) opt.excludes.push_back(x->get_name());
  for (const CLI::Option* x : o.get_needs()) opt.needs.push_back(x->get_name());
  std::sort(opt.excludes.begin(), opt.excludes.end());
  std::sort(opt.needs.begin(), opt.needs.end());
  return opt;
}

// The options of `app` and of its option groups (CLI11 models those as nameless subcommands).
void read_options(const CLI::App& app, const Special& special, std::vector<Opt>& options, std::vector<Opt>& positionals,
                  std::vector<std::string>& groups) {
  for (const CLI::Option* o : app.get_options()) {
    if (o->get_group().empty()) continue;  // hidden
    Opt opt = read_option(*o, special);
    if (opt.is_positional()) {
      positionals.push_back(std::move(opt));
      continue;
    }
    if (std::find(groups.begin(), groups.end(), opt.group) == groups.end()) groups.push_back(opt.group);
    options.push_back(std::move(opt));
  }
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App* s) { return s->get_name().empty(); })) {
    read_options(*sub, special, options, positionals, groups);
  }
}

Cli walk(const CliApp& built) {
  const CLI::App& app = *built.app;
  Cli cli;
  cli.name = app.get_name();
  cli.summary = app.get_description();
  cli.version = SESSIONCTL_VERSION;
  std::vector<Opt> ignored;
  read_options(app, {app.get_help_ptr(), app.get_version_ptr()}, cli.options, ignored, cli.groups);

  std::map<std::string, const CommandDef*> defs;
  for (const auto& def : command_table()) defs[def.name] = &def;
  auto visible = [](const CLI::App* s) { return !s->get_name().empty() && !s->get_group().empty(); };
  for (const CLI::App* sub : app.get_subcommands(visible)) {
    Command cmd;
    cmd.name = sub->get_name();
    cmd.aliases = sub->get_aliases();
    cmd.summary = sub->get_description();
    if (auto it = defs.find(cmd.name); it != defs.end()) {
      cmd.description = it->second->description;
      cmd.examples = it->second->examples;
    }
    read_options(*sub, {sub->get_help_ptr(), sub->get_version_ptr()}, cmd.options, cmd.positionals, cmd.groups);
    cli.commands.push_back(std::move(cmd));
  }
  return cli;
}

// Every long flag anywhere, for marking them up in prose.
std::set<std::string> all_long_flags(const Cli& cli) {
  std::set<std::string> out;
  auto add = [&](const std::vector<Opt>& opts) {
    for (const auto& o : opts) {
      for (const auto& l : o.longs) out.insert("--" + l);
    }
  };
  add(cli.options);
  for (const auto& c : cli.commands) add(c.options);
  return out;
}

// Global options that reach the subcommands: everything of the main app but its help and version,
// which the subcommands answer themselves (or not at all).
std::vector<const Opt*> global_options(const Cli& cli) {
  std::vector<const Opt*> out;
  for (const auto& o : cli.options) {
    if (o.stands_alone()) continue;
    out.push_back(&o);
  }
  return out;
}

std::string positional_label(const Opt& p) { return p.type + (p.repeatable ? "..." : ""); }

// ---------------------------------------------------------------------------------------------
// roff

// Escapes plain UTF-8 text for a roff text line or a quoted macro argument.
std::string roff_escape(const std::string& text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    switch (c) {
      case '\\':
        out += "\\e";
        continue;
      case '-':
        out += "\\-";
        continue;
      case '\'':
        out += "\\(aq";
        continue;
      case '`':
        out += "\\(ga";
        continue;
      case '"':
        out += "\\(dq";
        continue;
      case '^':
        out += "\\(ha";
        continue;
      case '~':
        out += "\\(ti";
        continue;
      case '\t':
      case '\n':
        out += ' ';
        continue;
      default:
        break;
    }
    if (c < 0x20 || c == 0x7f) continue;
    if (c < 0x80) {
      out += static_cast<char>(c);
      continue;
    }
    // Non-ASCII as \[uXXXX], so the page does not depend on how groff is told the input encoding.
    char32_t cp = 0xFFFD;  // a byte that is no UTF-8 (the one validator says) shows as U+FFFD
    const std::size_t len = utf8_decode(text, i, cp);
    if (len > 1) i += len - 1;
    out += fmt::format("\\[u{:04X}]", static_cast<unsigned>(cp));
  }
  return out;
}

// Text with `code` spans in bold, escaped.
std::string roff_markup(const std::string& text) {
  std::string out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto open = text.find('`', pos);
    auto close = open == std::string::npos ? std::string::npos : text.find('`', open + 1);
    if (close == std::string::npos) {
      out += roff_escape(text.substr(pos));
      break;
    }
    out += roff_escape(text.substr(pos, open - pos));
    out += "\\fB" + roff_escape(text.substr(open + 1, close - open - 1)) + "\\fR";
    pos = close + 1;
  }
  return out;
}

// A roff text line: one that starts with '.' or '\'' would be read as a request.
std::string text_line(const std::string& escaped) {
  if (escaped.empty()) return "\\&";
  if (escaped.front() == '.' || escaped.front() == '\'' || escaped.front() == ' ') return "\\&" + escaped;
  return escaped;
}

// Wraps the known long flags in a help text in `code` so that the man page shows them in bold.
std::string mark_flags(const std::string& text, const std::set<std::string>& flags) {
  if (text.find('`') != std::string::npos) return text;
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    bool starts = text.compare(i, 2, "--") == 0 && (i == 0 || text[i - 1] == ' ' || text[i - 1] == '(');
    if (starts) {
      std::size_t j = i + 2;
      while (j < text.size() && (std::isalnum(static_cast<unsigned char>(text[j])) || text[j] == '-')) ++j;
      std::string word = text.substr(i, j - i);
      if (flags.count(word)) {
        out += "`" + word + "`";
        i = j;
        continue;
      }
    }
    out += text[i++];
  }
  return out;
}

// "only sessions that never expire" -> "Only sessions that never expire."
std::string sentence(std::string text) {
  while (!text.empty() && text.back() == ' ') text.pop_back();
  if (text.empty()) return text;
  if (text.front() >= 'a' && text.front() <= 'z') text.front() = static_cast<char>(text.front() - 'a' + 'A');
  char last = text.back();
  if (last != '.' && last != '?' && last != '!') text += '.';
  return text;
}

class ManPage {
 public:
  explicit ManPage(const Cli& cli) : cli_(cli), flags_(all_long_flags(cli)) {}

  std::string render() {
    manual::Facts facts;
    for (const auto& c : cli_.commands) facts.commands.push_back(c.name);

    std::string upper = cli_.name;
    std::transform(upper.begin(), upper.end(), upper.begin(), [](unsigned char c) { return std::toupper(c); });
    out_ << ".\\\" Generated by sessionctl-docgen from the command table and commands/manual.cpp.\n"
         << ".\\\" Do not edit: run `cmake --build build --target docs`.\n";
    out_ << fmt::format(".TH \"{}\" \"1\" \"{}\" \"{} {}\" \"User Commands\"\n", roff_escape(upper),
                        manual::kManualDate, roff_escape(cli_.name), roff_escape(cli_.version));
    out_ << ".nh\n.ad l\n";
    name_section();
    synopsis();
    prose(manual::description(facts));
    commands();
    global_options_section();
    for (const auto& s : manual::trailing_sections(facts)) prose(s);
    return out_.str();
  }

 private:
  void line(const std::string& escaped) { out_ << text_line(escaped) << '\n'; }
  void section(const std::string& title) { out_ << ".SH \"" << roff_escape(title) << "\"\n"; }
  void subsection(const std::string& title) { out_ << ".SS \"" << roff_escape(title) << "\"\n"; }
  void paragraph(const std::string& text) {
    out_ << ".PP\n";
    line(roff_markup(text));
  }
  void tagged(const std::string& term_roff, const std::string& text) {
    out_ << ".TP\n";
    line(term_roff);
    line(roff_markup(text));
  }
  void example(const std::vector<std::string>& lines) {
    out_ << ".PP\n.RS 4\n.nf\n";
    for (const auto& l : lines) line(roff_escape(l));
    out_ << ".fi\n.RE\n";
  }
  std::string bold(const std::string& s) { return "\\fB" + roff_escape(s) + "\\fR"; }
  std::string italic(const std::string& s) { return "\\fI" + roff_escape(s) + "\\fR"; }

  void name_section() {
    section("NAME");
    std::string summary = cli_.summary;
    if (summary.rfind(cli_.name + ": ", 0) == 0) summary.erase(0, cli_.name.size() + 2);
    line(roff_escape(cli_.name) + " \\- " + roff_escape(summary));
  }

  void synopsis() {
    section("SYNOPSIS");
    line(bold(cli_.name) + " [" + italic("GLOBAL OPTIONS") + "] " + italic("COMMAND") + " [" + italic("OPTIONS") +
         "] [" + italic("ARGUMENTS") + "]");
    std::vector<std::string> alone;
    for (const auto& o : cli_.options) {
      if (o.stands_alone()) alone.push_back(bold(o.spellings().back()));
    }
    if (!alone.empty()) {
      out_ << ".br\n";
      std::string joined;
      for (const auto& a : alone) joined += (joined.empty() ? "" : " | ") + a;
      line(bold(cli_.name) + " " + joined);
    }
    out_ << ".PP\n";
    std::string names;
    for (std::size_t i = 0; i < cli_.commands.size(); ++i) {
      names += (i == 0 ? "" : i + 1 == cli_.commands.size() ? " or " : ", ") + bold(cli_.commands[i].name);
    }
    line(italic("COMMAND") + " is one of " + names + "; see " + bold("COMMANDS") + ".");
  }

  void prose(const manual::Section& s) {
    section(s.title);
    bool first = true;
    for (const auto& b : s.blocks) {
      switch (b.kind) {
        case manual::Block::Kind::paragraph:
          if (first) {
            line(roff_markup(b.text));
          } else {
            paragraph(b.text);
          }
          break;
        case manual::Block::Kind::item:
          tagged(roff_markup(b.term), b.text);
          break;
        case manual::Block::Kind::bullet:
          out_ << ".IP \\(bu 2\n";
          line(roff_markup(b.text));
          break;
        case manual::Block::Kind::example:
          example(b.lines);
          break;
        case manual::Block::Kind::subsection:
          subsection(b.text);
          break;
      }
      first = false;
    }
  }

  // "\fB\-u\fR, \fB\-\-url\fR \fITEXT\fR"
  std::string option_term(const Opt& o) {
    std::string names;
    for (const auto& s : o.spellings()) names += (names.empty() ? "" : ", ") + bold(s);
    if (o.takes_value()) names += " " + italic(o.type);
    return names;
  }

  std::string option_text(const Opt& o) {
    std::string text = sentence(mark_flags(o.description, flags_));
    auto code_list = [](const std::vector<std::string>& words, const std::string& last) {
      std::string out;
      for (std::size_t i = 0; i < words.size(); ++i) {
        out += (i == 0 ? "" : i + 1 == words.size() ? last : ", ") + ("`" + words[i] + "`");
      }
      return out;
    };
    bool listed = std::all_of(o.choices.begin(), o.choices.end(),
                              [&](const std::string& c) { return o.description.find(c) != std::string::npos; });
    if (o.kind == ValueKind::choices && o.closed_choices && !listed) {
      text += " " + std::string(o.choices.size() == 1 ? "Value: " : "Values: ") + code_list(o.choices, ", ") + ".";
    }
    if (o.required) text += " Required.";
    if (!o.default_value.empty()) text += " Default: `" + o.default_value + "`.";
    if (!o.excludes.empty()) text += " Cannot be combined with " + code_list(o.excludes, " or ") + ".";
    if (!o.needs.empty()) text += " Needs " + code_list(o.needs, " and ") + ".";
    if (!o.env.empty()) text += " Read from `$" + o.env + "` when not given.";
    return text;
  }

  void option_list(const std::vector<const Opt*>& opts) {
    for (const Opt* o : opts) tagged(option_term(*o), option_text(*o));
  }

  void commands() {
    section("COMMANDS");
    for (const auto& c : cli_.commands) {
      subsection(c.name);
      std::string syn = bold(cli_.name) + " [" + italic("GLOBAL OPTIONS") + "] " + bold(c.name);
      bool has_options =
          std::any_of(c.options.begin(), c.options.end(), [](const Opt& o) { return !o.stands_alone(); });
      if (has_options) syn += " [" + italic("OPTIONS") + "]";
      for (const auto& p : c.positionals) {
        syn += " " + (p.required ? italic(positional_label(p)) : "[" + italic(positional_label(p)) + "]");
      }
      line(syn);
      if (!c.aliases.empty()) {
        std::string names;
        for (const auto& a : c.aliases) names += (names.empty() ? "" : ", ") + bold(a);
        out_ << ".PP\n";
        line((c.aliases.size() == 1 ? "Alias: " : "Aliases: ") + names + ".");
      }
      paragraph(sentence(mark_flags(c.summary, flags_)));
      for (const auto& para : split(c.description, '\n')) {
        if (!para.empty()) paragraph(mark_flags(para, flags_));
      }
      if (!c.positionals.empty()) {
        out_ << ".PP\n";
        line(bold("Arguments:"));
        for (const auto& p : c.positionals) tagged(italic(positional_label(p)), option_text(p));
      }
      for (const auto& g : c.groups) {
        std::vector<const Opt*> in_group;
        for (const auto& o : c.options) {
          if (o.group == g && !o.stands_alone()) in_group.push_back(&o);
        }
        if (in_group.empty()) continue;
        out_ << ".PP\n";
        line(bold(g == "Options" ? "Options:" : g + " options:"));
        option_list(in_group);
      }
      if (!c.examples.empty()) {
        out_ << ".PP\n";
        line(bold("Examples:"));
        example(c.examples);
      }
    }
  }

  void global_options_section() {
    section("GLOBAL OPTIONS");
    line(roff_escape("These options work with every command, before or after it. ") + bold("-h") + ", " +
         bold("--help") + roff_escape(" after a command shows that command's options."));
    std::vector<std::string> order;
    for (const auto& g : cli_.groups) {
      if (g != "Options") order.push_back(g);
    }
    if (std::find(cli_.groups.begin(), cli_.groups.end(), "Options") != cli_.groups.end()) order.push_back("Options");
    for (const auto& g : order) {
      subsection(g == "Options" ? "Other options" : g);
      std::vector<const Opt*> in_group;
      for (const auto& o : cli_.options) {
        if (o.group == g) in_group.push_back(&o);
      }
      option_list(in_group);
    }
  }

  const Cli& cli_;
  std::set<std::string> flags_;
  std::ostringstream out_;
};

// ---------------------------------------------------------------------------------------------
// Shell completions

std::string header_comment(const std::string& what) {
  return fmt::format(
      "# {} completion for sessionctl.\n"
      "# Generated by sessionctl-docgen from the command table: do not edit, run\n"
      "# `cmake --build build --target docs` after changing a command or flag.\n",
      what);
}

// 'text' for POSIX shells.
std::string sh_quote(const std::string& text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

std::string join(const std::vector<std::string>& words, const std::string& sep) {
  std::string out;
  for (std::size_t i = 0; i < words.size(); ++i) out += (i ? sep : "") + words[i];
  return out;
}

// A description on one line, for shells that show one line per candidate.
std::string one_line(const std::string& text) {
  std::string out;
  for (char c : text) out += (c == '\n' || c == '\t') ? ' ' : c;
  return out;
}

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

// ---------------------------------------------------------------------------------------------

// Writes through a temporary file and a rename; leaves an unchanged file (and its mtime) alone.
void write_file(const fs::path& path, const std::string& content) {
  fs::create_directories(path.parent_path());
  {
    std::ifstream in(path, std::ios::binary);
    if (in) {
      std::ostringstream old;
      old << in.rdbuf();
      if (old.str() == content) return;
    }
  }
  fs::path tmp = path;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << content;
    out.close();
    if (!out) throw std::runtime_error("cannot write " + tmp.string());
  }
  fs::rename(tmp, path);
}

}  // namespace

int run(int argc, char** argv) {
  if (argc != 2 || std::string(argv[1]).empty() || argv[1][0] == '-') {
    std::cerr
        << "usage: sessionctl-docgen OUTDIR\n"
           "writes OUTDIR/man/sessionctl.1 and OUTDIR/completions/{sessionctl.bash,_sessionctl,sessionctl.fish}\n";
    return 2;
  }
  try {
    CliApp built = build_cli();
    Cli cli = walk(built);
    fs::path root = argv[1];
    write_file(root / "man" / "sessionctl.1", ManPage(cli).render());
    write_file(root / "completions" / "sessionctl.bash", bash_completion(cli));
    write_file(root / "completions" / "_sessionctl", zsh_completion(cli));
    write_file(root / "completions" / "sessionctl.fish", fish_completion(cli));
  } catch (const std::exception& e) {
    std::cerr << "sessionctl-docgen: error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}

}  // namespace sessionctl::cli::docgen

int main(int argc, char** argv) { return sessionctl::cli::docgen::run(argc, argv); }
