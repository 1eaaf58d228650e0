// The command line as a class: every numeric flag and every boolean flag of every command is checked
// the same way, so a flag added later cannot slip past (issue 11 item 16).
#include <algorithm>
#include <catch2/catch.hpp>
#include <functional>
#include <string>
#include <vector>

#include "registry.h"

namespace {

using sessionctl::cli::build_cli;

// Every option of `app` and of its subcommands, with the command line that reaches it.
void each_option(CLI::App& app, const std::vector<std::string>& path,
                 const std::function<void(const CLI::Option&, const std::vector<std::string>&)>& fn) {
  for (const CLI::Option* opt : app.get_options()) fn(*opt, path);
  for (CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
    std::vector<std::string> p = path;
    p.push_back(sub->get_name());
    each_option(*sub, p, fn);
  }
}

}  // namespace

TEST_CASE("every numeric flag refuses what is not a whole number, with one message", "[cli]") {
  auto cli = build_cli();
  int checked = 0;
  each_option(*cli.app, {}, [&](const CLI::Option& opt, const std::vector<std::string>& path) {
    if (opt.get_type_name() != "N" || opt.get_lnames().empty()) return;
    for (const std::string bad : {"5x", "x", "-1", "", "1.5", "99999999999999999999999"}) {
      auto fresh = build_cli();
      std::vector<std::string> args = path;
      args.push_back("--" + opt.get_lnames().front());
      args.push_back(bad);
      if (path.empty()) args.push_back("status");
      std::reverse(args.begin(), args.end());  // CLI11 parses a reversed vector
      INFO(opt.get_name() << " " << bad);
      try {
        fresh.app->parse(args);
        FAIL("accepted");
      } catch (const CLI::ParseError& e) {
        CHECK_THAT(e.what(), Catch::Matchers::Contains("is not a whole number of"));
      }
    }
    ++checked;
  });
  CHECK(checked >= 2);  // --db and --limit at least
}

TEST_CASE("every flag refuses a value (--wide=yes), whichever command it belongs to", "[cli]") {
  auto cli = build_cli();
  int checked = 0;
  each_option(*cli.app, {}, [&](const CLI::Option& opt, const std::vector<std::string>& path) {
    if (opt.get_expected_max() != 0 || opt.get_lnames().empty()) return;
    const std::string flag = "--" + opt.get_lnames().front();
    for (const std::string value : {"yes", "true", "no", "0", ""}) {
      std::vector<std::string> args = path;
      args.push_back(flag + "=" + value);
      INFO(flag << "=" << value);
      auto message = sessionctl::cli::flag_with_value(*cli.app, args);
      REQUIRE(message);
      CHECK_THAT(*message, Catch::Matchers::StartsWith(flag + " takes no value"));
    }
    ++checked;
  });
  CHECK(checked >= 8);
  // Options that take a value keep --name=value; after "--" nothing is a flag.
  CHECK_FALSE(sessionctl::cli::flag_with_value(*cli.app, {"list", "--sort=ttl", "--limit=5", "-o", "json"}));
  CHECK_FALSE(sessionctl::cli::flag_with_value(*cli.app, {"list", "--", "--wide=yes"}));
}
