// Pure helpers: durations, reply-error mapping, globs and key layouts, printable() and display_width().
#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <vector>

#include "redis/reply.h"
#include "render/terminal.h"
#include "session/key_pattern.h"
#include "util/duration.h"
#include "util/errors.h"

using namespace std::chrono_literals;
using Catch::Matchers::Contains;
using sessionctl::ExitCode;
using sessionctl::format_duration;
using sessionctl::glob_escape;
using sessionctl::glob_match;
using sessionctl::KeyPattern;
using sessionctl::parse_duration;
using sessionctl::redis::Reply;

namespace {

Reply error_reply(const std::string& text) {
  Reply r;
  r.type = Reply::Type::error;
  r.str = text;
  return r;
}

struct Thrown {
  std::string kind;  // "auth", "connection", "timeout", "reply", "other"
  ExitCode code = ExitCode::ok;
  std::string message;
};

// What throw_reply_error makes of `text`, classified by the most specific type caught.
Thrown map_error(const std::string& text, const std::string& context = "SCAN") {
  try {
    sessionctl::redis::throw_reply_error(error_reply(text), context);
  } catch (const sessionctl::AuthError& e) {
    return {"auth", e.code(), e.what()};
  } catch (const sessionctl::TimeoutError& e) {
    return {"timeout", e.code(), e.what()};
  } catch (const sessionctl::ConnectionError& e) {
    return {"connection", e.code(), e.what()};
  } catch (const sessionctl::ReplyError& e) {
    return {"reply", e.code(), e.what()};
  } catch (const sessionctl::Error& e) {
    return {"other", e.code(), e.what()};
  }
  return {};
}

std::string duration_error(const std::string& text) {
  try {
    parse_duration(text, "--ttl");
  } catch (const sessionctl::UsageError& e) {
    return e.what();
  }
  FAIL("parse_duration accepted '" << text << "'");
  return "";
}

bool has_raw_control(const std::string& s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7F) return true;
  }
  return false;
}

}  // namespace

// ---------------------------------------------------------------------------------------------- durations

TEST_CASE("parse_duration: every unit and combinations", "[util][duration]") {
  CHECK(parse_duration("500ms", "x") == 500ms);
  CHECK(parse_duration("90s", "x") == 90s);
  CHECK(parse_duration("90", "x") == 90s);  // bare number: seconds
  CHECK(parse_duration("15m", "x") == 15min);
  CHECK(parse_duration("24h", "x") == 24h);
  CHECK(parse_duration("7d", "x") == 7 * 24h);
  CHECK(parse_duration("1w", "x") == 7 * 24h);
  CHECK(parse_duration("1h30m", "x") == 90min);
  CHECK(parse_duration("2d3h4m5s", "x") == 2 * 24h + 3h + 4min + 5s);
  CHECK(parse_duration("1.5h", "x") == 90min);
  CHECK(parse_duration("0.25s", "x") == 250ms);
  CHECK(parse_duration("0", "x") == 0ms);
  CHECK(parse_duration("1s500ms", "x") == 1500ms);
}

TEST_CASE("parse_duration: malformed or negative input is a UsageError naming the flag", "[util][duration]") {
  for (const char* bad : {"", "-5s", "-1", "5x", "abc", "s", "ms", "1h30", "5 s", " 5s", "5s ", "1e400", "inf", "nan",
                          "99999999999999d", "1m-1s", "5sec", "h1"}) {
    INFO("'" << bad << "'");
    std::string m = duration_error(bad);
    CHECK_THAT(m, Contains("--ttl"));
    CHECK_THAT(m, Contains("invalid duration"));
  }
}

TEST_CASE("format_duration: compact, largest two units", "[util][duration]") {
  CHECK(format_duration(0ms) == "0ms");
  CHECK(format_duration(999ms) == "999ms");
  CHECK(format_duration(1000ms) == "1s");
  CHECK(format_duration(45s) == "45s");
  CHECK(format_duration(60s) == "1m");
  CHECK(format_duration(90s) == "1m30s");
  CHECK(format_duration(1h) == "1h");
  CHECK(format_duration(90min) == "1h30m");
  CHECK(format_duration(24h) == "1d");
  CHECK(format_duration(2 * 24h + 3h) == "2d3h");
  CHECK(format_duration(24h + 30min) == "1d");
  CHECK(format_duration(-1ms) == "-");  // -1 = no expiry
}

