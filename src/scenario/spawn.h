// persist-test --spawn: a redis-server of sessionctl's own on a free loopback port, its data in a temp dir,
// restarted gracefully (SHUTDOWN) or killed (SIGKILL) to see what its persistence settings keep.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "util/process.h"
#include "util/temp_dir.h"

namespace sessionctl::scenario {

// Every member has a default initializer, so designated initializers may name any subset.
struct SpawnOptions {
  std::string redis_server{};  // path of redis-server; empty = the one on PATH
  // Settings as key=value, each passed as `--key value`: "appendonly=yes", "save=3600 1", "save=" (no
  // snapshots). Unset settings keep redis-server's defaults; port, bind, dir, daemonize and logfile are ours.
  std::vector<std::string> config{};
  std::chrono::milliseconds timeout{10000};  // bounds each start (loading included) and each shutdown
};

// A redis-server on 127.0.0.1 without a password, alive from construction to stop() or destruction, which
// leave no process and no temp dir behind, also when the caller is unwinding from an exception.
class SpawnedRedis {
 public:
  // Starts the server and waits until it answers and has finished loading. Throws UsageError when there is
  // no such redis-server or a setting is malformed or ours; ConnectionError (TimeoutError) with the end of
  // the server's log when it exits or is not ready within the timeout.
  explicit SpawnedRedis(const SpawnOptions& options);
  SpawnedRedis(const SpawnedRedis&) = delete;
  SpawnedRedis& operator=(const SpawnedRedis&) = delete;
  ~SpawnedRedis() = default;  // the members do it: the server is SIGKILLed and reaped, then the dir removed

  int port() const noexcept { return port_; }
  // "redis://127.0.0.1:PORT/0".
  std::string url() const;
  // The temp dir holding the data files and redis.log.
  const std::string& dir() const noexcept { return dir_.path(); }
  // The server's pid; -1 after stop().
  pid_t pid() const noexcept;

  // Graceful: SHUTDOWN (the server saves as its config says: an RDB when save points are set, the AOF
  // flushed) and its exit awaited; crash: SIGKILL. Then the same server starts again on the same port and
  // dir and is waited for until it has loaded its data. Returns how long it was down. Throws as the
  // constructor does, ReplyError when SHUTDOWN is refused (a failed save), TimeoutError when it does not exit.
  // `while_down`, when given, runs after the server has exited and before it starts again (persist-test's
  // redis-unavailable probes an outage there).
  std::chrono::milliseconds restart(bool crash, const std::function<void()>& while_down = {});
  // Kills the server (its data goes with the temp dir, so no save is waited for); idempotent.
  void stop() noexcept;

 private:
  enum class Launch { ready, port_taken };
  Launch launch();
  bool ready() const;
  [[noreturn]] void fail(const std::string& what);

  std::string program_;
  std::vector<std::string> settings_;  // the --key value arguments from SpawnOptions::config
  std::chrono::milliseconds timeout_;
  TempDir dir_;  // declared before the server, so destroyed after it
  int port_ = 0;
  std::optional<ChildProcess> server_;
};

}  // namespace sessionctl::scenario
