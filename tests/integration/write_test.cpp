// extend and delete against real servers: every key of the selected sessions changes and no other key
// does (byte for byte, expiry included), the safety rails hold (--dry-run, --yes, max_ttl, a selection
// required), concurrent app writes are not lost and nothing deleted comes back, and a cluster gets the
// same result with the keys of one session on several nodes.
#include <atomic>
#include <catch2/catch.hpp>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "process.h"
#include "redis_server.h"
#include "sessionctl_cli.h"
#include "topology.h"

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

constexpr long long kHour = 3600000;

long long pttl(const RedisServer& s, const std::string& key) { return std::stoll(s.cli({"PTTL", key})); }

// What must stay byte-identical: the value (DUMP) and the absolute expiry (PEXPIRETIME, not a TTL that
// counts down between the two looks).
std::map<std::string, std::string> snapshot(const RedisServer& s, const std::vector<std::string>& keys) {
  std::map<std::string, std::string> out;
  for (const auto& k : keys) out[k] = s.cli({"DUMP", k}) + "|" + s.cli({"PEXPIRETIME", k});
  return out;
}

// Keys that look like sessions' keys but belong to none of the selected ones.
const std::vector<std::string> kBystanders = {
    "states:test-456", "xstate:test-456",        "State:test-456",
    "state:test-4567", "trt:session:user_12345", "trt:session:user_12345:other",
    "session:chat:42", "conversation:statex",    "trt:active_sessions"};

void seed_bystanders(const RedisServer& s) {
  s.cli_script(
      "SET states:test-456 a EX 3000\n"
      "SET xstate:test-456 b\n"
      "SET State:test-456 c EX 2000\n"
      "SET state:test-4567 \"{\\\"current\\\":\\\"WELCOME\\\",\\\"data\\\":{}}\" EX 1800\n"
      "SET trt:session:user_12345 d\n"
      "HSET trt:session:user_12345:other f v\n"
      "SET session:chat:42 someone-else EX 5000\n"
      "SET conversation:statex e\n");
}

json run_json(const RunResult& r) {
  INFO(r);
  json doc = json::parse(r.out, nullptr, false);
  REQUIRE_FALSE(doc.is_discarded());
  return doc;
}

}  // namespace

