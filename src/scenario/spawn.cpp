#include "scenario/spawn.h"

#include <fmt/format.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <csignal>
#include <cstdint>
#include <deque>
#include <fstream>
#include <random>
#include <string_view>
#include <thread>
#include <utility>

#include "redis/client.h"
#include "redis/options.h"
#include "redis/reply.h"
#include "util/errors.h"

namespace sessionctl::scenario {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int kPortAttempts = 10;
constexpr std::size_t kLogTailLines = 5;
// Settings SpawnedRedis decides itself: the port it probed, loopback only, its temp dir, in the foreground.
constexpr std::array<std::string_view, 5> kOwnSettings = {"port", "bind", "dir", "daemonize", "logfile"};

std::string log_path(const TempDir& dir) { return dir.file("redis.log"); }

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

std::string find_redis_server(const std::string& requested) {
  if (requested.empty()) {
    if (auto found = find_executable("redis-server")) return *found;
    throw UsageError("no redis-server on PATH; install redis-server or pass --redis-server PATH");
  }
  if (auto found = find_executable(requested)) return *found;
  throw UsageError(fmt::format("no redis-server at '{}': not an executable file", requested));
}

std::vector<std::string> setting_args(const std::vector<std::string>& config) {
  std::vector<std::string> args;
  for (const auto& setting : config) {
    const auto eq = setting.find('=');
    if (eq == std::string::npos || eq == 0) {
      throw UsageError(fmt::format("redis-server setting '{}' is not key=value (e.g. appendonly=yes)", setting));
    }
    const std::string key = lower(setting.substr(0, eq));
    if (std::find(kOwnSettings.begin(), kOwnSettings.end(), key) != kOwnSettings.end()) {
      throw UsageError(
          fmt::format("redis-server setting '{}' is sessionctl's own: the spawned server runs on a free loopback "
                      "port with its data in a temp dir",
                      key));
    }
    // One argument even when empty or spaced: redis-server reads `--save ""` as no save points and
    // `--save "3600 1"` as one save point.
    args.push_back("--" + key);
    args.push_back(setting.substr(eq + 1));
  }
  return args;
}

// Whether 127.0.0.1:port could be bound just now; redis-server may still lose a race for it.
bool port_free(int port) {
  const int sock = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (sock < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  const bool bound = ::bind(sock, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0;
  ::close(sock);
  return bound;
}

// Below 50000: the kernel hands out ephemeral ports from 32768 (or 49152) up, and a cluster bus would sit
// at port + 10000; a random start keeps parallel runs apart.
int pick_free_port() {
  static std::mt19937 rng(std::random_device{}());
  std::uniform_int_distribution<int> pick(20000, 49999);
  for (int attempt = 0; attempt < 200; ++attempt) {
    if (const int port = pick(rng); port_free(port)) return port;
  }
  throw ConnectionError("no free loopback port below 50000 for redis-server after 200 attempts");
}

std::size_t file_size(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  return in ? static_cast<std::size_t>(in.tellg()) : 0;
}

// The log from byte `from` on.
std::string read_log(const std::string& path, std::size_t from) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  in.seekg(static_cast<std::streamoff>(from));
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The log's last non-empty lines joined by " | ", since an error's text is one line.
std::string log_tail(const std::string& path) {
  std::ifstream in(path);
  std::deque<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    lines.push_back(std::move(line));
    if (lines.size() > kLogTailLines) lines.pop_front();
  }
  if (lines.empty()) return "its log is empty";
  std::string text = "its log ends: ";
  for (std::size_t i = 0; i < lines.size(); ++i) text += (i == 0 ? "" : " | ") + lines[i];
  return text;
}

redis::ConnectionOptions probe_options(int port) {
  redis::ConnectionOptions options;
  options.host = "127.0.0.1";
  options.port = port;
  options.single_node = true;  // no INFO cluster: a cluster-enabled setting is the caller's business
  options.connect_timeout = std::chrono::milliseconds(500);
  options.command_timeout = std::chrono::milliseconds(2000);
  return options;
}

}  // namespace

SpawnedRedis::SpawnedRedis(const SpawnOptions& options)
    : program_(find_redis_server(options.redis_server)),
      settings_(setting_args(options.config)),
      timeout_(options.timeout),
      dir_("sessionctl-spawn-") {
  for (int attempt = 1;; ++attempt) {
    port_ = pick_free_port();
    if (launch() == Launch::ready) return;
    if (attempt == kPortAttempts) {
      fail(fmt::format("redis-server lost the race for a free port {} times", kPortAttempts));
    }
  }
}

std::string SpawnedRedis::url() const { return fmt::format("redis://127.0.0.1:{}/0", port_); }

pid_t SpawnedRedis::pid() const noexcept { return server_ ? server_->pid() : -1; }

std::chrono::milliseconds SpawnedRedis::restart(bool crash, const std::function<void()>& while_down) {
  if (!server_ || !server_->running()) fail("the spawned redis-server is not running");
  const auto down_since = Clock::now();
  if (crash) {
    server_->kill(SIGKILL);
  } else {
    std::optional<redis::Reply> refused;
    try {
      refused = redis::connect(probe_options(port_))->run1({"SHUTDOWN"});
    } catch (const ConnectionError&) {
      // The server closes the connection as it exits, without a reply: that is SHUTDOWN succeeding.
    }
    if (refused && refused->is_error()) redis::throw_reply_error(*refused, "SHUTDOWN of the spawned redis-server");
  }
  if (!server_->wait_for(timeout_)) {
    const std::string why = fmt::format("redis-server did not exit within {} ms of {}; killed", timeout_.count(),
                                        crash ? "SIGKILL" : "SHUTDOWN");
    server_.reset();
    throw TimeoutError(fmt::format("{}; {}", why, log_tail(log_path(dir_))));
  }
  server_.reset();
  if (while_down) while_down();
  if (launch() == Launch::port_taken) fail(fmt::format("port {} was taken while redis-server was down", port_));
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - down_since);
}