TEST_CASE("format_duration output parses back to the same duration", "[util][duration]") {
  for (auto d : std::vector<std::chrono::milliseconds>{0ms, 5ms, 1s, 59s, 61s, 1h, 90min, 24h, 26h, 30 * 24h}) {
    INFO(d.count());
    CHECK(parse_duration(format_duration(d), "x") == d);
  }
}

// ---------------------------------------------------------------------------------------------- reply errors

TEST_CASE("throw_reply_error: authentication errors are AuthError, exit 4", "[util][reply]") {
  for (const char* text : {
           "WRONGPASS invalid username-password pair or user is disabled.", "NOAUTH Authentication required.",
           "ERR AUTH <password> called without any password configured for the default user. Are you sure your "
           "configuration is correct?",
           "ERR invalid password",                          // Redis < 6
           "ERR Client sent AUTH, but no password is set",  // Redis < 6
       }) {
    INFO(text);
    Thrown t = map_error(text, "AUTH");
    CHECK(t.kind == "auth");
    CHECK(t.code == ExitCode::auth);
    CHECK_THAT(t.message, Contains("authentication failed"));
  }
}

TEST_CASE("throw_reply_error: NOPERM names the command and the fix", "[util][reply]") {
  Thrown t = map_error("NOPERM this user has no permissions to run the 'scan' command", "SCAN");
  CHECK(t.kind == "auth");
  CHECK(t.code == ExitCode::auth);
  CHECK_THAT(t.message, Contains("permission denied for SCAN"));
  CHECK_THAT(t.message, Contains("'scan'"));
  CHECK_THAT(t.message, Contains("grant"));
}

TEST_CASE("throw_reply_error: a server that cannot serve now is a ConnectionError, exit 3", "[util][reply]") {
  Thrown loading = map_error("LOADING Redis is loading the dataset in memory");
  CHECK(loading.kind == "connection");
  CHECK(loading.code == ExitCode::connect);
  CHECK_THAT(loading.message, Contains("loading"));
  CHECK_THAT(loading.message, Contains("retry"));
  for (const char* text : {"MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.",
                           "BUSY Redis is busy running a script.", "TRYAGAIN Multiple keys request during rehashing",
                           "CLUSTERDOWN The cluster is down"}) {
    INFO(text);
    Thrown t = map_error(text, "GET");
    CHECK(t.kind == "connection");
    CHECK(t.code == ExitCode::connect);
    CHECK_THAT(t.message, Contains("GET"));
  }
}

TEST_CASE("throw_reply_error: any other error is a ReplyError, exit 1", "[util][reply]") {
  for (const char* text : {"WRONGTYPE Operation against a key holding the wrong kind of value",
                           "ERR unknown command 'FOO', with args beginning with: ", "ERR"}) {
    INFO(text);
    Thrown t = map_error(text, "GET");
    CHECK(t.kind == "reply");
    CHECK(t.code == ExitCode::check_failed);
    CHECK_THAT(t.message, Contains("GET failed"));
    CHECK(t.message.find('\n') == std::string::npos);
  }
}

TEST_CASE("throw_reply_error: OOM is exit 1 naming maxmemory, READONLY exit 2 naming the primary", "[util][reply]") {
  Thrown oom = map_error("OOM command not allowed when used memory > 'maxmemory'.", "SET");
  CHECK(oom.kind == "reply");
  CHECK(oom.code == ExitCode::check_failed);
  CHECK_THAT(oom.message, Contains("SET") && Contains("maxmemory"));
  Thrown ro = map_error("READONLY You can't write against a read only replica.", "UNLINK");
  CHECK(ro.code == ExitCode::usage);
  CHECK_THAT(ro.message, Contains("UNLINK") && Contains("primary"));
}