TEST_CASE("extend changes the TTL of every key of the selected sessions and of no other key",
          "[write][integration][extend]") {
  RedisServer server;
  server.cli_script(fixture("sample_sessions.redis"));
  seed_bystanders(server);
  std::vector<std::string> watched = kBystanders;
  watched.erase(std::remove(watched.begin(), watched.end(), "trt:active_sessions"), watched.end());
  const auto before = snapshot(server, watched);

  {
    INFO("--ttl: state and history get it, meta (no TTL) keeps none");
    const RunResult r = sctl(server, {"extend", "user_12345", "--ttl", "20h", "--yes", "-o", "json"});
    REQUIRE(r.exit_code == 0);
    const json doc = run_json(r);
    CHECK(doc.at("schema") == "sessionctl.extend");
    REQUIRE(doc.at("sessions").size() == 1);
    CHECK(doc.at("sessions")[0].at("status") == "done");
    CHECK(doc.at("sessions")[0].at("keys").size() == 2);
    CHECK(doc.at("summary").at("done") == 1);
    for (const char* k : {"trt:session:user_12345:state", "trt:session:user_12345:history"}) {
      CHECK(pttl(server, k) > 20 * kHour - 60000);
      CHECK(pttl(server, k) <= 20 * kHour);
    }
    CHECK(pttl(server, "trt:session:user_12345:meta") == -1);
    for (const auto& k : doc.at("sessions")[0].at("keys")) {
      CHECK(k.at("ttl_before_ms").get<long long>() > 23 * kHour);
      CHECK(k.at("ttl_after_ms") == 20 * kHour);
    }
  }
  {
    INFO("--include-persistent gives meta one too");
    REQUIRE(sctl(server, {"extend", "user_12345", "--ttl", "20h", "--include-persistent", "--yes"}).exit_code == 0);
    CHECK(pttl(server, "trt:session:user_12345:meta") > 19 * kHour);
  }
  {
    INFO("above btrix's max_ttl (1h): refused, nothing changed; --force allows it");
    const long long was = pttl(server, "state:test-456");
    const RunResult r = sctl(server, {"extend", "test-456", "--ttl", "2h", "--yes"});
    check_error(r, 2);
    CHECK_THAT(r.err, Contains("max_ttl") && Contains("--force"));
    CHECK(pttl(server, "state:test-456") <= was);
    REQUIRE(sctl(server, {"extend", "test-456", "--ttl", "2h", "--yes", "--force"}).exit_code == 0);
    CHECK(pttl(server, "state:test-456") > kHour + 59 * 60000);
  }
  {
    INFO("--by adds to what each key has");
    const long long a = pttl(server, "session:my-session"), b = pttl(server, "session:test-session-999");
    const RunResult r = sctl(server, {"extend", "--profile", "channels", "--by", "30m", "--yes", "-o", "json"});
    REQUIRE(r.exit_code == 0);
    CHECK(run_json(r).at("summary").at("done") == 2);
    CHECK(pttl(server, "session:my-session") > a + 29 * 60000);
    CHECK(pttl(server, "session:my-session") <= a + 30 * 60000);
    CHECK(pttl(server, "session:test-session-999") > b + 29 * 60000);
  }
  {
    INFO("without a terminal and without --yes: exit 2, nothing changed");
    const auto now = snapshot(server, {"state:test-session-123", "state:abc123def456"});
    check_error(sctl(server, {"extend", "--profile", "btrix", "--ttl", "30m"}), 2);
    CHECK(snapshot(server, {"state:test-session-123", "state:abc123def456"}) == now);
  }
  {
    INFO("--dry-run: the plan, nothing changed");
    const auto now = snapshot(server, {"state:test-session-123", "state:abc123def456"});
    const RunResult r = sctl(server, {"extend", "--profile", "btrix", "--ttl", "30m", "--dry-run", "-o", "json"});
    REQUIRE(r.exit_code == 0);
    const json doc = run_json(r);
    CHECK(doc.at("summary").at("dry_run") == true);
    CHECK(doc.at("sessions").size() == 4);  // 3 of the fixture and state:test-4567
    for (const auto& s : doc.at("sessions")) CHECK(s.at("status") == "planned");
    CHECK(snapshot(server, {"state:test-session-123", "state:abc123def456"}) == now);
  }
  {
    INFO("no selection at all needs --all");
    check_error(sctl(server, {"extend", "--ttl", "30m", "--yes"}), 2);
    check_error(sctl(server, {"extend", "--ttl", "30m", "--by", "5m", "--yes", "x"}), 2);
    check_error(sctl(server, {"extend", "no-such-session", "--ttl", "30m", "--yes"}), 5);
  }
  auto after = snapshot(server, watched);
  // state:test-4567 is a btrix session of its own: the --dry-run above planned it, nothing changed it.
  CHECK(after == before);
}

