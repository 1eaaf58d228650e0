// Sessions rendered for people and scripts: list rows and whole-session detail (inspect).
#pragma once

#include <nlohmann/json.hpp>

#include "render/records.h"
#include "render/terminal.h"
#include "session/session.h"

namespace sessionctl {

// One `list` item (schema sessionctl.list v1): a plain value, cheap to copy for sorting.
// Unless revealed, the id and the state are masked like free text (an id may be an e-mail address).
struct SessionRow : Record {
  std::string id, profile, layout;
  bool id_masked = false;  // `id` is the masked form: it names no key, --reveal shows the real one
  std::size_t keys = 0;
  long long ttl_ms = -2, size_bytes = 0;
  std::vector<std::string> problems;
  bool wide = false;  // state, last_activity and idle_ms are part of the record
  std::optional<std::string> state;
  std::optional<double> last_activity;
  std::optional<long long> idle_ms;

  SessionRow() = default;
  SessionRow(const Session& s, bool wide, double now, bool reveal);
  void append_json(std::string& out) const override;
  std::vector<Cell> cells() const override;
  nlohmann::json to_json() const;
};
// Table columns for list records, in the order SessionRow::cells() fills them.
std::vector<Table::Column> session_list_columns(bool wide);

// One `inspect` record: every key with type, TTL, size and decoded (masked unless reveal) value;
// unless reveal, ids, keys, the state and index members are masked too.
nlohmann::json session_detail_json(const Session& s, bool reveal);
// keys[i]'s value (or a window of it) as the detail shows it: {"encoding", "value"}, masked unless reveal.
nlohmann::json present_key_value(const Session& s, std::size_t i, const StoredValue& value, bool reveal);
// The same, for a person: JSON pretty-printed, hashes as field tables, lists numbered, zsets with scores.
// It is the session head, then each key's detail, then the index entries; the pieces below let a
// caller stream a big key's items between its head and the next key.
std::string render_session_detail(const nlohmann::json& detail, const Terminal& term);
// The first line (profile, id, keys, TTL, size, state), problems and note.
std::string render_session_head(const nlohmann::json& detail, const Terminal& term);
// One key of detail["key_details"]: its line, its note, its value and "… and M more".
std::string render_key_detail(const nlohmann::json& key, const Terminal& term);
// Only the key's line and note.
std::string render_key_head(const nlohmann::json& key, const Terminal& term);
// A presented value ({"encoding", "value"}, e.g. one window of items), list items numbered from first_number.
std::string render_value(const nlohmann::json& presented, const Terminal& term, std::size_t first_number);
// The index entries (zset membership, pointer keys).
std::string render_session_indexes(const nlohmann::json& detail, const Terminal& term);

// "59m12s" for a PTTL in ms, "no TTL" for -1, "gone" for -2.
std::string ttl_text(long long ttl_ms);

}  // namespace sessionctl
