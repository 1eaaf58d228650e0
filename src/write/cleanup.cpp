#include "write/cleanup.h"

#include <fmt/format.h>

#include "redis/reply_error.h"

namespace sessionctl::write {

using redis::Command;
using redis::Reply;

// KEYS[1]: the orphan's key; KEYS[2], when given: the session's primary key, which must be missing.
// ARGV[1]: zrem, unlink or pointer; ARGV[2]: the zset member, or the id the pointer must still hold.
// Returns 1 when removed, 0 when the session is back or the entry changed.
const char* const kRemoveOrphanScript = R"lua(if #KEYS > 1 and redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
local a = ARGV[1]
if a == 'zrem' then return redis.call('ZREM', KEYS[1], ARGV[2]) end
if a == 'pointer' then
  if redis.call('GET', KEYS[1]) == ARGV[2] then return redis.call('UNLINK', KEYS[1]) end
  return 0
end
return redis.call('UNLINK', KEYS[1]))lua";

std::optional<SessionPlan> plan_orphan(const Orphan& orphan, const ProfileSet& profiles) {
  const Profile* p = profiles.find(orphan.profile);
  if (p == nullptr) return std::nullopt;
  KeyStep step;
  step.action = Action::remove_orphan;
  step.key = orphan.key;
  step.ttl_before_ms = orphan.ttl_ms;
  std::string id;
  if (const IndexSpec* ix = p->match_index(orphan.key)) {
    step.orphan_of = ix->kind == IndexSpec::Kind::zset_of_ids ? Action::zrem : Action::unlink_if_pointing;
    step.member = orphan.member;
    id = orphan.member;
  } else if (auto m = p->match_key(orphan.key); m && m->first != &p->primary) {
    step.orphan_of = Action::unlink;
    id = m->second;
  } else {
    return std::nullopt;
  }
  if (id.empty()) return std::nullopt;
  step.guard = p->primary.pattern.key_for(id);
  SessionPlan plan{p->name, id, {}, true, 0};
  plan.steps.push_back(std::move(step));
  return plan;
}

std::string CleanupApplier::sha() {
  if (sha_.empty()) {
    for (const auto& n : client_.each_node({"SCRIPT", "LOAD", kRemoveOrphanScript})) {
      if (n.reply.is_error()) redis::throw_reply_error(n.reply, "SCRIPT LOAD on " + n.node);
      sha_ = n.reply.str;
    }
  }
  return sha_;
}

std::vector<Outcome> CleanupApplier::apply(std::vector<SessionPlan> plans) {
  auto is_orphan = [](const SessionPlan& p) {
    return p.steps.size() == 1 && p.steps[0].action == Action::remove_orphan;
  };
  std::vector<Outcome> out(plans.size());
  // Whole sessions (--idle-over) go through the delete applier.
  std::vector<SessionPlan> sessions;
  std::vector<std::size_t> session_at;
  for (std::size_t i = 0; i < plans.size(); ++i) {
    if (is_orphan(plans[i])) continue;
    session_at.push_back(i);
    sessions.push_back(std::move(plans[i]));
  }
  if (!sessions.empty()) {
    auto done = sessions_.apply(std::move(sessions));
    for (std::size_t k = 0; k < done.size(); ++k) out[session_at[k]] = std::move(done[k]);
  }
  // Orphans: the guard in the script where both keys share a slot; else EXISTS first, then the script.
  std::vector<std::size_t> split;
  std::vector<Command> checks;
  for (std::size_t i = 0; i < plans.size(); ++i) {
    if (!is_orphan(plans[i])) continue;
    KeyStep& s = plans[i].steps[0];
    plans[i].atomic = client_.one_transaction({s.key, s.guard});
    if (!plans[i].atomic) {
      split.push_back(i);
      checks.push_back({"EXISTS", s.guard});
    }
  }
  std::vector<bool> back(plans.size(), false);  // the session exists again: leave the entry
  if (!checks.empty()) {
    const std::vector<Reply> r = client_.run(checks);
    for (std::size_t k = 0; k < r.size(); ++k) {
      if (r[k].is_error()) redis::throw_reply_error(r[k], "EXISTS (cleanup)");
      back[split[k]] = r[k].integer > 0;
    }
  }
  std::vector<Command> cmds;
  for (std::size_t i = 0; i < plans.size(); ++i) {
    if (!is_orphan(plans[i]) || back[i]) continue;
    const KeyStep& s = plans[i].steps[0];
    const char* kind = s.orphan_of == Action::zrem ? "zrem" : s.orphan_of == Action::unlink ? "unlink" : "pointer";
    if (plans[i].atomic) {
      cmds.push_back({"EVALSHA", sha(), "2", s.key, s.guard, kind, s.member});
    } else {
      cmds.push_back({"EVALSHA", sha(), "1", s.key, kind, s.member});
    }
  }
  std::vector<Reply> replies = cmds.empty() ? std::vector<Reply>{} : client_.run(cmds);
  for (std::size_t k = 0; k < replies.size(); ++k) {
    if (replies[k].error_code() == "NOSCRIPT") {
      sha_.clear();
      cmds[k][1] = sha();
      replies[k] = client_.run1(cmds[k]);
    }
  }
  std::size_t next = 0;
  for (std::size_t i = 0; i < plans.size(); ++i) {
    if (!is_orphan(plans[i])) continue;
    Outcome& o = out[i];
    o.plan = std::move(plans[i]);
    if (back[i]) {
      o.status = Status::skipped;
      o.reason = "its session exists again";
      continue;
    }
    const Reply& r = replies[next++];
    if (r.is_error()) {
      if (!redis::is_data_error(r)) redis::throw_reply_error(r, "cleanup");
      o.status = Status::failed;
      o.reason = r.str;
      continue;
    }
    o.plan.steps[0].changed = r.integer > 0;
    o.keys_changed = r.integer > 0 ? 1 : 0;
    if (o.keys_changed == 0) {
      o.status = Status::skipped;
      o.reason = "its session exists again, or the entry changed meanwhile";
    }
  }
  return out;
}

}  // namespace sessionctl::write
