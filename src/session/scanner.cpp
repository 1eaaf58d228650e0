#include "session/scanner.h"

#include <fmt/format.h>

#include <algorithm>
#include <exception>
#include <thread>

#include "json/probe.h"
#include "redis/reply_error.h"
#include "util/bounded_queue.h"
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
  // An error is WRONGTYPE; nil means the key expired or was deleted after TYPE said it existed.
  if (r.is_error() || r.is_nil()) return false;
  out.type = type;
  if (type == "string") {
    out.raw = r.str;
  } else if (type == "hash") {
    for (std::size_t i = 0; i + 1 < r.elements.size(); i += 2)
      out.fields.emplace_back(r.elements[i].str, r.elements[i + 1].str);
  } else if (type == "zset") {
    for (std::size_t i = 0; i + 1 < r.elements.size(); i += 2) {
      out.scored.emplace_back(r.elements[i].str, std::strtod(r.elements[i + 1].str.c_str(), nullptr));
    }
  } else {
    for (const auto& e : r.elements) out.items.push_back(e.str);
  }
  return true;
}

bool claimed_by_unselected_profile(const nlohmann::json& doc, const std::vector<const Profile*>& selected,
                                   const std::vector<Profile>& known) {
  if (selected.empty()) return false;
  const std::string& layout = selected.front()->primary.pattern.text();
  for (const auto& p : known) {
    if (!p.needs_shape() || p.primary.pattern.text() != layout) continue;
    bool is_selected =
        std::any_of(selected.begin(), selected.end(), [&](const Profile* q) { return q->name == p.name; });
    if (!is_selected && p.shape_matches(doc)) return true;
  }
  return false;
}

namespace {

// Sizes: O(1) STRLEN for strings (or the length of a fetched value), MEMORY USAGE for aggregates.
bool is_string_role(const KeyRole& role) { return role.type == ValueType::string; }

// Per key of a session, the commands the batch sends. String keys skip TYPE: PTTL says whether the key
// exists and STRLEN/GET failing with WRONGTYPE says it is not a string (then TYPE is asked separately).
std::size_t append_key_commands(redis::CommandBuffer& cmds, const KeyRole& role, const std::string& key,
                                bool want_value) {
  if (is_string_role(role)) {
    cmds.add({"PTTL", key});
    if (want_value) {
      cmds.add({"GET", key});
    } else {
      cmds.add({"STRLEN", key});
    }
    return 2;
  }
  cmds.add({"TYPE", key});
  cmds.add({"PTTL", key});
  cmds.add({"MEMORY", "USAGE", key, "SAMPLES", "0"});
  std::string type = value_type_name(role.type);
  if (want_value) {
    std::vector<Command> v;
    append_value_command(v, key, type);
    cmds.add(v.front());
  }
  return want_value ? 4 : 3;
}

void throw_if_fatal(const std::vector<Reply>& replies, const char* what) {
  // Auth, permission and availability problems (BUSY, LOADING…) abort; per-key errors (WRONGTYPE) are data.
  for (const auto& r : replies) redis::throw_if_fatal(r, what);
}

}  // namespace

struct SessionScanner::Batch {
  struct Candidate {
    std::vector<const Profile*> profiles;  // more than one when the layout is shared (session:*)
    std::string id;
    bool want_value = false;
  };
  struct RelatedCheck {
    const Profile* profile;
    std::string key, id;
  };
  struct PointerCheck {
    const Profile* profile;
    std::string key;
  };
  std::vector<Candidate> primaries;
  std::vector<RelatedCheck> related_checks;
  std::vector<PointerCheck> pointer_checks;
  redis::CommandBuffer commands;  // built by plan(), sent by fetch()
  std::vector<Reply> replies;
  std::size_t related_offset = 0, pointer_offset = 0;
  std::vector<Reply> pointer_exists;       // EXISTS for each pointer whose GET returned an id
  std::vector<std::size_t> pointer_which;  // which pointer check each EXISTS belongs to
  // For string-role keys that were not strings: at (reply offset) -> TYPE and MEMORY USAGE replies.
  struct WrongType {
    std::size_t at;
    Reply type, size;
  };
  std::vector<WrongType> types;
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
  // Four stages so that Redis never waits for us: a SCAN thread on its own connection, a planner
  // thread classifying names and building the next pipeline, a fetch thread doing nothing but the
  // pipelines' I/O on the main connection (so the server always has the next batch at hand), and
  // this thread building sessions. Bounded queues keep memory at a few batches whatever the keyspace.
  constexpr std::size_t kQueued = 2;
  BoundedQueue<std::vector<std::string>> names(kQueued);
  BoundedQueue<Batch> planned(kQueued);
  BoundedQueue<Batch> batches(kQueued);
  std::exception_ptr scan_error, plan_error, fetch_error;
  auto scan_client = redis::connect(client_.options());

