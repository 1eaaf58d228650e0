// The Client for a Redis Cluster: commands go to the primary that owns their slot, split into one
// pipeline per node and sent in parallel; MOVED, ASK, TRYAGAIN, CLUSTERDOWN and failed nodes are handled
// here, so nothing above the Redis layer knows it is talking to a cluster.
#pragma once

#include <memory>

#include "redis/client.h"

namespace sessionctl::redis::cluster {

// Connects to the cluster the seed node belongs to (reads its slot map). Throws ConnectionError when
// no node answers, AuthError when the credentials do not work.
std::unique_ptr<Client> connect_cluster(const ConnectionOptions& seed);

}  // namespace sessionctl::redis::cluster
