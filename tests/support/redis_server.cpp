#include "redis_server.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <deque>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string_view>
#include <system_error>
#include <thread>

#include "unique_fd.h"

namespace testsupport {

namespace {

using Clock = std::chrono::steady_clock;

constexpr auto kStartTimeout = std::chrono::seconds(10);
constexpr auto kStopTimeout = std::chrono::seconds(5);
constexpr int kPortAttempts = 10;

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  }
  return true;
}

bool contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

// In --no-raw output an error reply is "(error) ..." at top level or after array indices like "1) 2) ";
// strings are always quoted there, so data cannot look like this.
bool is_error_line(std::string_view line) {
  while (!line.empty() && line.front() == ' ') line.remove_prefix(1);
  while (true) {
    std::size_t digits = 0;
    while (digits < line.size() && std::isdigit(static_cast<unsigned char>(line[digits])) != 0) ++digits;
    if (digits == 0 || !line.substr(digits).starts_with(") ")) break;
    line.remove_prefix(digits + 2);
    while (!line.empty() && line.front() == ' ') line.remove_prefix(1);
  }
  return line.starts_with("(error) ") || line.starts_with("Invalid argument(s)");
}

std::string describe(const std::string& what, const RunResult& result) {
  std::ostringstream msg;
  msg << what << ": " << result;
  return msg.str();
}

}  // namespace

std::string config_quote(std::string_view value) {
  std::string out = "\"";
  for (const char c : value) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        out += c;
    }
  }
  return out + "\"";
}

RedisServer::RedisServer(ServerOptions options) : options_(std::move(options)), dir_("sctl-redis-") {
  if (options_.tls) tls_ = options_.tls_material ? *options_.tls_material : make_tls_material(dir_.path());
  for (int attempt = 1;; ++attempt) {
    port_ = options_.cluster_bus_port ? free_cluster_port() : free_port();
    write_config();
    if (launch() == Launch::ready) return;
    if (attempt == kPortAttempts) {
      throw std::runtime_error("redis-server: port still in use after " + std::to_string(attempt) +
                               " attempts; log tail:\n" + log_tail());
    }
  }
}

RedisServer::~RedisServer() { stop(); }

void RedisServer::write_config() const {
  bool custom_save = false;
  bool custom_appendonly = false;
  for (const auto& [key, value] : options_.config) {
    custom_save = custom_save || iequals(key, "save");
    custom_appendonly = custom_appendonly || iequals(key, "appendonly");
  }

  std::ostringstream conf;
  conf << "# Written by testsupport::RedisServer\n"
       << "bind 127.0.0.1\n"
       << "daemonize no\n"
       << "logfile \"\"\n"  // stdout, which spawn() points at redis.log
       << "dir " << config_quote(dir_.path()) << "\n";
  if (options_.tls) {
    const char* auth = options_.tls_client_auth == TlsClientAuth::required   ? "yes"
                       : options_.tls_client_auth == TlsClientAuth::optional ? "optional"
                                                                             : "no";
    conf << "port 0\n"
         << "tls-port " << port_ << "\n"
         << "tls-cert-file " << config_quote(tls_->server_cert) << "\n"
         << "tls-key-file " << config_quote(tls_->server_key) << "\n"
         << "tls-ca-cert-file " << config_quote(tls_->ca_cert) << "\n"
         << "tls-auth-clients " << auth << "\n";
  } else {
    conf << "port " << port_ << "\n";
  }
  if (options_.unix_socket) {
    conf << "unixsocket " << config_quote(unix_path()) << "\n"
         << "unixsocketperm 700\n";
  }
  if (!custom_save) conf << "save \"\"\n";
  if (!custom_appendonly) conf << "appendonly no\n";
  if (!options_.requirepass.empty()) conf << "requirepass " << config_quote(options_.requirepass) << "\n";
  for (const auto& rule : options_.acl_users) conf << "user " << rule << "\n";
  for (const auto& [key, value] : options_.config) conf << key << " " << value << "\n";
  write_file(dir_.file("redis.conf"), conf.str());
}

