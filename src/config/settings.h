// The global flags every command shares, as a plain struct, and how they resolve into connection options.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "redis/options.h"
#include "render/format.h"

namespace sessionctl {

struct GlobalOptions {
  std::string url;                     // -u/--url; empty = from the environment
  std::string user;                    // --user overrides the URL's user
  std::string password_file;           // --password-file
  bool askpass = false;                // --askpass
  std::string sentinel_user;           // --sentinel-user: the sentinels' ACL user
  std::string sentinel_password_file;  // --sentinel-password-file: the sentinels' password
  bool single_node = false;            // --single-node: read a cluster node as if it were the whole store
  bool replicas = false;               // --replicas: read a cluster's replicas
  std::optional<int> db;               // --db overrides the URL's db
  bool tls = false;                    // --tls: use TLS even with redis://
  std::string cacert, cacertdir, cert, key, sni;
  bool insecure = false;
  std::string connect_timeout = "5s";
  std::string timeout = "30s";
  std::string output = "table";       // -o table|json|jsonl
  std::vector<std::string> profiles;  // --profile NAME (repeatable)
  std::string profiles_file;          // --profiles-file
  bool reveal = false;
  bool quiet = false;
  bool no_color = false;
};

using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;

// The process environment, for production use.
EnvLookup process_env();

// Where the URL came from, for messages: "--url", "SESSIONCTL_URL", …, "default".
struct ResolvedConnection {
  redis::ConnectionOptions options;
  std::string url_source;
  std::string password_source;           // "" when no password
  std::string sentinel_password_source;  // --sentinel-password-file, SESSIONCTL_SENTINEL_PASSWORD or ""
};

// Picks the URL (--url, SESSIONCTL_URL, REDIS_URL, CHANNEL_REDIS_URL, default) and the password
// (--password-file, --askpass, URL, REDISCLI_AUTH, REDIS_PASSWORD), applies TLS flags and timeouts. Those are
// the data nodes' credentials; for a redis+sentinel:// URL the sentinels get --sentinel-user and the password
// from --sentinel-password-file or SESSIONCTL_SENTINEL_PASSWORD, or none.
// `prompt` reads a password from the terminal for --askpass; an empty answer falls through to the URL
// and the environment. Throws UsageError on bad input.
ResolvedConnection resolve_connection(const GlobalOptions& global, const EnvLookup& env,
                                      const std::function<std::string(const std::string&)>& prompt);

// Reads the first line of a password file; refuses an empty or unreadable file.
std::string read_password_file(const std::string& path);

}  // namespace sessionctl
