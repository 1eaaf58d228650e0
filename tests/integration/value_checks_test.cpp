// Checks on the bytes and shape of session values that every path must agree on (issues 6 and 11):
// one strict UTF-8 validator, a JSON nesting limit, wrong_shape and bad_timestamp. Real redis-server.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <ctime>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "process.h"
#include "redis_server.h"
#include "sessionctl_cli.h"
#include "temp_dir.h"

namespace {

using Catch::Matchers::Contains;
using nlohmann::json;
using testsupport::RedisServer;
using testsupport::RunResult;
using testsupport::sctl;
using testsupport::sctl_json;

// The session with this id in a list/inspect document.
json session_of(const json& doc, const std::string& id) {
  for (const auto& s : doc["sessions"]) {
    if (s["id"] == id) return s;
  }
  FAIL("no session " << id << " in " << doc.dump());
  return {};
}

bool has_problem(const json& session, const std::string& problem) {
  const auto& p = session["problems"];
  return std::find(p.begin(), p.end(), problem) != p.end();
}

// The count of `problem` in stats' btrix profile.
long long stats_count(const json& stats, const std::string& profile, const std::string& problem) {
  for (const auto& p : stats["profiles"]) {
    if (p["profile"] == profile) return p["problems"].value(problem, 0LL);
  }
  return 0;
}

// The finding of doctor with this code (on this profile), or null.
json finding(const json& doctor, const std::string& code, const std::string& profile = "btrix") {
  for (const auto& f : doctor["findings"]) {
    if (f["code"] == code && f["profile"] == profile) return f;
  }
  return nullptr;
}

// One btrix session holding `value`, written byte for byte.
void set_btrix(const RedisServer& server, const std::string& id, const std::string& value) {
  server.cli({"SET", "state:" + id, value, "EX", "3600"});
}

// A value of `levels` nested arrays, built by the server (too long for one argv string).
void set_deep(const RedisServer& server, const std::string& key, int levels) {
  server.cli({"EVAL", "redis.call('SET', KEYS[1], string.rep('[', ARGV[1]) .. string.rep(']', ARGV[1]), 'EX', 3600)",
              "1", key, std::to_string(levels)});
}

}  // namespace

TEST_CASE("bytes that are not UTF-8 are caught the same way by list, stats, doctor and inspect", "[values][utf8]") {
  // Issue 6 item 5: the probe took overlong forms, so list and doctor passed what inspect called corrupt.
  RedisServer server;
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"overlong2", "\xc0\xaf"},         {"overlong3", "\xe0\x80\xaf"},
      {"overlong4", "\xf0\x80\x80\xaf"}, {"surrogate", "\xed\xa0\x80"},
      {"lowsurrogate", "\xed\xbf\xbf"},  {"above10ffff", "\xf4\x90\x80\x80"},
      {"f5lead", "\xf5\x80\x80\x80"},    {"stray", "\x80"},
      {"truncated", "\xe2\x82"},
  };
  for (const auto& [id, bytes] : bad) set_btrix(server, id, "{\"current\":\"" + bytes + "\"}");
  set_btrix(server, "good", "{\"current\":\"\xf4\x8f\xbf\xbf \xe2\x82\xac\"}");

  const json wide = sctl_json(server, {"list", "--wide"});
  for (const auto& [id, bytes] : bad) {
    INFO(id);
    CHECK(has_problem(session_of(wide, id), "binary_value"));
  }
  CHECK(session_of(wide, "good")["problems"].empty());

  const json stats = sctl_json(server, {"stats"});
  CHECK(stats_count(stats, "btrix", "binary_value") == static_cast<long long>(bad.size()));

  const json doctor = sctl_json(server, {"doctor"}, 1);
  const json f = finding(doctor, "binary_value");
  REQUIRE(f.is_object());
  CHECK(f["count"] == bad.size());

  for (const auto& [id, bytes] : bad) {
    INFO(id);
    const json doc = sctl_json(server, {"inspect", id});
    const json& key = doc["sessions"][0]["key_details"][0];
    CHECK(key["encoding"] == "corrupt");
    CHECK_THAT(key["reason"].get<std::string>(), Contains("UTF-8"));
    CHECK(has_problem(doc["sessions"][0], "binary_value"));
  }
  CHECK(sctl_json(server, {"inspect", "good"})["sessions"][0]["key_details"][0]["encoding"] == "json");
  const RunResult table = sctl(server, {"inspect", "overlong2"});
  CHECK(table.exit_code == 0);
  CHECK_THAT(table.out, Contains("(not valid JSON: invalid UTF-8 at byte 12; shown by length, --reveal shows it) "
                                 "[redacted: 16 chars]"));
}

