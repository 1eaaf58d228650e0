#include "redis/cluster/router.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <exception>
#include <thread>
#include <utility>

#include "redis/cluster/node_pool.h"
#include "redis/cluster/scan.h"
#include "redis/cluster/slot.h"
#include "redis/reply_error.h"
#include "util/errors.h"

namespace sessionctl::redis::cluster {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int kMaxRedirects = 16;                             // per batch: a longer chain is a loop, not a migration
constexpr std::size_t kPipelineChunk = 8192;                  // commands per write, as for one server
constexpr auto kUnavailableBudget = std::chrono::seconds(5);  // TRYAGAIN / CLUSTERDOWN back-off in total

bool iequals(std::string_view a, std::string_view upper) {
  return a.size() == upper.size() && std::equal(a.begin(), a.end(), upper.begin(), [](char x, char y) {
           return std::toupper(static_cast<unsigned char>(x)) == y;
         });
}

// Commands that only read, which --replicas may send to a replica.
bool read_only(std::string_view name) {
  static constexpr std::string_view kRead[] = {
      "GET",           "GETRANGE",  "STRLEN", "TYPE",  "PTTL",        "TTL",        "EXISTS", "MEMORY", "OBJECT",
      "HGETALL",       "HGET",      "HMGET",  "HLEN",  "HSCAN",       "HKEYS",      "HVALS",  "LRANGE", "LLEN",
      "LINDEX",        "SMEMBERS",  "SCARD",  "SSCAN", "SISMEMBER",   "ZRANGE",     "ZCARD",  "ZSCAN",  "ZSCORE",
      "ZRANGEBYSCORE", "ZREVRANGE", "ZCOUNT", "DUMP",  "PEXPIRETIME", "EXPIRETIME", "MGET",   "XRANGE", "XLEN"};
  for (auto r : kRead)
    if (iequals(name, r)) return true;
  return false;
}

// The command's name as sent ("*N\r\n$L\r\nNAME\r\n…"), without copying it.
std::string_view name_of(const CommandBuffer& buffer, std::size_t i) {
  std::string_view bytes = buffer.command_bytes(i);
  auto p = bytes.find("\r\n$");
  if (p == std::string_view::npos) return {};
  auto start = bytes.find("\r\n", p + 3);
  if (start == std::string_view::npos) return {};
  auto end = bytes.find("\r\n", start + 2);
  return bytes.substr(start + 2, end - start - 2);
}

// Commands that travel together to one node: one command, or WATCH … MULTI … EXEC.
struct Unit {
  std::size_t first = 0, last = 0;  // inclusive command indices
  std::optional<int> slot;
  bool reads_only = true;
};

std::vector<Unit> units_of(const CommandBuffer& buffer, bool need_read_only) {
  std::vector<Unit> out;
  out.reserve(buffer.size());
  bool open = false;  // inside WATCH/MULTI … EXEC
  for (std::size_t i = 0; i < buffer.size(); ++i) {
    const std::string_view name = name_of(buffer, i);
    // Only names starting W, M, E, D or U can open or close a transaction: skip the rest cheaply.
    const char first = name.empty() ? '\0' : static_cast<char>(std::toupper(static_cast<unsigned char>(name[0])));
    const bool maybe_tx = first == 'W' || first == 'M' || first == 'E' || first == 'D' || first == 'U';
    const bool starts = maybe_tx && (iequals(name, "WATCH") || iequals(name, "MULTI"));
    const bool ends =
        maybe_tx && (iequals(name, "EXEC") || iequals(name, "DISCARD") || (open && iequals(name, "UNWATCH")));
    if (!open) {
      out.push_back(Unit{i, i, std::nullopt, true});
      open = starts;
    } else {
      out.back().last = i;
      if (ends) open = false;
    }
    Unit& u = out.back();
    if (!u.slot) u.slot = command_slot(buffer, i);
    if (starts || (need_read_only && !ends && !read_only(name))) u.reads_only = false;
  }
  return out;
}

// Why a unit must be sent again.
enum class Retry { none, moved, ask, unavailable, failed };

class ClusterClient : public Client {
 public:
  explicit ClusterClient(const ConnectionOptions& seed) : pool_(seed) {
    view_ = pool_.read_view({});
    read_cluster_state();
  }

  void scan(const ScanRequest& request, const std::function<bool(std::vector<std::string>&)>& on_batch) override {
    auto stream = open_scan(request);
    std::vector<std::string> keys;
    while (stream->next(keys))
      if (!keys.empty() && !on_batch(keys)) return;
  }

