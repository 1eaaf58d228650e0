// The framework session stores built in: each detected among all the others on one server (lock and
// bookkeeping keys not taken for sessions), and a serialized value shown by size with its printable runs,
// e-mail addresses masked, never unpickled.
#include <catch2/catch.hpp>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "redis_server.h"
#include "sessionctl_cli.h"

using Catch::Matchers::Contains;
using nlohmann::json;
using testsupport::RedisServer;
using testsupport::RunResult;
using testsupport::sctl;

TEST_CASE("framework stores are detected among the seed stores, and serialized values are shown masked",
          "[profiles][integration]") {
  RedisServer server;
  server.cli_script(testsupport::fixture("sample_sessions.redis"));
  // What each library writes (the bytes of pickle protocol 2 and Ruby Marshal 4.8 of a small dict/hash).
  server.cli_script(
      "SET sess:K7dZ \"{\\\"cookie\\\":{\\\"originalMaxAge\\\":86400000,\\\"httpOnly\\\":true,\\\"path\\\":\\\"/\\\"},"
      "\\\"user\\\":{\\\"email\\\":\\\"ann@example.com\\\"}}\" EX 86400\n"
      "HSET spring:session:sessions:7f3e creationTime \"\\xac\\xed\\x00\\x05sr\\x00\\x0ejava.lang.Long\" "
      "maxInactiveInterval \"\\xac\\xed\\x00\\x05sr\\x00\\x11java.lang.Integer\"\n"
      "EXPIRE spring:session:sessions:7f3e 2100\n"
      "SET spring:session:sessions:expires:7f3e \"\" EX 1800\n"
      "SET PHPREDIS_SESSION:q1w2e3 \"user|s:15:\\\"bob@example.org\\\";count|i:3;\" EX 1440\n"
      "SET PHPREDIS_SESSION:q1w2e3_LOCK 1 EX 30\n"
      "SET :1:django.contrib.sessions.cachex9y8 "
      "\"\\x80\\x02}q\\x00X\\x05\\x00\\x00\\x00emailq\\x01X\\x0f\\x00\\x00\\x00"
      "carl@example.netq\\x02s.\" EX 1209600\n"
      "SET rack:session:2::ab12 "
      "\"\\x04\\x08{\\x06I\\\"\\x0aemail\\x06:\\x06ETI\\\"\\x15dana@example.com\\x06;\\x00T\"\n");

  const RunResult r = sctl(server, {"list", "-o", "jsonl", "--reveal"});
  INFO(r);
  REQUIRE(r.exit_code == 0);
  std::map<std::string, std::string> profile_of;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) {
    const json j = json::parse(line);
    profile_of[j.at("id").get<std::string>()] = j.at("profile").get<std::string>();
  }
  CHECK(profile_of.at("K7dZ") == "connect-redis");
  CHECK(profile_of.at("7f3e") == "spring");
  CHECK(profile_of.at("q1w2e3") == "php");
  CHECK(profile_of.at("x9y8") == "django");
  CHECK(profile_of.at("2::ab12") == "rails");
  CHECK(profile_of.count("q1w2e3_LOCK") == 0);  // phpredis's lock key is no session
  CHECK(profile_of.at("test-session-123") == "btrix");

  const json spring = testsupport::sctl_json(server, {"inspect", "7f3e"});
  CHECK(spring.at("sessions").at(0).at("keys") == 2);  // the hash and the indexed repository's :expires key

  // Spring's own fields as Java wrote them (tests/fixtures/jdk, made by the JDK): decoded, not opaque.
  const auto jdk = [](const std::string& name) {
    return testsupport::read_file(std::string(SESSIONCTL_SOURCE_DIR) + "/tests/fixtures/jdk/" + name);
  };
  REQUIRE(server
              .cli_run({"-x", "HSET", "spring:session:sessions:c0ffee", "creationTime"}, std::nullopt,
                       jdk("long_1733300000000.ser"))
              .exit_code == 0);
  REQUIRE(server
              .cli_run({"-x", "HSET", "spring:session:sessions:c0ffee", "maxInactiveInterval"}, std::nullopt,
                       jdk("int_1800.ser"))
              .exit_code == 0);
  REQUIRE(
      server
          .cli_run({"-x", "HSET", "spring:session:sessions:c0ffee", "sessionAttr:when"}, std::nullopt, jdk("date.ser"))
          .exit_code == 0);
  const json decoded = testsupport::sctl_json(server, {"inspect", "c0ffee"});
  const json& fields = decoded.at("sessions").at(0).at("key_details").at(0).at("value");
  INFO(fields.dump());
  CHECK(fields.at("creationTime") == 1733300000000LL);
  CHECK(fields.at("maxInactiveInterval") == 1800);
  CHECK(fields.at("sessionAttr:when").at("__class") == "java.util.Date");

  // PHP's session serialization, decoded and masked by the same rules as JSON.
  const json php = testsupport::sctl_json(server, {"inspect", "q1w2e3"});
  const json& php_value = php.at("sessions").at(0).at("key_details").at(0);
  CHECK(php_value.at("encoding") == "php-session");
  CHECK(php_value.at("value").at("count") == 3);
  CHECK(php_value.at("value").at("user") == "bo***@example.org");

  const json django = testsupport::sctl_json(server, {"inspect", "x9y8"});
  const json& shown = django.at("sessions").at(0).at("key_details").at(0);
  CHECK(shown.at("encoding") == "pickle");
  CHECK(shown.at("value").at("bytes").get<int>() > 20);
  const std::string text = shown.at("value").dump();
  CHECK(text.find("carl@example.net") == std::string::npos);
  CHECK_THAT(text, Contains("@example.net"));  // masked in place: ca***@example.net
  const json rails = testsupport::sctl_json(server, {"inspect", "2::ab12"});
  CHECK(rails.at("sessions").at(0).at("key_details").at(0).at("value").dump().find("dana@example.com") ==
        std::string::npos);
  const json revealed = testsupport::sctl_json(server, {"inspect", "x9y8", "--reveal"});
  CHECK_THAT(revealed.at("sessions").at(0).at("key_details").at(0).at("value").dump(), Contains("carl@example.net"));
}

