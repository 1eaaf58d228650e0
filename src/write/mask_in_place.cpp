#include "write/mask_in_place.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "json/probe.h"
#include "mask/mask.h"
#include "redis/reply_error.h"
#include "util/utf8.h"

namespace sessionctl::write {

using nlohmann::json;
using redis::Command;
using redis::Reply;

// KEYS: the keys of one session (or one key). ARGV: per key its TYPE and edit count, then three
// arguments per edit: the field (hash) or index (list) or "", the value read, the masked value.
// Every edit is checked before any is written; when one no longer holds what was read (the app wrote,
// the key changed type or is gone), nothing is written and 0 comes back. 1 when all were written.
const char* const kMaskScript = R"lua(local function each(apply)
  local a = 1
  for k = 1, #KEYS do
    local key, t, n = KEYS[k], ARGV[a], tonumber(ARGV[a + 1])
    a = a + 2
    if not apply and redis.call('TYPE', key)['ok'] ~= t then return false end
    for _ = 1, n do
      local at, old, new = ARGV[a], ARGV[a + 1], ARGV[a + 2]
      a = a + 3
      if t == 'string' then
        if not apply then
          if redis.call('GET', key) ~= old then return false end
        else
          redis.call('SET', key, new, 'KEEPTTL')
        end
      elseif t == 'hash' then
        if not apply then
          if redis.call('HGET', key, at) ~= old then return false end
        else
          redis.call('HSET', key, at, new)
        end
      elseif t == 'list' then
        if not apply then
          if redis.call('LINDEX', key, at) ~= old then return false end
        else
          redis.call('LSET', key, at, new)
        end
      elseif t == 'set' then
        if not apply then
          if redis.call('SISMEMBER', key, old) ~= 1 then return false end
        else
          redis.call('SADD', key, new)
          redis.call('SREM', key, old)
        end
      else
        if not apply then
          if not redis.call('ZSCORE', key, old) then return false end
        else
          redis.call('ZADD', key, redis.call('ZSCORE', key, old), new)
          redis.call('ZREM', key, old)
        end
      end
    end
  end
  return true
end
if not each(false) then return 0 end
each(true)
return 1)lua";

namespace {

// The TYPE word the script compares with: "" for keys no value is masked in (none, other).
const char* type_word(KeyType t) { return t == KeyType::none ? "" : key_type_name(t); }

std::string dump(const json& v) { return v.dump(-1, ' ', false, json::error_handler_t::replace); }

// A stored text as the masking engine sees it: a JSON object or array decoded, other text as a string;
// nullopt for bytes that are not UTF-8 (left alone: base64 of them masked would corrupt them).
std::optional<json> decoded(const std::string& text) {
  if (!is_utf8(text)) return std::nullopt;
  if (!text.empty() && (text.front() == '{' || text.front() == '[')) {
    if (auto doc = parse_json(text)) return doc;
    return std::nullopt;  // broken or too deep: the app cannot read it either
  }
  return json(text);
}

// The stored form of a masked value: text stays text, a document is written compactly.
std::string stored(const json& v) { return v.is_string() ? v.get<std::string>() : dump(v); }

// Edits for one key's value, with where each sits (for --dry-run).
void edits_of(const KeyInfo& k, std::optional<Encoding> expected, const std::vector<mask::FieldRule>& rules,
              KeyStep& step) {
  const StoredValue& v = *k.value;
  const bool json_expected = expected == Encoding::json || expected == Encoding::json_items;
  auto add = [&](std::string at, std::string where, const std::string& before, std::string after) {
    if (after == before) return;
    step.edits.push_back(ValueEdit{std::move(at), before, std::move(after), 0});
    step.where.push_back(std::move(where));
  };
  switch (k.type) {
    case KeyType::string: {
      if (!is_utf8(v.raw) || expected == Encoding::opaque) return;
      if (auto doc = parse_json(v.raw)) {
        const json m = mask::mask_json(*doc, rules);
        if (m != *doc) add("", "value", v.raw, dump(m));
      } else if (!json_expected && expected != Encoding::json_or_opaque) {
        add("", "value", v.raw, mask::mask_free_text(v.raw));
      }
      return;
    }
    case KeyType::hash: {
      json fields = json::object();
      for (const auto& [f, val] : v.fields)
        if (auto d = decoded(val)) fields[f] = *d;
      const json m = mask::mask_json(fields, rules);
      for (const auto& [f, val] : v.fields) {
        auto it = m.find(f);
        if (it == m.end() || !fields.contains(f) || *it == fields[f]) continue;
        add(f, "field " + f, val, stored(*it));
      }
      return;
    }
    case KeyType::list:
    case KeyType::set: {
      for (std::size_t i = 0; i < v.items.size(); ++i) {
        const std::string& item = v.items[i];
        auto d = decoded(item);
        if (!d || (json_expected && d->is_string())) continue;  // corrupt for the app: left alone
        const json m = mask::mask_json(*d, rules);
        if (m == *d) continue;
        const bool list = k.type == KeyType::list;
        add(list ? std::to_string(i) : "", list ? fmt::format("item {}", i) : "member", item, stored(m));
      }
      return;
    }
    case KeyType::zset: {
      for (std::size_t i = 0; i < v.scored.size(); ++i) {
        const std::string& m = v.scored[i].first;
        if (!is_utf8(m)) continue;
        add("", fmt::format("member {}", i), m, mask::mask_free_text(m));
      }
      return;
    }
    default:
      return;
  }
}

}  // namespace

