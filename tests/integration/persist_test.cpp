// persist-test against real servers: the spawn matrix reproduces the table (FAIL where sessions
// are lost, with the keys), a spawned AOF server keeps everything through a crash, app-restart and ttl
// pass on a server and on a 3-primary cluster, --restart-cmd restarts and waits, and the bad inputs (a
// failing restart command, Redis never coming back, no redis-server, a read-only replica, an ACL without
// writes, an unknown scenario) each give their exit code and leave no canary behind.
#include <signal.h>
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <future>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "process.h"
#include "redis_server.h"
#include "session/profile.h"
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

json doc_of(const RunResult& r) {
  INFO(r);
  json doc = json::parse(r.out, nullptr, false);
  REQUIRE_FALSE(doc.is_discarded());
  REQUIRE(doc.at("schema") == "sessionctl.persist-test");
  return doc;
}

void check_junit_valid(const std::string& path) {
  const RunResult r = testsupport::run(
      {"xmllint", "--noout", "--schema", std::string(SESSIONCTL_SOURCE_DIR) + "/tests/junit.xsd", path});
  INFO(r);
  REQUIRE(r.exit_code == 0);
}

long long dbsize(const RedisServer& s) { return std::stoll(s.cli({"DBSIZE"})); }

// The built-in profiles: every scenario runs for each.
std::size_t profile_count() { return sessionctl::ProfileSet::builtin().all().size(); }

std::map<std::string, std::string> results_of(const json& doc, const std::string& group) {
  std::map<std::string, std::string> out;
  for (const auto& c : doc.at("checks"))
    if (c.at("group") == group) out[c.at("name").get<std::string>()] = c.at("result").get<std::string>();
  return out;
}

}  // namespace

TEST_CASE("persist-test --spawn-matrix reproduces which settings lose sessions", "[persist][integration][spawn]") {
  testsupport::TempDir dir;
  const std::string junit = dir.file("matrix.xml");
  const RunResult r =
      testsupport::sessionctl({"persist-test", "--spawn-matrix", "-o", "json", "--junit", junit}, {}, 120000);
  CHECK(r.exit_code == 1);  // sessions are lost in some cells: that is what it must see
  const json doc = doc_of(r);
  std::map<std::string, std::pair<std::string, std::string>> table;
  for (const auto& row : doc.at("matrix"))
    table[row.at("setting").get<std::string>()] = {row.at("graceful").get<std::string>(),
                                                   row.at("crash").get<std::string>()};
  using Cell = std::pair<std::string, std::string>;
  CHECK(table.at("none (save '', no AOF)") == Cell{"all lost", "all lost"});
  CHECK(table.at("RDB only (save 3600 1)") == Cell{"all kept", "all lost"});
  CHECK(table.at("AOF everysec") == Cell{"all kept", "all kept"});
  // Each lost session is named with its key.
  bool evidence = false;
  for (const auto& c : doc.at("checks")) {
    if (c.at("result") == "fail" && !c.at("evidence").empty()) {
      evidence = true;
      CHECK(c.at("evidence").at(0).at("got") == "missing");
    }
  }
  CHECK(evidence);
  check_junit_valid(junit);
  const std::size_t per_profile = 100 / profile_count();
  CHECK_THAT(testsupport::read_file(junit), Contains("<failure message=\"" + std::to_string(per_profile) + " of " +
                                                     std::to_string(per_profile) + " sessions lost"));
  CHECK_THAT(r.out, Contains("\"crash_lost\""));
}

TEST_CASE("persist-test --spawn with AOF keeps every session through a crash", "[persist][integration][spawn]") {
  const RunResult r = testsupport::sessionctl({"persist-test", "--spawn", "--spawn-config", "appendonly=yes", "--crash",
                                               "--scenario", "redis-restart", "-o", "json"},
                                              {}, 60000);
  INFO(r);
  CHECK(r.exit_code == 0);
  const auto results = results_of(doc_of(r), "redis-restart");
  CHECK(results.size() == 1 + profile_count());  // the restart and one check per profile
  for (const auto& [name, result] : results) CHECK(result == "pass");
  const RunResult lost = testsupport::sessionctl({"persist-test", "--spawn", "--spawn-config", "save=", "--scenario",
                                                  "redis-restart", "--sessions", std::to_string(2 * profile_count())},
                                                 {}, 60000);
  INFO(lost);
  CHECK(lost.exit_code == 1);
  CHECK_THAT(lost.out, Contains("2 of 2 sessions lost"));
}

