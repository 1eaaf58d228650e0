// `sessionctl status` against every kind of server (plain, TLS, mutual TLS, requirepass + ACL users,
// Unix socket) in every output format, and how it finds its URL, password and db. Everything runs
// the real binary against a real redis-server loaded with tests/fixtures/sample_sessions.redis.
#include <algorithm>
#include <catch2/catch.hpp>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "process.h"
#include "redis_server.h"
#include "sessionctl_cli.h"
#include "temp_dir.h"

#ifndef SESSIONCTL_SOURCE_DIR
#error "SESSIONCTL_SOURCE_DIR must be defined to the source tree"
#endif

using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
using nlohmann::json;
using testsupport::check_no_secret;
using testsupport::EnvOverrides;
using testsupport::kSecret;
using testsupport::RedisServer;
using testsupport::RunResult;
using testsupport::ServerOptions;
using testsupport::sessionctl;
using testsupport::status_counts;
using testsupport::TlsClientAuth;

namespace {

// What the fixture holds, per profile (SPEC section 1).
const std::map<std::string, long long>& kFixtureCounts = testsupport::kSampleSessionCounts;
// status_counts leaves out the profiles without sessions: an empty store gives no counts at all.
const std::map<std::string, long long> kNoSessions = {};

std::string fixture() { return testsupport::fixture("sample_sessions.redis"); }

std::vector<std::string> with(std::vector<std::string> args, const std::vector<std::string>& more) {
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

// Exit 0, no timeout, no error or warning on stderr, and the password nowhere.
void check_ok(const RunResult& r) {
  INFO(r);
  REQUIRE_FALSE(r.timed_out);
  REQUIRE(r.exit_code == 0);
  CHECK(r.err.find("error") == std::string::npos);
  check_no_secret(r);
}

// Per-profile counts from the table's PROFILE/SESSIONS/DEFAULT TTL block.
std::map<std::string, long long> counts_from_table(const std::string& text) {
  std::map<std::string, long long> out;
  std::istringstream in(text);
  bool in_profiles = false;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("PROFILE", 0) == 0) {
      in_profiles = true;
      continue;
    }
    if (!in_profiles || line.empty() || line.rfind("note:", 0) == 0) continue;
    std::istringstream fields(line);
    std::string name;
    long long sessions = -1;
    fields >> name >> sessions;
    if (sessions != 0) out[name] = sessions;  // as status_counts: only the profiles that have sessions
  }
  return out;
}

json parse_json(const RunResult& r) {
  INFO(r);
  json doc;
  REQUIRE_NOTHROW(doc = json::parse(r.out));
  return doc;
}

// The counts of the profiles that have sessions, as status_counts and counts_from_table give them.
std::map<std::string, long long> nonzero(const std::map<std::string, long long>& counts) {
  std::map<std::string, long long> out;
  for (const auto& [profile, n] : counts)
    if (n != 0) out[profile] = n;
  return out;
}

// A status JSON document: schema, version, reachable, the URL it reports, and the counts.
void check_status_doc(const json& doc, const std::map<std::string, long long>& counts) {
  INFO(doc.dump(2));
  CHECK(doc.at("schema") == "sessionctl.status");
  CHECK(doc.at("version") == 1);
  CHECK(doc.at("reachable") == true);
  CHECK(status_counts(doc) == nonzero(counts));
  CHECK(doc.at("unknown_sessions") == 0);
  CHECK(doc.at("url").get<std::string>().find(kSecret) == std::string::npos);
}

