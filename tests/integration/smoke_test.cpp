// smoke against real servers: every check passing on a healthy server and on a 3-primary cluster (one
// canary per profile on every primary), and each failing form: persistence off under --strict, a
// read-only replica, an ACL user who may not write, maxmemory reached, an unreachable store, a read
// denied after the write, an uncovered cluster slot; a denied CONFIG is a note. No canary is ever left
// behind, not even after SIGTERM, and every JUnit file validates against tests/junit.xsd.
#include <signal.h>
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "process.h"
#include "redis_server.h"
#include "scenario/canary.h"
#include "sessionctl_cli.h"
#include "temp_dir.h"
#include "topology.h"

using Catch::Matchers::Contains;
using nlohmann::json;
using testsupport::check_error;
using testsupport::RedisCluster;
using testsupport::RedisServer;
using testsupport::RunResult;
using testsupport::sctl;
using testsupport::ServerOptions;

namespace {

// xmllint --schema against the Ant JUnit schema kept in tests/: the file must be valid, not only parse.
void check_junit_valid(const std::string& path) {
  const RunResult r = testsupport::run(
      {"xmllint", "--noout", "--schema", std::string(SESSIONCTL_SOURCE_DIR) + "/tests/junit.xsd", path});
  INFO(r);
  REQUIRE(r.exit_code == 0);
}

std::vector<json> checks_of(const json& doc, const std::string& group) {
  std::vector<json> out;
  for (const auto& c : doc.at("checks"))
    if (c.at("group") == group) out.push_back(c);
  return out;
}

json smoke_json(const RunResult& r) {
  INFO(r);
  json doc = json::parse(r.out, nullptr, false);
  REQUIRE_FALSE(doc.is_discarded());
  REQUIRE(doc.at("schema") == "sessionctl.smoke");
  return doc;
}

long long dbsize(const RedisServer& s) { return std::stoll(s.cli({"DBSIZE"})); }

}  // namespace

TEST_CASE("smoke passes on a healthy server, writes a canary per profile and leaves nothing behind",
          "[smoke][integration]") {
  RedisServer server(ServerOptions{.config = {{"appendonly", "yes"}}});
  server.cli_script("SET unrelated:key keep EX 500\nZADD trt:active_sessions 10 someone\n");
  testsupport::TempDir dir;
  const std::string junit = dir.file("smoke.xml");
  const RunResult r = sctl(server, {"smoke", "-o", "json", "--junit", junit, "--strict"});
  INFO(r);
  REQUIRE(r.exit_code == 0);
  const json doc = smoke_json(r);
  CHECK(doc.at("ok") == true);
  const auto canaries = checks_of(doc, "canary");
  std::set<std::string> profiles;
  for (const auto& c : canaries) {
    CHECK(c.at("result") == "pass");
    profiles.insert(c.at("name").get<std::string>());
  }
  std::set<std::string> builtin;
  const sessionctl::ProfileSet profile_set = sessionctl::ProfileSet::builtin();
  for (const auto& p : profile_set.all()) builtin.insert(p.name);
  CHECK(profiles == builtin);
  CHECK(checks_of(doc, "connect").at(0).at("result") == "pass");
  CHECK(checks_of(doc, "server").at(0).at("message").get<std::string>().find("7.") != std::string::npos);
  const auto latency = checks_of(doc, "latency").at(0);
  CHECK(latency.at("data").at("samples").get<int>() > 10);
  CHECK(latency.at("data").at("p50_us").get<long long>() <= latency.at("data").at("max_us").get<long long>());
  // Only what was there before: the canaries' keys and the index member are gone.
  CHECK(dbsize(server) == 2);
  CHECK(server.cli({"ZRANGE", "trt:active_sessions", "0", "-1"}) == "someone\n");
  CHECK(server.cli({"GET", "unrelated:key"}) == "keep\n");
  check_junit_valid(junit);
  const std::string xml = testsupport::read_file(junit);
  CHECK_THAT(xml, Contains("failures=\"0\""));
  CHECK_THAT(xml, Contains("classname=\"sessionctl.smoke.canary\""));
  CHECK_THAT(xml, Contains("hostname=\""));

  SECTION("the table names every check and ends PASS") {
    const RunResult t = sctl(server, {"smoke", "--profile", "btrix"});
    INFO(t);
    CHECK(t.exit_code == 0);
    CHECK_THAT(t.out, Contains("canary btrix"));
    CHECK_THAT(t.out, Contains("PASS"));
    CHECK(dbsize(server) == 2);
  }
}

