// sessionctl mask: a session shown masked (read-only), or with --in-place its stored PII rewritten masked.
#include <memory>

#include "change_flow.h"
#include "registry.h"
#include "session/resolver.h"
#include "util/errors.h"
#include "write/mask_in_place.h"

namespace sessionctl::cli {
namespace {

struct MaskFlags {
  ChangeFlags change;
  bool in_place = false;
  bool all_items = false;
};

// Values are read whole for a rewrite: up to this many items per key (sessions hold tens).
constexpr std::size_t kWholeItems = 100000;

void run_mask(Context& ctx, const MaskFlags& f) {
  if (!f.in_place) {
    if (f.change.selection.ids.empty())
      throw UsageError(
          "mask without --in-place shows named sessions masked: give ids (or --in-place to rewrite "
          "the stored values of a selection)");
    show_sessions(ctx, f.change.selection.ids, f.all_items, false);
    return;
  }
  // A second connection reads sessions again (whole, or after the app wrote under a plan): the scan's
  // own client is busy with its pipeline while sessions are planned.
  struct Reader {
    ProfileSet profiles;
    std::unique_ptr<redis::Client> client;
    std::unique_ptr<SessionResolver> resolver;
  };
  auto reader = std::make_shared<Reader>();
  reader->profiles = ctx.profiles();
  auto reread = [reader, &ctx](const std::string& profile, const std::string& id) -> std::optional<Session> {
    const Profile* p = reader->profiles.find(profile);
    if (p == nullptr) return std::nullopt;
    if (!reader->client) {
      reader->client = ctx.connect();
      LookupOptions o;
      o.items = kWholeItems;
      o.whole = true;
      reader->resolver = std::make_unique<SessionResolver>(*reader->client, reader->profiles, o);
    }
    std::optional<Session> s = reader->resolver->lookup(*p, id);
    if (s && !s->primary().exists()) return std::nullopt;  // only orphans left: the session is gone
    return s;
  };
  ChangeCommand cmd;
  cmd.name = "mask";
  cmd.verb = "mask";
  cmd.needs_values = true;
  cmd.plan = [reread](const Session& s) {
    if (!s.profile || !write::needs_whole_read(s)) return write::plan_mask(s);
    std::optional<Session> whole = reread(s.profile->name, s.id);
    return whole ? write::plan_mask(*whole) : write::SessionPlan{s.profile_name(), s.id, {}, true, 0};
  };
  cmd.applier = [reread](redis::Client& c) {
    return std::make_unique<write::MaskApplier>(c, [reread](const write::SessionPlan& stale) {
      std::optional<Session> s = reread(stale.profile, stale.id);
      return s ? std::optional<write::SessionPlan>(write::plan_mask(*s)) : std::nullopt;
    });
  };
  run_change(ctx, f.change, cmd);
}

}  // namespace

Runner setup_mask(CLI::App& app) {
  auto flags = std::make_shared<MaskFlags>();
  add_change_flags(app, flags->change);
  add_backup_flag(app, flags->change);
  app.add_flag("--in-place", flags->in_place,
               "rewrite the stored PII of the selected sessions in masked form (type, JSON structure and TTL kept)");
  app.add_flag("--all-items", flags->all_items, "without --in-place: show every item of big keys (see inspect)");
  return [flags](Context& ctx) { run_mask(ctx, *flags); };
}

}  // namespace sessionctl::cli
