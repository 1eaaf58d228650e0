#include "report/status.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <map>

#include "redis/reply_error.h"
#include "render/records.h"
#include "render/table.h"
#include "session/scanner.h"
#include "session/session.h"
#include "util/clock.h"
#include "util/duration.h"

namespace sessionctl {

std::vector<std::pair<std::string, std::string>> parse_info(const std::string& info) {
  std::vector<std::pair<std::string, std::string>> out;
  std::size_t start = 0;
  while (start < info.size()) {
    auto end = info.find('\n', start);
    std::string line = info.substr(start, end == std::string::npos ? std::string::npos : end - start);
    start = end == std::string::npos ? info.size() : end + 1;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    out.emplace_back(line.substr(0, colon), line.substr(colon + 1));
  }
  return out;
}

std::optional<double> StatusReport::memory_percent() const {
  if (maxmemory <= 0) return std::nullopt;
  return 100.0 * static_cast<double>(used_memory) / static_cast<double>(maxmemory);
}

namespace {

// One mechanism known to be on is enough to say "not off"; "off" needs both known to be off.
std::optional<bool> off_from(const std::optional<bool>& aof_enabled, bool rdb_save_known, const std::string& rdb_save) {
  if ((aof_enabled && *aof_enabled) || (rdb_save_known && !rdb_save.empty())) return false;
  if (aof_enabled && rdb_save_known) return true;
  return std::nullopt;
}

// "keys=10,expires=8,avg_ttl=0" -> the number after "name=", 0 if absent.
long long keyspace_field(const std::string& ks, const std::string& name) {
  auto pos = ks.find(name + "=");
  return pos == std::string::npos ? 0 : std::atoll(ks.c_str() + pos + name.size() + 1);
}

bool is_unreachable(const redis::Reply& reply) { return reply.str.find("unreachable") != std::string::npos; }

}  // namespace

int NodeStatus::slot_count() const {
  int n = 0;
  for (const auto& [lo, hi] : slots) n += hi - lo + 1;
  return n;
}

std::optional<bool> NodeStatus::persistence_off() const {
  if (!reachable || !info_known) return rdb_save_known && !rdb_save.empty() ? std::optional<bool>(false) : std::nullopt;
  return off_from(aof_enabled, rdb_save_known, rdb_save);
}

std::optional<bool> StatusReport::persistence_off() const {
  if (!cluster) return off_from(aof_enabled, rdb_save_known, rdb_save);
  // Sessions survive a restart of the cluster if any primary keeps them, but only on that primary's slots:
  // "off" means off everywhere, and one primary on is enough to say "not off" (doctor names the disagreement).
  bool all_off = true;
  for (const auto& n : cluster->nodes) {
    if (n.role != "primary") continue;
    auto off = n.persistence_off();
    if (off && !*off) return false;
    if (!off) all_off = false;
  }
  return all_off ? std::optional<bool>(true) : std::nullopt;
}

void read_node_info(NodeStatus& node, const std::string& info, int db) {
  std::map<std::string, std::string> kv;
  for (auto& [k, v] : parse_info(info)) kv.emplace(k, v);
  auto num = [&](const char* k) -> long long {
    auto it = kv.find(k);
    return it == kv.end() ? 0 : std::atoll(it->second.c_str());
  };
  node.info_known = true;
  node.used_memory = num("used_memory");
  node.maxmemory = num("maxmemory");
  node.evicted_keys = num("evicted_keys");
  if (auto it = kv.find("maxmemory_policy"); it != kv.end()) node.maxmemory_policy = it->second;
  if (kv.count("aof_enabled")) node.aof_enabled = num("aof_enabled") != 0;
  if (auto it = kv.find(fmt::format("db{}", db)); it != kv.end()) {
    node.db_keys = keyspace_field(it->second, "keys");
    node.db_expires = keyspace_field(it->second, "expires");
  }
}

void apply_cluster_totals(StatusReport& r) {
  if (!r.cluster) return;
  r.db_keys = r.db_expires = r.used_memory = r.maxmemory = r.evicted_keys = 0;
  for (const auto& n : r.cluster->nodes) {
    if (n.role != "primary" || !n.reachable || !n.info_known) continue;
    r.db_keys += n.db_keys;
    r.db_expires += n.db_expires;
    r.used_memory += n.used_memory;
    r.maxmemory += n.maxmemory;
    r.evicted_keys += n.evicted_keys;
  }
}

StatusReport gather_status(redis::Client& client, const ProfileSet& profiles, redis::NoTouch no_touch,
                           bool count_sessions) {
  StatusReport r;
  const auto& opts = client.options();
  r.db = opts.db;
  r.no_touch = no_touch;
  r.sentinel = client.topology().sentinel;
  std::map<std::string, std::string> info;
  const redis::Topology topo = client.topology();
  const bool in_cluster = topo.kind == redis::TopologyKind::cluster;
  if (in_cluster) {
    ClusterStatus c;
    c.state = topo.cluster_state;
    c.slots_covered = topo.slots_covered;
    for (const auto& n : topo.nodes) {
      NodeStatus ns;
      ns.endpoint = n.endpoint;
      ns.id = n.id;
      ns.role = n.role;
      ns.primary_id = n.primary_id;
      ns.slots = n.slots;
      ns.reachable = n.reachable;
      c.nodes.push_back(std::move(ns));
    }
    r.cluster = std::move(c);
  }
  auto node_named = [&](const std::string& endpoint) -> NodeStatus* {
    if (!r.cluster) return nullptr;
    for (auto& n : r.cluster->nodes) {
      if (n.endpoint == endpoint) return &n;
    }
    return nullptr;
  };
  for (const auto& node :
       client.each_node({"INFO", "everything"}, in_cluster ? redis::NodeSet::all : redis::NodeSet::primaries)) {
    NodeStatus* ns = node_named(node.node);
    if (in_cluster && node.reply.is_error() && is_unreachable(node.reply)) {
      // doctor reports it; the rest of the cluster is still read.
      if (ns) ns->reachable = false;
      continue;
    }
    if (in_cluster && !node.reply.is_error()) {
      if (ns) read_node_info(*ns, node.reply.str, opts.db);
      // The server-wide fields come from the primaries (first wins); a replica's keys are its primary's.
      if (ns && ns->role != "primary") continue;
    }
    if (node.reply.is_error()) {
      if (redis::classify_reply_error(node.reply).cause == redis::ErrorCause::permission) {
        r.notes.push_back("INFO is not permitted for this user: server, memory and persistence fields are unknown");
        r.info_known = false;
        break;
      }
      redis::throw_reply_error(node.reply, "INFO");
    }
    for (auto& [k, v] : parse_info(node.reply.str)) info.emplace(k, v);
  }
  auto num = [&](const char* k) -> long long {
    auto it = info.find(k);
    return it == info.end() ? 0 : std::atoll(it->second.c_str());
  };
  auto str = [&](const char* k) -> std::string {
    auto it = info.find(k);
    return it == info.end() ? "" : it->second;
  };
  r.version = str("redis_version");
  r.mode = str("redis_mode");
  r.role = str("role");
  r.os = str("os");
  r.uptime_s = num("uptime_in_seconds");
  r.connected_clients = num("connected_clients");
  r.loading = num("loading") != 0;
  if (info.count("aof_enabled")) r.aof_enabled = num("aof_enabled") != 0;
  r.rdb_changes_since_save = num("rdb_changes_since_last_save");
  r.rdb_last_save_time = num("rdb_last_save_time");
  r.rdb_last_bgsave_status = str("rdb_last_bgsave_status");
  r.aof_last_write_status = str("aof_last_write_status");
  r.used_memory = num("used_memory");
  r.maxmemory = num("maxmemory");
  r.maxmemory_policy = str("maxmemory_policy");
  r.evicted_keys = num("evicted_keys");
  std::string ks = str(fmt::format("db{}", opts.db).c_str());
  if (!ks.empty()) {
    r.db_keys = keyspace_field(ks, "keys");
    r.db_expires = keyspace_field(ks, "expires");
  }
  apply_cluster_totals(r);

  // CONFIG is often denied to application users; everything else still works.
  redis::Reply cfg = client.run1({"CONFIG", "GET", "save"});
  if (cfg.is_error()) {
    // Denied, or renamed away (managed services): a note. A server that cannot serve at all is fatal.
    const redis::ReplyErrorInfo why = redis::classify_reply_error(cfg);
    if (why.scope == redis::ErrorScope::connection) redis::throw_reply_error(cfg, "CONFIG GET");
    r.notes.push_back(
        fmt::format("CONFIG GET is not {} ({}): the RDB snapshot schedule and appendfsync are unknown; "
                    "ask for +config|get to see them",
                    why.cause == redis::ErrorCause::permission ? "permitted for this user" : "available", why.code));
  } else {
    r.rdb_save_known = true;
    if (cfg.elements.size() == 2) r.rdb_save = cfg.elements[1].str;
    redis::Reply fsync = client.run1({"CONFIG", "GET", "appendfsync"});
    if (!fsync.is_error() && fsync.elements.size() == 2) r.appendfsync = fsync.elements[1].str;
  }
  if (r.cluster && r.rdb_save_known) {
    // Each node's own schedule: nodes may disagree, and doctor says which.
    for (const auto& node : client.each_node({"CONFIG", "GET", "save"}, redis::NodeSet::all)) {
      NodeStatus* ns = node_named(node.node);
      if (!ns || node.reply.is_error() || node.reply.elements.size() != 2) continue;
      ns->rdb_save_known = true;
      ns->rdb_save = node.reply.elements[1].str;
    }
  }
  if (!count_sessions) return r;
  if (no_touch == redis::NoTouch::unsupported) {
    r.notes.push_back(fmt::format("CLIENT NO-TOUCH is not available{}: reading values updates their LRU/LFU clock",
                                  r.info_known ? " (Redis < 7.2)" : ""));
  } else if (no_touch == redis::NoTouch::denied) {
    r.notes.push_back(
        "CLIENT NO-TOUCH is not permitted for this user: reading values updates their LRU/LFU clock; "
        "ask for +client|no-touch");
  }

  for (const auto& p : profiles.all()) {
    ProfileStatus ps;
    ps.profile = p.name;
    if (p.default_ttl) ps.default_ttl_ms = p.default_ttl->count();
    r.profiles.push_back(ps);
  }
  SessionScanner scanner(client, profiles, ScanOptions{});
  scanner.run([&](Session& s) {
    if (!s.profile) {
      ++r.unknown_sessions;
      return true;
    }
    for (auto& ps : r.profiles) {
      if (ps.profile == s.profile->name) ++ps.sessions;
    }
    return true;
  });
  for (const auto& d : scanner.counters().denied) r.notes.push_back(denied_note(d));
  return r;
}

namespace {

// What the sentinels said; counts they did not give are null.
nlohmann::json sentinel_to_json(const redis::SentinelView& v) {
  using nlohmann::json;
  auto known = [](int n) { return n < 0 ? json(nullptr) : json(n); };
  return {{"master_name", v.master_name},
          {"primary", v.primary},
          {"answered_by", v.answered_by},
          {"sentinels", v.sentinels},
          {"unreachable", v.unreachable},
          {"known_sentinels", known(v.known_sentinels)},
          {"reachable_sentinels", known(v.reachable_sentinels)},
          {"quorum", known(v.quorum)},
          {"known_replicas", known(v.known_replicas)}};
}

std::string count_or_unknown(int n) { return n < 0 ? "?" : std::to_string(n); }

// "0-5460,5461" for slot ranges; "-" for none.
std::string slot_ranges_text(const std::vector<std::pair<int, int>>& slots) {
  if (slots.empty()) return "-";
  std::string out;
  for (const auto& [lo, hi] : slots) {
    out += (out.empty() ? "" : ",") + (lo == hi ? std::to_string(lo) : fmt::format("{}-{}", lo, hi));
  }
  return out;
}

nlohmann::json node_to_json(const NodeStatus& n) {
  using nlohmann::json;
  // Without the node's INFO these fields are unknown: null.
  auto info = [&](const json& value) { return n.reachable && n.info_known ? value : json(nullptr); };
  json ranges = json::array();
  for (const auto& [lo, hi] : n.slots) ranges.push_back({lo, hi});
  const auto off = n.persistence_off();
  return {{"endpoint", n.endpoint},
          {"id", n.id},
          {"role", n.role},
          {"primary_id", n.primary_id.empty() ? json(nullptr) : json(n.primary_id)},
          {"slots", n.slot_count()},
          {"slot_ranges", ranges},
          {"reachable", n.reachable},
          {"keys", info(n.db_keys)},
          {"used_bytes", info(n.used_memory)},
          {"maxmemory_policy", info(n.maxmemory_policy)},
          {"evicted_keys", info(n.evicted_keys)},
          {"persistence",
           {{"aof_enabled", n.reachable && n.aof_enabled ? json(*n.aof_enabled) : json(nullptr)},
            {"rdb_save", n.reachable && n.rdb_save_known ? json(n.rdb_save) : json(nullptr)},
            {"off", off ? json(*off) : json(nullptr)}}}};
}

nlohmann::json cluster_to_json(const ClusterStatus& c) {
  nlohmann::json nodes = nlohmann::json::array();
  for (const auto& n : c.nodes) nodes.push_back(node_to_json(n));
  return {{"state", c.state}, {"slots_covered", c.slots_covered}, {"nodes", nodes}};
}

std::string render_nodes(const ClusterStatus& c, const Terminal& term) {
  Table t({{"NODE"},
           {"ROLE"},
           {"SLOTS", Align::right},
           {"RANGES"},
           {"KEYS", Align::right},
           {"MEMORY", Align::right},
           {"POLICY"},
           {"PERSISTENCE"},
           {"EVICTED", Align::right},
           {"REACHABLE"}});
  for (const auto& n : c.nodes) {
    const bool known = n.reachable && n.info_known;
    std::string aof = n.aof_enabled ? (*n.aof_enabled ? "AOF on" : "AOF off") : "AOF ?";
    std::string rdb = n.rdb_save_known ? (n.rdb_save.empty() ? "RDB off" : "RDB on") : "RDB ?";
    const auto off = n.persistence_off();
    t.add({{n.endpoint},
           {n.role},
           {std::to_string(n.slot_count())},
           {slot_ranges_text(n.slots)},
           {known ? std::to_string(n.db_keys) : "?"},
           {known ? human_bytes(n.used_memory) : "?"},
           {known && !n.maxmemory_policy.empty() ? n.maxmemory_policy : "?"},
           {n.reachable ? fmt::format("{}, {}", aof, rdb) : std::string("?"),
            off.value_or(false) ? Style::red : Style::plain},
           {known ? std::to_string(n.evicted_keys) : "?", known && n.evicted_keys > 0 ? Style::yellow : Style::plain},
           {n.reachable ? "yes" : "no", n.reachable ? Style::plain : Style::red}});
  }
  return t.render(term);
}

}  // namespace

nlohmann::json status_to_json(const StatusReport& r) {
  using nlohmann::json;
  json doc = json_document("sessionctl.status", 1);
  // Without INFO these fields are unknown: null, never a misleading 0 or "".
  auto info = [&](const json& value) { return r.info_known ? value : json(nullptr); };
  doc["reachable"] = true;
  doc["url"] = r.url;
  doc["url_source"] = r.url_source;
  doc["server"] = {{"version", info(r.version)},
                   {"mode", info(r.mode)},
                   {"role", info(r.role)},
                   {"uptime_ms", info(r.uptime_s * 1000)},
                   {"connected_clients", info(r.connected_clients)},
                   {"loading", info(r.loading)}};
  const auto last_save = r.rdb_last_save_time > 0 ? rfc3339(static_cast<double>(r.rdb_last_save_time)) : std::nullopt;
  json persistence = {{"aof_enabled", r.aof_enabled ? json(*r.aof_enabled) : json(nullptr)},
                      {"appendfsync", r.appendfsync.empty() ? json(nullptr) : json(r.appendfsync)},
                      {"rdb_save", r.rdb_save_known ? json(r.rdb_save) : json(nullptr)},
                      {"rdb_changes_since_last_save", info(r.rdb_changes_since_save)},
                      {"rdb_last_save_time", last_save ? json(*last_save) : json(nullptr)},
                      {"rdb_last_bgsave_status", info(r.rdb_last_bgsave_status)},
                      {"aof_last_write_status", info(r.aof_last_write_status)},
                      {"off", r.persistence_off() ? json(*r.persistence_off()) : json(nullptr)}};
  doc["persistence"] = persistence;
  auto pct = r.memory_percent();
  doc["memory"] = {{"used_bytes", info(r.used_memory)},
                   {"maxmemory_bytes", info(r.maxmemory)},
                   {"used_percent", pct ? json(*pct) : json(nullptr)},
                   {"maxmemory_policy", info(r.maxmemory_policy)},
                   {"evicted_keys", info(r.evicted_keys)}};
  doc["keyspace"] = {{"db", r.db}, {"keys", info(r.db_keys)}, {"keys_with_ttl", info(r.db_expires)}};
  doc["client_no_touch"] = r.no_touch == redis::NoTouch::on;
  doc["sentinel"] = r.sentinel ? sentinel_to_json(*r.sentinel) : json(nullptr);
  doc["cluster"] = r.cluster ? cluster_to_json(*r.cluster) : json(nullptr);
  json profiles = json::array();
  for (const auto& p : r.profiles) {
    profiles.push_back({{"profile", p.profile},
                        {"sessions", p.sessions},
                        {"default_ttl_ms", p.default_ttl_ms ? json(*p.default_ttl_ms) : json(nullptr)}});
  }
  doc["profiles"] = profiles;
  doc["unknown_sessions"] = r.unknown_sessions;
  doc["notes"] = r.notes;
  return doc;
}

std::string render_status(const StatusReport& r, const Terminal& term) {
  std::string out;
  auto row = [&](const std::string& label, const std::string& value, Style style = Style::plain) {
    out += fmt::format("{:<18}{}\n", label, term.paint(style, value));
  };
  row("url", r.url + (r.url_source == "default" ? "" : fmt::format("  (from {})", r.url_source)));
  row("reachable", "yes", Style::green);
  if (r.sentinel) {
    const redis::SentinelView& v = *r.sentinel;
    row("sentinel master", fmt::format("{} at {} (answered by {})", v.master_name, v.primary, v.answered_by));
    const bool short_of_quorum = v.reachable_sentinels >= 0 && v.quorum > 0 && v.reachable_sentinels < v.quorum;
    row("sentinels",
        fmt::format("{} known, {} reachable, quorum {}", count_or_unknown(v.known_sentinels),
                    count_or_unknown(v.reachable_sentinels), count_or_unknown(v.quorum)),
        short_of_quorum ? Style::red : Style::plain);
    if (!v.unreachable.empty()) row("no answer from", fmt::format("{}", fmt::join(v.unreachable, ", ")), Style::yellow);
    row("replicas", fmt::format("{} known to the sentinels", count_or_unknown(v.known_replicas)),
        v.known_replicas == 0 ? Style::yellow : Style::plain);
  }
  if (r.info_known) {
    row("server",
        fmt::format("Redis {} ({}, {}), up {}", r.version.empty() ? "?" : r.version, r.mode.empty() ? "?" : r.mode,
                    r.role.empty() ? "?" : r.role, format_duration(std::chrono::seconds(r.uptime_s))));
  } else {
    row("server", "unknown (INFO not permitted)", Style::yellow);
  }
  std::string aof =
      r.aof_enabled
          ? (*r.aof_enabled ? "on" + (r.appendfsync.empty() ? "" : " (appendfsync " + r.appendfsync + ")") : "off")
          : "unknown";
  std::string rdb = r.rdb_save_known ? (r.rdb_save.empty() ? "off" : "save " + r.rdb_save) : "unknown";
  row("persistence", fmt::format("AOF {}, RDB {}", aof, rdb),
      r.persistence_off().value_or(false) ? Style::red : Style::plain);
  auto pct = r.memory_percent();
  if (r.info_known) {
    std::string mem =
        human_bytes(r.used_memory) +
        (r.maxmemory > 0 ? fmt::format(" of {} ({:.0f}%)", human_bytes(r.maxmemory), *pct) : " (no maxmemory)");
    row("memory", mem, pct && *pct > 80 ? Style::yellow : Style::plain);
    bool risky_policy = r.maxmemory_policy.rfind("allkeys-", 0) == 0;
    row("eviction",
        fmt::format("{}, {} evicted", r.maxmemory_policy.empty() ? "?" : r.maxmemory_policy,
                    count_of(r.evicted_keys, "key")),
        risky_policy || r.evicted_keys > 0 ? Style::yellow : Style::plain);
    row("keyspace", fmt::format("db{}: {}, {} with TTL", r.db, count_of(r.db_keys, "key"), r.db_expires));
  } else {
    row("memory", "unknown");
    row("eviction", "unknown");
    row("keyspace", fmt::format("db{}: unknown", r.db));
  }
  // Only what the server said: NOPERM says nothing of the version, nor does "unknown subcommand" without INFO.
  row("no-touch reads", r.no_touch == redis::NoTouch::on ? "yes"
                        : r.no_touch == redis::NoTouch::denied
                            ? "no (not permitted for this user)"
                            : (r.info_known ? "no (Redis < 7.2)" : "no (the server has no CLIENT NO-TOUCH)"));
  if (r.cluster) {
    const ClusterStatus& c = *r.cluster;
    row("cluster",
        fmt::format("state {}, {} of 16384 slots covered, {}", c.state.empty() ? "?" : c.state, c.slots_covered,
                    count_of(static_cast<long long>(c.nodes.size()), "node")),
        c.state == "ok" && c.slots_covered == 16384 ? Style::plain : Style::red);
    out += "\n" + render_nodes(c, term);
  }
  out += "\n";
  Table t({{"PROFILE"}, {"SESSIONS", Align::right}, {"DEFAULT TTL", Align::right}});
  for (const auto& p : r.profiles) {
    t.add({{p.profile},
           {std::to_string(p.sessions)},
           {p.default_ttl_ms ? format_duration(std::chrono::milliseconds(*p.default_ttl_ms)) : "-"}});
  }
  if (r.unknown_sessions > 0) t.add({{"unknown", Style::yellow}, {std::to_string(r.unknown_sessions)}, {"-"}});
  out += t.render(term);
  return out;
}

nlohmann::json StatusReport::to_json() const { return status_to_json(*this); }

std::string StatusReport::to_table(const Terminal& term) const { return render_status(*this, term); }

}  // namespace sessionctl
