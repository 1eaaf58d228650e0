// Reading every key name of a cluster exactly once, in one stream, while slots migrate and primaries
// fail over. Each primary is read in parallel slot by slot (CLUSTER GETKEYSINSLOT, a snapshot of one
// slot on one node), checked against the node's own view of what it owns before and after each batch;
// a slot that moved or was migrating meanwhile is read again at the end from its owner and, while it
// migrates, from the importing node too, de-duplicated within that slot. Users who may not run
// CLUSTER GETKEYSINSLOT get a SCAN of each primary, kept to the slots the node owns, which fails
// (exit 3) rather than return a short result if the slot map changed meanwhile.
#pragma once

#include <memory>

#include "redis/client.h"
#include "redis/cluster/node_pool.h"

namespace sessionctl::redis::cluster {

// Opens the connections (errors are thrown here) and starts one reader per primary.
std::unique_ptr<KeyStream> open_cluster_scan(const ConnectionOptions& seed, const ClusterView& view,
                                             const ScanRequest& request, bool no_touch);

}  // namespace sessionctl::redis::cluster
