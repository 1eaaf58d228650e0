// What extend and delete (and the write commands after them) share: select sessions as list does,
// plan each, then --dry-run prints the plan, or the change is confirmed (a question on a terminal,
// --yes otherwise) and applied batch by batch with progress, ending with a summary.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "context.h"
#include "selection.h"
#include "write/change.h"

namespace sessionctl::cli {

struct ChangeFlags {
  SelectionFlags selection;
  bool all = false;  // --all: every session of the selected profiles, no filter needed
  bool dry_run = false;
  bool yes = false;
  std::string backup;  // --backup FILE: an archive of the sessions about to change, before any change
};

// --all, --dry-run, --yes, and the selection flags.
void add_change_flags(CLI::App& app, ChangeFlags& flags);
// --backup FILE, for the commands that remove or rewrite data (delete, mask --in-place, cleanup).
void add_backup_flag(CLI::App& app, ChangeFlags& flags);

struct ChangeCommand {
  std::string name;        // "extend", "delete"
  std::string verb;        // "extend", "delete": the question's verb
  bool shows_ttl = false;  // a TTL column (before -> after)
  bool needs_values = false;
  write::ExtendSpec spec;
  // The plan for one selected session.
  std::function<write::SessionPlan(const Session&)> plan;
  // Whether changes may start while the scan still runs (with --yes): only when no session can refuse the
  // whole command (refuse never answers).
  bool streams = false;
  // cleanup: the plan for an orphan the scan finds (the scan then looks for them), and no selection
  // needed (its sessions are the orphans, plus --idle-over's).
  std::function<std::optional<write::SessionPlan>(const Orphan&)> plan_orphan;
  bool needs_selection = true;
  // What applies the plans; write::Applier (with `spec`) when not set.
  std::function<std::unique_ptr<write::PlanApplier>(redis::Client&)> applier;
  // Why the whole command is refused for this plan (extend past max_ttl), or nullopt.
  std::function<std::optional<std::string>(const write::SessionPlan&, const Session&)> refuse;
};

void run_change(Context& ctx, const ChangeFlags& flags, const ChangeCommand& command);

}  // namespace sessionctl::cli