TEST_CASE("smoke's canaries are sessions of their own profile as list sees them", "[smoke][integration]") {
  RedisServer server;
  const auto connect = [&] {
    sessionctl::redis::ConnectionOptions o;
    o.port = server.port();
    return sessionctl::redis::connect(o);
  };
  const auto profiles = sessionctl::ProfileSet::builtin();
  auto client = connect();
  std::vector<sessionctl::scenario::Canary> canaries;
  for (const auto& p : profiles.all()) {
    canaries.push_back(sessionctl::scenario::make_canary(p, "smoke"));
    REQUIRE(sessionctl::scenario::write_canary(*client, canaries.back()).empty());
    CHECK(sessionctl::scenario::check_canary(*client, canaries.back()).empty());
  }
  const RunResult r = sctl(server, {"list", "-o", "jsonl", "--reveal"});
  INFO(r);
  REQUIRE(r.exit_code == 0);
  std::map<std::string, std::string> profile_of;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) {
    const json j = json::parse(line);
    profile_of[j.at("id").get<std::string>()] = j.at("profile").get<std::string>();
  }
  for (const auto& c : canaries) {
    INFO(c.id);
    CHECK(profile_of[c.id] == c.profile->name);
  }
  // Written as the libraries write them: Spring's fields decode as JDK wrappers, PHP's as its session
  // serialization, and Python's own pickle loads the django canary.
  for (const auto& c : canaries) {
    INFO(c.profile->name);
    if (c.profile->name == "spring") {
      const json doc = testsupport::sctl_json(server, {"inspect", c.id, "--reveal"});
      const json& fields = doc.at("sessions").at(0).at("key_details").at(0).at("value");
      INFO(fields.dump());
      CHECK(fields.at("maxInactiveInterval") == 1800);
      CHECK(fields.at("creationTime").is_number_integer());
      CHECK(fields.at("sessionAttr:sessionctl_canary").is_string());
    } else if (c.profile->name == "telegram") {
      // Seed 003's voting session: participants, and a proposal with votes of its own.
      const json doc = testsupport::sctl_json(server, {"inspect", c.id, "--reveal"});
      const json& value = doc.at("sessions").at(0).at("key_details").at(0).at("value");
      INFO(value.dump());
      CHECK(value.at("participants").is_array());
      CHECK(value.at("proposals").at(0).at("votes").contains("@sessionctl"));
      CHECK(value.at("proposals").at(0).at("open") == true);
    } else if (c.profile->name == "php") {
      const json doc = testsupport::sctl_json(server, {"inspect", c.id, "--reveal"});
      CHECK(doc.at("sessions").at(0).at("key_details").at(0).at("encoding") == "php-session");
    } else if (c.profile->name == "rails") {
      // Ruby's Marshal.dump({"a"=>"b"}) is "\x04\x08{\x06I\"\x06a\x06:\x06ETI\"\x06b\x06;\x00T"; the canary is
      // the same shape with the mark as key ("sessionctl_canary", 17 bytes: fixnum 0x16) and "smoke-" + 12 hex
      // digits as value (18 bytes: 0x17).
      RunResult raw = server.cli_run({"--raw", "GET", c.keys.front().key});
      REQUIRE(raw.exit_code == 0);
      raw.out.pop_back();
      const std::string tag = c.keys.front().items.front().substr(raw.out.size() - 18 - 4, 18);
      CHECK(raw.out == std::string("\x04\x08{\x06I\"\x16sessionctl_canary\x06:\x06", 27) + "ETI\"\x17" + tag +
                           std::string("\x06;\x00T", 4));
    } else if (c.profile->name == "django") {
      const std::string key = c.keys.front().key;
      RunResult raw = server.cli_run({"--raw", "GET", key});
      REQUIRE(raw.exit_code == 0);
      raw.out.pop_back();  // redis-cli's newline
      const RunResult loaded = testsupport::run(
          {"python3", "-c", "import pickle,sys; print(pickle.loads(sys.stdin.buffer.read())['sessionctl_canary'])"}, {},
          raw.out);
      INFO(loaded);
      CHECK(loaded.exit_code == 0);
      CHECK_THAT(loaded.out, Contains("smoke-"));
    }
  }
  const RunResult doctor = sctl(server, {"doctor", "-o", "json"});
  INFO(doctor);
  CHECK(doctor.out.find("\"orphan\"") == std::string::npos);  // the index entries point at live sessions
  for (const auto& c : canaries) CHECK(sessionctl::scenario::remove_canary(*client, c).empty());
  CHECK(dbsize(server) == 0);
}

