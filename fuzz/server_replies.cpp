// The parsers of what servers answer, on arbitrary bytes read as RESP by the same reader a connection
// uses: CLUSTER SLOTS into a slot map, CLUSTER NODES lines (from any bulk string) and the cross-check of
// the two, and the sentinel replies (GET-MASTER-ADDR-BY-NAME, SENTINEL MASTER, SENTINEL SENTINELS, ROLE).
// A malformed reply is a ReplyError or ConnectionError, never a crash or an out-of-range slot.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "redis/client.h"
#include "redis/cluster/slot_map.h"
#include "redis/connection.h"
#include "redis/sentinel.h"
#include "util/errors.h"

namespace {

using sessionctl::redis::Reply;
namespace cluster = sessionctl::redis::cluster;

void check_map(const cluster::SlotMap& map) {
  const int primaries = static_cast<int>(map.primaries().size());
  for (int s = 0; s < cluster::kSlots; ++s) {
    const int o = map.owner(s);
    if (o < -1 || o >= primaries) __builtin_trap();
  }
  (void)map.uncovered();
  (void)map.covered_count();
}

void parse_one(const Reply& reply, std::vector<cluster::NodeLine>& nodes) {
  try {
    const cluster::SlotMap map = cluster::SlotMap::from_cluster_slots(reply, "127.0.0.1");
    check_map(map);
    (void)map.agrees_with(nodes);
  } catch (const sessionctl::Error&) {
  }
  if (reply.is_string()) {
    try {
      nodes = cluster::parse_cluster_nodes(reply.str);
      for (const auto& n : nodes)
        for (const auto& [lo, hi] : n.slots)
          if (lo < 0 || hi >= cluster::kSlots || lo > hi) __builtin_trap();
    } catch (const sessionctl::Error&) {
    }
  }
  (void)sessionctl::redis::master_address(reply);
  sessionctl::redis::SentinelView view;
  sessionctl::redis::read_master_fields(reply, view);
  (void)sessionctl::redis::usable_sentinels(reply);
  (void)sessionctl::redis::role_name(reply);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::vector<Reply> replies;
  try {
    replies = sessionctl::redis::parse_replies(std::string_view(reinterpret_cast<const char*>(data), size));
  } catch (const sessionctl::Error&) {
    return 0;
  }
  std::vector<cluster::NodeLine> nodes;
  for (const auto& r : replies) parse_one(r, nodes);
  return 0;
}
