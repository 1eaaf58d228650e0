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

TEST_CASE("parse_url: redis+sentinel:// names sentinels, a master and the data nodes' db and credentials",
          "[url][sentinel]") {
  ConnectionOptions o = parse_url("redis+sentinel://app:" + kSecret + "@s1.internal:26380,s2,[::1]:26381/mymaster/3");
  REQUIRE(o.sentinel.has_value());
  CHECK(o.scheme == Scheme::tcp);
  REQUIRE(o.sentinel->sentinels.size() == 3);
  CHECK(o.sentinel->sentinels[0].host == "s1.internal");
  CHECK(o.sentinel->sentinels[0].port == 26380);
  CHECK(o.sentinel->sentinels[1].host == "s2");
  CHECK(o.sentinel->sentinels[1].port == 26379);  // Sentinel's port by default
  CHECK(o.sentinel->sentinels[2].host == "::1");
  CHECK(o.sentinel->sentinels[2].port == 26381);
  CHECK(o.sentinel->master_name == "mymaster");
  CHECK(o.db == 3);
  // User-info is the data nodes': the sentinels get their own credentials from flags and the environment.
  CHECK(o.user == "app");
  CHECK(o.password == kSecret);
  CHECK(o.sentinel->user.empty());
  CHECK_FALSE(o.sentinel->password.has_value());
  // The primary is unknown until connect() asks.
  CHECK(o.host.empty());
  CHECK(endpoint(o) == "master 'mymaster' via sentinels");

  ConnectionOptions one = parse_url("redis+sentinel://10.0.0.5:26379/sessions");
  REQUIRE(one.sentinel);
  CHECK(one.sentinel->sentinels.size() == 1);
  CHECK(one.sentinel->master_name == "sessions");
  CHECK(one.db == 0);
  CHECK(parse_url("redis+sentinel://h/m/").db == 0);
  CHECK(parse_url("redis+sentinel://h/my%20master").sentinel->master_name == "my master");
  CHECK(parse_url("redis+sentinel://h/m?db=2").db == 2);
  CHECK_FALSE(parse_url("redis://h").sentinel.has_value());
}

TEST_CASE("parse_url: rediss+sentinel:// is TLS to the sentinels and the data nodes", "[url][sentinel]") {
  ConnectionOptions o = parse_url("rediss+sentinel://s1:26379,s2:26379/mymaster");
  CHECK(o.scheme == Scheme::tls);
  REQUIRE(o.sentinel);
  CHECK(o.sentinel->sentinels.size() == 2);
}

TEST_CASE("parse_url: sentinel URL errors name what is wrong", "[url][sentinel]") {
  using Catch::Matchers::Contains;
  CHECK_THAT(url_error("redis+sentinel://s1:26379"), Contains("names no master"));
  CHECK_THAT(url_error("redis+sentinel://s1:26379/"), Contains("names no master"));
  CHECK_THAT(url_error("redis+sentinel://s1:26379//2"), Contains("names no master"));
  CHECK_THAT(url_error("redis+sentinel:///mymaster"), Contains("no sentinel addresses"));
  CHECK_THAT(url_error("redis+sentinel://u:p@/mymaster"), Contains("no sentinel addresses"));
  CHECK_THAT(url_error("redis+sentinel://s1,,s2/mymaster"), Contains("a sentinel address without a host"));
  CHECK_THAT(url_error("redis+sentinel://s1,/mymaster"), Contains("a sentinel address without a host"));
  CHECK_THAT(url_error("redis+sentinel://:26379/mymaster"), Contains("a sentinel address without a host"));
  CHECK_THAT(url_error("redis+sentinel://s1:26379,s2:99999/mymaster"), Contains("invalid sentinel port '99999'"));
  CHECK_THAT(url_error("redis+sentinel://s1:0/mymaster"), Contains("sentinel port"));
  CHECK_THAT(url_error("redis+sentinel://s1:x/mymaster"), Contains("sentinel port"));
  CHECK_THAT(url_error("redis+sentinel://[::1/mymaster"), Contains("unterminated '['"));
  CHECK_THAT(url_error("redis+sentinel://s1/mymaster/x"), Contains("invalid db 'x'"));
  CHECK_THAT(url_error("redis+sentinel://s1/mymaster/1/2"), Contains("db"));
  CHECK_THAT(url_error("redis+sentinel://s1/my%zzmaster"), Contains("percent-encoding in the URL's master name"));
  CHECK_THAT(url_error("sentinel://s1/mymaster"), Contains("redis+sentinel://"));
  for (const std::string& url :
       {"redis+sentinel://u:" + kSecret + "@s1", "redis+sentinel://u:" + kSecret + "@s1:99999/m",
        "redis+sentinel://:" + kSecret + "@/m", "rediss+sentinel://u:" + kSecret + "@s1,,s2/m",
        "redis+sentinel://u:" + kSecret + "@s1/m/x"}) {
    INFO(url);
    std::string message = url_error(url);
    CHECK(message.find(kSecret) == std::string::npos);
    CHECK(message.find('\n') == std::string::npos);
  }
}

