#include "redis/cluster/scan.h"

#include <fmt/format.h>

#include <chrono>
#include <deque>
#include <exception>
#include <iterator>
#include <mutex>
#include <thread>
#include <unordered_set>

#include "redis/reply_error.h"
#include "util/bounded_queue.h"
#include "util/errors.h"
#include "util/glob.h"

namespace sessionctl::redis::cluster {
namespace {

using Clock = std::chrono::steady_clock;

// A slot holding more keys than this is not read in one reply; it is scanned instead (see big slots).
constexpr std::size_t kSlotReadCap = 100000;
constexpr int kRedoRounds = 60;
constexpr std::size_t kRedoChunk = 64;  // slots re-read per next() call
// How long slots whose node failed and has no replica are waited for (a quick restart), instead of the
// failover budget.
constexpr auto kRestartWait = std::chrono::seconds(2);

// What one node says of itself: the slots it owns and the ones it is migrating away.
struct OwnView {
  std::vector<bool> owns = std::vector<bool>(kSlots, false);
  std::vector<bool> migrating = std::vector<bool>(kSlots, false);
  std::vector<std::pair<int, std::string>> migrating_to;
  bool importing_any = false;
  std::vector<bool> importing = std::vector<bool>(kSlots, false);
};

OwnView own_view(const Reply& nodes_reply, const std::string& where) {
  if (nodes_reply.is_error()) throw_reply_error(nodes_reply, fmt::format("CLUSTER NODES on {}", where));
  OwnView v;
  for (const auto& line : parse_cluster_nodes(nodes_reply.str)) {
    if (!line.myself) continue;
    if (line.primary)
      for (auto [lo, hi] : line.slots)
        for (int s = lo; s <= hi; ++s) v.owns[static_cast<std::size_t>(s)] = true;
    for (const auto& [s, id] : line.migrating) v.migrating[static_cast<std::size_t>(s)] = true;
    v.migrating_to = line.migrating;
    for (const auto& [s, id] : line.importing) v.importing[static_cast<std::size_t>(s)] = true;
  }
  return v;
}

bool stable(const OwnView& v, int s) {
  return v.owns[static_cast<std::size_t>(s)] && !v.migrating[static_cast<std::size_t>(s)];
}

Command getkeys(int slot, std::size_t cap) {
  return {"CLUSTER", "GETKEYSINSLOT", std::to_string(slot), std::to_string(cap)};
}

class ClusterKeyStream : public KeyStream {
 public:
  ClusterKeyStream(const ConnectionOptions& seed, ClusterView view, ScanRequest request, bool no_touch)
      : pool_(seed), view_(std::move(view)), request_(std::move(request)) {
    if (no_touch) pool_.set_on_connect({"CLIENT", "NO-TOUCH", "ON"});
    const auto unserved = view_.map.uncovered();
    if (!unserved.empty()) {
      throw ConnectionError(
          fmt::format("the cluster does not serve slots {} (no primary owns them): the sessions "
                      "there cannot be read; see `redis-cli --cluster check {}`",
                      describe_slots(unserved), view_.answered_by));
    }
    const auto& primaries = view_.map.primaries();
    for (std::size_t i = 0; i < primaries.size(); ++i) {
      auto w = std::make_unique<Worker>();
      w->index = i;
      w->primary = primaries[i].address;
      w->data_node = w->primary;
      if (seed.read_replicas && !primaries[i].replicas.empty()) {
        w->data_node = primaries[i].replicas.front();
        w->replica = true;
      }
      // Connections open here, on the caller's thread, so that errors reach it directly.
      NodePool own(seed);
      w->data = std::make_unique<Connection>(own.options_for(w->data_node));
      if (w->replica) checked(w->data->command({"READONLY"}), "READONLY");
      if (no_touch) (void)w->data->command({"CLIENT", "NO-TOUCH", "ON"});
      if (w->replica) w->check = std::make_unique<Connection>(own.options_for(w->primary));
      for (auto [lo, hi] : primaries[i].slots)
        for (int s = lo; s <= hi; ++s) w->slots.push_back(s);
      workers_.push_back(std::move(w));
    }
    if (!workers_.empty()) slot_mode_ = probe_slot_mode(*workers_.front());
    if (!slot_mode_) {
      for (auto& w : workers_) w->slots.clear();
    }
    // Each batch next() returns holds one batch of every node, about one SCAN COUNT together: memory is
    // what one server's scan takes, and every pipeline built from it keeps all the nodes busy at once.
    batch_target_ = std::max<std::size_t>(1000, request_.count / std::max<std::size_t>(1, workers_.size()));
    for (auto& w : workers_) {
      Worker* raw = w.get();
      w->thread = std::thread([this, raw] { work(*raw); });
    }
  }