TEST_CASE("persist-test app-restart and ttl pass on a server and leave nothing behind", "[persist][integration]") {
  RedisServer server;
  server.cli_script("SET unrelated keep\nZADD trt:active_sessions 10 someone\nSET session:chat:1 someone\n");
  testsupport::TempDir dir;
  const std::string junit = dir.file("persist.xml");
  const RunResult r = sctl(server, {"persist-test", "-o", "json", "--junit", junit}, 60000);
  INFO(r);
  CHECK(r.exit_code == 0);
  const json doc = doc_of(r);
  const auto app = results_of(doc, "app-restart");
  CHECK(app.size() == profile_count());
  for (const auto& [name, result] : app) CHECK(result == "pass");
  const auto ttl = results_of(doc, "ttl");
  CHECK(ttl.size() == 3 * profile_count());
  for (const auto& [name, result] : ttl) CHECK(result == "pass");
  CHECK(results_of(doc, "redis-restart").at("") == "skip");  // no way to restart the target was given
  CHECK(results_of(doc, "redis-unavailable").at("") == "skip");
  const auto multi = results_of(doc, "multi-instance");
  CHECK(multi.size() == profile_count() + 2);
  for (const auto& [name, result] : multi)
    CHECK(result == (name == "telegram vote" || name == "trt exchange count" ? "info" : "pass"));
  bool found_leftovers = false;
  bool counted_votes = false;
  for (const auto& c : doc.at("checks")) {
    if (c.at("name") == "trt expiry") found_leftovers = c.at("data").at("left_behind").size() == 2;
    if (c.at("name") == "telegram vote") {
      // Votes go on the canary's proposal; its own first vote is not counted among the updates.
      const auto& d = c.at("data");
      INFO(d.dump());
      CHECK(d.at("kept").get<long long>() >= 1);
      CHECK(d.at("kept").get<long long>() <= d.at("updates").get<long long>());
      CHECK(d.at("lost").get<long long>() == d.at("updates").get<long long>() - d.at("kept").get<long long>());
      counted_votes = true;
    }
  }
  CHECK(counted_votes);
  CHECK(found_leftovers);
  CHECK(dbsize(server) == 3);
  CHECK(server.cli({"ZRANGE", "trt:active_sessions", "0", "-1"}) == "someone\n");
  check_junit_valid(junit);
}

TEST_CASE("persist-test --restart-cmd waits while the restarted server is still LOADING its dataset",
          "[persist][integration]") {
  RedisServer server(ServerOptions{.config = {{"enable-debug-command", "yes"}}});
  server.cli({"DEBUG", "POPULATE", "3000000", "bulk", "64"});  // a dataset that takes seconds to load
  testsupport::TempDir dir;
  const std::string done = dir.file("command-done");
  // The command stops the server (saving it) and returns a second later; the test starts the server
  // again meanwhile, which then spends seconds LOADING after the command has returned.
  const std::string command =
      "redis-cli -p " + std::to_string(server.port()) + " SHUTDOWN SAVE; sleep 1; date +%s%N > " + done;
  const auto t0 = std::chrono::steady_clock::now();
  auto run = std::async(std::launch::async, [&] {
    return sctl(server,
                {"persist-test", "--scenario", "redis-restart", "--restart-cmd", command, "--sessions", "20",
                 "--restart-timeout", "60s", "-o", "json"},
                90000);
  });
  while (server.running() && std::chrono::steady_clock::now() - t0 < std::chrono::seconds(60))
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  server.start();  // returns once the dataset is loaded
  const long long loaded_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  const RunResult r = run.get();
  INFO(r);
  const std::string done_text = testsupport::read_file(done);
  REQUIRE_FALSE(done_text.empty());
  // The premise: the restart command had returned while the server was still loading.
  REQUIRE(std::stoll(done_text) < loaded_ns);
  CHECK(r.exit_code == 0);
  const json doc = doc_of(r);
  for (const auto& [name, result] : results_of(doc, "redis-restart")) CHECK(result == "pass");
  CHECK(std::stoll(server.cli({"DBSIZE"})) == 3000000);  // the canaries removed, the dataset kept
}

TEST_CASE("persist-test --restart-cmd restarts the target and waits for it", "[persist][integration]") {
  RedisServer server(ServerOptions{.config = {{"enable-debug-command", "yes"}}});
  const std::string cli = "redis-cli -p " + std::to_string(server.port());
  SECTION("a restart that keeps the data (DEBUG RELOAD: save, flush, load)") {
    const RunResult r = sctl(
        server, {"persist-test", "--scenario", "redis-restart", "--restart-cmd", cli + " DEBUG RELOAD", "-o", "json"});
    INFO(r);
    CHECK(r.exit_code == 0);
    for (const auto& [name, result] : results_of(doc_of(r), "redis-restart")) CHECK(result == "pass");
  }
  SECTION("a restart that loses it (FLUSHALL stands in for a store without persistence)") {
    const RunResult r = sctl(
        server, {"persist-test", "--scenario", "redis-restart", "--restart-cmd", cli + " FLUSHALL", "--sessions", "5"});
    INFO(r);
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.out, Contains("1 of 1 sessions lost"));
  }
  SECTION("a restart command that fails is exit 2") {
    const RunResult r =
        sctl(server, {"persist-test", "--scenario", "redis-restart", "--restart-cmd", "echo broken >&2; exit 7"});
    check_error(r, 2);
    CHECK_THAT(r.err, Contains("exit 7"));
    CHECK_THAT(r.err, Contains("broken"));
  }
  CHECK(dbsize(server) == 0);
}

