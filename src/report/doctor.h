// `doctor`: every anomaly in the session store and in the server's configuration, each with the
// command that fixes it. Findings are grouped (one line per kind and profile) so a million keys
// without TTL are one finding with a count, examples and one fix, not a million lines.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "redis/client.h"
#include "render/emit.h"
#include "render/terminal.h"
#include "report/status.h"
#include "session/profile.h"
#include "session/scanner.h"

namespace sessionctl {

enum class Severity {
  error,    // data at risk or wrong
  warning,  // a risk or an oddity
};
// "error" or "warning", as JSON and the table show it.
const char* severity_name(Severity severity);

struct Finding {
  Severity severity = Severity::warning;
  std::string code;     // no_ttl, corrupt_json, orphan, persistence_off, …
  std::string profile;  // empty for server-wide findings
  std::string message;  // what is wrong, in words
  std::string fix;      // a command line that fixes it, runnable as is but for CAPITAL placeholders (ID…, USER)
  long long count = 1;
  std::vector<std::string> examples;  // up to a few ids or keys, masked unless revealed
  std::string note = {};              // prose beside the fix, never in it ("look at them first…"); may be empty
};

struct DoctorReport : Report {
  std::vector<Finding> findings;
  long long sessions_checked = 0;
  bool ok() const { return findings.empty(); }
  nlohmann::json to_json() const override;                    // doctor_to_json()
  std::string to_table(const Terminal& term) const override;  // render_doctor()
  // -o jsonl: one line per finding.
  std::vector<nlohmann::json> to_json_lines() const override;
};

// Runs every check. Read-only. Unless `reveal`, examples are masked like free text, and a fix never
// names a masked id (it would name no session): it keeps "ID…" and a note says why.
DoctorReport run_doctor(redis::Client& client, const ProfileSet& profiles, const StatusReport& status, bool reveal,
                        std::function<void(const ScanCounters&)> progress = {});

// Server configuration risks from a status report (persistence off, allkeys-* eviction, evictions, memory;
// on a cluster its state, uncovered slots, primaries without a replica, disagreeing nodes, unreachable nodes).
std::vector<Finding> config_findings(const StatusReport& status);

nlohmann::json doctor_to_json(const DoctorReport& report);
std::string render_doctor(const DoctorReport& report, const Terminal& term);

// Quotes a word for a POSIX shell when it needs it.
std::string shell_quote(const std::string& word);

}  // namespace sessionctl