// Runs status in table, json and jsonl output and checks the per-profile counts in each.
// Returns the JSON document for further checks.
json check_all_formats(const std::vector<std::string>& args, const EnvOverrides& env = {},
                       const std::map<std::string, long long>& counts = kFixtureCounts) {
  const RunResult table = sessionctl(with({"status"}, args), env);
  check_ok(table);
  CHECK_THAT(table.out, Contains("reachable         yes"));
  CHECK(counts_from_table(table.out) == nonzero(counts));

  const RunResult doc = sessionctl(with({"status", "-o", "json"}, args), env);
  check_ok(doc);
  json parsed = parse_json(doc);
  check_status_doc(parsed, counts);

  const RunResult lines = sessionctl(with({"status", "--output", "jsonl"}, args), env);
  check_ok(lines);
  CHECK(std::count(lines.out.begin(), lines.out.end(), '\n') == 1);
  CHECK(lines.out.back() == '\n');
  check_status_doc(parse_json(lines), counts);
  return parsed;
}

}  // namespace

TEST_CASE("status on a plain server in table, json and jsonl", "[status][plain]") {
  RedisServer server;
  server.cli_script(fixture());
  json doc = check_all_formats({"-u", server.url()});
  CHECK(doc.at("url") == server.url());
  CHECK(doc.at("url_source") == "--url");
  CHECK(doc.at("server").at("version").get<std::string>().rfind("7.", 0) == 0);
  CHECK(doc.at("server").at("role") == "master");
  CHECK(doc.at("keyspace").at("db") == 0);
  CHECK(doc.at("keyspace").at("keys") == 13);
  CHECK(doc.at("persistence").at("off") == true);  // the harness runs with save "" and appendonly no
  CHECK(doc.at("persistence").at("rdb_save") == "");
  for (const auto& p : doc.at("profiles")) {
    INFO(p.dump());
    // Null only where the library sets no TTL by default (Rails without expire_after).
    CHECK((p.at("default_ttl_ms").is_number_integer() ||
           (p.at("profile") == "rails" && p.at("default_ttl_ms").is_null())));
  }

  const RunResult table = sessionctl({"status", "-u", server.url()});
  CHECK_THAT(table.out, Contains("Redis 7."));
  CHECK_THAT(table.out, Contains("AOF off, RDB off"));
  CHECK_THAT(table.out, Contains("db0: 13 keys, 11 with TTL"));
}

TEST_CASE("status is read-only: TTLs and values are untouched", "[status][plain]") {
  RedisServer server;
  server.cli_script(fixture());
  server.cli({"PERSIST", "state:abc123def456"});
  const std::string before = server.cli({"GET", "state:test-456"});
  check_ok(sessionctl({"status", "-u", server.url()}));
  CHECK(server.cli({"TTL", "state:abc123def456"}) == "-1\n");
  CHECK(server.cli({"GET", "state:test-456"}) == before);
  CHECK(server.cli({"DBSIZE"}) == "13\n");
}

TEST_CASE("status over TLS with --cacert, by IP and by host name", "[status][tls]") {
  RedisServer server(ServerOptions{.tls = true});
  server.cli_script(fixture());
  json doc = check_all_formats({"-u", server.url(), "--cacert", server.ca_file()});
  CHECK(doc.at("url").get<std::string>().rfind("rediss://", 0) == 0);

  // The certificate names localhost too.
  check_ok(sessionctl({"status", "-u", server.url_for_host("localhost"), "--cacert", server.ca_file()}));
  // --tls turns a redis:// URL into TLS.
  const std::string plain_url = "redis://127.0.0.1:" + std::to_string(server.port()) + "/0";
  const RunResult upgraded =
      sessionctl({"status", "-o", "json", "-u", plain_url, "--tls", "--cacert", server.ca_file()});
  check_ok(upgraded);
  check_status_doc(parse_json(upgraded), kFixtureCounts);
}

TEST_CASE("status over mutual TLS with a client certificate", "[status][tls]") {
  RedisServer server(ServerOptions{.tls = true, .tls_client_auth = TlsClientAuth::required});
  server.cli_script(fixture());
  check_all_formats(
      {"-u", server.url(), "--cacert", server.ca_file(), "--cert", server.client_cert(), "--key", server.client_key()});

  // Without a client certificate the server refuses: a clear TLS error, exit 3.
  const RunResult refused = sessionctl({"status", "-u", server.url(), "--cacert", server.ca_file(), "--timeout", "5s"});
  INFO(refused);
  CHECK_FALSE(refused.timed_out);
  CHECK(refused.exit_code == 3);
  CHECK_THAT(refused.err, StartsWith("sessionctl: error: "));
  CHECK(std::count(refused.err.begin(), refused.err.end(), '\n') == 1);
  CHECK(refused.out.empty());
}

