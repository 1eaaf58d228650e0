#include "util/process.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include <algorithm>
#include <array>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <thread>
#include <utility>

#include "util/errors.h"
#include "util/interrupt.h"

namespace sessionctl {
namespace {

using Clock = std::chrono::steady_clock;

// Owns one descriptor.
class Fd {
 public:
  explicit Fd(int fd = -1) noexcept : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }
  int get() const noexcept { return fd_; }
  void reset() noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

[[noreturn]] void fail(const std::string& what) {
  throw Error(ExitCode::check_failed, fmt::format("{}: {}", what, std::strerror(errno)));
}

bool is_executable_file(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

int decode_status(int status) { return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status); }

// Runs in the forked child, so async-signal-safe calls only: reports errno on the pipe and exits.
[[noreturn]] void child_fail(int report_fd) {
  const int err = errno;
  [[maybe_unused]] const auto n = ::write(report_fd, &err, sizeof err);
  ::_exit(127);
}

// Moves a descriptor out of 0..2 so that installing the standard descriptors cannot overwrite it. Async-signal-safe.
int above_stdio(int fd) { return fd <= 2 ? ::fcntl(fd, F_DUPFD_CLOEXEC, 3) : fd; }

// Forks and execs argv as the leader of a new process group; returns its pid once exec has succeeded.
pid_t start_child(const std::vector<std::string>& argv, int output_fd) {
  if (argv.empty()) throw Error(ExitCode::check_failed, "cannot start a process: no program given");
  // Everything the child needs is made before fork(): after it, only async-signal-safe calls.
  const auto program = find_executable(argv[0]);
  if (!program) throw Error(ExitCode::check_failed, fmt::format("cannot start {}: no such executable", argv[0]));
  std::vector<char*> c_argv;
  c_argv.reserve(argv.size() + 1);
  for (const auto& arg : argv) c_argv.push_back(const_cast<char*>(arg.c_str()));
  c_argv.push_back(nullptr);
  Fd dev_null(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (dev_null.get() < 0) fail("cannot open /dev/null");
  std::array<int, 2> report{};
  if (::pipe2(report.data(), O_CLOEXEC) != 0) fail("cannot create a pipe");
  Fd report_read(report[0]);
  Fd report_write(report[1]);
  const long open_max = ::sysconf(_SC_OPEN_MAX);
  const int max_fd = open_max > 0 ? static_cast<int>(std::min(open_max, 1L << 16)) : 1024;
  const pid_t parent = ::getpid();

  const pid_t pid = ::fork();
  if (pid < 0) fail("cannot fork");
  if (pid == 0) {
    ::setpgid(0, 0);
#ifdef __linux__
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);  // the parent died before prctl took effect
#endif
    // sessionctl ignores SIGPIPE and SIGXFSZ, and ignored signals survive exec: the child gets the defaults.
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; ++sig) ::sigaction(sig, &dfl, nullptr);
    sigset_t none;
    ::sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    const int in = above_stdio(dev_null.get());
    const int out = above_stdio(output_fd);
    if (in < 0 || out < 0 || ::dup2(in, 0) < 0 || ::dup2(out, 1) < 0 || ::dup2(out, 2) < 0) {
      child_fail(report_write.get());
    }
    // Descriptors opened elsewhere without O_CLOEXEC (sockets to Redis) must not leak into the child.
#ifdef SYS_close_range
    if (::syscall(SYS_close_range, 3U, ~0U, 4U /* CLOSE_RANGE_CLOEXEC */) != 0)
#endif
      for (int fd = 3; fd < max_fd; ++fd) ::fcntl(fd, F_SETFD, FD_CLOEXEC);
    ::execv(program->c_str(), c_argv.data());
    child_fail(report_write.get());
  }

  // Also here, so that a kill of the group right after start cannot miss it.
  ::setpgid(pid, pid);
  report_write.reset();
  int child_errno = 0;
  ssize_t got = 0;
  do {
    got = ::read(report_read.get(), &child_errno, sizeof child_errno);
  } while (got < 0 && errno == EINTR);
  if (got > 0) {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    throw Error(ExitCode::check_failed, fmt::format("cannot start {}: {}", *program, std::strerror(child_errno)));
  }
  return pid;
}

}  // namespace