  ~ClusterKeyStream() override {
    for (auto& w : workers_) w->queue.cancel();
    for (auto& w : workers_)
      if (w->thread.joinable()) w->thread.join();
  }

  ClusterKeyStream(const ClusterKeyStream&) = delete;
  ClusterKeyStream& operator=(const ClusterKeyStream&) = delete;

  bool next(std::vector<std::string>& keys) override {
    // One batch from each node still reading, merged. Waiting on the slowest node's batch holds the
    // others back by at most their queue (two batches): the nodes are read in step.
    keys.clear();
    bool got = false;
    for (auto& w : workers_) {
      if (w->drained) continue;
      if (auto batch = w->queue.pop()) {
        if (keys.empty()) {
          keys = std::move(*batch);
        } else {
          keys.insert(keys.end(), std::make_move_iterator(batch->begin()), std::make_move_iterator(batch->end()));
        }
        got = true;
      } else {
        w->drained = true;
      }
    }
    if (got) return true;
    if (!joined_) {
      for (auto& w : workers_)
        if (w->thread.joinable()) w->thread.join();
      joined_ = true;
      if (error_) std::rethrow_exception(error_);
      if (!slot_mode_) finish_scan_mode();
      std::sort(redo_.begin(), redo_.end());
      redo_.erase(std::unique(redo_.begin(), redo_.end()), redo_.end());
      redo_started_ = Clock::now();
      redo_deadline_ = redo_started_ + failover_budget();
    }
    if (!redo_.empty()) {
      keys.clear();
      redo_some(keys);
      return true;
    }
    if (!big_.empty()) {
      keys.clear();
      read_big_slots(keys);
      return true;
    }
    return false;
  }

 private:
  struct Worker {
    std::size_t index = 0;
    NodeAddress primary, data_node;
    bool replica = false;
    std::unique_ptr<Connection> data;                 // where keys are read (the primary, or its replica)
    std::unique_ptr<Connection> check;                // the primary, when data is a replica: its view decides stability
    std::vector<int> slots;                           // the slots it owned when the scan began, ascending
    std::size_t pushed_upto = 0;                      // slots[0, pushed_upto) are read and handed on
    BoundedQueue<std::vector<std::string>> queue{2};  // its batches, to next()
    bool drained = false;                             // next() has had its last batch
    std::thread thread;
  };

  std::chrono::milliseconds failover_budget() const {
    return std::max<std::chrono::milliseconds>(
        std::chrono::seconds(5),
        std::min<std::chrono::milliseconds>(pool_.seed().command_timeout, std::chrono::seconds(30)));
  }

  // Whether this user may list a slot's keys (CLUSTER GETKEYSINSLOT and CLUSTER NODES).
  bool probe_slot_mode(Worker& w) {
    std::vector<Reply> r = w.data->pipeline(std::vector<Command>{getkeys(0, 0), {"CLUSTER", "NODES"}});
    for (const auto& reply : r) {
      if (!reply.is_error()) continue;
      const ReplyErrorInfo info = classify_reply_error(reply);
      if (info.scope == ErrorScope::connection) throw_reply_error(reply, "CLUSTER GETKEYSINSLOT");
      return false;
    }
    return true;
  }

  void fail(std::exception_ptr e) {
    std::lock_guard lock(mu_);
    if (!error_) error_ = std::move(e);
  }

  void add_redo(const std::vector<int>& slots) {
    std::lock_guard lock(mu_);
    redo_.insert(redo_.end(), slots.begin(), slots.end());
  }