TEST_CASE("redacted_url: a sentinel URL keeps its sentinels and master, never a password",
          "[url][sentinel][redaction]") {
  CHECK(redacted_url(parse_url("redis+sentinel://u:" + kSecret + "@s1:26380,[::1]/mymaster/2")) ==
        "redis+sentinel://u:***@s1:26380,[::1]:26379/mymaster/2");
  CHECK(redacted_url(parse_url("rediss+sentinel://s1/mymaster")) == "rediss+sentinel://s1:26379/mymaster/0");
  // Once connect() has found the primary, the URL still names the sentinels, not the primary.
  ConnectionOptions resolved = parse_url("redis+sentinel://s1/mymaster");
  resolved.host = "10.0.0.9";
  resolved.port = 6380;
  resolved.sentinel->password = kSecret;
  CHECK(redacted_url(resolved) == "redis+sentinel://s1:26379/mymaster/0");
  CHECK(endpoint(resolved) == "10.0.0.9:6380");
}

TEST_CASE("resolve_connection: sentinel credentials are separate from the data nodes'", "[url][settings][sentinel]") {
  GlobalOptions g;
  g.url = "redis+sentinel://app:data-pw@s1,s2/mymaster";
  SECTION("none given: the sentinels are asked without a password") {
    auto rc = sessionctl::resolve_connection(g, fake_env({{"REDISCLI_AUTH", "env-data-pw"}}), no_prompt);
    REQUIRE(rc.options.sentinel);
    CHECK_FALSE(rc.options.sentinel->password.has_value());
    CHECK(rc.options.sentinel->user.empty());
    CHECK(rc.sentinel_password_source.empty());
    CHECK(rc.options.password == "data-pw");
    CHECK(rc.options.user == "app");
  }
  SECTION("SESSIONCTL_SENTINEL_PASSWORD, then --sentinel-password-file; --sentinel-user") {
    std::map<std::string, std::string> env{{"SESSIONCTL_SENTINEL_PASSWORD", "env-sentinel-pw"}};
    g.sentinel_user = "watcher";
    auto rc = sessionctl::resolve_connection(g, fake_env(env), no_prompt);
    CHECK(rc.options.sentinel->password == "env-sentinel-pw");
    CHECK(rc.options.sentinel->user == "watcher");
    CHECK(rc.sentinel_password_source == "SESSIONCTL_SENTINEL_PASSWORD");
    CHECK(rc.options.password == "data-pw");
    TempFile file("file-sentinel-pw\n");
    g.sentinel_password_file = file.path;
    rc = sessionctl::resolve_connection(g, fake_env(env), no_prompt);
    CHECK(rc.options.sentinel->password == "file-sentinel-pw");
    CHECK(rc.sentinel_password_source == "--sentinel-password-file");
    CHECK(rc.options.password == "data-pw");
  }
  SECTION("the data nodes' password sources do not reach the sentinels, nor the other way round") {
    g.url = "redis+sentinel://s1/mymaster";
    TempFile data("file-data-pw\n");
    g.password_file = data.path;
    auto rc = sessionctl::resolve_connection(g, fake_env({{"SESSIONCTL_SENTINEL_PASSWORD", "s-pw"}}), no_prompt);
    CHECK(rc.options.password == "file-data-pw");
    CHECK(rc.options.sentinel->password == "s-pw");
    g.password_file.clear();
    rc = sessionctl::resolve_connection(g, fake_env({{"SESSIONCTL_SENTINEL_PASSWORD", "s-pw"}}), no_prompt);
    CHECK_FALSE(rc.options.password.has_value());
  }
  SECTION("--user and --db apply to the data nodes, --tls to both") {
    g.user = "other";
    g.db = 4;
    g.tls = true;
    auto rc = sessionctl::resolve_connection(g, fake_env({}), no_prompt);
    CHECK(rc.options.user == "other");
    CHECK(rc.options.db == 4);
    CHECK(rc.options.scheme == Scheme::tls);
    CHECK(rc.options.sentinel->user.empty());
  }
  SECTION("sentinel flags without a sentinel URL are a usage error; the variable alone is ignored") {
    g.url = "redis://h";
    CHECK_NOTHROW(sessionctl::resolve_connection(g, fake_env({{"SESSIONCTL_SENTINEL_PASSWORD", "x"}}), no_prompt));
    g.sentinel_user = "watcher";
    CHECK_THROWS_WITH(sessionctl::resolve_connection(g, fake_env({}), no_prompt),
                      Catch::Matchers::Contains("--sentinel-user applies to sentinels only"));
    g.sentinel_user.clear();
    TempFile file("pw\n");
    g.sentinel_password_file = file.path;
    CHECK_THROWS_AS(sessionctl::resolve_connection(g, fake_env({}), no_prompt), UsageError);
  }
  SECTION("an empty sentinel password file is refused") {
    TempFile empty("");
    g.sentinel_password_file = empty.path;
    CHECK_THROWS_AS(sessionctl::resolve_connection(g, fake_env({}), no_prompt), UsageError);
  }
}
