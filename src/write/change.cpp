#include "write/change.h"

#include <fmt/format.h>

#include <algorithm>

#include "redis/reply_error.h"
#include "util/errors.h"

namespace sessionctl::write {

using redis::Command;
using redis::Reply;

// PTTL and PEXPIRE in one step (--by): a TTL the app refreshes between our read and our write is
// added to, never replaced by a stale sum. ARGV: milliseconds to add, "1" to give keys without a TTL
// one (of that length), the profile's max_ttl in ms or 0. Returns the new TTL, -1 (no TTL, left so),
// -2 (gone), or -3 (the sum would pass the maximum: nothing changed).
const char* const kAddTtlScript = R"lua(local t = redis.call('PTTL', KEYS[1])
if t == -2 then return -2 end
local add = tonumber(ARGV[1])
local n
if t == -1 then
  if ARGV[2] ~= '1' then return -1 end
  n = add
else
  n = t + add
end
local cap = tonumber(ARGV[3])
if cap > 0 and n > cap then return -3 end
redis.call('PEXPIRE', KEYS[1], n)
return n)lua";

// UNLINK the key only while it holds ARGV[1] (a pointer key naming this session, not one the app has
// since pointed at another). Returns 1 when deleted, 0 when it held something else or nothing.
const char* const kCompareAndDeleteScript = R"lua(if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('UNLINK', KEYS[1])
end
return 0)lua";

const char* action_name(Action a) {
  switch (a) {
    case Action::expire:
      return "pexpire";
    case Action::add_ttl:
      return "add_ttl";
    case Action::unlink:
      return "unlink";
    case Action::zrem:
      return "zrem";
    case Action::unlink_if_pointing:
      return "unlink_if_pointing";
    case Action::mask:
      return "mask";
    case Action::remove_orphan:
      return "remove_orphan";
  }
  return "?";
}

const char* status_name(Status s) {
  switch (s) {
    case Status::done:
      return "done";
    case Status::skipped:
      return "skipped";
    case Status::failed:
      return "failed";
  }
  return "?";
}

SessionPlan plan_extend(const Session& session, const ExtendSpec& spec) {
  SessionPlan plan{session.profile_name(), session.id, {}, true, 0};
  if (!spec.force && session.profile && session.profile->max_ttl) plan.max_ttl_ms = session.profile->max_ttl->count();
  for (const auto& k : session.keys) {
    if (!k.exists()) continue;
    if (k.ttl_ms == -1 && !spec.include_persistent) continue;  // keeps no TTL
    KeyStep step;
    step.action = spec.add ? Action::add_ttl : Action::expire;
    step.key = k.key;
    step.ttl_before_ms = k.ttl_ms;
    const long long add = spec.add ? spec.add->count() : 0;
    step.ttl_after_ms = spec.set ? spec.set->count() : (k.ttl_ms < 0 ? add : k.ttl_ms + add);
    plan.steps.push_back(std::move(step));
  }
  return plan;
}

namespace {

// 1d2h3m4s, every unit that is not zero (format_duration rounds, and 1d past a max of 1d says nothing).
std::string exact_duration(long long ms) {
  long long s = ms / 1000;
  std::string out;
  for (auto [unit, len] : {std::pair<char, long long>{'d', 86400}, {'h', 3600}, {'m', 60}, {'s', 1}}) {
    if (s >= len) out += fmt::format("{}{}", s / len, unit);
    s %= len;
  }
  return out.empty() ? fmt::format("{}ms", ms) : out;
}

}  // namespace

std::optional<std::string> above_max(const SessionPlan& plan, const Session& session, const ExtendSpec& spec) {
  if (spec.force || !session.profile || !session.profile->max_ttl) return std::nullopt;
  const long long max = session.profile->max_ttl->count();
  for (const auto& s : plan.steps) {
    if (s.ttl_after_ms > max) {
      return fmt::format("{} would get a TTL of {}, above profile {}'s max_ttl of {}", s.key,
                         exact_duration(s.ttl_after_ms), session.profile->name, exact_duration(max));
    }
  }
  return std::nullopt;
}

SessionPlan plan_delete(const Session& session) {
  SessionPlan plan{session.profile_name(), session.id, {}, true, 0};
  for (const auto& k : session.keys) {
    if (!k.exists()) continue;
    plan.steps.push_back(KeyStep{Action::unlink, k.key, "", k.ttl_ms, -2, false, {}, {}, {}, {}, Action::unlink});
  }
  if (session.profile) {
    for (const auto& ix : session.profile->indexes) {
      if (ix.kind == IndexSpec::Kind::zset_of_ids) {
        plan.steps.push_back(
            KeyStep{Action::zrem, ix.pattern.text(), session.id, -1, -1, false, {}, {}, {}, {}, Action::unlink});
      } else if (!ix.link_field.empty()) {
        const auto link = field_value(session, ix.link_field);
        if (!link || link->empty()) continue;
        plan.steps.push_back(KeyStep{Action::unlink_if_pointing,
                                     ix.pattern.key_for(*link),
                                     session.id,
                                     -1,
                                     -2,
                                     false,
                                     {},
                                     {},
                                     {},
                                     {},
                                     Action::unlink});
      }
    }
  }
  return plan;
}