  std::thread scanner([&] {
    try {
      redis::ScanRequest req;
      req.pattern = scan_glob();
      req.count = options_.scan_count;
      scan_client->scan(req,
                        [&](std::vector<std::string>& keys) { return !interrupted() && names.push(std::move(keys)); });
    } catch (...) {
      scan_error = std::current_exception();
    }
    names.close();
  });
  std::thread planner([&] {
    try {
      while (auto keys = names.pop()) {
        if (interrupted()) break;
        Batch batch;
        plan(*keys, batch);
        if (!planned.push(std::move(batch))) break;
      }
    } catch (...) {
      plan_error = std::current_exception();
    }
    names.cancel();  // unblocks the SCAN thread if we stopped early
    planned.close();
  });
  std::thread fetcher([&] {
    try {
      while (auto batch = planned.pop()) {
        if (interrupted()) break;
        fetch(*batch);
        if (!batches.push(std::move(*batch))) break;
      }
    } catch (...) {
      fetch_error = std::current_exception();
    }
    planned.cancel();  // unblocks the planner (and through it the SCAN thread) if we stopped early
    names.cancel();
    batches.close();
  });
  auto stop_all = [&] {
    names.cancel();
    planned.cancel();
    batches.cancel();
    scanner.join();
    planner.join();
    fetcher.join();
  };

  bool stopped = false;
  try {
    while (auto batch = batches.pop()) {
      check_interrupted();
      if (!consume(*batch, on_session, on_orphan)) {
        stopped = true;
        break;
      }
      if (options_.progress) options_.progress(counters_);
    }
  } catch (...) {
    stop_all();
    throw;
  }
  stop_all();
  if (fetch_error) std::rethrow_exception(fetch_error);
  if (plan_error) std::rethrow_exception(plan_error);
  if (scan_error) std::rethrow_exception(scan_error);
  check_interrupted();
  if (!stopped && options_.find_orphans && on_orphan) scan_zset_indexes(on_orphan);
}

void SessionScanner::plan(std::vector<std::string>& keys, Batch& b) const {
  for (auto& key : keys) {
    Batch::Candidate cand;
    for (const auto& p : profiles_.all()) {
      if (options_.find_orphans) {
        if (const IndexSpec* ix = p.match_index(key); ix && ix->kind == IndexSpec::Kind::pointer_key) {
          b.pointer_checks.push_back({&p, key});
          continue;
        }
      }
      auto m = p.match_key(key);
      if (!m) continue;
      if (!options_.id_glob.empty() && !glob_match(options_.id_glob, m->second)) continue;
      if (m->first == &p.primary) {
        cand.profiles.push_back(&p);
        cand.id = std::move(m->second);
      } else if (options_.find_orphans) {
        b.related_checks.push_back({&p, key, m->second});
      }
    }
    if (!cand.profiles.empty()) {
      // A layout that needs the value's shape (session:*) is read even when one profile is selected.
      cand.want_value = options_.fetch_values || cand.profiles.size() > 1 || cand.profiles.front()->needs_shape();
      b.primaries.push_back(std::move(cand));
    }
  }

  redis::CommandBuffer& cmds = b.commands;
  for (const auto& c : b.primaries) {
    const Profile& p = *c.profiles.front();
    append_key_commands(cmds, p.primary, p.primary.pattern.key_for(c.id), c.want_value);
    for (const auto& r : p.related) append_key_commands(cmds, r, r.pattern.key_for(c.id), c.want_value);
    for (const auto& ix : p.indexes) {
      if (ix.kind == IndexSpec::Kind::zset_of_ids) cmds.add({"ZSCORE", ix.pattern.text(), c.id});
    }
  }
  b.related_offset = cmds.size();
  for (const auto& r : b.related_checks) cmds.add({"EXISTS", r.profile->primary.pattern.key_for(r.id)});
  b.pointer_offset = cmds.size();
  for (const auto& pc : b.pointer_checks) {
    cmds.add({"GET", pc.key});
    cmds.add({"PTTL", pc.key});
  }
}

