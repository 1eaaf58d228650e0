#include "config/settings.h"

#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "util/duration.h"
#include "util/errors.h"

namespace sessionctl {

EnvLookup process_env() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (!v || !*v) return std::nullopt;
    return std::string(v);
  };
}

std::string read_password_file(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    throw UsageError(fmt::format("password file {} is a directory: give the file that holds the password", path));
  }
  std::ifstream in(path);
  if (!in) throw UsageError(fmt::format("cannot read password file {}: check the path and permissions", path));
  std::string line;
  if (!std::getline(in, line) && !in.eof()) {
    throw UsageError(fmt::format("cannot read password file {}: check the path and permissions", path));
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (line.empty()) {
    // Only the first line is read, so a password below a blank line would be silently ignored.
    std::string rest;
    while (std::getline(in, rest)) {
      if (rest.find_first_not_of(" \t\r") != std::string::npos) {
        throw UsageError(
            fmt::format("password file {} starts with a blank line: the password must be on the first "
                        "line",
                        path));
      }
    }
    throw UsageError(fmt::format("password file {} is empty", path));
  }
  return line;
}

ResolvedConnection resolve_connection(const GlobalOptions& g, const EnvLookup& env,
                                      const std::function<std::string(const std::string&)>& prompt) {
  ResolvedConnection out;
  std::string url;
  if (!g.url.empty()) {
    url = g.url;
    out.url_source = "--url";
  } else {
    for (const char* name : {"SESSIONCTL_URL", "REDIS_URL", "CHANNEL_REDIS_URL"}) {
      if (auto v = env(name)) {
        url = *v;
        out.url_source = name;
        break;
      }
    }
    if (url.empty()) {
      url = "redis://127.0.0.1:6379/0";
      out.url_source = "default";
    }
  }
  try {
    out.options = redis::parse_url(url);
  } catch (const UsageError& e) {
    // Never echo the URL itself: it may carry a password.
    throw UsageError(fmt::format("{} (from {})", e.what(), out.url_source));
  }
  redis::ConnectionOptions& o = out.options;
  if (o.password) out.password_source = "URL";
  if (!g.user.empty()) o.user = g.user;
  if (g.db) {
    if (*g.db < 0) throw UsageError("--db must be 0 or more");
    o.db = *g.db;
  }
  // An empty --askpass answer is no password, never the password "": the other sources then apply.
  std::string typed;
  if (g.password_file.empty() && g.askpass) typed = prompt(fmt::format("Password for {}: ", redis::redacted_url(o)));
  if (!g.password_file.empty()) {
    o.password = read_password_file(g.password_file);
    out.password_source = "--password-file";
  } else if (!typed.empty()) {
    o.password = std::move(typed);
    out.password_source = "--askpass";
  } else if (!o.password) {
    for (const char* name : {"REDISCLI_AUTH", "REDIS_PASSWORD"}) {
      if (auto v = env(name)) {
        o.password = *v;
        out.password_source = name;
        break;
      }
    }
  }
  if (o.sentinel) {
    o.sentinel->user = g.sentinel_user;
    if (!g.sentinel_password_file.empty()) {
      o.sentinel->password = read_password_file(g.sentinel_password_file);
      out.sentinel_password_source = "--sentinel-password-file";
    } else if (auto v = env("SESSIONCTL_SENTINEL_PASSWORD")) {
      o.sentinel->password = *v;
      out.sentinel_password_source = "SESSIONCTL_SENTINEL_PASSWORD";
    }
  } else if (!g.sentinel_user.empty() || !g.sentinel_password_file.empty()) {
    throw UsageError(fmt::format("{} applies to sentinels only: use a redis+sentinel:// URL",
                                 g.sentinel_user.empty() ? "--sentinel-password-file" : "--sentinel-user"));
  }
  o.single_node = g.single_node;
  o.read_replicas = g.replicas;
  if (g.tls && o.scheme == redis::Scheme::tcp) o.scheme = redis::Scheme::tls;
  bool tls_flags =
      !g.cacert.empty() || !g.cacertdir.empty() || !g.cert.empty() || !g.key.empty() || !g.sni.empty() || g.insecure;
  if (tls_flags && o.scheme != redis::Scheme::tls) {
    throw UsageError("TLS flags given for a non-TLS connection: use a rediss:// URL or --tls");
  }
  o.tls = {g.cacert, g.cacertdir, g.cert, g.key, g.sni, g.insecure};
  if (!g.cert.empty() != !g.key.empty()) throw UsageError("--cert and --key go together");
  o.connect_timeout = parse_duration(g.connect_timeout, "--connect-timeout");
  o.command_timeout = parse_duration(g.timeout, "--timeout");
  if (o.connect_timeout.count() <= 0) throw UsageError("--connect-timeout must be above 0");
  if (o.command_timeout.count() <= 0) throw UsageError("--timeout must be above 0");
  return out;
}

}  // namespace sessionctl
