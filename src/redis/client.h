// What commands ask of Redis: streams of keys and batches of replies, from a single server or from a
// Redis Cluster (cluster/router.h: every primary scanned, commands routed by slot), so commands never change.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "redis/command_buffer.h"
#include "redis/options.h"
#include "redis/reply.h"

namespace sessionctl::redis {

class Connection;

struct ScanRequest {
  std::string pattern = "*";
  std::size_t count = 10000;        // SCAN COUNT: large, so 1M keys take ~100 round trips
  std::optional<std::string> type;  // SCAN TYPE filter
};

// Key names from a SCAN that runs on a channel of its own (its own connection per node), independent of
// the client's pipelines, so that one thread can read names while another runs batches on the client.
// A cluster router implements it by scanning every primary and merging their batches into one stream.
class KeyStream {
 public:
  virtual ~KeyStream() = default;
  // Replaces `keys` with the next batch (possibly empty); false once the scan is complete.
  virtual bool next(std::vector<std::string>& keys) = 0;
};

enum class NodeSet { primaries, all };

// A reply from one server, for server-wide commands (INFO, CONFIG GET).
struct NodeReply {
  std::string node;  // endpoint
  Reply reply;
};

// One server as the client sees it, for status and doctor.
struct NodeInfo {
  std::string endpoint;                    // "host:port"
  std::string id;                          // cluster node id; "" outside a cluster
  std::string role;                        // "primary" or "replica"
  std::string primary_id;                  // a replica's primary (cluster node id); "" otherwise
  std::vector<std::pair<int, int>> slots;  // slot ranges a cluster primary owns, inclusive
  bool reachable = true;                   // false when the client could not connect to it
  std::string flags;                       // CLUSTER NODES flags (fail, pfail, …); "" outside a cluster
};

// What a Sentinel said about the primary, when the URL named sentinels.
struct SentinelView {
  std::string master_name;
  std::string primary;                   // "host:port" the sentinels gave, checked with ROLE
  std::string answered_by;               // the sentinel that answered
  std::vector<std::string> sentinels;    // every sentinel in the URL
  std::vector<std::string> unreachable;  // sentinels that did not answer before one did
  int known_sentinels = -1;              // SENTINEL MASTER's num-other-sentinels + 1; -1 unknown
  int reachable_sentinels = -1;          // the answering one and its peers not flagged down (as CKQUORUM counts)
  int known_replicas = -1;               // SENTINEL MASTER's num-slaves; -1 unknown
  int quorum = -1;
};

enum class TopologyKind { single, cluster, sentinel };

// How the store is laid out: one server, a cluster's nodes, or the primary a Sentinel named.
struct Topology {
  TopologyKind kind = TopologyKind::single;
  std::vector<NodeInfo> nodes;  // every known node; for single/sentinel the one server read
  std::string cluster_state;    // INFO cluster's cluster_state; "" outside a cluster
  int slots_covered = -1;       // slots some reachable primary owns; -1 outside a cluster
  bool replicas = false;        // reads are served by replicas (--replicas)
  std::optional<SentinelView> sentinel;
};

// Whether CLIENT NO-TOUCH is on, and why not when it is not.
enum class NoTouch {
  on,
  unsupported,  // the server has no CLIENT NO-TOUCH (Redis < 7.2)
  denied,       // the ACL user may not run it
};

class Client {
 public:
  virtual ~Client() = default;
  // Calls on_batch with each batch of key names matching the request; stops early when it returns false.
  virtual void scan(const ScanRequest& request, const std::function<bool(std::vector<std::string>&)>& on_batch) = 0;
  // Opens a scan on its own channel (see KeyStream); may be driven from another thread than the client's.
  // Connection errors are thrown here, on the caller's thread. The stream must not outlive the client.
  virtual std::unique_ptr<KeyStream> open_scan(const ScanRequest& request) = 0;
  // Runs single-key (or keyless) commands, pipelined, replies in order; error replies returned in place.
  virtual std::vector<Reply> run(const std::vector<Command>& commands) = 0;
  // The same for commands already serialised; the cheap path for big batches.
  virtual std::vector<Reply> run(const CommandBuffer& commands) = 0;
  // Runs a server-wide command on every primary (the nodes whose data counts), or on every node including
  // replicas (NodeSet::all); NodeReply::node is the endpoint Topology::nodes names. A node that cannot be
  // reached gets an error reply ("ERR unreachable: …") rather than failing the call.
  virtual std::vector<NodeReply> each_node(const Command& command, NodeSet nodes = NodeSet::primaries) = 0;
  // Asks the server(s) not to update LRU/LFU for our reads (CLIENT NO-TOUCH, Redis 7.2+); says why not when
  // it cannot. Throws when the connection itself is unusable (BUSY, LOADING).
  virtual NoTouch enable_no_touch() = 0;
  virtual const ConnectionOptions& options() const = 0;
  // The layout the client reads from (nodes, roles, slots; the sentinel's view).
  virtual Topology topology() const = 0;
  // Whether these keys can change together in one MULTI … EXEC: always on one server; on a cluster only
  // when they hash to one slot (else the server answers CROSSSLOT).
  virtual bool one_transaction(const std::vector<std::string>& keys) const = 0;

  // Convenience: one command, error replies returned in place.
  Reply run1(const Command& command);
};

// What a CLIENT NO-TOUCH ON reply means (on, unsupported, denied); throws when the connection itself is
// unusable (BUSY, LOADING). Shared by the single-server and the cluster client.
NoTouch no_touch_from(const Reply& reply);

// Connects to what the options describe. A Redis Cluster node (INFO cluster says cluster_enabled:1) gives
// a client for the whole cluster (cluster/router.h) unless options.single_node; when INFO is denied the
// server is read as a single one.
// With options.sentinel, the sentinels are asked for the primary first (redis/sentinel.h: find_primary), and
// topology() carries what they said.
std::unique_ptr<Client> connect(const ConnectionOptions& options);

}  // namespace sessionctl::redis
