#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "redis_server.h"
#include "temp_dir.h"

namespace testsupport {

// Slots in a Redis Cluster.
inline constexpr int kClusterSlots = 16384;

// One command as redis-cli words, e.g. {"SET", "k", "v"}.
using CliCommand = std::vector<std::string>;

// The hash slot Redis Cluster gives `key`: CRC16 (XMODEM) of its {hash tag} if it has a non-empty one,
// else of the whole key, mod 16384.
int key_hash_slot(std::string_view key);

// The shape of a RedisCluster.
struct ClusterOptions {
  // Primaries; redis-cli --cluster create needs at least 3.
  int primaries = 3;
  // Replicas per primary (redis-cli --cluster-replicas); 0 or more.
  int replicas_per_primary = 0;
  // cluster-node-timeout: how long an unreachable node takes to be marked failed.
  int node_timeout_ms = 2000;
  // Passed to every node: requirepass (also written as masterauth), acl_users, tls (one CA for all
  // nodes, tls-cluster and tls-replication on) and extra config lines, which override the harness's.
  ServerOptions node{};
};

// A real Redis Cluster on 127.0.0.1: every node a RedisServer with cluster-enabled yes and nodes.conf in
// its dir, on a free_cluster_port(). Create and destroy it on one thread (as RedisServer).
// Roles are read from the nodes each time (ROLE, CLUSTER NODES), so they stay right after a failover.
class RedisCluster {
 public:
  // Starts primaries * (1 + replicas_per_primary) nodes, joins them with `redis-cli --cluster create
  // ... --cluster-replicas R --cluster-yes` and waits for wait_ok(); throws std::invalid_argument for a
  // shape redis-cli refuses, std::runtime_error with redis-cli's output or the nodes' log tails on failure.
  explicit RedisCluster(ClusterOptions options = {});
  RedisCluster(const RedisCluster&) = delete;
  RedisCluster& operator=(const RedisCluster&) = delete;
  // Stops the replicas, then the primaries (so no primary waits for a replica at shutdown), removing every
  // node's dir.
  ~RedisCluster();

  // Every node in start order; the first `primaries` were created as primaries, the rest as replicas.
  std::vector<RedisServer*> nodes() const;
  // The running nodes whose ROLE is master, in start order.
  std::vector<RedisServer*> primaries() const;
  // The running nodes whose ROLE is slave, in start order.
  std::vector<RedisServer*> replicas() const;
  // The running nodes that replicate `primary` (per their ROLE), in start order.
  std::vector<RedisServer*> replicas_of(const RedisServer& primary) const;
  // replicas_of(*primaries().at(i)).
  std::vector<RedisServer*> replicas_of(std::size_t i) const;
  // The node listening on `port`; throws std::out_of_range if none is.
  RedisServer& node_at(int port) const;
  // The node's cluster node id (CLUSTER MYID).
  std::string id_of(const RedisServer& node) const;
  // nodes().at(i)->url(userinfo): "redis://[userinfo@]127.0.0.1:<port>/0" ("rediss://" with tls).
  std::string url_of(std::size_t i, const std::string& userinfo = "") const;
  // url_of(0): a node to start discovering the cluster from.
  std::string seed_url(const std::string& userinfo = "") const;
  // The options it was built with.
  const ClusterOptions& options() const noexcept { return options_; }

  // The key's slot as a node computes it (CLUSTER KEYSLOT).
  int slot_of(const std::string& key) const;
  // The primary that serves `slot` in the first running node's CLUSTER NODES, or nullptr if none does.
  RedisServer* owner_of_slot(int slot) const;
  // The slots `primary` serves in the first running node's CLUSTER NODES, ascending.
  std::vector<int> slots_of(const RedisServer& primary) const;

  // Moves `slot` and its keys from `from` to `to` as an operator would: SETSLOT IMPORTING on `to`,
  // MIGRATING on `from`, GETKEYSINSLOT + MIGRATE ... KEYS in batches until none are left, SETSLOT NODE on
  // every primary, then wait_ok(). Keys must be non-empty and hold no newline (GETKEYSINSLOT is read line by line).
  // Throws std::runtime_error (redis-cli's output) if a step fails, e.g. `from` does not own the slot.
  void migrate_slot(int slot, RedisServer& from, RedisServer& to);
  // Moves `count` slots with their keys from `from` to `to` with `redis-cli --cluster reshard
  // --cluster-yes`, then wait_ok(); throws std::runtime_error with redis-cli's output on failure.
  void reshard(int count, RedisServer& from, RedisServer& to);
  // CLUSTER FAILOVER on `replica`: waits until its ROLE is master, then for wait_ok() (its old primary
  // is then its replica); throws std::logic_error if it is no replica, std::runtime_error on timeout.
  void failover(RedisServer& replica);
  // Waits until every node runs and reports cluster_state:ok, 16384 slots assigned and ok, all nodes
  // known, the same nodes, roles and slots as every other node (no importing/migrating slot, no failure
  // flag, every link connected), and every replica master_link_status:up with no sync in progress.
  // Throws std::runtime_error naming what was still wrong, with every node's log tail, on timeout.
  void wait_ok(std::chrono::milliseconds timeout = std::chrono::seconds(30)) const;