TEST_CASE(
    "doctor finds Spring's :expires key outliving its session and Rails sessions without a TTL, and cleanup and "
    "delete take Spring's bookkeeping with the session",
    "[profiles][integration]") {
  RedisServer server;
  server.cli_script(
      "HSET spring:session:sessions:live1 creationTime 1\n"
      "EXPIRE spring:session:sessions:live1 2100\n"
      "SET spring:session:sessions:expires:live1 \"\" EX 1800\n"
      "SET spring:session:sessions:expires:gone1 \"\" EX 1800\n"
      "SET rack:session:r1 \"\\x04\\x08{\\x00\"\n"
      "SET unrelated keep\n");
  const json doctor = testsupport::sctl_json(server, {"doctor"}, 1);
  bool spring_orphan = false, rails_no_ttl = false;
  for (const auto& f : doctor.at("findings")) {
    INFO(f.dump());
    if (f.at("profile") == "spring" && f.at("code") == "orphan") {
      spring_orphan = true;
      CHECK(f.at("count") == 1);  // gone1's marker; live1's has its session
    }
    if (f.at("profile") == "rails" && f.at("code") == "no_ttl") rails_no_ttl = true;
  }
  CHECK(spring_orphan);
  CHECK(rails_no_ttl);

  const RunResult cleanup = sctl(server, {"cleanup", "--profile", "spring", "--yes"});
  INFO(cleanup);
  CHECK(cleanup.exit_code == 0);
  CHECK(server.cli({"EXISTS", "spring:session:sessions:expires:gone1"}) == "0\n");
  CHECK(server.cli({"EXISTS", "spring:session:sessions:expires:live1"}) == "1\n");

  const RunResult del = sctl(server, {"delete", "live1", "--yes"});
  INFO(del);
  CHECK(del.exit_code == 0);
  CHECK(server.cli({"EXISTS", "spring:session:sessions:live1", "spring:session:sessions:expires:live1"}) == "0\n");
  CHECK(server.cli({"GET", "unrelated"}) == "keep\n");
}
