// What the sentinels' replies mean (redis/sentinel): the master's address, the SENTINEL MASTER counts,
// the sentinels usable for a failover, ROLE; and the one error when no sentinel named the master.
// The conversation with real sentinels: tests/integration/sentinel_test.cpp.
#include "redis/sentinel.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "util/errors.h"

using Catch::Matchers::Contains;
using sessionctl::Error;
using sessionctl::ExitCode;
using sessionctl::redis::HostPort;
using sessionctl::redis::Reply;
using sessionctl::redis::SentinelAttempt;
using sessionctl::redis::SentinelView;
using Outcome = sessionctl::redis::SentinelAttempt::Outcome;

namespace {

Reply str(const std::string& s) { return Reply{Reply::Type::string, s, 0, {}}; }
Reply err(const std::string& s) { return Reply{Reply::Type::error, s, 0, {}}; }
Reply nil() { return Reply{}; }
Reply array(std::vector<Reply> elements) { return Reply{Reply::Type::array, "", 0, std::move(elements)}; }

// A flat field/value array, as SENTINEL MASTER and SENTINEL SENTINELS give them in RESP2.
Reply pairs(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::vector<Reply> out;
  for (const auto& [k, v] : fields) {
    out.push_back(str(k));
    out.push_back(str(v));
  }
  return array(std::move(out));
}

struct Thrown {
  ExitCode code;
  std::string message;
};

Thrown no_answer(const std::vector<SentinelAttempt>& attempts, bool password_given = false) {
  try {
    sessionctl::redis::throw_no_answer("mymaster", attempts, password_given);
  } catch (const Error& e) {
    return {e.code(), e.what()};
  }
  FAIL("throw_no_answer returned");
  return {};
}

}  // namespace

TEST_CASE("sentinel: GET-MASTER-ADDR-BY-NAME's address, or none", "[sentinel]") {
  auto a = sessionctl::redis::master_address(array({str("10.0.0.7"), str("6380")}));
  REQUIRE(a);
  CHECK(a->host == "10.0.0.7");
  CHECK(a->port == 6380);
  CHECK_FALSE(sessionctl::redis::master_address(nil()));
  CHECK_FALSE(sessionctl::redis::master_address(array({})));
  CHECK_FALSE(sessionctl::redis::master_address(array({str("h")})));
  CHECK_FALSE(sessionctl::redis::master_address(array({str("h"), str("0")})));
  CHECK_FALSE(sessionctl::redis::master_address(array({str("h"), str("70000")})));
  CHECK_FALSE(sessionctl::redis::master_address(array({str("h"), str("6379x")})));
  CHECK_FALSE(sessionctl::redis::master_address(array({str(""), str("6379")})));
  CHECK_FALSE(sessionctl::redis::master_address(err("ERR unknown command")));
}

TEST_CASE("sentinel: SENTINEL MASTER gives the sentinels known, the replicas known and the quorum", "[sentinel]") {
  SentinelView v;
  sessionctl::redis::read_master_fields(pairs({{"name", "mymaster"},
                                               {"ip", "127.0.0.1"},
                                               {"num-slaves", "1"},
                                               {"num-other-sentinels", "2"},
                                               {"quorum", "2"}}),
                                        v);
  CHECK(v.known_sentinels == 3);
  CHECK(v.known_replicas == 1);
  CHECK(v.quorum == 2);
  SentinelView unknown;
  sessionctl::redis::read_master_fields(err("NOPERM this user has no permissions to run the 'sentinel|master' command"),
                                        unknown);
  CHECK(unknown.known_sentinels == -1);
  CHECK(unknown.known_replicas == -1);
  CHECK(unknown.quorum == -1);
  sessionctl::redis::read_master_fields(pairs({{"num-slaves", "many"}}), unknown);
  CHECK(unknown.known_replicas == -1);
}

TEST_CASE("sentinel: usable sentinels are the answering one and its peers not flagged down", "[sentinel]") {
  using sessionctl::redis::usable_sentinels;
  CHECK(usable_sentinels(array({})) == 1);
  CHECK(usable_sentinels(array({pairs({{"ip", "a"}, {"flags", "sentinel"}}), pairs({{"flags", "sentinel"}})})) == 3);
  CHECK(usable_sentinels(array({pairs({{"flags", "s_down,sentinel"}}), pairs({{"flags", "sentinel"}})})) == 2);
  CHECK(usable_sentinels(array(
            {pairs({{"flags", "s_down,o_down,sentinel"}}), pairs({{"flags", "s_down,sentinel,disconnected"}})})) == 1);
  CHECK(usable_sentinels(err("NOPERM")) == -1);
}