  std::unique_ptr<KeyStream> open_scan(const ScanRequest& request) override {
    return open_cluster_scan(pool_.seed(), view_, request, no_touch_on_);
  }

  std::vector<Reply> run(const std::vector<Command>& commands) override {
    std::vector<Reply> out;
    out.reserve(commands.size());
    for (std::size_t i = 0; i < commands.size(); i += kPipelineChunk) {
      CommandBuffer chunk;
      for (std::size_t j = i; j < std::min(commands.size(), i + kPipelineChunk); ++j) chunk.add(commands[j]);
      auto part = run(chunk);
      std::move(part.begin(), part.end(), std::back_inserter(out));
    }
    return out;
  }

  std::vector<Reply> run(const CommandBuffer& commands) override {
    std::vector<Reply> out(commands.size());
    std::vector<Unit> pending = units_of(commands, pool_.seed().read_replicas);
    std::vector<std::optional<Redirect>> asks(pending.size());
    const Clock::time_point start = Clock::now();
    std::string last_problem;
    int redirects = 0;  // rounds sent again because the slot map moved (MOVED, ASK); waits are bounded by time
    for (int round = 0;; ++round) {
      std::vector<std::pair<Unit, Retry>> again = dispatch(commands, pending, asks, out, last_problem);
      if (again.empty()) return out;
      const bool redirected = std::any_of(
          again.begin(), again.end(), [](const auto& a) { return a.second == Retry::moved || a.second == Retry::ask; });
      if (redirected && ++redirects > kMaxRedirects) {
        throw ConnectionError(
            fmt::format("the cluster redirected a command {} times ({}): its slot map keeps "
                        "changing; try again when the resharding is done",
                        redirects, last_problem));
      }
      bool refresh = false, wait = false;
      pending.clear();
      asks.clear();
      for (auto& [unit, why] : again) {
        refresh = refresh || why == Retry::moved || why == Retry::failed;
        wait = wait || why == Retry::unavailable || why == Retry::failed;
        pending.push_back(unit);
        asks.push_back(why == Retry::ask ? pending_ask_[unit.first] : std::nullopt);
      }
      if (wait && (failed_without_replica_ || last_problem.find("CLUSTERDOWN") != std::string::npos)) {
        // A cluster that lost a slot's owner stays down until someone acts: say which slots, don't wait.
        refresh_view();
        const auto unserved = view_.map.uncovered();
        if (!unserved.empty()) {
          throw ConnectionError(fmt::format(
              "the cluster is down (cluster_state:{}): slots {} have no owner, so "
              "their sessions cannot be read; see `redis-cli --cluster check {}`",
              cluster_state_.empty() ? "fail" : cluster_state_, describe_slots(unserved), view_.answered_by));
        }
        // An owner the cluster has marked failed, with no replica to take over, is back only when restarted.
        const std::string dead = failed_owners_without_replica();
        if (!dead.empty()) {
          throw ConnectionError(fmt::format(
              "the cluster is down (cluster_state:{}): {} marked failed with no replica to take over, so "
              "sessions in those slots cannot be read until it is restarted; see `redis-cli --cluster check {}`",
              cluster_state_.empty() ? "fail" : cluster_state_, dead, view_.answered_by));
        }
      }
      if (wait) {
        // A failed primary without a replica comes back only by a restart: wait briefly, not a failover's time,
        // and no longer than the user said a node may take to answer (--connect-timeout).
        const bool replaceable = !failed_without_replica_;
        const auto restart_wait =
            std::min<std::chrono::milliseconds>(std::chrono::milliseconds(2000), pool_.seed().connect_timeout);
        if (Clock::now() - start > (replaceable ? budget() : restart_wait)) {
          throw ConnectionError(
              fmt::format("the cluster could not serve the request ({}); check `redis-cli -h "
                          "HOST -p PORT CLUSTER INFO` on that node",
                          last_problem));
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(std::min(1000, 50 << std::min(round, 5))));
      }
      if (refresh) refresh_view();
    }
  }

