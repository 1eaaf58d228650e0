// Naming sessions on the command line against a real redis-server and the real binary: ids that are
// not UTF-8 round-trip through every output, keys no profile claims, full keys for list, and big
// aggregates that inspect reads in windows. The resolver's pure parts are in tests/unit/resolver_test.cpp.
#include <algorithm>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "measure.h"
#include "redis_server.h"
#include "sessionctl_cli.h"

using Catch::Matchers::Contains;
using nlohmann::json;
using testsupport::RedisServer;
using testsupport::RunResult;
using testsupport::sctl;
using testsupport::sctl_json;

namespace {

std::vector<json> parse_jsonl(const std::string& text) {
  std::vector<json> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    json j = json::parse(line, nullptr, false);
    REQUIRE_FALSE(j.is_discarded());
    out.push_back(std::move(j));
  }
  return out;
}

// `sessionctl -o json CMD -- TARGET`: "--" so that a target may start with '-'.
json json_of(const RedisServer& server, const std::string& cmd, const std::string& target) {
  RunResult r = sctl(server, {"-o", "json", cmd, "--", target});
  INFO(r);
  REQUIRE(r.exit_code == 0);
  return json::parse(r.out);
}

const std::string kState = R"({"current":"MENU","data":{"email":"bob@example.com"},"history":[]})";

}  // namespace

TEST_CASE("ids that are not UTF-8 survive list -o jsonl and the table, back into inspect", "[resolver][utf8]") {
  RedisServer server;
  const std::string id = "bad\xff\xfeutf8";
  server.cli({"SET", "state:" + id, kState, "EX", "3600"});
  server.cli({"SET", "state:plain", kState, "EX", "3600"});

  // What `sessionctl list -o jsonl | jq -r .id` and `jq -r .id_base64` give a script.
  RunResult jl = sctl(server, {"list", "-o", "jsonl"});
  REQUIRE(jl.exit_code == 0);
  std::vector<json> rows = parse_jsonl(jl.out);
  REQUIRE(rows.size() == 2);
  const json* bad = nullptr;
  for (const auto& r : rows) {
    if (r.contains("id_base64")) bad = &r;
  }
  REQUIRE(bad != nullptr);
  CHECK((*bad)["id"] == "bad\\xff\\xfeutf8");  // the table's escaped form, not U+FFFD
  CHECK((*bad)["id_base64"] == "YmFk//51dGY4");
  for (const auto& r : rows) {
    if (&r != bad) CHECK_FALSE(r.contains("id_base64"));  // UTF-8 ids need no second form
  }

  const std::vector<std::string> spellings = {(*bad)["id"].get<std::string>(),
                                              "b64:" + (*bad)["id_base64"].get<std::string>(),
                                              "state:" + (*bad)["id"].get<std::string>(), id};
  for (const auto& given : spellings) {
    INFO(given);
    json d = json_of(server, "inspect", given);
    REQUIRE(d["sessions"].size() == 1);
    const json& s = d["sessions"][0];
    CHECK(s["id_base64"] == "YmFk//51dGY4");
    CHECK(s["key_details"][0]["key"] == "state:bad\\xff\\xfeutf8");
    CHECK(s["key_details"][0]["key_base64"] == "c3RhdGU6YmFk//51dGY4");
    CHECK(s["key_details"][0]["value"]["data"]["email"] == "bo***@example.com");
    // list takes the same spellings.
    json l = json_of(server, "list", given);
    REQUIRE(l["sessions"].size() == 1);
    CHECK(l["sessions"][0]["id_base64"] == "YmFk//51dGY4");
  }

  // The table prints the escaped form; pasted back, it names the session.
  RunResult table = sctl(server, {"list"});
  REQUIRE(table.exit_code == 0);
  CHECK_THAT(table.out, Contains("bad\\xff\\xfeutf8"));
  RunResult shown = sctl(server, {"inspect", "bad\\xff\\xfeutf8"});
  INFO(shown);
  CHECK(shown.exit_code == 0);
  CHECK_THAT(shown.out, Contains("btrix bad\\xff\\xfeutf8") && Contains("state:bad\\xff\\xfeutf8"));
  CHECK(shown.out.find("\\\\x") == std::string::npos);  // escaped once, not twice

  // An id that really is spelt with a backslash is found as given, before any unescaping.
  server.cli({"SET", "state:lit\\x41", kState, "EX", "3600"});
  server.cli({"SET", "state:litA", kState, "EX", "3600"});
  json lit = sctl_json(server, {"inspect", "lit\\x41"});
  REQUIRE(lit["sessions"].size() == 1);
  CHECK(lit["sessions"][0]["id"] == "lit\\x41");

  // A missing one is still exit 5, named in its escaped form.
  RunResult missing = sctl(server, {"inspect", "-o", "json", "nope\\xff"});
  CHECK(missing.exit_code == 5);
  CHECK(json::parse(missing.out)["missing"] == json::array({"nope\\xff"}));
}

