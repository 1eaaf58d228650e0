// URL parsing, redaction and the resolution of URL, password and TLS flags (redis/options, settings).
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>
#include <map>
#include <string>

#include "config/settings.h"
#include "redis/options.h"
#include "util/errors.h"

using sessionctl::ExitCode;
using sessionctl::GlobalOptions;
using sessionctl::UsageError;
using sessionctl::redis::ConnectionOptions;
using sessionctl::redis::endpoint;
using sessionctl::redis::parse_url;
using sessionctl::redis::redacted_url;
using sessionctl::redis::Scheme;

namespace {

const std::string kSecret = "s3cr3t-Pa55";

// The UsageError message parse_url throws for `url`; fails the test when it does not throw one.
std::string url_error(const std::string& url) {
  try {
    parse_url(url);
  } catch (const UsageError& e) {
    CHECK(e.code() == ExitCode::usage);
    return e.what();
  }
  FAIL("parse_url accepted " << url);
  return "";
}

sessionctl::EnvLookup fake_env(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

std::string no_prompt(const std::string&) {
  FAIL("prompted for a password");
  return "";
}

// A file in the test's temp area, removed when the test ends.
struct TempFile {
  std::string path;
  explicit TempFile(const std::string& content) {
    char tmpl[] = "/tmp/sessionctl-url-test-XXXXXX";
    int fd = ::mkstemp(tmpl);
    REQUIRE(fd >= 0);
    ::close(fd);
    path = tmpl;
    std::ofstream(path, std::ios::binary) << content;
  }
  ~TempFile() { std::remove(path.c_str()); }
};

}  // namespace

TEST_CASE("parse_url: redis:// with host, port and db", "[url]") {
  ConnectionOptions o = parse_url("redis://cache.internal:6380/4");
  CHECK(o.scheme == Scheme::tcp);
  CHECK(o.host == "cache.internal");
  CHECK(o.port == 6380);
  CHECK(o.db == 4);
  CHECK(o.user.empty());
  CHECK_FALSE(o.password.has_value());
  CHECK(endpoint(o) == "cache.internal:6380");
}

TEST_CASE("parse_url: defaults for port and db", "[url]") {
  for (const char* url : {"redis://localhost", "redis://localhost/", "redis://localhost:6379/0"}) {
    INFO(url);
    ConnectionOptions o = parse_url(url);
    CHECK(o.host == "localhost");
    CHECK(o.port == 6379);
    CHECK(o.db == 0);
  }
}

TEST_CASE("parse_url: rediss:// is TLS", "[url]") {
  ConnectionOptions o = parse_url("rediss://redis.example.com:6390/2");
  CHECK(o.scheme == Scheme::tls);
  CHECK(o.host == "redis.example.com");
  CHECK(o.port == 6390);
  CHECK(o.db == 2);
}

TEST_CASE("parse_url: unix:// sockets with db and userinfo", "[url]") {
  ConnectionOptions o = parse_url("unix:///var/run/redis/redis.sock?db=3");
  CHECK(o.scheme == Scheme::unix_socket);
  CHECK(o.path == "/var/run/redis/redis.sock");
  CHECK(o.db == 3);
  CHECK(endpoint(o) == "/var/run/redis/redis.sock");

  ConnectionOptions u = parse_url("unix://app:" + kSecret + "@/tmp/r%20s.sock");
  CHECK(u.user == "app");
  CHECK(u.password == kSecret);
  CHECK(u.path == "/tmp/r s.sock");
  CHECK(u.db == 0);
}

TEST_CASE("parse_url: userinfo forms", "[url]") {
  SECTION("user and password") {
    ConnectionOptions o = parse_url("redis://reader:" + kSecret + "@h:1/0");
    CHECK(o.user == "reader");
    CHECK(o.password == kSecret);
  }
  SECTION("empty user means the default user") {
    ConnectionOptions o = parse_url("redis://:" + kSecret + "@h");
    CHECK(o.user.empty());
    CHECK(o.password == kSecret);
  }
  SECTION("a lone userinfo is the user name, as ioredis, node-redis and redis-py read it (not redis-cli)") {
    ConnectionOptions o = parse_url("redis://stateonly@h");
    CHECK(o.user == "stateonly");
    CHECK_FALSE(o.password.has_value());
    ConnectionOptions e = parse_url("redis://st%40te@h");
    CHECK(e.user == "st@te");
    CHECK_FALSE(e.password.has_value());
    ConnectionOptions u = parse_url("unix://stateonly@/tmp/r.sock");
    CHECK(u.user == "stateonly");
    CHECK_FALSE(u.password.has_value());
  }
  SECTION("an empty userinfo is neither") {
    ConnectionOptions o = parse_url("redis://@h");
    CHECK(o.user.empty());
    CHECK_FALSE(o.password.has_value());
  }
  SECTION("percent-decoding in user and password") {
    ConnectionOptions o = parse_url("redis://us%65r%3Ax:p%40ss%3aw%2Fd%25@h");
    CHECK(o.user == "user:x");
    CHECK(o.password == "p@ss:w/d%");
  }
  SECTION("an unescaped '@' or '/' in the password: userinfo ends at the last '@'") {
    ConnectionOptions o = parse_url("redis://u:p@ss/w@h:7000/1");
    CHECK(o.user == "u");
    CHECK(o.password == "p@ss/w");
    CHECK(o.host == "h");
    CHECK(o.port == 7000);
    CHECK(o.db == 1);
  }
  SECTION("an empty password is still a password") {
    ConnectionOptions o = parse_url("redis://u:@h");
    CHECK(o.user == "u");
    REQUIRE(o.password.has_value());
    CHECK(o.password->empty());
  }
}

TEST_CASE("parse_url: IPv6 literals", "[url]") {
  ConnectionOptions o = parse_url("redis://[::1]:6380/5");
  CHECK(o.host == "::1");
  CHECK(o.port == 6380);
  CHECK(o.db == 5);
  CHECK(endpoint(o) == "[::1]:6380");

  ConnectionOptions d = parse_url("rediss://u:p@[2001:db8::7]");
  CHECK(d.host == "2001:db8::7");
  CHECK(d.port == 6379);
  CHECK(d.scheme == Scheme::tls);
}

TEST_CASE("parse_url: db in the path and in ?db=, user and password in the query", "[url]") {
  CHECK(parse_url("redis://h/7").db == 7);
  CHECK(parse_url("redis://h?db=9").db == 9);
  CHECK(parse_url("redis://h:1?db=9").port == 1);
  CHECK(parse_url("redis://h/2?db=3").db == 3);  // the query is the more specific
  ConnectionOptions q = parse_url("redis://h?user=app&password=p%26q&db=1");
  CHECK(q.user == "app");
  CHECK(q.password == "p&q");
  CHECK(q.db == 1);
  CHECK(parse_url("redis://h?username=ops").user == "ops");
}

TEST_CASE("parse_url: errors are UsageErrors naming what is wrong", "[url]") {
  using Catch::Matchers::Contains;
  CHECK_THAT(url_error("localhost:6379"), Contains("malformed URL"));
  CHECK_THAT(url_error("redis:/localhost"), Contains("malformed URL"));
  CHECK_THAT(url_error("http://localhost:6379"), Contains("unknown URL scheme 'http'"));
  CHECK_THAT(url_error("redis://h:0"), Contains("port"));
  CHECK_THAT(url_error("redis://h:65536"), Contains("port"));
  CHECK_THAT(url_error("redis://h:99999/0"), Contains("invalid port '99999'"));
  CHECK_THAT(url_error("redis://h:-1"), Contains("port"));
  CHECK_THAT(url_error("redis://h:abc"), Contains("port"));
  CHECK_THAT(url_error("redis://h:"), Contains("port"));
  CHECK_THAT(url_error("redis://h:63 79"), Contains("port"));
  CHECK_THAT(url_error("redis://"), Contains("no host"));
  CHECK_THAT(url_error("redis://:6379/0"), Contains("no host"));
  CHECK_THAT(url_error("redis://u:p@/0"), Contains("no host"));
  CHECK_THAT(url_error("redis://[::1:6379"), Contains("unterminated '['"));
  CHECK_THAT(url_error("redis://[::1]6379"), Contains("expected ':' after ']'"));
  CHECK_THAT(url_error("redis://h/x"), Contains("invalid db 'x'"));
  CHECK_THAT(url_error("redis://h/-1"), Contains("db"));
  CHECK_THAT(url_error("redis://h/1/2"), Contains("db"));
  CHECK_THAT(url_error("redis://h?db=abc"), Contains("db"));
  CHECK_THAT(url_error("redis://h?timeout=5"), Contains("unknown URL parameter 'timeout'"));
  CHECK_THAT(url_error("unix://relative/path.sock"), Contains("malformed unix URL"));
  CHECK_THAT(url_error("unix://"), Contains("malformed unix URL"));
  CHECK_THAT(url_error("redis://u:p%zz@h"), Contains("percent-encoding"));
  CHECK_THAT(url_error("redis://u:p%4@h"), Contains("percent-encoding"));
  CHECK_THAT(url_error("redis://u:p%@h"), Contains("percent-encoding"));
  // from_chars alone accepts a sign: "%-1" must not decode to 0xFF.
  CHECK_THAT(url_error("redis://u:p%-1@h"), Contains("percent-encoding"));
  CHECK_THAT(url_error("redis://u:p%+1@h"), Contains("percent-encoding"));
}

TEST_CASE("parse_url: no error message ever contains the password", "[url][redaction]") {
  const std::vector<std::string> bad = {
      "redis://:" + kSecret + "@h:99999/0",
      "redis://:" + kSecret + "@h:0",
      "redis://u:" + kSecret + "@h/x",
      "redis://u:" + kSecret + "@h?db=-3",
      "redis://u:" + kSecret + "@h?bogus=1",
      "redis://u:" + kSecret + "@[::1",
      "redis://u:" + kSecret + "%zz@h",
      "rediss://u:" + kSecret + "@",
      "http://u:" + kSecret + "@h",
      "redis:/u:" + kSecret + "@h",
      "unix://u:" + kSecret + "@relative.sock",
      // No "://" before the password, but one later: the "scheme" would be the whole prefix.
      "redis:/u:" + kSecret + "@h/0?next=redis://x",
  };
  for (const auto& url : bad) {
    INFO(url);
    std::string message = url_error(url);
    CHECK(message.find(kSecret) == std::string::npos);
    CHECK(message.find('\n') == std::string::npos);
  }
}

TEST_CASE("redacted_url replaces the password and keeps the rest", "[url][redaction]") {
  CHECK(redacted_url(parse_url("redis://u:" + kSecret + "@h:6380/2")) == "redis://u:***@h:6380/2");
  CHECK(redacted_url(parse_url("redis://:" + kSecret + "@h")) == "redis://:***@h:6379/0");
  CHECK(redacted_url(parse_url("rediss://u:" + kSecret + "@[::1]:7000/1")) == "rediss://u:***@[::1]:7000/1");
  CHECK(redacted_url(parse_url("unix://u:" + kSecret + "@/tmp/r.sock?db=4")) == "unix://u:***@/tmp/r.sock?db=4");
  CHECK(redacted_url(parse_url("unix:///tmp/r.sock")) == "unix:///tmp/r.sock");
  CHECK(redacted_url(parse_url("redis://reader@h")) == "redis://reader@h:6379/0");  // lone userinfo = user
  CHECK(redacted_url(parse_url("redis://h?user=ops")) == "redis://ops@h:6379/0");
  CHECK(redacted_url(parse_url("redis://h?password=" + kSecret)) == "redis://:***@h:6379/0");
  // Percent-encoded passwords are gone in every form.
  std::string r = redacted_url(parse_url("redis://u:s3cr3t%2DPa55@h"));
  CHECK(r.find("s3cr3t") == std::string::npos);
}

TEST_CASE("resolve_connection: URL precedence", "[url][settings]") {
  GlobalOptions g;
  SECTION("default") {
    auto rc = sessionctl::resolve_connection(g, fake_env({}), no_prompt);
    CHECK(rc.url_source == "default");
    CHECK(rc.options.host == "127.0.0.1");
    CHECK(rc.options.port == 6379);
    CHECK(rc.options.db == 0);
  }
  SECTION("CHANNEL_REDIS_URL, then REDIS_URL, then SESSIONCTL_URL, then --url") {
    std::map<std::string, std::string> env{{"CHANNEL_REDIS_URL", "redis://c:1"}};
    CHECK(sessionctl::resolve_connection(g, fake_env(env), no_prompt).url_source == "CHANNEL_REDIS_URL");
    env["REDIS_URL"] = "redis://r:2";
    auto rc = sessionctl::resolve_connection(g, fake_env(env), no_prompt);
    CHECK(rc.url_source == "REDIS_URL");
    CHECK(rc.options.host == "r");
    env["SESSIONCTL_URL"] = "redis://s:3";
    rc = sessionctl::resolve_connection(g, fake_env(env), no_prompt);
    CHECK(rc.url_source == "SESSIONCTL_URL");
    CHECK(rc.options.port == 3);
    g.url = "redis://flag:4/1";
    rc = sessionctl::resolve_connection(g, fake_env(env), no_prompt);
    CHECK(rc.url_source == "--url");
    CHECK(rc.options.host == "flag");
    CHECK(rc.options.db == 1);
  }
  SECTION("a malformed URL from the environment names its source, never its password") {
    try {
      sessionctl::resolve_connection(g, fake_env({{"REDIS_URL", "redis://:" + kSecret + "@h:70000"}}), no_prompt);
      FAIL("accepted a bad port");
    } catch (const UsageError& e) {
      std::string m = e.what();
      CHECK(m.find("(from REDIS_URL)") != std::string::npos);
      CHECK(m.find(kSecret) == std::string::npos);
    }
  }
}

TEST_CASE("resolve_connection: password precedence", "[url][settings]") {
  GlobalOptions g;
  g.url = "redis://h";
  SECTION("none") {
    auto rc = sessionctl::resolve_connection(g, fake_env({}), no_prompt);
    CHECK_FALSE(rc.options.password.has_value());
    CHECK(rc.password_source.empty());
  }
  SECTION("REDIS_PASSWORD, then REDISCLI_AUTH") {
    std::map<std::string, std::string> env{{"REDIS_PASSWORD", "from-redis-password"}};
    auto rc = sessionctl::resolve_connection(g, fake_env(env), no_prompt);
    CHECK(rc.options.password == "from-redis-password");
    CHECK(rc.password_source == "REDIS_PASSWORD");
    env["REDISCLI_AUTH"] = "from-rediscli-auth";
    rc = sessionctl::resolve_connection(g, fake_env(env), no_prompt);
    CHECK(rc.options.password == "from-rediscli-auth");
    CHECK(rc.password_source == "REDISCLI_AUTH");
  }
  SECTION("the URL's password beats the environment") {
    g.url = "redis://u:from-url@h";
    auto rc = sessionctl::resolve_connection(g, fake_env({{"REDISCLI_AUTH", "from-env"}}), no_prompt);
    CHECK(rc.options.password == "from-url");
    CHECK(rc.password_source == "URL");
  }
  SECTION("--password-file beats the URL and the environment; first line only, CRLF trimmed") {
    TempFile file("from-file\r\nsecond line\n");
    g.url = "redis://u:from-url@h";
    g.password_file = file.path;
    auto rc = sessionctl::resolve_connection(g, fake_env({{"REDISCLI_AUTH", "from-env"}}), no_prompt);
    CHECK(rc.options.password == "from-file");
    CHECK(rc.password_source == "--password-file");
    CHECK(rc.options.user == "u");
  }
  SECTION("--askpass prompts once, with the redacted URL") {
    g.url = "redis://u:old@h";
    g.askpass = true;
    int prompts = 0;
    auto rc = sessionctl::resolve_connection(g, fake_env({}), [&](const std::string& prompt) {
      ++prompts;
      CHECK(prompt.find("old") == std::string::npos);
      CHECK(prompt.find("u:***@h") != std::string::npos);
      return std::string("typed");
    });
    CHECK(prompts == 1);
    CHECK(rc.options.password == "typed");
    CHECK(rc.password_source == "--askpass");
  }
  SECTION("a lone user-info is the user; the password comes from the environment, the file or the prompt") {
    g.url = "redis://stateonly@h";
    auto rc = sessionctl::resolve_connection(g, fake_env({{"REDISCLI_AUTH", "from-env"}}), no_prompt);
    CHECK(rc.options.user == "stateonly");
    CHECK(rc.options.password == "from-env");
    CHECK(rc.password_source == "REDISCLI_AUTH");
    rc = sessionctl::resolve_connection(g, fake_env({{"REDIS_PASSWORD", "from-redis-password"}}), no_prompt);
    CHECK(rc.options.user == "stateonly");
    CHECK(rc.options.password == "from-redis-password");
    TempFile file("from-file\n");
    g.password_file = file.path;
    rc = sessionctl::resolve_connection(g, fake_env({{"REDISCLI_AUTH", "from-env"}}), no_prompt);
    CHECK(rc.options.user == "stateonly");
    CHECK(rc.options.password == "from-file");
    g.password_file.clear();
    g.askpass = true;
    rc = sessionctl::resolve_connection(g, fake_env({}), [](const std::string& prompt) {
      CHECK(prompt.find("stateonly@h") != std::string::npos);
      return std::string("typed");
    });
    CHECK(rc.options.user == "stateonly");
    CHECK(rc.options.password == "typed");
    g.askpass = false;
    rc = sessionctl::resolve_connection(g, fake_env({}), no_prompt);
    CHECK(rc.options.user == "stateonly");
    CHECK_FALSE(rc.options.password.has_value());
    CHECK(rc.password_source.empty());
  }
  SECTION("an empty --askpass answer is no password: the URL's or the environment's applies, never \"\"") {
    g.askpass = true;
    auto empty = [](const std::string&) { return std::string(); };
    auto rc = sessionctl::resolve_connection(g, fake_env({}), empty);
    CHECK_FALSE(rc.options.password.has_value());
    CHECK(rc.password_source.empty());
    rc = sessionctl::resolve_connection(g, fake_env({{"REDISCLI_AUTH", "from-env"}}), empty);
    CHECK(rc.options.password == "from-env");
    CHECK(rc.password_source == "REDISCLI_AUTH");
    g.url = "redis://u:from-url@h";
    rc = sessionctl::resolve_connection(g, fake_env({}), empty);
    CHECK(rc.options.password == "from-url");
    CHECK(rc.password_source == "URL");
  }
  SECTION("an empty or missing password file is refused") {
    TempFile empty("");
    g.password_file = empty.path;
    CHECK_THROWS_AS(sessionctl::resolve_connection(g, fake_env({}), no_prompt), UsageError);
    g.password_file = "/nonexistent/sessionctl/pw";
    CHECK_THROWS_AS(sessionctl::resolve_connection(g, fake_env({}), no_prompt), UsageError);
  }
}

TEST_CASE("resolve_connection: --db, --user, TLS flags and timeouts", "[url][settings]") {
  GlobalOptions g;
  g.url = "redis://u:p@h/3";
  SECTION("--db and --user override the URL") {
    g.db = 5;
    g.user = "other";
    auto rc = sessionctl::resolve_connection(g, fake_env({}), no_prompt);
    CHECK(rc.options.db == 5);
    CHECK(rc.options.user == "other");
    CHECK(rc.options.password == "p");
    g.db = -1;
    CHECK_THROWS_AS(sessionctl::resolve_connection(g, fake_env({}), no_prompt), UsageError);
  }
  SECTION("--single-node reaches the connection options; off by default") {
    CHECK_FALSE(sessionctl::resolve_connection(g, fake_env({}), no_prompt).options.single_node);
    g.single_node = true;
    CHECK(sessionctl::resolve_connection(g, fake_env({}), no_prompt).options.single_node);
  }
  SECTION("--tls upgrades redis:// and TLS flags fill the TLS options") {
    g.tls = true;
    g.cacert = "/ca.pem";
    g.sni = "redis.example";
    g.insecure = true;
    auto rc = sessionctl::resolve_connection(g, fake_env({}), no_prompt);
    CHECK(rc.options.scheme == Scheme::tls);
    CHECK(rc.options.tls.cacert == "/ca.pem");
    CHECK(rc.options.tls.sni == "redis.example");
    CHECK(rc.options.tls.insecure);
  }
  SECTION("--insecure on a plain connection is a usage error") {
    g.insecure = true;
    CHECK_THROWS_AS(sessionctl::resolve_connection(g, fake_env({}), no_prompt), UsageError);
  }
  SECTION("TLS flags on a plain connection are a usage error") {
    g.cacert = "/ca.pem";
    CHECK_THROWS_AS(sessionctl::resolve_connection(g, fake_env({}), no_prompt), UsageError);
    g.url = "unix:///tmp/r.sock";
    CHECK_THROWS_AS(sessionctl::resolve_connection(g, fake_env({}), no_prompt), UsageError);
  }
  SECTION("--cert needs --key") {
    g.url = "rediss://h";
    g.cert = "/c.pem";
    CHECK_THROWS_AS(sessionctl::resolve_connection(g, fake_env({}), no_prompt), UsageError);
    g.key = "/k.pem";
    CHECK_NOTHROW(sessionctl::resolve_connection(g, fake_env({}), no_prompt));
  }
  SECTION("timeouts are durations above zero") {
    g.connect_timeout = "500ms";
    g.timeout = "2m";
    auto rc = sessionctl::resolve_connection(g, fake_env({}), no_prompt);
    CHECK(rc.options.connect_timeout == std::chrono::milliseconds(500));
    CHECK(rc.options.command_timeout == std::chrono::minutes(2));
    g.timeout = "0s";
    CHECK_THROWS_AS(sessionctl::resolve_connection(g, fake_env({}), no_prompt), UsageError);
    g.timeout = "soon";
    CHECK_THROWS_AS(sessionctl::resolve_connection(g, fake_env({}), no_prompt), UsageError);
  }
}
