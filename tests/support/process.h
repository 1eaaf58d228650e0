#pragma once

#include <sys/types.h>

#include <iosfwd>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "temp_dir.h"

namespace testsupport {

// Per-variable changes to a child's environment: a value sets the variable, std::nullopt unsets it.
using EnvOverrides = std::map<std::string, std::optional<std::string>>;

// What a finished child did. exit_code is its exit status, or 128 + the signal that killed it.
struct RunResult {
  int exit_code;
  std::string out;
  std::string err;
  bool timed_out;
};

// Prints exit code, timeout flag, stdout and stderr, so Catch2 shows them when a check fails.
std::ostream& operator<<(std::ostream& os, const RunResult& result);

// Runs argv (argv[0] is looked up in the child's PATH if it has no '/') in its own process group,
// feeds stdin_data, captures stdout/stderr separately, and SIGKILLs the group on timeout
// (timed_out = true). The child gets child_environment(env). Throws std::runtime_error if the
// program cannot be found or executed.
RunResult run(const std::vector<std::string>& argv, const EnvOverrides& env = {}, const std::string& stdin_data = "",
              int timeout_ms = 60000);

// run() with argv[0] = SESSIONCTL_BIN, the binary under test.
RunResult run_sessionctl(const std::vector<std::string>& args, const EnvOverrides& env = {},
                         const std::string& stdin_data = "", int timeout_ms = 60000);

// The path of the sessionctl binary under test (SESSIONCTL_BIN).
std::string sessionctl_bin();

// A TCP port on 127.0.0.1 that was free a moment ago (bind port 0, read it back); callers that
// bind it later must cope with a lost race.
int free_port();

// How far above a cluster node's port Redis puts its cluster bus unless cluster-port is set.
inline constexpr int kClusterBusOffset = 10000;

// A port in [20000, 39999] such that it and its bus port (port + kClusterBusOffset) were both free
// a moment ago on 127.0.0.1; the same race as free_port() applies to both.
int free_cluster_port();

// The parent's environment minus SESSIONCTL_URL, REDIS_URL, CHANNEL_REDIS_URL, REDISCLI_AUTH,
// REDIS_PASSWORD, NO_COLOR and every other SESSIONCTL_* variable, then plus `env`, as NAME=value.
std::vector<std::string> child_environment(const EnvOverrides& env);

// `program` if it contains '/', else the first executable regular file named `program` in the
// colon-separated `search_path`; std::nullopt when there is none.
std::optional<std::string> find_in_path(const std::string& program, const std::string& search_path);

// find_in_path() over the parent's $PATH.
std::optional<std::string> find_in_path(const std::string& program);

// Descriptors a spawned child gets as stdin/stdout/stderr; -1 means /dev/null.
struct SpawnFds {
  int in = -1;
  int out = -1;
  int err = -1;
};

// Starts argv with child_environment(env) as leader of a new process group, with default signal
// handling, no inherited descriptors beyond `fds`, and SIGKILL when the spawning thread dies (so a
// crashed test leaks no servers). Returns the pid; the caller must reap it. Throws
// std::runtime_error if the program cannot be found or executed.
pid_t spawn(const std::vector<std::string>& argv, const EnvOverrides& env, SpawnFds fds);

}  // namespace testsupport
