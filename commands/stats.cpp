// sessionctl stats: per-profile counts, TTL and size histograms, states, anomalies.
#include "report/stats.h"

#include <ostream>

#include "registry.h"
#include "render/progress.h"
#include "render/records.h"

namespace sessionctl::cli {

Runner setup_stats(CLI::App&) {
  return [](Context& ctx) {
    ProfileSet profiles = ctx.profiles();
    auto client = ctx.connect_no_touch();
    Progress progress(ctx.show_progress(), "session keys scanned");
    StatsReport report = gather_stats(*client, profiles, [&](const ScanCounters& c) { progress.update(c.keys_seen); });
    progress.finish();
    for (const auto& n : report.notes) ctx.note("note: " + n);
    switch (ctx.format()) {
      case Format::table:
        *ctx.out << render_stats(report, ctx.term, ctx.global.reveal);
        break;
      case Format::json:
        *ctx.out << dump_json(stats_to_json(report, ctx.global.reveal), true) << '\n';
        break;
      case Format::jsonl:
        *ctx.out << dump_json(stats_to_json(report, ctx.global.reveal), false) << '\n';
        break;
    }
  };
}

}  // namespace sessionctl::cli
