#include "util/duration.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>

#include "util/errors.h"

namespace sessionctl {

std::chrono::milliseconds parse_duration(std::string_view text, std::string_view what) {
  auto bad = [&] {
    return UsageError(fmt::format("invalid duration '{}' for {}: use e.g. 90s, 15m, 24h, 7d or 500ms", text, what));
  };
  if (text.empty()) throw bad();
  double total_ms = 0;
  std::string_view rest = text;
  bool any = false;
  while (!rest.empty()) {
    double value = 0;
    auto [ptr, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), value);
    if (ec != std::errc() || value < 0 || !std::isfinite(value)) throw bad();
    rest.remove_prefix(static_cast<std::size_t>(ptr - rest.data()));
    double unit = 1000;  // bare number: seconds
    if (rest.starts_with("ms")) {
      unit = 1, rest.remove_prefix(2);
    } else if (!rest.empty() && std::string_view("smhdw").find(rest.front()) != std::string_view::npos) {
      switch (rest.front()) {
        case 's':
          unit = 1000;
          break;
        case 'm':
          unit = 60e3;
          break;
        case 'h':
          unit = 3600e3;
          break;
        case 'd':
          unit = 86400e3;
          break;
        case 'w':
          unit = 7 * 86400e3;
          break;
      }
      rest.remove_prefix(1);
    } else if (!rest.empty() || any) {
      throw bad();
    }
    total_ms += value * unit;
    any = true;
  }
  if (total_ms > 1e15) throw bad();
  return std::chrono::milliseconds(static_cast<long long>(std::llround(total_ms)));
}

std::string format_duration(std::chrono::milliseconds d) {
  long long ms = d.count();
  if (ms < 0) return "-";
  if (ms < 1000) return fmt::format("{}ms", ms);
  long long s = ms / 1000;
  long long days = s / 86400, hours = s % 86400 / 3600, mins = s % 3600 / 60, secs = s % 60;
  if (days > 0) return hours ? fmt::format("{}d{}h", days, hours) : fmt::format("{}d", days);
  if (hours > 0) return mins ? fmt::format("{}h{}m", hours, mins) : fmt::format("{}h", hours);
  if (mins > 0) return secs ? fmt::format("{}m{}s", mins, secs) : fmt::format("{}m", mins);
  return fmt::format("{}s", secs);
}

}  // namespace sessionctl
