#include "redis/cluster/slot_map.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

#include "util/errors.h"

namespace sessionctl::redis::cluster {
namespace {

std::vector<std::string_view> split(std::string_view text, char sep) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    auto end = text.find(sep, start);
    if (end == std::string_view::npos) end = text.size();
    if (end > start) out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

bool to_int(std::string_view digits, int& out) {
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), out);
  return !digits.empty() && ec == std::errc() && ptr == digits.data() + digits.size();
}

[[noreturn]] void bad(std::string_view what, std::string_view line) {
  throw ReplyError(fmt::format("unexpected CLUSTER {} reply: {:.120}", what, line));
}

bool valid_slot(int s) { return s >= 0 && s < kSlots; }

}  // namespace

std::vector<NodeLine> parse_cluster_nodes(std::string_view text) {
  std::vector<NodeLine> out;
  for (std::string_view line : split(text, '\n')) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    auto f = split(line, ' ');
    if (f.size() < 8) bad("NODES", line);
    NodeLine n;
    n.id = std::string(f[0]);
    // "ip:port@cport[,hostname]"
    std::string_view addr = f[1];
    if (auto comma = addr.find(','); comma != std::string_view::npos) {
      n.hostname = std::string(addr.substr(comma + 1));
      addr = addr.substr(0, comma);
    }
    if (auto at = addr.find('@'); at != std::string_view::npos) addr = addr.substr(0, at);
    auto colon = addr.rfind(':');
    if (colon == std::string_view::npos) bad("NODES", line);
    n.host = std::string(addr.substr(0, colon));
    if (n.host.size() >= 2 && n.host.front() == '[' && n.host.back() == ']')
      n.host = n.host.substr(1, n.host.size() - 2);
    if (!to_int(addr.substr(colon + 1), n.port)) bad("NODES", line);
    n.flags = std::string(f[2]);
    for (auto flag : split(f[2], ',')) {
      if (flag == "myself") n.myself = true;
      if (flag == "master") n.primary = true;
      if (flag == "fail" || flag == "fail?" || flag == "noaddr" || flag == "handshake") n.failed = true;
    }
    if (f[3] != "-") n.primary_id = std::string(f[3]);
    n.link_state = std::string(f[7]);
    for (std::size_t i = 8; i < f.size(); ++i) {
      std::string_view s = f[i];
      if (s.size() > 2 && s.front() == '[' && s.back() == ']') {
        s = s.substr(1, s.size() - 2);
        int slot = 0;
        if (auto p = s.find("->-"); p != std::string_view::npos && to_int(s.substr(0, p), slot) && valid_slot(slot)) {
          n.migrating.emplace_back(slot, std::string(s.substr(p + 3)));
        } else if (auto q = s.find("-<-");
                   q != std::string_view::npos && to_int(s.substr(0, q), slot) && valid_slot(slot)) {
          n.importing.emplace_back(slot, std::string(s.substr(q + 3)));
        } else {
          bad("NODES", line);
        }
        continue;
      }
      int lo = 0, hi = 0;
      if (auto dash = s.find('-'); dash != std::string_view::npos) {
        if (!to_int(s.substr(0, dash), lo) || !to_int(s.substr(dash + 1), hi)) bad("NODES", line);
      } else {
        if (!to_int(s, lo)) bad("NODES", line);
        hi = lo;
      }
      if (!valid_slot(lo) || !valid_slot(hi) || lo > hi) bad("NODES", line);
      n.slots.emplace_back(lo, hi);
    }
    out.push_back(std::move(n));
  }
  return out;
}

