// `smoke`: the deploy pipeline's check. In order: connect and PING; server version and role (and on a
// cluster its state and slot coverage); per profile a canary session written as its app writes it, read
// back, checked and removed (on a cluster one per primary); config risks as doctor sees them; PING latency.
// The first three fail the run; a config risk warns (fails with --strict); a denied CONFIG is a note.
#pragma once

#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "render/emit.h"
#include "scenario/canary.h"
#include "scenario/checks.h"
#include "session/profile.h"

namespace sessionctl::scenario {

struct SmokeOptions {
  bool strict = false;
  std::chrono::milliseconds latency_window{200};  // how long PINGs are sampled
  int latency_samples = 1000;                     // at most this many
  std::string url;                                // redacted, for the report
};

struct SmokeReport : Report {
  CheckRun run;
  bool strict = false;
  std::string url;
  std::string server_version;
  std::vector<std::string> notes;  // what could not be checked and why

  bool ok() const { return !run.failed(strict); }
  nlohmann::json to_json() const override;
  std::string to_table(const Terminal& term) const override;
  std::vector<nlohmann::json> to_json_lines() const override;
  std::vector<JunitSuite> to_junit(const std::string& hostname) const;
};

// Runs the checks. `connect` opens a connection (timed as the first check; its errors propagate: exit 3
// or 4). Every canary is removed before this returns or throws; `warn` hears of any that could not be.
SmokeReport run_smoke(const CanaryGuard::Connect& connect, const ProfileSet& profiles, const SmokeOptions& options,
                      const std::function<void(const std::string&)>& warn);

// Nearest-rank percentile of sorted samples (p in 0..100).
double percentile(const std::vector<double>& sorted, double p);

}  // namespace sessionctl::scenario
