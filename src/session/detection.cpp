#include "session/detection.h"

#include <algorithm>

#include "json/probe.h"
#include "session/session.h"

namespace sessionctl {

bool claimed_by_unselected_profile(const nlohmann::json& doc, const std::vector<const Profile*>& selected,
                                   const std::vector<Profile>& known) {
  if (selected.empty()) return false;
  const std::string& layout = selected.front()->primary.pattern.text();
  for (const auto& p : known) {
    if (!p.needs_shape() || p.primary.pattern.text() != layout) continue;
    bool is_selected =
        std::any_of(selected.begin(), selected.end(), [&](const Profile* q) { return q->name == p.name; });
    if (!is_selected && p.shape_matches(doc)) return true;
  }
  return false;
}

Detection detect_profile(const std::string* value, std::span<const Profile* const> candidates,
                         const std::vector<Profile>& known) {
  Detection d;
  if (!value) return d;
  // One pass over the value: only its top-level field names matter for the shape.
  JsonProbe probe = probe_json(*value, {}, true);
  if (!probe.valid) {
    d.problem = json_problem(*value, probe.too_deep);
    return d;
  }
  nlohmann::json shape = nlohmann::json::object();
  for (const auto& key : probe.top_keys) shape[key] = nullptr;
  for (const Profile* cp : candidates) {
    if (cp->shape_matches(shape)) {
      d.profile = cp;
      return d;
    }
  }
  d.other_store = claimed_by_unselected_profile(shape, {candidates.begin(), candidates.end()}, known);
  return d;
}

}  // namespace sessionctl
