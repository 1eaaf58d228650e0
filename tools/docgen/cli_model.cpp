#include "cli_model.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "session/profile.h"

namespace sessionctl::cli::docgen {
namespace {

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

}  // namespace

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

std::vector<const Opt*> global_options(const Cli& cli) {
  std::vector<const Opt*> out;
  for (const auto& o : cli.options) {
    if (o.stands_alone()) continue;
    out.push_back(&o);
  }
  return out;
}

std::string positional_label(const Opt& p) { return p.type + (p.repeatable ? "..." : ""); }

std::string header_comment(const std::string& what) {
  return fmt::format(
      "# {} completion for sessionctl.\n"
      "# Generated by sessionctl-docgen from the command table: do not edit, run\n"
      "# `cmake --build build --target docs` after changing a command or flag.\n",
      what);
}

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

std::string one_line(const std::string& text) {
  std::string out;
  for (char c : text) out += (c == '\n' || c == '\t') ? ' ' : c;
  return out;
}

}  // namespace sessionctl::cli::docgen