TEST_CASE("persist-test: Redis never back after the restart command is exit 3 in bounded time",
          "[persist][integration][errors]") {
  RedisServer server;
  const auto t0 = std::chrono::steady_clock::now();
  const RunResult r =
      sctl(server, {"persist-test", "--scenario", "redis-restart", "--restart-cmd",
                    "redis-cli -p " + std::to_string(server.port()) + " SHUTDOWN NOSAVE", "--restart-timeout", "2s"});
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(15));
  check_error(r, 3);
  CHECK_THAT(r.err, Contains("did not come back"));
}

TEST_CASE("persist-test refuses bad input and unwritable targets", "[persist][integration][errors]") {
  SECTION("no redis-server for --spawn") {
    const RunResult r =
        testsupport::sessionctl({"persist-test", "--spawn", "--redis-server", "/nonexistent/redis-server"});
    check_error(r, 2);
  }
  SECTION("an unknown scenario") {
    const RunResult r = testsupport::sessionctl({"persist-test", "--spawn", "--scenario", "reboot"});
    check_error(r, 2);
    CHECK_THAT(r.err, Contains("app-restart"));
  }
  SECTION("a read-only replica") {
    RedisServer primary;
    RedisServer replica(ServerOptions{.config = {{"replicaof", "127.0.0.1 " + std::to_string(primary.port())}}});
    const RunResult r = sctl(replica, {"persist-test", "--scenario", "app-restart"});
    INFO(r);
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.out, Contains("READONLY"));
    CHECK(dbsize(primary) == 0);
  }
  SECTION("an ACL user who may not write") {
    RedisServer server(
        ServerOptions{.acl_users = {"reader on >" + testsupport::kSecret + " ~* +@read +@connection +info"}});
    const RunResult r =
        testsupport::sctl_as(server, "reader:" + testsupport::kSecret, {"persist-test", "--scenario", "ttl"});
    INFO(r);
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.out, Contains("NOPERM"));
    testsupport::check_no_secret(r);
    CHECK(dbsize(server) == 0);
  }
}

TEST_CASE("persist-test app-restart, multi-instance and ttl on a 3-primary cluster",
          "[persist][integration][cluster]") {
  RedisCluster cluster;
  const RunResult r = testsupport::sessionctl({"persist-test", "-u", cluster.seed_url(), "--scenario", "app-restart",
                                               "--scenario", "ttl", "--scenario", "multi-instance", "-o", "json"},
                                              {}, 60000);
  INFO(r);
  CHECK(r.exit_code == 0);
  const json doc = doc_of(r);
  CHECK(results_of(doc, "app-restart").size() == profile_count());
  CHECK(results_of(doc, "ttl").size() == 3 * profile_count());
  CHECK(results_of(doc, "multi-instance").size() == profile_count() + 2);
  for (auto* node : cluster.primaries()) CHECK(dbsize(*node) == 0);
}

