// Detection under a shared layout (session:*): which app wrote a session, told by its value's shape.
#pragma once

#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <vector>

#include "session/profile.h"

namespace sessionctl {

// Whether a known profile (ProfileSet::known(): built-ins and --profiles-file) outside `selected` (left out
// by --profile) claims a value under the same shared layout (session:*) by its shape: then it is that
// store's session, not an unknown one.
bool claimed_by_unselected_profile(const nlohmann::json& doc, const std::vector<const Profile*>& selected,
                                   const std::vector<Profile>& known);

struct Detection {
  const Profile* profile = nullptr;  // the candidate whose shape the value has; nullptr = unknown
  bool other_store = false;          // the value is a session of a known profile that was not selected
  const char* problem = nullptr;     // json_problem() when the value is not JSON
};

// Tells which of the candidate profiles sharing a layout wrote a primary value (nullptr: not read).
Detection detect_profile(const std::string* primary_value, std::span<const Profile* const> candidates,
                         const std::vector<Profile>& known);

}  // namespace sessionctl