TEST_CASE("smoke: persistence off warns, and fails with --strict", "[smoke][integration]") {
  RedisServer server;  // the harness's default: save "" and no AOF
  testsupport::TempDir dir;
  const RunResult lenient = sctl(server, {"smoke", "-o", "json"});
  REQUIRE(lenient.exit_code == 0);
  const auto config = checks_of(smoke_json(lenient), "config");
  REQUIRE(config.size() == 1);
  CHECK(config.at(0).at("name") == "persistence_off");
  CHECK(config.at(0).at("result") == "warn");

  const std::string junit = dir.file("strict.xml");
  const RunResult strict = sctl(server, {"smoke", "--strict", "--junit", junit});
  INFO(strict);
  CHECK(strict.exit_code == 1);
  CHECK_THAT(strict.err, Contains("smoke failed: 1 check"));
  CHECK_THAT(strict.out, Contains("FAIL"));
  check_junit_valid(junit);
  const std::string xml = testsupport::read_file(junit);
  CHECK_THAT(xml, Contains("<failure message=\"persistence is off"));
  CHECK(dbsize(server) == 0);
}

TEST_CASE("smoke fails on a read-only replica, an ACL user who may not write and a full server",
          "[smoke][integration][errors]") {
  testsupport::TempDir dir;
  SECTION("a read-only replica") {
    RedisServer primary;
    RedisServer replica(ServerOptions{.config = {{"replicaof", "127.0.0.1 " + std::to_string(primary.port())}}});
    const std::string junit = dir.file("replica.xml");
    const RunResult r = sctl(replica, {"smoke", "-o", "json", "--junit", junit});
    CHECK(r.exit_code == 1);
    const json doc = smoke_json(r);
    CHECK(checks_of(doc, "server").at(0).at("result") == "fail");
    CHECK_THAT(checks_of(doc, "server").at(0).at("message").get<std::string>(), Contains("read-only replica"));
    for (const auto& c : checks_of(doc, "canary")) {
      CHECK(c.at("result") == "fail");
      CHECK_THAT(c.at("message").get<std::string>(), Contains("READONLY"));
    }
    check_junit_valid(junit);
    CHECK(dbsize(primary) == 0);
  }
  SECTION("an ACL user who may read but not write") {
    RedisServer server(
        ServerOptions{.acl_users = {"reader on >" + testsupport::kSecret + " ~* +@read +@connection +info"}});
    const RunResult r = testsupport::sctl_as(server, "reader:" + testsupport::kSecret, {"smoke", "-o", "json"});
    CHECK(r.exit_code == 1);
    testsupport::check_no_secret(r);
    for (const auto& c : checks_of(smoke_json(r), "canary")) {
      CHECK(c.at("result") == "fail");
      CHECK_THAT(c.at("message").get<std::string>(), Contains("NOPERM"));
    }
    CHECK(dbsize(server) == 0);
  }
  SECTION("maxmemory reached with noeviction") {
    RedisServer server(ServerOptions{.config = {{"maxmemory", "1"}, {"maxmemory-policy", "noeviction"}}});
    const RunResult r = sctl(server, {"smoke", "-o", "json"});
    CHECK(r.exit_code == 1);
    for (const auto& c : checks_of(smoke_json(r), "canary"))
      CHECK_THAT(c.at("message").get<std::string>(), Contains("OOM"));
    CHECK(dbsize(server) == 0);
  }
  SECTION("a read refused after the write: the canary is still removed") {
    RedisServer server(
        ServerOptions{.acl_users = {"writer on >" + testsupport::kSecret +
                                    " ~* +@write +@connection +info +pttl +exists -get -hgetall -lrange -zscore"}});
    const RunResult r = testsupport::sctl_as(server, "writer:" + testsupport::kSecret, {"smoke", "-o", "json"});
    CHECK(r.exit_code == 1);
    for (const auto& c : checks_of(smoke_json(r), "canary")) {
      CHECK(c.at("result") == "fail");
      CHECK_FALSE(c.at("evidence").empty());
    }
    CHECK(dbsize(server) == 0);
  }
}

TEST_CASE("smoke: a denied CONFIG is a note, not a failure, even with --strict", "[smoke][integration]") {
  RedisServer server(ServerOptions{.acl_users = {"app on >" + testsupport::kSecret + " ~* +@all -config"}});
  const RunResult r = testsupport::sctl_as(server, "app:" + testsupport::kSecret, {"smoke", "--strict", "-o", "json"});
  INFO(r);
  CHECK(r.exit_code == 0);
  const auto config = checks_of(smoke_json(r), "config");
  REQUIRE(config.size() == 1);
  CHECK(config.at(0).at("result") == "skip");
  CHECK_THAT(config.at(0).at("message").get<std::string>(), Contains("not permitted"));
}

