// The one classification of Redis error replies (redis/reply_error): scope, cause, redirects, and the typed
// error with its exit code that each class becomes.
#include "redis/reply_error.h"

#include <catch2/catch.hpp>
#include <string>
#include <tuple>
#include <vector>

#include "util/errors.h"

using sessionctl::Error;
using sessionctl::ExitCode;
using sessionctl::redis::classify_reply_error;
using sessionctl::redis::ErrorCause;
using sessionctl::redis::ErrorScope;
using sessionctl::redis::is_data_error;
using sessionctl::redis::Reply;
using sessionctl::redis::throw_if_fatal;
using sessionctl::redis::throw_reply_error;

namespace {

Reply error(const std::string& text) { return Reply{Reply::Type::error, text, 0, {}}; }

// The exit code and message throw_reply_error gives `text`; fails the test when it throws anything else.
std::pair<ExitCode, std::string> thrown(const std::string& text, const std::string& context = "GET") {
  try {
    throw_reply_error(error(text), context);
  } catch (const Error& e) {
    return {e.code(), e.what()};
  }
  FAIL("throw_reply_error returned");
  return {};
}

}  // namespace

TEST_CASE("classify_reply_error: every known code has its scope and cause", "[reply_error]") {
  struct Case {
    std::string text;
    ErrorScope scope;
    ErrorCause cause;
    std::string code;
  };
  const std::vector<Case> cases = {
      {"WRONGPASS invalid username-password pair or user is disabled.", ErrorScope::connection, ErrorCause::auth,
       "WRONGPASS"},
      {"NOAUTH Authentication required.", ErrorScope::connection, ErrorCause::auth, "NOAUTH"},
      {"ERR invalid password", ErrorScope::connection, ErrorCause::auth, "ERR"},
      {"ERR Client sent AUTH, but no password is set", ErrorScope::connection, ErrorCause::auth, "ERR"},
      {"ERR AUTH <password> called without any password configured for the default user. Are you sure your "
       "configuration is correct?",
       ErrorScope::connection, ErrorCause::auth, "ERR"},
      {"NOPERM this user has no permissions to run the 'info' command", ErrorScope::command, ErrorCause::permission,
       "NOPERM"},
      {"NOPERM No permissions to access a key", ErrorScope::command, ErrorCause::permission, "NOPERM"},
      {"LOADING Redis is loading the dataset in memory", ErrorScope::connection, ErrorCause::loading, "LOADING"},
      {"BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.", ErrorScope::connection,
       ErrorCause::unavailable, "BUSY"},
      {"MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.", ErrorScope::connection,
       ErrorCause::unavailable, "MASTERDOWN"},
      {"CLUSTERDOWN The cluster is down", ErrorScope::connection, ErrorCause::unavailable, "CLUSTERDOWN"},
      {"CLUSTERDOWN Hash slot not served", ErrorScope::connection, ErrorCause::unavailable, "CLUSTERDOWN"},
      {"TRYAGAIN Multiple keys request during rehashing of slot", ErrorScope::command, ErrorCause::unavailable,
       "TRYAGAIN"},
      {"NOREPLICAS Not enough good replicas to write.", ErrorScope::command, ErrorCause::unavailable, "NOREPLICAS"},
      {"ERR max number of clients reached", ErrorScope::connection, ErrorCause::refused, "ERR"},
      {"DENIED Redis is running in protected mode because protected mode is enabled", ErrorScope::connection,
       ErrorCause::refused, "DENIED"},
      {"WRONGTYPE Operation against a key holding the wrong kind of value", ErrorScope::data, ErrorCause::wrong_type,
       "WRONGTYPE"},
      {"BUSYKEY Target key name already exists.", ErrorScope::data, ErrorCause::other, "BUSYKEY"},
      {"BUSYGROUP Consumer Group name already exists", ErrorScope::data, ErrorCause::other, "BUSYGROUP"},
      {"MOVED 3999 127.0.0.1:6381", ErrorScope::redirect, ErrorCause::moved, "MOVED"},
      {"ASK 3999 127.0.0.1:6381", ErrorScope::redirect, ErrorCause::ask, "ASK"},
      {"ERR unknown command 'FOO', with args beginning with: ", ErrorScope::command, ErrorCause::other, "ERR"},
      {"ERR unknown subcommand 'NO-TOUCH'. Try CLIENT HELP.", ErrorScope::command, ErrorCause::other, "ERR"},
      {"ERR syntax error", ErrorScope::command, ErrorCause::other, "ERR"},
      {"ERR DB index is out of range", ErrorScope::command, ErrorCause::other, "ERR"},
      {"READONLY You can't write against a read only replica.", ErrorScope::command, ErrorCause::other, "READONLY"},
      {"OOM command not allowed when used memory > 'maxmemory'.", ErrorScope::command, ErrorCause::other, "OOM"},
      {"NOSCRIPT No matching script. Please use EVAL.", ErrorScope::command, ErrorCause::other, "NOSCRIPT"},
      {"EXECABORT Transaction discarded because of previous errors.", ErrorScope::command, ErrorCause::other,
       "EXECABORT"},
      {"MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk.",
       ErrorScope::command, ErrorCause::other, "MISCONF"},
      {"SOMETHINGNEW from a future server", ErrorScope::command, ErrorCause::other, "SOMETHINGNEW"},
      {"", ErrorScope::command, ErrorCause::other, ""},
  };
  for (const auto& c : cases) {
    INFO(c.text);
    const auto info = classify_reply_error(c.text);
    CHECK(info.scope == c.scope);
    CHECK(info.cause == c.cause);
    CHECK(info.code == c.code);
    CHECK(info.redirect.has_value() == (c.cause == ErrorCause::moved || c.cause == ErrorCause::ask));
    CHECK(classify_reply_error(error(c.text)).cause == c.cause);
    CHECK(is_data_error(error(c.text)) == (c.scope == ErrorScope::data));
  }
}

