// `stats`: per-profile figures over the whole keyspace, as data; rendered as histograms or JSON.
#pragma once

#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "redis/client.h"
#include "render/emit.h"
#include "render/terminal.h"
#include "session/profile.h"
#include "session/scanner.h"
#include "session/session.h"

namespace sessionctl {

struct Histogram {
  std::vector<std::string> labels;
  std::vector<long long> counts;
};

// TTL buckets as RedisInsight draws them: none, <1h, 1-4h, 4-12h, 12-24h, 1-7d, >7d.
Histogram ttl_histogram();
// Index of the TTL bucket for a PTTL in ms (-1 = none).
std::size_t ttl_bucket(long long ttl_ms);
Histogram size_histogram();
std::size_t size_bucket(long long bytes);

struct ProfileStats {
  std::string profile;
  long long sessions = 0, keys = 0;
  Histogram ttl = ttl_histogram();
  Histogram size = size_histogram();
  long long size_total = 0, size_min = -1, size_max = 0;
  std::map<std::string, long long> states;
  std::map<std::string, long long> problems;  // problem name -> sessions
  long long keys_without_ttl = 0;             // keys whose role should expire but has no TTL (an anomaly)
  long long keys_without_ttl_by_design = 0;   // keys the app never expires (TRT's :meta), not an anomaly
  long long orphans = 0;

  double size_average() const { return sessions ? static_cast<double>(size_total) / static_cast<double>(sessions) : 0; }
  // Adds one session's figures.
  void add(const Session& s);
};

struct StatsReport : Report {
  std::vector<ProfileStats> profiles;  // selected profiles in order, then "unknown" when any
  long long vanished = 0;
  std::vector<std::string> notes;  // what could not be read and why (profiles the ACL user may not read)
  bool reveal = false;             // how it is shown: states unmasked (--reveal)
  ProfileStats& for_profile(const std::string& name);
  nlohmann::json to_json() const override;                    // stats_to_json(*this, reveal)
  std::string to_table(const Terminal& term) const override;  // render_stats(*this, term, reveal)
};

// Scans every session (values included, to see states and corrupt values) and every orphan. Read-only.
StatsReport gather_stats(redis::Client& client, const ProfileSet& profiles,
                         std::function<void(const ScanCounters&)> progress = {});

// The report as JSON / as text. Unless reveal, states are masked like free text (a state field may
// hold an address); states that mask alike are counted together.
nlohmann::json stats_to_json(const StatsReport& report, bool reveal);
std::string render_stats(const StatsReport& report, const Terminal& term, bool reveal);

}  // namespace sessionctl
