// sessionctl stats: per-profile counts, TTL and size histograms, states, anomalies.
#include "report/stats.h"

#include "registry.h"
#include "render/progress.h"

namespace sessionctl::cli {

Runner setup_stats(CLI::App&) {
  return [](Context& ctx) {
    ProfileSet profiles = ctx.profiles();
    auto client = ctx.connect_no_touch();
    Progress progress(ctx.term.printer(), ctx.show_progress(), "session keys scanned");
    StatsReport report = gather_stats(*client, profiles, [&](const ScanCounters& c) { progress.update(c.keys_seen); });
    progress.finish();
    for (const auto& n : report.notes) ctx.note("note: " + n);
    report.reveal = ctx.global.reveal;
    ctx.emit(report);
  };
}

}  // namespace sessionctl::cli
