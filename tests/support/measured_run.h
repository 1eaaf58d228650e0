// Running the real binary and measuring its peak memory, which run() cannot report: for memory bounds,
// never for timing. Header-only: it uses Catch2's assertions.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "process.h"
#include "temp_dir.h"

namespace testsupport {

// A run of the real binary with its peak memory, which run() cannot report: spawn() and wait4().
struct MeasuredRun {
  RunResult result;
  long max_rss_kb = 0;
};

inline MeasuredRun run_measured(const std::vector<std::string>& args, const EnvOverrides& env, int timeout_ms) {
  TempDir dir("sctl-measure-");
  const std::string out_path = dir.file("out");
  const std::string err_path = dir.file("err");
  int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  REQUIRE(out >= 0);
  REQUIRE(err >= 0);
  // Linux carries a forked child's peak RSS across exec, so wait4 on a child of this (large) test
  // process reports at least this process's size; /usr/bin/time is small, and its child's figure exact.
  const std::string rss_path = dir.file("rss");
  const bool timed = ::access("/usr/bin/time", X_OK) == 0;
  std::vector<std::string> argv;
  if (timed) argv = {"/usr/bin/time", "-f", "%M", "-o", rss_path};
  argv.push_back(sessionctl_bin());
  argv.insert(argv.end(), args.begin(), args.end());
  const pid_t pid = spawn(argv, env, {-1, out, err});
  ::close(out);
  ::close(err);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  MeasuredRun m{{-1, "", "", false}, 0};
  int status = 0;
  rusage usage{};
  for (;;) {
    const pid_t done = ::wait4(pid, &status, WNOHANG, &usage);
    if (done == pid) break;
    if (std::chrono::steady_clock::now() > deadline && !m.result.timed_out) {
      m.result.timed_out = true;
      ::kill(-pid, SIGKILL);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  m.result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  m.result.out = read_file(out_path);
  m.result.err = read_file(err_path);
  m.max_rss_kb = usage.ru_maxrss;
  if (timed) {
    // The last line is %M; a line before it may say how the command exited.
    const std::string text = read_file(rss_path);
    const auto end = text.find_last_not_of("\n");
    const auto start = end == std::string::npos ? std::string::npos : text.find_last_of('\n', end);
    if (end != std::string::npos) m.max_rss_kb = std::stol(text.substr(start == std::string::npos ? 0 : start + 1));
  }
  return m;
}

}  // namespace testsupport
