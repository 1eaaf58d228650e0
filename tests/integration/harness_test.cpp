// Checks the integration-test harness itself against real redis-server, redis-cli and openssl.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "process.h"
#include "redis_server.h"
#include "scripted_peer.h"

using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
using testsupport::CliAuth;
using testsupport::RedisServer;
using testsupport::RunResult;
using testsupport::ScriptedPeer;
using testsupport::ServerOptions;
using testsupport::TlsClientAuth;

namespace {

// Sets an environment variable for one scope and restores the previous state afterwards.
class ScopedEnv {
 public:
  ScopedEnv(std::string name, const std::string& value) : name_(std::move(name)) {
    if (const char* old = std::getenv(name_.c_str())) old_ = old;
    ::setenv(name_.c_str(), value.c_str(), 1);
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;
  ~ScopedEnv() {
    if (old_) {
      ::setenv(name_.c_str(), old_->c_str(), 1);
    } else {
      ::unsetenv(name_.c_str());
    }
  }

 private:
  std::string name_;
  std::optional<std::string> old_;
};

// redis-cli pointed at a raw port without any harness flags, as an arbitrary client would be.
RunResult plain_cli(int port, const std::vector<std::string>& args, int timeout_ms = 10000) {
  std::vector<std::string> argv{"redis-cli", "-e", "-h", "127.0.0.1", "-p", std::to_string(port)};
  argv.insert(argv.end(), args.begin(), args.end());
  return testsupport::run(argv, {}, "", timeout_ms);
}

}  // namespace

TEST_CASE("run captures stdout, stderr and the exit code separately", "[harness]") {
  const RunResult r = testsupport::run({"sh", "-c", "echo out; echo err >&2; exit 3"});
  CHECK(r.out == "out\n");
  CHECK(r.err == "err\n");
  CHECK(r.exit_code == 3);
  CHECK_FALSE(r.timed_out);
}

TEST_CASE("run kills the process group on timeout", "[harness]") {
  const auto start = std::chrono::steady_clock::now();
  const RunResult r = testsupport::run({"sleep", "10"}, {}, "", 300);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  CHECK(r.timed_out);
  CHECK(r.exit_code == 128 + SIGKILL);
  CHECK(elapsed < std::chrono::seconds(3));

  // A grandchild holding the pipes open must be killed too, or run() would wait for it.
  const RunResult nested = testsupport::run({"sh", "-c", "sleep 10 & sleep 10; wait"}, {}, "", 300);
  CHECK(nested.timed_out);
}

TEST_CASE("run moves large stdin, stdout and stderr without deadlocking", "[harness]") {
  const std::string input(3'000'000, 'x');
  const RunResult echoed = testsupport::run({"cat"}, {}, input, 20000);
  CHECK_FALSE(echoed.timed_out);
  CHECK(echoed.out.size() == input.size());
  CHECK(echoed.out == input);

  const RunResult both = testsupport::run(
      {"sh", "-c", "head -c 2000000 /dev/zero >&2; head -c 2000000 /dev/zero; head -c 100 /dev/zero >&2"}, {}, "",
      20000);
  CHECK(both.exit_code == 0);
  CHECK(both.out.size() == 2'000'000);
  CHECK(both.err.size() == 2'000'100);
}

TEST_CASE("run strips Redis and sessionctl variables and applies overrides", "[harness]") {
  const ScopedEnv url("REDIS_URL", "redis://developer-machine:6379");
  const ScopedEnv auth("REDISCLI_AUTH", "real-password");
  const ScopedEnv no_color("NO_COLOR", "1");
  const ScopedEnv profile("SESSIONCTL_PROFILE", "prod");
  const ScopedEnv kept("HARNESS_KEPT", "kept");
  const ScopedEnv dropped("HARNESS_DROPPED", "dropped");
  const RunResult r = testsupport::run(
      {"sh", "-c",
       "echo ${REDIS_URL-unset} ${REDISCLI_AUTH-unset} ${NO_COLOR-unset} ${SESSIONCTL_PROFILE-unset} "
       "${HARNESS_KEPT-unset} ${HARNESS_DROPPED-unset} ${HARNESS_ADDED-unset} ${SESSIONCTL_URL-unset}"},
      {{"HARNESS_DROPPED", std::nullopt}, {"HARNESS_ADDED", "added"}, {"SESSIONCTL_URL", "redis://x"}});
  CHECK(r.out == "unset unset unset unset kept unset added redis://x\n");
}

TEST_CASE("run throws when the program cannot be started", "[harness]") {
  CHECK_THROWS_WITH(testsupport::run({"sessionctl-harness-no-such-program"}), Contains("not found"));
  CHECK_THROWS(testsupport::run({"/nonexistent/dir/program"}));
}

TEST_CASE("free_port returns a bindable loopback port", "[harness]") {
  const int port = testsupport::free_port();
  CHECK(port > 0);
  CHECK(port < 65536);
}

TEST_CASE("TempDir creates a directory and removes it recursively", "[harness]") {
  std::string path;
  {
    testsupport::TempDir dir;
    path = dir.path();
    const std::string file = dir.write("nested/a.txt", "hello");
    CHECK(testsupport::read_file(file) == "hello");
    CHECK(std::filesystem::is_directory(path));
  }
  CHECK_FALSE(std::filesystem::exists(path));
}

TEST_CASE("a plain server serves data and reports errors", "[harness]") {
  RedisServer server;
  RedisServer other;
  REQUIRE(server.running());
  CHECK(server.port() != other.port());
  CHECK(server.dir() != other.dir());
  CHECK(server.url() == "redis://127.0.0.1:" + std::to_string(server.port()) + "/0");
  CHECK(server.url("u:p", 3) == "redis://u:p@127.0.0.1:" + std::to_string(server.port()) + "/3");
  CHECK(server.cli({"PING"}) == "PONG\n");
  server.cli({"SET", "k", "v"});
  CHECK(server.cli({"GET", "k"}) == "v\n");
  CHECK(other.cli({"GET", "k"}) == "\n");
  CHECK(server.cli({"CONFIG", "GET", "appendonly"}) == "appendonly\nno\n");
  CHECK(server.cli({"CONFIG", "GET", "save"}) == "save\n\n");

  CHECK_THROWS_WITH(server.cli({"INCR"}), Contains("wrong number of arguments"));

  server.cli_script(R"(
# comments and blank lines are skipped

SET "spaced key" "a value"
RPUSH list a b c
MULTI
INCR counter
INCR counter
EXEC
)");
  CHECK(server.cli({"GET", "spaced key"}) == "a value\n");
  CHECK(server.cli({"LRANGE", "list", "0", "-1"}) == "a\nb\nc\n");
  CHECK(server.cli({"GET", "counter"}) == "2\n");
  CHECK_THROWS_WITH(server.cli_script("SET s notanumber\nINCR s\nPING\n"), Contains("not an integer"));
  CHECK_THROWS(server.cli_script("MULTI\nSET t x\nINCR t\nEXEC\n"));  // an error inside EXEC's array
  CHECK_THROWS(server.cli_script("SET k \"unterminated\n"));
  CHECK_THROWS(server.cli_script("SET k 1 nonsense\n"));

  CHECK_THAT(server.log_tail(), Contains("Ready to accept connections"));
  const pid_t pid = server.pid();
  CHECK(pid > 0);
  server.stop();
  CHECK_FALSE(server.running());
  CHECK(server.pid() == -1);
  CHECK_THAT(server.log_tail(), Contains("ready to exit"));
}

TEST_CASE("a TLS server answers only over TLS with the generated certificates", "[harness]") {
  RedisServer server(ServerOptions{.tls = true});
  CHECK(server.cli({"PING"}) == "PONG\n");
  CHECK_THAT(server.url(), StartsWith("rediss://127.0.0.1:"));
  for (const auto& file : {server.ca_file(), server.client_cert(), server.client_key(), server.untrusted_ca_file()}) {
    CHECK(std::filesystem::is_regular_file(file));
  }
  const std::string server_cert = server.tls_material().server_cert;
  CHECK(testsupport::run({"openssl", "verify", "-CAfile", server.ca_file(), server_cert}).exit_code == 0);
  CHECK(testsupport::run({"openssl", "verify", "-CAfile", server.ca_file(), server.client_cert()}).exit_code == 0);
  CHECK(testsupport::run({"openssl", "verify", "-CAfile", server.untrusted_ca_file(), server_cert}).exit_code != 0);
  const RunResult text = testsupport::run({"openssl", "x509", "-in", server_cert, "-noout", "-text"});
  CHECK_THAT(text.out, Contains("DNS:localhost") && Contains("IP Address:127.0.0.1"));

  const std::string port = std::to_string(server.port());
  // The port speaks only TLS.
  CHECK(plain_cli(server.port(), {"PING"}, 5000).out != "PONG\n");
  // Default "optional" client auth: a CA alone is enough.
  CHECK(plain_cli(server.port(), {"--tls", "--cacert", server.ca_file(), "PING"}).out == "PONG\n");
  // The untrusted CA does not verify the server.
  const RunResult untrusted = plain_cli(server.port(), {"--tls", "--cacert", server.untrusted_ca_file(), "PING"});
  CHECK(untrusted.exit_code != 0);
  CHECK(untrusted.out != "PONG\n");
}

TEST_CASE("a TLS server can require client certificates", "[harness]") {
  RedisServer server(ServerOptions{.tls = true, .tls_client_auth = TlsClientAuth::required});
  CHECK(server.cli({"PING"}) == "PONG\n");  // cli() presents the client certificate
  const RunResult no_cert = plain_cli(server.port(), {"--tls", "--cacert", server.ca_file(), "PING"});
  CHECK(no_cert.out != "PONG\n");
  CHECK(no_cert.exit_code != 0);
}

TEST_CASE("requirepass and ACL users are enforced", "[harness]") {
  RedisServer server(ServerOptions{
      .requirepass = "s3cret \"quoted\" pw",
      .acl_users = {"reader on >readerpw ~* &* +@read +ping +info -config"},
  });
  server.cli({"SET", "k", "v"});  // default user, password via REDISCLI_AUTH
  CHECK(server.cli_as(CliAuth{"reader", "readerpw"}, {"GET", "k"}) == "v\n");

  const RunResult denied = server.cli_run({"CONFIG", "GET", "maxmemory"}, CliAuth{"reader", "readerpw"});
  CHECK(denied.exit_code != 0);
  CHECK_THAT(denied.err, Contains("NOPERM"));  // -e sends error replies to stderr
  CHECK_THROWS_WITH(server.cli_as(CliAuth{"reader", "readerpw"}, {"SET", "k", "w"}), Contains("NOPERM"));

  const RunResult wrong = server.cli_run({"GET", "k"}, CliAuth{"reader", "nope"});
  CHECK(wrong.exit_code != 0);
  CHECK_THAT(wrong.err, Contains("WRONGPASS") || Contains("NOAUTH"));

  const RunResult anonymous = plain_cli(server.port(), {"GET", "k"});
  CHECK_THAT(anonymous.err, Contains("NOAUTH"));
}

TEST_CASE("a unix socket server listens on <dir>/redis.sock with mode 700", "[harness]") {
  RedisServer server(ServerOptions{.unix_socket = true});
  REQUIRE(server.unix_path() == server.dir() + "/redis.sock");
  CHECK(server.unix_url() == "unix://" + server.dir() + "/redis.sock");
  CHECK(server.unix_url("u:p") == "unix://u:p@" + server.dir() + "/redis.sock");
  struct stat st {};
  REQUIRE(::stat(server.unix_path().c_str(), &st) == 0);
  CHECK(S_ISSOCK(st.st_mode));
  CHECK((st.st_mode & 0777) == 0700);
  CHECK(testsupport::run({"redis-cli", "-s", server.unix_path(), "PING"}).out == "PONG\n");
  CHECK(server.cli({"PING"}) == "PONG\n");  // TCP still works

  RedisServer tcp_only;
  CHECK(tcp_only.unix_path().empty());
  CHECK_THROWS(tcp_only.unix_url());
  CHECK_THROWS(tcp_only.ca_file());
}

TEST_CASE("a graceful restart keeps data when appendonly is on", "[harness]") {
  RedisServer server(ServerOptions{.config = {{"appendonly", "yes"}, {"appendfsync", "always"}}});
  CHECK(server.cli({"CONFIG", "GET", "appendonly"}) == "appendonly\nyes\n");
  const int port = server.port();
  server.cli({"SET", "survivor", "yes"});
  server.stop();
  REQUIRE_FALSE(server.running());
  CHECK(plain_cli(port, {"PING"}, 5000).out != "PONG\n");
  server.start();
  REQUIRE(server.running());
  CHECK(server.port() == port);
  CHECK(server.cli({"GET", "survivor"}) == "yes\n");
  CHECK_THROWS_AS(server.start(), std::logic_error);
}

TEST_CASE("a crash loses data without persistence", "[harness]") {
  RedisServer server;
  server.cli({"SET", "victim", "yes"});
  server.stop(/*crash=*/true);
  REQUIRE_FALSE(server.running());
  server.start();
  CHECK(server.cli({"GET", "victim"}) == "\n");
  CHECK(server.cli({"DBSIZE"}) == "0\n");
}

TEST_CASE("ScriptedPeer answers with its fixed bytes", "[harness]") {
  SECTION("an error reply, then close") {
    ScriptedPeer peer("-LOADING Redis is loading the dataset in memory\r\n");
    const RunResult r = plain_cli(peer.port(), {"PING"});
    CHECK(r.exit_code != 0);
    CHECK_THAT(r.err, Contains("LOADING"));
    CHECK(peer.connections() == 1);
    CHECK_THAT(peer.received(), Contains("PING"));
    CHECK(peer.url() == "redis://127.0.0.1:" + std::to_string(peer.port()) + "/0");
  }
  SECTION("a truncated reply, then close") {
    ScriptedPeer peer("$10\r\nabc");
    const RunResult r = plain_cli(peer.port(), {"GET", "k"});
    CHECK(r.exit_code != 0);
    CHECK_THAT(r.err, Contains("closed the connection"));
  }
  SECTION("the same answer to every request while kept open") {
    ScriptedPeer peer("+PONG\r\n", /*close_after=*/false);
    const RunResult r =
        testsupport::run({"redis-cli", "-h", "127.0.0.1", "-p", std::to_string(peer.port())}, {}, "PING\nPING\nPING\n");
    CHECK(r.out == "PONG\nPONG\nPONG\n");
    CHECK(peer.connections() == 1);
  }
  SECTION("never answering") {
    ScriptedPeer peer("+PONG\r\n", /*close_after=*/false, /*hang=*/true);
    const RunResult r = plain_cli(peer.port(), {"PING"}, 300);
    CHECK(r.timed_out);
    CHECK_THAT(peer.received(), Contains("PING"));
  }
}

TEST_CASE("a server that cannot bind its port fails loudly with the log", "[harness]") {
  RedisServer holder;  // its port is certainly taken
  ServerOptions options{.config = {{"port", std::to_string(holder.port())}}};
  CHECK_THROWS_WITH(RedisServer(options), Contains("Address already in use"));
  CHECK_THROWS_WITH(RedisServer(ServerOptions{.config = {{"no-such-directive", "1"}}}), Contains("Bad directive"));
}

TEST_CASE("start() waits while the server is still loading its data", "[harness]") {
  RedisServer server(ServerOptions{.config = {{"key-load-delay", "5000"}, {"enable-debug-command", "local"}}});
  server.cli_script("DEBUG POPULATE 100\n");  // loading then takes 100 x 5000 us
  server.cli({"SAVE"});
  server.stop(/*crash=*/true);
  const auto start = std::chrono::steady_clock::now();
  server.start();
  CHECK(std::chrono::steady_clock::now() - start > std::chrono::milliseconds(400));
  CHECK(server.cli({"DBSIZE"}) == "100\n");
}