TEST_CASE("JSON nested beyond the limit is corrupt with a reason everywhere, in bounded output", "[values][depth]") {
  // Issue 11 item 1: 100,000 levels crashed inspect (exit 139); 10,000 made 400 MB of output.
  RedisServer server;
  set_deep(server, "state:deep100k", 100000);
  set_deep(server, "state:deep10k", 10000);
  set_deep(server, "state:deep65", 65);
  set_deep(server, "state:deep64", 64);
  // A hash field and a history item holding deep JSON (the masker and the item decoder).
  server.cli({"EVAL",
              "redis.call('HSET', KEYS[1], 'current_stage', 'stage_1_goal', 'stage_1_completion', "
              "string.rep('[', 100000) .. string.rep(']', 100000)); redis.call('EXPIRE', KEYS[1], 3600); "
              "redis.call('RPUSH', KEYS[2], string.rep('{\"a\":', 10000) .. '1' .. string.rep('}', 10000)); "
              "redis.call('EXPIRE', KEYS[2], 3600)",
              "2", "trt:session:deep:state", "trt:session:deep:history"});
  const std::vector<std::string> deep = {"deep100k", "deep10k", "deep65"};
  constexpr std::size_t kBound = 64 * 1024;

  for (const std::string format : {"table", "json", "jsonl"}) {
    for (const std::string id : {"deep100k", "deep10k", "deep65", "deep"}) {
      for (const bool reveal : {false, true}) {
        INFO(format << " " << id << " reveal " << reveal);
        std::vector<std::string> args = {"inspect", id, "-o", format};
        if (reveal) args.push_back("--reveal");
        const RunResult r = sctl(server, args);
        INFO(r.err);
        CHECK(r.exit_code == 0);
        CHECK(r.out.size() < kBound);
        if (id == "deep") {
          CHECK_THAT(r.out, Contains("[redacted: 200000 chars]"));
          CHECK_THAT(r.out, Contains("[redacted: 60001 chars]"));
        } else {
          CHECK_THAT(r.out, Contains("nested deeper than 64 levels"));
          CHECK_THAT(r.out, Contains("[redacted: "));
        }
      }
    }
  }
  const json doc = sctl_json(server, {"inspect", "deep10k"});
  const json& key = doc["sessions"][0]["key_details"][0];
  CHECK(key["encoding"] == "corrupt");
  CHECK(key["reason"] == "nested deeper than 64 levels at byte 64");
  CHECK(key["value"] == "[redacted: 20000 chars]");
  CHECK(has_problem(doc["sessions"][0], "corrupt_json"));
  // At the limit it is JSON, printed whole.
  CHECK(sctl_json(server, {"inspect", "deep64"})["sessions"][0]["key_details"][0]["encoding"] == "json");

  const RunResult list = sctl(server, {"list", "--wide", "-o", "json"});
  REQUIRE(list.exit_code == 0);
  CHECK(list.out.size() < kBound);
  const json listed = json::parse(list.out);
  for (const auto& id : deep) CHECK(has_problem(session_of(listed, id), "corrupt_json"));
  CHECK_FALSE(has_problem(session_of(listed, "deep64"), "corrupt_json"));
  CHECK(has_problem(session_of(listed, "deep64"), "wrong_shape"));  // JSON, but btrix stores an object
  CHECK(has_problem(session_of(listed, "deep"), "corrupt_json"));   // the history item
  const RunResult table = sctl(server, {"list", "--wide"});
  CHECK(table.exit_code == 0);
  CHECK(table.out.size() < kBound);

  for (const std::string where : {"current=x", "0=x", "stage_1_completion.0=x"}) {
    INFO(where);
    const RunResult r = sctl(server, {"list", "--where", where, "-o", "json"});
    CHECK(r.exit_code == 0);
    CHECK(json::parse(r.out)["sessions"].empty());
  }

  const RunResult doctor = sctl(server, {"doctor", "-o", "json"});
  CHECK(doctor.exit_code == 1);
  CHECK(doctor.out.size() < kBound);
  const json found = json::parse(doctor.out);
  const json f = finding(found, "corrupt_json");
  REQUIRE(f.is_object());
  CHECK(f["count"] == 3);
  CHECK(finding(found, "corrupt_json", "trt").is_object());  // the history item
  const RunResult stats = sctl(server, {"stats", "-o", "json"});
  CHECK(stats.exit_code == 0);
  CHECK(stats_count(json::parse(stats.out), "btrix", "corrupt_json") == 3);
}

