#include "render/change_view.h"

#include <fmt/format.h>

#include "mask/mask.h"
#include "render/format.h"
#include "render/session_view.h"

namespace sessionctl {
namespace {

std::string shown(const std::string& s, bool reveal) { return reveal ? s : mask::mask_shown(s); }

}  // namespace

std::vector<Table::Column> change_columns(bool with_ttl) {
  std::vector<Table::Column> c = {{"ID", Align::left}, {"PROFILE", Align::left}, {"KEYS", Align::right}};
  if (with_ttl) c.push_back({"TTL", Align::left});
  c.push_back({"STATUS", Align::left});
  return c;
}

void OutcomeRecord::append_json(std::string& out) const {
  // Written directly, not through a DOM: a bulk change streams one of these per session.
  auto name = [&out](const char* key) {
    out += '"';
    out += key;
    out += "\":";
  };
  const std::string id = shown(o_.plan.id, reveal_);
  out += '{';
  name("id");
  append_json_string(out, id);
  if (id != o_.plan.id) out += ",\"id_masked\":true";
  out += ',';
  name("profile");
  append_json_string(out, o_.plan.profile);
  out += ',';
  name("status");
  append_json_string(out, dry_run_ ? "planned" : write::status_name(o_.status));
  if (!o_.reason.empty()) {
    out += ',';
    name("reason");
    append_json_string(out, o_.reason);
  }
  out += fmt::format(",\"atomic\":{},\"keys_changed\":{},\"keys\":[", o_.plan.atomic, o_.keys_changed);
  bool first = true;
  for (const auto& s : o_.plan.steps) {
    if (!first) out += ',';
    first = false;
    out += '{';
    name("key");
    append_json_string(out, shown(s.key, reveal_));
    out += ',';
    name("action");
    append_json_string(out, write::action_name(s.action));
    if (!s.member.empty()) {
      out += ',';
      name("member");
      append_json_string(out, shown(s.member, reveal_));
    }
    out += fmt::format(",\"ttl_before_ms\":{},\"ttl_after_ms\":{}", s.ttl_before_ms, s.ttl_after_ms);
    if (!s.where.empty()) {
      // mask: where each value that is rewritten sits (never the value: it is the PII).
      out += ",\"masked\":[";
      for (std::size_t w = 0; w < s.where.size(); ++w) {
        if (w > 0) out += ',';
        append_json_string(out, reveal_ ? s.where[w] : mask::mask_shown(s.where[w]));
      }
      out += ']';
    }
    if (!dry_run_) out += fmt::format(",\"changed\":{}", s.changed);
    out += '}';
  }
  out += "]}";
}

std::vector<Cell> OutcomeRecord::cells() const {
  std::vector<Cell> row = {{shown(o_.plan.id, reveal_)},
                           {o_.plan.profile},
                           {std::to_string(dry_run_ ? static_cast<long long>(o_.plan.steps.size()) : o_.keys_changed)}};
  if (with_ttl_) {
    std::string ttl;
    for (const auto& s : o_.plan.steps) {
      if (!ttl.empty()) break;  // the primary key's; -o json has every key
      ttl = ttl_text(s.ttl_before_ms) + " -> " + ttl_text(s.ttl_after_ms);
    }
    row.push_back({ttl});
  }
  std::string status = dry_run_ ? "planned" : write::status_name(o_.status);
  if (!o_.reason.empty()) status += ": " + o_.reason;
  if (!o_.plan.atomic) status += " (key by key)";
  const Style style = o_.status == write::Status::failed    ? Style::red
                      : o_.status == write::Status::skipped ? Style::yellow
                                                            : Style::plain;
  row.push_back({status, dry_run_ ? Style::plain : style});
  return row;
}

void ChangeSummary::add(const write::Outcome& o) {
  ++sessions;
  keys_planned += static_cast<long long>(o.plan.steps.size());
  keys_changed += o.keys_changed;
  not_atomic += o.plan.atomic ? 0 : 1;
  if (dry_run) return;
  switch (o.status) {
    case write::Status::done:
      ++done;
      break;
    case write::Status::skipped:
      ++skipped;
      break;
    case write::Status::failed:
      ++failed;
      break;
  }
}

nlohmann::json ChangeSummary::to_json() const {
  return {
      {"command", command},      {"dry_run", dry_run}, {"sessions", sessions},         {"done", done},
      {"skipped", skipped},      {"failed", failed},   {"keys_changed", keys_changed}, {"keys_planned", keys_planned},
      {"not_atomic", not_atomic}};
}

std::string ChangeSummary::to_table(const Terminal& term) const {
  std::string text;
  if (dry_run) {
    text = fmt::format("dry run: {} ({}) would {}; nothing was changed", count_of(sessions, "session"),
                       count_of(keys_planned, "key"), command == "delete" ? "be deleted" : "change");
  } else {
    text = fmt::format("{}: {} done, {} skipped, {} failed ({} changed)", command, done, skipped, failed,
                       count_of(keys_changed, "key"));
  }
  if (not_atomic > 0)
    text += fmt::format("\n{} keys in several cluster slots: each key changed on its own, not in one MULTI",
                        count_of(not_atomic, "session has its", "sessions have their"));
  return term.paint(Style::dim, text) + "\n";
}

}  // namespace sessionctl
