// sessionctl delete: removes whole sessions (UNLINK) with their index entries.
#include "change_flow.h"
#include "registry.h"

namespace sessionctl::cli {

Runner setup_delete(CLI::App& app) {
  auto flags = std::make_shared<ChangeFlags>();
  add_change_flags(app, *flags);
  add_backup_flag(app, *flags);
  return [flags](Context& ctx) {
    ChangeCommand cmd;
    cmd.name = "delete";
    cmd.verb = "delete";
    // Telegram's chat mapping is named by a field of the session's value: values are read only when a
    // selected profile has such an index.
    const ProfileSet profiles = ctx.profiles();
    for (const auto& p : profiles.all())
      for (const auto& ix : p.indexes) cmd.needs_values = cmd.needs_values || !ix.link_field.empty();
    cmd.plan = [](const Session& s) { return write::plan_delete(s); };
    cmd.streams = true;
    run_change(ctx, *flags, cmd);
  };
}

}  // namespace sessionctl::cli
