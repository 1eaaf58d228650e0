// doctor's server-configuration findings, each with the command that fixes it, and how findings are
// written out (table and JSON). Session findings need a keyspace: tests/integration/doctor_stats_test.cpp.
#include "report/doctor.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "render/terminal.h"
#include "report/status.h"

using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
using sessionctl::config_findings;
using sessionctl::DoctorReport;
using sessionctl::Finding;
using sessionctl::shell_quote;
using sessionctl::StatusReport;
using sessionctl::Terminal;

namespace {

// A server with nothing to report: AOF on, RDB snapshots on, noeviction, no evictions, memory low.
StatusReport healthy() {
  StatusReport s;
  s.aof_enabled = true;
  s.rdb_save = "3600 1 300 100 60 10000";
  s.rdb_save_known = true;
  s.maxmemory_policy = "noeviction";
  s.used_memory = 10 << 20;
  s.maxmemory = 100 << 20;
  return s;
}

std::vector<std::string> codes(const std::vector<Finding>& findings) {
  std::vector<std::string> out;
  for (const auto& f : findings) out.push_back(f.code);
  return out;
}

// The one finding of `findings` (a copy: callers pass temporaries).
Finding only(const std::vector<Finding>& findings) {
  REQUIRE(findings.size() == 1);
  return findings.front();
}

}  // namespace

TEST_CASE("doctor: a healthy server configuration has no findings", "[doctor]") {
  CHECK(config_findings(healthy()).empty());
  StatusReport s = healthy();
  s.maxmemory = 0;  // no limit: no percentage to be high
  CHECK(config_findings(s).empty());
  s = healthy();
  s.aof_enabled = false;  // RDB alone still persists
  CHECK(config_findings(s).empty());
  s = healthy();
  s.rdb_save = "";  // AOF alone still persists
  CHECK(config_findings(s).empty());
  s = healthy();
  s.maxmemory_policy = "volatile-lru";
  CHECK(config_findings(s).empty());
}

TEST_CASE("doctor: persistence off is an error whose fix turns AOF on", "[doctor]") {
  StatusReport s = healthy();
  s.aof_enabled = false;
  s.rdb_save = "";
  const Finding f = only(config_findings(s));
  CHECK(f.code == "persistence_off");
  CHECK(f.severity == sessionctl::Severity::error);
  CHECK(f.profile.empty());
  CHECK_THAT(f.message, Contains("restart loses every session"));
  CHECK(f.fix == "redis-cli CONFIG SET appendonly yes");  // runnable as is; the prose is the note
  CHECK_THAT(f.note, Catch::Matchers::Contains("redis.conf"));
  // Unknown AOF state is not "off".
  s.aof_enabled.reset();
  CHECK(codes(config_findings(s)).empty());
}

TEST_CASE("doctor: what it could not read is a finding, never an all-clear", "[doctor]") {
  StatusReport s = healthy();
  s.rdb_save_known = false;
  {
    const Finding f = only(config_findings(s));
    CHECK(f.code == "config_unchecked");
    CHECK(f.severity == sessionctl::Severity::warning);
    CHECK_THAT(f.message, StartsWith("CONFIG GET is not permitted"));
    CHECK(f.fix == "redis-cli ACL SETUSER USER +info '+config|get'");
    CHECK_THAT(f.note, Catch::Matchers::Contains("rerun doctor"));
  }
  s = healthy();
  s.info_known = false;
  CHECK_THAT(only(config_findings(s)).message, StartsWith("INFO is not permitted"));
  s.rdb_save_known = false;
  CHECK_THAT(only(config_findings(s)).message, StartsWith("INFO and CONFIG GET are not permitted"));
  // Persistence that cannot be read is not reported as off.
  s.aof_enabled = false;
  s.rdb_save = "";
  CHECK(codes(config_findings(s)) == std::vector<std::string>{"config_unchecked"});
}

