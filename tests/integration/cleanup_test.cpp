// cleanup against real servers: exactly doctor's orphans go (zset members, related keys, chat pointers
// to missing sessions), nothing else changes byte for byte, --idle-over deletes only idle sessions,
// doctor's orphan fixes run as printed, and the same on a 3-primary cluster.
#include <catch2/catch.hpp>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
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

namespace {

std::map<std::string, std::string> snapshot(const RedisServer& s, const std::vector<std::string>& keys) {
  std::map<std::string, std::string> out;
  for (const auto& k : keys) out[k] = s.cli({"DUMP", k}) + "|" + s.cli({"PEXPIRETIME", k});
  return out;
}

// Orphans of every kind, next to healthy sessions and look-alikes.
void seed_orphans(const std::function<void(const std::string&)>& run) {
  run("HSET trt:session:gone:meta created_via api\n"
      "RPUSH trt:session:gone:history \"{\\\"client_input\\\":\\\"x\\\"}\"\n"
      "ZADD trt:active_sessions 5 ghost 6 gone\n"
      "SET session:chat:999 missing-session\n"
      "SET trt:session:lookalike:other keep\n"
      "SET session:chat:1000 \"not a session id\" EX 500\n");
}

long long orphan_findings(const RedisServer& s) {
  const RunResult r = sctl(s, {"doctor", "-o", "json"});
  const json doc = json::parse(r.out);
  long long n = 0;
  for (const auto& f : doc.at("findings"))
    if (f.at("code") == "orphan") n += f.at("count").get<long long>();
  return n;
}

}  // namespace

TEST_CASE("cleanup removes exactly doctor's orphans and touches no other key", "[write][integration][cleanup]") {
  RedisServer server;
  server.cli_script(fixture("sample_sessions.redis"));
  seed_orphans([&](const std::string& s) { server.cli_script(s); });
  const std::vector<std::string> kept = {"state:test-456",
                                         "trt:session:user_12345:state",
                                         "trt:session:user_12345:history",
                                         "trt:session:user_12345:meta",
                                         "session:chat:-1001234567890",
                                         "session:1734567890123",
                                         "trt:session:lookalike:other"};
  const auto before = snapshot(server, kept);
  const long long orphans = orphan_findings(server);
  REQUIRE(orphans >= 5);

  check_error(sctl(server, {"cleanup"}), 2);  // no terminal, no --yes
  {
    const json plan = testsupport::sctl_json(server, {"cleanup", "--dry-run"});
    CHECK(plan.at("summary").at("keys_planned") == 6);  // session:chat:1000 names no session either
    CHECK(orphan_findings(server) == orphans);
  }
  const json done = testsupport::sctl_json(server, {"cleanup", "--yes"});
  CHECK(done.at("summary").at("done") == 6);
  CHECK(orphan_findings(server) == 0);
  CHECK(server.cli({"EXISTS", "trt:session:gone:meta"}) == "0\n");
  CHECK(server.cli({"EXISTS", "trt:session:gone:history"}) == "0\n");
  CHECK(server.cli({"EXISTS", "session:chat:999"}) == "0\n");
  CHECK(server.cli({"ZSCORE", "trt:active_sessions", "ghost"}) == "\n");
  CHECK(server.cli({"ZSCORE", "trt:active_sessions", "user_12345"}) != "\n");
  CHECK(snapshot(server, kept) == before);
  // A second run finds nothing to do.
  CHECK(testsupport::sctl_json(server, {"cleanup", "--yes"}).at("summary").at("sessions") == 0);
}

