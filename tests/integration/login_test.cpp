// Who sessionctl logs in as: the URL's user-info read as the apps' clients read it (a lone user-info is a
// user name), and --askpass typed on a real pseudo-terminal (Ctrl-C aborts, an empty answer is no password).
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <chrono>
#include <string>
#include <vector>

#include "process.h"
#include "redis_server.h"
#include "sessionctl_cli.h"
#include "temp_dir.h"

using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
using testsupport::kSecret;
using testsupport::RedisServer;
using testsupport::RunResult;
using testsupport::ServerOptions;
using Clock = std::chrono::steady_clock;

namespace {

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

// What a run on a pseudo-terminal showed (stdout and stderr both go to the terminal) and how it ended.
struct PtyRun {
  int exit_code = -1;
  std::string screen;
  bool timed_out = false;
};

// Runs sessionctl on a new pseudo-terminal (its controlling terminal, so /dev/tty is the pty) and types
// `keys` once the password prompt is on the screen, as a person would.
PtyRun run_on_pty(const std::vector<std::string>& args, const std::string& keys) {
  std::vector<std::string> argv{testsupport::sessionctl_bin()};
  argv.insert(argv.end(), args.begin(), args.end());
  const std::vector<std::string> env = testsupport::child_environment({});
  std::vector<char*> c_argv, c_env;
  for (const auto& a : argv) c_argv.push_back(const_cast<char*>(a.c_str()));
  c_argv.push_back(nullptr);
  for (const auto& e : env) c_env.push_back(const_cast<char*>(e.c_str()));
  c_env.push_back(nullptr);

  int master = -1;
  const pid_t pid = ::forkpty(&master, nullptr, nullptr, nullptr);
  REQUIRE(pid >= 0);
  if (pid == 0) {
    // As spawn() does: default signal handling, nothing blocked, whatever the test process had.
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; ++sig) ::sigaction(sig, &dfl, nullptr);
    sigset_t none;
    ::sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execve(c_argv[0], c_argv.data(), c_env.data());
    ::_exit(127);
  }
  PtyRun run;
  bool typed = false;
  int status = 0;
  bool reaped = false;
  const auto deadline = Clock::now() + std::chrono::seconds(20);
  while (!reaped) {
    pollfd p{master, POLLIN, 0};
    if (::poll(&p, 1, 20) > 0) {
      char buf[4096];
      const ssize_t n = ::read(master, buf, sizeof buf);
      if (n > 0) run.screen.append(buf, static_cast<std::size_t>(n));
    }
    if (!typed && run.screen.find("Password for") != std::string::npos) {
      REQUIRE(::write(master, keys.data(), keys.size()) == static_cast<ssize_t>(keys.size()));
      typed = true;
    }
    reaped = ::waitpid(pid, &status, WNOHANG) == pid;
    if (!reaped && Clock::now() > deadline) {
      run.timed_out = true;
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      reaped = true;
    }
  }
  // What the child wrote just before it exited.
  for (;;) {
    pollfd p{master, POLLIN, 0};
    if (::poll(&p, 1, 0) <= 0) break;
    char buf[4096];
    const ssize_t n = ::read(master, buf, sizeof buf);
    if (n <= 0) break;
    run.screen.append(buf, static_cast<std::size_t>(n));
  }
  ::close(master);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  INFO(run.screen);
  CHECK(typed);
  return run;
}

}  // namespace

TEST_CASE("a lone user-info in the URL is the user name, the password comes from the other sources", "[login][url]") {
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

TEST_CASE("with --askpass, Ctrl-C at the prompt aborts with 130 and sends nothing", "[login][askpass]") {
  RedisServer server(ServerOptions{.requirepass = kSecret});
  // Half a password typed, then Ctrl-C: the terminal sends SIGINT; nothing typed may reach the server.
  const PtyRun run = run_on_pty({"status", "--askpass", "-u", server.url()}, "abc\x03");
  INFO(run.screen);
  CHECK_FALSE(run.timed_out);
  CHECK(run.exit_code == 130);
  CHECK_THAT(run.screen, Contains("sessionctl: error: interrupted"));
  CHECK(run.screen.find("WRONGPASS") == std::string::npos);
  CHECK(no_failed_logins(server));  // no failed AUTH was ever tried
}

TEST_CASE("with --askpass, an empty answer is not sent as a password", "[login][askpass]") {
  SECTION("a server without a password: the empty answer is no password, and status works") {
    RedisServer server;
    const PtyRun run = run_on_pty({"status", "--askpass", "-u", server.url()}, "\r");
    INFO(run.screen);
    CHECK_FALSE(run.timed_out);
    CHECK(run.exit_code == 0);
    CHECK_THAT(run.screen, Contains("reachable"));
  }
  SECTION("a server that needs one: exit 4 asking for it, and no AUTH \"\" was tried") {
    RedisServer server(ServerOptions{.requirepass = kSecret});
    const PtyRun run = run_on_pty({"status", "--askpass", "-u", server.url()}, "\r");
    INFO(run.screen);
    CHECK_FALSE(run.timed_out);
    CHECK(run.exit_code == 4);
    CHECK_THAT(run.screen, Contains("requires a password"));
    CHECK(no_failed_logins(server));
  }
  SECTION("a typed password is used (control)") {
    RedisServer server(ServerOptions{.requirepass = kSecret});
    const PtyRun run = run_on_pty({"status", "--askpass", "-u", server.url()}, kSecret + "\r");
    INFO(run.screen);
    CHECK(run.exit_code == 0);
    CHECK(run.screen.find(kSecret) == std::string::npos);  // not echoed
  }
}
