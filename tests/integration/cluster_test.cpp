// Every reading command against a real Redis Cluster (testsupport::RedisCluster): exact counts from any
// node, a session whose keys sit in different slots, resharding and failover during a list, bad
// clusters as one error line in bounded time, and passwords that never show.
#include <algorithm>
#include <atomic>
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
#include "sessionctl_cli.h"
#include "temp_dir.h"
#include "topology.h"

using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
using nlohmann::json;
using testsupport::check_error;
using testsupport::check_no_secret;
using testsupport::CliCommand;
using testsupport::ClusterOptions;
using testsupport::EnvOverrides;
using testsupport::kSecret;
using testsupport::RedisCluster;
using testsupport::RedisServer;
using testsupport::RunResult;
using testsupport::sessionctl;

namespace {

using Clock = std::chrono::steady_clock;
constexpr long long kFixtureSessions = 9;

std::vector<CliCommand> btrix_sessions(int n, const std::string& prefix = "bt") {
  std::vector<CliCommand> out;
  out.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i)
    out.push_back({"SET", "state:" + prefix + std::to_string(i),
                   R"({"current":"WELCOME","data":{},"history":[],"updatedAt":"2026-11-22T03:55:00Z"})", "EX", "3600"});
  return out;
}

// The sample fixture through redis-cli -c (it follows MOVED for each command).
void load_fixture(const RedisCluster& cluster) {
  const RunResult r =
      cluster.nodes().at(0)->cli_run({"-c"}, std::nullopt, testsupport::fixture("sample_sessions.redis"));
  INFO(r);
  REQUIRE(r.exit_code == 0);
}

std::vector<std::string> ids_of_jsonl(const std::string& out) {
  std::vector<std::string> ids;
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const json j = json::parse(line, nullptr, false);
    REQUIRE_FALSE(j.is_discarded());
    ids.push_back(j.at("id").get<std::string>());
  }
  return ids;
}

// Exactly `want` btrix ids bt0..bt<want-1> (plus `extra` other sessions), none twice.
void check_exact(const std::vector<std::string>& ids, int want, long long extra) {
  const std::set<std::string> distinct(ids.begin(), ids.end());
  CHECK(distinct.size() == ids.size());
  CHECK(ids.size() == static_cast<std::size_t>(want + extra));
  for (int i = 0; i < want; i += 97) CHECK(distinct.count("bt" + std::to_string(i)) == 1);
  int have = 0;
  for (int i = 0; i < want; ++i) have += static_cast<int>(distinct.count("bt" + std::to_string(i)));
  CHECK(have == want);
}

RunResult list_jsonl(const std::string& url, std::vector<std::string> more = {}, int timeout_ms = 60000) {
  std::vector<std::string> a = {"list", "-o", "jsonl", "-u", url};
  a.insert(a.end(), more.begin(), more.end());
  return sessionctl(a, {}, timeout_ms);
}

}  // namespace

TEST_CASE("cluster: list counts exactly from every node, stats and doctor agree", "[cluster][integration]") {
  RedisCluster cluster;
  constexpr int n = 3000;
  cluster.load(btrix_sessions(n));
  load_fixture(cluster);
  for (std::size_t i = 0; i < 3; ++i) {
    INFO("seed node " << i);
    const RunResult r = list_jsonl(cluster.url_of(i));
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    check_exact(ids_of_jsonl(r.out), n, kFixtureSessions);
  }
  const RunResult st = sessionctl({"stats", "-o", "json", "-u", cluster.seed_url()});
  INFO(st);
  REQUIRE(st.exit_code == 0);
  long long stats_total = 0;
  const json stats = json::parse(st.out);
  for (const auto& p : stats.at("profiles")) stats_total += p.at("sessions").get<long long>();
  CHECK(stats_total == n + kFixtureSessions);
  const RunResult doc = sessionctl({"doctor", "-o", "json", "-u", cluster.url_of(1)});
  INFO(doc);
  REQUIRE(doc.exit_code <= 1);
  CHECK(json::parse(doc.out).at("sessions_checked") == n + kFixtureSessions);
}

