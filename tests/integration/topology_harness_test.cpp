// Checks the topology harness (tests/support/topology.h) against real redis-server and redis-cli:
// clusters and sentinel sets come up as they say, and their helpers change what they say. No sessionctl here.
#include <sys/stat.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <csignal>
#include <string>
#include <vector>

#include "process.h"
#include "redis_server.h"
#include "topology.h"

using Catch::Matchers::Contains;
using testsupport::CliCommand;
using testsupport::ClusterOptions;
using testsupport::RedisCluster;
using testsupport::RedisServer;
using testsupport::RunResult;
using testsupport::SentinelOptions;
using testsupport::SentinelSet;
using testsupport::ServerOptions;

namespace {

std::string field(const std::string& info, const std::string& name) {
  const auto at = info.find(name + ":");
  if (at == std::string::npos) return "";
  const auto start = at + name.size() + 1;
  return info.substr(start, info.find_first_of("\r\n", start) - start);
}

std::string trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

// The first line of ROLE: "master" or "slave".
std::string role(const RedisServer& node) {
  const std::string out = node.cli({"ROLE"});
  return out.substr(0, out.find('\n'));
}

std::vector<CliCommand> set_commands(const std::string& prefix, int count) {
  std::vector<CliCommand> commands;
  commands.reserve(static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i) commands.push_back({"SET", prefix + std::to_string(i), "v" + std::to_string(i)});
  return commands;
}

int dbsize(const RedisServer& node) { return std::stoi(node.cli({"DBSIZE"})); }

bool process_alive(pid_t pid) { return ::kill(pid, 0) == 0; }

bool path_exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

}  // namespace

TEST_CASE("free_cluster_port leaves room for the bus port below 50000", "[cluster][harness]") {
  for (int i = 0; i < 50; ++i) {
    const int port = testsupport::free_cluster_port();
    CHECK(port >= 20000);
    CHECK(port + testsupport::kClusterBusOffset < 50000);
  }
}

TEST_CASE("key_hash_slot agrees with CLUSTER KEYSLOT, hash tags included", "[cluster][harness]") {
  RedisCluster cluster;
  for (const std::string key : {"", "a", "session:1", "{user1000}.following", "foo{}{bar}", "foo{{bar}}zap", "{}x",
                                "x{", "éü", "{tag}a", "{tag}b"}) {
    INFO(key);
    CHECK(testsupport::key_hash_slot(key) == cluster.slot_of(key));
  }
  CHECK(testsupport::key_hash_slot("{tag}a") == testsupport::key_hash_slot("{tag}b"));
  CHECK(testsupport::key_hash_slot("123456789") == (0x31C3 & 16383));  // CRC16/XMODEM's check value
}

TEST_CASE("a 3-primary cluster serves all 16384 slots, every node agrees and load spreads keys", "[cluster][harness]") {
  RedisCluster cluster;
  REQUIRE(cluster.nodes().size() == 3);
  const auto primaries = cluster.primaries();
  REQUIRE(primaries.size() == 3);
  CHECK(cluster.replicas().empty());
  std::size_t slots = 0;
  for (auto* primary : primaries) {
    const auto own = cluster.slots_of(*primary);
    CHECK_FALSE(own.empty());
    slots += own.size();
  }
  CHECK(slots == 16384);
  for (auto* node : cluster.nodes()) {
    const std::string info = node->cli({"CLUSTER", "INFO"});
    CHECK(field(info, "cluster_state") == "ok");
    CHECK(field(info, "cluster_known_nodes") == "3");
    CHECK(node->port() + testsupport::kClusterBusOffset < 50000);
    CHECK(path_exists(node->dir() + "/nodes.conf"));
  }
  CHECK(cluster.url_of(1) == "redis://127.0.0.1:" + std::to_string(cluster.nodes()[1]->port()) + "/0");
  CHECK(cluster.seed_url() == cluster.url_of(0));
  CHECK(&cluster.node_at(primaries[2]->port()) == primaries[2]);
  CHECK_THROWS_AS(cluster.node_at(1), std::out_of_range);

  cluster.load(set_commands("key:", 3000));
  int total = 0;
  for (auto* primary : primaries) {
    const int keys = dbsize(*primary);
    CHECK(keys > 500);
    total += keys;
  }
  CHECK(total == 3000);
  // Each key landed where the cluster routes it: GET on its owner answers without a redirect.
  for (const std::string key : {"key:0", "key:1234", "key:2999"}) {
    RedisServer* owner = cluster.owner_of_slot(cluster.slot_of(key));
    REQUIRE(owner != nullptr);
    CHECK(owner->cli({"GET", key}) == "v" + key.substr(4) + "\n");
  }
  CHECK_THROWS_AS(cluster.load({{"PING"}}), std::invalid_argument);
  CHECK_THROWS_AS(cluster.load({{"LPUSH", "key:0", "x"}}), std::runtime_error);  // WRONGTYPE
}