  void work(Worker& w) {
    try {
      if (slot_mode_) {
        read_slots(w);
      } else {
        scan_node(w);
      }
    } catch (const ConnectionError& e) {
      if (slot_mode_) {
        // The node went away (a failover, a crash): its unread slots are read again from their new owner.
        // Keys read but not yet handed on are dropped with their slots, which are all read again.
        add_redo(std::vector<int>(w.slots.begin() + static_cast<std::ptrdiff_t>(w.pushed_upto), w.slots.end()));
        std::lock_guard lock(mu_);
        failures_.push_back(fmt::format("{}: {}", address_text(w.data_node), e.what()));
      } else {
        fail(std::current_exception());
      }
    } catch (...) {
      fail(std::current_exception());
    }
    w.queue.close();
  }

  Reply nodes_of_primary(Worker& w) { return (w.check ? *w.check : *w.data).command({"CLUSTER", "NODES"}); }

  void read_slots(Worker& w) {
    const std::string where = address_text(w.primary);
    OwnView before = own_view(nodes_of_primary(w), where);
    double keys_per_slot = 50;
    std::vector<std::string> out;
    std::size_t pos = 0;
    while (pos < w.slots.size()) {
      const auto want =
          static_cast<std::size_t>(std::clamp(static_cast<double>(batch_target_) / keys_per_slot, 1.0, 512.0));
      std::vector<int> batch;
      std::vector<int> moved;
      while (pos < w.slots.size() && batch.size() < want) {
        const int s = w.slots[pos++];
        (stable(before, s) ? batch : moved).push_back(s);
      }
      if (!moved.empty()) add_redo(moved);
      if (batch.empty()) continue;
      std::vector<Command> cmds;
      cmds.reserve(batch.size() + 1);
      for (int s : batch) cmds.push_back(getkeys(s, kSlotReadCap));
      if (!w.check) cmds.push_back({"CLUSTER", "NODES"});
      std::vector<Reply> replies;
      replies = w.data->pipeline(cmds);
      Reply after_reply = w.check ? nodes_of_primary(w) : std::move(replies.back());
      const OwnView after = own_view(after_reply, where);
      std::size_t total = 0;
      for (std::size_t i = 0; i < batch.size(); ++i) {
        const int s = batch[i];
        Reply& r = replies[i];
        if (r.is_error()) {
          const ReplyErrorInfo info = classify_reply_error(r);
          if (info.scope == ErrorScope::connection || info.cause == ErrorCause::permission ||
              info.cause == ErrorCause::auth)
            throw_reply_error(r, fmt::format("CLUSTER GETKEYSINSLOT on {}", address_text(w.data_node)));
          moved.assign(1, s);
          add_redo(moved);
          continue;
        }
        if (!stable(after, s)) {
          moved.assign(1, s);
          add_redo(moved);
          continue;
        }
        if (r.elements.size() >= kSlotReadCap) {
          std::lock_guard lock(mu_);
          big_.push_back(s);
          continue;
        }
        total += r.elements.size();
        for (auto& key : r.elements)
          if (glob_match(request_.pattern, key.str)) out.push_back(std::move(key.str));
      }
      keys_per_slot =
          std::max(1.0, 0.5 * keys_per_slot + 0.5 * static_cast<double>(total) / static_cast<double>(batch.size()));
      before = after;
      // A round reads about batch_target_ keys: hand them on after each (a batch is one round, not two).
      if (out.size() >= batch_target_ / 2) {
        if (!w.queue.push(std::move(out))) return;
        out.clear();
        w.pushed_upto = pos;
      }
    }
    // After the loop, not in it: when the last slots all moved away, the loop ends on `continue` while
    // keys are still held (they were dropped, silently, until this was here).
    if (!out.empty() && !w.queue.push(std::move(out))) return;
    w.pushed_upto = w.slots.size();
  }

  // Without CLUSTER GETKEYSINSLOT: SCAN the node, keeping the slots it owns in the map we started from.
  void scan_node(Worker& w) {
    std::string cursor = "0";
    do {
      Reply r = w.data->command({"SCAN", cursor, "MATCH", request_.pattern, "COUNT", std::to_string(request_.count)});
      checked(r, fmt::format("SCAN on {}", address_text(w.data_node)));
      if (r.type != Reply::Type::array || r.elements.size() != 2)
        throw ReplyError(fmt::format("unexpected SCAN reply from {}", address_text(w.data_node)));
      cursor = std::move(r.elements[0].str);
      std::vector<std::string> keys;
      for (auto& e : r.elements[1].elements)
        if (view_.map.owner(key_slot(e.str)) == static_cast<int>(w.index)) keys.push_back(std::move(e.str));
      if (!keys.empty() && !w.queue.push(std::move(keys))) return;
    } while (cursor != "0");
  }