TEST_CASE("status with requirepass: every password source", "[status][auth]") {
  RedisServer server(ServerOptions{.requirepass = kSecret});
  server.cli_script(fixture());
  const std::string bare = server.url();  // no userinfo

  SECTION("password in the URL") { check_all_formats({"-u", server.url(":" + kSecret)}); }
  SECTION("REDISCLI_AUTH") { check_all_formats({"-u", bare}, {{"REDISCLI_AUTH", kSecret}}); }
  SECTION("REDIS_PASSWORD") { check_all_formats({"-u", bare}, {{"REDIS_PASSWORD", kSecret}}); }
  SECTION("--password-file") {
    testsupport::TempDir dir;
    const std::string file = dir.write("pw", kSecret + "\n");
    check_all_formats({"-u", bare, "--password-file", file});
  }
  SECTION("REDISCLI_AUTH beats REDIS_PASSWORD") {
    check_ok(sessionctl({"status", "-u", bare}, {{"REDISCLI_AUTH", kSecret}, {"REDIS_PASSWORD", "wrong"}}));
  }
  SECTION("--password-file beats a wrong password in the URL and the environment") {
    testsupport::TempDir dir;
    const std::string file = dir.write("pw", kSecret + "\r\n");
    check_ok(sessionctl({"status", "-u", server.url(":wrong"), "--password-file", file}, {{"REDISCLI_AUTH", "wrong"}}));
  }
  SECTION("the redacted URL shows that a password is used, never which") {
    const RunResult r = sessionctl({"status", "-o", "json", "-u", server.url(":" + kSecret)});
    check_ok(r);
    CHECK(parse_json(r).at("url") == server.url(":***"));
  }
}

TEST_CASE("status as an ACL user who may not run CONFIG: everything else plus a note", "[status][auth][acl]") {
  // An application user: reads and scans, INFO, but no admin commands (CONFIG is @admin).
  RedisServer server(
      ServerOptions{.requirepass = "admin-" + kSecret,
                    .acl_users = {"sessions on >" + kSecret + " ~* resetchannels -@all +@read +@connection +info"}});
  server.cli_script(fixture());
  const std::string url = server.url("sessions:" + kSecret);

  json doc = check_all_formats({"-u", url});
  CHECK(doc.at("url") == server.url("sessions:***"));
  CHECK(doc.at("persistence").at("rdb_save").is_null());  // unknown, not "off"
  // AOF is off and RDB unknown: whether persistence is off altogether is unknown too (issue 11 item 17).
  CHECK(doc.at("persistence").at("off").is_null());
  CHECK(doc.at("server").at("version").get<std::string>().rfind("7.", 0) == 0);
  bool config_note = false;
  for (const auto& n : doc.at("notes")) config_note |= n.get<std::string>().find("CONFIG") != std::string::npos;
  CHECK(config_note);

  const RunResult table = sessionctl({"status", "-u", url});
  check_ok(table);
  // Notes describe the run, so they go to stderr (and --quiet silences them); stdout holds results only.
  CHECK_THAT(table.err, Contains("note: CONFIG GET is not permitted"));
  CHECK_THAT(table.out, !Contains("note:"));
  const RunResult quiet = sessionctl({"status", "-u", url, "-q"});
  check_ok(quiet);
  CHECK_THAT(quiet.err, !Contains("note:"));
  CHECK_THAT(table.out, Contains("RDB unknown"));

  // --user overrides the URL's user; the password then comes from the environment.
  check_ok(sessionctl({"status", "-u", server.url(), "--user", "sessions"}, {{"REDISCLI_AUTH", kSecret}}));
}

