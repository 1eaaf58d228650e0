// Redis-style glob matching, for filtering key names on our side exactly as SCAN MATCH would.
#pragma once

#include <string_view>

namespace sessionctl {

// Redis-style glob match (*, ?, [abc], [^a-z], \x), the same rules as SCAN MATCH.
bool glob_match(std::string_view pattern, std::string_view text);

}  // namespace sessionctl
