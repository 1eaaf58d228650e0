// What status states as fact: only what the server said. Unknown is null in JSON and "unknown" (or the
// reason) in the table; nothing is inferred from a denied command.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "render/terminal.h"
#include "report/status.h"

using Catch::Matchers::Contains;
using nlohmann::json;
using sessionctl::StatusReport;
using sessionctl::Terminal;
using sessionctl::redis::NoTouch;

namespace {

StatusReport report(std::optional<bool> aof, std::optional<std::string> rdb_save) {
  StatusReport r;
  r.url = "redis://h:6379/0";
  r.url_source = "default";
  r.aof_enabled = aof;
  r.rdb_save_known = rdb_save.has_value();
  r.rdb_save = rdb_save.value_or("");
  return r;
}

// The "no-touch reads" line of the table.
std::string no_touch_row(const StatusReport& r) {
  const std::string table = sessionctl::render_status(r, Terminal::plain());
  const auto at = table.find("no-touch reads");
  REQUIRE(at != std::string::npos);
  return table.substr(at, table.find('\n', at) - at);
}

}  // namespace

TEST_CASE("persistence_off: true or false only when both AOF and RDB are known, or one is on", "[status][facts]") {
  CHECK(report(false, "").persistence_off() == true);
  CHECK(report(true, "").persistence_off() == false);
  CHECK(report(false, "3600 1").persistence_off() == false);
  CHECK(report(true, "3600 1").persistence_off() == false);
  // One known to be on is enough for "not off"…
  CHECK(report(true, std::nullopt).persistence_off() == false);
  CHECK(report(std::nullopt, "3600 1").persistence_off() == false);
  // …but "off" needs both: INFO denied (AOF unknown) or CONFIG denied (RDB unknown) is unknown.
  CHECK_FALSE(report(false, std::nullopt).persistence_off().has_value());
  CHECK_FALSE(report(std::nullopt, "").persistence_off().has_value());
  CHECK_FALSE(report(std::nullopt, std::nullopt).persistence_off().has_value());

  CHECK(sessionctl::status_to_json(report(false, "")).at("persistence").at("off") == true);
  CHECK(sessionctl::status_to_json(report(true, "")).at("persistence").at("off") == false);
  CHECK(sessionctl::status_to_json(report(std::nullopt, std::nullopt)).at("persistence").at("off").is_null());
  CHECK(sessionctl::status_to_json(report(false, std::nullopt)).at("persistence").at("off").is_null());
}

TEST_CASE("no-touch reads: the reason is the server's, never a guessed version", "[status][facts]") {
  StatusReport r = report(std::nullopt, std::nullopt);
  r.no_touch = NoTouch::on;
  CHECK_THAT(no_touch_row(r), Contains("yes"));
  CHECK(sessionctl::status_to_json(r).at("client_no_touch") == true);

  r.no_touch = NoTouch::denied;  // NOPERM says nothing about the version
  for (bool info_known : {true, false}) {
    r.info_known = info_known;
    CHECK_THAT(no_touch_row(r), Contains("no (not permitted for this user)"));
    CHECK(no_touch_row(r).find("7.2") == std::string::npos);
    CHECK(sessionctl::status_to_json(r).at("client_no_touch") == false);
  }

  r.no_touch = NoTouch::unsupported;
  r.info_known = true;
  CHECK_THAT(no_touch_row(r), Contains("no (Redis < 7.2)"));
  r.info_known = false;  // the server has no such subcommand, but which version it is, INFO did not say
  CHECK_THAT(no_touch_row(r), Contains("no (the server has no CLIENT NO-TOUCH)"));
  CHECK(no_touch_row(r).find("7.2") == std::string::npos);
}

TEST_CASE("status: the sentinels' view, in the table and in JSON, null without sentinels",
          "[status][facts][sentinel]") {
  StatusReport r = report(true, "3600 1");
  CHECK(sessionctl::status_to_json(r).at("sentinel").is_null());
  CHECK(sessionctl::render_status(r, Terminal::plain()).find("sentinel") == std::string::npos);

  sessionctl::redis::SentinelView v;
  v.master_name = "mymaster";
  v.primary = "10.0.0.7:6379";
  v.answered_by = "10.0.0.2:26379";
  v.sentinels = {"10.0.0.1:26379", "10.0.0.2:26379", "10.0.0.3:26379"};
  v.unreachable = {"10.0.0.1:26379"};
  v.known_sentinels = 3;
  v.reachable_sentinels = 2;
  v.quorum = 2;
  v.known_replicas = 1;
  r.sentinel = v;
  const std::string table = sessionctl::render_status(r, Terminal::plain());
  CHECK_THAT(table, Contains("sentinel master   mymaster at 10.0.0.7:6379 (answered by 10.0.0.2:26379)\n"));
  CHECK_THAT(table, Contains("sentinels         3 known, 2 reachable, quorum 2\n"));
  CHECK_THAT(table, Contains("no answer from    10.0.0.1:26379\n"));
  CHECK_THAT(table, Contains("replicas          1 known to the sentinels\n"));

  const json doc = sessionctl::status_to_json(r);
  CHECK(doc.at("version") == 1);  // fields added, none changed
  const json& s = doc.at("sentinel");
  CHECK(s.at("master_name") == "mymaster");
  CHECK(s.at("primary") == "10.0.0.7:6379");
  CHECK(s.at("answered_by") == "10.0.0.2:26379");
  CHECK(s.at("sentinels").size() == 3);
  CHECK(s.at("unreachable") == json::array({"10.0.0.1:26379"}));
  CHECK(s.at("known_sentinels") == 3);
  CHECK(s.at("reachable_sentinels") == 2);
  CHECK(s.at("quorum") == 2);
  CHECK(s.at("known_replicas") == 1);

  r.sentinel->quorum = -1;  // SENTINEL MASTER not permitted
  CHECK(sessionctl::status_to_json(r).at("sentinel").at("quorum").is_null());
  CHECK_THAT(sessionctl::render_status(r, Terminal::plain()), Contains("quorum ?"));
}