bool needs_whole_read(const Session& session) {
  return std::any_of(session.keys.begin(), session.keys.end(),
                     [](const KeyInfo& k) { return k.exists() && (!k.value || k.value->total); });
}

SessionPlan plan_mask(const Session& session) {
  SessionPlan plan{session.profile_name(), session.id, {}, true, 0};
  if (!session.profile) return plan;
  for (std::size_t i = 0; i < session.keys.size(); ++i) {
    const KeyInfo& k = session.keys[i];
    if (!k.exists() || !k.value || *type_word(k.type) == '\0') continue;
    const KeyRole* role = session.role_of(i);
    KeyStep step;
    step.action = Action::mask;
    step.key = k.key;
    step.type = k.type;
    step.ttl_before_ms = k.ttl_ms;
    step.ttl_after_ms = k.ttl_ms;
    edits_of(k, role ? std::optional<Encoding>(role->encoding) : std::nullopt, session.profile->pii, step);
    if (!step.edits.empty()) plan.steps.push_back(std::move(step));
  }
  return plan;
}

std::string MaskApplier::sha() {
  if (sha_.empty()) {
    for (const auto& n : client_.each_node({"SCRIPT", "LOAD", kMaskScript})) {
      if (n.reply.is_error()) redis::throw_reply_error(n.reply, "SCRIPT LOAD on " + n.node);
      sha_ = n.reply.str;
    }
  }
  return sha_;
}

// One script for the whole session where its keys share a slot, else one per key.
std::vector<Command> MaskApplier::commands(const SessionPlan& plan) {
  std::vector<Command> out;
  auto script = [&](std::size_t from, std::size_t to) {
    Command c{"EVALSHA", sha(), std::to_string(to - from)};
    for (std::size_t i = from; i < to; ++i) c.push_back(plan.steps[i].key);
    for (std::size_t i = from; i < to; ++i) {
      const KeyStep& s = plan.steps[i];
      c.push_back(type_word(s.type));
      c.push_back(std::to_string(s.edits.size()));
      for (const auto& e : s.edits) {
        c.push_back(e.at);
        c.push_back(e.before);
        c.push_back(e.after);
      }
    }
    out.push_back(std::move(c));
  };
  if (plan.atomic) {
    script(0, plan.steps.size());
  } else {
    for (std::size_t i = 0; i < plan.steps.size(); ++i) script(i, i + 1);
  }
  return out;
}