std::optional<std::string> find_executable(const std::string& name) {
  if (name.empty()) return std::nullopt;
  if (name.find('/') != std::string::npos) {
    if (is_executable_file(name)) return name;
    return std::nullopt;
  }
  const char* path = std::getenv("PATH");
  std::string_view rest = path != nullptr ? path : "/usr/bin:/bin";
  while (true) {
    const auto colon = rest.find(':');
    const std::string_view dir = rest.substr(0, colon);
    // POSIX: an empty PATH entry is the current directory.
    if (std::string candidate = fmt::format("{}/{}", dir.empty() ? "." : dir, name); is_executable_file(candidate)) {
      return candidate;
    }
    if (colon == std::string_view::npos) return std::nullopt;
    rest.remove_prefix(colon + 1);
  }
}

ChildProcess::ChildProcess(const std::vector<std::string>& argv, const std::string& output_path) {
  Fd out(::open(output_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
  if (out.get() < 0) fail(fmt::format("cannot open {}", output_path));
  pid_ = start_child(argv, out.get());
}

ChildProcess::ChildProcess(const std::vector<std::string>& argv, int output_fd) : pid_(start_child(argv, output_fd)) {}

ChildProcess::~ChildProcess() {
  if (status_) return;
  kill(SIGKILL);
  reap(true);
}

bool ChildProcess::running() {
  reap(false);
  return !status_;
}

void ChildProcess::kill(int signal) noexcept {
  // While the leader is unreaped its pid, and so the group id, cannot have been reused.
  if (!status_) ::kill(-pid_, signal);
}

std::optional<int> ChildProcess::wait_for(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  auto pause = std::chrono::milliseconds(1);
  while (running()) {
    const auto now = Clock::now();
    if (now >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::min<Clock::duration>(pause, deadline - now));
    pause = std::min(pause * 2, std::chrono::milliseconds(20));
  }
  return status_;
}

void ChildProcess::reap(bool block) noexcept {
  if (status_) return;
  int status = 0;
  pid_t done = 0;
  do {
    done = ::waitpid(pid_, &status, block ? 0 : WNOHANG);
  } while (done < 0 && errno == EINTR);
  if (done == pid_) {
    status_ = decode_status(status);
  } else if (done < 0) {
    status_ = -1;  // not our child any more (ECHILD): nothing left to wait for
  }
}

ShellResult run_shell(const std::string& command, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  std::array<int, 2> fds{};
  if (::pipe2(fds.data(), O_CLOEXEC) != 0) fail("cannot create a pipe");
  Fd out_read(fds[0]);
  Fd out_write(fds[1]);
  ChildProcess shell({"/bin/sh", "-c", command}, out_write.get());
  out_write.reset();
  if (::fcntl(out_read.get(), F_SETFL, O_NONBLOCK) != 0) fail("cannot make a pipe non-blocking");

  ShellResult result;
  std::array<char, 8192> buf{};
  // Reads what is there now; closes the pipe at end of file.
  auto drain = [&] {
    while (out_read.get() >= 0) {
      const ssize_t n = ::read(out_read.get(), buf.data(), buf.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
      if (n <= 0) {
        out_read.reset();
        return;
      }
      const std::size_t keep = std::min(static_cast<std::size_t>(n), kShellOutputLimit - result.output.size());
      result.output.append(buf.data(), keep);
    }
  };

  while (shell.running()) {
    if (interrupted()) {
      // Ctrl-C or SIGTERM to us: the command goes too (its group), so that the caller can stop at once.
      shell.kill(SIGTERM);
      if (!shell.wait_for(std::chrono::milliseconds(500))) shell.kill(SIGKILL);
      result.interrupted = true;
      break;
    }
    // Rounded up, so that the command is never killed before its timeout.
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      shell.kill(SIGKILL);
      result.timed_out = true;
      break;
    }
    // Short polls: the shell's exit is seen by waitpid, not by end of file, which a background child may hold off.
    const int wait_ms = static_cast<int>(std::min<long long>(left.count(), 20));
    if (out_read.get() >= 0) {
      pollfd pfd{out_read.get(), POLLIN, 0};
      if (::poll(&pfd, 1, wait_ms) > 0) drain();
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(wait_ms));
    }
  }
  drain();
  // SIGKILL ends the shell at once; the grace only bounds a process stuck in the kernel.
  result.exit_code = shell.wait_for(std::chrono::seconds(5)).value_or(-1);
  return result;
}

}  // namespace sessionctl
