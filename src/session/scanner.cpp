#include "session/scanner.h"

#include <fmt/format.h>

#include <algorithm>
#include <exception>
#include <thread>

#include "redis/reply_error.h"
#include "session/batch_codec.h"
#include "util/bounded_queue.h"
#include "util/errors.h"
#include "util/interrupt.h"

namespace sessionctl {

using redis::Command;
using redis::Reply;

struct SessionScanner::Batch {
  BatchPlan plan;
  std::vector<Reply> replies;  // the first round trip's, then the follow-ups', in slot order
};

SessionScanner::SessionScanner(redis::Client& client, const ProfileSet& profiles, ScanOptions options)
    : client_(client), profiles_(profiles), options_(std::move(options)) {}

std::string SessionScanner::scan_glob() const {
  std::vector<const Profile*> all;
  for (const auto& p : profiles_.all()) all.push_back(&p);
  return scan_glob(all);
}

std::string SessionScanner::scan_glob(const std::vector<const Profile*>& profiles) const {
  std::string glob;
  for (const Profile* pp : profiles) {
    const Profile& p = *pp;
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
  // Four stages so that Redis never waits for us: a SCAN thread on a stream of its own, a planner
  // thread classifying names and building the next pipeline, a fetch thread doing nothing but the
  // pipelines' I/O on the main connection (so the server always has the next batch at hand), and
  // this thread building sessions. Bounded queues keep memory at a few batches whatever the keyspace.
  constexpr std::size_t kQueued = 2;
  BoundedQueue<std::vector<std::string>> names(kQueued);
  BoundedQueue<Batch> planned(kQueued);
  BoundedQueue<Batch> batches(kQueued);
  std::exception_ptr scan_error, plan_error, fetch_error;
  // A key-restricted ACL user reads what it may: denied profiles are skipped and named, and only a
  // user who may read no selected profile at all is refused.
  const std::vector<const Profile*> readable = readable_profiles();
  if (readable.empty() && !counters_.denied.empty()) {
    std::string which;
    for (const auto& d : counters_.denied)
      which += fmt::format("{}{} ({})", which.empty() ? "" : ", ", d.profile, d.pattern);
    throw AuthError(
        fmt::format("NOPERM: the ACL user may not read the keys of any selected profile: {}; allow it "
                    "those key patterns (ACL SETUSER … %R~PATTERN) or choose readable ones with --profile",
                    which));
  }
  redis::ScanRequest req;
  req.pattern = scan_glob(readable);  // only the layouts that can be read
  req.count = options_.scan_count;
  std::unique_ptr<redis::KeyStream> stream = client_.open_scan(req);
  const PlanOptions plan_options{options_.fetch_values, options_.find_orphans, options_.id_glob, options_.expire_times};

  std::thread scanner([&] {
    try {
      std::vector<std::string> keys;
      while (!interrupted() && stream->next(keys)) {
        if (!keys.empty() && !names.push(std::move(keys))) break;
      }
    } catch (...) {
      scan_error = std::current_exception();
    }
    names.close();
  });
  std::thread planner([&] {
    try {
      while (auto keys = names.pop()) {
        if (interrupted()) break;
        Batch batch{plan_batch(*keys, readable, plan_options), {}};
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
  if (!stopped && options_.find_orphans && on_orphan) scan_zset_indexes(readable, on_orphan);
}

void SessionScanner::fetch(Batch& b) {
  if (b.plan.commands.empty()) return;
  b.replies = client_.run(b.plan.commands);
  b.plan.commands = {};  // the batch now waits in a queue: do not hold its request bytes too
  std::size_t checked = 0;
  for (;;) {
    std::size_t at = 0;
    if (!fatal_error_in(b.replies, checked, at).empty()) redis::throw_reply_error(b.replies[at], "reading sessions");
    checked = b.replies.size();
    // Rare: pointer targets, the real type of keys that were not strings, long string values.
    redis::CommandBuffer more = plan_follow_up(b.plan, b.replies);
    if (more.empty()) return;
    std::vector<Reply> extra = client_.run(more);
    std::move(extra.begin(), extra.end(), std::back_inserter(b.replies));
  }
}

std::vector<const Profile*> SessionScanner::readable_profiles() {
  std::vector<Command> probes;
  for (const auto& p : profiles_.all()) probes.push_back({"EXISTS", p.primary.pattern.key_for("sessionctl-acl-probe")});
  std::vector<const Profile*> readable;
  if (probes.empty()) return readable;
  std::vector<Reply> replies = client_.run(probes);
  // Reading one cluster node (--single-node): a probe key hashed to another node says nothing about ACLs.
  for (auto& r : replies)
    if (redis::is_redirect(r)) r = Reply{};
  std::size_t at = 0;
  if (!fatal_error_in(replies, 0, at).empty()) redis::throw_reply_error(replies[at], "EXISTS");
  for (std::size_t i = 0; i < replies.size(); ++i) {
    const Profile& p = profiles_.all()[i];
    if (is_key_denied(replies[i])) {
      note_denied(p.name, p.primary.pattern.text());
    } else {
      readable.push_back(&p);
    }
  }
  return readable;
}

std::string denied_note(const DeniedProfile& d) {
  return fmt::format("profile '{}' skipped: the ACL user may not read its keys ({})", d.profile, d.pattern);
}

void SessionScanner::note_denied(const std::string& profile, const std::string& pattern) {
  DeniedProfile d{profile, pattern};
  auto& denied = counters_.denied;
  if (std::find(denied.begin(), denied.end(), d) == denied.end()) denied.push_back(std::move(d));
}

bool SessionScanner::consume(Batch& b, const std::function<bool(Session&)>& on_session,
                             const std::function<void(const Orphan&)>& on_orphan) {
  BatchPlan& plan = b.plan;
  std::vector<Reply>& replies = b.replies;
  counters_.keys_seen += static_cast<long long>(plan.key_names);
  for (auto& c : plan.sessions) {
    std::span<const Profile* const> candidates(plan.candidates.data() + c.first_profile, c.profile_count);
    // A key the ACL user may not read: the profile is skipped, and named, instead of failing the scan.
    const PlannedKey* denied = nullptr;
    for (std::size_t i = 0; i < c.key_count && !denied; ++i) {
      const PlannedKey& pk = plan.keys[c.first_key + i];
      if (is_key_denied(replies[pk.at.ttl])) denied = &pk;
    }
    if (denied) {
      for (const Profile* p : candidates) note_denied(p->name, denied->role->pattern.text());
      continue;
    }
    Session s;
    s.profile = candidates.front();
    s.keys.reserve(c.key_count);
    bool too_large = false;
    for (std::size_t i = 0; i < c.key_count; ++i) {
      const PlannedKey& pk = plan.keys[c.first_key + i];
      s.keys.push_back(decode_key(pk, key_name(plan, pk), replies, c.want_value));
      too_large |= pk.too_large && s.keys.back().exists();
    }
    s.id = std::move(c.id);
    for (std::size_t i = 0; i < c.score_count; ++i) {
      const Reply& score = replies[c.first_score + i];
      if (score.is_string()) s.index_score = std::strtod(score.str.c_str(), nullptr);
    }
    if (!s.primary().exists()) {
      ++counters_.vanished;  // expired or deleted since SCAN returned it
      continue;
    }
    if (c.shared) {
      // A shared layout (session:*): the value's shape says which app wrote it.
      const auto& value = s.primary().value;
      Detection d = detect_profile(value ? &value->raw : nullptr, candidates, profiles_.known());
      // Another store's session, left out by --profile: not this profile's, and not unknown either.
      if (d.other_store) continue;
      s.profile = d.profile;
      if (d.problem) s.add_problem(d.problem);
      if (!s.profile) {
        s.layout = candidates.front()->primary.pattern.text();
        ++counters_.unclassified;
      }
    }
    analyse_session(s);
    if (too_large) {
      s.add_problem(problem::too_large_to_read);
      ++counters_.too_large;
    }
    if (c.shared && !options_.fetch_values) {
      for (auto& k : s.keys) k.value.reset();  // read for detection only
    }
    ++counters_.sessions;
    if (!on_session(s)) return false;
  }

  if (on_orphan) {
    for (const auto& r : plan.related_checks) {
      const Reply& ex = replies[r.exists_at];
      if (ex.type == Reply::Type::integer && ex.integer == 0) {
        ++counters_.orphans;
        on_orphan(Orphan{r.profile->name, r.key, "", "its session's primary key is gone", -2});
      }
    }
    for (const auto& pc : plan.pointer_checks) {
      if (pc.exists_at == ReplySlots::none) continue;
      const Reply& ex = replies[pc.exists_at];
      if (ex.type == Reply::Type::integer && ex.integer == 0) {
        ++counters_.orphans;
        on_orphan(Orphan{pc.profile->name, pc.key, replies[pc.target_at].str, "points at a session that does not exist",
                         replies[pc.ttl_at].integer});
      }
    }
  }
  return true;
}

void SessionScanner::scan_zset_indexes(const std::vector<const Profile*>& profiles,
                                       const std::function<void(const Orphan&)>& on_orphan) {
  for (const Profile* pp : profiles) {
    const Profile& p = *pp;
    for (const auto& ix : p.indexes) {
      if (ix.kind != IndexSpec::Kind::zset_of_ids) continue;
      const std::string& key = ix.pattern.text();
      std::string cursor = "0";
      do {
        check_interrupted();
        Reply r = client_.run1({"ZSCAN", key, cursor, "COUNT", "1000"});
        if (r.is_error()) {
          // WRONGTYPE: not an index. A redirect: reading one cluster node, which does not hold it.
          if (r.error_code() == "WRONGTYPE" || redis::is_redirect(r)) break;
          if (is_key_denied(r)) {
            note_denied(p.name, key);
            break;
          }
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
