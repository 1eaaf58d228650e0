#pragma once

#include <sys/types.h>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "process.h"
#include "temp_dir.h"
#include "tls_material.h"

namespace testsupport {

// Redis's tls-auth-clients setting: whether TLS clients must present a certificate.
enum class TlsClientAuth { no, optional, required };

// How a RedisServer is configured; the defaults give a plain, passwordless, non-persistent server.
// Every member has a default initializer so designated initializers may name any subset.
struct ServerOptions {
  // TLS-only port (plain port 0) with certificates made by openssl in the temp dir.
  bool tls = false;
  // tls-auth-clients; "optional" checks a client certificate only if one is sent.
  TlsClientAuth tls_client_auth = TlsClientAuth::optional;
  // With tls: these certificates instead of new ones, so several servers (a cluster's nodes) trust each other.
  std::optional<TlsMaterial> tls_material{};
  // Also listen on <dir>/redis.sock (unixsocketperm 700).
  bool unix_socket = false;
  // The default user's password; empty for none.
  std::string requirepass{};
  // ACL rules after the user name, one user each: "reader on >pw ~* +@read" -> `user reader on >pw ~* +@read`.
  std::vector<std::string> acl_users{};
  // Extra redis.conf lines (key, value written verbatim, so config-file quoting applies), written last so
  // they override the harness's lines; "save" or "appendonly" here replace save "" / appendonly no.
  std::vector<std::pair<std::string, std::string>> config{};
  // The port comes from free_cluster_port(), so a cluster node's bus (port + 10000) is free too.
  bool cluster_bus_port = false;
  // Runs as a Sentinel (`redis-server <conf> --sentinel`, ready once its log shows its Sentinel ID); the
  // "sentinel ..." lines go in config. Sentinel rewrites redis.conf, which start() keeps.
  bool sentinel = false;
};

// `value` double-quoted for redis.conf (the escapes Redis's sdssplitargs reads), e.g. for a password in config.
std::string config_quote(std::string_view value);

// Who redis-cli authenticates as: `user` empty means the default user (AUTH <password> only).
struct CliAuth {
  std::string user{};
  std::string password{};
};

// A real redis-server on 127.0.0.1 with its own temp dir (config, data, log and certificates).
// Must be created and destroyed on one thread: the server is SIGKILLed if that thread exits.
class RedisServer {
 public:
  // Writes <dir>/redis.conf (port <free>, bind 127.0.0.1, dir <dir>, save "", appendonly no, daemonize no,
  // log to <dir>/redis.log), starts redis-server and waits until its log says ready and PING answers
  // (riding out -LOADING); retries with another port if the port was taken; throws std::runtime_error
  // with the log's tail if it exits or is not up within 10 s.
  explicit RedisServer(ServerOptions options = {});
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;
  // Stops the server (SIGTERM, SIGKILL after 5 s) and removes the temp dir.
  ~RedisServer();

  // The TCP port (the TLS port when tls).
  int port() const noexcept { return port_; }
  // The server's temp dir: redis.conf, redis.log, data files, certificates.
  const std::string& dir() const noexcept { return dir_.path(); }
  // <dir>/redis.sock when unix_socket, else "".
  std::string unix_path() const;
  // "redis://[userinfo@]127.0.0.1:<port>/<db>", "rediss://..." when tls; userinfo is used verbatim.
  std::string url(const std::string& userinfo = "", int db = 0) const;
  // url() with another host name (e.g. "localhost" for TLS name checks).
  std::string url_for_host(const std::string& host, const std::string& userinfo = "", int db = 0) const;
  // "unix://[userinfo@]<dir>/redis.sock"; throws std::logic_error unless unix_socket.
  std::string unix_url(const std::string& userinfo = "") const;

  // The CA that signed the server and client certificates; throws std::logic_error unless tls.
  std::string ca_file() const;
  // A client certificate signed by ca_file(); throws std::logic_error unless tls.
  std::string client_cert() const;
  // The client certificate's key; throws std::logic_error unless tls.
  std::string client_key() const;
  // An unrelated self-signed CA that does not verify the server; throws std::logic_error unless tls.
  std::string untrusted_ca_file() const;
  // All certificate and key paths; throws std::logic_error unless tls.
  const TlsMaterial& tls_material() const;

  // Graceful: SIGTERM (Redis shuts down as for SHUTDOWN, flushing the AOF) and wait, SIGKILL after 5 s.
  // crash: SIGKILL to the server's process group at once. No-op when not running.
  void stop(bool crash = false) noexcept;
  // Starts again with the same dir, port and config and waits for PING; throws std::logic_error if
  // running, std::runtime_error if it does not come up (e.g. the port was taken meanwhile).
  void start();
  // True while the server process is alive.
  bool running() const noexcept;
  // The server's pid, or -1 when not running.
  pid_t pid() const;
  // The options it was started with.
  const ServerOptions& options() const noexcept { return options_; }

  // Runs `redis-cli -e <connection flags> <args>` as the default user (password from requirepass via
  // REDISCLI_AUTH, never argv) and returns stdout; throws std::runtime_error on a non-zero exit, which
  // -e makes include error replies.
  std::string cli(const std::vector<std::string>& args) const;
  // cli() authenticated as `auth`.
  std::string cli_as(const CliAuth& auth, const std::vector<std::string>& args) const;
  // Like cli() but returns the whole result without throwing (an error reply: exit 1, text on stderr);
  // `auth` defaults to cli()'s; args may start with redis-cli flags such as --no-raw.
  RunResult cli_run(const std::vector<std::string>& args, const std::optional<CliAuth>& auth = std::nullopt,
                    const std::string& stdin_data = "", int timeout_ms = 30000) const;
  // Feeds newline-separated commands (redis-cli quoting; blank lines and lines starting with '#'
  // skipped) to one redis-cli; throws std::runtime_error listing the output if any reply is an error.
  void cli_script(const std::string& commands) const;
  // The last `lines` lines of <dir>/redis.log.
  std::string log_tail(std::size_t lines = 30) const;

 private:
  enum class Launch { ready, port_in_use };
  void write_config() const;
  Launch launch();
  Launch await_ready(const std::string& log_path, std::size_t log_start);
  std::vector<std::string> cli_argv() const;
  std::optional<CliAuth> default_auth() const;
  bool reap(bool block) const noexcept;

  ServerOptions options_;
  TempDir dir_;
  std::optional<TlsMaterial> tls_;
  int port_ = 0;
  mutable pid_t pid_ = -1;
};

}  // namespace testsupport