Applier::Applier(redis::Client& client, ExtendSpec spec) : client_(client), spec_(spec) {}

std::string Applier::script_sha(const std::string& source) {
  // Loaded on every primary: a key's script runs on the node that owns the key.
  std::string sha;
  for (const auto& n : client_.each_node({"SCRIPT", "LOAD", source})) {
    if (n.reply.is_error()) redis::throw_reply_error(n.reply, "SCRIPT LOAD on " + n.node);
    sha = n.reply.str;
  }
  return sha;
}

namespace {

const char* command_name(Action a) {
  switch (a) {
    case Action::expire:
      return "PEXPIRE";
    case Action::add_ttl:
    case Action::unlink_if_pointing:
    case Action::mask:
    case Action::remove_orphan:
      return "EVALSHA";
    case Action::unlink:
      return "UNLINK";
    case Action::zrem:
      return "ZREM";
  }
  return "?";
}

Command step_command(const KeyStep& s, const ExtendSpec& spec, const std::string& add_sha, const std::string& cad_sha,
                     long long max_ms) {
  // NOLINTBEGIN(bugprone-unchecked-optional-access): set and add are checked by the plan's action
  switch (s.action) {
    case Action::expire:
      if (spec.include_persistent) return {"PEXPIRE", s.key, std::to_string(spec.set->count())};
      return {"PEXPIRE", s.key, std::to_string(spec.set->count()), "XX"};
    case Action::add_ttl:
      return {"EVALSHA",
              add_sha,
              "1",
              s.key,
              std::to_string(spec.add->count()),
              spec.include_persistent ? "1" : "0",
              std::to_string(max_ms)};
    case Action::unlink:
      return {"UNLINK", s.key};
    case Action::zrem:
      return {"ZREM", s.key, s.member};
    case Action::unlink_if_pointing:
      return {"EVALSHA", cad_sha, "1", s.key, s.member};
    case Action::mask:
    case Action::remove_orphan:
      break;  // MaskApplier's, CleanupApplier's
  }
  // NOLINTEND(bugprone-unchecked-optional-access)
  return {};
}

// What the server's reply to a step says it did.
void read_step(KeyStep& s, const Reply& r) {
  switch (s.action) {
    case Action::expire:
      s.changed = r.integer == 1;
      if (!s.changed) s.ttl_after_ms = s.ttl_before_ms == -1 ? -1 : -2;  // kept no TTL, or gone meanwhile
      break;
    case Action::add_ttl:
      s.changed = r.integer >= 0;
      // The new TTL; -1 left without one; -2 gone; -3 refused (past max_ttl), so as it was.
      s.ttl_after_ms = r.integer == -3 ? s.ttl_before_ms : r.integer;
      break;
    case Action::unlink:
    case Action::zrem:
    case Action::unlink_if_pointing:
    case Action::mask:
    case Action::remove_orphan:
      s.changed = r.integer > 0;
      break;
  }
}

}  // namespace

