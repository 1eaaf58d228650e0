// `sessionctl profiles` and `profiles --detect` against real servers: the catalogue of built-in and file
// profiles, detection of the sample sessions among keys no profile explains (counted as list counts them),
// the starter profiles file loading and explaining those keys, the sample bound, masking of example keys,
// and a 3-primary cluster sampled on every primary.
#include <catch2/catch.hpp>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "redis_server.h"
#include "session/profile.h"
#include "sessionctl_cli.h"
#include "temp_dir.h"
#include "topology.h"

using Catch::Matchers::Contains;
using nlohmann::json;
using testsupport::check_error;
using testsupport::fixture;
using testsupport::RedisCluster;
using testsupport::RedisServer;
using testsupport::RunResult;
using testsupport::sctl;
using testsupport::sctl_json;

namespace {

// Sessions per profile as list sees them: what detect must agree with.
std::map<std::string, long long> listed(const RunResult& r) {
  std::map<std::string, long long> out;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) ++out[json::parse(line).at("profile").get<std::string>()];
  return out;
}

std::map<std::string, long long> detected(const json& doc) {
  std::map<std::string, long long> out;
  for (const auto& p : doc.at("present"))
    if (p.at("sessions").get<long long>() > 0) out[p.at("profile").get<std::string>()] = p.at("sessions");
  return out;
}

const json* present(const json& doc, const std::string& profile) {
  for (const auto& p : doc.at("present"))
    if (p.at("profile") == profile) return &p;
  return nullptr;
}

const json* unexplained(const json& doc, const std::string& prefix) {
  for (const auto& u : doc.at("unexplained"))
    if (u.at("prefix") == prefix) return &u;
  return nullptr;
}

// Keys of stores no profile describes: 30 JSON carts with a TTL, 30 hashes without one, and a key with an
// e-mail address in it.
std::string other_stores() {
  std::string script;
  for (int i = 0; i < 30; ++i) {
    script += "SET cart:user:" + std::to_string(i) + " \"{\\\"items\\\":[1,2]}\" EX 7200\n";
    script += "HSET rate:ip:10.0.0." + std::to_string(i) + " n 1\n";
  }
  script += "SET prefs:jo.smith@example.com:theme dark\n";
  return script;
}

}  // namespace

TEST_CASE("profiles lists the built-in profiles and a file's, with their layouts and origin",
          "[profiles][integration]") {
  testsupport::TempDir dir;
  const std::string file = dir.write("p.json", R"({"profiles": [
    {"name": "shop", "description": "our shop's sessions", "key": "sess:{id}", "type": "string", "encoding": "json",
     "ttl": {"default": "2h"}}]})");
  const RunResult r = testsupport::sessionctl({"profiles", "--profiles-file", file, "-o", "json"});
  INFO(r);
  REQUIRE(r.exit_code == 0);
  const json doc = json::parse(r.out);
  CHECK(doc.at("schema") == "sessionctl.profiles");
  const json& list = doc.at("profiles");
  CHECK(list.size() == sessionctl::ProfileSet::builtin().all().size() + 1);
  std::vector<std::string> names;
  for (const auto& p : list) names.push_back(p.at("name"));
  // The file's profile shares connect-redis's layout and goes before it.
  const auto shop = std::find(names.begin(), names.end(), "shop");
  const auto express = std::find(names.begin(), names.end(), "connect-redis");
  REQUIRE(shop != names.end());
  REQUIRE(express != names.end());
  CHECK(shop < express);
  for (const auto& p : list) {
    INFO(p.dump());
    CHECK(p.at("origin") == (p.at("name") == "shop" ? file : "built-in"));
    if (p.at("name") == "trt") {
      CHECK(p.at("primary").at("key") == "trt:session:{id}:state");
      CHECK(p.at("related").size() == 2);
      CHECK(p.at("related").at(1).at("expects_ttl") == false);
      CHECK(p.at("indexes").at(0).at("key") == "trt:active_sessions");
    }
    if (p.at("name") == "spring") CHECK(p.at("primary").at("format") == "jdk");
    if (p.at("name") == "shop") CHECK(p.at("ttl").at("default_seconds") == 7200);
  }
  const RunResult table = testsupport::sessionctl({"profiles"});
  INFO(table);
  CHECK(table.exit_code == 0);
  CHECK_THAT(table.out, Contains("PHPREDIS_SESSION:{id}"));
  CHECK_THAT(table.out, Contains("trt:active_sessions (index)"));
}