TEST_CASE("3 primaries with one replica each: every replica is linked and in sync", "[cluster][harness]") {
  RedisCluster cluster(ClusterOptions{.replicas_per_primary = 1});
  REQUIRE(cluster.nodes().size() == 6);
  const auto primaries = cluster.primaries();
  REQUIRE(primaries.size() == 3);
  CHECK(cluster.replicas().size() == 3);
  for (std::size_t i = 0; i < primaries.size(); ++i) {
    const auto replicas = cluster.replicas_of(i);
    REQUIRE(replicas.size() == 1);
    const std::string info = replicas[0]->cli({"INFO", "replication"});
    CHECK(field(info, "master_port") == std::to_string(primaries[i]->port()));
    CHECK(field(info, "master_link_status") == "up");
    // A write to a key this primary owns reaches its replica: WAIT 1 counts it.
    const auto slots = cluster.slots_of(*primaries[i]);
    std::string key;
    for (int n = 0; key.empty(); ++n) {
      const std::string candidate = "k" + std::to_string(n);
      if (std::binary_search(slots.begin(), slots.end(), testsupport::key_hash_slot(candidate))) key = candidate;
    }
    primaries[i]->cli({"SET", key, "x"});
    CHECK(trimmed(primaries[i]->cli({"WAIT", "1", "2000"})) == "1");
  }
}

TEST_CASE("a cluster failover swaps a primary and its replica", "[cluster][harness]") {
  RedisCluster cluster(ClusterOptions{.replicas_per_primary = 1});
  RedisServer* old_primary = cluster.primaries().at(0);
  const auto slots = cluster.slots_of(*old_primary);
  RedisServer* replica = cluster.replicas_of(*old_primary).at(0);

  cluster.failover(*replica);
  CHECK(role(*replica) == "master");
  CHECK(role(*old_primary) == "slave");
  const auto now_replicas = cluster.replicas_of(*replica);
  REQUIRE(now_replicas.size() == 1);
  CHECK(now_replicas[0] == old_primary);
  CHECK(cluster.slots_of(*replica) == slots);
  CHECK(cluster.owner_of_slot(slots.front()) == replica);
  CHECK(cluster.primaries().size() == 3);
  CHECK_THROWS_AS(cluster.failover(*replica), std::logic_error);
}

TEST_CASE("migrate_slot moves a slot and its keys, reshard moves slots, in a password-protected cluster",
          "[cluster][harness]") {
  RedisCluster cluster(ClusterOptions{.replicas_per_primary = 1, .node = ServerOptions{.requirepass = "cl-secret"}});
  // Without the password a node refuses; the replicas linked with masterauth.
  const RunResult anonymous = testsupport::run(
      {"redis-cli", "-e", "-h", "127.0.0.1", "-p", std::to_string(cluster.nodes()[0]->port()), "PING"});
  CHECK_THAT(anonymous.out + anonymous.err, Contains("NOAUTH"));
  CHECK(cluster.replicas().size() == 3);

  const int slot = cluster.slot_of("{moved}");
  RedisServer* from = cluster.owner_of_slot(slot);
  REQUIRE(from != nullptr);
  RedisServer* to = nullptr;
  for (auto* primary : cluster.primaries()) {
    if (primary != from) to = primary;
  }
  REQUIRE(to != nullptr);
  std::vector<CliCommand> commands = set_commands("{moved}:", 250);
  for (auto& command : set_commands("other:", 500)) commands.push_back(command);
  cluster.load(commands);
  const std::string slot_text = std::to_string(slot);
  REQUIRE(trimmed(from->cli({"CLUSTER", "COUNTKEYSINSLOT", slot_text})) == "250");

  cluster.migrate_slot(slot, *from, *to);
  CHECK(cluster.owner_of_slot(slot) == to);
  CHECK(trimmed(to->cli({"CLUSTER", "COUNTKEYSINSLOT", slot_text})) == "250");
  CHECK(trimmed(from->cli({"CLUSTER", "COUNTKEYSINSLOT", slot_text})) == "0");
  CHECK(to->cli({"GET", "{moved}:7"}) == "v7\n");
  for (auto* node : cluster.nodes()) {
    INFO(node->port());
    CHECK_THAT(node->cli({"CLUSTER", "NODES"}), !Contains("->-"));
  }
  // Migrating a slot from a node that does not own it fails loudly.
  CHECK_THROWS_AS(cluster.migrate_slot(slot, *from, *to), std::runtime_error);
  cluster.wait_ok();

  const std::size_t from_before = cluster.slots_of(*from).size();
  const std::size_t to_before = cluster.slots_of(*to).size();
  cluster.reshard(100, *from, *to);
  CHECK(cluster.slots_of(*from).size() == from_before - 100);
  CHECK(cluster.slots_of(*to).size() == to_before + 100);
  int total = 0;
  for (auto* primary : cluster.primaries()) total += dbsize(*primary);
  CHECK(total == 750);
}

