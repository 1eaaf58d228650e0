// mask --in-place: the stored PII of whole sessions rewritten in masked form, by the same masking
// engine and the same profile rules that inspect shows values with, so that what an operator saw
// masked is what the store holds afterwards.
//
// - Each value keeps its Redis type, its JSON structure (same keys, same types, same array lengths)
//   and its TTL (SET … KEEPTTL; HSET, LSET, SADD and ZADD leave TTLs alone), so the app still loads it.
// - Only values the engine changes are written: a masked value masks to itself, so a second run
//   writes nothing (idempotent). Values the app cannot read either (corrupt JSON, binary bytes where
//   text is expected, opaque encodings) are left as they are.
// - Concurrency: the plan records what was read; one script checks every edit of a session against
//   what the store holds now and writes all of them or none. When the app wrote meanwhile (a state
//   change, a history push that moved the items) or the session was deleted, nothing is written, the
//   session is read again and masked as it is now (a bounded number of times). So no app write is
//   lost, no deleted session comes back, and no TTL is touched. WATCH … MULTI would do the same on one
//   server, but the router cannot hold a WATCH across a cluster's pipelines; one script per session
//   (per key where the keys sit in different slots) works on both.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "redis/client.h"
#include "session/session.h"
#include "write/change.h"

namespace sessionctl::write {

// The plan for masking one session in place: a `mask` step for each key with values to rewrite.
// Sessions of no known profile get an empty plan (their app's format is unknown).
SessionPlan plan_mask(const Session& session);
// Whether the session's values were read only in part (a window of a big aggregate, or not at all):
// a plan needs the whole values, read with LookupOptions::whole.
bool needs_whole_read(const Session& session);

// A fresh plan for a session whose values changed under the first one (read again), or nullopt when
// the session is gone.
using Replanner = std::function<std::optional<SessionPlan>(const SessionPlan& stale)>;

class MaskApplier : public PlanApplier {
 public:
  MaskApplier(redis::Client& client, Replanner replan) : client_(client), replan_(std::move(replan)) {}
  std::vector<Outcome> apply(std::vector<SessionPlan> plans) override;

  static constexpr int kAttempts = 5;  // reads of one session before it is reported as changing too fast

 private:
  std::vector<redis::Command> commands(const SessionPlan& plan);
  std::string sha();
  redis::Client& client_;
  Replanner replan_;
  std::size_t done_ = 0;
  std::string sha_;
};

// The Lua source, for the man page and tests.
extern const char* const kMaskScript;

}  // namespace sessionctl::write
