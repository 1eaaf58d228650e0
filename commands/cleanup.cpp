// sessionctl cleanup: removes doctor's orphans (index entries and related keys without their session)
// and, with --idle-over, whole sessions idle longer than that.
#include "write/cleanup.h"

#include "change_flow.h"
#include "registry.h"

namespace sessionctl::cli {

Runner setup_cleanup(CLI::App& app) {
  auto flags = std::make_shared<ChangeFlags>();
  const std::string group = "Changing sessions";
  app.add_option("--idle-over", flags->selection.idle_over,
                 "also delete whole sessions idle for longer than DURATION (as delete does them)")
      ->type_name("DURATION");
  app.add_flag("--dry-run", flags->dry_run, "print the plan (each orphan or session, each key) and change nothing")
      ->group(group);
  app.add_flag("-y,--yes", flags->yes, "do not ask; required when stdin is not a terminal")->group(group);
  add_backup_flag(app, *flags);
  return [flags](Context& ctx) {
    ChangeCommand cmd;
    cmd.name = "cleanup";
    cmd.verb = "clean up";
    cmd.needs_selection = false;
    auto profiles = std::make_shared<ProfileSet>(ctx.profiles());
    cmd.plan_orphan = [profiles](const Orphan& o) { return write::plan_orphan(o, *profiles); };
    if (!flags->selection.idle_over.empty()) {
      for (const auto& p : profiles->all())
        for (const auto& ix : p.indexes) cmd.needs_values = cmd.needs_values || !ix.link_field.empty();
      cmd.plan = [](const Session& s) { return write::plan_delete(s); };
    }
    cmd.streams = true;
    cmd.applier = [](redis::Client& c) { return std::make_unique<write::CleanupApplier>(c); };
    run_change(ctx, *flags, cmd);
  };
}

}  // namespace sessionctl::cli
