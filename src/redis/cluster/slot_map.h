// A cluster's layout as its nodes describe it: who owns each slot (CLUSTER SLOTS), cross-checked with
// CLUSTER NODES (flags, failed nodes, replicas without slots, and the slots a node is migrating or
// importing, which only that node's own line shows).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "redis/cluster/slot.h"
#include "redis/reply.h"

namespace sessionctl::redis::cluster {

// One node as CLUSTER NODES shows it.
struct NodeLine {
  std::string id;
  std::string host;  // "" when the node announces no address (it uses the one we reached it on)
  int port = 0;
  std::string hostname;    // cluster-announce-hostname, when set
  std::string flags;       // "myself,master", "slave", "master,fail"…
  std::string primary_id;  // a replica's primary; "" for a primary
  bool myself = false;
  bool primary = false;
  bool failed = false;  // fail or pfail or noaddr: not to be read from
  std::string link_state;
  std::vector<std::pair<int, int>> slots;              // owned ranges, inclusive
  std::vector<std::pair<int, std::string>> migrating;  // slot → target node id ([slot->-id], own line only)
  std::vector<std::pair<int, std::string>> importing;  // slot → source node id ([slot-<-id], own line only)
};

// Parses CLUSTER NODES; throws ReplyError on a line it cannot read.
std::vector<NodeLine> parse_cluster_nodes(std::string_view text);

// The node an address names, for connecting.
struct NodeAddress {
  std::string host;
  int port = 0;
  std::string hostname;  // announced host name (TLS name check), may be empty
  std::string id;
  bool operator==(const NodeAddress& o) const { return host == o.host && port == o.port; }
};

// Owner of every slot, with each primary's replicas.
class SlotMap {
 public:
  struct Primary {
    NodeAddress address;
    std::vector<NodeAddress> replicas;
    std::vector<std::pair<int, int>> slots;
  };

  // From a CLUSTER SLOTS reply; `fallback_host` replaces an empty or "?" address. Throws ReplyError when
  // the reply is not CLUSTER SLOTS.
  static SlotMap from_cluster_slots(const Reply& reply, const std::string& fallback_host);

  // Index into primaries() of the slot's owner, -1 when no primary covers it.
  int owner(int slot) const { return owner_[static_cast<std::size_t>(slot)]; }
  const std::vector<Primary>& primaries() const { return primaries_; }
  // Slots no primary owns, as ranges.
  std::vector<std::pair<int, int>> uncovered() const;
  int covered_count() const;
  // Whether both maps give every slot to the same address.
  bool same_owners(const SlotMap& other) const;
  // Index of the primary at this address, -1 when none.
  int find(const std::string& host, int port) const;
  // The owner of each slot by node id (CLUSTER NODES), for cross-checking: true when every slot that
  // `nodes` assigns has the same owner id here (nodes without an id in the SLOTS reply compare by address).
  bool agrees_with(const std::vector<NodeLine>& nodes) const;
  // Moves a slot to the primary at `to` (after a MOVED), adding it when unknown.
  void reassign(int slot, const NodeAddress& to);

 private:
  std::vector<Primary> primaries_;
  std::array<std::int16_t, kSlots> owner_{};
};

// "0-5460,5462" style text for slot ranges, for messages.
std::string describe_slots(const std::vector<std::pair<int, int>>& ranges);
// Collapses sorted slot numbers into ranges.
std::vector<std::pair<int, int>> to_ranges(std::vector<int> slots);

}  // namespace sessionctl::redis::cluster
