// What `list` prints after its rows: counts by profile and problem, as the JSON "summary" or the footer.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "render/emit.h"
#include "render/session_view.h"

namespace sessionctl {

struct SessionListSummary : Report {
  long long sessions = 0;
  std::map<std::string, long long> by_profile;
  std::map<std::string, long long> problems;  // problem name -> sessions listed with it
  long long vanished_during_scan = 0, unclassified = 0;

  // Counts one listed row.
  void add(const SessionRow& row);
  // {"sessions", "by_profile", "problems", "vanished_during_scan", "unclassified"}.
  nlohmann::json to_json() const override;
  // "3 sessions (1 no_ttl)", dimmed.
  std::string to_table(const Terminal& term) const override;
};

}  // namespace sessionctl