  std::vector<NodeReply> each_node(const Command& command, NodeSet set) override {
    std::vector<NodeAddress> targets;
    std::vector<bool> replica;
    for (const auto& p : view_.map.primaries()) {
      targets.push_back(p.address);
      replica.push_back(false);
    }
    if (set == NodeSet::all) {
      for (const auto& p : view_.map.primaries())
        for (const auto& r : p.replicas) {
          targets.push_back(r);
          replica.push_back(true);
        }
      // CLUSTER SLOTS may not list a replica yet that CLUSTER NODES (and so topology()) already names:
      // every node topology() lists gets the command.
      for (const auto& n : view_.nodes) {
        NodeAddress a{n.host, n.port, n.hostname, n.id};
        if (n.primary || n.failed || std::find(targets.begin(), targets.end(), a) != targets.end()) continue;
        targets.push_back(a);
        replica.push_back(true);
      }
    }
    std::vector<NodeReply> out(targets.size());
    std::vector<std::exception_ptr> errors(targets.size());
    // Connections open here, one after another (the pool is not thread-safe); then all nodes at once.
    std::vector<Connection*> conns(targets.size(), nullptr);
    for (std::size_t i = 0; i < targets.size(); ++i) {
      out[i].node = address_text(targets[i]);
      try {
        conns[i] = &pool_.get(targets[i], replica[i]);
      } catch (const AuthError&) {
        throw;
      } catch (const ConnectionError& e) {
        pool_.drop(targets[i]);
        out[i].reply = Reply{Reply::Type::error, fmt::format("ERR unreachable: {}", e.what()), 0, {}};
      }
    }
    parallel(targets.size(), [&](std::size_t i) {
      if (conns[i] == nullptr) return;
      try {
        out[i].reply = conns[i]->command(command);
      } catch (const AuthError&) {
        errors[i] = std::current_exception();
      } catch (const ConnectionError& e) {
        out[i].reply = Reply{Reply::Type::error, fmt::format("ERR unreachable: {}", e.what()), 0, {}};
      } catch (...) {
        errors[i] = std::current_exception();
      }
    });
    for (auto& e : errors)
      if (e) std::rethrow_exception(e);
    return out;
  }

  NoTouch enable_no_touch() override {
    const auto& primaries = view_.map.primaries();
    if (primaries.empty()) return NoTouch::unsupported;
    Reply r = pool_.get(primaries.front().address).command({"CLIENT", "NO-TOUCH", "ON"});
    const NoTouch state = no_touch_from(r);
    if (state == NoTouch::on) {
      no_touch_on_ = true;
      pool_.set_on_connect({"CLIENT", "NO-TOUCH", "ON"});
      for (const auto& p : primaries) (void)pool_.get(p.address).command({"CLIENT", "NO-TOUCH", "ON"});
    }
    return state;
  }

  const ConnectionOptions& options() const override { return pool_.seed(); }

  bool one_transaction(const std::vector<std::string>& keys) const override {
    for (const auto& k : keys)
      if (key_slot(k) != key_slot(keys.front())) return false;
    return true;
  }

  Topology topology() const override {
    Topology t;
    t.kind = TopologyKind::cluster;
    t.cluster_state = cluster_state_;
    t.slots_covered = view_.map.covered_count();
    t.replicas = pool_.seed().read_replicas;
    if (!view_.nodes.empty()) {
      for (const auto& n : view_.nodes) {
        NodeInfo info;
        info.endpoint = address_text(NodeAddress{n.host, n.port, n.hostname, n.id});
        info.id = n.id;
        info.role = n.primary ? "primary" : "replica";
        info.primary_id = n.primary_id;
        info.slots = n.slots;
        info.flags = n.flags;
        info.reachable = !n.failed;
        t.nodes.push_back(std::move(info));
      }
    } else {
      for (const auto& p : view_.map.primaries()) {
        t.nodes.push_back(NodeInfo{address_text(p.address), p.address.id, "primary", "", p.slots, true, ""});
        for (const auto& r : p.replicas)
          t.nodes.push_back(NodeInfo{address_text(r), r.id, "replica", p.address.id, {}, true, ""});
      }
    }
    return t;
  }

 private:
  std::chrono::milliseconds budget() const {
    // Long enough for a replica to take over a failed primary (cluster-node-timeout plus an election).
    return std::max<std::chrono::milliseconds>(
        std::chrono::duration_cast<std::chrono::milliseconds>(kUnavailableBudget),
        std::min<std::chrono::milliseconds>(pool_.seed().command_timeout, std::chrono::seconds(30)));
  }

  template <typename F>
  static void parallel(std::size_t n, F&& fn) {
    std::vector<std::thread> threads;
    threads.reserve(n > 0 ? n - 1 : 0);
    for (std::size_t i = 1; i < n; ++i) threads.emplace_back([&fn, i] { fn(i); });
    if (n > 0) fn(0);
    for (auto& t : threads) t.join();
  }