TEST_CASE("uncover_slot leaves the cluster failing until cover_slot", "[cluster][harness]") {
  RedisCluster cluster;
  const int slot = cluster.slot_of("hole");
  RedisServer* owner = cluster.owner_of_slot(slot);
  REQUIRE(owner != nullptr);
  cluster.uncover_slot(slot);
  CHECK(cluster.owner_of_slot(slot) == nullptr);
  for (auto* node : cluster.nodes()) {
    const std::string info = node->cli({"CLUSTER", "INFO"});
    CHECK(field(info, "cluster_state") == "fail");
    CHECK(field(info, "cluster_slots_assigned") == "16383");
  }
  const RunResult down = owner->cli_run({"GET", "hole"});
  CHECK_THAT(down.out + down.err, Contains("CLUSTERDOWN"));
  CHECK_THROWS_AS(cluster.wait_ok(std::chrono::milliseconds(200)), std::runtime_error);
  CHECK_THROWS_AS(cluster.load({{"SET", "hole", "x"}}), std::runtime_error);

  cluster.cover_slot(slot, *owner);
  CHECK(cluster.owner_of_slot(slot) == owner);
}

TEST_CASE("a TLS cluster's nodes, bus and redis-cli all speak TLS", "[cluster][harness]") {
  RedisCluster cluster(ClusterOptions{.node = ServerOptions{.tls = true}});
  CHECK(cluster.primaries().size() == 3);
  CHECK_THAT(cluster.seed_url(), Catch::Matchers::StartsWith("rediss://127.0.0.1:"));
  for (auto* node : cluster.nodes()) CHECK(node->ca_file() == cluster.nodes()[0]->ca_file());
  const RunResult plain = testsupport::run(
      {"redis-cli", "-e", "-h", "127.0.0.1", "-p", std::to_string(cluster.nodes()[0]->port()), "PING"}, {}, "", 5000);
  CHECK(plain.exit_code != 0);
  cluster.load(set_commands("tls:", 300));
  const int slot = cluster.slot_of("tls:1");
  RedisServer* from = cluster.owner_of_slot(slot);
  REQUIRE(from != nullptr);
  RedisServer* to = cluster.primaries().at(from == cluster.primaries().at(0) ? 1 : 0);
  cluster.migrate_slot(slot, *from, *to);  // MIGRATE between nodes goes over TLS too
  CHECK(to->cli({"GET", "tls:1"}) == "v1\n");
}

TEST_CASE("a destroyed cluster leaves no process and no directory behind", "[cluster][harness]") {
  std::vector<pid_t> pids;
  std::vector<std::string> dirs;
  {
    RedisCluster cluster(ClusterOptions{.replicas_per_primary = 1});
    for (auto* node : cluster.nodes()) {
      pids.push_back(node->pid());
      dirs.push_back(node->dir());
    }
  }
  REQUIRE(pids.size() == 6);
  for (const pid_t pid : pids) CHECK_FALSE(process_alive(pid));
  for (const auto& dir : dirs) CHECK_FALSE(path_exists(dir));
}

