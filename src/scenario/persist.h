// `persist-test`: the seeds' restart scenarios, acting as each profile's app would, against the target
// or a redis-server of the runner's own (--spawn). Each scenario is a group of checks (checks.h); every
// session it writes is a canary (canary.h), removed at the end whatever happens.
//   app-restart    a session written by one client continues from a fresh connection (btrix: BOOK_EMAIL
//                  goes on to BOOK_PHONE, not back to WELCOME), TTLs within the window
//   redis-restart  canaries survive a restart of Redis: values byte-identical, TTLs neither lost nor reset
//   multi-instance clients taking turns on one session see one conversation; concurrent read-modify-write
//                  without a lock (telegram's vote, trt's exchange count) is measured for lost updates
//   redis-unavailable  while Redis is down every operation fails fast with exit 3, and afterwards what was
//                  stored is intact and a new connection works
//   ttl            each profile's TTL as its seed says, extension works, expiry removes the session, and
//                  what expiry leaves behind (zset member, meta hash, chat mapping) is found
#pragma once

#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "redis/options.h"
#include "render/emit.h"
#include "scenario/canary.h"
#include "scenario/checks.h"
#include "session/profile.h"

namespace sessionctl::scenario {

// The scenarios, in the order they run.
const std::vector<std::string>& scenario_names();

// How Redis is restarted in redis-restart and redis-unavailable: nothing (those scenarios are skipped), a
// command of the user's, or the runner's own server. `probe`, when given, is called while Redis is down (a
// spawned server: a few times between its exit and its start; a restart command: again and again while it
// runs). Returns how long the restart took; throws what the restart threw.
using Restart = std::function<std::chrono::milliseconds(const std::function<void()>& probe)>;

struct PersistOptions {
  std::vector<std::string> scenarios;         // empty: all
  int sessions = 100;                         // redis-restart: canaries in all, spread over the profiles
  std::chrono::milliseconds tolerance{2000};  // TTL slack beyond the measured downtime
  std::chrono::milliseconds settle{1100};     // wait after the writes before a restart: appendfsync everysec
  std::chrono::milliseconds short_ttl{1500};  // ttl: the TTL given to canaries that must expire
  std::string restart_how;                    // "--restart-cmd", "spawned, graceful", "spawned, crash"; "" = none
  std::chrono::milliseconds op_bound{6000};   // redis-unavailable: an operation must fail within this
  int clients = 4;                            // multi-instance: app instances
  int rounds = 50;                            // multi-instance: turns, and updates per instance
};

struct PersistReport : Report {
  CheckRun run;
  std::string url;
  std::string target;     // "the target", "a spawned redis-server (appendonly=yes)"
  nlohmann::json matrix;  // --spawn-matrix: rows of {setting, graceful, crash}; null otherwise

  bool ok() const { return !run.failed(false); }
  nlohmann::json to_json() const override;
  std::string to_table(const Terminal& term) const override;
  std::vector<JunitSuite> to_junit(const std::string& hostname) const;
};

// A restart by the user's command (`/bin/sh -c`), then a bounded wait until Redis answers and has loaded:
// UsageError when the command fails (its exit status and the end of its output), TimeoutError when Redis is
// not back within `timeout`.
Restart restart_by_command(const std::string& command, std::chrono::milliseconds timeout,
                           const CanaryGuard::Connect& connect);

// The usual persistence settings (none, RDB only, AOF everysec), each against a graceful restart and a
// crash, every cell on a fresh redis-server of the runner's own: redis-restart's checks per cell (group
// "spawn-matrix"), and the table as JSON rows {setting, config, graceful, crash}.
nlohmann::json run_spawn_matrix(CheckRun& run, const std::string& redis_server, const ProfileSet& profiles,
                                const PersistOptions& options, const std::function<void(const std::string&)>& warn);

// Connection options for a spawned server on 127.0.0.1:port.
redis::ConnectionOptions spawned_options(int port);

// Throws UsageError for a name that is not a scenario, naming the known ones.
void check_scenario_names(const std::vector<std::string>& names);

// Runs the selected scenarios; their checks are appended to `run`. `connect` opens a new connection each
// time it is called (a fresh client, as after an app restart). Canaries are removed before it returns or
// throws; `warn` hears of any that could not be.
void run_persist(CheckRun& run, const CanaryGuard::Connect& connect, const Restart& restart, const ProfileSet& profiles,
                 const PersistOptions& options, const std::function<void(const std::string&)>& warn);

}  // namespace sessionctl::scenario