TEST_CASE("cleanup --idle-over deletes only sessions idle longer than that", "[write][integration][cleanup]") {
  RedisServer server;
  const long long now = std::stoll(server.cli({"EVAL", "return redis.call('TIME')[1]", "0"}));
  std::string s;
  for (const auto& [id, age] : std::vector<std::pair<std::string, long long>>{
           {"old1", 90000}, {"old2", 200000}, {"new1", 60}, {"new2", 3000}}) {
    const std::string t = std::to_string(now - age);
    s += "HSET trt:session:" + id + ":state current_stage intake last_interaction " + t + "\n";
    s += "EXPIRE trt:session:" + id + ":state 86400\n";
    s += "HSET trt:session:" + id + ":meta created_via api\n";
    s += "ZADD trt:active_sessions " + t + " " + id + "\n";
  }
  server.cli_script(s);
  const json r = testsupport::sctl_json(server, {"cleanup", "--profile", "trt", "--idle-over", "24h", "--yes"});
  CHECK(r.at("summary").at("done") == 2);
  for (const char* id : {"old1", "old2"}) {
    CHECK(server.cli({"EXISTS", std::string("trt:session:") + id + ":state"}) == "0\n");
    CHECK(server.cli({"EXISTS", std::string("trt:session:") + id + ":meta"}) == "0\n");
    CHECK(server.cli({"ZSCORE", "trt:active_sessions", id}) == "\n");
  }
  for (const char* id : {"new1", "new2"})
    CHECK(server.cli({"EXISTS", std::string("trt:session:") + id + ":state"}) == "1\n");
}

TEST_CASE("doctor's orphan fixes, run as printed, clear their findings", "[write][integration][cleanup][doctor]") {
  RedisServer server;
  server.cli_script(fixture("sample_sessions.redis"));
  seed_orphans([&](const std::string& s) { server.cli_script(s); });
  const json doc = json::parse(sctl(server, {"doctor", "-o", "json"}).out);
  int ran = 0;
  for (const auto& f : doc.at("findings")) {
    if (f.at("code") != "orphan") continue;
    std::vector<std::string> args;
    std::istringstream words(f.at("fix").get<std::string>());
    for (std::string w; words >> w;) args.push_back(w);
    REQUIRE(args.at(0) == "sessionctl");
    args.erase(args.begin());
    // shell_quote'd words come back without their quotes as a shell would take them
    for (auto& a : args)
      if (a.size() >= 2 && a.front() == '\'' && a.back() == '\'') a = a.substr(1, a.size() - 2);
    args.insert(args.end(), {"-u", server.url()});
    const RunResult r = testsupport::sessionctl(args);
    INFO(r);
    CHECK(r.exit_code == 0);
    ++ran;
  }
  CHECK(ran >= 2);
  CHECK(orphan_findings(server) == 0);
}

TEST_CASE("cluster: cleanup finds and removes orphans on every node", "[write][cluster][integration][cleanup]") {
  RedisCluster cluster;
  REQUIRE(cluster.nodes().at(0)->cli_run({"-c"}, std::nullopt, fixture("sample_sessions.redis")).exit_code == 0);
  std::vector<testsupport::CliCommand> load = {{"HSET", "trt:session:gone:meta", "created_via", "api"},
                                               {"RPUSH", "trt:session:gone:history", "{}"},
                                               {"ZADD", "trt:active_sessions", "5", "ghost"},
                                               {"SET", "session:chat:999", "missing-session"}};
  cluster.load(load);
  const std::string url = cluster.seed_url();
  const RunResult r = testsupport::sessionctl({"cleanup", "--yes", "-o", "json", "-u", url}, {}, 60000);
  INFO(r);
  REQUIRE(r.exit_code == 0);
  const json doc = json::parse(r.out);
  CHECK(doc.at("summary").at("done") == 4);
  for (const char* k : {"trt:session:gone:meta", "trt:session:gone:history", "session:chat:999"})
    CHECK(cluster.owner_of_slot(cluster.slot_of(k))->cli({"EXISTS", k}) == "0\n");
  RedisServer* ix = cluster.owner_of_slot(cluster.slot_of("trt:active_sessions"));
  CHECK(ix->cli({"ZSCORE", "trt:active_sessions", "ghost"}) == "\n");
  CHECK(ix->cli({"ZSCORE", "trt:active_sessions", "user_12345"}) != "\n");
  CHECK(cluster.owner_of_slot(cluster.slot_of("state:test-456"))->cli({"EXISTS", "state:test-456"}) == "1\n");
}