TEST_CASE("sentinel: ROLE's first word", "[sentinel]") {
  using sessionctl::redis::role_name;
  CHECK(role_name(array({str("master"), Reply{Reply::Type::integer, "", 42, {}}, array({})})) == "master");
  CHECK(role_name(array({str("slave"), str("127.0.0.1"), str("6379"), str("connected")})) == "slave");
  CHECK(role_name(err("NOPERM")).empty());
  CHECK(role_name(array({})).empty());
}

TEST_CASE("sentinel: no answer is one error, the most actionable one, naming every sentinel asked", "[sentinel]") {
  const SentinelAttempt down{"10.0.0.1:26379", Outcome::unreachable, "Connection refused"};
  const SentinelAttempt slow{"10.0.0.2:26379", Outcome::unreachable, "timed out after 500 ms"};
  const SentinelAttempt locked{"10.0.0.3:26379", Outcome::auth, "requires a password"};
  const SentinelAttempt stranger{"10.0.0.4:26379", Outcome::unknown_master, ""};
  const SentinelAttempt data_node{"10.0.0.5:6379", Outcome::not_sentinel, "ERR unknown command 'SENTINEL'"};
  const SentinelAttempt denied{"10.0.0.6:26379", Outcome::denied, "NOPERM no permissions"};

  SECTION("all unreachable: exit 3, each with its reason") {
    Thrown t = no_answer({down, slow});
    CHECK(t.code == ExitCode::connect);
    CHECK_THAT(t.message, Contains("cannot reach any sentinel of master 'mymaster'"));
    CHECK_THAT(t.message, Contains("10.0.0.1:26379 (Connection refused), 10.0.0.2:26379 (timed out after 500 ms)"));
  }
  SECTION("none knows the master: exit 2, naming which answered and which did not") {
    Thrown t = no_answer({down, stranger});
    CHECK(t.code == ExitCode::usage);
    CHECK_THAT(t.message, Contains("no sentinel knows master 'mymaster' (answered: 10.0.0.4:26379; no answer from "
                                   "10.0.0.1:26379)"));
    CHECK_THAT(t.message, Contains("check the master name"));
  }
  SECTION("NOAUTH without sentinel credentials: exit 4, pointing at the sentinel flags") {
    Thrown t = no_answer({down, locked, stranger});
    CHECK(t.code == ExitCode::auth);
    CHECK_THAT(t.message, Contains("sentinel 10.0.0.3:26379 requires a password"));
    CHECK_THAT(t.message, Contains("--sentinel-password-file or SESSIONCTL_SENTINEL_PASSWORD"));
  }
  SECTION("refused sentinel credentials: exit 4, naming --sentinel-user too") {
    SentinelAttempt wrong = locked;
    wrong.detail = "refused the sentinel credentials";
    Thrown t = no_answer({wrong}, true);
    CHECK(t.code == ExitCode::auth);
    CHECK_THAT(t.message, Contains("refused the sentinel credentials: check --sentinel-user"));
  }
  SECTION("NOPERM: exit 4") {
    Thrown t = no_answer({denied});
    CHECK(t.code == ExitCode::auth);
    CHECK_THAT(t.message, Contains("does not let the sentinel user ask for master 'mymaster'"));
  }
  SECTION("a data node in a sentinel URL: exit 2, saying what a sentinel URL names") {
    Thrown t = no_answer({data_node, down});
    CHECK(t.code == ExitCode::usage);
    CHECK_THAT(t.message, Contains("10.0.0.5:6379 is not a Sentinel"));
    CHECK_THAT(t.message, Contains("redis://"));
  }
  SECTION("every message is one line") {
    for (const auto& attempts : std::vector<std::vector<SentinelAttempt>>{
             {down}, {stranger}, {locked}, {data_node}, {denied}, {down, slow, locked, stranger, data_node}}) {
      CHECK(no_answer(attempts).message.find('\n') == std::string::npos);
    }
  }
}
