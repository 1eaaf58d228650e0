#include "render/transfer_view.h"

#include <fmt/format.h>

#include "mask/mask.h"
#include "render/format.h"
#include "render/records.h"
#include "render/table.h"
#include "util/bytes.h"

namespace sessionctl {

nlohmann::json ExportReport::to_json() const {
  nlohmann::json j = json_document("sessionctl.export", 1);
  j.update({{"file", file},
            {"sessions", counts.sessions},
            {"keys", counts.keys},
            {"records", counts.records},
            {"vanished", counts.vanished},
            {"bytes", bytes},
            {"masked", masked},
            {"compression", compression},
            {"seconds", seconds}});
  return j;
}

std::string ExportReport::to_table(const Terminal& term) const {
  std::string text =
      fmt::format("exported {} ({}, {} records) to {}: {}{}{}", count_of(counts.sessions, "session"),
                  count_of(counts.keys, "key"), counts.records, file == "-" ? "stdout" : file, human_bytes(bytes),
                  compression == "none" ? "" : ", " + compression, masked ? ", masked" : "");
  if (counts.vanished > 0)
    text += fmt::format("\n{} expired or deleted while exporting", count_of(counts.vanished, "key"));
  return term.paint(Style::dim, text) + "\n";
}

nlohmann::json ImportReport::to_json() const {
  nlohmann::json j = json_document("sessionctl.import", 1);
  j.update({{"file", file},
            {"dry_run", dry_run},
            {"complete", complete},
            {"sessions", counts.sessions},
            {"restored", counts.restored},
            {"skipped", counts.skipped},
            {"expired", counts.expired},
            {"failed", counts.failed},
            {"keys_restored", counts.keys_restored},
            {"keys_expired", counts.keys_expired},
            {"not_atomic", counts.not_atomic}});
  return j;
}

std::string ImportReport::to_table(const Terminal& term) const {
  std::string text =
      fmt::format("{}{} of {}: {} restored, {} skipped (already there), {} expired, {} failed ({} restored)",
                  dry_run ? "dry run: " : "", file, count_of(counts.sessions, "session"), counts.restored,
                  counts.skipped, counts.expired, counts.failed, count_of(counts.keys_restored, "key"));
  if (dry_run) text += "; nothing was changed";
  if (!complete)
    text += "\nthe archive has no trailer (read with --partial): it may hold fewer sessions than its source";
  if (counts.not_atomic > 0)
    text += fmt::format("\n{} restored key by key (keys in several cluster slots, or a key in several parts)",
                        count_of(counts.not_atomic, "session was", "sessions were"));
  return term.paint(Style::dim, text) + "\n";
}

namespace {

std::string shown(const std::string& s, bool reveal) { return reveal ? s : mask::mask_shown(s); }

}  // namespace

nlohmann::json VerifyReport::to_json() const {
  nlohmann::json j = json_document("sessionctl.verify", 1);
  nlohmann::json diffs = nlohmann::json::array();
  for (const auto& d : differences) {
    diffs.push_back({{"session", printable(shown(d.session, reveal))},
                     {"profile", d.profile},
                     {"key", printable(shown(d.key, reveal))},
                     {"kind", d.kind},
                     {"detail", d.detail}});
  }
  j.update({{"file", file},
            {"matches", matches()},
            {"sessions", counts.sessions},
            {"keys", counts.keys},
            {"matching", counts.matching_sessions},
            {"differing", counts.differing_sessions},
            {"missing", counts.missing_sessions},
            {"extra", counts.extra_sessions},
            {"differences_total", differences_total},
            {"differences", diffs}});
  return j;
}

std::string VerifyReport::to_table(const Terminal& term) const {
  std::string out;
  if (!differences.empty()) {
    Table t({{"PROFILE", Align::left},
             {"SESSION", Align::left},
             {"KEY", Align::left},
             {"DIFFERENCE", Align::left},
             {"DETAIL", Align::left}});
    for (const auto& d : differences)
      t.add({{d.profile},
             {printable(shown(d.session, reveal))},
             {printable(shown(d.key, reveal))},
             {d.kind},
             {d.detail}});
    out += t.render(term);
    if (differences_total > static_cast<long long>(differences.size()))
      out += fmt::format("… and {} more (-o json has the first {})\n",
                         differences_total - static_cast<long long>(differences.size()), differences.size());
  }
  out +=
      term.paint(Style::dim, fmt::format("{}: {} of {} match; {} differ, {} missing, {} extra in the store", file,
                                         counts.matching_sessions, count_of(counts.sessions, "archived session"),
                                         counts.differing_sessions, counts.missing_sessions, counts.extra_sessions)) +
      "\n";
  return out;
}

}  // namespace sessionctl