  void finish_scan_mode() {
    ClusterView now = pool_.read_view(NodePool::candidates_of(view_));
    if (now.map.same_owners(view_.map)) return;
    std::vector<int> changed;
    for (int s = 0; s < kSlots; ++s) {
      const int a = view_.map.owner(s), b = now.map.owner(s);
      if (a < 0 || b < 0 ||
          !(view_.map.primaries()[static_cast<std::size_t>(a)].address ==
            now.map.primaries()[static_cast<std::size_t>(b)].address))
        changed.push_back(s);
    }
    throw ConnectionError(fmt::format(
        "slots {} moved to another node during the scan: sessions in them may be missing above or listed twice; "
        "run again when the resharding is done, or let the user run CLUSTER GETKEYSINSLOT and CLUSTER NODES "
        "(+cluster|getkeysinslot +cluster|nodes) for exact listings while slots move",
        describe_slots(to_ranges(changed))));
  }

  // Reads a slot from its owner now, and from the node importing it if it is migrating; false when the
  // slot's owner could not be reached or its state changed meanwhile (try again later).
  bool read_slot_now(int s, const std::vector<std::pair<NodeAddress, OwnView>>& owners,
                     std::vector<std::string>& keys) {
    const int o = view_.map.owner(s);
    if (o < 0) return false;
    const NodeAddress& owner = view_.map.primaries()[static_cast<std::size_t>(o)].address;
    const OwnView* before = nullptr;
    for (const auto& [addr, v] : owners)
      if (addr == owner) before = &v;
    if (before == nullptr || !before->owns[static_cast<std::size_t>(s)]) return false;
    std::optional<NodeAddress> target;
    if (before->migrating[static_cast<std::size_t>(s)]) {
      std::string target_id;
      for (const auto& [slot, id] : before->migrating_to)
        if (slot == s) target_id = id;
      for (const auto& n : view_.nodes)
        if (n.id == target_id) target = NodeAddress{n.host, n.port, n.hostname, n.id};
      if (!target) return false;
    }
    try {
      std::vector<Reply> r =
          pool_.get(owner).pipeline(std::vector<Command>{getkeys(s, kSlotReadCap), {"CLUSTER", "NODES"}});
      if (r[0].is_error()) return false;
      const OwnView after = own_view(r[1], address_text(owner));
      std::unordered_set<std::string> seen;
      std::vector<std::string> found;
      for (auto& k : r[0].elements) {
        if (target) seen.insert(k.str);
        found.push_back(std::move(k.str));
      }
      if (!target) {
        if (!stable(after, s)) return false;
      } else {
        // Keys only move from the owner to the importing node: what left the owner since is there now.
        std::vector<Reply> t =
            pool_.get(*target).pipeline(std::vector<Command>{getkeys(s, kSlotReadCap), {"CLUSTER", "NODES"}});
        if (t[0].is_error()) return false;
        const OwnView target_after = own_view(t[1], address_text(*target));
        const bool holds = target_after.importing[static_cast<std::size_t>(s)] || stable(target_after, s);
        if (!holds) return false;
        for (auto& k : t[0].elements)
          if (seen.insert(k.str).second) found.push_back(std::move(k.str));
      }
      if (found.size() >= kSlotReadCap) {
        big_.push_back(s);
        return true;
      }
      for (auto& k : found)
        if (glob_match(request_.pattern, k)) keys.push_back(std::move(k));
      return true;
    } catch (const AuthError&) {
      throw;
    } catch (const ConnectionError& e) {
      pool_.drop(owner);
      if (target) pool_.drop(*target);
      last_failure_ = e.what();
      return false;
    }
  }

