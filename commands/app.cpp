#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <iostream>
#include <limits>
#include <ostream>

#include "registry.h"
#include "scrub.h"
#include "util/errors.h"
#include "util/fd_output.h"
#include "util/interrupt.h"
#include "util/suggest.h"

namespace sessionctl::cli {
namespace {

void add_global_options(CLI::App& app, GlobalOptions& g) {
  const std::string conn = "Connection";
  app.add_option("-u,--url", g.url,
                 "Redis URL: redis://[user[:password]@]host[:port][/db], rediss:// for TLS, unix:///path, "
                 "redis+sentinel://host:port[,host:port...]/master[/db] "
                 "(default: $SESSIONCTL_URL, $REDIS_URL, $CHANNEL_REDIS_URL, redis://127.0.0.1:6379/0)")
      ->group(conn)
      ->type_name("URL");
  app.add_option("--user", g.user, "ACL user name (overrides the URL's)")->group(conn)->type_name("NAME");
  app.add_option("--password-file", g.password_file, "read the password from the first line of FILE")
      ->group(conn)
      ->type_name("FILE");
  app.add_flag("--askpass", g.askpass, "prompt for the password on the terminal")->group(conn);
  app.add_option("--sentinel-user", g.sentinel_user, "ACL user name for the sentinels of a redis+sentinel:// URL")
      ->group(conn)
      ->type_name("NAME");
  app.add_option("--sentinel-password-file", g.sentinel_password_file,
                 "read the sentinels' password from the first line of FILE (default: $SESSIONCTL_SENTINEL_PASSWORD, "
                 "else none)")
      ->group(conn)
      ->type_name("FILE");
  app.add_option_function<int>(
         "--db", [&g](const int& db) { g.db = db; }, "database number (overrides the URL's)")
      ->group(conn)
      ->type_name("N")
      ->check(whole_number(0, std::numeric_limits<int>::max()));
  app.add_flag("--tls", g.tls, "use TLS even with a redis:// URL")->group(conn);
  app.add_option("--cacert", g.cacert, "CA certificate bundle to verify the server with")
      ->group(conn)
      ->type_name("FILE");
  app.add_option("--cacertdir", g.cacertdir, "directory of CA certificates")->group(conn)->type_name("DIR");
  app.add_option("--cert", g.cert, "client certificate (PEM) for mutual TLS")->group(conn)->type_name("FILE");
  app.add_option("--key", g.key, "client private key (PEM) for mutual TLS")->group(conn)->type_name("FILE");
  app.add_option("--sni", g.sni, "TLS server name to send and verify (default: the URL's host)")
      ->group(conn)
      ->type_name("HOST");
  app.add_flag("--insecure", g.insecure, "do not verify the server certificate or host name (prints a warning)")
      ->group(conn);
  app.add_option("--connect-timeout", g.connect_timeout, "give up connecting after DURATION (default 5s)")
      ->group(conn)
      ->type_name("DURATION");
  app.add_option("--timeout", g.timeout,
                 "give up when the server is silent for DURATION during a command (default 30s)")
      ->group(conn)
      ->type_name("DURATION");
  app.add_flag("--single-node", g.single_node,
               "read a Redis Cluster node as if it held the whole store (only its share of the sessions; keys on other "
               "nodes count as absent)")
      ->group(conn);
  app.add_flag("--replicas", g.replicas, "in a Redis Cluster, read from the replicas (READONLY) to spare the primaries")
      ->group(conn)
      ->excludes("--single-node");

  const std::string out = "Output";
  app.add_option("-o,--output", g.output, "output format: table, json or jsonl")
      ->group(out)
      ->type_name("FORMAT")
      ->check(CLI::IsMember({"table", "json", "jsonl"}));
  app.add_option("--profile", g.profiles,
                 "only these session profiles (repeatable): btrix, openvaa, channels, telegram, trt or a custom one")
      ->group(out)
      ->type_name("NAME")
      ->delimiter(',')
      ->allow_extra_args(false);  // one value per --profile, so ids may follow it
  app.add_option("--profiles-file", g.profiles_file, "load custom profiles from a JSON file")
      ->group(out)
      ->type_name("FILE");
  app.add_flag("--reveal", g.reveal, "show personal data unmasked (says so on stderr)")->group(out);
  app.add_flag("-q,--quiet", g.quiet, "no progress, notes or warnings on stderr")->group(out);
  app.add_flag("--no-color", g.no_color, "no colour even on a terminal (NO_COLOR is honoured too)")->group(out);
}

// The first word on the command line that is neither a flag nor a flag's value: what the user meant as a command.
std::string first_word(CLI::App& app, int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string word = argv[i];
    if (word.empty() || word[0] != '-') return word;
    if (word.find('=') != std::string::npos) continue;
    const CLI::Option* opt = app.get_option_no_throw(word);
    if (opt && opt->get_type_size() > 0 && opt->get_expected_min() > 0) ++i;  // skip its value
  }
  return "";
}

// "did you mean" for a mistyped subcommand, as ninja does for its tools.
std::string suggest_command(const std::string& word) {
  std::vector<std::string> names = {"help"};
  for (const auto& def : command_table()) {
    names.push_back(def.name);
    names.insert(names.end(), def.aliases.begin(), def.aliases.end());
  }
  return closest(word, names);
}

// "did you mean" for a mistyped flag: the long flags of the chosen subcommand and the global ones.
std::string suggest_flag(const CLI::App& app, const CLI::App* sub, const std::string& word) {
  std::vector<std::string> names;
  for (const CLI::App* a : {sub, &app}) {
    if (!a) continue;
    for (const CLI::Option* opt : a->get_options()) {
      for (const auto& l : opt->get_lnames()) names.push_back("--" + l);
    }
  }
  std::string flag = word.substr(0, word.find('='));
  return closest(flag, names);
}

// The flag (an option that takes no value) named `name` in `app` or one of its subcommands, if any.
const CLI::Option* find_flag(const CLI::App& app, const std::string& name) {
  const CLI::Option* opt = app.get_option_no_throw(name);
  if (opt && opt->get_expected_max() == 0) return opt;
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
    if (const CLI::Option* f = find_flag(*sub, name)) return f;
  }
  return nullptr;
}

}  // namespace