TEST_CASE("Reply::error_code and checked()", "[util][reply]") {
  CHECK(error_reply("LOADING Redis is loading").error_code() == "LOADING");
  CHECK(error_reply("ERR").error_code() == "ERR");
  Reply ok;
  ok.type = Reply::Type::status;
  ok.str = "OK";
  CHECK(ok.error_code().empty());
  CHECK(&sessionctl::redis::checked(ok, "SET") == &ok);
  CHECK_THROWS_AS(sessionctl::redis::checked(error_reply("NOPERM x"), "GET"), sessionctl::AuthError);
  CHECK_THROWS_AS(sessionctl::redis::checked(error_reply("WRONGTYPE x"), "GET"), sessionctl::ReplyError);
}

// ---------------------------------------------------------------------------------------------- globs

TEST_CASE("glob_match: Redis glob rules", "[util][glob]") {
  struct Case {
    const char* pattern;
    const char* text;
    bool match;
  };
  const std::vector<Case> cases = {
      {"*", "", true},
      {"*", "anything", true},
      {"", "", true},
      {"", "a", false},
      {"?", "", false},
      {"h?llo", "hello", true},
      {"h?llo", "hllo", false},
      {"h*llo", "hllo", true},
      {"h*llo", "heeeello", true},
      {"h[ae]llo", "hallo", true},
      {"h[ae]llo", "hillo", false},
      {"h[^e]llo", "hallo", true},
      {"h[^e]llo", "hello", false},
      {"h[a-c]llo", "hbllo", true},
      {"h[a-c]llo", "hdllo", false},
      {"h[c-a]llo", "hbllo", true},  // reversed ranges work as in Redis
      {"a\\*b", "a*b", true},
      {"a\\*b", "axb", false},
      {"a[\\]]b", "a]b", true},
      {"state:*", "state:abc", true},
      {"state:*", "session:abc", false},
      {"*a*b", "xaxxb", true},
      {"*a*b", "xaxxbc", false},
      {"a*b*c", "abbbbcc", true},
      {"*:state", "trt:session:u1:state", true},
      {"*:state", "trt:session:u1:history", false},
      {"user_??", "user_12", true},
      {"user_??", "user_123", false},
  };
  for (const auto& c : cases) {
    INFO("pattern '" << c.pattern << "' text '" << c.text << "'");
    CHECK(glob_match(c.pattern, c.text) == c.match);
  }
}

TEST_CASE("glob_escape makes any literal match only itself", "[util][glob]") {
  CHECK(glob_escape("a*b?[c]\\") == "a\\*b\\?\\[c\\]\\\\");
  for (const std::string literal : {"plain", "we[ird]*?", "back\\slash", "*", "[^x]", ""}) {
    INFO(literal);
    CHECK(glob_match(glob_escape(literal), literal));
    CHECK_FALSE(glob_match(glob_escape(literal), literal + "x"));
  }
  CHECK_FALSE(glob_match(glob_escape("a*"), "abc"));
}

TEST_CASE("KeyPattern: match, key_for and scan_glob", "[util][keypattern]") {
  KeyPattern state("state:{id}");
  CHECK(state.has_placeholder());
  CHECK(state.placeholder() == "id");
  CHECK(state.prefix() == "state:");
  CHECK(state.match("state:abc") == std::optional<std::string>("abc"));
  CHECK(state.match("state:a:b") == std::optional<std::string>("a:b"));
  CHECK_FALSE(state.match("state:").has_value());  // ids are never empty
  CHECK_FALSE(state.match("session:abc").has_value());
  CHECK(state.key_for("x1") == "state:x1");
  CHECK(state.scan_glob() == "state:*");

  KeyPattern trt("trt:session:{id}:state");
  CHECK(trt.match("trt:session:user_12345:state") == std::optional<std::string>("user_12345"));
  CHECK_FALSE(trt.match("trt:session:user_12345:history").has_value());
  CHECK_FALSE(trt.match("trt:session::state").has_value());
  CHECK(trt.key_for("u") == "trt:session:u:state");
  CHECK(trt.scan_glob() == "trt:session:*:state");
  CHECK(glob_match(trt.scan_glob(), trt.key_for("anything")));

  KeyPattern fixed("trt:active_sessions");
  CHECK_FALSE(fixed.has_placeholder());
  CHECK(fixed.match("trt:active_sessions") == std::optional<std::string>(""));
  CHECK_FALSE(fixed.match("trt:active_sessions2").has_value());
  CHECK(fixed.key_for("ignored") == "trt:active_sessions");
  CHECK(fixed.scan_glob() == "trt:active_sessions");

  KeyPattern weird("we[ird]*:{id}");
  CHECK(weird.scan_glob() == "we\\[ird\\]\\*:*");
  CHECK(glob_match(weird.scan_glob(), "we[ird]*:42"));
  CHECK_FALSE(glob_match(weird.scan_glob(), "wei*:42"));
}