TEST_CASE("classify_reply_error: codes are whole words, matched exactly", "[reply_error]") {
  // BUSYKEY is not BUSY, a lower-case "busy" is not BUSY, and a code in the text is not the code.
  CHECK(classify_reply_error("BUSYKEY Target key name already exists.").scope == ErrorScope::data);
  CHECK(classify_reply_error("busy Redis is busy").cause == ErrorCause::other);
  CHECK(classify_reply_error("ERR the script said NOPERM LOADING BUSY").cause == ErrorCause::other);
  CHECK(classify_reply_error("WRONGTYPE").cause == ErrorCause::wrong_type);  // no text after the code
  CHECK(classify_reply_error("MOVEDX 1 h:1").cause == ErrorCause::other);
}

TEST_CASE("classify_reply_error: MOVED and ASK carry slot, host and port", "[reply_error][redirect]") {
  SECTION("IPv4") {
    auto r = classify_reply_error("MOVED 3999 127.0.0.1:6381").redirect;
    REQUIRE(r);
    CHECK(r->slot == 3999);
    CHECK(r->host == "127.0.0.1");
    CHECK(r->port == 6381);
  }
  SECTION("host name, slot bounds") {
    auto r = classify_reply_error("ASK 0 redis-2.internal:7000").redirect;
    REQUIRE(r);
    CHECK(r->slot == 0);
    CHECK(r->host == "redis-2.internal");
    CHECK(r->port == 7000);
    auto top = classify_reply_error("MOVED 16383 h:1").redirect;
    REQUIRE(top);
    CHECK(top->slot == 16383);
    CHECK(top->port == 1);
  }
  SECTION("IPv6, bare and bracketed: the port is after the last ':'") {
    auto bare = classify_reply_error("MOVED 12 ::1:6380").redirect;
    REQUIRE(bare);
    CHECK(bare->host == "::1");
    CHECK(bare->port == 6380);
    auto bracketed = classify_reply_error("ASK 12 [2001:db8::7]:6380").redirect;
    REQUIRE(bracketed);
    CHECK(bracketed->host == "2001:db8::7");
    CHECK(bracketed->port == 6380);
  }
  SECTION("an empty host means the node that answered (cluster-preferred-endpoint-type unknown-endpoint)") {
    auto r = classify_reply_error("MOVED 5 :6390").redirect;
    REQUIRE(r);
    CHECK(r->host.empty());
    CHECK(r->port == 6390);
  }
  SECTION("trailing CR/LF or words after the address are not part of the port") {
    auto r = classify_reply_error("MOVED 5 h:6390\r\n").redirect;
    REQUIRE(r);
    CHECK(r->port == 6390);
  }
  SECTION("malformed redirects are not redirects") {
    for (const char* text :
         {"MOVED", "MOVED 3999", "MOVED 3999 ", "MOVED x 127.0.0.1:6381", "MOVED 16384 h:1", "MOVED -1 h:1",
          "MOVED 1 h", "MOVED 1 h:", "MOVED 1 h:0", "MOVED 1 h:65536", "MOVED 1 h:12x", "ASK 1.5 h:1", "ASK +1 h:1"}) {
      INFO(text);
      const auto info = classify_reply_error(text);
      CHECK(info.scope == ErrorScope::command);
      CHECK(info.cause == ErrorCause::other);
      CHECK_FALSE(info.redirect.has_value());
    }
  }
}

