// How a change to sessions (extend, delete) is shown: one record per session (its plan under --dry-run,
// what was done otherwise) and a summary; ids and key names masked like everywhere else unless --reveal.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "render/emit.h"
#include "render/records.h"
#include "write/change.h"

namespace sessionctl {

// ID, PROFILE, KEYS, TTL (before -> after, for extend), STATUS (or PLAN under --dry-run).
std::vector<Table::Column> change_columns(bool with_ttl);

class OutcomeRecord : public Record {
 public:
  OutcomeRecord(const write::Outcome& outcome, bool dry_run, bool with_ttl, bool reveal)
      : o_(outcome), dry_run_(dry_run), with_ttl_(with_ttl), reveal_(reveal) {}
  // {"id", "profile", "status" ("planned" under --dry-run), "reason"?, "atomic", "keys_changed",
  //  "keys": [{"key", "action", "member"?, "ttl_before_ms", "ttl_after_ms", "changed"}]}
  void append_json(std::string& out) const override;
  std::vector<Cell> cells() const override;

 private:
  const write::Outcome& o_;
  bool dry_run_, with_ttl_, reveal_;
};

struct ChangeSummary : Report {
  std::string command;  // "extend", "delete"
  bool dry_run = false;
  long long sessions = 0, done = 0, skipped = 0, failed = 0, keys_changed = 0, keys_planned = 0;
  long long not_atomic = 0;  // sessions whose keys changed one by one (cluster, keys in several slots)

  void add(const write::Outcome& o);
  // {"command", "dry_run", "sessions", "done", "skipped", "failed", "keys_changed", "keys_planned", "not_atomic"}
  nlohmann::json to_json() const override;
  std::string to_table(const Terminal& term) const override;
};

}  // namespace sessionctl
