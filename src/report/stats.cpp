#include "report/stats.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "mask/mask.h"
#include "render/records.h"
#include "report/status.h"
#include "session/scanner.h"

namespace sessionctl {

using nlohmann::json;

Histogram ttl_histogram() {
  return {{"none", "<1h", "1-4h", "4-12h", "12-24h", "1-7d", ">7d"}, std::vector<long long>(7)};
}

std::size_t ttl_bucket(long long ttl_ms) {
  if (ttl_ms < 0) return 0;
  const long long h = 3600000;
  if (ttl_ms < h) return 1;
  if (ttl_ms < 4 * h) return 2;
  if (ttl_ms < 12 * h) return 3;
  if (ttl_ms <= 24 * h) return 4;
  if (ttl_ms <= 7 * 24 * h) return 5;
  return 6;
}

Histogram size_histogram() {
  return {{"<256B", "256B-512B", "512B-1KiB", "1-2KiB", "2-4KiB", "4-16KiB", "16-64KiB", "64KiB-1MiB", ">1MiB"},
          std::vector<long long>(9)};
}

std::size_t size_bucket(long long b) {
  const long long limits[] = {256, 512, 1024, 2048, 4096, 16384, 65536, 1048576};
  for (std::size_t i = 0; i < 8; ++i) {
    if (b < limits[i]) return i;
  }
  return 8;
}

void ProfileStats::add(const Session& s) {
  ++sessions;
  keys += static_cast<long long>(s.key_count());
  ++ttl.counts[ttl_bucket(s.ttl_ms())];
  long long sz = s.size();
  ++size.counts[size_bucket(sz)];
  size_total += sz;
  size_min = size_min < 0 ? sz : std::min(size_min, sz);
  size_max = std::max(size_max, sz);
  if (s.state) ++states[*s.state];
  for (const auto& p : s.problems) ++problems[p];
  for (std::size_t i = 0; i < s.keys.size(); ++i) {
    const KeyInfo& k = s.keys[i];
    if (!k.exists() || k.ttl_ms != -1) continue;
    const KeyRole* role = s.role_of(i);
    if (role && !role->expects_ttl) {
      ++keys_without_ttl_by_design;
    } else {
      ++keys_without_ttl;
    }
  }
}

ProfileStats& StatsReport::for_profile(const std::string& name) {
  for (auto& p : profiles) {
    if (p.profile == name) return p;
  }
  profiles.push_back(ProfileStats{});
  profiles.back().profile = name;
  return profiles.back();
}

StatsReport gather_stats(redis::Client& client, const ProfileSet& profiles,
                         std::function<void(const ScanCounters&)> progress) {
  StatsReport r;
  for (const auto& p : profiles.all()) r.for_profile(p.name);
  ScanOptions opts;
  opts.fetch_values = true;
  opts.find_orphans = true;
  opts.progress = std::move(progress);
  SessionScanner scanner(client, profiles, opts);
  scanner.run(
      [&](Session& s) {
        r.for_profile(s.profile_name()).add(s);
        return true;
      },
      [&](const Orphan& o) { ++r.for_profile(o.profile).orphans; });
  r.vanished = scanner.counters().vanished;
  for (const auto& d : scanner.counters().denied) r.notes.push_back(denied_note(d));
  return r;
}

namespace {

std::map<std::string, long long> shown_states(const std::map<std::string, long long>& states, bool reveal) {
  if (reveal) return states;
  std::map<std::string, long long> out;
  for (const auto& [state, n] : states) out[mask::mask_shown(state)] += n;
  return out;
}

json histogram_json(const Histogram& h) {
  json out = json::array();
  for (std::size_t i = 0; i < h.labels.size(); ++i) out.push_back({{"bucket", h.labels[i]}, {"count", h.counts[i]}});
  return out;
}

std::string bars(const Histogram& h, const Terminal& term) {
  long long max = *std::max_element(h.counts.begin(), h.counts.end());
  std::string out;
  for (std::size_t i = 0; i < h.labels.size(); ++i) {
    int width =
        max > 0 ? static_cast<int>(std::lround(30.0 * static_cast<double>(h.counts[i]) / static_cast<double>(max))) : 0;
    if (h.counts[i] > 0 && width == 0) width = 1;
    std::string bar;
    for (int k = 0; k < width; ++k) bar += "█";
    // Padded by hand: a bar character is one column but three bytes.
    out += fmt::format("    {:>11}  {}{}  {}\n", h.labels[i], term.paint(Style::cyan, bar),
                       std::string(static_cast<std::size_t>(30 - width), ' '), h.counts[i]);
  }
  return out;
}

}  // namespace

json stats_to_json(const StatsReport& r, bool reveal) {
  json doc = json_document("sessionctl.stats", 1);
  json profiles = json::array();
  for (const auto& p : r.profiles) {
    profiles.push_back({{"profile", p.profile},
                        {"sessions", p.sessions},
                        {"keys", p.keys},
                        {"ttl_histogram", histogram_json(p.ttl)},
                        {"size_histogram", histogram_json(p.size)},
                        {"size_bytes",
                         {{"total", p.size_total},
                          {"min", p.size_min < 0 ? 0 : p.size_min},
                          {"max", p.size_max},
                          {"average", p.size_average()}}},
                        {"states", shown_states(p.states, reveal)},
                        {"problems", p.problems},
                        {"keys_without_ttl", p.keys_without_ttl},
                        {"keys_without_ttl_by_design", p.keys_without_ttl_by_design},
                        {"orphans", p.orphans},
                        {"corrupt", p.problems.count(problem::corrupt) ? p.problems.at(problem::corrupt) : 0}});
  }
  doc["profiles"] = profiles;
  doc["vanished_during_scan"] = r.vanished;
  return doc;
}

std::string render_stats(const StatsReport& r, const Terminal& term, bool reveal) {
  std::string out;
  for (const auto& p : r.profiles) {
    if (!out.empty()) out += "\n";
    out += term.paint(Style::bold, p.profile) + fmt::format("  {}, {}, {} total\n", count_of(p.sessions, "session"),
                                                            count_of(p.keys, "key"), human_bytes(p.size_total));
    if (p.sessions == 0 && p.orphans == 0) continue;
    out += fmt::format("  size: average {}, min {}, max {}\n", human_bytes(static_cast<long long>(p.size_average())),
                       human_bytes(p.size_min < 0 ? 0 : p.size_min), human_bytes(p.size_max));
    out += "  TTL\n" + bars(p.ttl, term);
    out += "  size\n" + bars(p.size, term);
    if (!p.states.empty()) {
      out += "  states\n";
      const auto states = shown_states(p.states, reveal);
      std::vector<std::pair<std::string, long long>> st(states.begin(), states.end());
      std::sort(st.begin(), st.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
      for (const auto& [s, n] : st) out += fmt::format("    {:<24} {}\n", printable(s), n);
    }
    if (p.keys_without_ttl_by_design) {
      out += term.paint(Style::dim, fmt::format("  {} without TTL by the app's design (not counted as anomalies)\n",
                                                count_of(p.keys_without_ttl_by_design, "key")));
    }
    std::string issues;
    if (p.keys_without_ttl) issues += fmt::format("{} without TTL; ", count_of(p.keys_without_ttl, "key"));
    if (p.orphans) issues += fmt::format("{}; ", count_of(p.orphans, "orphan"));
    for (const auto& [name, n] : p.problems) {
      if (name != problem::no_ttl) issues += fmt::format("{} {}; ", n, name);
    }
    if (!issues.empty()) {
      issues.resize(issues.size() - 2);
      out += term.paint(Style::yellow, "  anomalies: " + issues) + "\n";
    }
  }
  if (r.vanished)
    out += fmt::format("\n{} while scanning\n", count_of(r.vanished, "session expired", "sessions expired"));
  return out;
}

json StatsReport::to_json() const { return stats_to_json(*this, reveal); }

std::string StatsReport::to_table(const Terminal& term) const { return render_stats(*this, term, reveal); }

}  // namespace sessionctl
