// Who sessionctl logs in as: the URL's user-info read as the apps' clients read it (a lone user-info is a
// user name).
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "process.h"
#include "redis_server.h"
#include "temp_dir.h"

using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
using testsupport::RedisServer;
using testsupport::RunResult;
using testsupport::ServerOptions;

namespace {

const std::string kSecret = "s3cr3t-Pa55";
const std::string kAdminSecret = "admin-" + kSecret;

RunResult sessionctl(const std::vector<std::string>& args, const testsupport::EnvOverrides& env = {}) {
  return testsupport::run_sessionctl(args, env, "", 30000);
}

// ACL LOG is empty: no AUTH failed (and no command was denied) since the server started.
bool no_failed_logins(const RedisServer& server) {
  return server.cli({"ACL", "LOG"}).find_first_not_of(" \r\n") == std::string::npos;
}

// A server whose default user has another password than `stateonly`: logging in with the wrong user fails.
ServerOptions two_users() {
  return ServerOptions{.requirepass = kAdminSecret, .acl_users = {"stateonly on >" + kSecret + " ~* +@all"}};
}

}  // namespace

TEST_CASE("a lone user-info in the URL is the user name; the password comes from the other sources", "[login][url]") {
  RedisServer server(two_users());
  const std::string url = server.url("stateonly");

  SECTION("REDISCLI_AUTH") {
    const RunResult r = sessionctl({"status", "-o", "json", "-u", url}, {{"REDISCLI_AUTH", kSecret}});
    INFO(r);
    REQUIRE(r.exit_code == 0);
    // The redacted URL names the user that logged in.
    CHECK_THAT(r.out, Contains("\"url\": \"" + server.url("stateonly:***") + "\""));
  }
  SECTION("REDIS_PASSWORD") {
    const RunResult r = sessionctl({"status", "-u", url}, {{"REDIS_PASSWORD", kSecret}});
    INFO(r);
    CHECK(r.exit_code == 0);
  }
  SECTION("--password-file") {
    testsupport::TempDir dir;
    const RunResult r = sessionctl({"status", "-u", url, "--password-file", dir.write("pw", kSecret + "\n")});
    INFO(r);
    CHECK(r.exit_code == 0);
  }
  SECTION("REDIS_URL, as the apps read it") {
    const RunResult r = sessionctl({"status"}, {{"REDIS_URL", url}, {"REDISCLI_AUTH", kSecret}});
    INFO(r);
    CHECK(r.exit_code == 0);
  }
  SECTION("no password anywhere: exit 4 saying a user name alone is not a password") {
    const RunResult r = sessionctl({"status", "-u", url});
    INFO(r);
    CHECK(r.exit_code == 4);
    CHECK_THAT(r.err, StartsWith("sessionctl: error: the server requires a password"));
    CHECK_THAT(r.err, Contains("user-info without ':' is a user name"));
    CHECK(r.err.find("stateonly") == std::string::npos);  // it may have been meant as a password
  }
  SECTION("':password' is still a password for the default user") {
    const RunResult r = sessionctl({"status", "-u", server.url(":" + kAdminSecret)});
    INFO(r);
    CHECK(r.exit_code == 0);
  }
  // No failed login of any kind: never "default" with the password "stateonly".
  CHECK(no_failed_logins(server));
}