TEST_CASE("cluster: inspect shows a trt session whose keys sit in different slots", "[cluster][integration]") {
  RedisCluster cluster;
  load_fixture(cluster);
  const std::vector<std::string> keys = {"trt:session:user_12345:state", "trt:session:user_12345:history",
                                         "trt:session:user_12345:meta", "trt:active_sessions"};
  std::set<int> slots;
  std::set<RedisServer*> owners;
  for (const auto& k : keys) {
    slots.insert(cluster.slot_of(k));
    owners.insert(cluster.owner_of_slot(cluster.slot_of(k)));
  }
  REQUIRE(slots.size() == keys.size());
  CHECK(owners.size() > 1);
  const RunResult r = sessionctl({"inspect", "-o", "json", "user_12345", "-u", cluster.seed_url()});
  INFO(r);
  REQUIRE(r.exit_code == 0);
  const json doc = json::parse(r.out);
  REQUIRE(doc.at("sessions").size() == 1);
  const json& s = doc.at("sessions").at(0);
  std::set<std::string> shown;
  for (const auto& k : s.at("key_details")) shown.insert(k.at("key").get<std::string>());
  INFO(s.dump(2));
  // The three keys of the session, and the index entry (in its own slot) read from its owner too.
  for (std::size_t i = 0; i + 1 < keys.size(); ++i) CHECK(shown.count(keys[i]) == 1);
  CHECK(shown.size() == 3);
  REQUIRE(s.at("indexes").size() == 1);
  CHECK(s.at("indexes").at(0).at("key") == keys.back());
  CHECK(s.at("indexes").at(0).at("present") == true);
}

