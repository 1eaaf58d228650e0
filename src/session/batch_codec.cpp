#include "session/batch_codec.h"

#include <cstdlib>

#include "redis/reply_error.h"
#include "session/key_pattern.h"

namespace sessionctl {

using redis::CommandBuffer;
using redis::Reply;

namespace {

constexpr std::size_t none = ReplySlots::none;

std::string number(std::size_t n) { return std::to_string(n); }

ReplySlots::Slot slot(std::size_t n) { return static_cast<ReplySlots::Slot>(n); }

// The window read of an aggregate and its length, for the type the profile expects.
void add_window(CommandBuffer& cmds, ValueType type, const std::string& key, ReplySlots& at) {
  static const std::string last = number(kAggregateWindow - 1), count = number(kAggregateWindow);
  at.length = slot(cmds.size());
  at.value = at.length + 1;
  switch (type) {
    case ValueType::hash:
      cmds.add({"HLEN", key});
      cmds.add({"HSCAN", key, "0", "COUNT", count});
      break;
    case ValueType::set:
      cmds.add({"SCARD", key});
      cmds.add({"SSCAN", key, "0", "COUNT", count});
      break;
    case ValueType::zset:
      cmds.add({"ZCARD", key});
      cmds.add({"ZRANGE", key, "0", last, "WITHSCORES"});
      break;
    case ValueType::list:
    case ValueType::string:
      cmds.add({"LLEN", key});
      cmds.add({"LRANGE", key, "0", last});
      break;
  }
}

// String keys skip TYPE: PTTL says whether the key exists and STRLEN/GETRANGE failing with WRONGTYPE
// says it is not a string (then TYPE is asked in a follow-up). The value is read before PTTL, so a key
// that expires between the two reads as gone, never as an empty value.
void add_key(CommandBuffer& cmds, PlannedKey& k, const std::string& key, bool want_value, bool expire_time) {
  static const std::string first_last = number(kFirstReadBytes - 1);
  ReplySlots& at = k.at;
  if (expire_time) {
    at.expire = slot(cmds.size());
    cmds.add({"PEXPIRETIME", key});
  }
  if (k.role->type == ValueType::string) {
    if (want_value) {
      at.value = slot(cmds.size());
      cmds.add({"GETRANGE", key, "0", first_last});
      at.ttl = slot(cmds.size());
      cmds.add({"PTTL", key});
    } else {
      at.ttl = slot(cmds.size());
      cmds.add({"PTTL", key});
      at.size = slot(cmds.size());
      cmds.add({"STRLEN", key});
    }
    return;
  }
  at.type = slot(cmds.size());
  cmds.add({"TYPE", key});
  at.ttl = slot(cmds.size());
  cmds.add({"PTTL", key});
  at.size = slot(cmds.size());
  cmds.add({"MEMORY", "USAGE", key, "SAMPLES", "0"});
  if (want_value) add_window(cmds, k.role->type, key, at);
}

// Decodes a window read: LRANGE/ZRANGE reply with the elements, HSCAN/SSCAN reply with [cursor, elements].
bool decode_window(Reply& r, ValueType type, StoredValue& out) {
  if (r.is_error() || r.is_nil()) return false;
  out.type = type;
  std::vector<Reply>* elements = &r.elements;
  if (type == ValueType::hash || type == ValueType::set) {
    if (r.elements.size() != 2) return false;
    elements = &r.elements[1].elements;
  }
  auto& e = *elements;
  if (type == ValueType::hash) {
    for (std::size_t i = 0; i + 1 < e.size(); i += 2)
      out.fields.emplace_back(std::move(e[i].str), std::move(e[i + 1].str));
  } else if (type == ValueType::zset) {
    for (std::size_t i = 0; i + 1 < e.size(); i += 2) {
      out.scored.emplace_back(std::move(e[i].str), std::strtod(e[i + 1].str.c_str(), nullptr));
    }
  } else {
    for (auto& item : e) out.items.push_back(std::move(item.str));
  }
  return true;
}

}  // namespace

BatchPlan plan_batch(const std::vector<std::string>& names, const std::vector<const Profile*>& profiles,
                     const PlanOptions& options) {
  BatchPlan b;
  // Exact for the usual batch (one key per session): no growth slack while batches wait in queues.
  b.sessions.reserve(names.size());
  b.keys.reserve(names.size());
  b.candidates.reserve(names.size());
  for (const auto& name : names) {
    PlannedSession s;
    s.first_profile = slot(b.candidates.size());
    bool counted = false;
    for (const Profile* pp : profiles) {
      const Profile& p = *pp;
      if (options.find_orphans) {
        if (const IndexSpec* ix = p.match_index(name); ix && ix->kind == IndexSpec::Kind::pointer_key) {
          b.pointer_checks.push_back({&p, name});
          counted = true;
          continue;
        }
      }
      auto m = p.match_key(name);
      if (!m) continue;
      if (!options.id_glob.empty() && !glob_match(options.id_glob, m->second)) continue;
      if (m->first == &p.primary) {
        b.candidates.push_back(&p);
        s.id = std::move(m->second);
        counted = true;
      } else if (options.find_orphans) {
        b.related_checks.push_back({&p, name, std::move(m->second)});
        counted = true;
      }
    }
    b.key_names += counted ? 1 : 0;
    s.profile_count = slot(b.candidates.size()) - s.first_profile;
    if (s.profile_count == 0) continue;
    const Profile& p = *b.candidates[s.first_profile];
    // A layout that needs the value's shape (session:*) is read even when one profile is selected.
    s.shared = s.profile_count > 1 || p.needs_shape();
    s.want_value = options.fetch_values || s.shared;
    s.first_key = slot(b.keys.size());
    const auto index = static_cast<std::uint32_t>(b.sessions.size());
    auto add_key_of = [&](const KeyRole& role, const std::string& key) {
      PlannedKey& k = b.keys.emplace_back();
      k.role = &role;
      k.session = index;
      add_key(b.commands, k, key, s.want_value, options.expire_times);
    };
    // The scanned name is the primary key: no need to build it again from the id.
    add_key_of(p.primary, name);
    for (const auto& r : p.related) add_key_of(r, r.pattern.key_for(s.id));
    s.key_count = slot(b.keys.size()) - s.first_key;
    s.first_score = slot(b.commands.size());
    for (const auto& ix : p.indexes) {
      if (ix.kind != IndexSpec::Kind::zset_of_ids) continue;
      b.commands.add({"ZSCORE", ix.pattern.text(), s.id});
      ++s.score_count;
    }
    b.sessions.push_back(std::move(s));
  }

  CommandBuffer& cmds = b.commands;
  for (auto& r : b.related_checks) {
    r.exists_at = cmds.size();
    cmds.add({"EXISTS", r.profile->primary.pattern.key_for(r.id)});
  }
  for (auto& pc : b.pointer_checks) {
    pc.target_at = cmds.size();
    cmds.add({"GET", pc.key});
    pc.ttl_at = cmds.size();
    cmds.add({"PTTL", pc.key});
  }
  return b;
}

CommandBuffer plan_follow_up(BatchPlan& b, const std::vector<Reply>& replies) {
  CommandBuffer more;
  std::size_t next = replies.size();
  auto add = [&](std::initializer_list<std::string_view> argv) {
    more.add(argv);
    return slot(next++);
  };
  for (auto& pc : b.pointer_checks) {
    if (pc.exists_at != none || !replies[pc.target_at].is_string()) continue;
    pc.exists_at = add({"EXISTS", pc.profile->primary.pattern.key_for(replies[pc.target_at].str)});
  }
  for (auto& k : b.keys) {
    if (k.role->type != ValueType::string || k.too_large) continue;
    ReplySlots& at = k.at;
    const std::size_t body = at.value != none ? at.value : at.size;
    if (at.type == none && replies[body].error_code() == "WRONGTYPE") {
      const std::string key = key_name(b, k);
      at.type = add({"TYPE", key});
      at.size = add({"MEMORY", "USAGE", key, "SAMPLES", "0"});  // not its length: the key's memory use
      continue;
    }
    if (at.value == none || at.type != none || !replies[at.value].is_string()) continue;
    const std::size_t held = replies[at.value].str.size();
    if (!k.sized) {
      if (held < kFirstReadBytes) continue;  // the whole value
      k.sized = true;
      at.size = add({"STRLEN", key_name(b, k)});
    } else if (at.size < replies.size() && replies[at.size].type == Reply::Type::integer) {
      const auto length = static_cast<std::size_t>(std::max(0LL, replies[at.size].integer));
      if (length <= held) continue;  // read whole already (or shrank since)
      if (length > kValueReadCap) {
        k.too_large = true;
        continue;
      }
      // GETRANGE, not GET: a value that grew since STRLEN still cannot exceed the cap.
      at.value = add({"GETRANGE", key_name(b, k), "0", number(kValueReadCap - 1)});
    }
  }
  return more;
}

std::string key_name(const BatchPlan& b, const PlannedKey& k) {
  return k.role->pattern.key_for(b.sessions[k.session].id);
}

KeyInfo decode_key(const PlannedKey& pk, std::string name, std::vector<Reply>& replies, bool want_value) {
  KeyInfo k;
  k.key = std::move(name);
  k.role = pk.role->role;
  const ReplySlots& at = pk.at;
  // Reading one node of a cluster (--single-node), a key of the session that lives on another node is
  // not in this store: absent, as it would be on that node's own.
  if (redis::is_redirect(replies[at.ttl])) {
    k.ttl_ms = -2;
    return k;
  }
  k.ttl_ms = replies[at.ttl].integer;
  if (at.expire != none && replies[at.expire].type == Reply::Type::integer) k.expire_at_ms = replies[at.expire].integer;
  if (k.ttl_ms == -2) return k;  // gone (expired between SCAN and this read, or between two reads)
  auto set_type = [&](const std::string& reply) {
    k.type = parse_key_type(reply);
    if (k.type == KeyType::other) k.other_type = reply;
  };
  if (pk.role->type == ValueType::string) {
    if (at.type != none) {
      // Not a string (WRONGTYPE): the follow-up asked for its real type and memory use.
      set_type(replies[at.type].str);
      if (k.type == KeyType::none) return k;  // gone since
      if (replies[at.size].type == Reply::Type::integer) k.size = replies[at.size].integer;
      return k;
    }
    Reply& body = replies[at.value != none ? at.value : at.size];
    if (body.is_nil()) return k;
    if (body.is_error()) {
      k.type = KeyType::other;  // some other error: it exists, but what it holds is not known
      k.other_type.assign(1, '?');
      return k;
    }
    k.type = KeyType::string;
    if (at.value == none) {
      k.size = body.integer;
      return k;
    }
    if (pk.too_large || (pk.sized && replies[at.size].integer > static_cast<long long>(body.str.size()))) {
      // Above the read cap (or it grew past what was read): its size, not a truncated value.
      k.size = replies[at.size].integer;
      return k;
    }
    k.size = static_cast<long long>(body.str.size());
    if (want_value) {
      StoredValue v;
      v.type = ValueType::string;
      v.raw = std::move(body.str);
      k.value = std::move(v);
    }
    return k;
  }
  set_type(replies[at.type].str);
  if (k.type == KeyType::none) return k;
  const Reply& size = replies[at.size];
  k.size = size.type == Reply::Type::integer ? size.integer : 0;
  if (want_value && at.value != none) {
    StoredValue v;
    if (decode_window(replies[at.value], pk.role->type, v)) {
      const Reply& length = replies[at.length];
      v.total =
          length.type == Reply::Type::integer ? static_cast<std::size_t>(std::max(0LL, length.integer)) : v.held();
      k.value = std::move(v);
    }
  }
  return k;
}

bool is_key_denied(const Reply& r) {
  if (r.error_code() != "NOPERM") return false;
  // Redis 7.0: "no permissions to access one of the keys used as arguments"; 7.2: "No permissions to access a key".
  return r.str.find("access") != std::string::npos && r.str.find("key") != std::string::npos;
}

std::string fatal_error_in(const std::vector<Reply>& replies, std::size_t from, std::size_t& index) {
  for (std::size_t i = from; i < replies.size(); ++i) {
    const Reply& r = replies[i];
    // One classification (redis/reply_error.h): only data errors (WRONGTYPE) go on; a key the ACL user
    // may not read is data here too, since the scanner skips that profile instead of failing.
    if (!r.is_error() || redis::is_data_error(r) || is_key_denied(r) || redis::is_redirect(r)) continue;
    index = i;
    return r.error_code();
  }
  return {};
}

}  // namespace sessionctl