TEST_CASE("a sentinel set: every sentinel knows the primary, the replica and the other two", "[sentinel][harness]") {
  SentinelSet set;
  const auto sentinels = set.sentinels();
  REQUIRE(sentinels.size() == 3);
  CHECK(set.master_name() == "mymaster");
  CHECK(set.sentinel_url() == "redis+sentinel://127.0.0.1:" + std::to_string(sentinels[0]->port()) +
                                  ",127.0.0.1:" + std::to_string(sentinels[1]->port()) +
                                  ",127.0.0.1:" + std::to_string(sentinels[2]->port()) + "/mymaster");
  CHECK(role(set.primary()) == "master");
  CHECK(field(set.replica().cli({"INFO", "replication"}), "master_link_status") == "up");
  for (auto* sentinel : sentinels) {
    CHECK(set.reported_master_port(*sentinel) == set.primary().port());
    CHECK_THAT(sentinel->cli({"INFO", "server"}), Contains("redis_mode:sentinel"));
    CHECK(field(sentinel->cli({"INFO", "sentinel"}), "sentinel_masters") == "1");
  }
}

TEST_CASE("a sentinel failover changes the master the sentinels report", "[sentinel][harness]") {
  SentinelSet set;
  RedisServer& old_primary = set.primary();
  RedisServer& old_replica = set.replica();
  set.primary().cli({"SET", "before", "failover"});
  set.failover();
  CHECK(&set.primary() == &old_replica);
  CHECK(&set.replica() == &old_primary);
  for (auto* sentinel : set.sentinels()) {
    const std::string addr = sentinel->cli({"SENTINEL", "GET-MASTER-ADDR-BY-NAME", "mymaster"});
    CHECK(addr == "127.0.0.1\n" + std::to_string(old_replica.port()) + "\n");
  }
  CHECK(role(old_replica) == "master");
  CHECK(role(old_primary) == "slave");
  CHECK(set.primary().cli({"GET", "before"}) == "failover\n");
}

TEST_CASE("a sentinel set with a data password and a different sentinel password", "[sentinel][harness]") {
  SentinelSet set(SentinelOptions{.master_name = "store", .data_password = "data-pw", .sentinel_password = "sent-pw"});
  const auto refused = [](int port) {
    const RunResult r = testsupport::run({"redis-cli", "-e", "-h", "127.0.0.1", "-p", std::to_string(port), "PING"});
    return (r.out + r.err).find("NOAUTH") != std::string::npos;
  };
  CHECK(refused(set.primary().port()));
  CHECK(refused(set.replica().port()));
  CHECK(refused(set.sentinels()[0]->port()));
  // The data password does not open a sentinel, nor the sentinel password a data node.
  CHECK(set.sentinels()[0]->cli_run({"PING"}, testsupport::CliAuth{"", "data-pw"}).exit_code != 0);
  CHECK(set.primary().cli_run({"PING"}, testsupport::CliAuth{"", "sent-pw"}).exit_code != 0);
  CHECK(field(set.replica().cli({"INFO", "replication"}), "master_link_status") == "up");
  for (auto* sentinel : set.sentinels()) {
    CHECK(set.reported_master_port(*sentinel) == set.primary().port());
    const std::string master = sentinel->cli({"SENTINEL", "MASTER", "store"});
    CHECK_THAT(master, Contains("num-other-sentinels\n2\n"));
  }
  CHECK_THAT(set.sentinel_url(), Catch::Matchers::EndsWith("/store"));
}

TEST_CASE("stop_all_sentinels stops only the sentinels, and nothing is left after the set", "[sentinel][harness]") {
  std::vector<pid_t> pids;
  {
    SentinelSet set;
    for (auto* sentinel : set.sentinels()) pids.push_back(sentinel->pid());
    pids.push_back(set.primary().pid());
    pids.push_back(set.replica().pid());
    set.stop_all_sentinels();
    for (auto* sentinel : set.sentinels()) CHECK_FALSE(sentinel->running());
    CHECK(set.primary().running());
    CHECK(set.replica().running());
    CHECK(set.primary().cli({"PING"}) == "PONG\n");
  }
  REQUIRE(pids.size() == 5);
  for (const pid_t pid : pids) CHECK_FALSE(process_alive(pid));
}
