#include "process.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <ostream>
#include <random>
#include <stdexcept>
#include <string_view>
#include <system_error>
#include <thread>

#include "unique_fd.h"

#ifndef SESSIONCTL_BIN
#error "SESSIONCTL_BIN must be defined to the path of the sessionctl binary under test"
#endif

extern char** environ;

namespace testsupport {

namespace {

using Clock = std::chrono::steady_clock;

// Variables that would point a child at a developer's real Redis or change its output.
constexpr std::array<std::string_view, 6> kStrippedVariables = {"SESSIONCTL_URL", "REDIS_URL",      "CHANNEL_REDIS_URL",
                                                                "REDISCLI_AUTH",  "REDIS_PASSWORD", "NO_COLOR"};

bool is_stripped(std::string_view name) {
  return name.starts_with("SESSIONCTL_") ||
         std::find(kStrippedVariables.begin(), kStrippedVariables.end(), name) != kStrippedVariables.end();
}

[[noreturn]] void throw_errno(const std::string& what) {
  throw std::system_error(errno, std::generic_category(), what);
}

std::array<UniqueFd, 2> make_pipe() {
  std::array<int, 2> fds{};
  if (::pipe2(fds.data(), O_CLOEXEC) != 0) throw_errno("pipe2");
  return {UniqueFd(fds[0]), UniqueFd(fds[1])};
}

void set_nonblocking(int fd) {
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) throw_errno("fcntl O_NONBLOCK");
}

// A child writing to a closed stdin pipe must not kill the test process with SIGPIPE; spawn()
// restores the default disposition in children.
void ignore_sigpipe_once() {
  static std::once_flag once;
  std::call_once(once, [] { std::signal(SIGPIPE, SIG_IGN); });
}

int decode_wait_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

int wait_blocking(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) throw_errno("waitpid");
  }
  return decode_wait_status(status);
}

// Moves `fd` out of the 0..2 range so dup2 onto the standard descriptors cannot clobber it.
// Runs in the forked child: async-signal-safe calls only.
int lift_fd(int fd) {
  if (fd >= 0 && fd <= 2) return ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
  return fd;
}

// Makes `fd` the child's descriptor `target`, cleared of FD_CLOEXEC. Async-signal-safe.
bool install_fd(int fd, int target) {
  if (fd == target) return ::fcntl(fd, F_SETFD, 0) == 0;
  return ::dup2(fd, target) == target;
}

[[noreturn]] void child_fail(int error_fd) {
  const int err = errno;
  [[maybe_unused]] const auto written = ::write(error_fd, &err, sizeof err);
  ::_exit(127);
}

}  // namespace

std::ostream& operator<<(std::ostream& os, const RunResult& result) {
  os << "exit_code=" << result.exit_code << (result.timed_out ? " (timed out)" : "") << "\n--- stdout ---\n"
     << result.out << "\n--- stderr ---\n"
     << result.err << "\n--------------";
  return os;
}

std::vector<std::string> child_environment(const EnvOverrides& env) {
  std::map<std::string, std::string> vars;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    const std::string_view kv(*entry);
    const auto eq = kv.find('=');
    if (eq == std::string_view::npos) continue;
    const std::string_view name = kv.substr(0, eq);
    if (is_stripped(name)) continue;
    vars[std::string(name)] = std::string(kv.substr(eq + 1));
  }
  for (const auto& [name, value] : env) {
    if (value) {
      vars[name] = *value;
    } else {
      vars.erase(name);
    }
  }
  std::vector<std::string> out;
  out.reserve(vars.size());
  for (const auto& [name, value] : vars) out.push_back(name + "=" + value);
  return out;
}

std::optional<std::string> find_in_path(const std::string& program, const std::string& search_path) {
  if (program.empty()) return std::nullopt;
  if (program.find('/') != std::string::npos) return program;
  std::string_view rest = search_path;
  while (true) {
    const auto colon = rest.find(':');
    std::string dir(rest.substr(0, colon));
    if (dir.empty()) dir = ".";  // POSIX: an empty PATH entry means the current directory
    const std::string candidate = dir + "/" + program;
    struct stat st {};
    if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
    if (colon == std::string_view::npos) return std::nullopt;
    rest.remove_prefix(colon + 1);
  }
}

