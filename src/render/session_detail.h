// What `inspect` prints: each found session in detail, and the targets that named nothing.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "render/emit.h"

namespace sessionctl {

struct SessionDetailReport : Report {
  std::vector<nlohmann::json> sessions;  // session_detail_json() of each session found
  std::vector<std::string> missing;      // targets that named no session

  // sessionctl.inspect v1: {"sessions": […], "missing": […]}.
  nlohmann::json to_json() const override;
  // Each session as render_session_detail() draws it, a blank line between them.
  std::string to_table(const Terminal& term) const override;
  // One line per session.
  std::vector<nlohmann::json> to_json_lines() const override { return sessions; }
};

}  // namespace sessionctl