TEST_CASE("a profiles file nested beyond the limit is refused with its line, not a crash", "[values][depth]") {
  RedisServer server;
  testsupport::TempDir dir;
  const std::string deep = "{\n\"profiles\": " + std::string(100000, '[') + std::string(100000, ']') + "}";
  const RunResult r = sctl(server, {"--profiles-file", dir.write("deep.json", deep), "list"});
  CHECK(r.exit_code == 2);
  CHECK(r.out.empty());
  CHECK_THAT(r.err, Contains("deep.json:2: not valid JSON: arrays and objects nested deeper than 64 levels"));
}

TEST_CASE("JSON of a shape the profile does not fit is wrong_shape in list, stats and doctor", "[values][shape]") {
  // Issue 11 item 9: these were listed as clean btrix sessions.
  RedisServer server;
  const std::vector<std::pair<std::string, std::string>> wrong = {
      {"array", "[1,2,3]"},
      {"number", "42"},
      {"null", "null"},
      {"string", "\"just a string\""},
      {"nested", R"({"current":{"nested":["x"]},"data":[1,2]})"},
      {"statelist", R"({"current":["MENU"]})"},
      {"datalist", R"({"current":"MENU","data":[1,2]})"},
      {"datastring", R"({"current":"MENU","data":"john@example.com"})"},
  };
  for (const auto& [id, value] : wrong) set_btrix(server, id, value);
  set_btrix(server, "fine", R"({"current":"MENU","data":{"name":"Jo"},"history":[]})");
  set_btrix(server, "nullstate", R"({"current":null,"data":{}})");  // no state yet: not wrong
  // Telegram's state is a boolean the profile labels; a list there is wrong.
  server.cli(
      {"SET", "session:tg-ok", R"({"chatId":-100,"open":true,"participants":["@a"],"proposals":[]})", "EX", "3600"});
  server.cli({"SET", "session:tg-bad", R"({"chatId":-100,"open":[true],"participants":"@a"})", "EX", "3600"});

  const json wide = sctl_json(server, {"list", "--wide"});
  for (const auto& [id, value] : wrong) {
    INFO(id << " = " << value);
    const json s = session_of(wide, id);
    CHECK(s["profile"] == "btrix");
    CHECK(has_problem(s, "wrong_shape"));
    CHECK_FALSE(has_problem(s, "corrupt_json"));
  }
  CHECK(session_of(wide, "nested")["state"].is_null());  // an object is no state to show
  CHECK(session_of(wide, "fine")["problems"].empty());
  CHECK(session_of(wide, "nullstate")["problems"].empty());
  CHECK(session_of(wide, "tg-ok")["problems"].empty());
  CHECK(session_of(wide, "tg-ok")["state"] == "open");
  CHECK(session_of(wide, "tg-bad")["profile"] == "telegram");
  CHECK(has_problem(session_of(wide, "tg-bad"), "wrong_shape"));
  CHECK(wide["summary"]["problems"]["wrong_shape"] == wrong.size() + 1);
  const RunResult table = sctl(server, {"list", "--wide"});
  CHECK_THAT(table.out, Contains("wrong_shape"));

  CHECK(stats_count(sctl_json(server, {"stats"}), "btrix", "wrong_shape") == static_cast<long long>(wrong.size()));

  const json doctor = sctl_json(server, {"doctor"}, 1);
  const json f = finding(doctor, "wrong_shape");
  REQUIRE(f.is_object());
  CHECK(f["count"] == wrong.size());
  CHECK(f["severity"] == "error");
  // The fix is inspect on the sessions; with their ids in it, it runs as given.
  CHECK_THAT(f["fix"].get<std::string>(), Catch::Matchers::StartsWith("sessionctl inspect --profile btrix "));
  const json tg = finding(doctor, "wrong_shape", "telegram");
  REQUIRE(tg.is_object());
  CHECK(tg["fix"] == "sessionctl inspect --profile telegram -- tg-bad");
  CHECK(sctl(server, {"inspect", "--profile", "telegram", "--", "tg-bad"}).exit_code == 0);
  std::vector<std::string> args = {"inspect", "--profile", "btrix", "--"};
  for (const auto& e : f["examples"]) args.push_back(e.get<std::string>());
  CHECK(sctl(server, args).exit_code == 0);
}

