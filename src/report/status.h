// `status`: what an on-call engineer checks first, gathered as data and rendered per format.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "redis/client.h"
#include "render/emit.h"
#include "render/terminal.h"
#include "session/profile.h"
#include "util/bytes.h"

namespace sessionctl {

struct ProfileStatus {
  std::string profile;
  long long sessions = 0;
  std::optional<long long> default_ttl_ms;
};

// One cluster node as status shows it; the INFO- and CONFIG-derived fields are unknown unless info_known
// (or rdb_save_known), and all of them when the node is not reachable.
struct NodeStatus {
  std::string endpoint, id;
  std::string role;                        // "primary" or "replica"
  std::string primary_id;                  // a replica's primary; "" for a primary
  std::vector<std::pair<int, int>> slots;  // owned slot ranges, inclusive
  bool reachable = true;
  bool info_known = false;
  long long db_keys = 0, db_expires = 0, used_memory = 0, maxmemory = 0, evicted_keys = 0;
  std::string maxmemory_policy;
  std::optional<bool> aof_enabled;
  std::string rdb_save;  // CONFIG GET save; "" = off
  bool rdb_save_known = false;

  // Slots in `slots`.
  int slot_count() const;
  // As StatusReport::persistence_off(), for this node.
  std::optional<bool> persistence_off() const;
};

// A Redis Cluster's state and every node, primaries and replicas.
struct ClusterStatus {
  std::string state;      // INFO cluster's cluster_state ("ok", "fail")
  int slots_covered = 0;  // slots some reachable primary owns
  std::vector<NodeStatus> nodes;
};

struct StatusReport : Report {
  std::string url;         // redacted
  std::string url_source;  // --url, SESSIONCTL_URL…
  std::string version, mode, role, os;
  bool info_known = true;  // false when INFO was denied: the INFO-derived fields below are unknown, not zero
  long long uptime_s = 0, connected_clients = 0;
  bool loading = false;
  // Persistence
  std::optional<bool> aof_enabled;
  std::string appendfsync;  // from CONFIG (may be unknown)
  std::string rdb_save;     // CONFIG GET save; "" = RDB snapshots off
  bool rdb_save_known = false;
  long long rdb_changes_since_save = 0, rdb_last_save_time = 0;
  std::string rdb_last_bgsave_status, aof_last_write_status;
  // Memory
  long long used_memory = 0, maxmemory = 0, evicted_keys = 0;
  std::string maxmemory_policy;
  int db = 0;
  long long db_keys = 0, db_expires = 0;
  redis::NoTouch no_touch = redis::NoTouch::unsupported;  // whether CLIENT NO-TOUCH is on, and why not
  std::optional<redis::SentinelView> sentinel;            // set when the URL named sentinels
  std::optional<ClusterStatus> cluster;                   // set on a Redis Cluster
  std::vector<ProfileStatus> profiles;
  long long unknown_sessions = 0;
  std::vector<std::string> notes;  // what could not be read and why

  std::optional<double> memory_percent() const;
  // True when neither AOF nor RDB snapshots are on; nullopt when INFO or CONFIG could not tell. On a cluster:
  // true only when off on every primary, false when on for any.
  std::optional<bool> persistence_off() const;
  nlohmann::json to_json() const override;                    // status_to_json()
  std::string to_table(const Terminal& term) const override;  // render_status()
};

// Reads INFO, CONFIG (where allowed) and counts sessions per profile. Read-only. Without `count_sessions`
// (smoke) only the server's facts: no scan, and no note about CLIENT NO-TOUCH, which only reads need.
StatusReport gather_status(redis::Client& client, const ProfileSet& profiles, redis::NoTouch no_touch,
                           bool count_sessions = true);

// Parses "key:value" lines of an INFO reply (sections merged).
std::vector<std::pair<std::string, std::string>> parse_info(const std::string& info);

// A node's INFO fields (keys of db `db`, memory, eviction policy, AOF) into `node`; sets info_known.
void read_node_info(NodeStatus& node, const std::string& info, int db);

// The cluster-wide figures of `report` from its nodes: keys, keys with TTL, memory, maxmemory and evicted
// keys summed over the reachable primaries whose INFO was read.
void apply_cluster_totals(StatusReport& report);

nlohmann::json status_to_json(const StatusReport& report);
std::string render_status(const StatusReport& report, const Terminal& term);

}  // namespace sessionctl
