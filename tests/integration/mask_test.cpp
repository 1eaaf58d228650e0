// mask against real servers: the read-only view, and --in-place rewriting exactly what inspect showed
// masked, keeping types, structure and TTLs, touching no other key, idempotent, losing no concurrent
// app write, and the same on a 3-primary cluster where a session's keys sit on several nodes.
#include <atomic>
#include <catch2/catch.hpp>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "process.h"
#include "redis/client.h"
#include "redis/options.h"
#include "redis_server.h"
#include "session/resolver.h"
#include "sessionctl_cli.h"
#include "topology.h"
#include "write/mask_in_place.h"

using Catch::Matchers::Contains;
using nlohmann::json;
using testsupport::check_error;
using testsupport::fixture;
using testsupport::RedisCluster;
using testsupport::RedisServer;
using testsupport::RunResult;
using testsupport::sctl;
using testsupport::ServerOptions;

namespace {

json parsed(const RunResult& r) {
  INFO(r);
  REQUIRE(r.exit_code == 0);
  json doc = json::parse(r.out, nullptr, false);
  REQUIRE_FALSE(doc.is_discarded());
  return doc;
}

// Every key in the db with its value (DUMP) and absolute expiry.
std::map<std::string, std::string> everything(const RedisServer& s) {
  std::map<std::string, std::string> out;
  const std::string keys = s.cli({"--raw", "KEYS", "*"});
  std::size_t at = 0;
  while (at < keys.size()) {
    const std::size_t nl = keys.find('\n', at);
    const std::string k = keys.substr(at, nl - at);
    if (!k.empty()) out[k] = s.cli({"DUMP", k}) + "|" + s.cli({"PEXPIRETIME", k}) + "|" + s.cli({"TYPE", k});
    at = nl == std::string::npos ? keys.size() : nl + 1;
  }
  return out;
}

// The values of a session's keys as inspect -o json gives them, by key.
std::map<std::string, json> values_of(const json& inspect) {
  std::map<std::string, json> out;
  for (const auto& s : inspect.at("sessions"))
    for (const auto& k : s.at("key_details")) out[k.at("key").get<std::string>()] = k.at("value");
  return out;
}

const std::vector<std::string> kSessions = {"test-456", "test-session-123", "my-session", "1734567890123",
                                            "user_12345"};

}  // namespace

TEST_CASE("mask without --in-place shows sessions masked, whatever --reveal says, and changes nothing",
          "[write][integration][mask]") {
  RedisServer server;
  server.cli_script(fixture("sample_sessions.redis"));
  const auto before = everything(server);
  const RunResult inspect = sctl(server, {"inspect", "test-456", "user_12345"});
  const RunResult shown = sctl(server, {"mask", "test-456", "user_12345"});
  REQUIRE(shown.exit_code == 0);
  CHECK(shown.out == inspect.out);
  const RunResult revealed = sctl(server, {"--reveal", "mask", "test-456", "-o", "json"});
  CHECK(values_of(parsed(revealed)) == values_of(parsed(sctl(server, {"inspect", "test-456", "-o", "json"}))));
  check_error(sctl(server, {"mask", "--profile", "btrix"}), 2);
  check_error(sctl(server, {"mask", "no-such-session"}), 5);
  CHECK(everything(server) == before);
}

