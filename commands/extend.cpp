// sessionctl extend: sets (--ttl) or adds to (--by) the TTL of whole sessions, every key of the group.
#include <fmt/format.h>

#include "change_flow.h"
#include "registry.h"
#include "util/duration.h"
#include "util/errors.h"

namespace sessionctl::cli {
namespace {

struct ExtendFlags {
  ChangeFlags change;
  std::string ttl, by;
  bool include_persistent = false;
  bool force = false;
};

void run_extend(Context& ctx, const ExtendFlags& f) {
  if (f.ttl.empty() == f.by.empty())
    throw UsageError("extend needs exactly one of --ttl DURATION (set) and --by DURATION (add)");
  ChangeCommand cmd;
  cmd.name = "extend";
  cmd.verb = "extend";
  cmd.shows_ttl = true;
  if (!f.ttl.empty()) {
    cmd.spec.set = parse_duration(f.ttl, "--ttl");
    if (cmd.spec.set->count() <= 0) throw UsageError("--ttl must be longer than 0 (delete removes sessions)");
  } else {
    cmd.spec.add = parse_duration(f.by, "--by");
    if (cmd.spec.add->count() <= 0) throw UsageError("--by must be longer than 0");
  }
  cmd.spec.include_persistent = f.include_persistent;
  cmd.spec.force = f.force;
  // No session can pass a maximum when forced, or when --ttl is within every selected profile's max_ttl.
  cmd.streams = f.force;
  if (cmd.spec.set) {
    cmd.streams = true;
    const ProfileSet profiles = ctx.profiles();
    for (const auto& p : profiles.all())
      if (p.max_ttl && *p.max_ttl < *cmd.spec.set && !f.force) cmd.streams = false;
  }
  const write::ExtendSpec spec = cmd.spec;
  cmd.plan = [spec](const Session& s) { return write::plan_extend(s, spec); };
  cmd.refuse = [spec](const write::SessionPlan& p, const Session& s) { return write::above_max(p, s, spec); };
  run_change(ctx, f.change, cmd);
}

}  // namespace

Runner setup_extend(CLI::App& app) {
  auto flags = std::make_shared<ExtendFlags>();
  add_change_flags(app, flags->change);
  app.add_option("--ttl", flags->ttl, "set every key's TTL to DURATION (2h, 30m, 7d)")->type_name("DURATION");
  app.add_option("--by", flags->by, "add DURATION to every key's TTL, atomically per key")->type_name("DURATION");
  app.add_flag("--include-persistent", flags->include_persistent,
               "give keys that have no TTL one too (without it they keep none)");
  app.add_flag("--force", flags->force, "allow a TTL above the profile's max_ttl");
  return [flags](Context& ctx) { run_extend(ctx, *flags); };
}

}  // namespace sessionctl::cli
