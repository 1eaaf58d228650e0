// Connections to the nodes of one cluster, one per address, opened on first use, each authenticated as
// the URL says and verified under the node's announced name (or --sni); and reading the cluster's layout
// from whichever node answers. Not thread-safe: each thread that talks to the cluster owns a pool.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "redis/client.h"
#include "redis/cluster/slot_map.h"
#include "redis/connection.h"
#include "redis/options.h"

namespace sessionctl::redis::cluster {

// The layout as one node saw it, at one moment.
struct ClusterView {
  SlotMap map;
  std::vector<NodeLine> nodes;  // CLUSTER NODES of the node that answered
  std::string answered_by;      // "host:port"
};

class NodePool {
 public:
  explicit NodePool(ConnectionOptions seed) : seed_(std::move(seed)) {}

  // How to reach a node: the seed's credentials, TLS settings and timeouts at the node's address.
  ConnectionOptions options_for(const NodeAddress& node) const;
  // The connection to `node`, opened (with READONLY when `replica`) if there is none; throws
  // ConnectionError/TimeoutError/AuthError as Connection does.
  Connection& get(const NodeAddress& node, bool replica = false);
  // Forgets the connection to `node` (after it failed), so the next get() reconnects.
  void drop(const NodeAddress& node);
  // CLUSTER SLOTS and CLUSTER NODES from the first of `candidates` (then the seed) that answers, the two
  // checked against each other (a disagreement is a change in flight: read again). Throws ConnectionError
  // naming every node tried when none answers.
  ClusterView read_view(const std::vector<NodeAddress>& candidates);
  // Every primary and replica of a view, primaries first: where to ask next time.
  static std::vector<NodeAddress> candidates_of(const ClusterView& view);
  const ConnectionOptions& seed() const { return seed_; }
  // Sent on every new connection (CLIENT NO-TOUCH ON) once it is known to work.
  void set_on_connect(Command command) { on_connect_ = std::move(command); }

 private:
  ConnectionOptions seed_;
  std::map<std::string, std::unique_ptr<Connection>> conns_;
  Command on_connect_;
};

// "host:port" of a node.
std::string address_text(const NodeAddress& node);

}  // namespace sessionctl::redis::cluster