TEST_CASE("status as an ACL user who may not run INFO reports unknown fields, not zeros", "[status][auth][acl]") {
  RedisServer server(
      ServerOptions{.acl_users = {"reader on >" + kSecret + " ~* resetchannels -@all +@read +@connection"}});
  server.cli_script(fixture());
  const std::string url = server.url("reader:" + kSecret);
  json doc = check_all_formats({"-u", url});
  CHECK(doc.at("memory").at("used_bytes").is_null());
  CHECK(doc.at("keyspace").at("keys").is_null());
  CHECK(doc.at("server").at("version").is_null());
  const RunResult table = sessionctl({"status", "-u", url});
  check_ok(table);
  CHECK_THAT(table.out, Contains("unknown (INFO not permitted)"));
  CHECK(table.out.find("0 keys") == std::string::npos);
}

TEST_CASE("status without INFO states no fact it does not know", "[status][auth][acl]") {
  RedisServer server(
      ServerOptions{.acl_users = {"reader on >" + kSecret + " ~* resetchannels -@all +@read +@connection"}});
  server.cli_script(fixture());
  const std::string url = server.url("reader:" + kSecret);
  const RunResult r = sessionctl({"status", "-o", "json", "-u", url});
  check_ok(r);
  const json doc = parse_json(r);
  INFO(doc.dump(2));
  CHECK(doc.at("persistence").at("off").is_null());
  CHECK(doc.at("persistence").at("aof_enabled").is_null());
  CHECK(doc.at("persistence").at("rdb_save").is_null());
  CHECK(doc.at("client_no_touch") == false);  // known: it was not turned on

  // Without INFO the server's version is unknown, so neither the table nor the notes may name one.
  const RunResult table = sessionctl({"status", "-u", url});
  check_ok(table);
  CHECK_THAT(table.out, Contains("AOF unknown, RDB unknown"));
  CHECK_THAT(table.out, !Contains("Redis < 7.2") && !Contains("7.2"));
  CHECK_THAT(table.err, !Contains("Redis < 7.2"));
  CHECK_THAT(table.out, Contains("no-touch reads    no ("));
}

TEST_CASE("status over a unix socket", "[status][unix]") {
  RedisServer server(ServerOptions{.unix_socket = true, .requirepass = kSecret});
  server.cli_script(fixture());
  json doc = check_all_formats({"-u", server.unix_url(":" + kSecret)});
  CHECK(doc.at("url") == "unix://:***@" + server.unix_path());
  check_all_formats({"-u", server.unix_url()}, {{"REDIS_PASSWORD", kSecret}});
  check_all_formats({"-u", server.unix_url() + "?db=0"}, {{"REDISCLI_AUTH", kSecret}});
}

TEST_CASE("status selects the db from the URL path, ?db= or --db", "[status][db]") {
  RedisServer server;
  server.cli_script("SELECT 2\n" + fixture());
  const std::string url0 = server.url("", 0);
  const std::string url2 = server.url("", 2);

  json by_path = check_all_formats({"-u", url2});
  CHECK(by_path.at("keyspace").at("db") == 2);
  CHECK(by_path.at("keyspace").at("keys") == 13);
  check_all_formats({"-u", "redis://127.0.0.1:" + std::to_string(server.port()) + "?db=2"});
  json by_flag = check_all_formats({"-u", url0, "--db", "2"});
  CHECK(by_flag.at("keyspace").at("db") == 2);
  check_all_formats({"-u", url2, "--db", "0"}, {}, kNoSessions);
  check_all_formats({"-u", url0}, {}, kNoSessions);
}

TEST_CASE("global flags work before and after the subcommand", "[status][flags]") {
  RedisServer server;
  server.cli_script(fixture());
  const std::string url = server.url();
  const std::vector<std::vector<std::string>> spellings = {
      {"-u", url, "-o", "json", "status"},
      {"status", "-u", url, "-o", "json"},
      {"-o", "json", "status", "-u", url},
      {"--url", url, "status", "--output", "json"},
      {"--url=" + url, "status", "--output=json"},
      {"-u", url, "--connect-timeout", "2s", "status", "--timeout", "10s", "-o", "json", "--no-color", "-q"},
  };
  for (const auto& args : spellings) {
    const RunResult r = sessionctl(args);
    check_ok(r);
    check_status_doc(parse_json(r), kFixtureCounts);
  }
}

