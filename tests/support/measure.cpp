#include "measure.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
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
  char self[4096];
  const ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
  REQUIRE(n > 0);
  const std::string rss_path = dir.file("rss");
  std::vector<std::string> argv{std::string(self, static_cast<std::size_t>(n)), "--measure-rss", rss_path,
                                sessionctl_bin()};
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
  (void)usage;
  m.max_rss_kb = std::atol(read_file(rss_path).c_str());
  return m;
}

int measure_child_main(int argc, char** argv) {
  if (argc < 4) return 2;
  const pid_t pid = ::fork();
  if (pid < 0) return 2;
  if (pid == 0) {
    ::execv(argv[3], argv + 3);
    ::_exit(127);
  }
  int status = 0;
  rusage usage{};
  while (::wait4(pid, &status, 0, &usage) < 0) {
  }
  if (FILE* f = std::fopen(argv[2], "w")) {
    std::fprintf(f, "%ld\n", usage.ru_maxrss);
    std::fclose(f);
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace testsupport