  // "127.0.0.1:7002 (slots 10923-16383)" for each primary that CLUSTER NODES flags failed and that no healthy
  // replica follows, joined by ", "; "" when there is none.
  std::string failed_owners_without_replica() const {
    std::string out;
    for (const auto& n : view_.nodes) {
      if (!n.primary || !n.failed || n.slots.empty()) continue;
      const bool followed = std::any_of(view_.nodes.begin(), view_.nodes.end(),
                                        [&](const NodeLine& r) { return r.primary_id == n.id && !r.failed; });
      if (followed) continue;
      if (!out.empty()) out += ", ";
      out += fmt::format("{}:{} (slots {})", n.host, n.port, describe_slots(n.slots));
    }
    return out;
  }

  void read_cluster_state() {
    cluster_state_.clear();
    try {
      Reply info = pool_
                       .get(view_.map.primaries().empty() ? NodeAddress{pool_.seed().host, pool_.seed().port, "", ""}
                                                          : view_.map.primaries().front().address)
                       .command({"CLUSTER", "INFO"});
      if (info.is_string()) {
        auto p = info.str.find("cluster_state:");
        if (p != std::string::npos) {
          auto end = info.str.find_first_of("\r\n", p);
          cluster_state_ = info.str.substr(p + 14, end - p - 14);
        }
      }
    } catch (const ConnectionError&) {
      // The state stays unknown; the scan says which slots it could not read.
    }
  }

  void refresh_view() {
    std::vector<NodeAddress> candidates = NodePool::candidates_of(view_);
    // The node a MOVED named has taken the slot, so its map is at least that new; a node that has not
    // heard of the change yet would send every batch on the same detour again.
    if (moved_to_) {
      candidates.erase(std::remove(candidates.begin(), candidates.end(), *moved_to_), candidates.end());
      candidates.insert(candidates.begin(), *std::exchange(moved_to_, std::nullopt));
    }
    view_ = pool_.read_view(candidates);
    read_cluster_state();
  }

  // Where a unit goes: its slot's owner (or one of the owner's replicas for reads under --replicas).
  std::pair<NodeAddress, bool> target(const Unit& u) const {
    const auto& primaries = view_.map.primaries();
    if (!u.slot) {
      if (primaries.empty()) return {NodeAddress{pool_.seed().host, pool_.seed().port, "", ""}, false};
      return {primaries.front().address, false};
    }
    const int owner = view_.map.owner(*u.slot);
    if (owner < 0) {
      throw ConnectionError(
          fmt::format("slot {} is not served by any node of the cluster (cluster_state:{}): "
                      "its keys cannot be read; see `redis-cli --cluster check HOST:PORT`",
                      *u.slot, cluster_state_.empty() ? "unknown" : cluster_state_));
    }
    const auto& p = primaries[static_cast<std::size_t>(owner)];
    if (pool_.seed().read_replicas && u.reads_only && !p.replicas.empty())
      return {p.replicas[static_cast<std::size_t>(*u.slot) % p.replicas.size()], true};
    return {p.address, false};
  }

