// sessionctl inspect ID|KEY…: every key of a session, decoded and masked.
#include <fmt/format.h>

#include <algorithm>
#include <ostream>

#include "json/probe.h"
#include "mask/mask.h"
#include "redis/reply.h"
#include "registry.h"
#include "render/session_detail.h"
#include "render/session_view.h"
#include "session/key_pattern.h"
#include "session/scanner.h"
#include "util/errors.h"

namespace sessionctl::cli {
namespace {

struct InspectFlags {
  std::vector<std::string> targets;
};

std::size_t distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

// Close matches for a missing id: ids that contain it or are a few edits away. Looks at no more
// than 200k keys so a huge keyspace cannot make an error message slow.
std::vector<std::string> suggestions(redis::Client& client, const ProfileSet& profiles, const std::string& wanted) {
  std::vector<std::pair<std::size_t, std::string>> found;
  long long seen = 0;
  SessionScanner scanner(client, profiles, ScanOptions{});
  redis::ScanRequest req;
  req.pattern = scanner.scan_glob();
  client.scan(req, [&](std::vector<std::string>& keys) {
    for (const auto& key : keys) {
      for (const auto& p : profiles.all()) {
        auto m = p.match_key(key);
        if (!m || m->first != &p.primary) continue;
        const std::string& id = m->second;
        if (id == wanted) continue;  // the same id under a layout another (unselected) profile owns: no hint
        std::size_t d =
            id.find(wanted) != std::string::npos || wanted.find(id) != std::string::npos ? 0 : distance(id, wanted);
        if (d <= std::max<std::size_t>(2, wanted.size() / 4)) found.emplace_back(d, id);
      }
    }
    seen += static_cast<long long>(keys.size());
    return seen < 200000;
  });
  std::sort(found.begin(), found.end());
  found.erase(std::unique(found.begin(), found.end()), found.end());
  std::vector<std::string> out;
  for (const auto& [d, id] : found) {
    if (out.size() == 3) break;
    if (std::find(out.begin(), out.end(), id) == out.end()) out.push_back(id);
  }
  return out;
}

// Finds the sessions a target names: a full key of some profile's layout, or an id tried in each profile.
std::vector<Session> resolve(redis::Client& client, SessionScanner& scanner, const ProfileSet& profiles,
                             const std::string& target) {
  std::vector<Session> out;
  std::vector<std::pair<const Profile*, std::string>> tries;
  for (const auto& p : profiles.all()) {
    if (auto m = p.match_key(target)) tries.emplace_back(&p, m->second);
  }
  if (tries.empty()) {
    for (const auto& p : profiles.all()) {
      const IndexSpec* ix = p.match_index(target);
      if (!ix) continue;
      if (ix->kind == IndexSpec::Kind::zset_of_ids) {
        throw UsageError(
            fmt::format("'{}' is {}'s index of sessions, not a session; list them with "
                        "'sessionctl list --profile {}'",
                        printable(target), p.name, p.name));
      }
      // A pointer key (session:chat:{chat_id}): the session it names, or the pointer itself when that is gone.
      redis::Reply pointed = client.run1({"GET", target});
      if (pointed.is_error()) redis::throw_reply_error(pointed, "reading " + printable(target));  // NOPERM: exit 4
      if (!pointed.is_string()) return out;
      if (auto s = scanner.load(p, pointed.str); s && s->primary().exists()) {
        out.push_back(std::move(*s));
      } else {
        Session orphan;
        orphan.id = pointed.str;
        orphan.profile = &p;
        KeyInfo gone;
        gone.key = p.primary.pattern.key_for(pointed.str);
        gone.role = p.primary.role;
        orphan.keys.push_back(std::move(gone));
        orphan.pointers.push_back(PointerEntry{ix->role, target, pointed.str, client.run1({"PTTL", target}).integer});
        orphan.add_problem(problem::orphan);
        out.push_back(std::move(orphan));
      }
      return out;
    }
    for (const auto& p : profiles.all()) tries.emplace_back(&p, target);
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
      s = scanner.load(*p, id);
    } catch (const AuthError& e) {
      if (!denied) denied = e;
      continue;
    }
    if (!s) continue;
    if (p->needs_shape()) {
      auto doc = s->primary().value ? parse_json(s->primary().value->raw) : std::nullopt;
      if (doc && !p->shape_matches(*doc)) {
        // Another profile on the same layout may own it; if none does, it is shown as unknown below.
        if (claimed_by_unselected_profile(*doc, {p}, profiles.known())) continue;
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

void run_inspect(Context& ctx, const InspectFlags& flags) {
  ProfileSet profiles = ctx.profiles();
  auto client = ctx.connect_no_touch();
  SessionScanner scanner(*client, profiles, ScanOptions{});
  SessionDetailReport report;
  std::vector<std::string>& missing = report.missing;
  for (const auto& raw : flags.targets) {
    const std::string target = unescape_arg(raw);
    auto sessions = resolve(*client, scanner, profiles, target);
    if (sessions.empty()) missing.push_back(target);
    for (const auto& s : sessions) report.sessions.push_back(session_detail_json(s, ctx.global.reveal));
  }
  ctx.emit(report);
  if (!missing.empty()) {
    const std::string& first = missing.front();
    auto close = suggestions(*client, profiles, first);
    std::string hint;
    // Suggestions are stored ids: masked like every id shown (the target itself is the user's own).
    for (const auto& c : close) {
      hint += (hint.empty() ? "" : ", ") + printable(ctx.global.reveal ? c : mask::mask_shown(c));
    }
    throw NotFoundError(
        fmt::format("no session '{}'{}{}", printable(first),
                    missing.size() > 1 ? fmt::format(" (and {} more missing)", missing.size() - 1) : "",
                    hint.empty() ? "; try 'sessionctl list --match GLOB'" : "; did you mean: " + hint + "?"));
  }
}

}  // namespace

Runner setup_inspect(CLI::App& app) {
  auto flags = std::make_shared<InspectFlags>();
  app.add_option("ID", flags->targets, "session ids or full keys (state:abc, trt:session:x:history)")
      ->required()
      ->type_name("ID|KEY");
  return [flags](Context& ctx) { run_inspect(ctx, *flags); };
}

}  // namespace sessionctl::cli
