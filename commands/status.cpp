// sessionctl status: reachable?, server, persistence, memory, sessions per profile.
#include "report/status.h"

#include <ostream>

#include "registry.h"
#include "render/records.h"

namespace sessionctl::cli {

Runner setup_status(CLI::App&) {
  return [](Context& ctx) {
    ProfileSet profiles = ctx.profiles();
    const ResolvedConnection& rc = ctx.resolved();
    redis::NoTouch no_touch = redis::NoTouch::unsupported;
    auto client = ctx.connect_no_touch(&no_touch);
    StatusReport report = gather_status(*client, profiles, no_touch);
    report.url = redis::redacted_url(rc.options);
    report.url_source = rc.url_source;
    switch (ctx.format()) {
      case Format::table:
        *ctx.out << render_status(report, ctx.term);
        // Notes are about this run, not results: stderr, silenced by --quiet (json keeps them in "notes").
        for (const auto& n : report.notes) ctx.note("note: " + n);
        break;
      case Format::json:
        *ctx.out << dump_json(status_to_json(report), true) << '\n';
        break;
      case Format::jsonl:
        *ctx.out << dump_json(status_to_json(report), false) << '\n';
        break;
    }
  };
}

}  // namespace sessionctl::cli
