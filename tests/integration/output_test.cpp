// Standard output that cannot fail silently: a full disk or a closed descriptor is an error (exit 1),
// a reader that stops early (| head -1) stops the scan at once. The real binary against a real server.
#include <catch2/catch.hpp>
#include <chrono>
#include <sstream>
#include <string>
#include <vector>

#include "process.h"
#include "redis_server.h"
#include "sessionctl_cli.h"
#include "temp_dir.h"

using Catch::Matchers::Contains;
using testsupport::RedisServer;
using testsupport::RunResult;

namespace {

// Runs `sessionctl -u URL args...` under bash with `redirect` applied to its stdout ("> /dev/full", ">&-").
RunResult sctl_redirected(const RedisServer& server, const std::vector<std::string>& args,
                          const std::string& redirect) {
  std::vector<std::string> argv = {"bash", "-c",        "\"$@\" " + redirect, "bash", testsupport::sessionctl_bin(),
                                   "-u",   server.url()};
  argv.insert(argv.end(), args.begin(), args.end());
  return testsupport::run(argv);
}

// `n` btrix sessions state:s1…state:sN, made by one EVAL.
void populate(const RedisServer& server, int n) {
  server.cli({"EVAL", "for i=1,tonumber(ARGV[1]) do redis.call('SET','state:s'..i,'{\"current\":\"X\"}','EX',3600) end",
              "0", std::to_string(n)});
}

// A call count from INFO commandstats ("cmdstat_pttl:calls=N,…"); 0 when the command never ran.
long long calls_of(const RedisServer& server, const std::string& command) {
  std::istringstream in(server.cli({"INFO", "commandstats"}));
  const std::string prefix = "cmdstat_" + command + ":calls=";
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(prefix, 0) == 0) return std::stoll(line.substr(prefix.size()));
  }
  return 0;
}

}  // namespace

TEST_CASE("a failed write to stdout is an error with its own message and exit 1", "[output][write]") {
  RedisServer server;
  server.cli_script(testsupport::fixture("sample_sessions.redis"));
  const std::vector<std::vector<std::string>> commands = {{"list"},
                                                          {"list", "-o", "json"},
                                                          {"list", "-o", "jsonl"},
                                                          {"list", "--wide"},
                                                          {"status"},
                                                          {"status", "-o", "json"},
                                                          {"stats"},
                                                          {"stats", "-o", "json"},
                                                          {"doctor"},
                                                          {"doctor", "-o", "jsonl"},
                                                          {"inspect", "test-session-123"},
                                                          {"inspect", "test-session-123", "-o", "json"},
                                                          {"--help"},
                                                          {"list", "--help"},
                                                          {"--version"}};
  for (const auto& args : commands) {
    std::string shown;
    for (const auto& a : args) shown += a + " ";
    for (const std::string redirect : {"> /dev/full", ">&-"}) {
      INFO(shown << redirect);
      RunResult r = sctl_redirected(server, args, redirect);
      INFO(r);
      CHECK(r.exit_code == 1);
      CHECK_THAT(r.err, Contains("sessionctl: error: cannot write to standard output: "));
      CHECK_THAT(r.err, Contains(redirect == ">&-" ? "Bad file descriptor" : "No space left on device"));
    }
  }
}

TEST_CASE("a reader that stops early (list | head -1) stops the scan at once, quietly", "[output][pipe]") {
  RedisServer server;
  constexpr int kSessions = 200000;
  populate(server, kSessions);
  testsupport::TempDir dir;
  for (const std::string format : {"table", "json", "jsonl"}) {
    INFO("-o " << format);
    server.cli({"CONFIG", "RESETSTAT"});
    const std::string rc_file = dir.file("rc-" + format);
    auto start = std::chrono::steady_clock::now();
    RunResult r = testsupport::run({"bash", "-c", "{ \"$@\"; echo $? > " + rc_file + "; } | head -1", "bash",
                                    testsupport::sessionctl_bin(), "-u", server.url(), "list", "-o", format});
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    INFO(r);
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.find('\n') == r.out.size() - 1);  // head's one line
    // Quiet: a closed pipe is the reader's choice, not an error (as ripgrep does).
    CHECK(testsupport::read_file(rc_file) == "0\n");
    CHECK(r.err.empty());
    // Far fewer reads than sessions: it stopped at the first write after head closed, not at the end.
    long long pttl = calls_of(server, "pttl");
    CHECK(pttl > 0);
    CHECK(pttl < kSessions / 4);
    CHECK(secs < 5.0);
  }
}

TEST_CASE("a closed pipe keeps doctor's verdict: problems found still exit 1", "[output][pipe]") {
  RedisServer server;
  server.cli_script(testsupport::fixture("anomalies.redis"));
  testsupport::TempDir dir;
  // `true` reads nothing and exits at once, so every write of doctor's report meets a closed pipe.
  for (const std::string format : {"table", "json", "jsonl"}) {
    INFO("-o " << format);
    const std::string rc_file = dir.file("rc-" + format);
    RunResult r = testsupport::run({"bash", "-c", "{ \"$@\"; echo $? > " + rc_file + "; } | true", "bash",
                                    testsupport::sessionctl_bin(), "-u", server.url(), "doctor", "-o", format});
    INFO(r);
    CHECK(testsupport::read_file(rc_file) == "1\n");
    CHECK_THAT(r.err, Contains("problems found"));
  }
  // Without problems a closed pipe is a quiet 0.
  RedisServer clean;
  const std::string rc_file = dir.file("rc-status");
  RunResult r = testsupport::run({"bash", "-c", "{ \"$@\"; echo $? > " + rc_file + "; } | true", "bash",
                                  testsupport::sessionctl_bin(), "-u", clean.url(), "status"});
  INFO(r);
  CHECK(testsupport::read_file(rc_file) == "0\n");
  CHECK_THAT(r.err, !Contains("error"));
}
