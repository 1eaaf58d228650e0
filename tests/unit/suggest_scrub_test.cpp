// The "did you mean" suggestion for mistyped commands and flags, and the scrubbing of passwords
// typed on the command line out of error messages.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "scrub.h"
#include "util/suggest.h"

using sessionctl::closest;
using sessionctl::edit_distance;
using sessionctl::cli::is_secret_flag;
using sessionctl::cli::scrub_secrets;

namespace {

// scrub_secrets over argv written as strings (argv[0] included).
std::string scrub(const std::string& message, std::vector<std::string> args) {
  args.insert(args.begin(), "sessionctl");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  return scrub_secrets(message, static_cast<int>(argv.size()), argv.data());
}

const std::vector<std::string> kCommands = {"status", "stats", "list", "ls", "inspect", "show", "doctor"};

}  // namespace

TEST_CASE("edit_distance counts insertions, deletions, substitutions and neighbour swaps", "[suggest]") {
  CHECK(edit_distance("", "") == 0);
  CHECK(edit_distance("status", "status") == 0);
  CHECK(edit_distance("", "abc") == 3);
  CHECK(edit_distance("abc", "") == 3);
  CHECK(edit_distance("stats", "status") == 1);   // one insertion
  CHECK(edit_distance("lisst", "list") == 1);     // one deletion
  CHECK(edit_distance("lost", "list") == 1);      // one substitution
  CHECK(edit_distance("stauts", "status") == 1);  // one swap, not two substitutions
  CHECK(edit_distance("dcotro", "doctor") == 2);  // two swaps
  CHECK(edit_distance("inspect", "list") == edit_distance("list", "inspect"));
}

TEST_CASE("closest names the nearest candidates within two edits, ties joined with 'or'", "[suggest]") {
  CHECK(closest("stauts", kCommands) == "'status' or 'stats'");  // a swap, or a deletion
  CHECK(closest("lsit", kCommands) == "'list'");
  CHECK(closest("inspcet", kCommands) == "'inspect'");
  CHECK(closest("docter", kCommands) == "'doctor'");
  // Equally close: all of them, in the candidates' order.
  CHECK(closest("stat", kCommands) == "'stats'");
  CHECK(closest("statu", kCommands) == "'status' or 'stats'");
  CHECK(closest("lx", {"ls", "lz", "la"}) == "'ls', 'lz' or 'la'");
  // A candidate listed twice is named once.
  CHECK(closest("lst", {"list", "list"}) == "'list'");
  // A better match replaces the worse ones found before it.
  CHECK(closest("list", {"lisp", "list"}) == "'list'");
  // Three edits or more is no suggestion, even when nothing is closer.
  CHECK(closest("frobnicate", kCommands).empty());
  CHECK(closest("xyz", kCommands).empty());  // 3 edits from 'ls'
  CHECK(closest("abc", {"xyz"}).empty());
  CHECK(closest("ab", {"xyz"}).empty());
  CHECK(closest("status", {}).empty());
  CHECK(closest("--wdie", {"--wide", "--url", "--limit"}) == "'--wide'");
}

TEST_CASE("secret flags are the password flags of redis-cli and friends", "[scrub]") {
  for (const char* f : {"-a", "--pass", "--password", "--auth", "--requirepass", "--secret"}) {
    INFO(f);
    CHECK(is_secret_flag(f));
  }
  for (const char* f : {"-u", "--url", "--user", "--password-file", "--askpass", "-p", "password", ""}) {
    INFO(f);
    CHECK_FALSE(is_secret_flag(f));
  }
}

TEST_CASE("scrub_secrets hides a URL's password and keeps its user", "[scrub]") {
  const std::string url = "redis://app:hunter2@db.example:6379/0";
  const std::string got = scrub("The following argument was not expected: " + url, {"list", url});
  CHECK(got == "The following argument was not expected: redis://app:***@db.example:6379/0");
  // Without a user, and with a password only: the whole userinfo is the secret.
  CHECK(scrub("bad redis://:hunter2@h/0", {"redis://:hunter2@h/0"}) == "bad redis://:***@h/0");
  CHECK(scrub("bad rediss://hunter2@h/0", {"rediss://hunter2@h/0"}) == "bad rediss://***@h/0");
  // Every occurrence, and a URL whose password holds '@'.
  CHECK(scrub("x redis://u:p@ss@h y redis://u:p@ss@h", {"redis://u:p@ss@h"}) == "x redis://u:***@h y redis://u:***@h");
  // No userinfo, or an '@' before "://": nothing to hide.
  CHECK(scrub("bad redis://h:6379/0", {"redis://h:6379/0"}) == "bad redis://h:6379/0");
  CHECK(scrub("bad me@redis://h", {"me@redis://h"}) == "bad me@redis://h");
  CHECK(scrub("plain message", {"list", "--wide"}) == "plain message");
}

TEST_CASE("scrub_secrets hides the value of a password flag and says where passwords come from", "[scrub]") {
  const std::string advice = " (passwords are never read from the command line";
  SECTION("-a PASSWORD") {
    const std::string got = scrub("The following argument was not expected: hunter2", {"status", "-a", "hunter2"});
    CHECK(got.find("hunter2") == std::string::npos);
    CHECK(got.rfind("The following argument was not expected: ***" + advice, 0) == 0);
    CHECK(got.find("--password-file") != std::string::npos);
  }
  SECTION("--password=PASSWORD") {
    const std::string got = scrub("unknown option --password=hunter2", {"--password=hunter2", "status"});
    CHECK(got.find("hunter2") == std::string::npos);
    CHECK(got.rfind("unknown option --password=***" + advice, 0) == 0);
  }
  SECTION("a secret flag last on the line has no value to hide but still gets the advice") {
    const std::string got = scrub("--auth needs a value", {"status", "--auth"});
    CHECK(got.rfind("--auth needs a value" + advice, 0) == 0);
  }
  SECTION("an empty password hides nothing and does not loop") {
    const std::string got = scrub("unknown option --pass=", {"--pass="});
    CHECK(got.rfind("unknown option --pass=" + advice, 0) == 0);
  }
  SECTION("a password that is part of its own replacement does not loop") {
    const std::string got = scrub("value * and **", {"-a", "*"});
    CHECK(got.rfind("value *** and ******" + advice, 0) == 0);
  }
}
