#include "transfer/transfer.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>

#include "redis/reply_error.h"
#include "session/resolver.h"
#include "util/clock.h"
#include "write/mask_in_place.h"

namespace sessionctl::transfer {

using archive::KeyKind;
using archive::Record;
using redis::Command;
using redis::Reply;

namespace {

std::optional<KeyKind> kind_of(KeyType t) {
  switch (t) {
    case KeyType::string:
      return KeyKind::string;
    case KeyType::hash:
      return KeyKind::hash;
    case KeyType::list:
      return KeyKind::list;
    case KeyType::set:
      return KeyKind::set;
    case KeyType::zset:
      return KeyKind::zset;
    default:
      return std::nullopt;
  }
}

void take_value(StoredValue& v, Record& r) {
  r.str = std::move(v.raw);
  r.items = std::move(v.items);
  r.fields = std::move(v.fields);
  r.scored = std::move(v.scored);
}

// Applies mask --in-place's edits to the values held in `s` (nothing is written to Redis): a masked
// archive holds what the store would after mask --in-place.
void mask_values(Session& s) {
  const write::SessionPlan plan = write::plan_mask(s);
  for (const auto& step : plan.steps) {
    auto it = std::find_if(s.keys.begin(), s.keys.end(), [&](const KeyInfo& k) { return k.key == step.key; });
    if (it == s.keys.end() || !it->value) continue;
    StoredValue& v = *it->value;
    for (const auto& e : step.edits) {
      switch (step.type) {
        case KeyType::string:
          v.raw = e.after;
          break;
        case KeyType::hash:
          for (auto& [f, val] : v.fields)
            if (f == e.at) val = e.after;
          break;
        case KeyType::list:
          v.items.at(std::stoul(e.at)) = e.after;
          break;
        case KeyType::set:
          std::replace(v.items.begin(), v.items.end(), e.before, e.after);
          break;
        case KeyType::zset:
          for (auto& [m, score] : v.scored)
            if (m == e.before) m = e.after;
          break;
        default:
          break;
      }
    }
  }
}

std::string score_text(double s) {
  if (std::isinf(s)) return s > 0 ? "+inf" : "-inf";
  return fmt::format("{}", s);
}

}  // namespace

Exporter::Exporter(redis::Client& reader, const ProfileSet& profiles, archive::ArchiveWriter& out, bool mask)
    : reader_(reader), profiles_(profiles), out_(out), mask_(mask) {}

void Exporter::write(Record& r) {
  out_.add(r);
  ++counts_.records;
}

long long Exporter::add(const Session& session) {
  const long long before = counts_.records;
  const Session* s = &session;
  Session masked;
  if (mask_) {
    masked = session;
    mask_values(masked);
    s = &masked;
  }
  bool any = false;
  for (std::size_t i = 0; i < s->keys.size(); ++i) {
    const KeyInfo& k = s->keys[i];
    if (!k.exists()) continue;
    if (!k.expire_at_ms || *k.expire_at_ms == -2) {
      ++counts_.vanished;  // gone between the reads
      continue;
    }
    const auto kind = kind_of(k.type);
    if (!kind) {
      throw Error(ExitCode::check_failed,
                  fmt::format("{} holds a {}: archives carry strings, hashes, lists, sets and sorted sets", k.key,
                              k.other_type));
    }
    if (!any) out_.session_started();
    any = true;
    Record r;
    r.key = k.key;
    r.kind = *kind;
    r.session = s->id;
    r.profile = s->profile_name();
    if (*k.expire_at_ms >= 0) r.expire_at_ms = *k.expire_at_ms;
    ++counts_.keys;
    const bool whole = k.value && (!k.value->total || *k.value->total <= k.value->held());
    if (whole) {
      StoredValue v = *k.value;
      take_value(v, r);
      write(r);
    } else {
      stream_key(*s, i, r);
    }
  }
  if (any && s->profile) {
    // Its index entries, so that a restored session is found as the app finds it.
    for (const auto& ix : s->profile->indexes) {
      Record r;
      r.session = s->id;
      r.profile = s->profile_name();
      r.index = true;
      if (ix.kind == IndexSpec::Kind::zset_of_ids) {
        if (!s->index_score) continue;
        r.key = ix.pattern.text();
        r.kind = KeyKind::zset;
        r.scored = {{s->id, *s->index_score}};
        write(r);
      } else if (auto link = field_value(session, ix.link_field); link && !link->empty()) {
        r.key = ix.pattern.key_for(*link);
        const std::vector<Reply> got = reader_.run({{"GET", r.key}, {"PEXPIRETIME", r.key}});
        if (!got[0].is_string() || got[0].str != s->id) continue;  // points elsewhere, or nowhere
        r.kind = KeyKind::string;
        r.str = got[0].str;
        if (got[1].integer >= 0) r.expire_at_ms = got[1].integer;
        write(r);
      }
    }
  }
  if (any) ++counts_.sessions;
  return counts_.records - before;
}

// A value the scan read in part (a big aggregate, a string above the scan's read cap): read again from
// the start in windows, each a record part, so memory holds one window.
void Exporter::stream_key(const Session& s, std::size_t i, Record& r) {
  const KeyInfo& k = s.keys[i];
  std::size_t part = 0;
  std::optional<Record> held;
  auto emit = [&](Record next) {
    if (held) {
      held->more = true;
      write(*held);
    }
    next.part = part++;
    next.more = false;
    held = std::move(next);
  };
  if (k.type == KeyType::string) {
    constexpr long long kPiece = 16LL << 20;
    for (long long at = 0;; at += kPiece) {
      Reply piece = reader_.run1({"GETRANGE", k.key, std::to_string(at), std::to_string(at + kPiece - 1)});
      if (piece.is_error()) redis::throw_reply_error(piece, "GETRANGE " + k.key);
      if (piece.str.empty() && at > 0) break;
      Record p = r;
      p.str = std::move(piece.str);
      const bool last = static_cast<long long>(p.str.size()) < kPiece;
      emit(std::move(p));
      if (last) break;
    }
  } else {
    SessionResolver resolver(reader_, profiles_);
    resolver.stream_items(
        k,
        [&](StoredValue& window) {
          if (window.read_count() == 0) return;
          Record p = r;
          if (mask_) {
            Session w = s;
            w.keys[i].value = window;
            mask_values(w);
            window = *w.keys[i].value;
          }
          take_value(window, p);
          emit(std::move(p));
        },
        kWindow);
  }
  if (held) {
    write(*held);
  } else {
    ++counts_.vanished;
    --counts_.keys;
  }
}

ExportCounts backup_sessions(redis::Client& client, const ProfileSet& profiles,
                             const std::vector<BackupTarget>& targets, const std::string& path,
                             const archive::Header& header) {
  {
    archive::ArchiveWriter writer(archive::open_file_output(path, archive::compression_for(path)), header);
    Exporter exporter(client, profiles, writer, false);
    SessionResolver resolver(client, profiles);
    for (const auto& t : targets) {
      if (const Profile* p = profiles.find(t.profile)) {
        if (auto s = resolver.lookup(*p, t.id)) exporter.add(*s);
        continue;
      }
      for (const auto& k : t.keys)
        if (auto s = resolver.lookup_key(k)) exporter.add(*s);
    }
    writer.commit();
    const ExportCounts counts = exporter.counts();
    // Read back whole: a backup that cannot be read is no backup.
    archive::ArchiveReader check(path);
    check.check_all();
    return counts;
  }
}

archive::Header make_header(redis::Client& client, const std::string& redacted_url, bool masked,
                            const nlohmann::json& selection) {
  archive::Header h;
  h.created = rfc3339(unix_now()).value_or("");
  h.masked = masked;
  h.selection = selection;
  std::string version;
  for (const auto& n : client.each_node({"INFO", "server"})) {
    if (!n.reply.is_string()) continue;
    const auto at = n.reply.str.find("redis_version:");
    if (at == std::string::npos) continue;
    const auto end = n.reply.str.find_first_of("\r\n", at);
    version = n.reply.str.substr(at + 14, end - at - 14);
    break;
  }
  h.source = {{"url", redacted_url},
              {"server_version", version.empty() ? nlohmann::json(nullptr) : nlohmann::json(version)},
              {"db", client.options().db},
              {"cluster", client.topology().kind == redis::TopologyKind::cluster}};
  return h;
}

std::optional<OnConflict> parse_on_conflict(const std::string& s) {
  if (s == "skip") return OnConflict::skip;
  if (s == "replace") return OnConflict::replace;
  if (s == "fail") return OnConflict::fail;
  return std::nullopt;
}

SessionGroups::SessionGroups(archive::ArchiveReader& reader, std::size_t max_bytes)
    : reader_(reader), max_bytes_(max_bytes) {}

bool SessionGroups::next(ArchivedSession& out) {
  out.records.clear();
  out.bytes = 0;
  out.continued = false;
  if (!pending_) {
    Record r;
    if (!reader_.next(r)) return false;
    pending_ = std::move(r);
  }
  out.continued =
      started_ && pending_->session == last_session_ && pending_->profile == last_profile_ && pending_->part > 0;
  out.session = pending_->session;
  out.profile = pending_->profile;
  last_session_ = out.session;
  last_profile_ = out.profile;
  started_ = true;
  for (;;) {
    out.bytes += pending_->str.size() + pending_->key.size() + 64 * pending_->item_count();
    for (const auto& i : pending_->items) out.bytes += i.size();
    for (const auto& [f, v] : pending_->fields) out.bytes += f.size() + v.size();
    out.records.push_back(std::move(*pending_));
    pending_.reset();
    Record r;
    if (!reader_.next(r)) return true;
    const bool same = r.session == out.session && r.profile == out.profile;
    pending_ = std::move(r);
    if (!same) return true;
    if (out.bytes > max_bytes_ && !out.records.back().more) return true;  // a big session: the rest next
    if (out.bytes > max_bytes_ && pending_->part > 0) return true;        // a big key: its next parts next
  }
}

Importer::Importer(redis::Client& client, ImportOptions options) : client_(client), options_(options) {}

void Importer::restore(std::vector<ArchivedSession>& batch, long long now_ms) {
  // What is left to restore of each session: records whose key has not expired.
  struct Todo {
    ArchivedSession* s = nullptr;
    std::vector<const Record*> records;
    std::vector<std::string> keys;  // distinct, in order (index keys apart: they are shared)
    std::vector<std::string> all_keys;
  };
  std::vector<Todo> todo;
  std::vector<Command> exists;
  for (auto& s : batch) {
    if (!s.continued) ++counts_.sessions;
    Todo t{&s, {}, {}, {}};
    long long expired_keys = 0;
    for (const auto& r : s.records) {
      if (r.expire_at_ms && *r.expire_at_ms <= now_ms) {
        // RESTORE or PEXPIREAT with a past time answers OK and creates nothing: counted, not written.
        if (r.part == 0) ++expired_keys;
        continue;
      }
      t.records.push_back(&r);
      if (t.all_keys.empty() || t.all_keys.back() != r.key) t.all_keys.push_back(r.key);
      if (!r.index && (t.keys.empty() || t.keys.back() != r.key)) t.keys.push_back(r.key);
    }
    counts_.keys_expired += expired_keys;
    if (t.records.empty()) {
      if (!s.continued && expired_keys > 0) ++counts_.expired;
      continue;
    }
    todo.push_back(std::move(t));
  }
  // Conflicts: any key of the session already there.
  std::vector<std::size_t> first_exists(todo.size());
  for (std::size_t i = 0; i < todo.size(); ++i) {
    first_exists[i] = exists.size();
    if (todo[i].s->continued) continue;
    for (const auto& k : todo[i].keys) exists.push_back({"EXISTS", k});
  }
  std::vector<Reply> there = exists.empty() ? std::vector<Reply>{} : client_.run(exists);
  for (const auto& r : there)
    if (r.is_error() && !redis::is_data_error(r)) redis::throw_reply_error(r, "EXISTS (nothing was restored)");

  std::vector<Command> cmds;
  struct Where {
    std::size_t todo, first, count;
    bool tx;
  };
  std::vector<Where> where;
  for (std::size_t i = 0; i < todo.size(); ++i) {
    Todo& t = todo[i];
    bool conflict = false;
    if (!t.s->continued)
      for (std::size_t k = 0; k < t.keys.size(); ++k) conflict = conflict || there[first_exists[i] + k].integer > 0;
    const std::string who = t.s->profile + '\n' + t.s->session;
    if (t.s->continued && who == skipping_) continue;
    if (conflict && options_.on_conflict == OnConflict::skip) {
      ++counts_.skipped;
      skipping_ = who;
      continue;
    }
    if (conflict && options_.on_conflict == OnConflict::fail) {
      throw CheckFailed(fmt::format(
          "session '{}' ({}) is in the store already (--on-conflict fail); {} restored before this", t.s->session,
          t.s->profile,
          counts_.restored == 1 ? std::string("1 session was") : fmt::format("{} sessions were", counts_.restored)));
    }
    if (options_.dry_run) {
      if (!t.s->continued) ++counts_.restored;
      counts_.keys_restored += static_cast<long long>(t.keys.size());
      continue;
    }
    const bool tx = !t.s->continued && !t.records.back()->more && client_.one_transaction(t.all_keys);
    if (!tx && !t.s->continued) ++counts_.not_atomic;
    Where w{i, cmds.size(), 0, tx};
    if (tx) cmds.push_back({"MULTI"});
    if (conflict) {
      for (const auto& k : t.keys) cmds.push_back({"UNLINK", k});
    }
    for (const Record* r : t.records) {
      Command c;
      switch (r->kind) {
        case KeyKind::string:
          c = {r->part == 0 ? "SET" : "APPEND", r->key, r->str};
          break;
        case KeyKind::hash:
          c = {"HSET", r->key};
          for (const auto& [f, v] : r->fields) {
            c.push_back(f);
            c.push_back(v);
          }
          break;
        case KeyKind::list:
          c = {"RPUSH", r->key};
          for (const auto& v : r->items) c.push_back(v);
          break;
        case KeyKind::set:
          c = {"SADD", r->key};
          for (const auto& v : r->items) c.push_back(v);
          break;
        case KeyKind::zset:
          c = {"ZADD", r->key};
          for (const auto& [m, sc] : r->scored) {
            c.push_back(score_text(sc));
            c.push_back(m);
          }
          break;
      }
      if (c.size() > 2 || r->kind == KeyKind::string) cmds.push_back(std::move(c));
      if (!r->more && r->expire_at_ms) cmds.push_back({"PEXPIREAT", r->key, std::to_string(*r->expire_at_ms)});
    }
    if (tx) cmds.push_back({"EXEC"});
    w.count = cmds.size() - w.first;
    where.push_back(w);
    counts_.keys_restored += static_cast<long long>(t.keys.size());
  }
  if (cmds.empty()) return;
  std::vector<Reply> replies = client_.run(cmds);
  for (const auto& w : where) {
    Todo& t = todo[w.todo];
    const Reply* bad = nullptr;
    for (std::size_t k = w.first; k < w.first + w.count && bad == nullptr; ++k) {
      if (replies[k].is_error()) bad = &replies[k];
      if (w.tx && k == w.first + w.count - 1 && !replies[k].is_error())
        for (const auto& e : replies[k].elements)
          if (e.is_error() && bad == nullptr) bad = &e;
    }
    if (bad != nullptr) {
      if (bad->error_code() == "EXECABORT") {
        for (std::size_t k = w.first; k < w.first + w.count; ++k)
          if (replies[k].is_error() && replies[k].error_code() != "EXECABORT") bad = &replies[k];
      }
      if (!redis::is_data_error(*bad)) {
        redis::throw_reply_error(
            *bad, counts_.restored == 0
                      ? std::string("restoring (nothing was restored)")
                      : fmt::format("restoring ({} restored before this; run the same import again with "
                                    "--on-conflict skip to finish)",
                                    counts_.restored == 1 ? std::string("1 session was")
                                                          : fmt::format("{} sessions were", counts_.restored)));
      }
      ++counts_.failed;
      counts_.keys_restored -= static_cast<long long>(t.keys.size());
      continue;
    }
    if (!t.s->continued) ++counts_.restored;
  }
}

namespace {

std::uint64_t id_hash(const std::string& profile, const std::string& id) {
  // FNV-1a over profile, a separator and id: stable, and collisions only hide an extra (never a missing).
  std::uint64_t h = 1469598103934665603ULL;
  auto mix = [&h](const std::string& s) {
    for (unsigned char c : s) h = (h ^ c) * 1099511628211ULL;
  };
  mix(profile);
  h = (h ^ 0xff) * 1099511628211ULL;
  mix(id);
  return h;
}

}  // namespace

bool Verifier::seen(const std::string& profile, const std::string& id) const {
  if (!sorted_) {
    std::sort(seen_.begin(), seen_.end());
    sorted_ = true;
  }
  return std::binary_search(seen_.begin(), seen_.end(), id_hash(profile, id));
}

void Verifier::check(const std::vector<ArchivedSession>& batch,
                     const std::function<void(const Difference&)>& on_difference) {
  // Per record: TYPE, PEXPIRETIME, the values the record holds, looked up where they should be.
  std::vector<Command> cmds;
  struct At {
    std::size_t session, record, first;
  };
  std::vector<At> at;
  std::map<std::string, long long> list_offset;  // LRANGE start of the next part of a list
  for (std::size_t s = 0; s < batch.size(); ++s) {
    for (std::size_t i = 0; i < batch[s].records.size(); ++i) {
      const Record& r = batch[s].records[i];
      at.push_back({s, i, cmds.size()});
      cmds.push_back({"TYPE", r.key});
      cmds.push_back({"PEXPIRETIME", r.key});
      Command c;
      switch (r.kind) {
        case KeyKind::string:
          c = {"GETRANGE", r.key, std::to_string(r.part * (16LL << 20)),
               std::to_string(r.part * (16LL << 20) + static_cast<long long>(r.str.size()) - 1)};
          if (r.str.empty()) c = {"STRLEN", r.key};
          break;
        case KeyKind::hash:
          c = {"HMGET", r.key};
          for (const auto& f : r.fields) c.push_back(f.first);
          break;
        case KeyKind::list: {
          const long long from = r.part == 0 ? 0 : list_offset[r.key];
          list_offset[r.key] = from + static_cast<long long>(r.items.size());
          c = {"LRANGE", r.key, std::to_string(from),
               std::to_string(from + static_cast<long long>(r.items.size()) - 1)};
          break;
        }
        case KeyKind::set:
          c = {"SMISMEMBER", r.key};
          for (const auto& m : r.items) c.push_back(m);
          break;
        case KeyKind::zset:
          c = {"ZMSCORE", r.key};
          for (const auto& m : r.scored) c.push_back(m.first);
          break;
      }
      cmds.push_back(std::move(c));
      // The whole key's size, when the record is all of it.
      const char* len = r.kind == KeyKind::string ? "STRLEN"
                        : r.kind == KeyKind::hash ? "HLEN"
                        : r.kind == KeyKind::list ? "LLEN"
                        : r.kind == KeyKind::set  ? "SCARD"
                                                  : "ZCARD";
      cmds.push_back({len, r.key});
    }
  }
  if (cmds.empty()) return;
  std::vector<Reply> replies = client_.run(cmds);
  for (const auto& r : replies)
    if (r.is_error() && !redis::is_data_error(r)) redis::throw_reply_error(r, "reading the live store");

  std::vector<int> state(batch.size(), 0);  // bit 1: some key differs, bit 2: some key present
  std::vector<long long> keys_missing(batch.size(), 0), keys_total(batch.size(), 0);
  for (const auto& a : at) {
    const ArchivedSession& s = batch[a.session];
    const Record& r = s.records[a.record];
    auto diff = [&](const char* kind, std::string detail) {
      state[a.session] |= 1;
      on_difference(Difference{s.session, s.profile, r.key, kind, std::move(detail)});
    };
    if (r.part == 0 && !r.index) ++keys_total[a.session];
    const std::string& type = replies[a.first].str;
    if (type == "none") {
      if (r.part == 0) {
        if (!r.index) ++keys_missing[a.session];
        diff("missing", fmt::format("archived {} not in the store", archive::kind_name(r.kind)));
      }
      continue;
    }
    state[a.session] |= 2;
    if (type != archive::kind_name(r.kind)) {
      if (r.part == 0) diff("type", fmt::format("archived {}, live {}", archive::kind_name(r.kind), type));
      continue;
    }
    const long long live_exp = replies[a.first + 1].integer;
    if (r.part == 0) {
      if (r.expire_at_ms && (live_exp == -1 || live_exp > *r.expire_at_ms)) {
        diff("expiry", live_exp == -1 ? std::string("the live key never expires; the archived one does")
                                      : fmt::format("expires {} ms later than archived", live_exp - *r.expire_at_ms));
      } else if (!r.expire_at_ms && live_exp >= 0) {
        // A TTL where the archive had none is not "later": it only shrinks; not a difference.
      }
    }
    const Reply& v = replies[a.first + 2];
    const Reply& len = replies[a.first + 3];
    bool same = true;
    switch (r.kind) {
      case KeyKind::string:
        same = r.str.empty() ? v.integer == 0 : v.str == r.str;
        break;
      case KeyKind::hash:
        for (std::size_t k = 0; k < r.fields.size() && same; ++k)
          same = k < v.elements.size() && v.elements[k].is_string() && v.elements[k].str == r.fields[k].second;
        break;
      case KeyKind::list:
        same = v.elements.size() == r.items.size();
        for (std::size_t k = 0; k < r.items.size() && same; ++k) same = v.elements[k].str == r.items[k];
        break;
      case KeyKind::set:
        for (std::size_t k = 0; k < r.items.size() && same; ++k)
          same = k < v.elements.size() && v.elements[k].integer == 1;
        break;
      case KeyKind::zset:
        for (std::size_t k = 0; k < r.scored.size() && same; ++k) {
          if (k >= v.elements.size() || !v.elements[k].is_string()) {
            same = false;
            break;
          }
          const double live = std::strtod(v.elements[k].str.c_str(), nullptr);
          same = live == r.scored[k].second;
        }
        break;
    }
    // A key held in one record must also have nothing more than the archive.
    if (same && r.part == 0 && !r.more && !r.index) {
      const long long n =
          r.kind == KeyKind::string ? static_cast<long long>(r.str.size()) : static_cast<long long>(r.item_count());
      if (len.integer != n) {
        same = false;
      }
    }
    if (!same) diff("value", fmt::format("the live {} differs from the archived one", archive::kind_name(r.kind)));
  }
  for (std::size_t s = 0; s < batch.size(); ++s) {
    if (batch[s].continued) continue;
    ++counts_.sessions;
    seen_.push_back(id_hash(batch[s].profile, batch[s].session));
    sorted_ = false;
    counts_.keys += keys_total[s];
    if (keys_total[s] > 0 && keys_missing[s] == keys_total[s]) {
      ++counts_.missing_sessions;
    } else if ((state[s] & 1) != 0) {
      ++counts_.differing_sessions;
    } else {
      ++counts_.matching_sessions;
    }
  }
}

}  // namespace sessionctl::transfer
