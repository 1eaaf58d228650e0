// Durations as operators type them: 90s, 15m, 24h, 7d, 500ms; a bare number means seconds.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace sessionctl {

// Parses a duration; throws UsageError naming `what` (the flag) when malformed or negative.
std::chrono::milliseconds parse_duration(std::string_view text, std::string_view what);

// "1h30m", "45s", "2d3h", "0s": compact, for tables.
std::string format_duration(std::chrono::milliseconds d);

}  // namespace sessionctl