std::optional<std::string> find_in_path(const std::string& program) {
  const char* path = std::getenv("PATH");
  return find_in_path(program, path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin");
}

pid_t spawn(const std::vector<std::string>& argv, const EnvOverrides& env, SpawnFds fds) {
  if (argv.empty()) throw std::invalid_argument("spawn: empty argv");

  // Everything the child needs is prepared before fork(): after it, only async-signal-safe calls.
  const std::vector<std::string> environment = child_environment(env);
  std::string search_path = "/usr/local/bin:/usr/bin:/bin";
  for (const auto& var : environment) {
    if (var.starts_with("PATH=")) search_path = var.substr(5);
  }
  const auto program = find_in_path(argv[0], search_path);
  if (!program) throw std::runtime_error("spawn: '" + argv[0] + "' not found in PATH=" + search_path);

  std::vector<char*> c_argv;
  c_argv.reserve(argv.size() + 1);
  for (const auto& arg : argv) c_argv.push_back(const_cast<char*>(arg.c_str()));
  c_argv.push_back(nullptr);
  std::vector<char*> c_env;
  c_env.reserve(environment.size() + 1);
  for (const auto& var : environment) c_env.push_back(const_cast<char*>(var.c_str()));
  c_env.push_back(nullptr);

  UniqueFd dev_null(::open("/dev/null", O_RDWR | O_CLOEXEC));
  if (!dev_null) throw_errno("open /dev/null");
  const int in_fd = fds.in >= 0 ? fds.in : dev_null.get();
  const int out_fd = fds.out >= 0 ? fds.out : dev_null.get();
  const int err_fd = fds.err >= 0 ? fds.err : dev_null.get();

  auto [error_read, error_write] = make_pipe();
  rlimit fd_limit{};
  const unsigned max_fd = (::getrlimit(RLIMIT_NOFILE, &fd_limit) == 0 && fd_limit.rlim_cur != RLIM_INFINITY)
                              ? static_cast<unsigned>(std::min<rlim_t>(fd_limit.rlim_cur, 1U << 20))
                              : 65536U;
  const pid_t parent = ::getpid();

  const pid_t pid = ::fork();
  if (pid < 0) throw_errno("fork");
  if (pid == 0) {
    const int report = error_write.get();
    ::setpgid(0, 0);
    // Dies with the thread that spawned it, so an aborted test run leaves no servers behind.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; ++sig) ::sigaction(sig, &dfl, nullptr);
    sigset_t none;
    ::sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);

    const int in = lift_fd(in_fd);
    const int out = lift_fd(out_fd);
    const int err = lift_fd(err_fd);
    if (in < 0 || out < 0 || err < 0) child_fail(report);
    if (!install_fd(in, 0) || !install_fd(out, 1) || !install_fd(err, 2)) child_fail(report);
      // Descriptors other code opened without O_CLOEXEC must not leak into the child.
#ifdef SYS_close_range
    if (::syscall(SYS_close_range, 3U, ~0U, 4U /* CLOSE_RANGE_CLOEXEC */) != 0)
#endif
    {
      for (unsigned fd = 3; fd < max_fd; ++fd) ::fcntl(static_cast<int>(fd), F_SETFD, FD_CLOEXEC);
    }
    ::execve(program->c_str(), c_argv.data(), c_env.data());
    child_fail(report);
  }

  // Also set in the parent so a kill(-pid) right after spawn() cannot miss the group.
  ::setpgid(pid, pid);
  error_write.reset();
  int child_errno = 0;
  ssize_t got = 0;
  do {
    got = ::read(error_read.get(), &child_errno, sizeof child_errno);
  } while (got < 0 && errno == EINTR);
  if (got > 0) {
    wait_blocking(pid);
    throw std::runtime_error("spawn: cannot execute " + *program + ": " + std::strerror(child_errno));
  }
  return pid;
}