TEST_CASE("mask --in-place stores what inspect showed masked, keeps types and TTLs, touches nothing else",
          "[write][integration][mask]") {
  RedisServer server;
  server.cli_script(fixture("sample_sessions.redis"));
  // Look-alikes of no selected session, with PII in them: they must stay byte for byte.
  server.cli_script(
      "SET states:test-456 \"{\\\"data\\\":{\\\"email\\\":\\\"keep@example.com\\\"}}\" EX 3000\n"
      "SET state:test-4567x plain\n"
      "HSET trt:session:user_12345:other email keep@example.com\n"
      "SET session:chat:42 someone-else EX 5000\n");
  std::vector<std::string> named = kSessions;
  std::vector<std::string> inspect_args = {"inspect"};
  inspect_args.insert(inspect_args.end(), named.begin(), named.end());
  inspect_args.insert(inspect_args.end(), {"-o", "json"});
  const auto masked_view = values_of(parsed(sctl(server, inspect_args)));
  const auto before = everything(server);
  const std::size_t sessions_before = parsed(sctl(server, {"list", "-o", "json"})).at("sessions").size();
  // The problems doctor finds, by code and count: masking must add none (no corrupt or misshapen value).
  auto problems = [&] {
    const RunResult d = sctl(server, {"doctor", "-o", "json"});
    json doc = json::parse(d.out, nullptr, false);
    REQUIRE_FALSE(doc.is_discarded());
    std::map<std::string, long long> out;
    for (const auto& f : doc.at("findings")) out[f.at("code").get<std::string>()] += f.at("count").get<long long>();
    return out;
  };
  const auto problems_before = problems();

  {
    INFO("--dry-run names each key and where in it, and changes nothing");
    const json plan = parsed(sctl(server, {"mask", "--in-place", "--all", "--dry-run", "-o", "json"}));
    bool email_field = false;
    for (const auto& s : plan.at("sessions"))
      for (const auto& k : s.at("keys")) {
        CHECK(k.at("action") == "mask");
        for (const auto& w : k.at("masked")) email_field = email_field || w == "field email" || w == "value";
      }
    CHECK(email_field);
    CHECK(plan.at("summary").at("keys_planned").get<int>() >= 4);
    CHECK(everything(server) == before);
    check_error(sctl(server, {"mask", "--in-place", "--all"}), 2);
    CHECK(everything(server) == before);
  }

  const json done = parsed(sctl(server, {"mask", "--in-place", "--all", "--yes", "-o", "json"}));
  CHECK(done.at("summary").at("failed") == 0);
  CHECK(done.at("summary").at("done").get<int>() >= 4);
  const auto after = everything(server);

  {
    INFO("the store now holds what inspect showed masked");
    std::vector<std::string> reveal_args = {"--reveal"};
    reveal_args.insert(reveal_args.end(), inspect_args.begin(), inspect_args.end());
    CHECK(values_of(parsed(sctl(server, reveal_args))) == masked_view);
    CHECK_THAT(server.cli({"GET", "state:test-456"}), !Contains("maria.silva@") && Contains("ma***@example.com"));
    CHECK_THAT(server.cli({"LINDEX", "trt:session:user_12345:history", "1"}), !Contains("7946 0958"));
  }
  {
    INFO("each key keeps its type and its absolute expiry; no key appears or goes");
    REQUIRE(after.size() == before.size());
    for (const auto& [key, was] : before) {
      const auto now = after.at(key);
      // PEXPIRETIME and TYPE: the last two fields (DUMP's bytes may hold any separator).
      auto tail = [](const std::string& x) { return x.substr(x.rfind('|', x.rfind('|') - 1)); };
      CHECK(tail(was) == tail(now));
    }
    for (const char* k : {"states:test-456", "state:test-4567x", "trt:session:user_12345:other", "session:chat:42",
                          "trt:active_sessions", "session:chat:-1001234567890"})
      CHECK(after.at(k) == before.at(k));
  }
  {
    INFO("the apps still load their sessions: list and doctor find no corrupt value");
    const json list = parsed(sctl(server, {"list", "-o", "json"}));
    CHECK(list.at("sessions").size() == sessions_before);
    CHECK(problems() == problems_before);
  }
  {
    INFO("a second run writes nothing");
    const json again = parsed(sctl(server, {"mask", "--in-place", "--all", "--yes", "-o", "json"}));
    CHECK(again.at("summary").at("done") == 0);
    CHECK(again.at("summary").at("keys_changed") == 0);
    CHECK(everything(server) == after);
  }
}

