// status and doctor on a Redis Cluster, from StatusReport data: per-node INFO, the cluster-wide totals
// (primaries only), the JSON `cluster` object and the NODES table, and doctor's cluster findings.
#include <algorithm>
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "render/terminal.h"
#include "report/doctor.h"
#include "report/status.h"

using Catch::Matchers::Contains;
using sessionctl::ClusterStatus;
using sessionctl::config_findings;
using sessionctl::Finding;
using sessionctl::NodeStatus;
using sessionctl::StatusReport;
using sessionctl::Terminal;

namespace {

NodeStatus node(const std::string& endpoint, const std::string& id, const std::string& role,
                const std::string& primary_id, std::vector<std::pair<int, int>> slots, long long keys) {
  NodeStatus n;
  n.endpoint = endpoint;
  n.id = id;
  n.role = role;
  n.primary_id = primary_id;
  n.slots = std::move(slots);
  n.info_known = true;
  n.db_keys = keys;
  n.used_memory = 1000;
  n.maxmemory_policy = "noeviction";
  n.aof_enabled = true;
  n.rdb_save = "3600 1";
  n.rdb_save_known = true;
  return n;
}

// 3 primaries, each with a replica, everything healthy and alike.
StatusReport healthy_cluster() {
  StatusReport s;
  s.aof_enabled = true;
  s.rdb_save = "3600 1";
  s.rdb_save_known = true;
  s.maxmemory_policy = "noeviction";
  ClusterStatus c;
  c.state = "ok";
  c.slots_covered = 16384;
  c.nodes = {node("h:1", "a", "primary", "", {{0, 5460}}, 10),
             node("h:2", "b", "primary", "", {{5461, 10922}}, 20),
             node("h:3", "c", "primary", "", {{10923, 16383}}, 30),
             node("h:4", "d", "replica", "a", {}, 10),
             node("h:5", "e", "replica", "b", {}, 20),
             node("h:6", "f", "replica", "c", {}, 30)};
  s.cluster = c;
  sessionctl::apply_cluster_totals(s);
  return s;
}

std::vector<std::string> codes(const std::vector<Finding>& findings) {
  std::vector<std::string> out;
  for (const auto& f : findings) out.push_back(f.code);
  return out;
}

const Finding* find(const std::vector<Finding>& findings, const std::string& code) {
  auto it = std::find_if(findings.begin(), findings.end(), [&](const Finding& f) { return f.code == code; });
  return it == findings.end() ? nullptr : &*it;
}

}  // namespace

TEST_CASE("read_node_info takes a node's keys, memory, policy and AOF from its INFO", "[status][cluster]") {
  NodeStatus n;
  sessionctl::read_node_info(n,
                             "# Memory\r\nused_memory:2048\r\nmaxmemory:4096\r\nmaxmemory_policy:volatile-lru\r\n"
                             "# Persistence\r\naof_enabled:0\r\n# Stats\r\nevicted_keys:7\r\n"
                             "# Keyspace\r\ndb0:keys=12,expires=5,avg_ttl=0\r\ndb1:keys=99,expires=0,avg_ttl=0\r\n",
                             0);
  CHECK(n.info_known);
  CHECK(n.used_memory == 2048);
  CHECK(n.maxmemory == 4096);
  CHECK(n.maxmemory_policy == "volatile-lru");
  CHECK(n.aof_enabled == false);
  CHECK(n.evicted_keys == 7);
  CHECK(n.db_keys == 12);
  CHECK(n.db_expires == 5);
}

TEST_CASE("cluster totals count primaries only, and persistence is off only when off on every primary",
          "[status][cluster]") {
  StatusReport s = healthy_cluster();
  CHECK(s.db_keys == 60);
  CHECK(s.used_memory == 3000);
  CHECK(s.persistence_off() == false);

  for (auto& n : s.cluster->nodes) {
    n.aof_enabled = false;
    n.rdb_save = "";
  }
  CHECK(s.persistence_off() == true);
  s.cluster->nodes[1].aof_enabled = true;  // one primary keeps its sessions
  CHECK(s.persistence_off() == false);
  s.cluster->nodes[1].aof_enabled = false;
  s.cluster->nodes[4].aof_enabled = true;  // a replica does not count
  CHECK(s.persistence_off() == true);

  s.cluster->nodes[2].reachable = false;  // an unreachable primary's figures are unknown, not zero
  sessionctl::apply_cluster_totals(s);
  CHECK(s.db_keys == 30);
  CHECK_FALSE(s.persistence_off().has_value());
}