RunResult run(const std::vector<std::string>& argv, const EnvOverrides& env, const std::string& stdin_data,
              int timeout_ms) {
  ignore_sigpipe_once();
  auto [in_read, in_write] = make_pipe();
  auto [out_read, out_write] = make_pipe();
  auto [err_read, err_write] = make_pipe();

  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  const pid_t pid = spawn(argv, env, {in_read.get(), out_write.get(), err_write.get()});
  in_read.reset();
  out_write.reset();
  err_write.reset();
  set_nonblocking(in_write.get());
  set_nonblocking(out_read.get());
  set_nonblocking(err_read.get());

  RunResult result{-1, {}, {}, false};
  std::size_t stdin_written = 0;
  if (stdin_data.empty()) in_write.reset();

  auto drain = [](UniqueFd& fd, std::string& sink) {
    std::array<char, 65536> buf{};
    while (true) {
      const ssize_t n = ::read(fd.get(), buf.data(), buf.size());
      if (n > 0) {
        sink.append(buf.data(), static_cast<std::size_t>(n));
      } else if (n < 0 && errno == EINTR) {
        continue;
      } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        return;
      } else {
        fd.reset();  // EOF, or an error that ends this stream
        return;
      }
    }
  };

  // Poll all three pipes together: a child blocked writing a full stderr pipe while we wait on
  // stdout (or on its stdin) would otherwise deadlock.
  while (in_write || out_read || err_read) {
    const auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (remaining <= 0) {
      result.timed_out = true;
      break;
    }
    std::array<pollfd, 3> pfds{};
    nfds_t count = 0;
    auto add = [&](const UniqueFd& fd, short events) {
      if (fd) pfds[count++] = pollfd{fd.get(), events, 0};
    };
    add(in_write, POLLOUT);
    add(out_read, POLLIN);
    add(err_read, POLLIN);
    const int ready = ::poll(pfds.data(), count, static_cast<int>(std::min<long long>(remaining, 1000)));
    if (ready < 0) {
      if (errno == EINTR) continue;
      throw_errno("poll");
    }
    for (nfds_t i = 0; i < count; ++i) {
      if (pfds[i].revents == 0) continue;
      if (pfds[i].fd == in_write.get()) {
        if ((pfds[i].revents & (POLLERR | POLLHUP)) != 0) {
          in_write.reset();  // the child closed its stdin; the rest of stdin_data is dropped
          continue;
        }
        const ssize_t n = ::write(in_write.get(), stdin_data.data() + stdin_written, stdin_data.size() - stdin_written);
        if (n > 0) stdin_written += static_cast<std::size_t>(n);
        if ((n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) ||
            stdin_written == stdin_data.size()) {
          in_write.reset();
        }
      } else if (pfds[i].fd == out_read.get()) {
        drain(out_read, result.out);
      } else if (pfds[i].fd == err_read.get()) {
        drain(err_read, result.err);
      }
    }
  }

  // The pipes are closed; the child may still be running (it closed them itself).
  while (!result.timed_out) {
    int status = 0;
    const pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) {
      result.exit_code = decode_wait_status(status);
      return result;
    }
    if (done < 0 && errno != EINTR) throw_errno("waitpid");
    if (Clock::now() >= deadline) {
      result.timed_out = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }

  // The leader is not reaped yet, so its process group id cannot have been reused.
  ::kill(-pid, SIGKILL);
  ::kill(pid, SIGKILL);
  result.exit_code = wait_blocking(pid);
  if (out_read) drain(out_read, result.out);
  if (err_read) drain(err_read, result.err);
  return result;
}

std::string sessionctl_bin() { return SESSIONCTL_BIN; }

RunResult run_sessionctl(const std::vector<std::string>& args, const EnvOverrides& env, const std::string& stdin_data,
                         int timeout_ms) {
  std::vector<std::string> argv{sessionctl_bin()};
  argv.insert(argv.end(), args.begin(), args.end());
  return run(argv, env, stdin_data, timeout_ms);
}

namespace {

// True if a socket could bind 127.0.0.1:port just now.
bool loopback_port_free(int port) {
  UniqueFd sock(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!sock) throw_errno("socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  return ::bind(sock.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0;
}

std::mt19937& port_rng() {
  static std::mt19937 rng(std::random_device{}());
  return rng;
}

}  // namespace

int free_port() {
  // Ports below 50000 only (the kernel's ephemeral range reaches 60999, and a cluster node's bus port is
  // port + 10000 unless set): pick at random in [20000, 49999] and keep the first that binds.
  std::uniform_int_distribution<int> pick(20000, 49999);
  for (int attempt = 0; attempt < 200; ++attempt) {
    const int port = pick(port_rng());
    if (loopback_port_free(port)) return port;
  }
  throw std::runtime_error("no free loopback port below 50000 after 200 attempts");
}

int free_cluster_port() {
  // [20000, 39999], so the bus port stays below 50000 too, out of the kernel's ephemeral range.
  std::uniform_int_distribution<int> pick(20000, 39999);
  for (int attempt = 0; attempt < 200; ++attempt) {
    const int port = pick(port_rng());
    if (loopback_port_free(port) && loopback_port_free(port + kClusterBusOffset)) return port;
  }
  throw std::runtime_error("no free loopback port pair (port, port + 10000) below 50000 after 200 attempts");
}

}  // namespace testsupport
