// PII masking wherever a stored value or id reaches output (issue 11 items 5 and 6), against a real
// redis-server: the inspect header, list's table and JSON, stats' states, doctor's examples and fix
// lines. Masked unless --reveal; --reveal shows the raw values and ids.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "process.h"
#include "redis_server.h"
#include "sessionctl_cli.h"

using Catch::Matchers::Contains;
using nlohmann::json;
using testsupport::RedisServer;
using testsupport::RunResult;
using testsupport::sctl;
using testsupport::sctl_json;

namespace {

// Every stored value and id below that must never reach output unrevealed.
const std::vector<std::string> kSecrets = {"zed@example.com",
                                           "john.doe@example.com",
                                           "14155550123",
                                           "07700900123",
                                           "4111 1111 1111 1111",
                                           "4111-1111-1111-1111",
                                           "Johnathan",
                                           "x@y.com",
                                           "Quentin"};

void require_no_secret(const std::string& text) {
  for (const auto& secret : kSecrets) {
    INFO("leaked: " << secret);
    CHECK_THAT(text, !Contains(secret));
  }
}

// btrix sessions whose state, id and fields hold personal data, plus an ordinary one.
void load_sessions(const RedisServer& server) {
  server.cli({"SET", "state:plain", R"({"current":"BOOK_EMAIL","data":{}})", "EX", "3600"});
  server.cli({"SET", "state:s1", R"({"current":"mail zed@example.com","data":{}})", "EX", "3600"});
  server.cli({"SET", "state:s2", R"({"current":"mail zed@example.com","data":{}})", "EX", "3600"});
  server.cli({"SET", "state:s3", R"({"current":"card 4111-1111-1111-1111","data":{}})", "EX", "3600"});
  server.cli({"SET", "state:john.doe@example.com",
              R"({"current":"call 07700900123","data":{"profile":{"firstName":"Johnathan","contactName":"Quentin",
                  "mobile":"4155550123"}},"note":"pay with 4111 1111 1111 1111, mail x@y.com"})",
              "EX", "3600"});
  server.cli({"SET", "state:+14155550123", R"({"current":"BOOK_NAME","data":{}})", "EX", "3600"});
}

}  // namespace

TEST_CASE("the state field is masked in the inspect header, list, and stats, --reveal shows it", "[masking]") {
  RedisServer server;
  load_sessions(server);

  SECTION("inspect header") {
    RunResult r = sctl(server, {"inspect", "s1"});
    INFO(r);
    REQUIRE(r.exit_code == 0);
    CHECK_THAT(r.out, Contains(", state mail ze***@example.com"));
    require_no_secret(r.out);
    json doc = sctl_json(server, {"inspect", "s1"});
    CHECK(doc["sessions"][0]["state"] == "mail ze***@example.com");
    RunResult revealed = sctl(server, {"--reveal", "inspect", "s1"});
    CHECK_THAT(revealed.out, Contains(", state mail zed@example.com"));
  }
  SECTION("list --wide table and JSON") {
    RunResult r = sctl(server, {"list", "--wide"});
    INFO(r);
    REQUIRE(r.exit_code == 0);
    CHECK_THAT(r.out, Contains("mail ze***@example.com"));
    CHECK_THAT(r.out, Contains("card ***1111"));
    CHECK_THAT(r.out, Contains("BOOK_EMAIL"));  // ordinary states are shown as they are
    require_no_secret(r.out);
    for (const auto* format : {"json", "jsonl"}) {
      RunResult j = sctl(server, {"list", "--wide", "-o", format});
      INFO(j);
      REQUIRE(j.exit_code == 0);
      require_no_secret(j.out);
      CHECK_THAT(j.out, Contains(R"("state":"mail ze***@example.com")"));
    }
    RunResult revealed = sctl(server, {"--reveal", "list", "--wide", "-o", "jsonl"});
    CHECK_THAT(revealed.out, Contains(R"("state":"mail zed@example.com")"));
  }
  SECTION("stats table and JSON count states that mask alike together") {
    RunResult r = sctl(server, {"stats", "--profile", "btrix"});
    INFO(r);
    REQUIRE(r.exit_code == 0);
    CHECK_THAT(r.out, Contains("mail ze***@example.com"));
    require_no_secret(r.out);
    json doc = sctl_json(server, {"stats", "--profile", "btrix"});
    require_no_secret(doc.dump());
    const json& states = doc["profiles"][0]["states"];
    CHECK(states["mail ze***@example.com"] == 2);
    CHECK(states["card ***1111"] == 1);
    CHECK(states["call ***0123"] == 1);
    CHECK(states["BOOK_EMAIL"] == 1);
    json revealed = sctl_json(server, {"--reveal", "stats", "--profile", "btrix"});
    CHECK(revealed["profiles"][0]["states"]["mail zed@example.com"] == 2);
  }
}

