// sessionctl verify ARCHIVE: compares an archive with the live store, session by session.
#include <fmt/format.h>

#include "registry.h"
#include "render/progress.h"
#include "render/transfer_view.h"
#include "session/scanner.h"
#include "transfer/transfer.h"
#include "util/errors.h"
#include "util/interrupt.h"

namespace sessionctl::cli {
namespace {

struct VerifyFlags {
  std::string file;
  bool partial = false;
};

void run_verify(Context& ctx, const VerifyFlags& f) {
  archive::ArchiveReader reader(f.file, f.partial);
  auto client = ctx.connect_no_touch();
  transfer::Verifier verifier(*client);
  transfer::SessionGroups groups(reader);
  VerifyReport report;
  report.file = reader.name();
  report.reveal = ctx.global.reveal;
  auto on_difference = [&](const transfer::Difference& d) {
    ++report.differences_total;
    if (report.differences.size() < VerifyReport::kMaxShown) report.differences.push_back(d);
  };
  Progress progress(ctx.term.printer(), ctx.show_progress(), "sessions compared");
  std::vector<transfer::ArchivedSession> batch;
  for (;;) {
    transfer::ArchivedSession s;
    const bool more = groups.next(s);
    if (more) batch.push_back(std::move(s));
    if (batch.size() >= 500 || (!more && !batch.empty())) {
      check_interrupted();
      verifier.check(batch, on_difference);
      batch.clear();
      progress.update(verifier.counts().sessions);
    }
    if (!more) break;
  }
  progress.finish();

  // Extra: sessions of the archive's selection in the store but not in the archive. Only where the
  // selection is profiles and an id glob: filters on TTL, state or idle time select other sessions as
  // time passes.
  const nlohmann::json& sel = reader.header().selection;
  bool comparable = true;
  for (const auto& [k, v] : sel.items()) comparable = comparable && (k == "profiles" || k == "match");
  if (comparable && sel.contains("profiles") && sel["profiles"].is_array()) {
    std::vector<std::string> names;
    for (const auto& p : sel["profiles"])
      if (p.is_string()) names.push_back(p.get<std::string>());
    ProfileSet profiles = ctx.profiles();
    ScanOptions opts;
    if (sel.contains("match") && sel["match"].is_string()) opts.id_glob = sel["match"].get<std::string>();
    SessionScanner scanner(*client, profiles, opts);
    scanner.run([&](Session& s) {
      if (std::find(names.begin(), names.end(), s.profile_name()) == names.end()) return true;
      if (!verifier.seen(s.profile_name(), s.id)) {
        ++verifier.counts().extra_sessions;
        on_difference(
            transfer::Difference{s.id, s.profile_name(), s.primary().key, "extra", "in the store, not in the archive"});
      }
      return true;
    });
  } else {
    ctx.note(
        "note: extra sessions not looked for: the archive's selection used filters that select other sessions "
        "as time passes");
  }
  report.counts = verifier.counts();
  ctx.emit(report);
  if (!report.matches())
    throw CheckFailed(
        fmt::format("the store differs from {} ({})", report.file, count_of(report.differences_total, "difference")));
}

}  // namespace

Runner setup_verify(CLI::App& app) {
  auto flags = std::make_shared<VerifyFlags>();
  app.add_option("ARCHIVE", flags->file, "the archive to compare with the store; - for stdin")
      ->required()
      ->type_name("FILE");
  app.add_flag("--partial", flags->partial, "accept an archive cut before its trailer");
  return [flags](Context& ctx) { run_verify(ctx, *flags); };
}

}  // namespace sessionctl::cli