void SessionScanner::fetch(Batch& b) {
  if (b.commands.empty()) return;
  b.replies = client_.run(b.commands);
  b.commands = {};  // the batch now waits in a queue: do not hold its request bytes too
  throw_if_fatal(b.replies, "reading sessions");

  // Second, rare round trip: pointer targets, and the real type of keys that were not strings.
  redis::CommandBuffer more;
  for (std::size_t i = 0; i < b.pointer_checks.size(); ++i) {
    const Reply& target = b.replies[b.pointer_offset + 2 * i];
    if (!target.is_string()) continue;
    more.add({"EXISTS", b.pointer_checks[i].profile->primary.pattern.key_for(target.str)});
    b.pointer_which.push_back(i);
  }
  std::size_t at = 0;
  std::vector<std::size_t> type_at;
  for (const auto& c : b.primaries) {
    const Profile& p = *c.profiles.front();
    auto visit = [&](const KeyRole& role, const std::string& key) {
      if (is_string_role(role)) {
        if (b.replies[at + 1].error_code() == "WRONGTYPE") {
          more.add({"TYPE", key});
          more.add({"MEMORY", "USAGE", key, "SAMPLES", "0"});
          type_at.push_back(at);
        }
        at += 2;
      } else {
        at += c.want_value ? 4 : 3;
      }
    };
    visit(p.primary, p.primary.pattern.key_for(c.id));
    for (const auto& r : p.related) visit(r, r.pattern.key_for(c.id));
    for (const auto& ix : p.indexes) at += ix.kind == IndexSpec::Kind::zset_of_ids ? 1 : 0;
  }
  if (more.empty()) return;
  std::vector<Reply> extra = client_.run(more);
  throw_if_fatal(extra, "reading sessions");
  std::size_t e = 0;
  for (; e < b.pointer_which.size(); ++e) b.pointer_exists.push_back(std::move(extra[e]));
  for (std::size_t t = 0; t < type_at.size(); ++t) {
    b.types.push_back({type_at[t], std::move(extra[e + 2 * t]), std::move(extra[e + 2 * t + 1])});
  }
}