std::vector<Outcome> MaskApplier::apply(std::vector<SessionPlan> plans) {
  std::vector<Outcome> out(plans.size());
  std::vector<Command> cmds;
  std::vector<std::size_t> first(plans.size());
  for (std::size_t i = 0; i < plans.size(); ++i) {
    std::vector<std::string> keys;
    for (const auto& s : plans[i].steps) keys.push_back(s.key);
    plans[i].atomic = plans[i].steps.size() <= 1 || client_.one_transaction(keys);
    first[i] = cmds.size();
    if (!plans[i].steps.empty())
      for (auto& c : commands(plans[i])) cmds.push_back(std::move(c));
  }
  std::vector<Reply> replies = cmds.empty() ? std::vector<Reply>{} : client_.run(cmds);

  auto stop = [&](const Reply& r) {
    redis::throw_reply_error(
        r, done_ == 0
               ? std::string("masking (nothing was changed)")
               : fmt::format("masking ({} changed before this; run the same command again to finish)",
                             done_ == 1 ? std::string("1 session was") : fmt::format("{} sessions were", done_)));
  };
  for (std::size_t i = 0; i < plans.size(); ++i) {
    Outcome& o = out[i];
    SessionPlan current = std::move(plans[i]);
    o.plan = SessionPlan{current.profile, current.id, {}, current.atomic, 0};
    if (current.steps.empty()) {
      o.status = Status::skipped;
      o.reason = current.profile == "unknown" ? "no profile: its app's format is unknown, nothing masked"
                                              : "nothing to mask: its values are masked already";
      continue;
    }
    // This session's script replies: one for the session, or one per key.
    const std::size_t n = current.atomic ? 1 : current.steps.size();
    std::vector<Reply> got(std::make_move_iterator(replies.begin() + static_cast<std::ptrdiff_t>(first[i])),
                           std::make_move_iterator(replies.begin() + static_cast<std::ptrdiff_t>(first[i] + n)));
    for (int attempt = 1;; ++attempt) {
      if (std::any_of(got.begin(), got.end(), [](const Reply& r) { return r.error_code() == "NOSCRIPT"; })) {
        sha_.clear();  // a node that lost its scripts (restarted, failed over): load again, run again
        got = client_.run(commands(current));
      }
      bool stale = false;
      for (std::size_t r = 0; r < got.size() && o.status == Status::done; ++r) {
        if (got[r].is_error()) {
          if (!redis::is_data_error(got[r])) stop(got[r]);
          o.status = Status::failed;
          o.reason = got[r].str;
          continue;
        }
        if (got[r].integer != 1) {
          stale = true;
          continue;
        }
        const std::size_t from = current.atomic ? 0 : r;
        const std::size_t to = current.atomic ? current.steps.size() : r + 1;
        for (std::size_t k = from; k < to; ++k) {
          current.steps[k].changed = true;
          o.plan.steps.push_back(current.steps[k]);
        }
      }
      if (o.status != Status::done || !stale) break;
      if (attempt == kAttempts) {
        o.status = Status::failed;
        o.reason = fmt::format("its values changed under each of {} attempts; run the command again", kAttempts);
        break;
      }
      // The app wrote meanwhile (or the session went away): read it again and mask what it holds now.
      // Keys written so far are masked already and plan no edit.
      std::optional<SessionPlan> fresh = replan_(current);
      if (!fresh) {
        if (o.plan.steps.empty()) o.reason = "gone meanwhile (deleted or expired): not brought back";
        break;
      }
      if (fresh->steps.empty()) break;
      std::vector<std::string> keys;
      for (const auto& s : fresh->steps) keys.push_back(s.key);
      fresh->atomic = fresh->steps.size() <= 1 || client_.one_transaction(keys);
      current = std::move(*fresh);
      got = client_.run(commands(current));
    }
    o.plan.atomic = current.atomic;
    for (const auto& s : o.plan.steps) o.keys_changed += s.changed ? 1 : 0;
    if (o.status == Status::done && o.keys_changed == 0) {
      o.status = Status::skipped;
      if (o.reason.empty()) o.reason = "nothing to mask when read again";
    }
    if (o.status == Status::done) ++done_;
  }
  return out;
}

}  // namespace sessionctl::write