void SpawnedRedis::stop() noexcept { server_.reset(); }

SpawnedRedis::Launch SpawnedRedis::launch() {
  const std::string log = log_path(dir_);
  std::vector<std::string> argv = {program_, "--port",    std::to_string(port_), "--bind", "127.0.0.1",
                                   "--dir",  dir_.path(), "--daemonize",         "no",     "--logfile",
                                   log};
  argv.insert(argv.end(), settings_.begin(), settings_.end());
  const std::size_t log_start = file_size(log);
  const auto deadline = Clock::now() + timeout_;
  // stdout and stderr into the log too: a bad setting is reported there before the logfile is opened.
  server_.emplace(argv, log);
  while (true) {
    if (!server_->running()) {
      const int status = server_->exit_status().value_or(-1);
      server_.reset();
      if (read_log(log, log_start).find("Address already in use") != std::string::npos) return Launch::port_taken;
      fail(fmt::format("redis-server exited with status {} while starting on port {}", status, port_));
    }
    if (ready()) return Launch::ready;
    if (Clock::now() >= deadline) {
      server_.reset();
      throw TimeoutError(fmt::format("redis-server on port {} was not ready within {} ms; {}", port_, timeout_.count(),
                                     log_tail(log)));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

bool SpawnedRedis::ready() const {
  try {
    const redis::Reply info = redis::connect(probe_options(port_))->run1({"INFO", "persistence"});
    // At a line start: Redis 7 also has async_loading, whose "async_loading:0" would match alone.
    return !info.is_error() && info.str.find("\nloading:0") != std::string::npos;
  } catch (const ConnectionError&) {
    return false;  // not listening yet, or -LOADING to the connection's PING
  }
}

void SpawnedRedis::fail(const std::string& what) {
  throw ConnectionError(fmt::format("{}; {}", what, log_tail(log_path(dir_))));
}

}  // namespace sessionctl::scenario