TEST_CASE(
    "profiles --detect finds the sample sessions, the unexplained prefixes, and a starter file that explains them",
    "[profiles][integration]") {
  RedisServer server;
  server.cli_script(fixture("sample_sessions.redis"));
  server.cli_script(other_stores());
  const json doc = sctl_json(server, {"profiles", "--detect"});
  CHECK(doc.at("schema") == "sessionctl.profiles-detect");
  CHECK(doc.at("complete") == true);
  CHECK(doc.at("sampled_keys").get<long long>() == std::stoll(server.cli({"DBSIZE"})));
  const RunResult list = sctl(server, {"list", "-o", "jsonl"});
  REQUIRE(list.exit_code == 0);
  CHECK(detected(doc) == listed(list));
  // Telegram's chat mapping is its index (not a key channels' layout excludes), trt's zset its own.
  REQUIRE(present(doc, "telegram"));
  CHECK(present(doc, "telegram")->at("bookkeeping_keys") == 1);
  CHECK(present(doc, "trt")->at("bookkeeping_keys") == 1);
  CHECK(present(doc, "channels")->at("bookkeeping_keys") == 0);

  const json* carts = unexplained(doc, "cart:user:");
  REQUIRE(carts);
  CHECK(carts->at("keys") == 30);
  CHECK(carts->at("types").at("string") == 30);
  CHECK(carts->at("with_ttl") == 30);
  CHECK(carts->at("values_json") == carts->at("values_sampled"));
  const json* rates = unexplained(doc, "rate:ip:");
  REQUIRE(rates);
  CHECK(rates->at("types").at("hash") == 30);
  CHECK(rates->at("with_ttl") == 0);
  // A key is shown masked: the address in it does not reach the output unless --reveal.
  CHECK(doc.dump().find("jo.smith@example.com") == std::string::npos);
  const json revealed = sctl_json(server, {"profiles", "--detect", "--reveal"});
  CHECK(revealed.dump().find("jo.smith@example.com") != std::string::npos);

  const json& starter = doc.at("starter").at("profiles");
  REQUIRE(starter.size() == 3);  // cart:user:, rate:ip:, prefs:
  CHECK(starter.at(0).at("key") == "cart:user:{id}");
  CHECK(starter.at(0).at("encoding") == "json");
  CHECK(starter.at(0).at("ttl").at("default") == "2h");
  CHECK(starter.at(1).at("type") == "hash");
  CHECK_FALSE(starter.at(1).contains("ttl"));
  testsupport::TempDir dir;
  const std::string file = dir.write("starter.json", doc.at("starter").dump());
  const json again = sctl_json(server, {"profiles", "--detect", "--profiles-file", file});
  CHECK(again.at("unexplained").empty());
  CHECK(present(again, starter.at(0).at("name"))->at("sessions") == 30);
  const RunResult carts_listed =
      sctl(server, {"list", "-o", "jsonl", "--profiles-file", file, "--profile", starter.at(0).at("name")});
  CHECK(listed(carts_listed)[starter.at(0).at("name")] == 30);

  const RunResult table = sctl(server, {"profiles", "--detect"});
  INFO(table);
  CHECK(table.exit_code == 0);
  CHECK_THAT(table.out, Contains("Keys no profile explains"));
  CHECK_THAT(table.out, Contains("\"key\": \"cart:user:{id}\""));
}

TEST_CASE("profiles --detect stops at --sample keys, and refuses a bad --sample", "[profiles][integration][errors]") {
  RedisServer server;
  server.cli_script(other_stores());
  const json doc = sctl_json(server, {"profiles", "--detect", "--sample", "20"});
  CHECK(doc.at("sampled_keys") == 20);
  CHECK(doc.at("complete") == false);
  long long counted = 0;
  for (const auto& u : doc.at("unexplained")) counted += u.at("keys").get<long long>();
  CHECK(counted == 20);
  check_error(sctl(server, {"profiles", "--detect", "--sample", "0"}), 2);
  check_error(sctl(server, {"profiles", "--detect", "--sample", "x"}), 2);
  check_error(testsupport::sessionctl({"profiles", "--detect", "-u", "redis://127.0.0.1:1"}), 3);
}

TEST_CASE("profiles --detect on a 3-primary cluster samples every primary", "[profiles][integration][cluster]") {
  RedisCluster cluster;
  REQUIRE(cluster.nodes().at(0)->cli_run({"-c"}, std::nullopt, fixture("sample_sessions.redis")).exit_code == 0);
  std::vector<testsupport::CliCommand> load;
  for (int i = 0; i < 300; ++i) load.push_back({"SET", "cart:user:" + std::to_string(i), "{}", "EX", "600"});
  cluster.load(load);
  const RunResult r = testsupport::sessionctl({"profiles", "--detect", "-o", "json", "-u", cluster.seed_url()});
  INFO(r);
  REQUIRE(r.exit_code == 0);
  const json doc = json::parse(r.out);
  const RunResult list = testsupport::sessionctl({"list", "-o", "jsonl", "-u", cluster.seed_url()});
  REQUIRE(list.exit_code == 0);
  CHECK(detected(doc) == listed(list));
  REQUIRE(unexplained(doc, "cart:user:"));
  CHECK(unexplained(doc, "cart:user:")->at("keys") == 300);
}