  // Sends each unit to its node (one pipeline per node, nodes in parallel), fills `out`, and returns
  // the units to send again with the reason.
  std::vector<std::pair<Unit, Retry>> dispatch(const CommandBuffer& commands, const std::vector<Unit>& units,
                                               const std::vector<std::optional<Redirect>>& asks,
                                               std::vector<Reply>& out, std::string& last_problem) {
    struct Group {
      NodeAddress node;
      bool replica = false;
      CommandBuffer buffer;
      std::vector<std::size_t> unit_of_reply;  // for each reply: index into units, or npos for ASKING
      std::vector<std::size_t> command_of_reply;
      std::vector<Reply> replies;
      std::exception_ptr error;
      std::string failure;
    };
    std::vector<Group> groups;
    auto group_for = [&](const NodeAddress& node, bool replica) -> Group& {
      for (auto& g : groups)
        if (g.node == node && g.replica == replica) return g;
      groups.push_back(Group{node, replica, {}, {}, {}, {}, nullptr, {}});
      return groups.back();
    };
    constexpr std::size_t kAsking = static_cast<std::size_t>(-1);
    for (std::size_t u = 0; u < units.size(); ++u) {
      const Unit& unit = units[u];
      if (asks[u]) {
        const Redirect& r = *asks[u];
        Group& g = group_for(NodeAddress{r.host.empty() ? pool_.seed().host : r.host, r.port, "", ""}, false);
        g.buffer.add({"ASKING"});
        g.unit_of_reply.push_back(kAsking);
        g.command_of_reply.push_back(kAsking);
        g.buffer.append_from(commands, unit.first);
        g.unit_of_reply.push_back(u);
        g.command_of_reply.push_back(unit.first);
        continue;
      }
      auto [node, replica] = target(unit);
      Group& g = group_for(node, replica);
      for (std::size_t i = unit.first; i <= unit.last; ++i) {
        g.buffer.append_from(commands, i);
        g.unit_of_reply.push_back(u);
        g.command_of_reply.push_back(i);
      }
    }
    // Connections open one after another (the pool is not thread-safe), then every node's pipeline runs at once.
    std::vector<Connection*> conns(groups.size(), nullptr);
    for (std::size_t i = 0; i < groups.size(); ++i) {
      try {
        conns[i] = &pool_.get(groups[i].node, groups[i].replica);
      } catch (const AuthError&) {
        throw;
      } catch (const ConnectionError& e) {
        groups[i].failure = fmt::format("{}: {}", address_text(groups[i].node), e.what());
      }
    }
    parallel(groups.size(), [&](std::size_t i) {
      Group& g = groups[i];
      if (conns[i] == nullptr) return;
      try {
        g.replies = conns[i]->pipeline(g.buffer);
      } catch (const AuthError&) {
        g.error = std::current_exception();
      } catch (const ConnectionError& e) {
        g.failure = fmt::format("{}: {}", address_text(g.node), e.what());
      } catch (...) {
        g.error = std::current_exception();
      }
    });
    std::vector<Retry> why(units.size(), Retry::none);
    pending_ask_.clear();
    failed_without_replica_ = false;
    for (auto& g : groups) {
      if (g.error) std::rethrow_exception(g.error);
      if (!g.failure.empty()) {
        pool_.drop(g.node);
        const int index = view_.map.find(g.node.host, g.node.port);
        if (index >= 0 && view_.map.primaries()[static_cast<std::size_t>(index)].replicas.empty())
          failed_without_replica_ = true;
        last_problem = g.failure;
        for (const std::size_t u : g.unit_of_reply)
          if (u != kAsking) why[u] = Retry::failed;
        continue;
      }
      for (std::size_t k = 0; k < g.replies.size(); ++k) {
        const std::size_t u = g.unit_of_reply[k];
        if (u == kAsking) continue;
        Reply& r = g.replies[k];
        if (r.is_error()) {
          const ReplyErrorInfo info = classify_reply_error(r);
          Retry w = Retry::none;
          if (info.cause == ErrorCause::moved) {
            w = Retry::moved;
            if (info.redirect)
              moved_to_ = NodeAddress{info.redirect->host.empty() ? g.node.host : info.redirect->host,
                                      info.redirect->port, "", ""};
          } else if (info.cause == ErrorCause::ask) {
            // A transaction cannot be ASKed command by command: wait for the migration to finish.
            w = units[u].first == units[u].last ? Retry::ask : Retry::unavailable;
            if (w == Retry::ask) pending_ask_[units[u].first] = info.redirect;
          } else if (info.code == "TRYAGAIN" || info.code == "CLUSTERDOWN") {
            w = Retry::unavailable;
          }
          if (w != Retry::none) {
            last_problem = fmt::format("{} said {}", address_text(g.node), r.str.substr(0, r.str.find('\n')));
            if (why[u] == Retry::none || w == Retry::moved) why[u] = w;
            continue;
          }
        }
        out[g.command_of_reply[k]] = std::move(r);
      }
    }
    std::vector<std::pair<Unit, Retry>> again;
    for (std::size_t u = 0; u < units.size(); ++u)
      if (why[u] != Retry::none) again.emplace_back(units[u], why[u]);
    return again;
  }

  NodePool pool_;
  ClusterView view_;
  std::string cluster_state_;
  bool no_touch_on_ = false;
  std::optional<NodeAddress> moved_to_;  // where the last MOVED pointed: asked first for the new map
  bool failed_without_replica_ = false;  // the last dispatch lost a primary that has no replica
  std::map<std::size_t, std::optional<Redirect>> pending_ask_;  // first command index → where to ASK
};

}  // namespace

std::unique_ptr<Client> connect_cluster(const ConnectionOptions& seed) { return std::make_unique<ClusterClient>(seed); }

}  // namespace sessionctl::redis::cluster