TEST_CASE("doctor: allkeys eviction, evicted keys and high memory, each with its fix", "[doctor]") {
  StatusReport s = healthy();
  s.maxmemory_policy = "allkeys-lru";
  {
    const Finding f = only(config_findings(s));
    CHECK(f.code == "eviction_policy");
    CHECK(f.severity == sessionctl::Severity::warning);
    CHECK_THAT(f.message, StartsWith("maxmemory-policy allkeys-lru evicts live sessions"));
    CHECK(f.fix == "redis-cli CONFIG SET maxmemory-policy volatile-lru");
    CHECK_THAT(f.note, Catch::Matchers::Contains("volatile-ttl"));
  }
  s = healthy();
  s.evicted_keys = 42;
  {
    const Finding f = only(config_findings(s));
    CHECK(f.code == "evicted_keys");
    CHECK(f.severity == sessionctl::Severity::error);
    CHECK(f.count == 42);
    CHECK_THAT(f.message, StartsWith("42 keys were evicted"));
    CHECK(f.fix == "redis-cli CONFIG SET maxmemory BYTES");
    CHECK_THAT(f.note, Catch::Matchers::Contains("lower session TTLs"));
  }
  s = healthy();
  s.used_memory = 81;
  s.maxmemory = 100;
  {
    const Finding f = only(config_findings(s));
    CHECK(f.code == "memory_high");
    CHECK(f.severity == sessionctl::Severity::warning);
    CHECK(f.message == "memory at 81% of maxmemory");
    CHECK(f.fix == "redis-cli CONFIG SET maxmemory BYTES");
    CHECK_THAT(f.note, Catch::Matchers::Contains("cleanup"));
  }
  s.used_memory = 80;  // at the threshold: not yet
  CHECK(config_findings(s).empty());
  // All at once, in a fixed order.
  s = healthy();
  s.aof_enabled = false;
  s.rdb_save = "";
  s.maxmemory_policy = "allkeys-random";
  s.evicted_keys = 1;
  s.used_memory = s.maxmemory;
  s.info_known = false;
  CHECK(codes(config_findings(s)) == std::vector<std::string>{"persistence_off", "config_unchecked", "eviction_policy",
                                                              "evicted_keys", "memory_high"});
}

TEST_CASE("doctor: fix lines quote words for a POSIX shell only when they need it", "[doctor]") {
  CHECK(shell_quote("test-session-123") == "test-session-123");
  CHECK(shell_quote("0b9d6f3e-5c1a-4f7e-9a2b-3c4d5e6f7a8b") == "0b9d6f3e-5c1a-4f7e-9a2b-3c4d5e6f7a8b");
  CHECK(shell_quote("user@host:/x,y=1%2+z") == "user@host:/x,y=1%2+z");
  CHECK(shell_quote("") == "''");
  CHECK(shell_quote("two words") == "'two words'");
  CHECK(shell_quote("star*") == "'star*'");
  CHECK(shell_quote("$(rm -rf /)") == "'$(rm -rf /)'");
  CHECK(shell_quote("it's") == "'it'\\''s'");
  CHECK(shell_quote("--match=*") == "'--match=*'");
}

