// Results of smoke and persist-test as checks: each passed, warned, failed or was skipped, with its
// evidence (the key, what was expected, what was got). One model, three renderings: a table, a JSON
// document and JUnit XML (render/junit.h).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "render/junit.h"
#include "render/terminal.h"
#include "scenario/canary.h"

namespace sessionctl::scenario {

// info: a figure reported, not judged (the lost-update rate of an app without a lock).
enum class Verdict { pass, warn, fail, skip, info };
const char* verdict_name(Verdict v);  // "pass", "warn", "fail", "skip", "info"

struct Check {
  std::string group;   // "connect", "server", "canary", "config", "latency", "cluster"; a scenario's name
  std::string name;    // what was checked ("btrix", "ping", "persistence_off")
  std::string target;  // the node it ran on ("127.0.0.1:7000"), "" when the whole store
  Verdict verdict = Verdict::pass;
  std::string message;  // one line
  std::vector<Mismatch> evidence;
  double seconds = 0;
  nlohmann::json data = nlohmann::json::object();  // figures (latency percentiles…)
};

// A run of checks: what smoke or one persist-test scenario did.
struct CheckRun {
  std::string name;    // "smoke", "persist-test"
  double started = 0;  // unix seconds
  double seconds = 0;
  std::vector<Check> checks;

  // Fails counts warnings too when `strict`.
  bool failed(bool strict) const;
  int count(Verdict v) const;
};

nlohmann::json check_to_json(const Check& c);
// The table: one row per check, evidence indented beneath a failure.
std::string render_checks(const CheckRun& run, const Terminal& term, bool strict);
// One JUnit suite per group; a warning is a passed case, or a failure when `strict`.
std::vector<JunitSuite> to_junit(const CheckRun& run, bool strict, const std::string& hostname,
                                 const std::vector<std::pair<std::string, std::string>>& properties);

// This machine's name, for JUnit's hostname ("localhost" when it has none).
std::string host_name();

}  // namespace sessionctl::scenario