TEST_CASE("throw_reply_error: each class becomes its typed error and exit code", "[reply_error]") {
  using Catch::Matchers::Contains;
  const std::vector<std::tuple<std::string, ExitCode, std::string>> cases = {
      {"WRONGPASS invalid username-password pair", ExitCode::auth, "authentication failed"},
      {"NOAUTH Authentication required.", ExitCode::auth, "authentication failed"},
      {"ERR invalid password", ExitCode::auth, "authentication failed"},
      {"NOPERM this user has no permissions to run the 'info' command", ExitCode::auth, "permission denied for GET"},
      {"LOADING Redis is loading the dataset in memory", ExitCode::connect, "loading"},
      {"BUSY Redis is busy running a script.", ExitCode::connect, "BUSY"},
      {"MASTERDOWN Link with MASTER is down", ExitCode::connect, "MASTERDOWN"},
      {"CLUSTERDOWN The cluster is down", ExitCode::connect, "CLUSTERDOWN"},
      {"TRYAGAIN Multiple keys request during rehashing of slot", ExitCode::connect, "TRYAGAIN"},
      {"ERR max number of clients reached", ExitCode::connect, "max number of clients reached"},
      {"DENIED Redis is running in protected mode", ExitCode::connect, "protected mode"},
      {"MOVED 3999 10.0.0.2:6381", ExitCode::usage, "10.0.0.2:6381"},
      {"ASK 3999 10.0.0.2:6381", ExitCode::usage, "slot 3999"},
      {"WRONGTYPE Operation against a key holding the wrong kind of value", ExitCode::check_failed,
       "GET failed: WRONGTYPE"},
      {"ERR syntax error", ExitCode::check_failed, "GET failed: ERR syntax error"},
      {"MOVED garbage", ExitCode::check_failed, "GET failed: MOVED garbage"},
  };
  for (const auto& [text, code, says] : cases) {
    INFO(text);
    auto [got, message] = thrown(text);
    CHECK(got == code);
    CHECK_THAT(message, Contains(says));
    CHECK(message.find('\n') == std::string::npos);
  }
  // DENIED's reply is a paragraph of advice: the message names the cause in one line instead.
  CHECK(thrown("DENIED Redis is running in protected mode because protected mode is enabled and no password is set "
               "for the default user. In this mode connections are only accepted from the loopback interface.")
            .second.find("In this mode") == std::string::npos);
}

TEST_CASE("throw_if_fatal: data errors and other replies pass, everything else throws", "[reply_error]") {
  CHECK_NOTHROW(throw_if_fatal(Reply{Reply::Type::string, "v", 0, {}}, "GET"));
  CHECK_NOTHROW(throw_if_fatal(Reply{Reply::Type::nil, "", 0, {}}, "GET"));
  CHECK_NOTHROW(throw_if_fatal(Reply{Reply::Type::integer, "", -2, {}}, "PTTL"));
  // A status or bulk string that reads like an error is a value, not an error.
  CHECK_NOTHROW(throw_if_fatal(Reply{Reply::Type::string, "BUSY Redis is busy", 0, {}}, "GET"));
  CHECK_NOTHROW(throw_if_fatal(error("WRONGTYPE Operation against a key holding the wrong kind of value"), "GET"));
  CHECK_NOTHROW(throw_if_fatal(error("BUSYKEY Target key name already exists."), "RESTORE"));
  // The four that a scan used to count as per-key data.
  for (const char* text : {"BUSY Redis is busy running a script.", "MASTERDOWN Link with MASTER is down",
                           "TRYAGAIN Multiple keys request during rehashing of slot", "CLUSTERDOWN The cluster is down",
                           "LOADING Redis is loading", "NOPERM No permissions to access a key", "NOAUTH x",
                           "MOVED 1 h:1", "ERR unknown command 'MEMORY'"}) {
    INFO(text);
    CHECK_THROWS_AS(throw_if_fatal(error(text), "reading sessions"), Error);
  }
}