std::optional<std::string> flag_with_value(const CLI::App& app, const std::vector<std::string>& args) {
  for (const auto& word : args) {
    if (word == "--") break;
    auto eq = word.find('=');
    if (word.rfind("--", 0) != 0 || eq == std::string::npos) continue;
    if (find_flag(app, word.substr(0, eq))) {
      return fmt::format("{} takes no value (got '{}'): give the flag alone to turn it on", word.substr(0, eq), word);
    }
  }
  return std::nullopt;
}

namespace {

// The first word after `help` that is not a flag (the command to explain), or "".
std::string help_topic(int argc, char** argv) {
  bool after_help = false;
  for (int i = 1; i < argc; ++i) {
    std::string word = argv[i];
    if (word.empty() || word[0] == '-') continue;
    if (after_help) return word;
    if (word == "help") after_help = true;
  }
  return "";
}

}  // namespace

CLI::Validator whole_number(long long min, long long max) {
  std::string range =
      max == std::numeric_limits<long long>::max() ? fmt::format("{} or more", min) : fmt::format("{} to {}", min, max);
  return {[min, max, range](std::string& text) -> std::string {
            long long n = 0;
            const char* end = text.data() + text.size();
            auto [ptr, ec] = std::from_chars(text.data(), end, n);
            if (text.empty() || ptr != end || ec != std::errc() || n < min || n > max || text[0] == '+') {
              return fmt::format("'{}' is not a whole number of {}", text, range);
            }
            return {};
          },
          ""};  // no description: the help shows "--limit N", as the type name says
}