TEST_CASE("a key no profile claims is shown with a note, list takes full keys", "[resolver][unclaimed]") {
  RedisServer server;
  server.cli({"SET", "cache:user:1", R"({"name":"Bob","email":"bob@example.com"})", "EX", "600"});
  server.cli({"HSET", "cache:hash", "email", "ann@example.com", "n", "1"});
  server.cli({"SET", "state:x", kState, "EX", "3600"});
  server.cli({"HSET", "trt:session:x:state", "current_stage", "stage_1_goal"});

  json d = sctl_json(server, {"inspect", "cache:user:1"});
  REQUIRE(d["sessions"].size() == 1);
  const json& s = d["sessions"][0];
  CHECK(s["profile"] == "unknown");
  CHECK(s["id"] == "cache:user:1");
  CHECK_THAT(s["note"].get<std::string>(), Contains("no profile"));
  CHECK(s["key_details"][0]["key"] == "cache:user:1");
  CHECK(s["key_details"][0]["type"] == "string");
  CHECK(s["key_details"][0]["ttl_ms"].get<long long>() > 0);
  CHECK(d.dump().find("bob@example.com") == std::string::npos);  // masked like any value
  CHECK(d["missing"].empty());
  RunResult table = sctl(server, {"inspect", "cache:user:1", "cache:hash"});
  INFO(table);
  CHECK(table.exit_code == 0);
  CHECK_THAT(table.out, Contains("note: no profile") && Contains("cache:hash"));
  CHECK(table.out.find("ann@example.com") == std::string::npos);
  // One left out by --profile says so.
  json left = sctl_json(server, {"--profile", "btrix", "inspect", "trt:session:x:state"});
  CHECK_THAT(left["sessions"][0]["note"].get<std::string>(), Contains("trt") && Contains("--profile"));
  // A key that does not exist is still "no session".
  CHECK(sctl(server, {"inspect", "cache:user:2"}).exit_code == 5);

  // list state:x is btrix's x only, as inspect reads it; the bare id is every profile's x.
  json by_key = sctl_json(server, {"list", "state:x"});
  REQUIRE(by_key["sessions"].size() == 1);
  CHECK(by_key["sessions"][0]["profile"] == "btrix");
  json related = sctl_json(server, {"list", "trt:session:x:state"});
  REQUIRE(related["sessions"].size() == 1);
  CHECK(related["sessions"][0]["profile"] == "trt");
  CHECK(sctl_json(server, {"list", "x"})["sessions"].size() == 2);
  RunResult gone = sctl(server, {"list", "state:y"});
  CHECK(gone.exit_code == 5);
  CHECK_THAT(gone.err, Contains("'state:y'"));
}