TEST_CASE("ids that are e-mail addresses or phone numbers are masked in every output", "[masking][ids]") {
  RedisServer server;
  load_sessions(server);

  SECTION("list table, JSON and JSON lines") {
    RunResult r = sctl(server, {"list"});
    INFO(r);
    REQUIRE(r.exit_code == 0);
    CHECK_THAT(r.out, Contains("jo***@example.com"));
    CHECK_THAT(r.out, Contains("***0123"));
    CHECK_THAT(r.out, Contains("plain"));
    require_no_secret(r.out);
    json doc = sctl_json(server, {"list"});
    require_no_secret(doc.dump());
    int masked = 0;
    for (const auto& s : doc["sessions"]) {
      if (s["id"] == "plain" || s["id"] == "s1") CHECK_FALSE(s.contains("id_masked"));
      if (s.value("id_masked", false)) ++masked;
    }
    CHECK(masked == 2);
    RunResult jl = sctl(server, {"list", "-o", "jsonl"});
    require_no_secret(jl.out);
    CHECK_THAT(jl.out, Contains(R"({"id":"jo***@example.com","id_masked":true)"));
  }
  SECTION("--reveal gives the raw id, which inspect accepts") {
    json doc = sctl_json(server, {"--reveal", "list", "--match", "*@*"});
    REQUIRE(doc["sessions"].size() == 1);
    CHECK(doc["sessions"][0]["id"] == "john.doe@example.com");
    CHECK_FALSE(doc["sessions"][0].contains("id_masked"));
    RunResult r = sctl(server, {"inspect", doc["sessions"][0]["id"].get<std::string>()});
    INFO(r);
    CHECK(r.exit_code == 0);
  }
  SECTION("inspect header, keys and body; the body masks fields by their names") {
    RunResult r = sctl(server, {"inspect", "john.doe@example.com", "+14155550123"});
    INFO(r);
    REQUIRE(r.exit_code == 0);
    require_no_secret(r.out);
    CHECK_THAT(r.out, Contains("btrix jo***@example.com"));
    CHECK_THAT(r.out, Contains("state:jo***@example.com"));
    CHECK_THAT(r.out, Contains("btrix ***0123"));
    CHECK_THAT(r.out, Contains("\"J***\""));
    CHECK_THAT(r.out, Contains("\"Q***\""));
    json doc = sctl_json(server, {"inspect", "john.doe@example.com"});
    require_no_secret(doc.dump());
    const json& s = doc["sessions"][0];
    CHECK(s["id"] == "jo***@example.com");
    CHECK(s["id_masked"] == true);
    CHECK(s["key_details"][0]["key"] == "state:jo***@example.com");
    CHECK(s["key_details"][0]["value"]["data"]["profile"]["mobile"] == "***0123");
    CHECK(s["key_details"][0]["value"]["note"] == "pay with ***1111, mail ***@y.com");
    json revealed = sctl_json(server, {"--reveal", "inspect", "john.doe@example.com"});
    CHECK(revealed["sessions"][0]["key_details"][0]["key"] == "state:john.doe@example.com");
    CHECK(revealed["sessions"][0]["key_details"][0]["value"]["data"]["profile"]["firstName"] == "Johnathan");
  }
  SECTION("inspect's suggestions for a missing id are masked") {
    RunResult r = sctl(server, {"inspect", "john.doe@example.co"});
    INFO(r);
    CHECK(r.exit_code == 5);
    CHECK_THAT(r.err, Contains("did you mean: jo***@example.com?"));
    CHECK_THAT(r.err, !Contains("john.doe@example.com"));
  }
  SECTION("stats says nothing of ids") {
    RunResult r = sctl(server, {"stats"});
    require_no_secret(r.out + r.err);
  }
}

TEST_CASE("doctor masks its examples and never prints a fix with a masked id", "[masking][doctor]") {
  RedisServer server;
  server.cli({"SET", "state:john.doe@example.com", R"({"current":"BOOK_NAME","data":{)", "EX", "3600"});
  server.cli({"SET", "state:+14155550123", R"({"current":)", "EX", "3600"});
  // An index entry whose session is gone, with an address as its member.
  server.cli({"ZADD", "trt:active_sessions", "1700000000", "zed@example.com"});

  RunResult r = sctl(server, {"doctor"});
  INFO(r);
  CHECK(r.exit_code == 1);
  require_no_secret(r.out + r.err);
  CHECK_THAT(r.out, Contains("jo***@example.com"));
  CHECK_THAT(r.out, Contains("***0123"));
  CHECK_THAT(r.out, Contains("trt:active_sessions → ze***@example.com"));
  CHECK_THAT(r.out, Contains("note: some ids are personal data and shown masked"));

  json doc = sctl_json(server, {"doctor"}, 1);
  require_no_secret(doc.dump());
  bool seen = false;
  for (const auto& f : doc["findings"]) {
    if (f["code"] != "corrupt_json") continue;
    seen = true;
    CHECK_THAT(f["fix"].get<std::string>(), Contains("ID…"));  // a template, not a fix naming masked ids
    CHECK_THAT(f["note"].get<std::string>(), Contains("--reveal"));
  }
  CHECK(seen);

  SECTION("with --reveal the fix names the ids, quoted for the shell") {
    json revealed = sctl_json(server, {"--reveal", "doctor"}, 1);
    for (const auto& f : revealed["findings"]) {
      if (f["code"] != "corrupt_json") continue;
      const auto fix = f["fix"].get<std::string>();
      CHECK_THAT(fix, Contains("-- "));
      CHECK_THAT(fix, Contains("john.doe@example.com"));
      CHECK_THAT(fix, Contains("+14155550123"));
      CHECK_FALSE(f.contains("note"));
    }
  }
}
