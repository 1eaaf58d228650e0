// Child processes started without a shell (a redis-server of the tool's own) and shell commands run to
// completion under a timeout (a user's --restart-cmd), so that nothing started here outlives its owner.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace sessionctl {

// `name` itself when it contains '/', else the first match in the colon-separated $PATH; either way only an
// executable regular file counts. std::nullopt when there is none.
std::optional<std::string> find_executable(const std::string& name);

// A running program: argv[0] found by find_executable(), no shell, stdin /dev/null, stdout and stderr
// appended to a file or to a descriptor. It leads a process group of its own, so Ctrl-C at the terminal
// reaches sessionctl only, and kill() also reaches what the child started (a redis-server's save child).
// On Linux it is SIGKILLed when the thread that started it exits, so a crashed sessionctl leaks nothing.
class ChildProcess {
 public:
  // Starts argv with stdout and stderr appended to output_path (created 0600 if absent). Throws Error
  // (exit 1) when the program cannot be found or started.
  ChildProcess(const std::vector<std::string>& argv, const std::string& output_path);
  // The same with stdout and stderr on a copy of output_fd (the caller keeps and closes its own).
  ChildProcess(const std::vector<std::string>& argv, int output_fd);
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  // SIGKILLs the process group of a child still running and reaps it.
  ~ChildProcess();

  pid_t pid() const noexcept { return pid_; }
  // Whether the child has not exited yet (reaps it when it has).
  bool running();
  // Sends `signal` to the child's process group; does nothing once the child has been reaped.
  void kill(int signal) noexcept;
  // Waits up to `timeout` for the child to exit: its exit status (128 + signal when a signal ended it), or
  // std::nullopt while it still runs.
  std::optional<int> wait_for(std::chrono::milliseconds timeout);
  // The exit status once the child has been reaped.
  std::optional<int> exit_status() const noexcept { return status_; }

 private:
  void reap(bool block) noexcept;

  pid_t pid_ = -1;
  std::optional<int> status_;
};

// What a shell command did.
struct ShellResult {
  int exit_code = -1;        // exit status, 128 + signal when a signal ended the shell
  bool timed_out = false;    // the command was killed at the timeout
  bool interrupted = false;  // the command was stopped because we were (interrupted(): SIGINT, SIGTERM)
  std::string output;        // stdout and stderr merged, the first kShellOutputLimit bytes
};

// Output of run_shell() kept; the rest is read and dropped, so a chatty command never blocks on a full pipe.
inline constexpr std::size_t kShellOutputLimit = 64 * 1024;

// Runs `/bin/sh -c command` in its own process group and waits for the shell to exit, SIGKILLing the whole
// group at `timeout`, or (SIGTERM, then SIGKILL) as soon as interrupted() is set. Returns when the shell exits, even if
// something it started in the background still holds the output open (a daemon), and leaves such processes running.
// Throws Error when sh cannot start.
ShellResult run_shell(const std::string& command, std::chrono::milliseconds timeout);

}  // namespace sessionctl