std::vector<Outcome> Applier::apply(std::vector<SessionPlan> plans) {
  const bool needs_add = std::any_of(plans.begin(), plans.end(), [](const SessionPlan& p) {
    return std::any_of(p.steps.begin(), p.steps.end(), [](const KeyStep& s) { return s.action == Action::add_ttl; });
  });
  const bool needs_cad = std::any_of(plans.begin(), plans.end(), [](const SessionPlan& p) {
    return std::any_of(p.steps.begin(), p.steps.end(),
                       [](const KeyStep& s) { return s.action == Action::unlink_if_pointing; });
  });
  if (needs_add && add_sha_.empty()) add_sha_ = script_sha(kAddTtlScript);
  if (needs_cad && cad_sha_.empty()) cad_sha_ = script_sha(kCompareAndDeleteScript);

  // One MULTI … EXEC per session of more than one step whose keys may change together.
  std::vector<Command> cmds;
  struct Where {
    std::size_t first = 0;  // index of the first step's reply (or of EXEC's, for a transaction)
    bool tx = false;
  };
  std::vector<Where> where;
  where.reserve(plans.size());
  for (auto& p : plans) {
    std::vector<std::string> keys;
    for (const auto& s : p.steps) keys.push_back(s.key);
    p.atomic = p.steps.size() <= 1 || client_.one_transaction(keys);
    const bool tx = p.steps.size() > 1 && p.atomic;
    if (tx) cmds.push_back({"MULTI"});
    for (const auto& s : p.steps) cmds.push_back(step_command(s, spec_, add_sha_, cad_sha_, p.max_ttl_ms));
    if (tx) {
      cmds.push_back({"EXEC"});
      where.push_back(Where{cmds.size() - 1, true});
    } else {
      where.push_back(Where{cmds.size() - p.steps.size(), false});
    }
  }
  // --by past the maximum is refused up front (above_max); the script checks again as it adds.
  std::vector<Reply> replies = client_.run(cmds);

  std::vector<Outcome> out;
  out.reserve(plans.size());
  for (std::size_t i = 0; i < plans.size(); ++i) {
    Outcome o;
    o.plan = std::move(plans[i]);
    const Where w = where[i];
    auto fail_on = [&](const Reply& r, const KeyStep* step) {
      // A fact about a key (it changed type under us): this session fails; anything else stops the work.
      if (redis::is_data_error(r)) {
        o.status = Status::failed;
        o.reason = r.str;
        return;
      }
      const char* what = step == nullptr ? "EXEC" : command_name(step->action);
      redis::throw_reply_error(
          r, done_ == 0
                 ? fmt::format("{} (nothing was changed)", what)
                 : fmt::format("{} ({} changed before this; run the same command again to finish)", what,
                               done_ == 1 ? std::string("1 session was") : fmt::format("{} sessions were", done_)));
    };
    const std::size_t queued = w.first - o.plan.steps.size();
    bool oom = false;
    for (std::size_t k = queued; w.tx && k < w.first; ++k) oom = oom || replies[k].error_code() == "OOM";
    if (oom) {
      // At maxmemory Redis refuses every command queued in a MULTI, though UNLINK, ZREM and PEXPIRE alone
      // need no memory: nothing was done, so the steps go one by one (a full server is where deleting
      // matters most), and the session is reported as changed key by key.
      std::vector<Command> one_by_one;
      for (const auto& st : o.plan.steps)
        one_by_one.push_back(step_command(st, spec_, add_sha_, cad_sha_, o.plan.max_ttl_ms));
      const std::vector<Reply> again = client_.run(one_by_one);
      o.plan.atomic = false;
      for (std::size_t k = 0; k < o.plan.steps.size(); ++k) {
        if (again[k].is_error()) {
          fail_on(again[k], &o.plan.steps[k]);
          continue;
        }
        read_step(o.plan.steps[k], again[k]);
      }
    } else if (w.tx) {
      // Refused while queueing (NOPERM, READONLY): the error is in a queued command's place, and EXEC
      // says EXECABORT; nothing of the session changed.
      for (std::size_t k = queued; k < w.first; ++k)
        if (replies[k].is_error()) fail_on(replies[k], &o.plan.steps[k - (w.first - o.plan.steps.size())]);
      const Reply& exec = replies[w.first];
      if (o.status == Status::done && exec.is_error()) fail_on(exec, nullptr);
      if (o.status == Status::done) {
        for (std::size_t k = 0; k < o.plan.steps.size() && k < exec.elements.size(); ++k) {
          if (exec.elements[k].is_error()) {
            fail_on(exec.elements[k], &o.plan.steps[k]);
            continue;
          }
          read_step(o.plan.steps[k], exec.elements[k]);
        }
      }
    } else {
      for (std::size_t k = 0; k < o.plan.steps.size(); ++k) {
        const Reply& r = replies[w.first + k];
        if (r.is_error()) {
          Reply again;
          if (r.error_code() == "NOSCRIPT") {
            // A node that lost its scripts (restarted, failed over): load them again, run this one alone.
            add_sha_ = script_sha(kAddTtlScript);
            cad_sha_ = script_sha(kCompareAndDeleteScript);
            again = client_.run1(step_command(o.plan.steps[k], spec_, add_sha_, cad_sha_, o.plan.max_ttl_ms));
          }
          if (again.is_error() || r.error_code() != "NOSCRIPT") {
            fail_on(r.error_code() == "NOSCRIPT" ? again : r, &o.plan.steps[k]);
            continue;
          }
          read_step(o.plan.steps[k], again);
          continue;
        }
        read_step(o.plan.steps[k], r);
      }
    }
    for (const auto& s : o.plan.steps) o.keys_changed += s.changed ? 1 : 0;
    if (o.status == Status::done && o.keys_changed == 0) {
      o.status = Status::skipped;
      o.reason = o.plan.steps.empty() ? "nothing to change (keys without a TTL keep none: --include-persistent)"
                                      : "gone or changed meanwhile";
      for (const auto& s : o.plan.steps)
        if (s.action == Action::add_ttl && s.ttl_after_ms == s.ttl_before_ms && s.ttl_before_ms >= 0)
          o.reason = "the TTL it has now plus --by passes the profile's max_ttl";
    }
    if (o.status == Status::done) ++done_;
    out.push_back(std::move(o));
  }
  return out;
}

}  // namespace sessionctl::write
