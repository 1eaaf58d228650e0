// Which sessions a command acts on: ids, id glob, state, TTL range, idle time, field matches.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "session/session.h"

namespace sessionctl {

struct SessionFilter {
  std::vector<std::string> ids;  // exact ids (any profile)
  std::string id_glob;           // --match
  std::string state;             // --state
  std::optional<std::chrono::milliseconds> ttl_below, ttl_above, idle_over;
  bool no_ttl = false;
  std::vector<std::pair<std::string, std::string>> where;  // --where FIELD=VALUE (raw values)
  std::optional<std::size_t> limit;

  // Builds a filter from the flag texts; throws UsageError naming the bad flag.
  static SessionFilter from_flags(std::vector<std::string> ids, std::string match, std::string state,
                                  const std::string& ttl_below, const std::string& ttl_above, bool no_ttl,
                                  const std::string& idle_over, const std::vector<std::string>& where,
                                  std::optional<std::size_t> limit);
  // Whether the filter needs session values (not just TYPE/PTTL/size).
  bool needs_values() const { return !state.empty() || idle_over.has_value() || !where.empty(); }
  // The glob to hand to the scanner (ids and --match narrow it).
  std::string scan_id_glob() const;
  bool matches(const Session& s, double now) const;
};

}  // namespace sessionctl