TEST_CASE("inspect reads big aggregates in windows: the first items, '… and N more', flat memory",
          "[resolver][windows][big]") {
  RedisServer server;
  // A million items; a tenth of that under ASan, where streaming them all would outlast the run's timeout.
  const long long n = testsupport::kAsan ? 100000 : 1000000;
  // A TRT session whose :history list has 1M items (the app caps it at 50), built server-side.
  server.cli({"HSET", "trt:session:big:state", "current_stage", "stage_1_goal"});
  server.cli({"EVAL",
              "for i = 1, tonumber(ARGV[1]), 1000 do local t = {} "
              "for j = i, math.min(i + 999, tonumber(ARGV[1])) do "
              "t[#t + 1] = '{\"client_input\":\"secret ' .. j .. '\",\"navigation_decision\":\"continue\"}' end "
              "redis.call('RPUSH', KEYS[1], unpack(t)) end return 1",
              "1", "trt:session:big:history", std::to_string(n)});
  const long limit_kb = testsupport::kAsan ? 256 * 1024 : 64 * 1024;

  const auto table = testsupport::run_measured({"-u", server.url(), "inspect", "big"});
  INFO(table.result);
  REQUIRE(table.result.exit_code == 0);
  CHECK_THAT(table.result.out,
             Contains("     50. ") && Contains("… and " + std::to_string(n - 50) + " more (--all-items shows them)"));
  CHECK(table.result.out.find("     51. ") == std::string::npos);
  CHECK(table.result.out.find("secret") == std::string::npos);
  INFO("max RSS " << table.max_rss_kb << " KiB");
  // ASan's quarantine holds freed memory: the bound is checked in the normal build.
  if (!testsupport::kAsan) CHECK(table.max_rss_kb < limit_kb);

  json doc = sctl_json(server, {"inspect", "big"});
  const json& s = doc["sessions"][0];
  CHECK(std::find(s["problems"].begin(), s["problems"].end(), "history_over_cap") != s["problems"].end());
  const json& history = s["key_details"][1];
  CHECK(history["role"] == "history");
  CHECK(history["value"].size() == 50);
  CHECK(history["items_total"] == n);
  CHECK(history["items_omitted"] == n - 50);

  // --all-items streams all of them, in every format, and memory stays flat.
  const auto all = testsupport::run_measured({"-u", server.url(), "-o", "jsonl", "inspect", "big", "--all-items"});
  REQUIRE(all.result.exit_code == 0);
  json line = json::parse(all.result.out.substr(0, all.result.out.find('\n')));
  REQUIRE(line["key_details"][1]["value"].size() == static_cast<std::size_t>(n));
  // "secret N", masked to its length.
  const std::string last_len = std::to_string(std::string("secret ").size() + std::to_string(n).size());
  CHECK(line["key_details"][1]["value"][n - 1]["client_input"] == "[redacted: " + last_len + " chars]");
  CHECK_FALSE(line["key_details"][1].contains("items_omitted"));
  INFO("max RSS --all-items " << all.max_rss_kb << " KiB");
  // ASan's quarantine holds freed memory: the bound is checked in the normal build.
  if (!testsupport::kAsan) CHECK(all.max_rss_kb < limit_kb);
  CHECK(all.result.out.find("secret") == std::string::npos);

  // Hashes, sets and sorted sets the same way (keys no profile claims: read with the default window).
  server.cli({"EVAL",
              "for i = 1, 300 do redis.call('HSET', 'cache:h', 'f' .. i, 'v' .. i) "
              "redis.call('SADD', 'cache:s', 'm' .. i) redis.call('ZADD', 'cache:z', i, 'z' .. i) end return 1",
              "0"});
  json few = sctl_json(server, {"inspect", "cache:h", "cache:s", "cache:z"});
  REQUIRE(few["sessions"].size() == 3);
  for (const auto& sess : few["sessions"]) {
    const json& k = sess["key_details"][0];
    INFO(k.dump());
    CHECK(k["value"].size() == 50);
    CHECK(k["items_total"] == 300);
    CHECK(k["items_omitted"] == 250);
  }
  CHECK(few["sessions"][2]["key_details"][0]["value"][0]["member"] == "z1");  // a zset in score order
  json every = sctl_json(server, {"inspect", "cache:h", "cache:s", "cache:z", "--all-items"});
  for (const auto& sess : every["sessions"]) CHECK(sess["key_details"][0]["value"].size() == 300);
  CHECK(every["sessions"][2]["key_details"][0]["value"][299]["member"] == "z300");
  RunResult tab = sctl(server, {"inspect", "cache:z", "--all-items"});
  CHECK_THAT(tab.out, Contains("z300"));
  CHECK(tab.out.find("more (--all-items") == std::string::npos);
}