TEST_CASE("delete removes whole sessions with their index entries, and no other key", "[write][integration][delete]") {
  RedisServer server;
  server.cli_script(fixture("sample_sessions.redis"));
  seed_bystanders(server);
  server.cli({"ZADD", "trt:active_sessions", "1700000000", "user_999"});
  std::vector<std::string> watched = kBystanders;
  watched.erase(std::remove(watched.begin(), watched.end(), "trt:active_sessions"), watched.end());
  const auto before = snapshot(server, watched);
  const std::string chat = "session:chat:-1001234567890";  // the telegram fixture session's mapping
  REQUIRE(server.cli({"GET", chat}) == "1734567890123\n");

  {
    const RunResult r = sctl(server, {"delete", "user_12345", "--dry-run", "-o", "json"});
    REQUIRE(r.exit_code == 0);
    CHECK(run_json(r).at("sessions")[0].at("keys").size() == 4);
    CHECK(server.cli({"EXISTS", "trt:session:user_12345:state"}) == "1\n");
  }
  const RunResult r = sctl(server, {"delete", "user_12345", "1734567890123", "test-456", "--yes", "-o", "json"});
  REQUIRE(r.exit_code == 0);
  const json doc = run_json(r);
  CHECK(doc.at("summary").at("done") == 3);
  CHECK(doc.at("summary").at("keys_changed") == 3 + 1 + 2 + 1);
  for (const char* k : {"trt:session:user_12345:state", "trt:session:user_12345:history", "trt:session:user_12345:meta",
                        "session:1734567890123", "session:chat:-1001234567890", "state:test-456"})
    CHECK(server.cli({"EXISTS", k}) == "0\n");
  CHECK(server.cli({"ZSCORE", "trt:active_sessions", "user_12345"}) == "\n");
  CHECK(server.cli({"ZSCORE", "trt:active_sessions", "user_999"}) == "1700000000\n");
  CHECK(snapshot(server, watched) == before);

  {
    INFO("a chat mapping that points at another session stays");
    server.cli_script(fixture("sample_sessions.redis"));
    server.cli({"SET", chat, "another-session"});
    REQUIRE(sctl(server, {"delete", "1734567890123", "--yes"}).exit_code == 0);
    CHECK(server.cli({"EXISTS", "session:1734567890123"}) == "0\n");
    CHECK(server.cli({"GET", chat}) == "another-session\n");
  }
  {
    INFO("one user's sessions by e-mail: the record to file");
    const RunResult erase = sctl(server, {"delete", "--where", "data.email=john@example.com", "--yes", "-o", "json"});
    REQUIRE(erase.exit_code == 0);
    const json e = run_json(erase);
    REQUIRE(e.at("sessions").size() == 1);
    CHECK(e.at("sessions")[0].at("id") == "test-session-123");
    CHECK(server.cli({"EXISTS", "state:test-session-123"}) == "0\n");
    CHECK(server.cli({"EXISTS", "state:abc123def456"}) == "1\n");
  }
  check_error(sctl(server, {"delete", "no-such-session", "--yes"}), 5);
}

