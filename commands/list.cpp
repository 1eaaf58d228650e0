// sessionctl list: sessions, not keys, streamed from SCAN.
#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <ostream>
#include <set>

#include "registry.h"
#include "render/progress.h"
#include "render/records.h"
#include "render/row_sorter.h"
#include "render/session_list.h"
#include "render/session_view.h"
#include "selection.h"
#include "session/scanner.h"
#include "util/clock.h"
#include "util/errors.h"

namespace sessionctl::cli {
namespace {

struct ListFlags {
  SelectionFlags selection;
  bool wide = false;
  std::string sort;
};

void run_list(Context& ctx, const ListFlags& flags) {
  SessionFilter filter = flags.selection.filter();
  ProfileSet profiles = ctx.profiles();
  filter.name_sessions(profiles);  // state:x names btrix's x, as inspect takes it
  auto client = ctx.connect_no_touch();
  bool wide = flags.wide || flags.sort == "idle";
  ScanOptions opts;
  opts.fetch_values = wide || filter.needs_values();
  opts.id_glob = filter.scan_id_glob();
  // On a terminal the rows themselves show progress; when stdout is piped, stderr gets a progress line.
  Progress progress(ctx.term.printer(), ctx.show_progress() && !ctx.term.stdout_is_tty(), "session keys scanned");
  opts.progress = [&](const ScanCounters& c) { progress.update(c.keys_seen); };
  SessionScanner scanner(*client, profiles, opts);

  RecordStreamSpec spec;
  spec.schema = "sessionctl.list";
  spec.items_key = "sessions";
  spec.columns = session_list_columns(wide);
  auto sink = make_record_sink(ctx.format(), *ctx.out, ctx.term, spec);

  double now = unix_now();
  SessionListSummary summary;
  // --sort buffers rows: only the first --limit of them, else packed (row_sorter.h).
  std::optional<SortedRows> sorted;
  if (!flags.sort.empty()) sorted.emplace(parse_sort_key(flags.sort), filter.limit);
  auto limit_reached = [&] { return filter.limit && static_cast<std::size_t>(summary.sessions) >= *filter.limit; };
  auto emit = [&](const SessionRow& row) {
    summary.add(row);
    sink->add(row);
  };
  std::set<std::size_t> named;  // names given on the command line, not yet seen
  for (std::size_t i = 0; i < filter.names.size(); ++i) named.insert(i);
  scanner.run([&](Session& s) {
    if (!named.empty()) {
      for (std::size_t i : filter.named_by(s)) named.erase(i);
    }
    if (limit_reached()) return false;  // --limit 0
    if (!filter.matches(s, now)) return true;
    SessionRow row(s, wide, now, ctx.global.reveal);
    if (sorted) {
      sorted->add(row);
      return true;
    }
    emit(row);
    return !limit_reached();
  });
  if (sorted) {
    sorted->drain([&](const SessionRow& row) {
      if (!limit_reached()) emit(row);
    });
  }
  progress.finish();
  const ScanCounters& c = scanner.counters();
  summary.vanished_during_scan = c.vanished;
  summary.unclassified = c.unclassified;
  sink->finish(summary);
  for (const auto& d : c.denied) ctx.note("note: " + denied_note(d));
  if (c.vanished > 0) {
    ctx.note(fmt::format("{} expired or {} deleted while scanning", count_of(c.vanished, "session"),
                         c.vanished == 1 ? "was" : "were"));
  }
  if (!named.empty() && !limit_reached()) {
    std::string list;
    for (std::size_t i : named) list += (list.empty() ? "'" : ", '") + printable(filter.names[i].given) + "'";
    throw NotFoundError(fmt::format("no session {}; try 'sessionctl list --match GLOB'", list));
  }
  if (c.unclassified > 0) {
    ctx.warn(fmt::format("{} could not be classified (profile 'unknown'); see 'sessionctl doctor'",
                         count_of(c.unclassified, "session")));
  }
}

}  // namespace

Runner setup_list(CLI::App& app) {
  auto flags = std::make_shared<ListFlags>();
  add_selection_flags(app, flags->selection);
  app.add_flag("--wide", flags->wide, "add state and idle time (reads values)");
  app.add_option("--sort", flags->sort,
                 "sort by id, profile, ttl (no TTL last), size (largest first) or idle (longest first); buffers the "
                 "list (only --limit rows when given)")
      ->check(CLI::IsMember({"id", "profile", "ttl", "size", "idle"}))
      ->type_name("FIELD");
  return [flags](Context& ctx) { run_list(ctx, *flags); };
}

}  // namespace sessionctl::cli
