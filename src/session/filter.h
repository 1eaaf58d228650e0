// Which sessions a command acts on: ids, id glob, state, TTL range, idle time, field matches.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "session/session.h"

namespace sessionctl {

struct SessionFilter {
  // A session named on the command line, and the (id, layout) pairs it may stand for: an id of any
  // profile (layout empty), a full key of some profile's layout ("state:x" -> x under state:{id}),
  // or the escaped / b64: spelling of either (see decode_target in session/resolver.h).
  struct Name {
    std::string given;
    std::vector<std::pair<std::string, std::string>> forms;
  };

  std::vector<std::string> ids;  // exact ids (any profile); after name_sessions(), every form's id
  std::string id_glob;           // --match
  std::string state;             // --state
  std::optional<std::chrono::milliseconds> ttl_below, ttl_above, idle_over;
  bool no_ttl = false;
  std::vector<std::pair<std::string, std::string>> where;  // --where FIELD=VALUE (raw values)
  std::optional<std::size_t> limit;
  std::vector<Name> names;  // filled by name_sessions()

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
  // Reads `ids` as names: full keys of the profiles' layouts become their ids under that layout,
  // escaped and b64: spellings add the bytes they stand for. Call once, before scanning.
  void name_sessions(const ProfileSet& profiles);
  // The indexes in `names` of the names that `s` answers (whatever the other criteria say).
  std::vector<std::size_t> named_by(const Session& s) const;
};

}  // namespace sessionctl
