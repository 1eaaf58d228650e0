#include "session_scanner.h"

#include <fmt/format.h>

#include "util/interrupt.h"

namespace sessionctl {

using redis::Command;
using redis::Reply;

void append_value_command(std::vector<Command>& cmds, const std::string& key, const std::string& type) {
  if (type == "hash") {
    cmds.push_back({"HGETALL", key});
  } else if (type == "list") {
    cmds.push_back({"LRANGE", key, "0", "-1"});
  } else if (type == "set") {
    cmds.push_back({"SMEMBERS", key});
  } else if (type == "zset") {
    cmds.push_back({"ZRANGE", key, "0", "-1", "WITHSCORES"});
  } else {
    cmds.push_back({"GET", key});
  }
}

bool decode_value(const Reply& r, const std::string& type, StoredValue& out) {
  if (r.is_error()) return false;
  out.type = type;
  if (type == "string") {
    out.raw = r.str;
  } else if (type == "hash") {
    for (std::size_t i = 0; i + 1 < r.elements.size(); i += 2) out.fields.emplace_back(r.elements[i].str, r.elements[i + 1].str);
  } else if (type == "zset") {
    for (std::size_t i = 0; i + 1 < r.elements.size(); i += 2) {
      out.scored.emplace_back(r.elements[i].str, std::strtod(r.elements[i + 1].str.c_str(), nullptr));
    }
  } else {
    for (const auto& e : r.elements) out.items.push_back(e.str);
  }
  return true;
}

namespace {

// The size command for an expected type: O(1) STRLEN for strings, MEMORY USAGE otherwise.
Command size_command(const std::string& key, ValueType t) {
  if (t == ValueType::string) return {"STRLEN", key};
  return {"MEMORY", "USAGE", key, "SAMPLES", "0"};
}

}  // namespace

struct SessionScanner::Candidate {
  std::vector<const Profile*> profiles;  // more than one when the layout is shared (session:*)
  std::string id;
  std::string key;
};

SessionScanner::SessionScanner(redis::Client& client, const ProfileSet& profiles, ScanOptions options)
    : client_(client), profiles_(profiles), options_(std::move(options)) {}

std::string SessionScanner::scan_glob() const {
  std::string glob;
  for (const auto& p : profiles_.all()) {
    std::vector<std::string> globs{p.primary.pattern.scan_glob()};
    if (options_.find_orphans) {
      for (const auto& r : p.related) globs.push_back(r.pattern.scan_glob());
      for (const auto& ix : p.indexes) globs.push_back(ix.pattern.scan_glob());
    }
    for (const auto& g : globs) {
      if (glob.empty()) {
        glob = g;
      } else if (glob != g) {
        // session:* covers session:chat:*; anything else needs a full pass.
        auto covers = [](const std::string& wide, const std::string& narrow) {
          return wide.size() >= 1 && wide.back() == '*' && wide.find_first_of("*?[\\") == wide.size() - 1 &&
                 narrow.starts_with(wide.substr(0, wide.size() - 1));
        };
        if (covers(g, glob)) {
          glob = g;
        } else if (!covers(glob, g)) {
          return "*";
        }
      }
    }
  }
  return glob.empty() ? "*" : glob;
}

void SessionScanner::run(const std::function<bool(Session&)>& on_session,
                         const std::function<void(const Orphan&)>& on_orphan) {
  redis::ScanRequest req;
  req.pattern = scan_glob();
  req.count = options_.scan_count;
  bool stopped = false;
  client_.scan(req, [&](std::vector<std::string>& keys) {
    check_interrupted();
    if (!process_batch(keys, on_session, on_orphan)) {
      stopped = true;
      return false;
    }
    return true;
  });
  if (!stopped && options_.find_orphans && on_orphan) scan_zset_indexes(on_orphan);
}

bool SessionScanner::process_batch(std::vector<std::string>& keys, const std::function<bool(Session&)>& on_session,
                                   const std::function<void(const Orphan&)>& on_orphan) {
  std::vector<Candidate> primaries;
  struct RelatedCheck {
    const Profile* profile;
    std::string key, id;
  };
  std::vector<RelatedCheck> related_checks;
  struct PointerCheck {
    const Profile* profile;
    const IndexSpec* index;
    std::string key;
  };
  std::vector<PointerCheck> pointer_checks;

  for (auto& key : keys) {
    Candidate cand;
    for (const auto& p : profiles_.all()) {
      if (options_.find_orphans) {
        if (const IndexSpec* ix = p.match_index(key); ix && ix->kind == IndexSpec::Kind::pointer_key) {
          pointer_checks.push_back({&p, ix, key});
          continue;
        }
      }
      auto m = p.match_key(key);
      if (!m) continue;
      if (!options_.id_glob.empty() && !glob_match(options_.id_glob, m->second)) continue;
      if (m->first == &p.primary) {
        cand.profiles.push_back(&p);
        cand.id = m->second;
      } else if (options_.find_orphans) {
        related_checks.push_back({&p, key, m->second});
      }
    }
    if (!cand.profiles.empty()) {
      cand.key = std::move(key);
      primaries.push_back(std::move(cand));
    }
  }
  counters_.keys_seen += static_cast<long long>(primaries.size() + related_checks.size() + pointer_checks.size());

  // One pipeline for the whole batch. Per primary: TYPE, PTTL, size[, value] for each key of the
  // session, then index lookups. Layout: remembered as offsets.
  std::vector<Command> cmds;
  cmds.reserve(primaries.size() * 4 + related_checks.size() + pointer_checks.size());
  std::vector<std::size_t> offsets;
  for (const auto& c : primaries) {
    offsets.push_back(cmds.size());
    const Profile& p = *c.profiles.front();
    bool want_value = options_.fetch_values || c.profiles.size() > 1;
    for (const auto& [role, key] : p.keys_for(c.id)) {
      cmds.push_back({"TYPE", key});
      cmds.push_back({"PTTL", key});
      cmds.push_back(size_command(key, role->type));
      if (want_value) append_value_command(cmds, key, value_type_name(role->type));
    }
    for (const auto& ix : p.indexes) {
      if (ix.kind == IndexSpec::Kind::zset_of_ids) cmds.push_back({"ZSCORE", ix.pattern.text(), c.id});
    }
  }
  std::size_t related_offset = cmds.size();
  for (const auto& r : related_checks) cmds.push_back({"EXISTS", r.profile->primary.pattern.key_for(r.id)});
  std::size_t pointer_offset = cmds.size();
  for (const auto& pc : pointer_checks) {
    cmds.push_back({"GET", pc.key});
    cmds.push_back({"PTTL", pc.key});
  }
  if (cmds.empty()) return true;
  std::vector<Reply> replies = client_.run(cmds);
  for (const auto& r : replies) {
    // Auth and availability problems abort; per-key errors (WRONGTYPE) are data.
    std::string code = r.error_code();
    if (code == "NOPERM" || code == "NOAUTH" || code == "LOADING") redis::throw_reply_error(r, "reading sessions");
  }

  for (std::size_t i = 0; i < primaries.size(); ++i) {
    const Candidate& c = primaries[i];
    std::size_t at = offsets[i];
    Session s;
    s.id = c.id;
    s.profile = c.profiles.front();
    const Profile& p = *s.profile;
    bool want_value = options_.fetch_values || c.profiles.size() > 1;
    for (const auto& [role, key] : p.keys_for(c.id)) {
      KeyInfo k;
      k.key = key;
      k.role = role->role;
      k.type = replies[at].str;
      k.ttl_ms = replies[at + 1].integer;
      const Reply& size = replies[at + 2];
      k.size = size.is_error() ? 0 : size.integer;
      at += 3;
      if (want_value) {
        StoredValue v;
        if (k.exists() && decode_value(replies[at], value_type_name(role->type), v)) k.value = std::move(v);
        ++at;
      }
      s.keys.push_back(std::move(k));
    }
    for (const auto& ix : p.indexes) {
      if (ix.kind != IndexSpec::Kind::zset_of_ids) continue;
      const Reply& score = replies[at++];
      if (score.is_string()) s.index_score = std::strtod(score.str.c_str(), nullptr);
    }
    if (!s.primary().exists()) {
      ++counters_.vanished;  // expired or deleted since SCAN returned it
      continue;
    }
    if (s.primary().type == "string" && s.primary().size == 0 && s.primary().value) {
      s.keys.front().size = static_cast<long long>(s.primary().value->raw.size());
    }
    if (c.profiles.size() > 1) {
      // A shared layout (session:*): the value's shape says which app wrote it.
      s.profile = nullptr;
      if (s.primary().value) {
        if (auto doc = parse_json(s.primary().value->raw)) {
          for (const Profile* cp : c.profiles) {
            if (cp->shape_matches(*doc)) {
              s.profile = cp;
              break;
            }
          }
        } else {
          s.add_problem(is_utf8(s.primary().value->raw) ? problem::corrupt : problem::binary);
        }
      }
      if (!s.profile) {
        s.layout = c.profiles.front()->primary.pattern.text();
        ++counters_.unclassified;
      }
      if (!options_.fetch_values) {
        for (auto& k : s.keys) k.value.reset();  // fetched for detection only
        if (s.profile) {
          // Keep detection-only reads from turning into findings the caller did not ask for.
        }
      }
    }
    analyse_session(s);
    ++counters_.sessions;
    if (!on_session(s)) return false;
  }

  if (on_orphan) {
    for (std::size_t i = 0; i < related_checks.size(); ++i) {
      const Reply& r = replies[related_offset + i];
      if (r.type == Reply::Type::integer && r.integer == 0) {
        ++counters_.orphans;
        on_orphan(Orphan{related_checks[i].profile->name, related_checks[i].key, "", "its session's primary key is gone", -2});
      }
    }
    // Pointer indexes (session:chat:{chat_id} -> id): check the target exists, in a second round trip.
    std::vector<Command> exists;
    std::vector<std::size_t> which;
    for (std::size_t i = 0; i < pointer_checks.size(); ++i) {
      const Reply& target = replies[pointer_offset + 2 * i];
      if (!target.is_string()) continue;
      exists.push_back({"EXISTS", pointer_checks[i].profile->primary.pattern.key_for(target.str)});
      which.push_back(i);
    }
    if (!exists.empty()) {
      std::vector<Reply> ex = client_.run(exists);
      for (std::size_t j = 0; j < ex.size(); ++j) {
        if (ex[j].type == Reply::Type::integer && ex[j].integer == 0) {
          const auto& pc = pointer_checks[which[j]];
          ++counters_.orphans;
          on_orphan(Orphan{pc.profile->name, pc.key, replies[pointer_offset + 2 * which[j]].str,
                           "points at a session that does not exist", replies[pointer_offset + 2 * which[j] + 1].integer});
        }
      }
    }
  }
  return true;
}

void SessionScanner::scan_zset_indexes(const std::function<void(const Orphan&)>& on_orphan) {
  for (const auto& p : profiles_.all()) {
    for (const auto& ix : p.indexes) {
      if (ix.kind != IndexSpec::Kind::zset_of_ids) continue;
      const std::string& key = ix.pattern.text();
      std::string cursor = "0";
      do {
        check_interrupted();
        Reply r = client_.run1({"ZSCAN", key, cursor, "COUNT", "1000"});
        if (r.is_error()) {
          if (r.error_code() == "WRONGTYPE") break;
          redis::throw_reply_error(r, "ZSCAN " + key);
        }
        if (r.elements.size() != 2) break;
        cursor = r.elements[0].str;
        const auto& items = r.elements[1].elements;
        std::vector<Command> exists;
        std::vector<std::string> members;
        for (std::size_t i = 0; i + 1 < items.size(); i += 2) {
          members.push_back(items[i].str);
          exists.push_back({"EXISTS", p.primary.pattern.key_for(items[i].str)});
        }
        if (exists.empty()) continue;
        std::vector<Reply> ex = client_.run(exists);
        for (std::size_t i = 0; i < ex.size(); ++i) {
          if (ex[i].type == Reply::Type::integer && ex[i].integer == 0) {
            ++counters_.orphans;
            on_orphan(Orphan{p.name, key, members[i], "member whose session is gone", -1});
          }
        }
      } while (cursor != "0");
    }
  }
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
  for (const auto& r : meta) {
    std::string code = r.error_code();
    if (code == "NOPERM" || code == "NOAUTH" || code == "LOADING") redis::throw_reply_error(r, "reading a session");
  }
  Session s;
  s.id = id;
  s.profile = &p;
  std::vector<Command> values;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    KeyInfo k;
    k.key = keys[i].second;
    k.role = keys[i].first->role;
    k.type = meta[3 * i].str;
    k.ttl_ms = meta[3 * i + 1].integer;
    if (k.exists()) append_value_command(values, k.key, k.type);
    s.keys.push_back(std::move(k));
  }
  if (!s.primary().exists()) return std::nullopt;
  std::vector<Reply> vals = client_.run(values);
  std::size_t v = 0;
  for (std::size_t i = 0; i < s.keys.size(); ++i) {
    KeyInfo& k = s.keys[i];
    if (!k.exists()) continue;
    StoredValue sv;
    if (decode_value(vals[v++], k.type, sv)) {
      // Report the value's own size for strings, RAM use for aggregates.
      k.size = k.type == "string" ? static_cast<long long>(sv.raw.size()) : meta[3 * i + 2].integer;
      k.value = std::move(sv);
    }
  }
  for (const auto& ix : p.indexes) {
    if (ix.kind == IndexSpec::Kind::zset_of_ids) {
      Reply score = client_.run1({"ZSCORE", ix.pattern.text(), id});
      if (score.is_string()) s.index_score = std::strtod(score.str.c_str(), nullptr);
    }
  }
  analyse_session(s);
  return s;
}

}  // namespace sessionctl