RedisServer::Launch RedisServer::launch() {
  const std::string log_path = dir_.file("redis.log");
  UniqueFd log(::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
  if (!log) throw std::system_error(errno, std::generic_category(), "open " + log_path);
  struct stat log_stat {};
  const auto log_start = ::fstat(log.get(), &log_stat) == 0 ? static_cast<std::size_t>(log_stat.st_size) : 0U;
  std::vector<std::string> argv{"redis-server", dir_.file("redis.conf")};
  if (options_.sentinel) argv.emplace_back("--sentinel");
  pid_ = spawn(argv, {}, {-1, log.get(), log.get()});
  try {
    return await_ready(log_path, log_start);
  } catch (...) {
    stop(true);
    throw;
  }
}

RedisServer::Launch RedisServer::await_ready(const std::string& log_path, std::size_t log_start) {
  const auto deadline = Clock::now() + kStartTimeout;
  RunResult ping{-1, {}, {}, false};
  while (true) {
    // Only this launch's part of the log counts: a restart appends to the same file.
    const std::string log = read_file(log_path);
    const std::string_view this_run = std::string_view(log).substr(std::min(log_start, log.size()));
    if (!running()) {
      if (contains(this_run, "Address already in use")) return Launch::port_in_use;
      throw std::runtime_error("redis-server exited during startup; log tail:\n" + log_tail());
    }
    // Our own log saying "ready" proves our process bound the port, so the PING below cannot be
    // answered by another test's server that won a race for it. A Sentinel never logs "Ready"; it
    // logs its ID once listening.
    if (contains(this_run, options_.sentinel ? "Sentinel ID is" : "Ready to accept connections")) {
      ping = cli_run({"PING"}, std::nullopt, "", 2000);
      if (ping.exit_code == 0 && ping.out == "PONG\n") return Launch::ready;
      // An ACL setup where the default user may not PING still proves the server answers.
      if (contains(ping.err, "NOAUTH") || contains(ping.err, "WRONGPASS") || contains(ping.err, "NOPERM")) {
        return Launch::ready;
      }
    }
    if (Clock::now() >= deadline) {
      std::ostringstream msg;
      msg << "redis-server on port " << port_ << " did not answer PING within 10 s; last PING: " << ping
          << "\nlog tail:\n"
          << log_tail();
      throw std::runtime_error(msg.str());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

bool RedisServer::reap(bool block) const noexcept {
  if (pid_ <= 0) return true;
  int status = 0;
  while (true) {
    const pid_t done = ::waitpid(pid_, &status, block ? 0 : WNOHANG);
    if (done == pid_ || (done < 0 && errno == ECHILD)) {
      pid_ = -1;
      return true;
    }
    if (done < 0 && errno == EINTR) continue;
    return false;
  }
}

bool RedisServer::running() const noexcept { return !reap(false); }

pid_t RedisServer::pid() const { return running() ? pid_ : -1; }

void RedisServer::stop(bool crash) noexcept {
  if (!running()) return;
  if (!crash) {
    ::kill(pid_, SIGTERM);
    const auto deadline = Clock::now() + kStopTimeout;
    while (Clock::now() < deadline) {
      if (reap(false)) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  // The whole group, so a BGSAVE/AOF-rewrite child cannot finish writing after a "crash".
  ::kill(-pid_, SIGKILL);
  reap(true);
}

void RedisServer::start() {
  if (running()) throw std::logic_error("RedisServer::start: already running");
  if (launch() != Launch::ready) {
    throw std::runtime_error("redis-server could not restart: port " + std::to_string(port_) +
                             " is taken; log tail:\n" + log_tail());
  }
}

std::string RedisServer::unix_path() const { return options_.unix_socket ? dir_.file("redis.sock") : ""; }

std::string RedisServer::url(const std::string& userinfo, int db) const {
  return url_for_host("127.0.0.1", userinfo, db);
}

std::string RedisServer::url_for_host(const std::string& host, const std::string& userinfo, int db) const {
  return std::string(options_.tls ? "rediss://" : "redis://") + (userinfo.empty() ? "" : userinfo + "@") + host + ":" +
         std::to_string(port_) + "/" + std::to_string(db);
}

std::string RedisServer::unix_url(const std::string& userinfo) const {
  if (!options_.unix_socket) throw std::logic_error("RedisServer::unix_url: server has no unix socket");
  return "unix://" + (userinfo.empty() ? "" : userinfo + "@") + unix_path();
}

const TlsMaterial& RedisServer::tls_material() const {
  if (!tls_) throw std::logic_error("RedisServer: TLS material requested from a non-TLS server");
  return *tls_;
}

std::string RedisServer::ca_file() const { return tls_material().ca_cert; }
std::string RedisServer::client_cert() const { return tls_material().client_cert; }
std::string RedisServer::client_key() const { return tls_material().client_key; }
std::string RedisServer::untrusted_ca_file() const { return tls_material().untrusted_ca_cert; }

std::vector<std::string> RedisServer::cli_argv() const {
  std::vector<std::string> argv{"redis-cli", "-e", "--no-auth-warning", "-h", "127.0.0.1", "-p", std::to_string(port_)};
  if (tls_) {
    argv.insert(argv.end(),
                {"--tls", "--cacert", tls_->ca_cert, "--cert", tls_->client_cert, "--key", tls_->client_key});
  }
  return argv;
}

std::optional<CliAuth> RedisServer::default_auth() const {
  if (options_.requirepass.empty()) return std::nullopt;
  return CliAuth{"", options_.requirepass};
}

RunResult RedisServer::cli_run(const std::vector<std::string>& args, const std::optional<CliAuth>& auth,
                               const std::string& stdin_data, int timeout_ms) const {
  std::vector<std::string> argv = cli_argv();
  const std::optional<CliAuth> effective = auth ? auth : default_auth();
  EnvOverrides env;
  if (effective) {
    if (!effective->user.empty()) argv.insert(argv.end(), {"--user", effective->user});
    env["REDISCLI_AUTH"] = effective->password;
  }
  argv.insert(argv.end(), args.begin(), args.end());
  return run(argv, env, stdin_data, timeout_ms);
}

std::string RedisServer::cli(const std::vector<std::string>& args) const {
  const RunResult result = cli_run(args);
  if (result.exit_code != 0 || result.timed_out) throw std::runtime_error(describe("redis-cli failed", result));
  return result.out;
}

std::string RedisServer::cli_as(const CliAuth& auth, const std::vector<std::string>& args) const {
  const RunResult result = cli_run(args, auth);
  if (result.exit_code != 0 || result.timed_out) throw std::runtime_error(describe("redis-cli failed", result));
  return result.out;
}

void RedisServer::cli_script(const std::string& commands) const {
  std::string script;
  std::istringstream in(commands);
  for (std::string line; std::getline(in, line);) {
    const auto first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos || line[first] == '#') continue;
    script += line + "\n";
  }
  // redis-cli exits 0 in this mode even on error replies or a refused connection, so judge the
  // formatted output and stderr instead.
  const RunResult result = cli_run({"--no-raw"}, std::nullopt, script, 60000);
  bool failed = result.exit_code != 0 || result.timed_out || !result.err.empty();
  std::istringstream out(result.out);
  for (std::string line; !failed && std::getline(out, line);) failed = is_error_line(line);
  if (failed) throw std::runtime_error(describe("redis-cli script failed\n--- script ---\n" + script, result));
}

std::string RedisServer::log_tail(std::size_t lines) const {
  std::ifstream in(dir_.file("redis.log"));
  std::deque<std::string> tail;
  for (std::string line; std::getline(in, line);) {
    tail.push_back(line);
    if (tail.size() > lines) tail.pop_front();
  }
  std::string out;
  for (const auto& line : tail) out += line + "\n";
  return out;
}

}  // namespace testsupport