TEST_CASE("cluster: a resharding during list loses and repeats nothing", "[cluster][integration][reshard]") {
  ClusterOptions options;
  options.node.acl_users = {"noslots on >" + kSecret + " ~* &* +@all -cluster|getkeysinslot"};
  RedisCluster cluster(options);
  constexpr int n = 20000;
  cluster.load(btrix_sessions(n));
  for (const bool fallback : {false, true}) {
    INFO((fallback ? "SCAN fallback" : "slot mode"));
    std::vector<RedisServer*> p = cluster.primaries();
    RedisServer& from = fallback ? *p.at(1) : *p.at(0);
    RedisServer& to = fallback ? *p.at(2) : *p.at(1);
    std::atomic<bool> done{false};
    std::atomic<bool> stop{false};  // slots keep moving until the list is over, no longer
    std::string failure;
    std::thread mover([&] {
      try {
        const auto own = cluster.slots_of(from);
        for (std::size_t i = 0; i < 400 && i < own.size() && !stop; ++i) cluster.migrate_slot(own[i], from, to);
      } catch (const std::exception& e) {
        failure = e.what();
      }
      done = true;
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    const bool moving_at_start = !done;
    const auto t0 = Clock::now();
    const RunResult r = list_jsonl(fallback ? cluster.seed_url("noslots:" + kSecret) : cluster.seed_url(), {}, 120000);
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count();
    const bool moving_at_end = !done;
    stop = true;
    mover.join();
    INFO("list took " << took << " ms; migration still running at end: " << moving_at_end);
    INFO(r.err);
    REQUIRE(failure.empty());
    CHECK(moving_at_start);
    CHECK_FALSE(r.timed_out);
    check_no_secret(r);
    if (!fallback || r.exit_code == 0) {
      REQUIRE(r.exit_code == 0);
      check_exact(ids_of_jsonl(r.out), n, 0);
    } else {
      CHECK(r.exit_code == 3);
      CHECK_THAT(r.err, Contains("slot"));
    }
    cluster.wait_ok();
  }
}

// A node's last slots all migrating when the scan reaches them: they are read later from both nodes, and
// the keys the node's reader still held from the slots before them are handed on too (they were dropped
// when a round found no stable slot left to read: a failover lost up to a batch of sessions with exit 0).
TEST_CASE("cluster: the last slots of a node migrating lose none of the sessions before them",
          "[cluster][integration][reshard]") {
  RedisCluster cluster;
  constexpr int n = 6000;
  cluster.load(btrix_sessions(n));
  std::vector<RedisServer*> p = cluster.primaries();
  RedisServer& from = *p.at(0);
  RedisServer& to = *p.at(1);
  const std::vector<int> owned = cluster.slots_of(from);
  // The reader sizes its rounds by keys per slot (scan.cpp: a third of SCAN COUNT's keys, here well under
  // one a slot): 66, 132, 261, 507 stable slots, then 512 each, so rounds end near 966 + 512 * k stable
  // slots. The migrating tail starts at each of 16 places around k = 7; at one of them a round ends
  // exactly where it begins. (Without the hand-on after the loop it lists 3,857 of 6,000 at the first.)
  constexpr std::size_t kFirst = 966 + 512 * 7 - 8;
  constexpr std::size_t kPlaces = 16;
  REQUIRE(owned.size() > kFirst + kPlaces + 100);
  std::string importing, migrating;
  for (std::size_t i = kFirst; i < owned.size(); ++i) {
    const std::string setslot = "CLUSTER SETSLOT " + std::to_string(owned[i]);
    importing += setslot + " IMPORTING " + cluster.id_of(from) + "\n";
    migrating += setslot + " MIGRATING " + cluster.id_of(to) + "\n";
  }
  to.cli_script(importing);
  from.cli_script(migrating);
  // A few keys of the last slots already moved, as a migration leaves them: only the importing node has them.
  const std::set<int> last(owned.end() - 100, owned.end());
  int moved_keys = 0;
  for (int i = 0; i < n && moved_keys < 20; ++i) {
    const std::string key = "state:bt" + std::to_string(i);
    if (last.count(cluster.slot_of(key)) == 0) continue;
    from.cli({"MIGRATE", "127.0.0.1", std::to_string(to.port()), key, "0", "5000"});
    ++moved_keys;
  }
  REQUIRE(moved_keys == 20);
  for (std::size_t place = 0; place < kPlaces; ++place) {
    INFO("stable slots before the migrating ones: " << kFirst + place);
    const RunResult r = list_jsonl(cluster.url_of(2));
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    check_exact(ids_of_jsonl(r.out), n, 0);
    const std::string done = "CLUSTER SETSLOT " + std::to_string(owned[kFirst + place]) + " STABLE\n";
    to.cli_script(done);
    from.cli_script(done);
  }
}

TEST_CASE("cluster: a failover during list, and --replicas lists exactly", "[cluster][integration][failover]") {
  ClusterOptions options;
  options.replicas_per_primary = 1;
  RedisCluster cluster(options);
  constexpr int n = 30000;
  cluster.load(btrix_sessions(n));
  for (RedisServer* primary : cluster.primaries()) REQUIRE(primary->cli({"WAIT", "1", "10000"}) == "1\n");
  {
    const RunResult r = list_jsonl(cluster.seed_url(), {"--replicas"});
    INFO("--replicas, no failover");
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    check_exact(ids_of_jsonl(r.out), n, 0);
  }
  RedisServer* replica = cluster.replicas_of(0).at(0);
  std::string failure;
  std::thread t([&] {
    try {
      cluster.failover(*replica);
    } catch (const std::exception& e) {
      failure = e.what();
    }
  });
  const RunResult r = list_jsonl(cluster.seed_url());
  t.join();
  REQUIRE(failure.empty());
  INFO("list during a failover");
  INFO(r.err);
  CHECK_FALSE(r.timed_out);
  if (r.exit_code == 0) {
    check_exact(ids_of_jsonl(r.out), n, 0);
  } else {
    CHECK(r.exit_code == 3);
    CHECK_THAT(r.err, StartsWith("sessionctl: error: "));
  }
}

// --single-node on a node of a 3-primary cluster: that node's sessions only, and stats and doctor work
// though the ACL probe key and the TRT index hash to other nodes (they stopped at the first MOVED).
TEST_CASE("cluster: --single-node reads one node of the cluster as a store of its own", "[cluster][integration]") {
  RedisCluster cluster;
  load_fixture(cluster);
  cluster.load(btrix_sessions(900));
  for (std::size_t i = 0; i < 3; ++i) {
    RedisServer& node = *cluster.primaries().at(i);
    int here = 0;
    for (int k = 0; k < 900; ++k)
      here += cluster.owner_of_slot(cluster.slot_of("state:bt" + std::to_string(k))) == &node ? 1 : 0;
    const RunResult r = sessionctl({"list", "-o", "jsonl", "--single-node", "--profile", "btrix", "-u", node.url()});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    std::vector<std::string> ids;
    for (const auto& id : ids_of_jsonl(r.out))
      if (id.rfind("bt", 0) == 0 && id.find_first_not_of("0123456789", 2) == std::string::npos) ids.push_back(id);
    CHECK(ids.size() == static_cast<std::size_t>(here));
    for (const auto& id : ids) CHECK(cluster.owner_of_slot(cluster.slot_of("state:" + id)) == &node);
    const RunResult st = sessionctl({"stats", "-o", "json", "--single-node", "-u", node.url()});
    INFO(st.err);
    CHECK(st.exit_code == 0);
    const RunResult doc = sessionctl({"doctor", "-o", "json", "--single-node", "-u", node.url()});
    INFO(doc.err);
    CHECK(doc.exit_code <= 1);
  }
}

TEST_CASE("cluster: over TLS every node is verified with the one CA, and a wrong CA or plain URL is exit 3",
          "[cluster][integration][tls]") {
  RedisCluster cluster(ClusterOptions{.node = testsupport::ServerOptions{.tls = true}});
  constexpr int n = 2000;
  cluster.load(btrix_sessions(n));
  RedisServer& seed = *cluster.primaries().at(0);
  const std::string ca = seed.ca_file();
  {
    const RunResult r = list_jsonl(cluster.seed_url(), {"--cacert", ca});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    check_exact(ids_of_jsonl(r.out), n, 0);
  }
  {
    // A session whose key lives on another node than the one the URL names: reached over TLS too.
    std::string id;
    for (int i = 0; i < n && id.empty(); ++i)
      if (cluster.owner_of_slot(cluster.slot_of("state:bt" + std::to_string(i))) != &seed)
        id = "bt" + std::to_string(i);
    REQUIRE_FALSE(id.empty());
    const RunResult r = sessionctl({"inspect", "-o", "json", id, "-u", seed.url(), "--cacert", ca});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(json::parse(r.out).at("sessions").size() == 1);
  }
  {
    const RunResult r = sessionctl({"status", "-o", "json", "-u", seed.url(), "--cacert", ca});
    INFO(r.err);
    REQUIRE(r.exit_code <= 1);
    CHECK(json::parse(r.out).at("cluster").at("nodes").size() == 3);
  }
  {
    const RunResult r = list_jsonl(seed.url(), {"--cacert", seed.untrusted_ca_file()}, 20000);
    check_error(r, 3);
    CHECK_THAT(r.err, Contains("--cacert"));
  }
  {
    std::string plain = seed.url();
    plain.replace(0, std::string("rediss").size(), "redis");
    const RunResult r = list_jsonl(plain, {}, 20000);
    check_error(r, 3);
  }
}

TEST_CASE("cluster: a stopped node, an uncovered slot and a dead primary are exit 3 in bounded time",
          "[cluster][integration][errors]") {
  RedisCluster cluster;
  cluster.load(btrix_sessions(500));
  std::vector<RedisServer*> p = cluster.primaries();
  const std::vector<int> dead_slots = cluster.slots_of(*p.at(2));
  {
    INFO("an uncovered slot");
    const int slot = cluster.slot_of("state:bt7");
    RedisServer* owner = cluster.owner_of_slot(slot);
    cluster.uncover_slot(slot);
    const auto t0 = Clock::now();
    const RunResult r = list_jsonl(cluster.seed_url(), {}, 15000);
    CHECK(Clock::now() - t0 < std::chrono::seconds(10));
    check_error(r, 3);
    CHECK_THAT(r.err, Contains(std::to_string(slot)));
    cluster.cover_slot(slot, *owner);
  }
  {
    INFO("a primary killed, no replica");
    p.at(2)->stop(true);
    const auto t0 = Clock::now();
    const RunResult r = list_jsonl(cluster.url_of(0), {}, 60000);
    CHECK(Clock::now() - t0 < std::chrono::seconds(40));
    CHECK_FALSE(r.timed_out);
    CHECK(r.exit_code == 3);
    INFO(r.err);
    CHECK(
        (r.err.find(std::to_string(p.at(2)->port())) != std::string::npos || r.err.find("slot") != std::string::npos));
  }
  {
    INFO("the dead primary marked failed: a point lookup fails at once and names it, not a resharding");
    const auto marked = Clock::now() + std::chrono::seconds(20);
    while (Clock::now() < marked && p.at(0)->cli({"CLUSTER", "NODES"}).find("master,fail") == std::string::npos)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    REQUIRE_THAT(p.at(0)->cli({"CLUSTER", "NODES"}), Contains("master,fail"));
    std::string id_there;  // a session whose key lives on the dead primary
    for (int i = 0; id_there.empty(); ++i) {
      const int slot = cluster.slot_of("state:bt" + std::to_string(i));
      if (std::find(dead_slots.begin(), dead_slots.end(), slot) != dead_slots.end())
        id_there = "bt" + std::to_string(i);
    }
    const auto t0 = Clock::now();
    const RunResult r = sessionctl({"inspect", id_there, "-u", cluster.url_of(0)}, {}, 30000);
    CHECK(Clock::now() - t0 < std::chrono::seconds(3));
    check_error(r, 3);
    CHECK_THAT(r.err, Contains(std::to_string(p.at(2)->port())));
    CHECK_THAT(r.err, Contains("no replica"));
    CHECK_THAT(r.err, !Contains("resharding"));
  }
  {
    INFO("the URL names the port of the stopped node");
    const auto t0 = Clock::now();
    const RunResult r = list_jsonl(p.at(2)->url(), {}, 30000);
    CHECK(Clock::now() - t0 < std::chrono::seconds(10));
    check_error(r, 3);
  }
}

TEST_CASE("cluster: requirepass on every node from REDISCLI_AUTH or --password-file", "[cluster][integration][auth]") {
  ClusterOptions options;
  options.node.requirepass = kSecret;
  RedisCluster cluster(options);
  cluster.load(btrix_sessions(1000));
  testsupport::TempDir dir;
  const std::string pw_file = dir.write("pw", kSecret + "\n");
  {
    const RunResult r =
        sessionctl({"list", "-o", "jsonl", "-u", cluster.seed_url()}, EnvOverrides{{"REDISCLI_AUTH", kSecret}});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    check_no_secret(r);
    check_exact(ids_of_jsonl(r.out), 1000, 0);
  }
  {
    const RunResult r = list_jsonl(cluster.url_of(2), {"--password-file", pw_file});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    check_no_secret(r);
    check_exact(ids_of_jsonl(r.out), 1000, 0);
  }
  {
    const RunResult r = list_jsonl(cluster.seed_url());
    check_error(r, 4);
  }
}
