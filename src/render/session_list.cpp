#include "render/session_list.h"

#include <fmt/format.h>

#include "render/format.h"

namespace sessionctl {

void SessionListSummary::add(const SessionRow& row) {
  ++sessions;
  ++by_profile[row.profile];
  for (const auto& p : row.problems) ++problems[p];
}

nlohmann::json SessionListSummary::to_json() const {
  return {{"sessions", sessions},
          {"by_profile", by_profile},
          {"problems", problems},
          {"vanished_during_scan", vanished_during_scan},
          {"unclassified", unclassified}};
}

std::string SessionListSummary::to_table(const Terminal& term) const {
  std::string listed;
  for (const auto& [name, n] : problems) listed += fmt::format("{}{} {}", listed.empty() ? "" : ", ", n, name);
  return term.paint(Style::dim,
                    fmt::format("{}{}\n", count_of(sessions, "session"), listed.empty() ? "" : " (" + listed + ")"));
}

}  // namespace sessionctl