TEST_CASE("extend and delete lose no concurrent app write and bring back no deleted session",
          "[write][integration][concurrency]") {
  RedisServer server;
  constexpr int n = 20000;
  std::string load;
  for (int i = 0; i < n; ++i)
    load += "SET state:c" + std::to_string(i) + " \"{\\\"current\\\":\\\"WELCOME\\\",\\\"data\\\":{}}\" EX 1800\n";
  // Hot TRT sessions an app keeps writing to: a counter in the state hash, a history push.
  constexpr int hot = 20;
  for (int i = 0; i < hot; ++i) {
    const std::string id = "hot" + std::to_string(i);
    load += "HSET trt:session:" + id + ":state current_stage intake counter 0\nEXPIRE trt:session:" + id +
            ":state 3600\nRPUSH trt:session:" + id + ":history \"{\\\"role\\\":\\\"x\\\"}\"\nEXPIRE trt:session:" + id +
            ":history 3600\n";
  }
  server.cli_script(load);

  std::atomic<bool> stop{false};
  std::map<std::string, int> increments, pushes;
  std::set<int> deleted_meanwhile;
  std::string writer_error;
  // The app: HINCRBY, RPUSH, a state change, and deleting some btrix sessions, while sessionctl runs.
  auto writer = [&](bool delete_some) {
    try {
      int round = 0;
      while (!stop.load()) {
        std::string script;
        for (int i = 0; i < hot; ++i) {
          const std::string id = "hot" + std::to_string(i);
          script += "HINCRBY trt:session:" + id + ":state counter 1\n";
          script += "RPUSH trt:session:" + id + ":history \"{\\\"role\\\":\\\"y\\\"}\"\n";
          script += "HSET trt:session:" + id + ":state current_stage s" + std::to_string(round) + "\n";
          ++increments[id];
          ++pushes[id];
        }
        if (delete_some && round < 50) {
          for (int k = 0; k < 20; ++k) {
            const int victim = round * 20 + k;
            script += "DEL state:c" + std::to_string(victim) + "\n";
            deleted_meanwhile.insert(victim);
          }
        }
        server.cli_script(script);
        ++round;
      }
    } catch (const std::exception& e) {
      writer_error = e.what();
    }
  };
  auto check_hot = [&] {
    for (int i = 0; i < hot; ++i) {
      const std::string id = "hot" + std::to_string(i);
      CHECK(server.cli({"HGET", "trt:session:" + id + ":state", "counter"}) == std::to_string(increments[id]) + "\n");
      CHECK(server.cli({"LLEN", "trt:session:" + id + ":history"}) == std::to_string(pushes[id] + 1) + "\n");
    }
  };

  {
    INFO("extend --by while the app writes and deletes");
    std::thread t(writer, true);
    const RunResult r = sctl(server, {"extend", "--all", "--by", "10m", "--force", "--yes", "-o", "jsonl"});
    stop = true;
    t.join();
    REQUIRE(writer_error.empty());
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    check_hot();
    for (int i = 0; i < hot; ++i) CHECK(pttl(server, "trt:session:hot" + std::to_string(i) + ":state") > 3600000);
    REQUIRE_FALSE(deleted_meanwhile.empty());
    for (int v : deleted_meanwhile) CHECK(server.cli({"EXISTS", "state:c" + std::to_string(v)}) == "0\n");
  }
  {
    INFO("extend --ttl likewise");
    stop = false;
    std::thread t(writer, false);
    const RunResult r = sctl(server, {"extend", "--profile", "trt", "--ttl", "5h", "--yes"});
    stop = true;
    t.join();
    REQUIRE(r.exit_code == 0);
    check_hot();
  }
  {
    INFO("delete of the btrix sessions while the app writes to the trt ones");
    stop = false;
    std::thread t(writer, false);
    const RunResult r = sctl(server, {"delete", "--profile", "btrix", "--yes", "-o", "json"});
    stop = true;
    t.join();
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    check_hot();
    CHECK(server.cli({"EVAL", "return #redis.call('KEYS', 'state:*')", "0"}) == "0\n");
  }
}

