// Sessions rendered for people and scripts: list rows and whole-session detail (inspect).
#pragma once

#include <nlohmann/json.hpp>

#include "output/records.h"
#include "output/terminal.h"
#include "session.h"

namespace sessionctl {

// One `list` record (schema sessionctl.list v1, item); `wide` adds state and last activity.
nlohmann::json session_summary_json(const Session& s, bool wide, double now);
// Table columns for list records.
std::vector<RecordColumn> session_list_columns(bool wide);

// One `inspect` record: every key with type, TTL, size and decoded (masked unless reveal) value.
nlohmann::json session_detail_json(const Session& s, bool reveal);
// The same, for a person: JSON pretty-printed, hashes as field tables, lists numbered, zsets with scores.
std::string render_session_detail(const nlohmann::json& detail, const Terminal& term);

// "59m12s" for a PTTL in ms, "no TTL" for -1, "gone" for -2.
std::string ttl_text(long long ttl_ms);

}  // namespace sessionctl