CliApp build_cli() {
  CliApp cli;
  cli.global = std::make_unique<GlobalOptions>();
  cli.app =
      std::make_unique<CLI::App>("sessionctl: operate Redis-backed session stores (sessions, not keys)", "sessionctl");
  CLI::App& app = *cli.app;
  app.set_version_flag("--version", std::string("sessionctl ") + SESSIONCTL_VERSION);
  app.require_subcommand(1);
  app.fallthrough();  // global flags work after the subcommand too
  add_global_options(app, *cli.global);
  for (const auto& def : command_table()) {
    CLI::App* sub = app.add_subcommand(def.name, def.summary);
    for (const auto& alias : def.aliases) sub->alias(alias);
    sub->fallthrough();
    sub->footer("Global options (connection, TLS, output, profiles) work here too: see 'sessionctl --help'.");
    cli.runners.emplace_back(sub, def.setup(*sub));
  }
  return cli;
}

namespace {
constexpr char kListMark = '\x1f';
}  // namespace

std::string unescape_arg(const std::string& arg) {
  return !arg.empty() && arg.front() == kListMark ? arg.substr(1) : arg;
}

int run_main(int argc, char** argv) {
  guard_standard_fds();
  install_interrupt_handler();
  CliApp cli = build_cli();
  // Results go to stdout through a buffer that throws on a failed write, so a full disk or a closed
  // pipe stops the command at once instead of being ignored (std::cout would only set a flag).
  FdOutputBuf stdout_buf(STDOUT_FILENO, isatty(STDOUT_FILENO) == 1);
  std::ostream out(&stdout_buf);
  out.exceptions(std::ios::badbit);  // rethrows the buffer's WriteError / OutputClosed to the writer
  Context ctx;
  ctx.out = &out;
  auto fail = [argc, argv, &ctx](const std::string& message, ExitCode code) {
    std::string text = scrub_secrets(message, argc, argv);
    std::erase(text, kListMark);
    ctx.term.printer().line("sessionctl: error: " + text);
    return static_cast<int>(code);
  };
  auto unknown_command = [&fail](const std::string& word) {
    std::string hint = suggest_command(word);
    return fail(fmt::format("unknown command '{}'{}", word,
                            hint.empty() ? "; see 'sessionctl --help'" : fmt::format(": did you mean {}?", hint)),
                ExitCode::usage);
  };
  // The first flag on the command line that no command has, named with the closest real one.
  auto unknown_flag = [&]() -> std::optional<int> {
    const CLI::App* sub = cli.app->get_subcommands().empty() ? nullptr : cli.app->get_subcommands().front();
    for (int i = 1; i < argc; ++i) {
      std::string word = argv[i];
      if (word == "--") break;
      if (word.size() < 2 || word[0] != '-') continue;
      std::string name = word.substr(0, word.find('='));
      bool known = false;
      for (const CLI::App* a : {sub, static_cast<const CLI::App*>(cli.app.get())}) {
        if (a && a->get_option_no_throw(name)) known = true;
      }
      if (known) continue;
      std::string hint = suggest_flag(*cli.app, sub, word);
      std::string see = sub ? fmt::format("'sessionctl {} --help'", sub->get_name()) : "'sessionctl --help'";
      return fail(fmt::format("unknown flag '{}'{}; see {}", name,
                              hint.empty() ? "" : fmt::format(" (did you mean {}?)", hint), see),
                  ExitCode::usage);
    }
    return std::nullopt;
  };
  // `sessionctl help [COMMAND]` is --help by another name, as in git and cargo.
  auto print_help = [&](const std::string& topic) {
    if (topic.empty()) {
      out << cli.app->help();
    } else {
      CLI::App* sub = nullptr;
      for (CLI::App* a : cli.app->get_subcommands([](const CLI::App*) { return true; })) {
        if (a->check_name(topic)) sub = a;
      }
      if (!sub) return unknown_command(topic);
      out << sub->help("sessionctl");
    }
    out.flush();
    return 0;
  };
  // Points at the chosen subcommand's help when there is one.
  auto help_hint = [&cli] {
    auto subs = cli.app->get_subcommands();
    return subs.empty() ? std::string("'sessionctl --help'")
                        : fmt::format("'sessionctl {} --help'", subs.front()->get_name());
  };
  try {
    try {
      // CLI11 would split "[abc]" into a list; mark such words so they stay one argument.
      std::vector<std::string> args;
      for (int i = argc - 1; i >= 1; --i) {
        std::string a = argv[i];
        if (a.size() >= 2 && a.front() == '[' && a.back() == ']') a.insert(a.begin(), kListMark);
        args.push_back(std::move(a));
      }
      if (first_word(*cli.app, argc, argv) == "help") return print_help(help_topic(argc, argv));
      if (auto message = flag_with_value(*cli.app, std::vector<std::string>(argv + 1, argv + argc)))
        return fail(*message, ExitCode::usage);
      cli.app->parse(args);
    } catch (const CLI::CallForHelp& e) {
      // "sessionctl lsit --help": CLI11 answers --help before it looks at the word; the word is the mistake.
      if (cli.app->get_subcommands().empty()) {
        if (std::string word = first_word(*cli.app, argc, argv); !word.empty()) return unknown_command(word);
      }
      int code = cli.app->exit(e, out);
      out.flush();
      return code;
    } catch (const CLI::CallForAllHelp& e) {
      int code = cli.app->exit(e, out);
      out.flush();
      return code;
    } catch (const CLI::CallForVersion& e) {
      int code = cli.app->exit(e, out);
      out.flush();
      return code;
    } catch (const CLI::RequiredError& e) {
      if (cli.app->get_subcommands().empty()) {
        std::string word = first_word(*cli.app, argc, argv);
        if (!word.empty()) return unknown_command(word);
        if (auto code = unknown_flag()) return *code;
        std::string help = cli.app->help();
        ctx.term.printer().line(help.substr(0, help.find_last_not_of('\n') + 1));
        return fail("no command given: pick one of the commands above", ExitCode::usage);
      }
      return fail(std::string(e.what()) + "; see " + help_hint(), ExitCode::usage);
    } catch (const CLI::ExtrasError& e) {
      // An unknown first word is most likely a mistyped command.
      if (cli.app->get_subcommands().empty()) {
        for (int i = 1; i < argc; ++i) {
          std::string word = argv[i];
          if (word.empty() || word[0] == '-') continue;
          return unknown_command(word);
        }
      }
      // A mistyped flag: name it and the closest real one.
      if (auto code = unknown_flag()) return *code;
      return fail(std::string(e.what()) + "; see " + help_hint(), ExitCode::usage);
    } catch (const CLI::ParseError& e) {
      return fail(std::string(e.what()) + "; see " + help_hint(), ExitCode::usage);
    }
    ctx.global = *cli.global;
    ctx.term = Terminal::detect(ctx.global.no_color);
    parse_format(ctx.global.output);
    // A warning like the others: --quiet silences it, as the manual says (--insecure's is never silenced).
    if (ctx.global.reveal) ctx.warn("--reveal: personal data is shown unmasked");
    for (auto& [sub, runner] : cli.runners) {
      if (sub->parsed()) {
        runner(ctx);
        out.flush();
        return 0;
      }
    }
    return fail("no command given; see 'sessionctl --help'", ExitCode::usage);
  } catch (const OutputClosed&) {
    return 0;  // the reader stopped reading (list | head): nothing to report
  } catch (const Error& e) {
    // What was printed before the error still goes out; a failure to write it is the error to report.
    if (out.good()) {
      try {
        out.flush();
      } catch (const OutputClosed&) {
        return fail(e.what(), e.code());
      } catch (const WriteError& w) {
        fail(w.what(), w.code());
        return fail(e.what(), e.code());
      }
    }
    return fail(e.what(), e.code());
  } catch (const std::bad_alloc&) {
    return fail("out of memory", ExitCode::check_failed);
  } catch (const std::exception& e) {
    return fail(fmt::format("internal error: {} (please report this)", e.what()), ExitCode::check_failed);
  }
}

}  // namespace sessionctl::cli