bool SessionScanner::consume(Batch& b, const std::function<bool(Session&)>& on_session,
                             const std::function<void(const Orphan&)>& on_orphan) {
  counters_.keys_seen += static_cast<long long>(b.primaries.size() + b.related_checks.size() + b.pointer_checks.size());
  std::size_t at = 0;
  std::size_t next_type = 0;
  std::vector<Reply>& replies = b.replies;
  for (auto& c : b.primaries) {
    Session s;
    s.id = std::move(c.id);
    s.profile = c.profiles.front();
    const Profile& p = *s.profile;
    auto read_key = [&](const KeyRole& role) {
      KeyInfo k;
      k.key = role.pattern.key_for(s.id);
      k.role = role.role;
      if (is_string_role(role)) {
        k.ttl_ms = replies[at].integer;
        Reply& body = replies[at + 1];
        // GET nil after PTTL >= -1: the key expired between the two; it is gone, not an empty value.
        if (k.ttl_ms == -2 || body.is_nil()) {
          k.type = "none";
        } else if (body.is_error()) {
          k.type = "?";
          if (next_type < b.types.size() && b.types[next_type].at == at) {
            const auto& w = b.types[next_type++];
            k.type = w.type.str;
            if (w.size.type == Reply::Type::integer) k.size = w.size.integer;  // not its length: the key's memory use
          }
        } else {
          k.type = "string";
          if (c.want_value) {
            k.size = static_cast<long long>(body.str.size());
            StoredValue v;
            v.type = "string";
            v.raw = std::move(body.str);
            k.value = std::move(v);
          } else {
            k.size = body.integer;
          }
        }
        at += 2;
      } else {
        k.type = replies[at].str;
        k.ttl_ms = replies[at + 1].integer;
        if (k.ttl_ms == -2) k.type = "none";  // expired between TYPE and PTTL
        const Reply& size = replies[at + 2];
        k.size = size.is_error() ? 0 : size.integer;
        if (c.want_value) {
          StoredValue v;
          if (k.exists() && decode_value(replies[at + 3], value_type_name(role.type), v)) k.value = std::move(v);
        }
        at += c.want_value ? 4 : 3;
      }
      s.keys.push_back(std::move(k));
    };
    read_key(p.primary);
    for (const auto& r : p.related) read_key(r);
    for (const auto& ix : p.indexes) {
      if (ix.kind != IndexSpec::Kind::zset_of_ids) continue;
      const Reply& score = replies[at++];
      if (score.is_string()) s.index_score = std::strtod(score.str.c_str(), nullptr);
    }
    if (!s.primary().exists()) {
      ++counters_.vanished;  // expired or deleted since SCAN returned it
      continue;
    }
    const bool shared = c.profiles.size() > 1 || c.profiles.front()->needs_shape();
    if (shared) {
      // A shared layout (session:*): the value's shape says which app wrote it.
      s.profile = nullptr;
      if (s.primary().value) {
        JsonProbe probe = probe_json(s.primary().value->raw, {}, true);
        if (probe.valid) {
          nlohmann::json shape = nlohmann::json::object();
          for (const auto& key : probe.top_keys) shape[key] = nullptr;
          for (const Profile* cp : c.profiles) {
            if (cp->shape_matches(shape)) {
              s.profile = cp;
              break;
            }
          }
          // Another store's session, left out by --profile: not this profile's, and not unknown either.
          if (!s.profile && claimed_by_unselected_profile(shape, c.profiles, profiles_.known())) continue;
        } else {
          s.add_problem(json_problem(s.primary().value->raw, probe.too_deep));
        }
      }
      if (!s.profile) {
        s.layout = c.profiles.front()->primary.pattern.text();
        ++counters_.unclassified;
      }
    }
    analyse_session(s);
    if (shared && !options_.fetch_values) {
      for (auto& k : s.keys) k.value.reset();  // read for detection only
    }
    ++counters_.sessions;
    if (!on_session(s)) return false;
  }

  if (on_orphan) {
    for (std::size_t i = 0; i < b.related_checks.size(); ++i) {
      const Reply& r = replies[b.related_offset + i];
      if (r.type == Reply::Type::integer && r.integer == 0) {
        ++counters_.orphans;
        on_orphan(Orphan{b.related_checks[i].profile->name, b.related_checks[i].key, "",
                         "its session's primary key is gone", -2});
      }
    }
    for (std::size_t j = 0; j < b.pointer_exists.size(); ++j) {
      const Reply& ex = b.pointer_exists[j];
      if (ex.type == Reply::Type::integer && ex.integer == 0) {
        std::size_t i = b.pointer_which[j];
        ++counters_.orphans;
        on_orphan(Orphan{b.pointer_checks[i].profile->name, b.pointer_checks[i].key,
                         replies[b.pointer_offset + 2 * i].str, "points at a session that does not exist",
                         replies[b.pointer_offset + 2 * i + 1].integer});
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
          if (redis::is_data_error(r)) break;  // the index key is not a zset
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

}  // namespace sessionctl
