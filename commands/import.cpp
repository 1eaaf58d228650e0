// sessionctl import (restore): sessions from an archive into a store, each whole or not at all.
#include <fmt/format.h>

#include "registry.h"
#include "render/format.h"
#include "render/progress.h"
#include "render/transfer_view.h"
#include "transfer/transfer.h"
#include "util/clock.h"
#include "util/errors.h"
#include "util/interrupt.h"

namespace sessionctl::cli {
namespace {

struct ImportFlags {
  std::string file;
  std::string on_conflict = "skip";
  bool dry_run = false;
  bool partial = false;
  bool allow_masked = false;
};

constexpr std::size_t kBatchSessions = 500;
constexpr std::size_t kBatchBytes = 8u << 20;

void run_import(Context& ctx, const ImportFlags& f) {
  transfer::ImportOptions options;
  options.on_conflict = *transfer::parse_on_conflict(f.on_conflict);
  options.dry_run = f.dry_run;
  if (f.file != "-") {
    // First pass: count and checksum, so a damaged or cut archive changes nothing.
    archive::ArchiveReader check(f.file, f.partial);
    check.check_all();
  }
  archive::ArchiveReader reader(f.file, f.partial);
  if (reader.header().masked) {
    if (!f.allow_masked)
      throw UsageError(
          fmt::format("{} is a masked archive: its values are not the sessions' own; "
                      "--allow-masked restores it anyway",
                      reader.name()));
    ctx.warn("restoring a masked archive: the sessions get masked values, not their own");
  }
  auto client = ctx.connect();
  transfer::Importer importer(*client, options);
  transfer::SessionGroups groups(reader);
  ImportReport report;
  report.file = reader.name();
  report.dry_run = f.dry_run;
  Progress progress(ctx.term.printer(), ctx.show_progress(), "sessions read");
  std::vector<transfer::ArchivedSession> batch;
  std::size_t bytes = 0;
  auto flush = [&] {
    if (batch.empty()) return;
    check_interrupted();
    importer.restore(batch, static_cast<long long>(unix_now() * 1000));
    batch.clear();
    bytes = 0;
    progress.update(importer.counts().sessions);
  };
  try {
    for (;;) {
      transfer::ArchivedSession s;
      if (!groups.next(s)) break;
      bytes += s.bytes;
      batch.push_back(std::move(s));
      if (batch.size() >= kBatchSessions || bytes >= kBatchBytes) flush();
    }
    flush();
  } catch (const Error& e) {
    // What was restored before the error is reported in full; the error says the rest.
    progress.finish();
    report.counts = importer.counts();
    report.complete = false;
    if (report.counts.restored == 0 || dynamic_cast<const OutputClosed*>(&e) != nullptr) throw;
    ctx.emit(report);
    const std::string what = e.what();
    if (what.find("--on-conflict skip") != std::string::npos) throw;
    throw Error(e.code(), fmt::format("{} ({} restored before this; run the same import again with --on-conflict "
                                      "skip to finish)",
                                      what, count_of(report.counts.restored, "session was", "sessions were")));
  }
  progress.finish();
  report.counts = importer.counts();
  report.complete = reader.complete();
  ctx.emit(report);
  if (report.counts.failed > 0)
    throw CheckFailed(fmt::format("{} could not be restored", count_of(report.counts.failed, "session")));
}

}  // namespace

Runner setup_import(CLI::App& app) {
  auto flags = std::make_shared<ImportFlags>();
  app.add_option("ARCHIVE", flags->file, "the archive (gzip and zstd found by their first bytes); - for stdin")
      ->required()
      ->type_name("FILE");
  app.add_option("--on-conflict", flags->on_conflict,
                 "a session some key of which exists: skip it (default), replace it, or fail (stop)")
      ->check(CLI::IsMember({"skip", "replace", "fail"}))
      ->type_name("POLICY");
  app.add_flag("--dry-run", flags->dry_run, "check the archive and count what would be restored; change nothing");
  app.add_flag("--partial", flags->partial, "accept an archive cut before its trailer (restores what is there)");
  app.add_flag("--allow-masked", flags->allow_masked,
               "restore a masked archive (values masked, not the sessions' own)");
  return [flags](Context& ctx) { run_import(ctx, *flags); };
}

}  // namespace sessionctl::cli
