#include "session/resolver.h"

#include <fmt/format.h>

#include <algorithm>

#include "json/probe.h"
#include "redis/reply_error.h"
#include "session/scanner.h"
#include "util/errors.h"
#include "util/suggest.h"

namespace sessionctl {

using redis::Command;
using redis::Reply;

namespace {

void throw_if_fatal(const std::vector<Reply>& replies, const std::string& what) {
  // Auth, permission and availability problems abort; per-key errors (WRONGTYPE) are data.
  for (const auto& r : replies) redis::throw_if_fatal(r, what);
}

// The value type a key of this type is read as (callers read only the five types profiles store).
ValueType value_type_of(KeyType t) {
  switch (t) {
    case KeyType::hash:
      return ValueType::hash;
    case KeyType::list:
      return ValueType::list;
    case KeyType::set:
      return ValueType::set;
    case KeyType::zset:
      return ValueType::zset;
    default:
      return ValueType::string;
  }
}

// The command that counts a key's items (bytes for a string); empty for types sessionctl does not read.
Command count_command(const KeyInfo& k) {
  if (k.type == KeyType::string) return {"STRLEN", k.key};
  if (k.type == KeyType::list) return {"LLEN", k.key};
  if (k.type == KeyType::hash) return {"HLEN", k.key};
  if (k.type == KeyType::set) return {"SCARD", k.key};
  if (k.type == KeyType::zset) return {"ZCARD", k.key};
  return {};
}

std::string human_mib(long long bytes) { return fmt::format("{:.1f} MiB", static_cast<double>(bytes) / (1 << 20)); }

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::string> from_base64(const std::string& in) {
  auto val = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
  };
  std::string out;
  unsigned acc = 0;
  int bits = 0;
  std::size_t i = 0;
  for (; i < in.size() && in[i] != '='; ++i) {
    int v = val(in[i]);
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  for (; i < in.size(); ++i) {
    if (in[i] != '=') return std::nullopt;  // padding only at the end
  }
  if (bits >= 6) return std::nullopt;  // a lone trailing character holds no whole byte
  return out;
}

}  // namespace

std::vector<std::string> rank_suggestions(const std::string& wanted, const std::vector<std::string>& candidates,
                                          std::size_t n) {
  std::vector<std::pair<std::size_t, std::string>> found;
  const std::size_t max_edits = std::max<std::size_t>(2, wanted.size() / 4);
  for (const auto& id : candidates) {
    if (id == wanted) continue;
    const bool contains = id.find(wanted) != std::string::npos || wanted.find(id) != std::string::npos;
    // Distance is quadratic; ids far longer or shorter than wanted cannot be within max_edits.
    const std::size_t gap = id.size() > wanted.size() ? id.size() - wanted.size() : wanted.size() - id.size();
    if (!contains && gap > max_edits) continue;
    std::size_t d = contains ? 0 : edit_distance(id, wanted);
    if (d <= max_edits) found.emplace_back(d, id);
  }
  std::sort(found.begin(), found.end());
  std::vector<std::string> out;
  for (const auto& [d, id] : found) {
    if (out.size() == n) break;
    if (std::find(out.begin(), out.end(), id) == out.end()) out.push_back(id);
  }
  return out;
}

std::optional<std::string> decode_target(const std::string& target) {
  if (target.starts_with("b64:")) {
    auto bytes = from_base64(target.substr(4));
    if (!bytes || bytes->empty()) return std::nullopt;
    return bytes;
  }
  if (target.find('\\') == std::string::npos) return std::nullopt;
  std::string out;
  for (std::size_t i = 0; i < target.size(); ++i) {
    if (target[i] != '\\') {
      out += target[i];
      continue;
    }
    if (i + 1 >= target.size()) return std::nullopt;
    char c = target[++i];
    if (c == '\\') {
      out += '\\';
    } else if (c == 'n') {
      out += '\n';
    } else if (c == 'r') {
      out += '\r';
    } else if (c == 't') {
      out += '\t';
    } else if (c == 'x' && i + 2 < target.size() && hex_digit(target[i + 1]) >= 0 && hex_digit(target[i + 2]) >= 0) {
      out += static_cast<char>(hex_digit(target[i + 1]) * 16 + hex_digit(target[i + 2]));
      i += 2;
    } else {
      return std::nullopt;  // not printable()'s output
    }
  }
  return out;
}

SessionResolver::SessionResolver(redis::Client& client, const ProfileSet& profiles, LookupOptions options)
    : client_(client), profiles_(profiles), options_(options) {}

Resolution SessionResolver::resolve(const std::vector<std::string>& targets) {
  Resolution out;
  for (const auto& target : targets) {
    try {
      auto found = find(target);
      if (found.empty()) out.missing.push_back(target);
      for (auto& s : found) out.sessions.push_back(std::move(s));
    } catch (const AuthError& e) {
      out.denied.push_back({target, e.what()});
    }
  }
  return out;
}

std::vector<Session> SessionResolver::find(const std::string& target) {
  std::optional<AuthError> denied;
  auto attempt = [&](const std::string& t) {
    try {
      return find_as_given(t);
    } catch (const AuthError& e) {
      if (!denied) denied = e;
      return std::vector<Session>{};
    }
  };
  std::vector<Session> out = attempt(target);
  std::optional<std::string> alt = out.empty() ? decode_target(target) : std::nullopt;
  if (out.empty() && alt && *alt != target) out = attempt(*alt);
  if (out.empty() && !denied) {
    // A key that exists but no profile's layout claims (cache:user:1): shown as it is, with a note.
    for (const std::string* key : std::vector<const std::string*>{&target, alt ? &*alt : nullptr}) {
      if (!key || !out.empty()) continue;
      try {
        if (auto s = lookup_key(*key)) out.push_back(std::move(*s));
      } catch (const AuthError&) {
        // A key outside every session layout that this user may not read: no session, not a denial.
      }
    }
  }
  if (out.empty() && denied) throw *denied;
  return out;
}

std::vector<Session> SessionResolver::find_as_given(const std::string& target) {
  std::vector<Session> out;
  std::vector<std::pair<const Profile*, std::string>> tries;
  for (const auto& p : profiles_.all()) {
    if (auto m = p.match_key(target)) tries.emplace_back(&p, m->second);
  }
  if (tries.empty()) {
    for (const auto& p : profiles_.all()) {
      const IndexSpec* ix = p.match_index(target);
      if (!ix) continue;
      if (ix->kind == IndexSpec::Kind::zset_of_ids) {
        throw UsageError(
            fmt::format("'{}' is {}'s index of sessions, not a session; list them with "
                        "'sessionctl list --profile {}'",
                        ix->pattern.text(), p.name, p.name));
      }
      // A pointer key (session:chat:{chat_id}): the session it names, or the pointer itself when that is gone.
      std::vector<Reply> r = client_.run({{"GET", target}, {"PTTL", target}});
      if (r[0].is_error()) redis::throw_reply_error(r[0], "reading a pointer key");  // NOPERM: exit 4
      if (!r[0].is_string()) return out;
      const std::string& pointed = r[0].str;
      if (auto s = lookup(p, pointed); s && s->primary().exists()) {
        out.push_back(std::move(*s));
      } else {
        Session orphan;
        orphan.id = pointed;
        orphan.profile = &p;
        KeyInfo gone;
        gone.key = p.primary.pattern.key_for(pointed);
        gone.role = p.primary.role;
        orphan.keys.push_back(std::move(gone));
        orphan.pointers.push_back(PointerEntry{ix->role, target, pointed, r[1].integer});
        orphan.add_problem(problem::orphan);
        out.push_back(std::move(orphan));
      }
      return out;
    }
    for (const auto& p : profiles_.all()) tries.emplace_back(&p, target);
  }
  std::vector<std::string> loaded_keys;
  std::vector<Session> unclaimed;  // JSON under a shared layout that no profile's shape fits
  auto as_unknown = [](Session& s, const Profile& p) {
    s.profile = nullptr;
    s.layout = p.primary.pattern.text();
    // Damage found while it was read as p's stays reported, as list reports it.
    std::vector<std::string> kept;
    for (const auto& pr : s.problems) {
      if (pr == problem::corrupt || pr == problem::binary) kept.push_back(pr);
    }
    s.problems = kept;
    s.state.reset();
    s.last_activity.reset();
    s.pointers.clear();
    analyse_session(s);
  };
  std::optional<AuthError> denied;  // an ACL user may read one app's keys and not another's
  for (const auto& [p, id] : tries) {
    std::string key = p->primary.pattern.key_for(id);
    std::optional<Session> s;
    try {
      s = lookup(*p, id);
    } catch (const AuthError& e) {
      if (!denied) denied = e;
      continue;
    }
    if (!s) continue;
    if (p->needs_shape()) {
      auto doc = s->primary().value ? parse_json(s->primary().value->raw) : std::nullopt;
      if (doc && !p->shape_matches(*doc)) {
        // Another profile on the same layout may own it; if none does, it is shown as unknown below.
        if (claimed_by_unselected_profile(*doc, {p}, profiles_.known())) continue;
        as_unknown(*s, *p);
        unclaimed.push_back(std::move(*s));
        continue;
      }
      if (!doc && std::find(loaded_keys.begin(), loaded_keys.end(), key) != loaded_keys.end()) continue;
      if (!doc) as_unknown(*s, *p);
    }
    if (std::find(loaded_keys.begin(), loaded_keys.end(), key) != loaded_keys.end()) continue;
    loaded_keys.push_back(key);
    out.push_back(std::move(*s));
  }
  for (auto& s : unclaimed) {
    if (std::find(loaded_keys.begin(), loaded_keys.end(), s.primary().key) != loaded_keys.end()) continue;
    loaded_keys.push_back(s.primary().key);
    out.push_back(std::move(s));
  }
  // Nothing readable, and some layouts were denied: "no session" would be a guess, so the denial is
  // the answer (exit 4), as it is for the same target given as a full key.
  if (out.empty() && denied) throw *denied;
  return out;
}

void SessionResolver::read_values(std::vector<KeyInfo>& keys, const std::vector<std::size_t>& caps) {
  // Sizes first: a string above the cap is not fetched, an aggregate is read only up to its cap.
  std::vector<Command> counts;
  std::vector<std::size_t> counted;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (!keys[i].exists()) continue;
    Command c = count_command(keys[i]);
    if (c.empty()) continue;
    counts.push_back(std::move(c));
    counted.push_back(i);
  }
  if (counts.empty()) return;
  std::vector<Reply> n = client_.run(counts);
  throw_if_fatal(n, "reading a session");
  std::vector<Command> reads;
  std::vector<std::size_t> read_of;
  std::vector<std::size_t> scans;  // big hashes and sets: read by cursor below
  std::vector<long long> totals(keys.size(), -1);
  for (std::size_t j = 0; j < counted.size(); ++j) {
    KeyInfo& k = keys[counted[j]];
    if (n[j].type != Reply::Type::integer) continue;  // WRONGTYPE: the key changed under us
    const long long total = n[j].integer;
    totals[counted[j]] = total;
    const auto cap = static_cast<long long>(caps[counted[j]]);
    if (k.type == KeyType::string) {
      k.size = total;
      if (total > options_.max_string_bytes) {
        k.note = fmt::format("value not read: {} is above the {} inspect reads", human_mib(total),
                             human_mib(options_.max_string_bytes));
        continue;
      }
      reads.push_back({"GET", k.key});
    } else if (std::min(total, cap) <= 0) {
      // Emptied since TYPE (or a cap of 0): nothing to read, and "0 -1" would mean the whole list.
      StoredValue none;
      none.type = value_type_of(k.type);
      if (total > 0) none.total = static_cast<std::size_t>(total);
      k.value = std::move(none);
      continue;
    } else if (k.type == KeyType::list) {
      reads.push_back({"LRANGE", k.key, "0", std::to_string(std::min(total, cap) - 1)});
    } else if (k.type == KeyType::zset) {
      reads.push_back({"ZRANGE", k.key, "0", std::to_string(std::min(total, cap) - 1), "WITHSCORES"});
    } else if (total <= cap) {
      reads.push_back({k.type == KeyType::hash ? "HGETALL" : "SMEMBERS", k.key});
    } else {
      scans.push_back(counted[j]);
      continue;
    }
    read_of.push_back(counted[j]);
  }
  std::vector<Reply> vals = reads.empty() ? std::vector<Reply>{} : client_.run(reads);
  throw_if_fatal(vals, "reading a session");
  for (std::size_t j = 0; j < vals.size(); ++j) {
    KeyInfo& k = keys[read_of[j]];
    StoredValue sv;
    if (!decode_value(vals[j], k.type, sv)) continue;
    if (k.type == KeyType::string) k.size = static_cast<long long>(sv.raw.size());
    if (k.type != KeyType::string && totals[read_of[j]] > static_cast<long long>(sv.read_count())) {
      sv.total = totals[read_of[j]];
    }
    k.value = std::move(sv);
  }
  for (std::size_t i : scans) {
    KeyInfo& k = keys[i];
    StoredValue first;
    first.type = value_type_of(k.type);
    const std::size_t cap = caps[i];
    std::string cursor = "0";
    do {
      Reply r =
          client_.run1({k.type == KeyType::hash ? "HSCAN" : "SSCAN", k.key, cursor, "COUNT", std::to_string(cap)});
      throw_if_fatal({r}, "reading a session");
      if (r.is_error() || r.elements.size() != 2) break;
      cursor = r.elements[0].str;
      StoredValue part;
      if (!decode_value(r.elements[1], k.type, part)) break;
      for (auto& f : part.fields) {
        if (first.read_count() < cap) first.fields.push_back(std::move(f));
      }
      for (auto& m : part.items) {
        if (first.read_count() < cap) first.items.push_back(std::move(m));
      }
    } while (cursor != "0" && first.read_count() < cap);
    first.total = static_cast<std::size_t>(totals[i]);
    k.value = std::move(first);
  }
}

