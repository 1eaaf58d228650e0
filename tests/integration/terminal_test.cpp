// What reaches a person's terminal (issue 11 item 19): no raw control or bidi characters from data,
// COLUMNS honoured by wide tables, counts that agree with their nouns, colours that end before the
// newline, and doctor fixes that are command lines. The real binary against a real server.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "process.h"
#include "redis_server.h"
#include "sessionctl_cli.h"
#include "temp_dir.h"

using Catch::Matchers::Contains;
using nlohmann::json;
using testsupport::RedisServer;
using testsupport::RunResult;
using testsupport::sctl;

namespace {

const std::string kRlo = "\xE2\x80\xAE";  // U+202E RIGHT-TO-LEFT OVERRIDE

// Runs sessionctl on a pseudo-terminal (util-linux script), so that stdout is a tty as for a person.
RunResult on_tty(const RedisServer& server, const std::string& args, const std::string& env = "") {
  const std::string command = env + " " + testsupport::sessionctl_bin() + " -u " + server.url() + " " + args;
  return testsupport::run({"script", "-qec", command, "/dev/null"});
}

// The text without the colour sequences paint() writes and without the pty's carriage returns.
std::string plain_text(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\r') continue;
    if (s[i] == '\033' && i + 1 < s.size() && s[i + 1] == '[') {
      std::size_t m = s.find('m', i);
      if (m != std::string::npos && m - i <= 5) {
        i = m;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

// No byte that a terminal would act on: controls other than newline and tab, and no bidi override.
void check_terminal_safe(const std::string& text, bool colour_allowed) {
  std::string t = colour_allowed ? plain_text(text) : text;
  for (unsigned char c : t) {
    if (c == '\n' || c == '\t') continue;
    INFO(text);
    REQUIRE_FALSE((c < 0x20 || c == 0x7f));
  }
  CHECK(t.find(kRlo) == std::string::npos);
}

// True when `fix` holds no shell metacharacter outside single quotes: pasted into a shell it runs one
// command, with no pipe, redirection or list (a "<user>" placeholder would read a file named user).
bool one_command_line(const std::string& fix) {
  bool quoted = false;
  for (char c : fix) {
    if (c == '\'') quoted = !quoted;
    if (!quoted && std::string("|&;<>()$`\\\"*?[#~").find(c) != std::string::npos) return false;
  }
  return !quoted;
}

// The note of the first finding with `code` ("" when none).
std::string finding_note(const json& doc, const std::string& code) {
  for (const auto& f : doc["findings"]) {
    if (f["code"] == code) return f.value("note", "");
  }
  return "";
}

}  // namespace

TEST_CASE("an RLO in an id and an ESC in a profile name never reach the terminal raw", "[terminal]") {
  RedisServer server;
  testsupport::TempDir dir;
  const std::string evil_profile = "ev\x1b]0;pwned\x07il\x1b[2J";
  const std::string profiles =
      dir.write("p.json", json{{"profiles", {{{"name", evil_profile}, {"key", "evil:{id}"}}}}}.dump());
  server.cli({"SET", "state:abc" + kRlo + "gpj.exe", "{\"current\":\"X\"}", "EX", "3600"});
  server.cli({"SET", "evil:one" + kRlo + "x", "v"});  // no TTL: a doctor finding naming the profile
  server.cli({"SET", "state:bell\x07id", "{\"current\":\"a\x1b[31mred\x9b\"}", "EX", "3600"});
  for (const std::vector<std::string>& args : {std::vector<std::string>{"list"},
                                               {"list", "--wide"},
                                               {"status"},
                                               {"stats"},
                                               {"doctor"},
                                               {"inspect", "abc\\u202egpj.exe"},
                                               {"inspect", "bell\\x07id"},
                                               {"list", "--profile", "nope"}}) {
    std::vector<std::string> full = args;
    full.push_back("--profiles-file");
    full.push_back(profiles);
    RunResult r = sctl(server, full);
    INFO(r);
    CHECK(r.exit_code != 139);
    check_terminal_safe(r.out, false);
    check_terminal_safe(r.err, false);
  }
  // Shown escaped, so what is printed is what is stored.
  RunResult list = sctl(server, {"list", "--profiles-file", profiles});
  CHECK_THAT(list.out, Contains("abc\\u202egpj.exe"));
  CHECK_THAT(list.out, Contains("ev\\x1b]0;pwned\\x07il\\x1b[2J"));
  // On a terminal (colour on) only sessionctl's own colours pass.
  RunResult tty = on_tty(server, "list --wide --profiles-file " + profiles);
  INFO(tty);
  check_terminal_safe(tty.out, true);
  // JSON stays lossless.
  json doc = testsupport::sctl_json(server, {"list", "--profiles-file", profiles});
  bool found = false;
  for (const auto& s : doc["sessions"]) found = found || s["profile"] == evil_profile;
  CHECK(found);
}

TEST_CASE("COLUMNS bounds list --wide on a terminal even when the STATE column is wide", "[terminal]") {
  RedisServer server;
  for (int i = 0; i < 5; ++i) {
    server.cli({"SET", "state:s" + std::to_string(i),
                "{\"current\":\"" + std::string(150, static_cast<char>('A' + i)) + "\"}", "EX", "3600"});
  }
  for (int columns : {80, 100, 60}) {
    RunResult r = on_tty(server, "list --wide", "COLUMNS=" + std::to_string(columns));
    INFO(columns << "\n" << r);
    REQUIRE(r.exit_code == 0);
    std::string text = plain_text(r.out);
    int lines = 0;
    for (std::size_t at = 0, nl; (nl = text.find('\n', at)) != std::string::npos; at = nl + 1) {
      std::string line = text.substr(at, nl - at);
      INFO(line);
      // One column per byte but for the ellipsis (3 bytes, 1 column).
      std::size_t width = line.size();
      for (std::size_t p = 0; (p = line.find("…", p)) != std::string::npos; p += 3) width -= 2;
      CHECK(width <= static_cast<std::size_t>(columns));
      ++lines;
    }
    CHECK(lines == 7);  // header, five rows, footer
    CHECK_THAT(text, Contains("AAAA"));
    CHECK_THAT(text, Contains("s4"));  // the ID column is still there
  }
}

TEST_CASE("counts agree with their nouns: 1 session, 1 problem found", "[terminal]") {
  RedisServer server(testsupport::ServerOptions{.config = {{"appendonly", "yes"}}});
  server.cli({"SET", "state:only", "{\"current\":\"X\"}"});  // no TTL: one finding
  RunResult list = sctl(server, {"list"});
  CHECK_THAT(list.out, Contains("1 session (1 no_ttl)"));
  CHECK_THAT(list.out, !Contains("1 sessions"));
  RunResult doctor = sctl(server, {"doctor"});
  INFO(doctor);
  CHECK(doctor.exit_code == 1);
  CHECK_THAT(doctor.out, Contains("1 problem found (1 session checked)"));
  CHECK_THAT(doctor.err, Contains("1 problem found"));
  CHECK_THAT(doctor.out + doctor.err, !Contains("1 problems") && !Contains("1 sessions"));
  RunResult stats = sctl(server, {"stats"});
  CHECK_THAT(stats.out, Contains("1 session, 1 key,"));
  CHECK_THAT(stats.out, Contains("1 key without TTL"));
  server.cli({"DEL", "state:only"});
  server.cli({"SET", "state:a", "{\"current\":\"X\"}", "EX", "3600"});
  CHECK_THAT(sctl(server, {"doctor"}).out, Contains("no problems found (1 session checked)"));
  CHECK_THAT(sctl(server, {"status"}).out, Contains("db0: 1 key, 1 with TTL"));
}

TEST_CASE("the footer's colour ends before its newline", "[terminal]") {
  RedisServer server;
  server.cli({"SET", "state:a", "{\"current\":\"X\"}", "EX", "3600"});
  RunResult r = on_tty(server, "list");
  INFO(r);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Contains("\033[2m1 session\033[0m\r\n"));
  CHECK(r.out.find("\n\033[0m") == std::string::npos);
}

TEST_CASE("doctor's fix is a command line to run, prose goes to note", "[terminal][doctor]") {
  RedisServer server;  // persistence off: a config finding with a note
  server.cli_script(testsupport::fixture("anomalies.redis"));
  json doc = testsupport::sctl_json(server, {"doctor"}, 1);
  REQUIRE(doc["findings"].size() >= 3);
  int notes = 0;
  for (const auto& f : doc["findings"]) {
    INFO(f.dump());
    const std::string fix = f["fix"].get<std::string>();
    CHECK(one_command_line(fix));
    CHECK(fix.find("  ") == std::string::npos);  // no "   (after …)" tail
    if (f.contains("note")) {
      CHECK(!f["note"].get<std::string>().empty());
      ++notes;
    }
  }
  CHECK(notes >= 1);  // persistence_off at least
  CHECK(finding_note(doc, "persistence_off").find("redis.conf") != std::string::npos);
  // The table shows both, the note under the fix.
  RunResult table = sctl(server, {"doctor"});
  for (const auto& f : doc["findings"]) {
    if (f.contains("note")) CHECK_THAT(table.out, Contains("note: " + f["note"].get<std::string>()));
  }
}
