#include "measure.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <thread>

#include "temp_dir.h"

namespace testsupport {

MeasuredRun run_measured(const std::vector<std::string>& args, const EnvOverrides& env, int timeout_ms) {
  using Clock = std::chrono::steady_clock;
  TempDir dir("sctl-measure-");
  const std::string out_path = dir.file("out");
  const std::string err_path = dir.file("err");
  int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  REQUIRE(out >= 0);
  REQUIRE(err >= 0);
  std::vector<std::string> argv{sessionctl_bin()};
  argv.insert(argv.end(), args.begin(), args.end());
  const pid_t pid = spawn(argv, env, {-1, out, err});
  ::close(out);
  ::close(err);
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  MeasuredRun m{{-1, "", "", false}, 0};
  int status = 0;
  rusage usage{};
  for (;;) {
    const pid_t done = ::wait4(pid, &status, WNOHANG, &usage);
    if (done == pid) break;
    if (Clock::now() > deadline && !m.result.timed_out) {
      m.result.timed_out = true;
      ::kill(-pid, SIGKILL);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  m.result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  m.result.out = read_file(out_path);
  m.result.err = read_file(err_path);
  m.max_rss_kb = usage.ru_maxrss;
  return m;
}

}  // namespace testsupport