TEST_CASE("the URL comes from --url, SESSIONCTL_URL, REDIS_URL, CHANNEL_REDIS_URL, else the default", "[status][env]") {
  RedisServer full;   // the fixture
  RedisServer empty;  // no sessions
  full.cli_script(fixture());
  auto source_and_counts = [](const RunResult& r) {
    check_ok(r);
    json doc = parse_json(r);
    return std::make_pair(doc.at("url_source").get<std::string>(), status_counts(doc));
  };
  EnvOverrides env{{"CHANNEL_REDIS_URL", full.url()}};
  CHECK(source_and_counts(sessionctl({"status", "-o", "json"}, env)) ==
        std::make_pair(std::string("CHANNEL_REDIS_URL"), kFixtureCounts));
  env["REDIS_URL"] = empty.url();
  CHECK(source_and_counts(sessionctl({"status", "-o", "json"}, env)) ==
        std::make_pair(std::string("REDIS_URL"), kNoSessions));
  env["SESSIONCTL_URL"] = full.url();
  CHECK(source_and_counts(sessionctl({"status", "-o", "json"}, env)) ==
        std::make_pair(std::string("SESSIONCTL_URL"), kFixtureCounts));
  CHECK(source_and_counts(sessionctl({"status", "-o", "json", "-u", empty.url()}, env)) ==
        std::make_pair(std::string("--url"), kNoSessions));

  // The table says where the URL came from.
  const RunResult table = sessionctl({"status"}, env);
  check_ok(table);
  CHECK_THAT(table.out, Contains("(from SESSIONCTL_URL)"));

  // Nothing set: redis://127.0.0.1:6379/0. Whether or not a server listens there, the answer says so.
  const RunResult def = sessionctl({"status", "-o", "json", "--connect-timeout", "2s", "--timeout", "5s"});
  INFO(def);
  CHECK_FALSE(def.timed_out);
  if (def.exit_code == 0) {
    CHECK(parse_json(def).at("url_source") == "default");
  } else {
    CHECK(def.exit_code == 3);
    CHECK_THAT(def.err, Contains("127.0.0.1:6379"));
  }
}

TEST_CASE("status --askpass prompts once on the terminal, with the redacted URL", "[status][auth][askpass]") {
  // `script` gives the binary a pseudo-terminal as /dev/tty; the password is typed a moment later,
  // once the prompt has turned echo off.
  REQUIRE(testsupport::find_in_path("script").has_value());  // util-linux; fail loudly rather than skip
  RedisServer server(ServerOptions{.requirepass = kSecret});
  server.cli_script(fixture());
  const std::string command =
      testsupport::sessionctl_bin() + " status --askpass -o json -u " + server.url(":old-password");
  const RunResult r =
      testsupport::run({"sh", "-c", "(sleep 1; printf '%s\\n' \"$PW\") | script -qec \"$CMD\" /dev/null"},
                       {{"PW", kSecret}, {"CMD", command}}, "", 30000);
  INFO(r);
  CHECK_FALSE(r.timed_out);
  CHECK(r.exit_code == 0);
  std::size_t prompts = 0;
  for (auto pos = r.out.find("Password for"); pos != std::string::npos; pos = r.out.find("Password for", pos + 1)) {
    ++prompts;
  }
  CHECK(prompts == 1);
  CHECK_THAT(r.out, Contains("Password for redis://:***@127.0.0.1:"));
  CHECK(r.out.find("old-password") == std::string::npos);
  CHECK_THAT(r.out, Contains("\"schema\": \"sessionctl.status\""));
  CHECK_THAT(r.out, Contains("\"url_source\": \"--url\""));
}
