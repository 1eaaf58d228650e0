#include "change_flow.h"

#include <fmt/format.h>
#include <unistd.h>

#include <set>

#include "render/change_view.h"
#include "render/format.h"
#include "render/progress.h"
#include "render/records.h"
#include "session/scanner.h"
#include "transfer/transfer.h"
#include "util/clock.h"
#include "util/errors.h"
#include "util/interrupt.h"

namespace sessionctl::cli {
namespace {

constexpr std::size_t kApplyBatch = 2000;  // sessions per round trip of changes

bool has_filter(const ChangeFlags& f, const GlobalOptions& g) {
  const SelectionFlags& s = f.selection;
  return !s.ids.empty() || !s.match.empty() || !s.state.empty() || !s.ttl_below.empty() || !s.ttl_above.empty() ||
         s.no_ttl || !s.idle_over.empty() || !s.where.empty() || !g.profiles.empty();
}

// An error that stopped the work part way (the connection lost, the server gone) says how far it got:
// the summary on stdout lists every session done, and running the same command again finishes the job.
[[noreturn]] void rethrow_with_progress(const Error& e, const ChangeSummary& summary) {
  const std::string what = e.what();
  if (summary.done == 0 || dynamic_cast<const OutputClosed*>(&e) != nullptr ||
      what.find("run the same command again") != std::string::npos)
    throw;
  throw Error(e.code(), fmt::format("{} ({} changed before this; run the same command again to finish)", what,
                                    summary.done == 1 ? std::string("1 session was")
                                                      : fmt::format("{} sessions were", summary.done)));
}

}  // namespace

void add_change_flags(CLI::App& app, ChangeFlags& f) {
  add_selection_flags(app, f.selection);
  const std::string group = "Changing sessions";
  app.add_flag("--all", f.all, "every session of the selected profiles (without it, name ids or give a filter)")
      ->group(group);
  app.add_flag("--dry-run", f.dry_run, "print the plan (each session, each key, what changes) and change nothing")
      ->group(group);
  app.add_flag("-y,--yes", f.yes, "do not ask; required when stdin is not a terminal")->group(group);
}

void add_backup_flag(CLI::App& app, ChangeFlags& f) {
  app.add_option("--backup", f.backup,
                 "first write the sessions about to change to this archive (see export), read it back, and change "
                 "nothing if that fails")
      ->group("Changing sessions")
      ->type_name("FILE");
}

void run_change(Context& ctx, const ChangeFlags& flags, const ChangeCommand& cmd) {
  if (!flags.backup.empty() && ::access(flags.backup.c_str(), F_OK) == 0)
    throw UsageError(fmt::format("--backup {} exists; name a new file (nothing was changed)", flags.backup));
  if (cmd.needs_selection && !flags.all && !has_filter(flags, ctx.global)) {
    throw UsageError(
        fmt::format("{} needs session ids or a filter (--profile, --match, --where, --ttl-below …); "
                    "--all {}s every session",
                    cmd.name, cmd.verb));
  }
  SessionFilter filter = flags.selection.filter();
  ProfileSet profiles = ctx.profiles();
  filter.name_sessions(profiles);
  auto client = ctx.connect();
  ScanOptions opts;
  opts.fetch_values = cmd.needs_values || filter.needs_values();
  opts.id_glob = filter.scan_id_glob();
  opts.find_orphans = static_cast<bool>(cmd.plan_orphan);
  Progress scanning(ctx.term.printer(), ctx.show_progress(), "session keys scanned");
  opts.progress = [&](const ScanCounters& c) { scanning.update(c.keys_seen); };
  SessionScanner scanner(*client, profiles, opts);

  RecordStreamSpec spec;
  spec.schema = "sessionctl." + cmd.name;
  spec.items_key = "sessions";
  spec.columns = change_columns(cmd.shows_ttl);
  ChangeSummary summary;
  summary.command = cmd.name;
  summary.dry_run = flags.dry_run;

  // With --yes, no ids to find first and no refusal possible (cmd.streams), changes are applied while the
  // scan goes on, on a connection of their own. Otherwise every selected session is planned before anything
  // changes: the question shows the count, and a refusal (a TTL past the profile's maximum) or a missing id
  // stops the command with nothing changed.
  const bool streaming = flags.yes && !flags.dry_run && filter.names.empty() && cmd.streams && flags.backup.empty();
  std::unique_ptr<redis::Client> writer = streaming ? ctx.connect() : nullptr;
  std::unique_ptr<RecordSink> sink;
  std::unique_ptr<write::PlanApplier> applier;
  Progress applying(ctx.term.printer(), ctx.show_progress() && !streaming, "sessions changed");
  auto apply = [&](std::vector<write::SessionPlan>& batch) {
    if (batch.empty()) return;
    if (!sink) sink = make_record_sink(ctx.format(), *ctx.out, ctx.term, spec);
    if (!applier) {
      redis::Client& c = streaming ? *writer : *client;
      applier = cmd.applier ? cmd.applier(c) : std::make_unique<write::Applier>(c, cmd.spec);
    }
    check_interrupted();
    for (const auto& o : applier->apply(std::move(batch))) {
      summary.add(o);
      sink->add(OutcomeRecord(o, false, cmd.shows_ttl, ctx.global.reveal));
    }
    batch.clear();
  };
  auto fail = [&] {
    // What was done so far is recorded in full (a JSON document stays valid); the error says the rest.
    // Nothing done: nothing on stdout, as for any error.
    scanning.finish();
    applying.finish();
    if (sink && summary.sessions > 0) sink->finish(summary);
  };

  std::vector<write::SessionPlan> plans;
  std::set<std::size_t> named;
  for (std::size_t i = 0; i < filter.names.size(); ++i) named.insert(i);
  std::optional<std::string> refusal;
  long long refused = 0;
  long long selected = 0;
  const double now = unix_now();
  try {
    auto on_orphan = [&](const Orphan& o) {
      if (!cmd.plan_orphan) return;
      if (auto p = cmd.plan_orphan(o)) {
        plans.push_back(std::move(*p));
        if (streaming && plans.size() >= kApplyBatch) apply(plans);
      }
    };
    scanner.run(
        [&](Session& s) {
          if (!cmd.plan) return true;  // cleanup without --idle-over: orphans only
          for (std::size_t i : filter.named_by(s)) named.erase(i);
          if (filter.limit && static_cast<std::size_t>(selected) >= *filter.limit) return false;
          if (!filter.matches(s, now)) return true;
          ++selected;
          write::SessionPlan p = cmd.plan(s);
          if (cmd.refuse) {
            if (auto why = cmd.refuse(p, s)) {
              ++refused;
              if (!refusal) refusal = std::move(why);
            }
          }
          plans.push_back(std::move(p));
          if (streaming && plans.size() >= kApplyBatch) apply(plans);
          return true;
        },
        on_orphan);
    if (streaming) apply(plans);
  } catch (const Error& e) {
    fail();
    rethrow_with_progress(e, summary);
  }
  scanning.finish();
  for (const auto& d : scanner.counters().denied) ctx.note("note: " + denied_note(d));
  if (streaming) {
    if (!sink) sink = make_record_sink(ctx.format(), *ctx.out, ctx.term, spec);
    sink->finish(summary);
    if (summary.failed > 0) {
      throw CheckFailed(fmt::format("{} of {} failed; the others were changed", summary.failed,
                                    count_of(summary.sessions, "session")));
    }
    return;
  }
  if (!named.empty()) {
    std::string list;
    for (std::size_t i : named) list += (list.empty() ? "'" : ", '") + printable(filter.names[i].given) + "'";
    throw NotFoundError(fmt::format("no session {}; nothing was changed; try 'sessionctl list --match GLOB'", list));
  }
  if (refusal) {
    throw UsageError(fmt::format("refused, nothing was changed: {}{}; --force allows it", *refusal,
                                 refused > 1 ? fmt::format(" (and {} more sessions)", refused - 1) : ""));
  }

  long long keys = 0;
  for (const auto& p : plans) keys += static_cast<long long>(p.steps.size());
  if (flags.dry_run) {
    sink = make_record_sink(ctx.format(), *ctx.out, ctx.term, spec);
    for (auto& p : plans) {
      std::vector<std::string> keys_of;
      for (const auto& st : p.steps) keys_of.push_back(st.key);
      p.atomic = p.steps.size() <= 1 || client->one_transaction(keys_of);
      write::Outcome o{std::move(p), write::Status::done, "", 0};
      summary.add(o);
      sink->add(OutcomeRecord(o, true, cmd.shows_ttl, ctx.global.reveal));
    }
    sink->finish(summary);
    return;
  }
  if (!plans.empty() && !flags.yes) {
    const std::string question =
        fmt::format("{} {} ({} keys)?", cmd.verb, count_of(static_cast<long long>(plans.size()), "session"), keys);
    if (!ctx.term.stdin_is_tty()) {
      throw UsageError(fmt::format("refusing to {} {} without --yes (stdin is not a terminal); nothing was changed",
                                   cmd.verb, count_of(static_cast<long long>(plans.size()), "session")));
    }
    if (!ctx.term.confirm(question)) throw UsageError("not confirmed; nothing was changed");
  }

  if (!flags.backup.empty()) {
    std::vector<transfer::BackupTarget> targets;
    targets.reserve(plans.size());
    for (const auto& p : plans) {
      transfer::BackupTarget t{p.profile, p.id, {}};
      for (const auto& st : p.steps) t.keys.push_back(st.key);
      targets.push_back(std::move(t));
    }
    const archive::Header header =
        transfer::make_header(*client, redis::redacted_url(client->options()), false,
                              {{"command", cmd.name}, {"sessions", static_cast<long long>(plans.size())}});
    const transfer::ExportCounts saved = transfer::backup_sessions(*client, profiles, targets, flags.backup, header);
    ctx.note(fmt::format("backup: {} ({}) written to {} and read back", count_of(saved.sessions, "session"),
                         count_of(saved.keys, "key"), flags.backup));
  }
  sink = make_record_sink(ctx.format(), *ctx.out, ctx.term, spec);
  std::size_t at = 0;
  try {
    while (at < plans.size()) {
      const std::size_t end = std::min(plans.size(), at + kApplyBatch);
      std::vector<write::SessionPlan> batch(std::make_move_iterator(plans.begin() + static_cast<std::ptrdiff_t>(at)),
                                            std::make_move_iterator(plans.begin() + static_cast<std::ptrdiff_t>(end)));
      apply(batch);
      at = end;
      applying.update(static_cast<long long>(at));
    }
  } catch (const Error& e) {
    fail();
    rethrow_with_progress(e, summary);
  }
  applying.finish();
  sink->finish(summary);
  if (summary.failed > 0) {
    throw CheckFailed(
        fmt::format("{} of {} failed; the others were changed", summary.failed, count_of(summary.sessions, "session")));
  }
}

}  // namespace sessionctl::cli
