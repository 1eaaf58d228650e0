// Every command behind Redis Sentinel: the real binary against a real primary, its replica and three
// sentinels (testsupport::SentinelSet). The primary is found by name, found again after a failover, and
// each way of not finding it is one error line with its exit code, in bounded time.
#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "process.h"
#include "redis_server.h"
#include "sessionctl_cli.h"
#include "temp_dir.h"
#include "topology.h"

using Catch::Matchers::Contains;
using nlohmann::json;
using testsupport::check_error;
using testsupport::check_no_secret;
using testsupport::EnvOverrides;
using testsupport::kSecret;
using testsupport::RedisServer;
using testsupport::RunResult;
using testsupport::SentinelOptions;
using testsupport::SentinelSet;
using testsupport::sessionctl;
using testsupport::status_counts;

namespace {

const std::map<std::string, long long>& kFixtureCounts = testsupport::kSampleSessionCounts;
constexpr long long kFixtureSessions = 9;

// A password for the sentinels that is not the data nodes' (kSecret): neither may appear in any output.
const std::string kSentinelSecret = "s3nt1nel-Pa55";

std::string address(const RedisServer& server) { return "127.0.0.1:" + std::to_string(server.port()); }

// "redis+sentinel://h:p,…/name" with user-info (the data nodes' credentials) or with `first` put before the
// sentinels.
std::string with_userinfo(const std::string& url, const std::string& userinfo) {
  const auto at = url.find("://") + 3;
  return url.substr(0, at) + userinfo + "@" + url.substr(at);
}
std::string with_first_sentinel(const std::string& url, const std::string& sentinel) {
  const auto at = url.find("://") + 3;
  return url.substr(0, at) + sentinel + "," + url.substr(at);
}

// Loads the fixture on the primary and waits until the replica has it too, so a failover loses nothing.
void load_fixture(const SentinelSet& set) {
  set.primary().cli_script(testsupport::fixture("sample_sessions.redis"));
  REQUIRE(set.primary().cli({"WAIT", "1", "10000"}) == "1\n");
}

// Exit 0 with a JSON document on stdout, no error on stderr, neither password anywhere.
json json_of(const RunResult& r) {
  INFO(r);
  REQUIRE_FALSE(r.timed_out);
  REQUIRE(r.exit_code == 0);
  CHECK(r.err.find("error") == std::string::npos);
  check_no_secret(r);
  check_no_secret(r, kSentinelSecret);
  json doc = json::parse(r.out, nullptr, false);
  REQUIRE_FALSE(doc.is_discarded());
  return doc;
}

std::vector<std::string> finding_codes(const json& doctor) {
  std::vector<std::string> out;
  for (const auto& f : doctor.at("findings")) out.push_back(f.at("code").get<std::string>());
  return out;
}

bool has(const std::vector<std::string>& words, const std::string& word) {
  return std::find(words.begin(), words.end(), word) != words.end();
}

std::vector<std::string> args(std::vector<std::string> command, const std::string& url,
                              const std::vector<std::string>& more = {}) {
  command.insert(command.end(), {"-u", url});
  command.insert(command.end(), more.begin(), more.end());
  return command;
}

}  // namespace

TEST_CASE("behind sentinels, status, list, inspect and doctor read the primary and count exactly",
          "[sentinel][integration]") {
  SentinelSet set;
  load_fixture(set);
  const std::string url = set.sentinel_url();
  const std::vector<RedisServer*> sentinels = set.sentinels();

  const json status = json_of(sessionctl(args({"status", "-o", "json"}, url)));
  CHECK(status.at("schema") == "sessionctl.status");
  CHECK(status.at("version") == 1);
  CHECK(status_counts(status) == kFixtureCounts);
  CHECK(status.at("unknown_sessions") == 0);
  CHECK(status.at("server").at("role") == "master");
  CHECK(status.at("url") == url + "/0");
  const json& view = status.at("sentinel");
  INFO(view.dump(2));
  CHECK(view.at("master_name") == set.master_name());
  CHECK(view.at("primary") == address(set.primary()));
  CHECK(view.at("answered_by") == address(*sentinels.at(0)));
  CHECK(view.at("sentinels").size() == 3);
  CHECK(view.at("unreachable").empty());
  CHECK(view.at("known_sentinels") == 3);
  CHECK(view.at("reachable_sentinels") == 3);
  CHECK(view.at("quorum") == 2);
  CHECK(view.at("known_replicas") == 1);

  const RunResult table = sessionctl(args({"status"}, url));
  INFO(table);
  REQUIRE(table.exit_code == 0);
  CHECK_THAT(table.out, Contains("sentinel master   " + set.master_name() + " at " + address(set.primary()) +
                                 " (answered by " + address(*sentinels.at(0)) + ")"));
  CHECK_THAT(table.out, Contains("sentinels         3 known, 3 reachable, quorum 2"));
  CHECK_THAT(table.out, Contains("replicas          1 known to the sentinels"));

  const json list = json_of(sessionctl(args({"list", "-o", "json"}, url)));
  CHECK(list.at("summary").at("sessions") == kFixtureSessions);
  for (const auto& [profile, n] : kFixtureCounts) CHECK(list.at("summary").at("by_profile").at(profile) == n);

  const json inspect = json_of(sessionctl(args({"inspect", "-o", "json", "test-456", "user_12345"}, url)));
  CHECK(inspect.at("sessions").size() == 2);

  // The harness runs without persistence, which doctor reports; nothing about the sentinels.
  const RunResult doctor = sessionctl(args({"doctor", "-o", "json"}, url));
  INFO(doctor);
  CHECK(doctor.exit_code == 1);
  const json findings = json::parse(doctor.out);
  CHECK(findings.at("sessions_checked") == kFixtureSessions);
  for (const auto& code : finding_codes(findings)) CHECK(code.rfind("sentinel_", 0) != 0);
}

