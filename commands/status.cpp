// sessionctl status: reachable?, server, persistence, memory, sessions per profile.
#include "report/status.h"

#include "registry.h"

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
    ctx.emit(report);
    // Notes are about this run, not results: stderr, silenced by --quiet (JSON carries them in "notes").
    if (ctx.format() == Format::table) {
      for (const auto& n : report.notes) ctx.note("note: " + n);
    }
  };
}

}  // namespace sessionctl::cli
