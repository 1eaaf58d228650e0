#include "redis/cluster/node_pool.h"

#include <fmt/format.h>

#include <chrono>
#include <thread>

#include "redis/reply_error.h"
#include "util/errors.h"

namespace sessionctl::redis::cluster {

std::string address_text(const NodeAddress& node) {
  return node.host.find(':') != std::string::npos ? fmt::format("[{}]:{}", node.host, node.port)
                                                  : fmt::format("{}:{}", node.host, node.port);
}

ConnectionOptions NodePool::options_for(const NodeAddress& node) const {
  ConnectionOptions o = seed_;
  if (o.scheme == Scheme::unix_socket) o.scheme = Scheme::tcp;
  o.path.clear();
  o.host = node.host;
  o.port = node.port;
  // Each node is verified under the name it announces, unless the user named one for all (--sni).
  if (o.scheme == Scheme::tls && o.tls.sni.empty()) o.tls.sni = node.hostname;
  return o;
}

Connection& NodePool::get(const NodeAddress& node, bool replica) {
  const std::string key = address_text(node);
  auto it = conns_.find(key);
  if (it != conns_.end()) return *it->second;
  auto conn = std::make_unique<Connection>(options_for(node));
  if (replica) checked(conn->command({"READONLY"}), fmt::format("READONLY on {}", key));
  if (!on_connect_.empty()) (void)conn->command(on_connect_);
  return *conns_.emplace(key, std::move(conn)).first->second;
}

void NodePool::drop(const NodeAddress& node) { conns_.erase(address_text(node)); }

std::vector<NodeAddress> NodePool::candidates_of(const ClusterView& view) {
  std::vector<NodeAddress> out;
  for (const auto& p : view.map.primaries()) out.push_back(p.address);
  for (const auto& p : view.map.primaries())
    for (const auto& r : p.replicas) out.push_back(r);
  return out;
}

ClusterView NodePool::read_view(const std::vector<NodeAddress>& candidates) {
  std::vector<NodeAddress> order = candidates;
  NodeAddress seed_node{seed_.host, seed_.port, "", ""};
  bool seed_listed = false;
  for (const auto& c : order) seed_listed = seed_listed || c == seed_node;
  std::vector<std::string> tried;
  std::string last_error;
  auto attempt = [&](const NodeAddress& node, Connection& conn) -> std::optional<ClusterView> {
    for (int round = 0; round < 5; ++round) {
      std::vector<Reply> r = conn.pipeline(std::vector<Command>{{"CLUSTER", "SLOTS"}, {"CLUSTER", "NODES"}});
      if (r[0].is_error()) throw_reply_error(r[0], fmt::format("CLUSTER SLOTS on {}", address_text(node)));
      ClusterView v;
      v.map = SlotMap::from_cluster_slots(r[0], node.host);
      v.answered_by = address_text(node);
      if (r[1].is_error()) {
        // NODES denied: SLOTS alone is the map (no flags or migrations known).
        if (classify_reply_error(r[1]).scope == ErrorScope::connection) throw_reply_error(r[1], "CLUSTER NODES");
        return v;
      }
      v.nodes = parse_cluster_nodes(r[1].str);
      if (v.map.agrees_with(v.nodes)) return v;
      std::this_thread::sleep_for(std::chrono::milliseconds(20 << round));
    }
    last_error = "its CLUSTER SLOTS and CLUSTER NODES kept disagreeing";
    return std::nullopt;
  };
  auto try_node = [&](const NodeAddress& node) -> std::optional<ClusterView> {
    tried.push_back(address_text(node));
    try {
      return attempt(node, get(node));
    } catch (const AuthError&) {
      throw;
    } catch (const ConnectionError& e) {
      drop(node);
      last_error = e.what();
      return std::nullopt;
    }
  };
  for (const auto& node : order)
    if (auto v = try_node(node)) return std::move(*v);
  if (!seed_listed) {
    // The seed as the URL names it (a unix socket stays a socket).
    tried.push_back(endpoint(seed_));
    try {
      Connection conn(seed_);
      if (auto v = attempt(seed_node, conn)) return std::move(*v);
    } catch (const AuthError&) {
      throw;
    } catch (const ConnectionError& e) {
      last_error = e.what();
    }
  }
  std::string names;
  for (const auto& t : tried) names += (names.empty() ? "" : ", ") + t;
  throw ConnectionError(
      fmt::format("no node of the cluster gave its slot map (tried {}; last: {})", names, last_error));
}

}  // namespace sessionctl::redis::cluster
