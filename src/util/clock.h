// Wall-clock time as sessionctl reads and writes it: unix seconds (double) and RFC 3339 UTC text.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace sessionctl {

// Unix seconds now.
double unix_now();

// The unix seconds that RFC 3339 can write: 0000-01-01T00:00:00Z to 9999-12-31T23:59:59Z.
inline constexpr double kRfc3339Min = -62167219200.0;
inline constexpr double kRfc3339Max = 253402300799.0;

// RFC 3339 UTC text ("2026-01-03T10:00:00Z", seconds truncated) for unix seconds; nullopt when
// the time is not finite or outside kRfc3339Min..kRfc3339Max, so that no wrapped date is ever written.
std::optional<std::string> rfc3339(double unix_seconds);

// A timestamp as apps store them: unix seconds, unix milliseconds (above 1e11), or ISO 8601 text
// ("2026-01-03T10:00:00", optional fraction and "Z" or "+hh:mm"). nullopt for anything else,
// including NaN, infinities, hex numbers and times outside what rfc3339 can write.
std::optional<double> parse_timestamp(std::string_view text);

}  // namespace sessionctl