TEST_CASE("list --sort ttl: no TTL sorts last, --limit keeps only N rows in memory", "[sort][big]") {
  RedisServer server;
  server.cli_script("SET state:forever " + testsupport::cli_quote(kState) + "\n" +   // never expires
                    "SET state:b " + testsupport::cli_quote(kState) + " EX 50\n" +   //
                    "SET state:a " + testsupport::cli_quote(kState) + " EX 100\n" +  //
                    "SET state:d " + testsupport::cli_quote(kState) + " EX 200\n");
  auto ids = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"list", "--sort", "ttl"});
    std::vector<std::string> out;
    const json doc = sctl_json(server, args);
    for (const auto& s : doc["sessions"]) out.push_back(s["id"].get<std::string>());
    return out;
  };
  CHECK(ids({}) == std::vector<std::string>{"b", "a", "d", "forever"});
  CHECK(ids({"--limit", "2"}) == std::vector<std::string>{"b", "a"});
  CHECK(ids({"--limit", "4", "--wide"}) == std::vector<std::string>{"b", "a", "d", "forever"});
  RunResult table = sctl(server, {"list", "--sort", "ttl"});
  REQUIRE(table.exit_code == 0);
  CHECK(table.out.find("forever") > table.out.find("49s"));  // the table has the same order
  CHECK(table.out.find("no TTL") > table.out.find("3m19s"));

  // 300k sessions: sorted with --limit, only the 10 kept rows are held (was ~490 B per session).
  server.cli({"EVAL",
              "for i = 1, tonumber(ARGV[1]) do redis.call('SET', 'state:s' .. i, ARGV[2], 'EX', 1000 + i % 5000) end "
              "return 1",
              "0", "300000", kState});
  const long limit_kb = testsupport::kAsan ? 256 * 1024 : 64 * 1024;
  const auto top = testsupport::run_measured(
      {"-u", server.url(), "list", "--sort", "ttl", "--limit", "10", "-o", "jsonl"}, {}, 120000);
  INFO(top.result.err);
  REQUIRE(top.result.exit_code == 0);
  CHECK(std::count(top.result.out.begin(), top.result.out.end(), '\n') == 10);
  INFO("max RSS --sort ttl --limit 10 on 300k: " << top.max_rss_kb << " KiB");
  // ASan's quarantine holds freed memory: the bound is checked in the normal build.
  if (!testsupport::kAsan) CHECK(top.max_rss_kb < limit_kb);
  CHECK(top.result.out.find("\"ttl_ms\":-1") == std::string::npos);
  const auto all = testsupport::run_measured({"-u", server.url(), "list", "--sort", "ttl", "-o", "jsonl"}, {}, 120000);
  REQUIRE(all.result.exit_code == 0);
  CHECK(std::count(all.result.out.begin(), all.result.out.end(), '\n') == 300004);
  CHECK(all.result.out.substr(all.result.out.rfind('\n', all.result.out.size() - 2) + 1).find("\"id\":\"forever\"") !=
        std::string::npos);
  INFO("max RSS --sort ttl on 300k: " << all.max_rss_kb << " KiB");
  // ASan's quarantine holds freed memory: the bound is checked in the normal build.
  if (!testsupport::kAsan) CHECK(all.max_rss_kb < (testsupport::kAsan ? 384 * 1024 : 96 * 1024));
}