TEST_CASE("behind sentinels, the data nodes' and the sentinels' passwords come from their own sources",
          "[sentinel][integration][auth]") {
  SentinelOptions options;
  options.data_password = kSecret;
  options.sentinel_password = kSentinelSecret;
  SentinelSet set(options);
  load_fixture(set);
  const std::string url = set.sentinel_url();
  testsupport::TempDir dir;
  const std::string data_file = dir.write("data-pw", kSecret + "\n");
  const std::string sentinel_file = dir.write("sentinel-pw", kSentinelSecret + "\n");
  // One set for every case below (starting one takes seconds): each block is one way of giving the passwords.

  {
    INFO("data password from a file, sentinels' from --sentinel-password-file");
    const json doc = json_of(sessionctl(args(
        {"status", "-o", "json"}, url, {"--password-file", data_file, "--sentinel-password-file", sentinel_file})));
    CHECK(status_counts(doc) == kFixtureCounts);
    CHECK(doc.at("sentinel").at("primary") == address(set.primary()));
  }
  {
    INFO("data password in the URL, sentinels' from SESSIONCTL_SENTINEL_PASSWORD");
    const json doc = json_of(sessionctl(args({"list", "-o", "json"}, with_userinfo(url, ":" + kSecret)),
                                        EnvOverrides{{"SESSIONCTL_SENTINEL_PASSWORD", kSentinelSecret}}));
    CHECK(doc.at("summary").at("sessions") == kFixtureSessions);
  }
  {
    INFO("data password from REDISCLI_AUTH, sentinels' from the environment");
    const json doc = json_of(
        sessionctl(args({"status", "-o", "json"}, url),
                   EnvOverrides{{"REDISCLI_AUTH", kSecret}, {"SESSIONCTL_SENTINEL_PASSWORD", kSentinelSecret}}));
    CHECK(status_counts(doc) == kFixtureCounts);
  }
  {
    INFO("no sentinel password: exit 4, saying where the sentinels' password goes");
    const RunResult r = sessionctl(args({"status"}, url, {"--password-file", data_file}));
    check_error(r, 4);
    check_no_secret(r, kSentinelSecret);
    CHECK_THAT(r.err, Contains("requires a password (NOAUTH)"));
    CHECK_THAT(r.err, Contains("--sentinel-password-file or SESSIONCTL_SENTINEL_PASSWORD"));
  }
  {
    INFO("the data password given to the sentinels is refused: exit 4");
    const RunResult r = sessionctl(args({"status"}, url, {"--sentinel-password-file", data_file}),
                                   EnvOverrides{{"REDISCLI_AUTH", kSecret}});
    check_error(r, 4);
    check_no_secret(r, kSentinelSecret);
    CHECK_THAT(r.err, Contains("refused the sentinel credentials"));
  }
  {
    INFO("the sentinels' password is not the data nodes': exit 4 from the primary");
    const RunResult r = sessionctl(args({"status"}, url, {"--sentinel-password-file", sentinel_file}),
                                   EnvOverrides{{"REDISCLI_AUTH", kSentinelSecret}});
    check_error(r, 4, kSentinelSecret);
    check_no_secret(r);
  }
}

TEST_CASE("after a failover the next command finds the new primary", "[sentinel][integration][failover]") {
  SentinelSet set;
  load_fixture(set);
  const std::string url = set.sentinel_url();
  const std::string before = address(set.primary());
  CHECK(json_of(sessionctl(args({"status", "-o", "json"}, url))).at("sentinel").at("primary") == before);

  set.failover();
  const std::string after = address(set.primary());
  REQUIRE(after != before);
  const json status = json_of(sessionctl(args({"status", "-o", "json"}, url)));
  CHECK(status.at("sentinel").at("primary") == after);
  CHECK(status.at("server").at("role") == "master");
  CHECK(status_counts(status) == kFixtureCounts);
  const json list = json_of(sessionctl(args({"list", "-o", "json"}, url)));
  CHECK(list.at("summary").at("sessions") == kFixtureSessions);
}