TEST_CASE("doctor: the report lists each finding with its examples and fix, and JSON carries the same", "[doctor]") {
  DoctorReport ok;
  ok.sessions_checked = 9;
  CHECK(sessionctl::render_doctor(ok, Terminal::plain()) == "no problems found (9 sessions checked)\n");
  auto ok_doc = sessionctl::doctor_to_json(ok);
  CHECK(ok_doc["ok"] == true);
  CHECK(ok_doc["sessions_checked"] == 9);
  CHECK(ok_doc["findings"].empty());

  DoctorReport r;
  r.sessions_checked = 12;
  r.findings.push_back({sessionctl::Severity::error,
                        "no_ttl",
                        "btrix",
                        "session keys without a TTL",
                        "sessionctl extend --profile btrix --no-ttl --ttl 1h --include-persistent --yes",
                        7,
                        {"a", "b\nc"},
                        ""});
  r.findings.push_back(
      {sessionctl::Severity::warning, "eviction_policy", "", "allkeys", "redis-cli CONFIG SET x", 1, {}, ""});
  const std::string text = sessionctl::render_doctor(r, Terminal::plain());
  CHECK(text ==
        "error  btrix: 7 × session keys without a TTL  [no_ttl]\n"
        "       e.g. a, b\\nc, …\n"
        "       fix: sessionctl extend --profile btrix --no-ttl --ttl 1h --include-persistent --yes\n"
        "warning  allkeys  [eviction_policy]\n"
        "       fix: redis-cli CONFIG SET x\n"
        "\n2 problems found (12 sessions checked)\n");

  auto doc = sessionctl::doctor_to_json(r);
  CHECK(doc["ok"] == false);
  REQUIRE(doc["findings"].size() == 2);
  const auto& f = doc["findings"][0];
  CHECK(f["severity"] == "error");
  CHECK(f["code"] == "no_ttl");
  CHECK(f["profile"] == "btrix");
  CHECK(f["count"] == 7);
  CHECK(f["examples"] == nlohmann::json::array({"a", "b\nc"}));
  CHECK(f["fix"] == "sessionctl extend --profile btrix --no-ttl --ttl 1h --include-persistent --yes");
  CHECK(doc["findings"][1]["profile"].is_null());
}

namespace {

// Three sentinels, all up, quorum 2, one replica: nothing to report.
sessionctl::redis::SentinelView sound_sentinels() {
  sessionctl::redis::SentinelView v;
  v.master_name = "mymaster";
  v.primary = "10.0.0.7:6379";
  v.answered_by = "10.0.0.1:26379";
  v.sentinels = {"10.0.0.1:26379", "10.0.0.2:26379", "10.0.0.3:26379"};
  v.known_sentinels = 3;
  v.reachable_sentinels = 3;
  v.quorum = 2;
  v.known_replicas = 1;
  return v;
}

}  // namespace

TEST_CASE("doctor: behind sentinels, a failover that could not happen is a finding", "[doctor][sentinel]") {
  StatusReport s = healthy();
  s.sentinel = sound_sentinels();
  CHECK(config_findings(s).empty());

  SECTION("fewer sentinels up than the quorum") {
    s.sentinel->reachable_sentinels = 1;
    const Finding f = only(config_findings(s));
    CHECK(f.code == "sentinel_quorum");
    CHECK_THAT(f.message, Contains("only 1 of 3 sentinels of 'mymaster' are up (quorum 2, majority 2)"));
    CHECK(f.fix == "redis-cli -h 10.0.0.1 -p 26379 SENTINEL SENTINELS mymaster");
  }
  SECTION("enough for the quorum but not for the majority that authorizes a failover") {
    s.sentinel->known_sentinels = 5;
    s.sentinel->reachable_sentinels = 2;
    CHECK(codes(config_findings(s)) == std::vector<std::string>{"sentinel_quorum"});
  }
  SECTION("counts the sentinels did not give are no finding") {
    s.sentinel->reachable_sentinels = -1;
    s.sentinel->known_replicas = -1;
    CHECK(config_findings(s).empty());
  }
  SECTION("no replica known to the sentinels") {
    s.sentinel->known_replicas = 0;
    const Finding f = only(config_findings(s));
    CHECK(f.code == "sentinel_no_replica");
    CHECK_THAT(f.message, Contains("know no replica of 'mymaster' (10.0.0.7:6379)"));
    CHECK(f.fix == "redis-cli -h HOST -p PORT REPLICAOF 10.0.0.7 6379");
  }
  SECTION("a sentinel in the URL that did not answer") {
    s.sentinel->unreachable = {"[::1]:26380"};
    const Finding f = only(config_findings(s));
    CHECK(f.code == "sentinel_unreachable");
    CHECK(f.examples == std::vector<std::string>{"[::1]:26380"});
    CHECK(f.fix == "redis-cli -h ::1 -p 26380 PING");
  }
  SECTION("a master name the shell would split is quoted") {
    s.sentinel->master_name = "my master";
    s.sentinel->reachable_sentinels = 1;
    CHECK_THAT(only(config_findings(s)).fix, Contains("SENTINEL SENTINELS 'my master'"));
  }
}
