// How to reach a Redis server: a plain struct with defaults, filled from a URL, flags and the environment.
#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace sessionctl::redis {

enum class Scheme { tcp, tls, unix_socket };

struct TlsOptions {
  std::string cacert;     // CA bundle file; empty = system default
  std::string cacertdir;  // CA directory (c_rehash layout)
  std::string cert;       // client certificate (PEM)
  std::string key;        // client private key (PEM)
  std::string sni;        // server name sent and verified; empty = host
  bool insecure = false;  // skip certificate and host-name verification
};

struct ConnectionOptions {
  Scheme scheme = Scheme::tcp;
  std::string host = "127.0.0.1";
  int port = 6379;
  std::string path;  // unix socket path
  std::string user;  // ACL user; empty = default user
  std::optional<std::string> password;
  int db = 0;
  TlsOptions tls;
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds command_timeout{30000};
  std::size_t max_reply_bytes = 100u * 1024u * 1024u;  // refuse replies above this (memory stays bounded)
  std::string client_name = "sessionctl";
  bool single_node = false;    // read a Redis Cluster node as if it held the whole store (--single-node)
  bool read_replicas = false;  // in a cluster, read from replicas (READONLY) to spare the primaries (--replicas)
};

// Parses redis://[user[:password]@]host[:port][/db], rediss://… and unix://[user[:password]@]/path[?db=N];
// user-info without ':' is a user name (as the apps' clients read it), ":password" a password alone.
// Throws UsageError naming what is wrong (scheme, port range, db, empty host).
ConnectionOptions parse_url(const std::string& url);

// The URL with any password replaced by ***: safe for any output.
std::string redacted_url(const ConnectionOptions& options);

// "127.0.0.1:6379" or the socket path: for messages.
std::string endpoint(const ConnectionOptions& options);

}  // namespace sessionctl::redis
