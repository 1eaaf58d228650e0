// Help and flags as a new user meets them (issue 11 item 16), against the real binary.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "process.h"
#include "redis_server.h"
#include "sessionctl_cli.h"
#include "temp_dir.h"

using Catch::Matchers::Contains;
using testsupport::RedisServer;
using testsupport::run_sessionctl;
using testsupport::RunResult;

TEST_CASE("help after an unknown command (CMD --help) names the command (exit 2), not the main help", "[cli]") {
  for (const auto& [word, hint] : std::vector<std::pair<std::string, std::string>>{
           {"frobnicate", ""}, {"lsit", "did you mean 'list'?"}, {"stauts", "did you mean 'status' or 'stats'?"}}) {
    for (const std::vector<std::string>& args :
         {std::vector<std::string>{word, "--help"}, {word, "-h"}, {"--profile", "trt", word, "--help"}}) {
      RunResult r = run_sessionctl(args);
      INFO(r);
      CHECK(r.exit_code == 2);
      CHECK(r.out.empty());
      CHECK_THAT(r.err, Contains("sessionctl: error: unknown command '" + word + "'"));
      if (!hint.empty()) CHECK_THAT(r.err, Contains(hint));
    }
  }
  // A real command's --help is unchanged.
  RunResult ok = run_sessionctl({"list", "--help"});
  CHECK(ok.exit_code == 0);
  CHECK_THAT(ok.out, Contains("--wide"));
}

TEST_CASE("an unknown flag with no command is named as such, not 'no command given'", "[cli]") {
  RunResult r = run_sessionctl({"--bogus"});
  INFO(r);
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("unknown flag '--bogus'"));
  CHECK_THAT(r.err, !Contains("no command given"));
  RunResult near = run_sessionctl({"--quite"});
  CHECK_THAT(near.err, Contains("unknown flag '--quite' (did you mean '--quiet'?)"));
  // Nothing at all is still "no command given".
  CHECK_THAT(run_sessionctl({}).err, Contains("no command given"));
}

TEST_CASE("sessionctl help [COMMAND] is --help by another name", "[cli]") {
  RunResult help = run_sessionctl({"help"});
  INFO(help);
  CHECK(help.exit_code == 0);
  CHECK(help.out == run_sessionctl({"--help"}).out);
  for (const std::string cmd : {"status", "list", "ls", "inspect", "stats", "doctor"}) {
    RunResult h = run_sessionctl({"help", cmd});
    INFO(cmd << "\n" << h);
    CHECK(h.exit_code == 0);
    CHECK(h.out == run_sessionctl({cmd, "--help"}).out);
  }
  RunResult typo = run_sessionctl({"help", "lsit"});
  CHECK(typo.exit_code == 2);
  CHECK_THAT(typo.err, Contains("unknown command 'lsit': did you mean 'list'?"));
  RunResult near = run_sessionctl({"hlep"});
  CHECK(near.exit_code == 2);
  CHECK_THAT(near.err, Contains("did you mean 'help'?"));
}

TEST_CASE("numeric flags say what a number must be, not CLI11's raw message", "[cli]") {
  for (const std::vector<std::string>& args : {std::vector<std::string>{"--db", "x", "status"},
                                               {"--db", "-1", "status"},
                                               {"list", "--limit", "5x"},
                                               {"list", "--limit", "-1"},
                                               {"list", "--limit=1e3"}}) {
    RunResult r = run_sessionctl(args);
    INFO(r);
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Contains("is not a whole number of 0"));
    CHECK_THAT(r.err, !Contains("Could not convert"));
    CHECK_THAT(r.err, !Contains("not in range"));
  }
}

TEST_CASE("a boolean flag given a value is refused, whatever the value", "[cli]") {
  for (const std::vector<std::string>& args : {std::vector<std::string>{"list", "--wide=yes"},
                                               {"list", "--wide=no"},
                                               {"list", "--no-ttl=1"},
                                               {"--quiet=false", "status"},
                                               {"status", "--reveal=0"},
                                               {"--tls=true", "status"}}) {
    RunResult r = run_sessionctl(args);
    INFO(r);
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Contains("takes no value"));
  }
}

TEST_CASE("quiet (-q) silences the --reveal notice, as the manual says, --insecure's warning stays", "[cli]") {
  RedisServer server;
  RunResult loud = testsupport::sctl(server, {"--reveal", "status"});
  CHECK(loud.exit_code == 0);
  CHECK_THAT(loud.err, Contains("--reveal: personal data is shown unmasked"));
  RunResult quiet = testsupport::sctl(server, {"--reveal", "-q", "status"});
  INFO(quiet);
  CHECK(quiet.exit_code == 0);
  CHECK_THAT(quiet.err, !Contains("--reveal"));
}

TEST_CASE("a password file that is a directory or starts with a blank line says so, not 'empty'", "[cli]") {
  RedisServer server(testsupport::ServerOptions{.requirepass = "s3cret"});
  testsupport::TempDir dir;
  const std::string blank = dir.write("blank", "\ns3cret\n");
  const std::string empty = dir.write("empty", "");
  const std::string only_newline = dir.write("newline", "\n");
  dir.write("sub/x", "");
  RunResult d = testsupport::sctl(server, {"--password-file", dir.file("sub"), "status"});
  INFO(d);
  CHECK(d.exit_code == 2);
  CHECK_THAT(d.err, Contains("is a directory"));
  RunResult b = testsupport::sctl(server, {"--password-file", blank, "status"});
  INFO(b);
  CHECK(b.exit_code == 2);
  CHECK_THAT(b.err, Contains("starts with a blank line"));
  CHECK_THAT(b.err, !Contains("s3cret"));
  for (const auto& file : {empty, only_newline}) {
    RunResult e = testsupport::sctl(server, {"--password-file", file, "status"});
    CHECK(e.exit_code == 2);
    CHECK_THAT(e.err, Contains("is empty"));
  }
}