  // Sends each command to the primary that owns its key (the second word; key_hash_slot under the slot
  // map at the call), one `redis-cli --pipe` per primary; throws std::invalid_argument for a command
  // without a key, std::runtime_error if any reply is an error.
  void load(const std::vector<CliCommand>& commands) const;

  // CLUSTER DELSLOTS `slot` on every running node and waits until each reports cluster_state:fail:
  // a cluster with a hole, for bad-input tests. Throws std::runtime_error on timeout.
  void uncover_slot(int slot);
  // CLUSTER ADDSLOTS `slot` on `primary` (after uncover_slot), then wait_ok().
  void cover_slot(int slot, RedisServer& primary);

 private:
  RedisServer& any_running() const;
  std::string log_tails() const;

  ClusterOptions options_;
  std::optional<TempDir> tls_dir_;
  std::vector<std::unique_ptr<RedisServer>> nodes_;
};

// The shape of a SentinelSet.
struct SentinelOptions {
  // The name the sentinels monitor the primary as.
  std::string master_name = "mymaster";
  // requirepass and masterauth of the primary and the replica, and the sentinels' auth-pass; empty for none.
  std::string data_password{};
  // The sentinels' own requirepass (and their sentinel-pass for each other); empty for none.
  std::string sentinel_password{};
  // sentinel down-after-milliseconds: how long the primary must be silent to be thought down.
  int down_after_ms = 2000;
  // sentinel failover-timeout.
  int failover_timeout_ms = 10000;
};

// A primary, its replica (replicaof) and three Sentinels monitoring it with quorum 2, each a RedisServer
// on a free port with its own writable config. Create and destroy it on one thread (as RedisServer).
class SentinelSet {
 public:
  // Starts the primary, the replica (and waits until it is in sync), then the sentinels, and waits until
  // every sentinel knows the primary, the replica and the two other sentinels; throws std::runtime_error
  // with the log tails if that does not happen within 30 s.
  explicit SentinelSet(SentinelOptions options = {});
  SentinelSet(const SentinelSet&) = delete;
  SentinelSet& operator=(const SentinelSet&) = delete;
  // Stops the sentinels first (so they start no failover), then the replica and the primary; removes the dirs.
  ~SentinelSet();

  // The data node that is primary: the one started as primary, or the promoted one after failover().
  RedisServer& primary() const;
  // The other data node.
  RedisServer& replica() const;
  // The three sentinels.
  std::vector<RedisServer*> sentinels() const;
  // The monitored master's name.
  const std::string& master_name() const noexcept { return options_.master_name; }
  // "redis+sentinel://127.0.0.1:<s1>,127.0.0.1:<s2>,127.0.0.1:<s3>/<master name>".
  std::string sentinel_url() const;
  // The port `sentinel` answers to SENTINEL GET-MASTER-ADDR-BY-NAME; throws std::runtime_error if it
  // cannot say.
  int reported_master_port(const RedisServer& sentinel) const;
  // The options it was built with.
  const SentinelOptions& options() const noexcept { return options_; }

  // SENTINEL FAILOVER on the first sentinel; waits until every running sentinel reports the replica as
  // master and it answers ROLE master, then points the old primary at it (REPLICAOF, what the sentinels
  // would do themselves some 10 s later) and waits until it is in sync; primary() and replica() swap.
  // Throws std::runtime_error (with the sentinels' log tails) on an error reply or after 30 s.
  void failover();
  // Waits until every running sentinel reports primary() as master, with replica() and the running
  // sentinels as its replica and peers; throws std::runtime_error with the log tails after `timeout`.
  void wait_ready(std::chrono::milliseconds timeout = std::chrono::seconds(30)) const;
  // Stops the three sentinels (SIGTERM); the data nodes keep running.
  void stop_all_sentinels() noexcept;

 private:
  std::string log_tails() const;

  SentinelOptions options_;
  std::vector<std::unique_ptr<RedisServer>> data_;  // [0] started as primary, [1] as replica
  std::vector<std::unique_ptr<RedisServer>> sentinels_;
  std::size_t primary_ = 0;
};

}  // namespace testsupport