std::optional<Session> SessionResolver::lookup(const Profile& p, const std::string& id) {
  std::vector<Command> cmds;
  auto keys = p.keys_for(id);
  for (const auto& [role, key] : keys) {
    cmds.push_back({"TYPE", key});
    cmds.push_back({"PTTL", key});
    cmds.push_back({"MEMORY", "USAGE", key, "SAMPLES", "0"});
    cmds.push_back({"PEXPIRETIME", key});
  }
  std::vector<Reply> meta = client_.run(cmds);
  throw_if_fatal(meta, "reading a session");
  Session s;
  s.id = id;
  s.profile = &p;
  std::vector<std::size_t> caps;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    KeyInfo k;
    k.key = keys[i].second;
    k.role = keys[i].first->role;
    k.type = parse_key_type(meta[4 * i].str);
    if (k.type == KeyType::other) k.other_type = meta[4 * i].str;
    k.ttl_ms = meta[4 * i + 1].integer;
    if (k.ttl_ms == -2) k.type = KeyType::none;  // expired between TYPE and PTTL
    // RAM use for aggregates; strings get their length from read_values.
    if (k.exists() && meta[4 * i + 2].type == Reply::Type::integer) k.size = meta[4 * i + 2].integer;
    if (meta[4 * i + 3].type == Reply::Type::integer) k.expire_at_ms = meta[4 * i + 3].integer;
    caps.push_back(options_.whole ? options_.items : keys[i].first->max_items.value_or(options_.items));
    s.keys.push_back(std::move(k));
  }
  const bool any_key = std::any_of(s.keys.begin(), s.keys.end(), [](const KeyInfo& k) { return k.exists(); });
  read_values(s.keys, caps);
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