TEST_CASE("activity times out of range or in the future are bad_timestamp, never a wrapped time",
          "[values][timestamp]") {
  // Issue 11 item 10: 1e300 printed "-219246529-01-00T08:29:52Z" and idle_ms -9223372036854775808.
  RedisServer server;
  const double now = std::floor(static_cast<double>(std::time(nullptr)));
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"huge", "1e300"},
      {"negative", "-5"},
      {"zero", "0"},
      {"future", std::to_string(static_cast<long long>(now) + 86400)},
      {"futurems", std::to_string(static_cast<long long>(now + 86400) * 1000)},
      {"nan", "\"NaN\""},
      {"inf", "\"Infinity\""},
      {"hex", "\"0x5F5E100\""},
      {"words", "\"yesterday\""},
      {"year99999", "\"99999-01-01T00:00:00Z\""},
      {"isofuture", "\"2999-01-01T00:00:00Z\""},
      {"object", "{\"t\":1}"},
  };
  for (const auto& [id, t] : bad) set_btrix(server, id, R"({"current":"MENU","updatedAt":)" + t + "}");
  set_btrix(server, "recent",
            R"({"current":"MENU","updatedAt":)" + std::to_string(static_cast<long long>(now) - 60) + "}");
  set_btrix(server, "skew",
            R"({"current":"MENU","updatedAt":)" + std::to_string(static_cast<long long>(now) + 60) + "}");
  // TRT: the hash field and the index score.
  server.cli({"HSET", "trt:session:t1:state", "current_stage", "stage_1_goal", "last_interaction", "1e300"});
  server.cli({"EXPIRE", "trt:session:t1:state", "3600"});
  server.cli({"HSET", "trt:session:t2:state", "current_stage", "stage_1_goal"});
  server.cli({"EXPIRE", "trt:session:t2:state", "3600"});
  server.cli({"ZADD", "trt:active_sessions", "-5", "t2"});

  for (const std::string format : {"json", "jsonl"}) {
    const RunResult r = sctl(server, {"list", "--wide", "-o", format});
    REQUIRE(r.exit_code == 0);
    // No wrapped date and no negative idle time anywhere in the output.
    CHECK(r.out.find("\"idle_ms\":-") == std::string::npos);
    CHECK(r.out.find("-219246529") == std::string::npos);
  }
  const json wide = sctl_json(server, {"list", "--wide"});
  for (const auto& [id, t] : bad) {
    INFO(id << " = " << t);
    const json s = session_of(wide, id);
    CHECK(has_problem(s, "bad_timestamp"));
    CHECK(s["last_activity"].is_null());
    CHECK(s["idle_ms"].is_null());
  }
  for (const std::string id : {"t1", "t2"}) {
    INFO(id);
    CHECK(has_problem(session_of(wide, id), "bad_timestamp"));
    CHECK(session_of(wide, id)["idle_ms"].is_null());
  }
  const json recent = session_of(wide, "recent");
  CHECK(recent["problems"].empty());
  CHECK(recent["idle_ms"].get<long long>() >= 60000);
  CHECK(recent["idle_ms"].get<long long>() < 600000);
  const json skew = session_of(wide, "skew");  // a minute ahead: clock skew, not a problem
  CHECK(skew["problems"].empty());
  CHECK(skew["idle_ms"] == 0);
  // Every time that is written is RFC 3339.
  for (const auto& s : wide["sessions"]) {
    if (!s["last_activity"].is_string()) continue;
    const std::string t = s["last_activity"].get<std::string>();
    CHECK(t.size() == 20);
    CHECK(t[4] == '-');
    CHECK(t[10] == 'T');
    CHECK(t.back() == 'Z');
  }

  const RunResult table = sctl(server, {"list", "--wide"});
  CHECK(table.exit_code == 0);
  CHECK_THAT(table.out, Contains("bad_timestamp"));
  CHECK(table.out.find("20789d") == std::string::npos);

  CHECK(stats_count(sctl_json(server, {"stats"}), "btrix", "bad_timestamp") == static_cast<long long>(bad.size()));
  const json doctor = sctl_json(server, {"doctor"}, 1);
  const json f = finding(doctor, "bad_timestamp");
  REQUIRE(f.is_object());
  CHECK(f["count"] == bad.size());
  CHECK_THAT(f["fix"].get<std::string>(), Catch::Matchers::StartsWith("sessionctl inspect --profile btrix"));

  const json detail = sctl_json(server, {"inspect", "huge"});
  CHECK(detail["sessions"][0]["last_activity"].is_null());
  CHECK(has_problem(detail["sessions"][0], "bad_timestamp"));
  // --idle-over reads the same bounded time: a bad one is never "idle for 20789 days".
  const json idle = sctl_json(server, {"list", "--idle-over", "1d"});
  for (const auto& s : idle["sessions"]) CHECK_FALSE(has_problem(s, "bad_timestamp"));
}
