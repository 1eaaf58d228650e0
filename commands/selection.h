// The session-selection flags shared by list, extend, delete, mask, export…
#pragma once

#include <CLI/CLI.hpp>

#include "registry.h"
#include "session/filter.h"

namespace sessionctl::cli {

struct SelectionFlags {
  std::vector<std::string> ids;
  std::string match, state, ttl_below, ttl_above, idle_over;
  bool no_ttl = false;
  std::vector<std::string> where;
  std::optional<std::size_t> limit;

  SessionFilter filter() const {
    std::vector<std::string> plain;
    for (const auto& id : ids) plain.push_back(unescape_arg(id));
    return SessionFilter::from_flags(plain, match, state, ttl_below, ttl_above, no_ttl, idle_over, where, limit);
  }
};

// Adds [ID…], --match, --state, --ttl-below, --ttl-above, --no-ttl, --idle-over, --where, --limit.
void add_selection_flags(CLI::App& app, SelectionFlags& flags);

}  // namespace sessionctl::cli