std::optional<Session> SessionResolver::lookup_key(const std::string& key) {
  std::vector<Reply> meta =
      client_.run({{"TYPE", key}, {"PTTL", key}, {"MEMORY", "USAGE", key, "SAMPLES", "0"}, {"PEXPIRETIME", key}});
  throw_if_fatal(meta, "reading a key");
  KeyInfo k;
  k.key = key;
  k.role = "key";
  k.type = parse_key_type(meta[0].str);
  if (k.type == KeyType::other) k.other_type = meta[0].str;
  k.ttl_ms = meta[1].integer;
  if (k.ttl_ms == -2 || meta[0].is_error()) k.type = KeyType::none;
  if (!k.exists()) return std::nullopt;
  if (meta[2].type == Reply::Type::integer) k.size = meta[2].integer;
  if (meta[3].type == Reply::Type::integer) k.expire_at_ms = meta[3].integer;
  Session s;
  s.id = key;
  s.keys.push_back(std::move(k));
  read_values(s.keys, {options_.items});
  // Which profile would own it, had it been selected: the likelier reason it is "unknown".
  std::string owner;
  for (const auto& p : profiles_.known()) {
    if (profiles_.find(p.name)) continue;  // a selected profile's value of another shape, say: no hint
    if (p.match_key(key) || p.match_index(key)) {
      owner = p.name;
      break;
    }
  }
  s.note = owner.empty()
               ? "no profile's key layout matches this key; shown as it is"
               : fmt::format("this key has profile {}'s layout, which --profile left out; shown as it is", owner);
  return s;
}