TEST_CASE("smoke: an unreachable store is exit 3, and the JUnit file says so", "[smoke][integration][errors]") {
  testsupport::TempDir dir;
  const std::string junit = dir.file("down.xml");
  const int port = testsupport::free_port();
  const RunResult r = testsupport::sessionctl(
      {"smoke", "-u", "redis://127.0.0.1:" + std::to_string(port), "--connect-timeout", "2s", "--junit", junit});
  INFO(r);
  check_error(r, 3);
  check_junit_valid(junit);
  CHECK_THAT(testsupport::read_file(junit), Contains("<error message="));
}

TEST_CASE("smoke: SIGTERM while a canary is being written leaves no canary behind", "[smoke][integration]") {
  RedisServer server;
  // Writes wait while the clients are paused: the canary's SET is on its way when SIGTERM comes.
  server.cli({"CLIENT", "PAUSE", "1500", "WRITE"});
  testsupport::TempDir dir;
  const pid_t pid = testsupport::spawn(
      {testsupport::sessionctl_bin(), "-u", server.url(), "smoke", "--profile", "btrix"}, {}, testsupport::SpawnFds{});
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  ::kill(pid, SIGTERM);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 130);
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // the pause is over: anything queued has run
  CHECK(server.cli({"KEYS", "*sessionctl*"}) == "\n");           // redis-cli prints an empty array as an empty line
  CHECK(dbsize(server) == 0);
}

TEST_CASE("smoke on a 3-primary cluster: a canary per profile on every primary, and an uncovered slot fails",
          "[smoke][integration][cluster]") {
  RedisCluster cluster;
  testsupport::TempDir dir;
  const std::string junit = dir.file("cluster.xml");
  const RunResult r =
      testsupport::sessionctl({"smoke", "-u", cluster.seed_url(), "-o", "json", "--junit", junit}, {}, 30000);
  INFO(r);
  REQUIRE(r.exit_code == 0);
  const json doc = smoke_json(r);
  CHECK(checks_of(doc, "cluster").at(0).at("result") == "pass");
  std::map<std::string, std::set<std::string>> targets;  // profile -> primaries
  for (const auto& c : checks_of(doc, "canary")) {
    CHECK(c.at("result") == "pass");
    targets[c.at("name").get<std::string>()].insert(c.at("target").get<std::string>());
  }
  CHECK(targets.size() == sessionctl::ProfileSet::builtin().all().size());
  std::set<std::string> primaries;
  for (auto* p : cluster.primaries()) primaries.insert("127.0.0.1:" + std::to_string(p->port()));
  for (const auto& [profile, on] : targets) CHECK(on == primaries);
  for (auto* node : cluster.primaries()) CHECK(dbsize(*node) == 0);
  check_junit_valid(junit);

  const int slot = cluster.slot_of("state:anything");
  cluster.uncover_slot(slot);
  const RunResult broken = testsupport::sessionctl({"smoke", "-u", cluster.seed_url(), "-o", "json"}, {}, 30000);
  INFO(broken);
  CHECK(broken.exit_code == 1);
  const json bad = smoke_json(broken);
  CHECK(checks_of(bad, "cluster").at(0).at("result") == "fail");
  for (auto* node : cluster.primaries()) CHECK(dbsize(*node) == 0);
}

TEST_CASE("smoke over TLS with a password says so and passes, and a wrong CA is exit 3", "[smoke][integration][tls]") {
  RedisServer server(ServerOptions{.tls = true, .requirepass = testsupport::kSecret});
  const RunResult r = testsupport::sessionctl({"smoke", "-u", server.url(":" + testsupport::kSecret), "--cacert",
                                               server.ca_file(), "--profile", "btrix", "-o", "json"});
  INFO(r);
  CHECK(r.exit_code == 0);
  testsupport::check_no_secret(r);
  const json doc = smoke_json(r);
  CHECK_THAT(checks_of(doc, "connect").at(0).at("message").get<std::string>(), Contains("with TLS"));
  CHECK(checks_of(doc, "canary").at(0).at("result") == "pass");
  const RunResult wrong = testsupport::sessionctl(
      {"smoke", "-u", server.url(":" + testsupport::kSecret), "--cacert", server.untrusted_ca_file()});
  check_error(wrong, 3);
}