TEST_CASE("status JSON has a cluster object with every node, null outside a cluster", "[status][cluster]") {
  StatusReport single;
  CHECK(sessionctl::status_to_json(single).at("cluster").is_null());

  StatusReport s = healthy_cluster();
  s.cluster->nodes[5].reachable = false;
  const auto doc = sessionctl::status_to_json(s);
  CHECK(doc.at("schema") == sessionctl::status_to_json(single).at("schema"));
  const auto& c = doc.at("cluster");
  CHECK(c.at("state") == "ok");
  CHECK(c.at("slots_covered") == 16384);
  REQUIRE(c.at("nodes").size() == 6);
  const auto& first = c.at("nodes")[0];
  CHECK(first.at("endpoint") == "h:1");
  CHECK(first.at("role") == "primary");
  CHECK(first.at("slots") == 5461);
  CHECK(first.at("slot_ranges") == nlohmann::json::parse("[[0,5460]]"));
  CHECK(first.at("keys") == 10);
  CHECK(first.at("maxmemory_policy") == "noeviction");
  CHECK(first.at("persistence").at("aof_enabled") == true);
  CHECK(first.at("persistence").at("off") == false);
  CHECK(c.at("nodes")[3].at("primary_id") == "a");
  CHECK(c.at("nodes")[5].at("reachable") == false);
  CHECK(c.at("nodes")[5].at("keys").is_null());
  CHECK(doc.at("keyspace").at("keys") == 60);
}

TEST_CASE("status table shows a NODES table under the rows on a cluster", "[status][cluster]") {
  const std::string out = sessionctl::render_status(healthy_cluster(), Terminal::plain());
  CHECK_THAT(out, Contains("state ok, 16384 of 16384 slots covered, 6 nodes"));
  CHECK_THAT(out, Contains("NODE"));
  CHECK_THAT(out, Contains("0-5460"));
  CHECK_THAT(out, Contains("replica"));
  CHECK(out.find("NODE") < out.find("PROFILE"));
}

TEST_CASE("doctor finds nothing in a healthy 3+3 cluster", "[doctor][cluster]") {
  CHECK(config_findings(healthy_cluster()).empty());
}

TEST_CASE("doctor reports cluster_state not ok and names the uncovered slots", "[doctor][cluster]") {
  StatusReport s = healthy_cluster();
  s.cluster->state = "fail";
  s.cluster->nodes[1].slots = {{5461, 5999}, {6001, 10922}};
  const auto f = config_findings(s);
  REQUIRE(find(f, "cluster_state"));
  CHECK_THAT(find(f, "cluster_state")->fix, Contains("redis-cli --cluster check h:1"));
  REQUIRE(find(f, "slots_uncovered"));
  CHECK_THAT(find(f, "slots_uncovered")->message, Contains("6000"));
  CHECK(find(f, "slots_uncovered")->count == 1);

  s.cluster->nodes[2].reachable = false;  // its slots are served by nobody now
  const auto g = config_findings(s);
  REQUIRE(find(g, "slots_uncovered"));
  CHECK_THAT(find(g, "slots_uncovered")->message, Contains("6000, 10923-16383"));
  REQUIRE(find(g, "cluster_node_unreachable"));
  CHECK(find(g, "cluster_node_unreachable")->examples == std::vector<std::string>{"h:3"});
  CHECK_THAT(find(g, "cluster_node_unreachable")->fix, Contains("redis-cli -h h -p 3 PING"));
}

TEST_CASE("doctor names the primaries without a replica", "[doctor][cluster]") {
  StatusReport s = healthy_cluster();
  s.cluster->nodes.resize(4);  // only "a" keeps its replica
  const auto f = config_findings(s);
  REQUIRE(find(f, "primary_without_replica"));
  CHECK(find(f, "primary_without_replica")->examples == std::vector<std::string>{"h:2", "h:3"});
  CHECK_THAT(find(f, "primary_without_replica")->fix, Contains("CLUSTER REPLICATE b"));
}

TEST_CASE("doctor names the nodes that disagree on maxmemory-policy or persistence", "[doctor][cluster]") {
  StatusReport s = healthy_cluster();
  s.cluster->nodes[2].maxmemory_policy = "allkeys-lru";
  s.cluster->nodes[4].aof_enabled = false;
  s.cluster->nodes[4].rdb_save = "";
  const auto f = config_findings(s);
  REQUIRE(codes(f) == std::vector<std::string>{"maxmemory_policy_differs", "persistence_differs"});
  CHECK_THAT(f[0].message, Contains("allkeys-lru on h:3"));
  CHECK(f[0].examples == std::vector<std::string>{"h:3"});
  CHECK_THAT(f[0].fix, Contains("redis-cli -h h -p 3 CONFIG SET maxmemory-policy noeviction"));
  CHECK(f[1].examples == std::vector<std::string>{"h:5"});
  CHECK_THAT(f[1].message, Contains("AOF off, RDB off on h:5"));
}