std::vector<std::string> SessionResolver::suggestions(const std::string& wanted) {
  std::vector<std::string> best;
  long long seen = 0;
  SessionScanner scanner(client_, profiles_, ScanOptions{});
  redis::ScanRequest req;
  req.pattern = scanner.scan_glob();
  client_.scan(req, [&](std::vector<std::string>& keys) {
    std::vector<std::string> ids = best;
    for (const auto& key : keys) {
      for (const auto& p : profiles_.all()) {
        auto m = p.match_key(key);
        // The same id under a layout another (unselected) profile owns gets no hint (rank skips wanted).
        if (m && m->first == &p.primary) ids.push_back(std::move(m->second));
      }
    }
    best = rank_suggestions(wanted, ids);
    seen += static_cast<long long>(keys.size());
    return seen < 200000;  // a huge keyspace cannot make an error message slow
  });
  return best;
}

void SessionResolver::stream_items(const KeyInfo& k, const std::function<void(StoredValue&)>& on_window,
                                   std::size_t window) {
  const std::string w = std::to_string(window);
  if (k.type == KeyType::list || k.type == KeyType::zset) {
    for (long long from = 0;; from += static_cast<long long>(window)) {
      const std::string to = std::to_string(from + static_cast<long long>(window) - 1);
      Reply r = k.type == KeyType::list ? client_.run1({"LRANGE", k.key, std::to_string(from), to})
                                        : client_.run1({"ZRANGE", k.key, std::to_string(from), to, "WITHSCORES"});
      if (r.is_error()) redis::throw_reply_error(r, "reading a key's items");
      StoredValue part;
      if (!decode_value(r, k.type, part) || part.read_count() == 0) return;
      const bool last = part.read_count() < window;
      on_window(part);
      if (last) return;
    }
  }
  if (k.type != KeyType::hash && k.type != KeyType::set) return;
  std::string cursor = "0";
  do {
    Reply r = client_.run1({k.type == KeyType::hash ? "HSCAN" : "SSCAN", k.key, cursor, "COUNT", w});
    if (r.is_error()) redis::throw_reply_error(r, "reading a key's items");
    if (r.elements.size() != 2) return;
    cursor = r.elements[0].str;
    StoredValue part;
    if (decode_value(r.elements[1], k.type, part) && part.read_count() > 0) on_window(part);
  } while (cursor != "0");
}

}  // namespace sessionctl
