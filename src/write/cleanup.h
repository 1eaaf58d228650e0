// cleanup: removing what doctor calls orphans (index entries and related keys that outlived their
// session) and, with --idle-over, whole idle sessions (as delete does them). Each orphan is removed
// only while its session's primary key is still missing, checked in the same step where the two keys
// share a slot (one script), else right before (a session created in that instant is the remaining
// race, on a cluster only); a chat pointer only while it still names the missing session.
#pragma once

#include <optional>

#include "session/profile.h"
#include "session/session.h"
#include "write/change.h"

namespace sessionctl::write {

// The plan for one orphan: a remove_orphan step on its key (member: the zset member or the id the
// pointer holds; `guard`: the primary key that must still be missing). nullopt when the orphan's
// profile or session cannot be told from it.
std::optional<SessionPlan> plan_orphan(const Orphan& orphan, const ProfileSet& profiles);

// Applies orphan plans with their guards, and any other plan (an idle session) as Applier does.
class CleanupApplier : public PlanApplier {
 public:
  explicit CleanupApplier(redis::Client& client) : client_(client), sessions_(client, ExtendSpec{}) {}
  std::vector<Outcome> apply(std::vector<SessionPlan> plans) override;

 private:
  std::string sha();
  redis::Client& client_;
  Applier sessions_;
  std::string sha_;
};

extern const char* const kRemoveOrphanScript;

}  // namespace sessionctl::write
