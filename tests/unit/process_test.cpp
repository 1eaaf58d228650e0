// util/process.h and util/temp_dir.h against real programs: sh, sleep, and what they leave behind.
#include "util/process.h"

#include <signal.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "util/errors.h"
#include "util/temp_dir.h"

using namespace std::chrono_literals;
using Catch::Matchers::Contains;
using sessionctl::ChildProcess;
using sessionctl::find_executable;
using sessionctl::run_shell;
using sessionctl::TempDir;
using Clock = std::chrono::steady_clock;

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Gone or a zombie: a process whose parent died is reaped by init, which may take a moment.
bool process_gone(pid_t pid) {
  for (int i = 0; i < 200; ++i) {
    if (::kill(pid, 0) != 0) return true;
    const std::string stat = slurp("/proc/" + std::to_string(pid) + "/stat");
    const auto close_paren = stat.rfind(')');
    if (close_paren != std::string::npos && stat.substr(close_paren + 2, 1) == "Z") return true;
    std::this_thread::sleep_for(10ms);
  }
  return false;
}

}  // namespace

TEST_CASE("process: find_executable searches PATH and checks a path given with a slash", "[process]") {
  const auto sh = find_executable("sh");
  REQUIRE(sh);
  CHECK(sh->front() == '/');
  CHECK_THAT(*sh, Contains("/sh"));
  CHECK(find_executable("/bin/sh") == std::optional<std::string>("/bin/sh"));
  CHECK_FALSE(find_executable("sessionctl-no-such-program"));
  CHECK_FALSE(find_executable("/etc/passwd"));  // a file, but not executable
  CHECK_FALSE(find_executable("/tmp"));         // a directory
  CHECK_FALSE(find_executable(""));
}

TEST_CASE("process: run_shell gives the exit code and stdout and stderr merged", "[process]") {
  const auto result = run_shell("echo to-stdout; echo to-stderr >&2; exit 3", 10s);
  CHECK(result.exit_code == 3);
  CHECK_FALSE(result.timed_out);
  CHECK_THAT(result.output, Contains("to-stdout") && Contains("to-stderr"));
  CHECK(run_shell("kill -TERM $$", 10s).exit_code == 128 + SIGTERM);
}

TEST_CASE("process: run_shell kills the whole process group at the timeout", "[process]") {
  TempDir dir;
  const std::string pid_file = dir.file("background.pid");
  const auto start = Clock::now();
  const auto result = run_shell("sleep 30 & echo $! > " + pid_file + "; sleep 30", 1s);
  const auto took = Clock::now() - start;
  CHECK(result.timed_out);
  CHECK(result.exit_code == 128 + SIGKILL);
  CHECK(took >= 1s);
  CHECK(took < 5s);
  const pid_t background = std::stoi(slurp(pid_file));
  CHECK(process_gone(background));
}

TEST_CASE("process: run_shell keeps the first 64 KiB of output and does not block on the rest", "[process]") {
  const auto result = run_shell("head -c 1000000 /dev/zero", 20s);
  CHECK(result.exit_code == 0);
  CHECK(result.output.size() == sessionctl::kShellOutputLimit);
}

TEST_CASE("process: run_shell returns when the shell exits though a background child holds its output", "[process]") {
  const auto start = Clock::now();
  const auto result = run_shell("sleep 3 & echo started", 20s);
  CHECK(Clock::now() - start < 2s);
  CHECK(result.exit_code == 0);
  CHECK_THAT(result.output, Contains("started"));
}

TEST_CASE("process: a child's exit status and output file", "[process]") {
  TempDir dir;
  const std::string log = dir.file("out.log");
  ChildProcess child({"sh", "-c", "echo out; echo err >&2; exit 7"}, log);
  CHECK(child.pid() > 0);
  CHECK(child.wait_for(10s) == std::optional<int>(7));
  CHECK_FALSE(child.running());
  CHECK(child.exit_status() == std::optional<int>(7));
  CHECK_THAT(slurp(log), Contains("out") && Contains("err"));
}

TEST_CASE("process: a child that cannot be started is an error", "[process]") {
  TempDir dir;
  CHECK_THROWS_AS(ChildProcess({"sessionctl-no-such-program"}, dir.file("out.log")), sessionctl::Error);
  CHECK_THROWS_AS(ChildProcess({"/etc/passwd"}, dir.file("out.log")), sessionctl::Error);
}

TEST_CASE("process: wait_for times out on a running child and kill ends it", "[process]") {
  TempDir dir;
  ChildProcess child({"sleep", "30"}, dir.file("out.log"));
  const auto start = Clock::now();
  CHECK_FALSE(child.wait_for(200ms));
  CHECK(Clock::now() - start >= 200ms);
  CHECK(child.running());
  child.kill(SIGTERM);
  CHECK(child.wait_for(10s) == std::optional<int>(128 + SIGTERM));
}

TEST_CASE("process: the destructor kills and reaps a child that ignores SIGTERM, and its children", "[process]") {
  TempDir dir;
  const std::string pid_file = dir.file("sleep.pid");
  pid_t shell = -1;
  {
    ChildProcess child({"sh", "-c", "trap '' TERM; sleep 30 & echo $! > " + pid_file + "; wait"}, dir.file("out.log"));
    shell = child.pid();
    for (int i = 0; i < 500 && slurp(pid_file).empty(); ++i) std::this_thread::sleep_for(10ms);
  }
  CHECK(::kill(shell, 0) != 0);  // reaped: not even a zombie
  REQUIRE_FALSE(slurp(pid_file).empty());
  CHECK(process_gone(std::stoi(slurp(pid_file))));
}

TEST_CASE("process: a temp dir is removed with its contents", "[process]") {
  std::string path;
  {
    TempDir dir("sessionctl-test-");
    path = dir.path();
    CHECK(std::filesystem::is_directory(path));
    std::filesystem::create_directories(dir.file("a/b"));
    std::ofstream(dir.file("a/b/c")) << "x";
  }
  CHECK_FALSE(std::filesystem::exists(path));
}
