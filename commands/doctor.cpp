// sessionctl doctor: every anomaly with the command that fixes it; exit 1 when there is any.
#include "report/doctor.h"

#include <fmt/format.h>

#include "registry.h"
#include "render/progress.h"
#include "util/errors.h"

namespace sessionctl::cli {

Runner setup_doctor(CLI::App&) {
  return [](Context& ctx) {
    ProfileSet profiles = ctx.profiles();
    redis::NoTouch no_touch = redis::NoTouch::unsupported;
    auto client = ctx.connect_no_touch(&no_touch);
    StatusReport status = gather_status(*client, profiles, no_touch);
    Progress progress(ctx.term.printer(), ctx.show_progress(), "session keys checked");
    DoctorReport report = run_doctor(*client, profiles, status, ctx.global.reveal,
                                     [&](const ScanCounters& c) { progress.update(c.keys_seen); });
    progress.finish();
    for (const auto& n : status.notes) ctx.note("note: " + n);
    try {
      ctx.emit(report);
    } catch (const OutputClosed&) {
      // The reader stopped early (doctor | head): the check's verdict still decides the exit code.
      if (report.ok()) throw;
    }
    if (!report.ok())
      throw CheckFailed(fmt::format("{} found", count_of(static_cast<long long>(report.findings.size()), "problem")));
  };
}

}  // namespace sessionctl::cli