TEST_CASE("mask --in-place loses no concurrent app write and brings back no deleted session",
          "[write][integration][mask][concurrency]") {
  RedisServer server;
  constexpr int hot = 20;
  constexpr int cold = 3000;
  std::string load;
  for (int i = 0; i < cold; ++i)
    load += "SET state:c" + std::to_string(i) +
            " \"{\\\"current\\\":\\\"WELCOME\\\",\\\"data\\\":{\\\"email\\\":\\\"u" + std::to_string(i) +
            "@example.com\\\"}}\" EX 1800\n";
  for (int i = 0; i < hot; ++i) {
    const std::string id = "hot" + std::to_string(i);
    load += "HSET trt:session:" + id + ":state current_stage intake counter 0 email " + id +
            "@example.com\nEXPIRE trt:session:" + id + ":state 3600\nRPUSH trt:session:" + id +
            ":history \"{\\\"client_input\\\":\\\"mail " + id + "@example.com\\\"}\"\nEXPIRE trt:session:" + id +
            ":history 3600\n";
  }
  server.cli_script(load);

  std::atomic<bool> stop{false};
  std::map<std::string, int> increments, pushes;
  std::set<int> deleted;
  std::string writer_error;
  std::thread writer([&] {
    try {
      for (int round = 0; !stop.load(); ++round) {
        std::string script;
        for (int i = 0; i < hot; ++i) {
          const std::string id = "hot" + std::to_string(i);
          script += "HINCRBY trt:session:" + id + ":state counter 1\n";
          script += "RPUSH trt:session:" + id + ":history \"{\\\"client_input\\\":\\\"r" + std::to_string(round) +
                    " at x" + std::to_string(round) + "@example.net\\\"}\"\n";
          script += "HSET trt:session:" + id + ":state current_stage s" + std::to_string(round) + "\n";
          ++increments[id];
          ++pushes[id];
        }
        if (round < 100) {
          for (int k = 0; k < 10; ++k) {
            const int victim = round * 10 + k;
            script += "DEL state:c" + std::to_string(victim) + "\n";
            deleted.insert(victim);
          }
        }
        server.cli_script(script);
      }
    } catch (const std::exception& e) {
      writer_error = e.what();
    }
  });
  const RunResult r = sctl(server, {"mask", "--in-place", "--all", "--yes", "-o", "json"});
  stop = true;
  writer.join();
  REQUIRE(writer_error.empty());
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  for (int i = 0; i < hot; ++i) {
    const std::string id = "hot" + std::to_string(i);
    CHECK(server.cli({"HGET", "trt:session:" + id + ":state", "counter"}) == std::to_string(increments[id]) + "\n");
    CHECK(server.cli({"LLEN", "trt:session:" + id + ":history"}) == std::to_string(pushes[id] + 1) + "\n");
    CHECK(server.cli({"HGET", "trt:session:" + id + ":state", "email"}) == "ho***@example.com\n");
    CHECK(std::stoll(server.cli({"PTTL", "trt:session:" + id + ":state"})) > 3500000);
  }
  REQUIRE_FALSE(deleted.empty());
  for (int v : deleted) CHECK(server.cli({"EXISTS", "state:c" + std::to_string(v)}) == "0\n");
  // What the app pushed meanwhile is masked by a second run; nothing unmasked is left.
  REQUIRE(sctl(server, {"mask", "--in-place", "--all", "--yes"}).exit_code == 0);
  for (int i = 0; i < hot; i += 7) {
    const std::string items = server.cli({"LRANGE", "trt:session:hot" + std::to_string(i) + ":history", "0", "-1"});
    CHECK_THAT(items, !Contains("@example.net") && Contains("[redacted: "));
  }
  CHECK_THAT(server.cli({"GET", "state:c" + std::to_string(cold - 1)}), Contains("u2***@example.com"));
}

TEST_CASE("mask --in-place refused by the server changes nothing: a read-only user", "[write][integration][mask]") {
  ServerOptions options;
  options.acl_users = {"reader on >" + testsupport::kSecret + " ~* &* +@read +@connection +info +client +scan"};
  RedisServer server(options);
  server.cli_script(fixture("sample_sessions.redis"));
  const auto before = everything(server);
  check_error(testsupport::sctl_as(server, "reader:" + testsupport::kSecret, {"mask", "--in-place", "--all", "--yes"}),
              4);
  CHECK(everything(server) == before);
}

