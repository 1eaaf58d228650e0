// scenario/spawn.h against the real redis-server: which restarts keep a key under which persistence
// settings, and that nothing (process, temp dir) outlives a SpawnedRedis.
#include "scenario/spawn.h"

#include <signal.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "redis/client.h"
#include "redis/options.h"
#include "temp_dir.h"
#include "util/errors.h"

using namespace std::chrono_literals;
using Catch::Matchers::Contains;
using sessionctl::scenario::SpawnedRedis;
using sessionctl::scenario::SpawnOptions;
namespace redis = sessionctl::redis;

namespace {

SpawnedRedis spawn_with(std::vector<std::string> config) {
  return SpawnedRedis(SpawnOptions{.config = std::move(config)});
}

void set_key(const SpawnedRedis& server) {
  auto client = redis::connect(redis::parse_url(server.url()));
  REQUIRE(client->run1({"SET", "persist:key", "kept"}).str == "OK");
}

// The key's value after a restart, or std::nullopt when the restart lost it.
std::optional<std::string> get_key(const SpawnedRedis& server) {
  auto client = redis::connect(redis::parse_url(server.url()));
  const redis::Reply reply = client->run1({"GET", "persist:key"});
  REQUIRE_FALSE(reply.is_error());
  if (reply.is_nil()) return std::nullopt;
  return reply.str;
}

bool process_exists(pid_t pid) { return ::kill(pid, 0) == 0 || errno != ESRCH; }

// Sets an environment variable for one test case (each case runs in a process of its own under ctest).
class EnvOverride {
 public:
  EnvOverride(const char* name, const std::string& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    ::setenv(name, value.c_str(), 1);
  }
  EnvOverride(const EnvOverride&) = delete;
  EnvOverride& operator=(const EnvOverride&) = delete;
  ~EnvOverride() {
    if (old_) {
      ::setenv(name_, old_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

}  // namespace

TEST_CASE("spawn: a started server answers on its loopback port below 50000", "[spawn][integration]") {
  SpawnedRedis server = spawn_with({"save="});
  CHECK(server.port() >= 20000);
  CHECK(server.port() < 50000);
  CHECK(server.url() == "redis://127.0.0.1:" + std::to_string(server.port()) + "/0");
  CHECK(std::filesystem::is_directory(server.dir()));
  auto client = redis::connect(redis::parse_url(server.url()));
  CHECK(client->run1({"PING"}).str == "PONG");
  CHECK(client->run1({"CONFIG", "GET", "dir"}).elements.at(1).str == server.dir());
  CHECK(client->run1({"CONFIG", "GET", "save"}).elements.at(1).str.empty());
}

TEST_CASE("spawn: with appendonly=yes a key survives a crash restart", "[spawn][integration]") {
  SpawnedRedis server = spawn_with({"appendonly=yes", "appendfsync=everysec", "save="});
  set_key(server);
  const pid_t before = server.pid();
  const auto down = server.restart(true);
  CHECK(server.pid() != before);
  CHECK_FALSE(process_exists(before));
  CHECK(down.count() >= 0);
  CHECK(down < 10s);
  CHECK(get_key(server) == std::optional<std::string>("kept"));
}

TEST_CASE("spawn: with save= and no AOF a graceful restart loses the key", "[spawn][integration]") {
  SpawnedRedis server = spawn_with({"save=", "appendonly=no"});
  set_key(server);
  server.restart(false);
  CHECK(get_key(server) == std::nullopt);
}

TEST_CASE("spawn: RDB only (save=3600 1) keeps the key through SHUTDOWN", "[spawn][integration]") {
  SpawnedRedis server = spawn_with({"save=3600 1", "appendonly=no"});
  {
    auto client = redis::connect(redis::parse_url(server.url()));
    CHECK(client->run1({"CONFIG", "GET", "save"}).elements.at(1).str == "3600 1");
  }
  set_key(server);
  server.restart(false);
  CHECK(std::filesystem::exists(server.dir() + "/dump.rdb"));
  CHECK(get_key(server) == std::optional<std::string>("kept"));
}

TEST_CASE("spawn: RDB only (save=3600 1) loses the key to a crash before the first snapshot", "[spawn][integration]") {
  SpawnedRedis server = spawn_with({"save=3600 1", "appendonly=no"});
  set_key(server);
  server.restart(true);
  CHECK(get_key(server) == std::nullopt);
}

TEST_CASE("spawn: a missing redis-server is a usage error", "[spawn][integration]") {
  CHECK_THROWS_MATCHES(
      SpawnedRedis(SpawnOptions{.redis_server = "/nonexistent/redis-server"}), sessionctl::UsageError,
      Catch::Matchers::Message("no redis-server at '/nonexistent/redis-server': not an executable file"));
  testsupport::TempDir empty;
  EnvOverride path("PATH", empty.path());
  CHECK_THROWS_MATCHES(
      SpawnedRedis(SpawnOptions{}), sessionctl::UsageError,
      Catch::Matchers::Message("no redis-server on PATH; install redis-server or pass --redis-server PATH"));
}

TEST_CASE("spawn: malformed settings and settings of its own are usage errors", "[spawn][integration]") {
  CHECK_THROWS_AS(spawn_with({"appendonly"}), sessionctl::UsageError);
  CHECK_THROWS_AS(spawn_with({"=yes"}), sessionctl::UsageError);
  CHECK_THROWS_WITH(spawn_with({"PORT=6379"}), Contains("'port' is sessionctl's own"));
  CHECK_THROWS_AS(spawn_with({"dir=/tmp"}), sessionctl::UsageError);
}

TEST_CASE("spawn: a server that cannot start is a connection error with its log, and leaves no dir",
          "[spawn][integration]") {
  testsupport::TempDir base;
  EnvOverride tmpdir("TMPDIR", base.path());
  try {
    spawn_with({"no-such-setting=1"});
    FAIL("no error");
  } catch (const sessionctl::ConnectionError& e) {
    CHECK(e.code() == sessionctl::ExitCode::connect);
    CHECK_THAT(e.what(), Contains("exited with status 1") && Contains("Bad directive"));
    CHECK(std::string(e.what()).find('\n') == std::string::npos);
  }
  CHECK(std::filesystem::is_empty(base.path()));
}

TEST_CASE("spawn: the destructor leaves no process and no dir behind", "[spawn][integration]") {
  pid_t pid = -1;
  std::string dir;
  {
    SpawnedRedis server = spawn_with({"appendonly=yes"});
    pid = server.pid();
    dir = server.dir();
    REQUIRE(process_exists(pid));
  }
  CHECK_FALSE(process_exists(pid));
  CHECK_FALSE(std::filesystem::exists(dir));
}

TEST_CASE("spawn: nothing is left behind when the caller throws", "[spawn][integration]") {
  pid_t pid = -1;
  std::string dir;
  try {
    SpawnedRedis server = spawn_with({"save="});
    pid = server.pid();
    dir = server.dir();
    throw std::runtime_error("the caller failed");
  } catch (const std::runtime_error&) {
  }
  REQUIRE(pid > 0);
  CHECK_FALSE(process_exists(pid));
  CHECK_FALSE(std::filesystem::exists(dir));
}

TEST_CASE("spawn: stop kills the server at once and is idempotent", "[spawn][integration]") {
  SpawnedRedis server = spawn_with({"save="});
  const pid_t pid = server.pid();
  server.stop();
  CHECK(server.pid() == -1);
  CHECK_FALSE(process_exists(pid));
  server.stop();
  CHECK_THROWS_AS(server.restart(false), sessionctl::ConnectionError);
}

TEST_CASE("spawn: a server not ready within the timeout is a timeout error, and is killed", "[spawn][integration]") {
  testsupport::TempDir bin;
  // Stands in for a redis-server that never answers; it records its pid so the test can check it is gone.
  const std::string fake = bin.write("redis-server", "#!/bin/sh\necho $$ > " + bin.file("pid") + "\nexec sleep 30\n");
  std::filesystem::permissions(fake, std::filesystem::perms::owner_all);
  const auto start = std::chrono::steady_clock::now();
  CHECK_THROWS_AS(SpawnedRedis(SpawnOptions{.redis_server = fake, .timeout = 500ms}), sessionctl::TimeoutError);
  CHECK(std::chrono::steady_clock::now() - start < 5s);
  CHECK_FALSE(process_exists(std::stoi(testsupport::read_file(bin.file("pid")))));
}