  // Re-reads a chunk of the slots that moved, migrated or lost their node during the parallel pass.
  void redo_some(std::vector<std::string>& keys) {
    for (int round = 0;; ++round) {
      try {
        view_ = pool_.read_view(NodePool::candidates_of(view_));
      } catch (const ConnectionError& e) {
        last_failure_ = e.what();
      }
      std::vector<std::pair<NodeAddress, OwnView>> owners;
      for (const auto& p : view_.map.primaries()) {
        try {
          owners.emplace_back(p.address,
                              own_view(pool_.get(p.address).command({"CLUSTER", "NODES"}), address_text(p.address)));
        } catch (const AuthError&) {
          throw;
        } catch (const ConnectionError& e) {
          pool_.drop(p.address);
          last_failure_ = e.what();
        }
      }
      std::vector<int> left;
      std::size_t done = 0;
      for (const int slot : redo_) {
        if (done >= kRedoChunk) {
          left.push_back(slot);
          continue;
        }
        if (read_slot_now(slot, owners, keys)) {
          ++done;
        } else {
          left.push_back(slot);
        }
      }
      redo_ = std::move(left);
      if (done > 0 || redo_.empty()) return;
      // A node without a replica cannot be replaced by a failover: only a restart brings its slots back.
      bool replaceable = false;
      for (int slot : redo_) {
        const int o = view_.map.owner(slot);
        replaceable = replaceable || (o >= 0 && !view_.map.primaries()[static_cast<std::size_t>(o)].replicas.empty());
      }
      const bool gave_up = !replaceable && Clock::now() > redo_started_ + kRestartWait;
      if (gave_up || Clock::now() > redo_deadline_ || round >= kRedoRounds) {
        std::string why = last_failure_;
        for (const auto& f : failures_) why += (why.empty() ? "" : "; ") + f;
        throw ConnectionError(
            fmt::format("slots {} could not be read (their node failed or kept moving them{}{}): "
                        "the sessions in them are missing above",
                        describe_slots(to_ranges(redo_)), why.empty() ? "" : ": ", why));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(std::min(500, 50 * (round + 1))));
    }
  }

  // Slots with more keys than one reply should carry: a SCAN of their owner, kept to those slots, checked
  // against the owner's view before and after.
  void read_big_slots(std::vector<std::string>& keys) {
    std::sort(big_.begin(), big_.end());
    big_.erase(std::unique(big_.begin(), big_.end()), big_.end());
    const int s = big_.back();
    big_.pop_back();
    const int o = view_.map.owner(s);
    if (o < 0) throw ConnectionError(fmt::format("slot {} lost its owner during the scan", s));
    const NodeAddress owner = view_.map.primaries()[static_cast<std::size_t>(o)].address;
    Connection& conn = pool_.get(owner);
    const OwnView before = own_view(conn.command({"CLUSTER", "NODES"}), address_text(owner));
    std::string cursor = "0";
    do {
      Reply r = conn.command({"SCAN", cursor, "MATCH", request_.pattern, "COUNT", std::to_string(request_.count)});
      checked(r, "SCAN");
      cursor = std::move(r.elements[0].str);
      for (auto& e : r.elements[1].elements)
        if (key_slot(e.str) == s) keys.push_back(std::move(e.str));
    } while (cursor != "0");
    const OwnView after = own_view(conn.command({"CLUSTER", "NODES"}), address_text(owner));
    if (!stable(before, s) || !stable(after, s)) {
      throw ConnectionError(
          fmt::format("slot {} ({}+ keys) moved while it was scanned: its sessions may be missing "
                      "or repeated above; run again when the resharding is done",
                      s, kSlotReadCap));
    }
  }

  NodePool pool_;  // the consumer thread's connections (re-reads)
  ClusterView view_;
  ScanRequest request_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::size_t batch_target_ = 10000;  // keys per batch a worker hands on
  bool slot_mode_ = true;
  bool joined_ = false;
  std::mutex mu_;
  std::exception_ptr error_;
  std::vector<int> redo_;
  std::vector<int> big_;
  std::vector<std::string> failures_;
  std::string last_failure_;
  Clock::time_point redo_started_, redo_deadline_;
};

}  // namespace

std::unique_ptr<KeyStream> open_cluster_scan(const ConnectionOptions& seed, const ClusterView& view,
                                             const ScanRequest& request, bool no_touch) {
  return std::make_unique<ClusterKeyStream>(seed, view, request, no_touch);
}

}  // namespace sessionctl::redis::cluster
