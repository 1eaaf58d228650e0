// The point lookup of one session by id, and the whole-value reads it uses.
#include "session/value_read.h"

#include <algorithm>
#include <cstdlib>

#include "redis/reply_error.h"
#include "session/scanner.h"

namespace sessionctl {

using redis::Command;
using redis::Reply;

void append_value_command(std::vector<Command>& cmds, const std::string& key, KeyType type) {
  switch (type) {
    case KeyType::hash:
      cmds.push_back({"HGETALL", key});
      break;
    case KeyType::list:
      cmds.push_back({"LRANGE", key, "0", "-1"});
      break;
    case KeyType::set:
      cmds.push_back({"SMEMBERS", key});
      break;
    case KeyType::zset:
      cmds.push_back({"ZRANGE", key, "0", "-1", "WITHSCORES"});
      break;
    default:
      cmds.push_back({"GET", key});
  }
}

bool decode_value(const Reply& r, KeyType type, StoredValue& out) {
  // An error is WRONGTYPE; nil means the key expired or was deleted after TYPE said it existed.
  if (r.is_error() || r.is_nil()) return false;
  switch (type) {
    case KeyType::string:
      out.type = ValueType::string;
      out.raw = r.str;
      return true;
    case KeyType::hash:
      out.type = ValueType::hash;
      for (std::size_t i = 0; i + 1 < r.elements.size(); i += 2)
        out.fields.emplace_back(r.elements[i].str, r.elements[i + 1].str);
      break;
    case KeyType::zset:
      out.type = ValueType::zset;
      for (std::size_t i = 0; i + 1 < r.elements.size(); i += 2) {
        out.scored.emplace_back(r.elements[i].str, std::strtod(r.elements[i + 1].str.c_str(), nullptr));
      }
      break;
    case KeyType::list:
    case KeyType::set:
      out.type = type == KeyType::list ? ValueType::list : ValueType::set;
      for (const auto& e : r.elements) out.items.push_back(e.str);
      break;
    default:
      return false;
  }
  out.total = out.held();
  return true;
}

std::optional<Session> SessionScanner::load(const Profile& p, const std::string& id) {
  std::vector<Command> cmds;
  auto keys = p.keys_for(id);
  for (const auto& [role, key] : keys) {
    cmds.push_back({"TYPE", key});
    cmds.push_back({"PTTL", key});
    cmds.push_back({"MEMORY", "USAGE", key, "SAMPLES", "0"});
  }
  std::vector<Reply> meta = client_.run(cmds);
  for (const auto& r : meta) redis::throw_if_fatal(r, "reading a session");
  Session s;
  s.id = id;
  s.profile = &p;
  std::vector<Command> values;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    KeyInfo k;
    k.key = keys[i].second;
    k.role = keys[i].first->role;
    k.type = parse_key_type(meta[3 * i].str);
    if (k.type == KeyType::other) k.other_type = meta[3 * i].str;
    k.ttl_ms = meta[3 * i + 1].integer;
    if (k.ttl_ms == -2) k.type = KeyType::none;  // expired between TYPE and PTTL
    if (k.exists()) append_value_command(values, k.key, k.type);
    s.keys.push_back(std::move(k));
  }
  const bool any_key = std::any_of(s.keys.begin(), s.keys.end(), [](const KeyInfo& k) { return k.exists(); });
  std::vector<Reply> vals = values.empty() ? std::vector<Reply>{} : client_.run(values);
  for (const auto& r : vals) redis::throw_if_fatal(r, "reading a session");
  std::size_t v = 0;
  for (std::size_t i = 0; i < s.keys.size(); ++i) {
    KeyInfo& k = s.keys[i];
    if (!k.exists()) continue;
    StoredValue sv;
    if (decode_value(vals[v++], k.type, sv)) {
      // Report the value's own size for strings, RAM use for aggregates.
      k.size = k.type == KeyType::string ? static_cast<long long>(sv.raw.size()) : meta[3 * i + 2].integer;
      k.value = std::move(sv);
    }
  }
  for (const auto& ix : p.indexes) {
    if (ix.kind == IndexSpec::Kind::zset_of_ids) {
      Reply score = client_.run1({"ZSCORE", ix.pattern.text(), id});
      if (score.is_string()) s.index_score = std::strtod(score.str.c_str(), nullptr);
    } else if (auto link = field_value(s, ix.link_field)) {
      // The index entry the app keeps for this session (session:chat:{chatId}): part of its group.
      PointerEntry e{ix.role, ix.pattern.key_for(*link), std::nullopt, -2};
      std::vector<Reply> r = client_.run({{"GET", e.key}, {"PTTL", e.key}});
      if (r[0].is_string()) e.target = r[0].str;
      e.ttl_ms = r[1].integer;
      s.pointers.push_back(std::move(e));
    }
  }
  if (!s.primary().exists()) {
    // Related keys or an index entry that outlived the session: shown as an orphan, not "no session".
    if (!any_key && !s.index_score) return std::nullopt;
    s.add_problem(problem::orphan);
    return s;
  }
  analyse_session(s);
  return s;
}

}  // namespace sessionctl
