#include "report/doctor.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <map>
#include <set>

#include "mask/mask.h"
#include "render/format.h"
#include "render/records.h"
#include "session/batch_codec.h"
#include "session/scanner.h"
#include "util/duration.h"

namespace sessionctl {

using nlohmann::json;

namespace {

constexpr std::size_t kExamples = 5;

std::string ttl_arg(const std::optional<std::chrono::milliseconds>& d, const char* fallback) {
  return d ? format_duration(*d) : fallback;
}

// Where a problem on a session of `p` comes from and how to fix it.
Finding session_finding(const std::string& problem_name, const Profile* p) {
  Finding f;
  f.code = problem_name;
  f.profile = p ? p->name : "unknown";
  std::string prof = p ? " --profile " + shell_quote(p->name) : "";
  if (problem_name == problem::no_ttl) {
    f.severity = Severity::error;
    f.message = "session keys without a TTL: they never expire (privacy and memory risk)";
    f.fix = fmt::format("sessionctl extend{} --no-ttl --ttl {} --include-persistent --yes", prof,
                        ttl_arg(p ? p->default_ttl : std::nullopt, "24h"));
  } else if (problem_name == problem::corrupt) {
    f.severity = Severity::error;
    f.message =
        "values that are not valid JSON where the app expects JSON (the app resets or fails on them); "
        "'sessionctl inspect ID' shows one before it is deleted";
    f.fix = fmt::format("sessionctl delete{} --yes ID…", prof);
  } else if (problem_name == problem::binary) {
    f.severity = Severity::error;
    f.message =
        "binary (non-UTF-8) values where the app expects JSON text; 'sessionctl inspect ID' shows one before "
        "it is deleted";
    f.fix = fmt::format("sessionctl delete{} --yes ID…", prof);
  } else if (problem_name == problem::ttl_too_long) {
    f.severity = Severity::warning;
    f.message = fmt::format("TTL longer than the profile allows ({})", ttl_arg(p ? p->max_ttl : std::nullopt, "?"));
    f.fix = fmt::format("sessionctl extend{} --ttl-above {} --ttl {} --yes", prof,
                        ttl_arg(p ? p->max_ttl : std::nullopt, "24h"), ttl_arg(p ? p->max_ttl : std::nullopt, "24h"));
  } else if (problem_name == problem::bad_id) {
    f.severity = Severity::error;
    f.message = "session ids that are not server-made UUIDs: a client chose its own id (seed 001 Q9)";
    f.fix = fmt::format("sessionctl delete{} --yes ID…", prof);
  } else if (problem_name == problem::too_big) {
    f.severity = Severity::warning;
    f.message =
        fmt::format("sessions larger than {} bytes", p && p->max_size ? std::to_string(*p->max_size) : "the threshold");
    f.fix = fmt::format("sessionctl list{} --sort size --limit 20", prof);
  } else if (problem_name == problem::wrong_type) {
    f.severity = Severity::error;
    f.message =
        "keys of another Redis type than the profile's layout says (WRONGTYPE for the app); 'sessionctl "
        "inspect ID' shows one before it is deleted";
    f.fix = fmt::format("sessionctl delete{} --yes ID…", prof);
  } else if (problem_name == problem::unclassified) {
    f.severity = Severity::warning;
    f.message = "keys under a shared session prefix whose value fits no profile";
    f.fix = "sessionctl inspect KEY";
    f.note = "or describe the app that writes them in --profiles-file";
  } else if (problem_name == problem::too_large_to_read) {
    f.severity = Severity::error;
    f.message = fmt::format("values above the {} MiB read cap: sized with STRLEN, never read (a risk for the app too)",
                            kValueReadCap / (1024 * 1024));
    f.fix = fmt::format("sessionctl list{} --sort size --limit 20", prof);
  } else if (problem_name == problem::history_over_cap) {
    f.severity = Severity::warning;
    f.message = "history lists longer than the app's cap (LTRIM not applied)";
    f.fix = fmt::format("sessionctl inspect{} ID", prof);
  } else if (problem_name == problem::wrong_shape) {
    f.severity = Severity::error;
    f.message =
        "valid JSON of a shape the profile does not fit (not an object, an object or list as the state, "
        "or a list where the profile's fields need an object): the app cannot read it";
    f.fix = fmt::format("sessionctl inspect{} ID…", prof);
  } else if (problem_name == problem::bad_timestamp) {
    f.severity = Severity::warning;
    f.message =
        "activity times that cannot be read, lie before 2000 or in the future (beyond 5 minutes of clock "
        "skew): idle time is unknown for them";
    f.fix = fmt::format("sessionctl inspect{} ID…", prof);
  } else {
    f.severity = Severity::warning;
    f.message = problem_name;
    f.fix = "sessionctl inspect ID";
  }
  return f;
}

// An endpoint "host:port" or "[v6]:port" as redis-cli's -h and -p want them.
struct CliAddress {
  std::string host, port;
};
CliAddress cli_address(const std::string& endpoint) {
  auto colon = endpoint.rfind(':');
  std::string host = endpoint.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  return {shell_quote(host), colon == std::string::npos ? "PORT" : endpoint.substr(colon + 1)};
}

std::string redis_cli_at(const std::string& endpoint) {
  const CliAddress a = cli_address(endpoint);
  return fmt::format("redis-cli -h {} -p {}", a.host, a.port);
}

// Whether a failover could happen now, as the sentinels that answered see it.
std::vector<Finding> sentinel_findings(const redis::SentinelView& v) {
  std::vector<Finding> out;
  const std::string name = shell_quote(v.master_name);
  const int majority = v.known_sentinels > 0 ? v.known_sentinels / 2 + 1 : -1;
  if (v.reachable_sentinels >= 0 &&
      ((v.quorum > 0 && v.reachable_sentinels < v.quorum) || (majority > 0 && v.reachable_sentinels < majority))) {
    out.push_back({Severity::warning,
                   "sentinel_quorum",
                   "",
                   fmt::format("only {} of {} sentinels of '{}' are up (quorum {}, majority {}): if the primary "
                               "fails, no failover will happen",
                               v.reachable_sentinels, v.known_sentinels, v.master_name, v.quorum, majority),
                   fmt::format("{} SENTINEL SENTINELS {}", redis_cli_at(v.answered_by), name),
                   1,
                   {},
                   "lists the sentinels and their flags: start those flagged s_down again, then check with "
                   "SENTINEL CKQUORUM"});
  }
  if (v.known_replicas == 0) {
    const CliAddress primary = cli_address(v.primary);
    out.push_back({Severity::warning,
                   "sentinel_no_replica",
                   "",
                   fmt::format("the sentinels know no replica of '{}' ({}): if the primary fails there is nothing "
                               "to promote and the sessions are unavailable",
                               v.master_name, v.primary),
                   fmt::format("redis-cli -h HOST -p PORT REPLICAOF {} {}", primary.host, primary.port),
                   1,
                   {},
                   "HOST and PORT of a server to become its replica"});
  }
  if (!v.unreachable.empty()) {
    out.push_back({Severity::warning, "sentinel_unreachable", "",
                   fmt::format("{} in the URL did not answer (another one did)",
                               count_of(static_cast<long long>(v.unreachable.size()), "sentinel")),
                   fmt::format("{} PING", redis_cli_at(v.unreachable.front())),
                   static_cast<long long>(v.unreachable.size()), v.unreachable,
                   "start it again, or take it out of the URL"});
  }
  return out;
}

// "0-99, 200" for the slots no reachable primary owns, from the owned ranges.
std::vector<std::pair<int, int>> uncovered_slots(const ClusterStatus& c) {
  std::vector<bool> owned(16384, false);
  for (const auto& n : c.nodes) {
    if (n.role != "primary" || !n.reachable) continue;
    for (const auto& [lo, hi] : n.slots) {
      for (int slot = std::max(lo, 0); slot <= std::min(hi, 16383); ++slot)
        owned[static_cast<std::size_t>(slot)] = true;
    }
  }
  std::vector<std::pair<int, int>> out;
  for (int slot = 0; slot < 16384; ++slot) {
    if (owned[static_cast<std::size_t>(slot)]) continue;
    if (!out.empty() && out.back().second == slot - 1) {
      out.back().second = slot;
    } else {
      out.emplace_back(slot, slot);
    }
  }
  return out;
}

std::string ranges_text(const std::vector<std::pair<int, int>>& ranges) {
  std::string out;
  for (const auto& [lo, hi] : ranges) {
    out += (out.empty() ? "" : ", ") + (lo == hi ? std::to_string(lo) : fmt::format("{}-{}", lo, hi));
  }
  return out;
}

// The first reachable node: where to point redis-cli for the cluster as a whole.
std::string any_reachable(const ClusterStatus& c) {
  for (const auto& n : c.nodes) {
    if (n.reachable) return n.endpoint;
  }
  return c.nodes.empty() ? "HOST:PORT" : c.nodes.front().endpoint;
}

// Nodes grouped by a setting's value ("volatile-lru on a:1, b:2; allkeys-lru on c:3"); `value` returns
// nullopt for a node whose setting is unknown, which is left out.
template <typename ValueOf>
std::vector<std::pair<std::string, std::vector<std::string>>> group_nodes(const ClusterStatus& c, ValueOf value) {
  std::vector<std::pair<std::string, std::vector<std::string>>> groups;
  for (const auto& n : c.nodes) {
    if (!n.reachable) continue;
    const std::optional<std::string> v = value(n);
    if (!v) continue;
    auto it = std::find_if(groups.begin(), groups.end(), [&](const auto& g) { return g.first == *v; });
    if (it == groups.end()) {
      groups.push_back({*v, {n.endpoint}});
    } else {
      it->second.push_back(n.endpoint);
    }
  }
  // The most common value first: the others are the odd ones out.
  std::stable_sort(groups.begin(), groups.end(),
                   [](const auto& a, const auto& b) { return a.second.size() > b.second.size(); });
  return groups;
}

std::string groups_text(const std::vector<std::pair<std::string, std::vector<std::string>>>& groups) {
  std::string out;
  for (const auto& [value, nodes] : groups) {
    out += (out.empty() ? "" : "; ") + fmt::format("{} on {}", value, fmt::join(nodes, ", "));
  }
  return out;
}

// Risks of the cluster as a whole: its state, its slots, its replicas, settings that differ between nodes.
std::vector<Finding> cluster_findings(const ClusterStatus& c) {
  std::vector<Finding> out;
  const std::string seed = any_reachable(c);
  if (c.state != "ok") {
    out.push_back({Severity::error,
                   "cluster_state",
                   "",
                   fmt::format("cluster_state is {}: the cluster refuses commands (CLUSTERDOWN) and the app cannot "
                               "read or write sessions",
                               c.state.empty() ? "unknown" : c.state),
                   fmt::format("redis-cli --cluster check {}", seed),
                   1,
                   {},
                   "shows which slots or nodes are at fault; 'redis-cli --cluster fix' repairs slot ownership"});
  }
  if (const auto holes = uncovered_slots(c); !holes.empty()) {
    long long n = 0;
    for (const auto& [lo, hi] : holes) n += hi - lo + 1;
    out.push_back({Severity::error,
                   "slots_uncovered",
                   "",
                   fmt::format("{} served by no reachable primary ({}): sessions hashed there cannot be read or "
                               "written",
                               count_of(n, "slot is", "slots are"), ranges_text(holes)),
                   fmt::format("redis-cli --cluster fix {}", seed),
                   n,
                   {},
                   "or CLUSTER ADDSLOTSRANGE on a primary; start a failed primary again first if it owned them"});
  }
  std::vector<std::string> lonely;
  for (const auto& p : c.nodes) {
    if (p.role != "primary" || p.slots.empty()) continue;
    const bool replicated = std::any_of(c.nodes.begin(), c.nodes.end(), [&](const NodeStatus& r) {
      return r.role == "replica" && r.reachable && !p.id.empty() && r.primary_id == p.id;
    });
    if (!replicated) lonely.push_back(p.endpoint);
  }
  if (!lonely.empty()) {
    const auto* first = &*std::find_if(c.nodes.begin(), c.nodes.end(),
                                       [&](const NodeStatus& n) { return n.endpoint == lonely.front(); });
    out.push_back(
        {Severity::warning, "primary_without_replica", "",
         fmt::format("{} without a replica: if one fails, its slots and their sessions are unavailable",
                     count_of(static_cast<long long>(lonely.size()), "primary", "primaries")),
         fmt::format("redis-cli -h HOST -p PORT CLUSTER REPLICATE {}", first->id.empty() ? "NODE-ID" : first->id),
         static_cast<long long>(lonely.size()), lonely,
         fmt::format("HOST and PORT of an empty node joined with 'redis-cli --cluster add-node HOST:PORT {}'; "
                     "repeat for each primary named",
                     first->endpoint)});
  }
  const auto policies = group_nodes(c, [](const NodeStatus& n) -> std::optional<std::string> {
    if (!n.info_known || n.maxmemory_policy.empty()) return std::nullopt;
    return n.maxmemory_policy;
  });
  if (policies.size() > 1) {
    std::vector<std::string> odd;
    for (std::size_t i = 1; i < policies.size(); ++i)
      odd.insert(odd.end(), policies[i].second.begin(), policies[i].second.end());
    out.push_back({Severity::warning, "maxmemory_policy_differs", "",
                   fmt::format("nodes disagree on maxmemory-policy ({}): sessions are evicted differently depending "
                               "on their slot, and a failover changes the policy",
                               groups_text(policies)),
                   fmt::format("{} CONFIG SET maxmemory-policy {}", redis_cli_at(odd.front()), policies.front().first),
                   static_cast<long long>(odd.size()), odd, "on each node named, then CONFIG REWRITE to keep it"});
  }
  const auto persistence = group_nodes(c, [](const NodeStatus& n) -> std::optional<std::string> {
    if (!n.info_known || !n.aof_enabled) return std::nullopt;
    std::string v = *n.aof_enabled ? "AOF on" : "AOF off";
    if (n.rdb_save_known) v += n.rdb_save.empty() ? ", RDB off" : ", RDB on";
    return v;
  });
  if (persistence.size() > 1) {
    std::vector<std::string> odd;
    for (std::size_t i = 1; i < persistence.size(); ++i) {
      odd.insert(odd.end(), persistence[i].second.begin(), persistence[i].second.end());
    }
    out.push_back({Severity::warning, "persistence_differs", "",
                   fmt::format("nodes disagree on persistence ({}): a restart loses the sessions of some slots only",
                               groups_text(persistence)),
                   fmt::format("{} CONFIG SET appendonly yes", redis_cli_at(odd.front())),
                   static_cast<long long>(odd.size()), odd,
                   "on each node named, as the others are set; then CONFIG REWRITE to keep it"});
  }
  std::vector<std::string> down;
  for (const auto& n : c.nodes) {
    if (!n.reachable) down.push_back(n.endpoint);
  }
  if (!down.empty()) {
    out.push_back({Severity::error, "cluster_node_unreachable", "",
                   fmt::format("{} of the cluster could not be reached: its figures are missing and its slots may "
                               "be unserved",
                               count_of(static_cast<long long>(down.size()), "node")),
                   fmt::format("{} PING", redis_cli_at(down.front())), static_cast<long long>(down.size()), down,
                   "start it again; 'redis-cli --cluster check' shows how the others see it"});
  }
  return out;
}

}  // namespace

const char* severity_name(Severity severity) { return severity == Severity::error ? "error" : "warning"; }

std::string shell_quote(const std::string& w) {
  if (!w.empty() && w.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.:/@%+=,") ==
                        std::string::npos) {
    return w;
  }
  std::string out = "'";
  for (char c : w) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

std::vector<Finding> config_findings(const StatusReport& s) {
  std::vector<Finding> out;
  if (s.persistence_off().value_or(false)) {
    out.push_back({Severity::error,
                   "persistence_off",
                   "",
                   "persistence is off (no AOF, no RDB snapshots): a Redis restart loses every session",
                   "redis-cli CONFIG SET appendonly yes",
                   1,
                   {},
                   "and persist it in redis.conf (CONFIG REWRITE)"});
  }
  // A doctor that could not look must not report a clean bill of health.
  if (!s.info_known || !s.rdb_save_known) {
    std::string missing = !s.info_known && !s.rdb_save_known ? "INFO and CONFIG GET are"
                          : !s.info_known                    ? "INFO is"
                                                             : "CONFIG GET is";
    out.push_back(
        {Severity::warning,
         "config_unchecked",
         "",
         fmt::format("{} not permitted for this user: persistence, eviction and memory risks were not checked",
                     missing),
         "redis-cli ACL SETUSER USER +info '+config|get'",
         1,
         {},
         "or rerun doctor as a user who has them"});
  }
  if (s.maxmemory_policy.rfind("allkeys-", 0) == 0) {
    out.push_back({Severity::warning,
                   "eviction_policy",
                   "",
                   fmt::format("maxmemory-policy {} evicts live sessions (with or without TTL) under memory pressure",
                               s.maxmemory_policy),
                   "redis-cli CONFIG SET maxmemory-policy volatile-lru",
                   1,
                   {},
                   "or volatile-ttl"});
  }
  if (s.evicted_keys > 0) {
    out.push_back({Severity::error,
                   "evicted_keys",
                   "",
                   fmt::format("{} evicted since the server started: sessions may have been lost",
                               count_of(s.evicted_keys, "key was", "keys were")),
                   "redis-cli CONFIG SET maxmemory BYTES",
                   s.evicted_keys,
                   {},
                   "BYTES larger than today's maxmemory; or lower session TTLs"});
  }
  if (auto pct = s.memory_percent(); pct && *pct > 80.0) {
    out.push_back({Severity::warning,
                   "memory_high",
                   "",
                   fmt::format("memory at {:.0f}% of maxmemory", *pct),
                   "redis-cli CONFIG SET maxmemory BYTES",
                   1,
                   {},
                   "BYTES larger than today's maxmemory; or remove dead sessions with 'sessionctl cleanup'"});
  }
  if (s.sentinel) {
    for (auto& f : sentinel_findings(*s.sentinel)) out.push_back(std::move(f));
  }
  if (s.cluster) {
    for (auto& f : cluster_findings(*s.cluster)) out.push_back(std::move(f));
  }
  return out;
}

DoctorReport run_doctor(redis::Client& client, const ProfileSet& profiles, const StatusReport& status, bool reveal,
                        std::function<void(const ScanCounters&)> progress) {
  DoctorReport report;
  report.findings = config_findings(status);
  std::map<std::pair<std::string, std::string>, Finding> grouped;  // (code, profile) -> finding
  std::vector<std::pair<std::string, std::string>> order;
  std::set<std::pair<std::string, std::string>> masked;  // findings with an example shown masked
  const auto shown = [reveal](const std::string& name) { return reveal ? name : mask::mask_shown(name); };
  auto note = [&](Finding f, const std::string& raw) {
    const std::string example = shown(raw);
    auto key = std::make_pair(f.code, f.profile);
    auto it = grouped.find(key);
    if (it == grouped.end()) {
      f.count = 0;
      it = grouped.emplace(key, std::move(f)).first;
      order.push_back(key);
    }
    ++it->second.count;
    if (it->second.examples.size() < kExamples) {
      it->second.examples.push_back(example);
      if (example != raw) masked.insert(key);
    }
  };
  ScanOptions opts;
  opts.fetch_values = true;
  opts.find_orphans = true;
  opts.progress = std::move(progress);
  SessionScanner scanner(client, profiles, opts);
  scanner.run(
      [&](Session& s) {
        ++report.sessions_checked;
        for (const auto& p : s.problems) note(session_finding(p, s.profile), s.profile ? s.id : s.primary().key);
        return true;
      },
      [&](const Orphan& o) {
        Finding f{Severity::warning,
                  "orphan",
                  o.profile,
                  "index entries or related keys that outlived their session (no TTL, or a longer one)",
                  fmt::format("sessionctl cleanup --profile {} --yes", shell_quote(o.profile)),
                  1,
                  {},
                  {}};
        note(std::move(f), o.member.empty() ? o.key : shown(o.key) + " → " + shown(o.member));
      });
  for (const auto& key : order) {
    Finding& f = grouped[key];
    // With every affected id at hand, the fix names them: a command to copy, not a template.
    // Only for a known profile (unknown sessions' examples are keys, not ids), and after "--" so that
    // a client-chosen id such as "--match=*" can never be read as an option.
    const auto pos = f.fix.find("ID…");
    const bool names_ids =
        pos != std::string::npos && f.profile != "unknown" && f.count == static_cast<long long>(f.examples.size()) &&
        std::none_of(f.examples.begin(), f.examples.end(), [](const std::string& e) {
          return std::any_of(e.begin(), e.end(), [](unsigned char c) { return c < 0x20 || c == 0x7f; });
        });
    if (names_ids && masked.count(key)) {
      // A masked id names no session, so a fix with one would not run: it keeps "ID…" and says why.
      f.note = (f.note.empty() ? "" : f.note + "; ") +
               "some ids are personal data and shown masked; 'sessionctl doctor --reveal' names them in the fix";
    } else if (names_ids) {
      std::string ids = "--";
      for (const auto& e : f.examples) ids += " " + shell_quote(e);
      f.fix.replace(pos, std::string("ID…").size(), ids);
    }
    report.findings.push_back(std::move(f));
  }
  return report;
}

json doctor_to_json(const DoctorReport& r) {
  json doc = json_document("sessionctl.doctor", 1);
  doc["ok"] = r.ok();
  doc["sessions_checked"] = r.sessions_checked;
  json findings = json::array();
  for (const auto& f : r.findings) {
    findings.push_back({{"severity", severity_name(f.severity)},
                        {"code", f.code},
                        {"profile", f.profile.empty() ? json(nullptr) : json(f.profile)},
                        {"message", f.message},
                        {"count", f.count},
                        {"examples", f.examples},
                        {"fix", f.fix}});
    if (!f.note.empty()) findings.back()["note"] = f.note;
  }
  doc["findings"] = findings;
  return doc;
}

std::string render_doctor(const DoctorReport& r, const Terminal& term) {
  if (r.ok()) {
    return term.paint(Style::green,
                      fmt::format("no problems found ({} checked)\n", count_of(r.sessions_checked, "session")));
  }
  std::string out;
  for (const auto& f : r.findings) {
    Style st = f.severity == Severity::error ? Style::red : Style::yellow;
    out += term.paint(st, severity_name(f.severity)) + "  ";
    if (!f.profile.empty()) out += term.paint(Style::bold, f.profile) + ": ";
    out += f.count > 1 && !f.profile.empty() ? fmt::format("{} × {}", f.count, f.message) : f.message;
    out += fmt::format("  [{}]\n", f.code);
    if (!f.examples.empty()) {
      std::string ex;
      for (const auto& e : f.examples) ex += (ex.empty() ? "" : ", ") + printable(e);
      if (f.count > static_cast<long long>(f.examples.size())) ex += ", …";
      out += term.paint(Style::dim, "       e.g. " + ex) + "\n";
    }
    out += "       fix: " + term.paint(Style::cyan, f.fix) + "\n";
    if (!f.note.empty()) out += term.paint(Style::dim, "       note: " + f.note) + "\n";
  }
  out += fmt::format("\n{} found ({} checked)\n", count_of(static_cast<long long>(r.findings.size()), "problem"),
                     count_of(r.sessions_checked, "session"));
  return out;
}

json DoctorReport::to_json() const { return doctor_to_json(*this); }

std::string DoctorReport::to_table(const Terminal& term) const { return render_doctor(*this, term); }

std::vector<json> DoctorReport::to_json_lines() const {
  json doc = doctor_to_json(*this);
  return doc["findings"].get<std::vector<json>>();
}

}  // namespace sessionctl