TEST_CASE("extend and delete refused by the server change nothing: a read-only user, a replica",
          "[write][integration][errors]") {
  ServerOptions options;
  options.acl_users = {"reader on >" + testsupport::kSecret + " ~* &* +@read +@connection +info +client +scan"};
  RedisServer server(options);
  server.cli_script(fixture("sample_sessions.redis"));
  const auto before = snapshot(server, {"state:test-456", "trt:session:user_12345:state", "trt:active_sessions"});
  {
    const RunResult r = testsupport::sctl_as(server, "reader:" + testsupport::kSecret, {"delete", "--all", "--yes"});
    check_error(r, 4);
    const RunResult e =
        testsupport::sctl_as(server, "reader:" + testsupport::kSecret, {"extend", "--all", "--ttl", "10m", "--yes"});
    check_error(e, 4);
  }
  CHECK(snapshot(server, {"state:test-456", "trt:session:user_12345:state", "trt:active_sessions"}) == before);

  {
    // Neither needs memory (PEXPIRE, UNLINK and ZREM are not refused at OOM, nor a script that calls only
    // them): at maxmemory the operator can still extend, and delete to free memory.
    INFO("at maxmemory under noeviction, extend --by and delete still work");
    server.cli({"CONFIG", "SET", "maxmemory-policy", "noeviction"});
    server.cli({"CONFIG", "SET", "maxmemory", "1"});
    REQUIRE_THAT(server.cli_run({"SET", "x", "y"}).err, Contains("OOM"));
    const long long was = pttl(server, "session:my-session");
    const RunResult r = sctl(server, {"extend", "--profile", "channels", "--by", "10m", "--yes"});
    INFO(r);
    CHECK(r.exit_code == 0);
    CHECK(pttl(server, "session:my-session") > was + 9 * 60000);
    REQUIRE(sctl(server, {"delete", "my-session", "1734567890123", "--yes"}).exit_code == 0);
    CHECK(server.cli({"EXISTS", "session:my-session"}) == "0\n");
    server.cli({"CONFIG", "SET", "maxmemory", "0"});
  }

  ServerOptions replica_options;
  replica_options.config = {{"replicaof", "127.0.0.1 " + std::to_string(server.port())}};
  RedisServer replica(replica_options);
  // The first sync forks an RDB; on a loaded CI machine that took more than 5 s.
  for (int i = 0; i < 600 && replica.cli({"EXISTS", "state:test-456"}) != "1\n"; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  REQUIRE(replica.cli({"EXISTS", "state:test-456"}) == "1\n");
  const RunResult r = sctl(replica, {"delete", "test-456", "--yes"});
  check_error(r, 2);
  CHECK_THAT(r.err, Contains("read-only replica"));
  CHECK(server.cli({"EXISTS", "state:test-456"}) == "1\n");
}

TEST_CASE("cluster: extend and delete reach every node, and a session across slots changes key by key",
          "[write][cluster][integration]") {
  RedisCluster cluster;
  {
    const RunResult r = cluster.nodes().at(0)->cli_run({"-c"}, std::nullopt, fixture("sample_sessions.redis"));
    REQUIRE(r.exit_code == 0);
  }
  std::vector<testsupport::CliCommand> load;
  for (int i = 0; i < 2000; ++i)
    load.push_back({"SET", "state:k" + std::to_string(i), R"({"current":"WELCOME","data":{}})", "EX", "3600"});
  cluster.load(load);
  const std::string url = cluster.seed_url();
  {
    const RunResult r = testsupport::sessionctl({"delete", "user_12345", "--dry-run", "-o", "json", "-u", url});
    const json doc = run_json(r);
    CHECK(doc.at("sessions")[0].at("atomic") == false);
    CHECK(doc.at("summary").at("not_atomic") == 1);
  }
  {
    const RunResult r = testsupport::sessionctl(
        {"extend", "--profile", "btrix", "--ttl", "30m", "--force", "--yes", "-o", "json", "-u", url}, {}, 60000);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(run_json(r).at("summary").at("done") == 2003);
    for (int i = 0; i < 2000; i += 199) {
      const std::string key = "state:k" + std::to_string(i);
      RedisServer* owner = cluster.owner_of_slot(cluster.slot_of(key));
      const long long t = std::stoll(owner->cli({"PTTL", key}));
      CHECK(t <= 30 * 60000);
      CHECK(t > 29 * 60000);
    }
  }
  {
    const RunResult r = testsupport::sessionctl({"delete", "user_12345", "--yes", "-o", "json", "-u", url});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(run_json(r).at("summary").at("keys_changed") == 4);
    for (const char* k :
         {"trt:session:user_12345:state", "trt:session:user_12345:history", "trt:session:user_12345:meta"}) {
      RedisServer* owner = cluster.owner_of_slot(cluster.slot_of(k));
      CHECK(owner->cli({"EXISTS", k}) == "0\n");
    }
    RedisServer* index = cluster.owner_of_slot(cluster.slot_of("trt:active_sessions"));
    CHECK(index->cli({"ZSCORE", "trt:active_sessions", "user_12345"}) == "\n");
  }
  {
    const RunResult r =
        testsupport::sessionctl({"delete", "--profile", "btrix", "--yes", "-o", "json", "-u", url}, {}, 60000);
    REQUIRE(r.exit_code == 0);
    CHECK(run_json(r).at("summary").at("done") == 2003);
    long long left = 0;
    for (RedisServer* p : cluster.primaries())
      left += std::stoll(p->cli({"EVAL", "return #redis.call('KEYS', 'state:*')", "0"}));
    CHECK(left == 0);
  }
}

// doctor's fixes for TTL findings name extend commands that work: run each as printed, then doctor no
// longer finds them.
TEST_CASE("doctor's TTL fixes, run as printed, clear their findings", "[write][integration][doctor]") {
  RedisServer server;
  server.cli_script(
      "SET state:forever \"{\\\"current\\\":\\\"WELCOME\\\",\\\"data\\\":{}}\"\n"
      "SET state:too-long \"{\\\"current\\\":\\\"WELCOME\\\",\\\"data\\\":{}}\" EX 7200\n"
      "SET state:fine \"{\\\"current\\\":\\\"WELCOME\\\",\\\"data\\\":{}}\" EX 1000\n");
  auto findings = [&] {
    const RunResult r = sctl(server, {"doctor", "-o", "json"});
    std::map<std::string, std::string> fixes;
    const json doc = run_json(r);
    for (const auto& f : doc.at("findings"))
      if (f.contains("fix") && f.at("fix").is_string()) fixes[f.at("code").get<std::string>()] = f.at("fix");
    return fixes;
  };
  auto fixes = findings();
  REQUIRE(fixes.count("no_ttl") == 1);
  REQUIRE(fixes.count("ttl_above_max") == 1);
  for (const char* code : {"no_ttl", "ttl_above_max"}) {
    INFO(fixes[code]);
    std::vector<std::string> args;
    std::istringstream words(fixes[code]);
    for (std::string w; words >> w;) args.push_back(w);
    REQUIRE(args.at(0) == "sessionctl");
    args.erase(args.begin());
    args.insert(args.end(), {"-u", server.url()});
    const RunResult r = testsupport::sessionctl(args);
    INFO(r);
    CHECK(r.exit_code == 0);
  }
  fixes = findings();
  CHECK(fixes.count("no_ttl") == 0);
  CHECK(fixes.count("ttl_above_max") == 0);
  CHECK(pttl(server, "state:forever") > 0);
  CHECK(pttl(server, "state:too-long") <= kHour);
  CHECK(pttl(server, "state:fine") <= 1000000);
}

// Redis killed part way through a bulk delete: the error says how far it got, and the same command run
// again (after the server comes back with its AOF) finishes the job, deleting nothing else.
TEST_CASE("delete: redis-server killed part way says how far it got, and re-running finishes",
          "[write][integration][delete][faults]") {
  ServerOptions options;
  // Loaded without an fsync per write (60,000 of them outlast the script's timeout on a busy disk), then
  // every write of the delete fsynced: the AOF the server comes back with is exactly what was done.
  options.config = {{"appendonly", "yes"}, {"appendfsync", "no"}};
  RedisServer server(options);
  constexpr int n = 60000;
  std::string load;
  for (int i = 0; i < n; ++i)
    load += "SET state:k" + std::to_string(i) + " \"{\\\"current\\\":\\\"WELCOME\\\",\\\"data\\\":{}}\" EX 3600\n";
  load += "SET unrelated:1 keep\n";
  server.cli_script(load);
  REQUIRE(server.cli({"DBSIZE"}) == std::to_string(n + 1) + "\n");
  server.cli({"CONFIG", "SET", "appendfsync", "always"});

  RunResult first;
  std::thread runner([&] { first = sctl(server, {"delete", "--profile", "btrix", "--yes", "-o", "json"}); });
  // Kill it once some sessions are gone, but not all.
  bool killed = false;
  for (int i = 0; i < 2000 && !killed; ++i) {
    const RunResult size = server.cli_run({"DBSIZE"});
    if (size.exit_code == 0 && std::stoll(size.out) < n - 2000) {
      server.stop(true);
      killed = true;
    }
  }
  runner.join();
  REQUIRE(killed);
  INFO(first);
  CHECK(first.exit_code == 3);  // connection lost
  CHECK_THAT(first.err, Contains("sessions were deleted") || Contains("changed before this"));
  CHECK_THAT(first.err, Contains("run the same command again"));

  server.start();
  const long long left = std::stoll(server.cli({"DBSIZE"}));
  CHECK(left < n);
  const RunResult again = sctl(server, {"delete", "--profile", "btrix", "--yes", "-o", "json"});
  INFO(again);
  REQUIRE(again.exit_code == 0);
  CHECK(run_json(again).at("summary").at("done") == left - 1);
  CHECK(server.cli({"DBSIZE"}) == "1\n");
  CHECK(server.cli({"GET", "unrelated:1"}) == "keep\n");
}
