// sessionctl export (backup): the selected sessions, every key with its value and absolute expiry, to
// an archive file (written under a temporary name, mode 0600, renamed when complete) or to stdout.
#include <fmt/format.h>
#include <unistd.h>

#include <chrono>

#include "registry.h"
#include "render/progress.h"
#include "render/transfer_view.h"
#include "selection.h"
#include "session/scanner.h"
#include "transfer/transfer.h"
#include "util/clock.h"
#include "util/errors.h"

namespace sessionctl::cli {
namespace {

struct ExportFlags {
  SelectionFlags selection;
  std::string file = "-";
  std::string compress;
  bool mask = false;
  bool force = false;
};

nlohmann::json selection_json(const ExportFlags& f, const ProfileSet& profiles) {
  nlohmann::json j = nlohmann::json::object();
  nlohmann::json names = nlohmann::json::array();
  for (const auto& p : profiles.all()) names.push_back(p.name);
  j["profiles"] = names;
  const SelectionFlags& s = f.selection;
  if (!s.ids.empty()) j["ids"] = s.ids.size();  // how many, not which: ids can be personal data
  if (!s.match.empty()) j["match"] = s.match;
  if (!s.state.empty()) j["state"] = s.state;
  if (!s.ttl_below.empty()) j["ttl_below"] = s.ttl_below;
  if (!s.ttl_above.empty()) j["ttl_above"] = s.ttl_above;
  if (s.no_ttl) j["no_ttl"] = true;
  if (!s.idle_over.empty()) j["idle_over"] = s.idle_over;
  if (!s.where.empty()) j["where"] = s.where.size();
  if (s.limit) j["limit"] = *s.limit;
  return j;
}

}  // namespace

// Also the --backup of destructive commands: the sessions `filter` selects, written completely before
// anything changes.
void run_export(Context& ctx, const ExportFlags& f) {
  SessionFilter filter = f.selection.filter();
  ProfileSet profiles = ctx.profiles();
  filter.name_sessions(profiles);
  const bool to_stdout = f.file == "-";
  if (to_stdout && ctx.term.stdout_is_tty())
    throw UsageError("refusing to write an archive to a terminal: give --file FILE, or pipe it (| gzip, | age …)");
  archive::Compression c = to_stdout ? archive::Compression::none : archive::compression_for(f.file);
  if (!f.compress.empty()) c = *archive::parse_compression(f.compress);
  if (!to_stdout && !f.force && ::access(f.file.c_str(), F_OK) == 0)
    throw UsageError(fmt::format("{} exists; --force replaces it (only once the new archive is complete)", f.file));

  auto client = ctx.connect_no_touch();
  auto reader = ctx.connect();  // big keys are read in windows on a connection of their own
  ScanOptions opts;
  opts.fetch_values = true;
  opts.expire_times = true;
  opts.id_glob = filter.scan_id_glob();
  Progress progress(ctx.term.printer(), ctx.show_progress(), "keys scanned");
  opts.progress = [&](const ScanCounters& sc) { progress.update(sc.keys_seen); };
  SessionScanner scanner(*client, profiles, opts);

  const auto started = std::chrono::steady_clock::now();
  const archive::Header header =
      transfer::make_header(*client, redis::redacted_url(client->options()), f.mask, selection_json(f, profiles));
  std::unique_ptr<archive::Output> out =
      to_stdout ? archive::open_fd_output(STDOUT_FILENO, "stdout", c) : archive::open_file_output(f.file, c);
  archive::ArchiveWriter writer(std::move(out), header);
  transfer::Exporter exporter(*reader, profiles, writer, f.mask);
  long long selected = 0;
  const double now = unix_now();
  std::set<std::size_t> named;
  for (std::size_t i = 0; i < filter.names.size(); ++i) named.insert(i);
  scanner.run([&](Session& s) {
    for (std::size_t i : filter.named_by(s)) named.erase(i);
    if (filter.limit && static_cast<std::size_t>(selected) >= *filter.limit) return false;
    if (!filter.matches(s, now)) return true;
    ++selected;
    exporter.add(s);
    return true;
  });
  progress.finish();
  for (const auto& d : scanner.counters().denied) ctx.note("note: " + denied_note(d));
  if (!named.empty()) {
    std::string list;
    for (std::size_t i : named) list += (list.empty() ? "'" : ", '") + printable(filter.names[i].given) + "'";
    throw NotFoundError(fmt::format("no session {}; nothing was written", list));
  }
  writer.commit();

  ExportReport report;
  report.file = f.file;
  report.counts = exporter.counts();
  report.bytes = writer.bytes_written();
  report.masked = f.mask;
  report.compression = c == archive::Compression::gzip ? "gzip" : c == archive::Compression::zstd ? "zstd" : "none";
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (to_stdout) {
    ctx.note(report.to_table(ctx.term).substr(0, report.to_table(ctx.term).size() - 1));
  } else {
    ctx.emit(report);
  }
}

Runner setup_export(CLI::App& app) {
  auto flags = std::make_shared<ExportFlags>();
  add_selection_flags(app, flags->selection);
  app.add_option("-f,--file", flags->file, "the archive to write (*.gz and *.zst are compressed); - for stdout")
      ->type_name("FILE");
  app.add_option("--compress", flags->compress, "compression whatever the name says: none, gzip or zstd")
      ->check(CLI::IsMember({"none", "gzip", "zstd"}))
      ->type_name("KIND");
  app.add_flag("--mask", flags->mask,
               "mask personal data in the values (as mask --in-place would): a shareable archive; the header says so");
  app.add_flag("--force", flags->force, "replace FILE when it exists (once the new archive is complete)");
  return [flags](Context& ctx) { run_export(ctx, *flags); };
}

}  // namespace sessionctl::cli