TEST_CASE("KeyPattern: more or fewer than one placeholder is a UsageError", "[util][keypattern]") {
  for (const char* bad : {"state:{}", "state:{id", "{a}:{b}", "x:{id}:{id}"}) {
    INFO(bad);
    CHECK_THROWS_AS(KeyPattern(bad), sessionctl::UsageError);
  }
}

// ---------------------------------------------------------------------------------------------- printable

TEST_CASE("printable escapes control characters and invalid UTF-8", "[util][printable]") {
  using sessionctl::printable;
  CHECK(printable("plain text") == "plain text");
  // A real backslash-n and a newline must not look alike.
  CHECK(printable("a\\nb") == "a\\\\nb");
  CHECK(printable("a\nb") == "a\\nb");
  CHECK(printable("a\nb") == "a\\nb");
  CHECK(printable("a\r\nb\tc") == "a\\r\\nb\\tc");
  CHECK(printable("\x1b[31mred\x1b[0m") == "\\x1b[31mred\\x1b[0m");
  CHECK(printable(std::string("nul\0byte", 8)) == "nul\\x00byte");
  CHECK(printable("bell\a del\x7f") == "bell\\x07 del\\x7f");
  CHECK(printable("c1 \xc2\x85 \xc2\x9b") == "c1 \\x85 \\x9b");  // U+0085 NEL, U+009B CSI
  CHECK(printable("bad \xff byte") == "bad \\xff byte");
  CHECK(printable("cut \xe2\x82") == "cut \\xe2\\x82");
  CHECK(printable("héllo 日本 😀 e\xcc\x81") == "héllo 日本 😀 e\xcc\x81");
  // Not UTF-8 either: overlong forms, surrogates, code points above U+10FFFF.
  CHECK(printable("\xc0\xaf") == "\\xc0\\xaf");
  CHECK(printable("\xe0\x80\x9b") == "\\xe0\\x80\\x9b");
  CHECK(printable("\xed\xa0\x80") == "\\xed\\xa0\\x80");
  CHECK(printable("\xf4\x90\x80\x80") == "\\xf4\\x90\\x80\\x80");
  CHECK(printable("\xf4\x8f\xbf\xbf") == "\xf4\x8f\xbf\xbf");  // U+10FFFF itself is fine
}

TEST_CASE("printable output never holds a raw control byte", "[util][printable]") {
  std::string all;
  for (int b = 0; b < 256; ++b) all += static_cast<char>(b);
  std::string p = sessionctl::printable(all);
  CHECK_FALSE(has_raw_control(p));
  CHECK(p.find('\x1b') == std::string::npos);
}

TEST_CASE("display_width counts terminal columns", "[util][printable]") {
  using sessionctl::display_width;
  CHECK(display_width("") == 0);
  CHECK(display_width("abc") == 3);
  CHECK(display_width("héllo") == 5);
  CHECK(display_width("e\xcc\x81") == 1);  // combining acute accent takes no column
  CHECK(display_width("日本") == 4);
  CHECK(display_width("한국") == 4);
  CHECK(display_width("😀") == 2);
  CHECK(display_width("\x1b[1mab\x1b[0m") == 2);  // our own colour codes take no room
  CHECK(display_width("\xff") == 4);              // shown as \xff
  CHECK(display_width(sessionctl::printable("\xff")) == 4);
}
