// sessionctl doctor: every anomaly with the command that fixes it; exit 1 when there is any.
#include "report/doctor.h"

#include <fmt/format.h>

#include <ostream>

#include "registry.h"
#include "render/progress.h"
#include "render/records.h"
#include "util/errors.h"

namespace sessionctl::cli {

Runner setup_doctor(CLI::App&) {
  return [](Context& ctx) {
    ProfileSet profiles = ctx.profiles();
    redis::NoTouch no_touch = redis::NoTouch::unsupported;
    auto client = ctx.connect_no_touch(&no_touch);
    StatusReport status = gather_status(*client, profiles, no_touch);
    Progress progress(ctx.show_progress(), "session keys checked");
    DoctorReport report = run_doctor(*client, profiles, status, ctx.global.reveal,
                                     [&](const ScanCounters& c) { progress.update(c.keys_seen); });
    progress.finish();
    for (const auto& n : status.notes) ctx.note("note: " + n);
    switch (ctx.format()) {
      case Format::table:
        *ctx.out << render_doctor(report, ctx.term);
        break;
      case Format::json:
        *ctx.out << dump_json(doctor_to_json(report), true) << '\n';
        break;
      case Format::jsonl: {
        // Held in a variable: a range-for over a member of a temporary would read freed memory.
        nlohmann::json doc = doctor_to_json(report);
        for (const auto& f : doc["findings"]) *ctx.out << dump_json(f, false) << '\n';
        break;
      }
    }
    if (!report.ok()) throw CheckFailed(fmt::format("{} problems found", report.findings.size()));
  };
}

}  // namespace sessionctl::cli