TEST_CASE("cluster: mask --in-place reaches every node, and a session across slots is masked key by key",
          "[write][cluster][integration][mask]") {
  RedisCluster cluster;
  {
    const RunResult r = cluster.nodes().at(0)->cli_run({"-c"}, std::nullopt, fixture("sample_sessions.redis"));
    REQUIRE(r.exit_code == 0);
  }
  std::vector<testsupport::CliCommand> load;
  for (int i = 0; i < 600; ++i)
    load.push_back({"SET", "state:k" + std::to_string(i),
                    R"({"current":"WELCOME","data":{"email":"k)" + std::to_string(i) + R"(@example.com"}})", "EX",
                    "3600"});
  cluster.load(load);
  const std::string url = cluster.seed_url();
  const RunResult r =
      testsupport::sessionctl({"mask", "--in-place", "--all", "--yes", "-o", "json", "-u", url}, {}, 60000);
  const json doc = parsed(r);
  CHECK(doc.at("summary").at("failed") == 0);
  CHECK(doc.at("summary").at("done").get<int>() >= 604);
  CHECK(doc.at("summary").at("not_atomic").get<int>() >= 1);  // user_12345: state, history, meta on several slots
  for (int i = 0; i < 600; i += 97) {
    const std::string key = "state:k" + std::to_string(i);
    RedisServer* owner = cluster.owner_of_slot(cluster.slot_of(key));
    CHECK_THAT(owner->cli({"GET", key}), Contains("***@example.com") && !Contains("\"k" + std::to_string(i) + "@"));
    CHECK(std::stoll(owner->cli({"PTTL", key})) > 3500000);
  }
  RedisServer* history = cluster.owner_of_slot(cluster.slot_of("trt:session:user_12345:history"));
  CHECK_THAT(history->cli({"LINDEX", "trt:session:user_12345:history", "1"}), !Contains("7946 0958"));
  const RunResult again = testsupport::sessionctl({"mask", "--in-place", "--all", "--yes", "-o", "json", "-u", url});
  CHECK(parsed(again).at("summary").at("keys_changed") == 0);
}

// The applier itself against a real server: an app write, a delete or a type change between the plan
// and its application makes the script write nothing, and the session is read again.
TEST_CASE("mask --in-place: a write, a delete or a type change after the plan is never overwritten",
          "[write][integration][mask]") {
  using namespace sessionctl;
  RedisServer server;
  server.cli_script(fixture("sample_sessions.redis"));
  auto client = redis::connect(redis::parse_url(server.url()));
  const ProfileSet profiles = ProfileSet::builtin();
  LookupOptions whole;
  whole.whole = true;
  whole.items = 100000;
  SessionResolver resolver(*client, profiles, whole);
  const Profile& btrix = *profiles.find("btrix");
  const Profile& trt = *profiles.find("trt");
  int replans = 0;
  write::MaskApplier applier(*client, [&](const write::SessionPlan& stale) -> std::optional<write::SessionPlan> {
    ++replans;
    std::optional<Session> s = resolver.lookup(*profiles.find(stale.profile), stale.id);
    if (!s || !s->primary().exists()) return std::nullopt;
    return write::plan_mask(*s);
  });

  {
    INFO("the app changes the state after the plan: its change is kept, and masked");
    write::SessionPlan plan = write::plan_mask(*resolver.lookup(btrix, "test-456"));
    REQUIRE(plan.steps.size() == 1);
    server.cli({"SET", "state:test-456",
                R"({"current":"DONE","data":{"name":"Maria Silva","email":"maria.silva@example.com"}})", "KEEPTTL"});
    const auto out = applier.apply({plan});
    CHECK(replans == 1);
    CHECK(out.at(0).status == write::Status::done);
    const std::string now = server.cli({"GET", "state:test-456"});
    CHECK_THAT(now, Contains("\"DONE\"") && Contains("ma***@example.com") && !Contains("maria.silva@"));
    CHECK(std::stoll(server.cli({"PTTL", "state:test-456"})) > 3000000);
  }
  {
    INFO("the session is deleted after the plan: it does not come back");
    write::SessionPlan plan = write::plan_mask(*resolver.lookup(btrix, "test-session-123"));
    REQUIRE_FALSE(plan.steps.empty());
    server.cli({"DEL", "state:test-session-123"});
    const auto out = applier.apply({plan});
    CHECK(out.at(0).status == write::Status::skipped);
    CHECK_THAT(out.at(0).reason, Contains("gone meanwhile"));
    CHECK(server.cli({"EXISTS", "state:test-session-123"}) == "0\n");
  }
  {
    INFO("a key changes type after the plan: nothing of the session is written over it");
    write::SessionPlan plan = write::plan_mask(*resolver.lookup(trt, "user_12345"));
    REQUIRE(plan.steps.size() >= 1);
    server.cli_script(
        "DEL trt:session:user_12345:history\n"
        "SET trt:session:user_12345:history \"not a list any more\"\n");
    const auto out = applier.apply({plan});
    CHECK(out.at(0).status != write::Status::failed);
    CHECK(server.cli({"TYPE", "trt:session:user_12345:history"}) == "string\n");
    CHECK(server.cli({"GET", "trt:session:user_12345:history"}) == "not a list any more\n");
  }
}
