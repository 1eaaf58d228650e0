#include "session/filter.h"

#include <fmt/format.h>

#include <algorithm>

#include "session/key_pattern.h"
#include "session/resolver.h"
#include "util/duration.h"
#include "util/errors.h"

namespace sessionctl {

SessionFilter SessionFilter::from_flags(std::vector<std::string> ids, std::string match, std::string state,
                                        const std::string& ttl_below, const std::string& ttl_above, bool no_ttl,
                                        const std::string& idle_over, const std::vector<std::string>& where,
                                        std::optional<std::size_t> limit) {
  SessionFilter f;
  f.ids = std::move(ids);
  f.id_glob = std::move(match);
  f.state = std::move(state);
  if (!ttl_below.empty()) f.ttl_below = parse_duration(ttl_below, "--ttl-below");
  if (!ttl_above.empty()) f.ttl_above = parse_duration(ttl_above, "--ttl-above");
  if (!idle_over.empty()) f.idle_over = parse_duration(idle_over, "--idle-over");
  f.no_ttl = no_ttl;
  if (no_ttl && (f.ttl_below || f.ttl_above))
    throw UsageError("--no-ttl cannot be combined with --ttl-below/--ttl-above");
  for (const auto& w : where) {
    auto eq = w.find('=');
    if (eq == std::string::npos || eq == 0) {
      throw UsageError(fmt::format("invalid --where '{}': expected FIELD=VALUE, e.g. data.email=jo@example.com", w));
    }
    f.where.emplace_back(w.substr(0, eq), w.substr(eq + 1));
  }
  f.limit = limit;
  return f;
}

std::string SessionFilter::scan_id_glob() const {
  if (ids.size() == 1 && id_glob.empty()) return glob_escape(ids.front());
  return id_glob;
}

void SessionFilter::name_sessions(const ProfileSet& profiles) {
  names.clear();
  std::vector<std::string> all;
  for (const auto& given : ids) {
    Name n{given, {}};
    std::vector<std::string> spellings{given};
    if (auto alt = decode_target(given); alt && *alt != given) spellings.push_back(*alt);
    for (const auto& text : spellings) {
      bool key = false;
      for (const auto& p : profiles.all()) {
        if (auto m = p.match_key(text)) {
          n.forms.emplace_back(m->second, p.primary.pattern.text());
          key = true;
        }
      }
      if (!key) n.forms.emplace_back(text, "");
    }
    for (const auto& [id, layout] : n.forms) {
      if (std::find(all.begin(), all.end(), id) == all.end()) all.push_back(id);
    }
    names.push_back(std::move(n));
  }
  ids = std::move(all);
}

std::vector<std::size_t> SessionFilter::named_by(const Session& s) const {
  std::vector<std::size_t> out;
  const std::string& layout = s.profile ? s.profile->primary.pattern.text() : s.layout;
  for (std::size_t i = 0; i < names.size(); ++i) {
    for (const auto& [id, l] : names[i].forms) {
      if (id == s.id && (l.empty() || l == layout)) {
        out.push_back(i);
        break;
      }
    }
  }
  return out;
}

bool SessionFilter::matches(const Session& s, double now) const {
  if (!ids.empty() && std::find(ids.begin(), ids.end(), s.id) == ids.end()) return false;
  if (!names.empty() && named_by(s).empty()) return false;
  if (!id_glob.empty() && !glob_match(id_glob, s.id)) return false;
  if (!state.empty() && s.state.value_or("") != state) return false;
  long long ttl = s.ttl_ms();
  if (no_ttl && ttl != -1) return false;
  if (ttl_below && (ttl < 0 || ttl >= ttl_below->count())) return false;
  if (ttl_above && (ttl >= 0 && ttl <= ttl_above->count())) return false;
  if (idle_over) {
    if (!s.last_activity) return false;
    if ((now - *s.last_activity) * 1000.0 < static_cast<double>(idle_over->count())) return false;
  }
  for (const auto& [field, value] : where) {
    auto v = field_value(s, field);
    if (!v || *v != value) return false;
  }
  return true;
}

}  // namespace sessionctl
