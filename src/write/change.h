// Changes to whole sessions on a live store: first a plan (which keys, what happens to each; pure, and
// what --dry-run prints), then its application through a redis::Client, batch by batch, with the
// outcome of every session. Built for a store the apps keep writing to:
//
// - extend --ttl: PEXPIRE … XX per key (a key without a TTL keeps none; a key that is gone stays gone),
//   or plain PEXPIRE with --include-persistent (PEXPIRE never creates a key).
// - extend --by: a script per key reads PTTL and adds to it in one step, so a TTL the app refreshes
//   meanwhile is added to, not overwritten with a stale sum; it also refuses to pass the profile's maximum.
// - delete: UNLINK of every key, ZREM of the session's index member, and the pointer key (Telegram's
//   session:chat:{chat_id}) only while it still names this session (a compare-and-delete script).
//
// On one server the steps of a session go in one MULTI … EXEC, so a refusal (READONLY, OOM, NOPERM)
// leaves the session whole. On a cluster that holds only when the session's keys share a slot; TRT's keys
// have no hash tag, so there each key changes atomically on its own (plan.atomic says which).
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "redis/client.h"
#include "session/session.h"

namespace sessionctl::write {

enum class Action {
  expire,              // PEXPIRE (XX unless persistent keys are included)
  add_ttl,             // PTTL + PEXPIRE in one script
  unlink,              // UNLINK
  zrem,                // ZREM key member
  unlink_if_pointing,  // UNLINK key if GET key == member
  mask,                // rewrite PII in the key's value (mask --in-place; see mask_in_place.h)
  remove_orphan        // ZREM / UNLINK / pointer delete while `guard` is missing (cleanup.h)
};
const char* action_name(Action a);

// One value of a key rewritten in masked form, applied only while the key still holds `before`.
struct ValueEdit {
  std::string at;  // hash: the field; list: the index; set, zset, string: empty
  std::string before;
  std::string after;
  double score = 0;  // zset: the member's score, kept
};

struct KeyStep {
  Action action = Action::expire;
  std::string key;
  std::string member;            // zrem: the member; unlink_if_pointing: the id the key must hold
  long long ttl_before_ms = -2;  // as read when planned (-1 none, -2 missing)
  long long ttl_after_ms = -2;   // planned; after apply, what the server reported
  bool changed = false;          // after apply: the server did it
  // mask: the edits, checked and written by one script (what was read, what replaces it), and what
  // --dry-run shows of them (where in the value: "value", "field email", "item 3"; never the PII).
  KeyType type = KeyType::none;
  std::vector<ValueEdit> edits;
  std::vector<std::string> where;
  // remove_orphan: the session's primary key, which must still be missing; and which kind of entry.
  std::string guard;
  Action orphan_of = Action::unlink;  // zrem, unlink or unlink_if_pointing
};

struct SessionPlan {
  std::string profile;
  std::string id;
  std::vector<KeyStep> steps;
  bool atomic = true;        // all steps in one MULTI … EXEC
  long long max_ttl_ms = 0;  // extend: the profile's max_ttl the --by script keeps to (0: none, or --force)
};

struct ExtendSpec {
  std::optional<std::chrono::milliseconds> set;  // --ttl
  std::optional<std::chrono::milliseconds> add;  // --by
  bool include_persistent = false;               // --include-persistent
  bool force = false;                            // --force: past the profile's max_ttl
};

// The plan for extending one session: a step per key it has (persistent keys skipped unless included).
SessionPlan plan_extend(const Session& session, const ExtendSpec& spec);
// Why this plan passes the profile's max_ttl (a reason naming the key and both TTLs), or nullopt.
std::optional<std::string> above_max(const SessionPlan& plan, const Session& session, const ExtendSpec& spec);
// The plan for deleting one session with its index entries (the zset member, the pointer key when the
// session's link field names one; the value must have been read for that).
SessionPlan plan_delete(const Session& session);

enum class Status { done, skipped, failed };
const char* status_name(Status s);

struct Outcome {
  SessionPlan plan;  // steps carry what the server did
  Status status = Status::done;
  std::string reason;  // why skipped or failed
  long long keys_changed = 0;
};

// What applies a batch of plans: Applier for extend, delete and cleanup, MaskApplier for mask --in-place.
class PlanApplier {
 public:
  virtual ~PlanApplier() = default;
  PlanApplier() = default;
  PlanApplier(const PlanApplier&) = delete;
  PlanApplier& operator=(const PlanApplier&) = delete;
  PlanApplier(PlanApplier&&) = delete;
  PlanApplier& operator=(PlanApplier&&) = delete;
  // Applies `plans` (one batch); outcomes in the same order.
  virtual std::vector<Outcome> apply(std::vector<SessionPlan> plans) = 0;
};

// Applies plans in batches through one client. Errors that stop everything (connection lost, auth,
// READONLY, OOM …) are thrown as their typed error with how far the work got; errors of one session
// (WRONGTYPE: a key changed type under us) fail that session only.
class Applier : public PlanApplier {
 public:
  Applier(redis::Client& client, ExtendSpec spec);
  std::vector<Outcome> apply(std::vector<SessionPlan> plans) override;
  // Sessions done so far, for the message of an error that stops the work.
  std::size_t sessions_done() const { return done_; }

 private:
  std::string script_sha(const std::string& source);
  redis::Client& client_;
  ExtendSpec spec_;
  std::size_t done_ = 0;
  std::string add_sha_, cad_sha_;
};

// The Lua sources, for the man page and tests.
extern const char* const kAddTtlScript;
extern const char* const kCompareAndDeleteScript;

}  // namespace sessionctl::write