SlotMap SlotMap::from_cluster_slots(const Reply& reply, const std::string& fallback_host) {
  if (reply.type != Reply::Type::array) bad("SLOTS", reply.str);
  SlotMap m;
  m.owner_.fill(-1);
  auto address = [&](const Reply& node) {
    if (node.type != Reply::Type::array || node.elements.size() < 2 || node.elements[1].type != Reply::Type::integer)
      bad("SLOTS", "node entry");
    NodeAddress a;
    a.host = node.elements[0].str;
    if (a.host.empty() || a.host == "?") a.host = fallback_host;
    a.port = static_cast<int>(node.elements[1].integer);
    if (node.elements.size() > 2) a.id = node.elements[2].str;
    // Redis 7: a map of metadata, flattened in RESP2: "hostname", "name", …
    if (node.elements.size() > 3 && node.elements[3].type == Reply::Type::array) {
      const auto& meta = node.elements[3].elements;
      for (std::size_t i = 0; i + 1 < meta.size(); i += 2)
        if (meta[i].str == "hostname") a.hostname = meta[i + 1].str;
    }
    return a;
  };
  for (const Reply& range : reply.elements) {
    if (range.type != Reply::Type::array || range.elements.size() < 3) bad("SLOTS", "range entry");
    const int lo = static_cast<int>(range.elements[0].integer);
    const int hi = static_cast<int>(range.elements[1].integer);
    if (!valid_slot(lo) || !valid_slot(hi) || lo > hi) bad("SLOTS", "slot range");
    NodeAddress primary = address(range.elements[2]);
    int index = m.find(primary.host, primary.port);
    if (index < 0) {
      index = static_cast<int>(m.primaries_.size());
      m.primaries_.push_back(Primary{primary, {}, {}});
    }
    Primary& p = m.primaries_[static_cast<std::size_t>(index)];
    p.slots.emplace_back(lo, hi);
    for (std::size_t r = 3; r < range.elements.size(); ++r) {
      NodeAddress replica = address(range.elements[r]);
      if (std::find(p.replicas.begin(), p.replicas.end(), replica) == p.replicas.end()) p.replicas.push_back(replica);
    }
    for (int s = lo; s <= hi; ++s) m.owner_[static_cast<std::size_t>(s)] = static_cast<std::int16_t>(index);
  }
  for (auto& p : m.primaries_) std::sort(p.slots.begin(), p.slots.end());
  return m;
}

std::vector<std::pair<int, int>> SlotMap::uncovered() const {
  std::vector<int> slots;
  for (int s = 0; s < kSlots; ++s)
    if (owner(s) < 0) slots.push_back(s);
  return to_ranges(std::move(slots));
}

int SlotMap::covered_count() const {
  return static_cast<int>(std::count_if(owner_.begin(), owner_.end(), [](std::int16_t o) { return o >= 0; }));
}

bool SlotMap::same_owners(const SlotMap& other) const {
  for (int s = 0; s < kSlots; ++s) {
    const int a = owner(s), b = other.owner(s);
    if ((a < 0) != (b < 0)) return false;
    if (a >= 0 &&
        !(primaries_[static_cast<std::size_t>(a)].address == other.primaries_[static_cast<std::size_t>(b)].address))
      return false;
  }
  return true;
}

int SlotMap::find(const std::string& host, int port) const {
  for (std::size_t i = 0; i < primaries_.size(); ++i)
    if (primaries_[i].address.host == host && primaries_[i].address.port == port) return static_cast<int>(i);
  return -1;
}

bool SlotMap::agrees_with(const std::vector<NodeLine>& nodes) const {
  for (const auto& n : nodes) {
    if (!n.primary) continue;
    for (auto [lo, hi] : n.slots) {
      for (int s = lo; s <= hi; ++s) {
        const int o = owner(s);
        if (o < 0) return false;
        const NodeAddress& a = primaries_[static_cast<std::size_t>(o)].address;
        if (!a.id.empty() ? a.id != n.id : a.port != n.port) return false;
      }
    }
  }
  return true;
}

void SlotMap::reassign(int slot, const NodeAddress& to) {
  int index = find(to.host, to.port);
  if (index < 0) {
    index = static_cast<int>(primaries_.size());
    primaries_.push_back(Primary{to, {}, {}});
  }
  owner_[static_cast<std::size_t>(slot)] = static_cast<std::int16_t>(index);
}

std::string describe_slots(const std::vector<std::pair<int, int>>& ranges) {
  std::string out;
  for (auto [lo, hi] : ranges) {
    if (!out.empty()) out += ',';
    out += lo == hi ? std::to_string(lo) : fmt::format("{}-{}", lo, hi);
  }
  return out;
}

std::vector<std::pair<int, int>> to_ranges(std::vector<int> slots) {
  std::sort(slots.begin(), slots.end());
  slots.erase(std::unique(slots.begin(), slots.end()), slots.end());
  std::vector<std::pair<int, int>> out;
  for (int s : slots) {
    if (!out.empty() && out.back().second + 1 == s) {
      out.back().second = s;
    } else {
      out.emplace_back(s, s);
    }
  }
  return out;
}

}  // namespace sessionctl::redis::cluster