TEST_CASE("persist-test redis-unavailable: operations fail fast while Redis is down, and all is intact after",
          "[persist][integration]") {
  SECTION("a spawned server, stopped and started by the runner") {
    const RunResult r = testsupport::sessionctl({"persist-test", "--spawn", "--spawn-config", "appendonly=yes",
                                                 "--scenario", "redis-unavailable", "-o", "json"},
                                                {}, 60000);
    INFO(r);
    CHECK(r.exit_code == 0);
    const json doc = doc_of(r);
    const auto results = results_of(doc, "redis-unavailable");
    CHECK(results.size() == 1 + profile_count());
    for (const auto& [name, result] : results) CHECK(result == "pass");
    for (const auto& c : doc.at("checks"))
      if (c.at("name") == "fail fast") CHECK(c.at("data").at("failed").get<int>() >= 1);
  }
  SECTION("the target, restarted while --restart-cmd runs") {
    RedisServer server(ServerOptions{.config = {{"appendonly", "yes"}}});
    // The restart command only waits; the test stops and starts the server meanwhile, as systemctl would.
    auto run = std::async(std::launch::async, [&] {
      return sctl(server, {"persist-test", "--scenario", "redis-unavailable", "--restart-cmd", "sleep 3", "-o", "json",
                           "--connect-timeout", "1s"});
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(1800));
    server.stop();
    std::this_thread::sleep_for(std::chrono::milliseconds(1000));
    server.start();
    const RunResult r = run.get();
    INFO(r);
    CHECK(r.exit_code == 0);
    const json doc = doc_of(r);
    for (const auto& c : doc.at("checks")) {
      if (c.at("name") != "fail fast") continue;
      CHECK(c.at("result") == "pass");
      CHECK(c.at("data").at("failed").get<int>() >= 3);
      CHECK(c.at("data").at("slowest_ms").get<long long>() < 2000);
      // The first failure named is a connection error: refused while down, or reset by the server going
      // down under a probe's read (seen under ASan, where the probe is slower).
      CHECK_THAT(c.at("message").get<std::string>(),
                 Contains("cannot connect") || Contains("connection lost") || Contains("Connection reset"));
    }
    CHECK(dbsize(server) == 0);
  }
}

TEST_CASE("persist-test redis-unavailable on a 3-primary cluster restarted while --restart-cmd runs",
          "[persist][integration][cluster]") {
  testsupport::ClusterOptions options;
  options.node.config = {{"appendonly", "yes"}, {"appendfsync", "always"}};
  RedisCluster cluster(options);
  // The restart command only waits; the test stops every primary, starts them again and waits for the
  // cluster to be ok, as an operator's rolling restart script would before it returns.
  auto run = std::async(std::launch::async, [&] {
    return testsupport::sessionctl({"persist-test", "-u", cluster.seed_url(), "--scenario", "redis-unavailable",
                                    "--restart-cmd", "sleep 8", "-o", "json", "--connect-timeout", "1s"},
                                   {}, 60000);
  });
  const auto primaries = cluster.primaries();  // asked of the nodes, so asked before they stop
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  for (auto* node : primaries) node->stop();
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  for (auto* node : primaries) node->start();
  cluster.wait_ok();
  const RunResult r = run.get();
  INFO(r);
  CHECK(r.exit_code == 0);
  const json doc = doc_of(r);
  const auto results = results_of(doc, "redis-unavailable");
  CHECK(results.size() == 1 + profile_count());  // fail fast, and one check per profile after the restart
  for (const auto& [name, result] : results) CHECK(result == "pass");
  for (const auto& c : doc.at("checks")) {
    if (c.at("name") != "fail fast") continue;
    CHECK(c.at("data").at("failed").get<int>() >= 3);
    CHECK(c.at("data").at("slowest_ms").get<long long>() < 2000);
  }
  for (auto* node : primaries) CHECK(dbsize(*node) == 0);
}

TEST_CASE("persist-test: SIGINT while the restart command runs stops the command and removes the canaries",
          "[persist][integration]") {
  RedisServer server;
  testsupport::TempDir dir;
  const std::string sleeper = dir.file("sleep.pid");
  // Without the interrupt reaching it, the command would run 30 s.
  const pid_t pid = testsupport::spawn({testsupport::sessionctl_bin(), "-u", server.url(), "persist-test", "--scenario",
                                        "redis-restart", "--restart-cmd", "sleep 30 & echo $! > " + sleeper + "; wait"},
                                       {}, testsupport::SpawnFds{});
  std::this_thread::sleep_for(std::chrono::milliseconds(2000));  // the canaries written, the settle over
  REQUIRE(dbsize(server) > 0);
  const auto t0 = std::chrono::steady_clock::now();
  ::kill(pid, SIGINT);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(5));
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 130);
  CHECK(dbsize(server) == 0);
  // The command's own child is gone too: no such process, or a zombie nobody has reaped yet.
  const std::string sleep_pid = testsupport::read_file(sleeper);
  REQUIRE_FALSE(sleep_pid.empty());
  bool gone = false;
  for (int i = 0; i < 50 && !gone; ++i) {
    std::ifstream stat("/proc/" + std::to_string(std::stol(sleep_pid)) + "/stat");
    std::string pid_field, name, state;
    gone = !(stat >> pid_field >> name >> state) || state == "Z";
    if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  CHECK(gone);
}

TEST_CASE("persist-test: SIGTERM part way removes every canary, also those without a TTL", "[persist][integration]") {
  RedisServer server;
  // ttl writes short-lived canaries (trt's :meta without a TTL, as the app writes it) and waits for them to expire.
  const pid_t pid =
      testsupport::spawn({testsupport::sessionctl_bin(), "-u", server.url(), "persist-test", "--scenario", "ttl"}, {},
                         testsupport::SpawnFds{});
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  ::kill(pid, SIGTERM);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 130);
  CHECK(dbsize(server) == 0);
}
