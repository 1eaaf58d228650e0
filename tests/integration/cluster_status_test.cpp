// status and doctor on a real Redis Cluster (testsupport::RedisCluster): every node with its role and slots,
// keys summed over the primaries, and doctor's cluster findings.
#include <algorithm>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "process.h"
#include "redis_server.h"
#include "sessionctl_cli.h"
#include "topology.h"

using nlohmann::json;
using testsupport::CliCommand;
using testsupport::ClusterOptions;
using testsupport::RedisCluster;
using testsupport::RedisServer;
using testsupport::RunResult;
using testsupport::sessionctl;

namespace {

constexpr int kLoaded = 500;

void load_keys(const RedisCluster& cluster) {
  std::vector<CliCommand> commands;
  for (int i = 0; i < kLoaded; ++i) commands.push_back({"SET", "key:" + std::to_string(i), "v"});
  cluster.load(commands);
}

json run_json(const RedisCluster& cluster, const std::string& command, int expected_exit) {
  const RunResult r = sessionctl({command, "-u", cluster.seed_url(), "-o", "json"}, {}, 60000);
  INFO(r);
  REQUIRE_FALSE(r.timed_out);
  REQUIRE(r.exit_code == expected_exit);
  json doc = json::parse(r.out, nullptr, false);
  REQUIRE_FALSE(doc.is_discarded());
  return doc;
}

const json* finding(const json& doctor, const std::string& code) {
  for (const auto& f : doctor.at("findings")) {
    if (f.at("code") == code) return &f;
  }
  return nullptr;
}

// The cluster object's checks that hold for any healthy cluster of `nodes` nodes.
void check_cluster(const json& status, std::size_t nodes, std::size_t primaries) {
  const json& c = status.at("cluster");
  REQUIRE(c.is_object());
  CHECK(c.at("state") == "ok");
  CHECK(c.at("slots_covered") == testsupport::kClusterSlots);
  REQUIRE(c.at("nodes").size() == nodes);
  int slots = 0;
  long long keys = 0;
  std::size_t seen_primaries = 0;
  for (const auto& n : c.at("nodes")) {
    INFO(n.dump());
    CHECK(n.at("reachable") == true);
    CHECK((n.at("role") == "primary" || n.at("role") == "replica"));
    if (n.at("role") == "primary") {
      ++seen_primaries;
      slots += n.at("slots").get<int>();
      keys += n.at("keys").get<long long>();
      CHECK(n.at("slot_ranges").size() >= 1);
    } else {
      CHECK(n.at("slots") == 0);
      CHECK(n.at("primary_id").is_string());
    }
    CHECK(n.at("maxmemory_policy").is_string());
    CHECK(n.at("persistence").at("aof_enabled").is_boolean());
  }
  CHECK(seen_primaries == primaries);
  CHECK(slots == testsupport::kClusterSlots);
  CHECK(keys == kLoaded);
  CHECK(status.at("keyspace").at("keys") == kLoaded);
}

}  // namespace

TEST_CASE("status on 3 primaries lists each with its slots, and doctor reports them without a replica",
          "[cluster][status][doctor]") {
  RedisCluster cluster;
  load_keys(cluster);
  check_cluster(run_json(cluster, "status", 0), 3, 3);

  const RunResult table = sessionctl({"status", "-u", cluster.seed_url()}, {}, 60000);
  INFO(table);
  REQUIRE(table.exit_code == 0);
  CHECK(table.out.find("NODE") != std::string::npos);
  CHECK(table.out.find("16384 of 16384 slots covered") != std::string::npos);

  const json doctor = run_json(cluster, "doctor", 1);
  const json* lonely = finding(doctor, "primary_without_replica");
  REQUIRE(lonely);
  CHECK(lonely->at("count") == 3);
  CHECK(finding(doctor, "maxmemory_policy_differs") == nullptr);

  // One node with another policy: doctor names it.
  RedisServer* odd = cluster.primaries().at(1);
  odd->cli({"CONFIG", "SET", "maxmemory-policy", "allkeys-lru"});
  const json again = run_json(cluster, "doctor", 1);
  const json* differs = finding(again, "maxmemory_policy_differs");
  REQUIRE(differs);
  const std::string endpoint = "127.0.0.1:" + std::to_string(odd->port());
  CHECK(differs->at("examples") == json::array({endpoint}));
  CHECK(differs->at("message").get<std::string>().find("allkeys-lru on " + endpoint) != std::string::npos);
}

TEST_CASE("status on 3+3 lists 6 nodes, and doctor finds every primary replicated", "[cluster][status][doctor]") {
  RedisCluster cluster(ClusterOptions{.replicas_per_primary = 1});
  load_keys(cluster);
  cluster.wait_ok();
  check_cluster(run_json(cluster, "status", 0), 6, 3);
  const RunResult r = sessionctl({"doctor", "-u", cluster.seed_url(), "-o", "json"}, {}, 60000);
  INFO(r);
  json doctor = json::parse(r.out, nullptr, false);
  REQUIRE_FALSE(doctor.is_discarded());
  CHECK(finding(doctor, "primary_without_replica") == nullptr);
  CHECK(finding(doctor, "cluster_state") == nullptr);
  CHECK(finding(doctor, "slots_uncovered") == nullptr);
}