TEST_CASE("a primary the sentinels name that is a replica: exit 3 after bounded retries", "[sentinel][integration]") {
  SentinelSet set;
  // The sentinels still name the old primary for a while after it was turned into a replica by hand.
  set.primary().cli({"REPLICAOF", "127.0.0.1", std::to_string(set.replica().port())});
  const auto start = std::chrono::steady_clock::now();
  const RunResult r = sessionctl(args({"status"}, set.sentinel_url(), {"--connect-timeout", "1s"}));
  const auto took = std::chrono::steady_clock::now() - start;
  set.primary().cli({"REPLICAOF", "NO", "ONE"});
  check_error(r, 3);
  CHECK_THAT(r.err, Contains("answers ROLE slave"));
  CHECK_THAT(r.err, Contains("a failover may be in progress"));
  CHECK(took < std::chrono::seconds(5));
}

TEST_CASE("behind sentinels, an unknown master name is exit 2 in one line", "[sentinel][integration]") {
  SentinelSet set;
  std::string url = set.sentinel_url();
  url = url.substr(0, url.rfind('/') + 1) + "no-such-master";
  const RunResult r = sessionctl(args({"list"}, url));
  check_error(r, 2);
  CHECK_THAT(r.err, Contains("no sentinel knows master 'no-such-master'"));
  for (const RedisServer* s : set.sentinels()) CHECK_THAT(r.err, Contains(address(*s)));
}

TEST_CASE("behind sentinels, all sentinels down is exit 3 at once, naming them", "[sentinel][integration]") {
  SentinelSet set;
  const std::vector<RedisServer*> sentinels = set.sentinels();
  set.stop_all_sentinels();
  const auto start = std::chrono::steady_clock::now();
  const RunResult r = sessionctl(args({"status"}, set.sentinel_url()), {}, 10000);
  const auto took = std::chrono::steady_clock::now() - start;
  check_error(r, 3);
  CHECK_THAT(r.err, Contains("cannot reach any sentinel of master '" + set.master_name() + "'"));
  for (const RedisServer* s : sentinels) CHECK_THAT(r.err, Contains(address(*s)));
  CHECK(took < std::chrono::seconds(2));
}

TEST_CASE("a sentinel URL whose first sentinel is dead still works, and says which did not answer",
          "[sentinel][integration]") {
  SentinelSet set;
  load_fixture(set);
  const std::string dead = "127.0.0.1:" + std::to_string(testsupport::free_port());
  const std::string url = with_first_sentinel(set.sentinel_url(), dead);

  const json status = json_of(sessionctl(args({"status", "-o", "json"}, url)));
  CHECK(status_counts(status) == kFixtureCounts);
  CHECK(status.at("sentinel").at("unreachable") == json::array({dead}));
  CHECK(status.at("sentinel").at("answered_by") == address(*set.sentinels().at(0)));
  CHECK(status.at("sentinel").at("sentinels").size() == 4);

  const RunResult doctor = sessionctl(args({"doctor", "-o", "json"}, url));
  INFO(doctor);
  CHECK(doctor.exit_code == 1);
  CHECK(has(finding_codes(json::parse(doctor.out)), "sentinel_unreachable"));
}

TEST_CASE("a sentinel URL that names a data node is exit 2, saying what a sentinel URL names",
          "[sentinel][integration]") {
  SentinelSet set;
  const RunResult r =
      sessionctl(args({"status"}, "redis+sentinel://" + address(set.primary()) + "/" + set.master_name()));
  check_error(r, 2);
  CHECK_THAT(r.err, Contains(address(set.primary()) + " is not a Sentinel"));
}

TEST_CASE("doctor behind sentinels finds a quorum out of reach", "[sentinel][integration][doctor]") {
  SentinelSet set;
  const std::vector<RedisServer*> sentinels = set.sentinels();
  // Two of three down: the one left cannot reach quorum 2. It flags them s_down after down-after-milliseconds.
  sentinels.at(1)->stop();
  sentinels.at(2)->stop();
  json doc;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  do {
    const RunResult r = sessionctl(args({"doctor", "-o", "json"}, set.sentinel_url()));
    INFO(r);
    REQUIRE(r.exit_code == 1);
    doc = json::parse(r.out);
    if (has(finding_codes(doc), "sentinel_quorum")) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  } while (std::chrono::steady_clock::now() < deadline);
  INFO(doc.dump(2));
  REQUIRE(has(finding_codes(doc), "sentinel_quorum"));
  for (const auto& f : doc.at("findings")) {
    if (f.at("code") == "sentinel_quorum") {
      CHECK_THAT(f.at("message").get<std::string>(), Contains("only 1 of 3 sentinels"));
      CHECK_THAT(f.at("fix").get<std::string>(), Contains("SENTINEL SENTINELS " + set.master_name()));
    }
  }
}
