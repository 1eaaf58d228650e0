#include "render/session_detail.h"

#include "render/records.h"
#include "render/session_view.h"

namespace sessionctl {

nlohmann::json SessionDetailReport::to_json() const {
  nlohmann::json doc = json_document("sessionctl.inspect", 1);
  doc["sessions"] = sessions;
  doc["missing"] = missing;
  return doc;
}

std::string SessionDetailReport::to_table(const Terminal& term) const {
  std::string out;
  for (std::size_t i = 0; i < sessions.size(); ++i) {
    if (i) out += "\n";
    out += render_session_detail(sessions[i], term);
  }
  return out;
}

}  // namespace sessionctl
