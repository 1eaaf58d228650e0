#include "redis/options.h"

#include <fmt/format.h>

#include <cctype>
#include <charconv>

#include "util/errors.h"

namespace sessionctl::redis {
namespace {

std::string percent_decode(std::string_view in, const std::string& what) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out += in[i];
      continue;
    }
    // Two hex digits exactly: from_chars alone would also take a sign ("%-1").
    if (i + 2 >= in.size() || !std::isxdigit(static_cast<unsigned char>(in[i + 1])) ||
        !std::isxdigit(static_cast<unsigned char>(in[i + 2]))) {
      throw UsageError(fmt::format("bad percent-encoding in the URL's {}", what));
    }
    int value = 0;
    std::from_chars(in.data() + i + 1, in.data() + i + 3, value, 16);
    out += static_cast<char>(value);
    i += 2;
  }
  return out;
}

int parse_int(std::string_view text, int lo, int hi, const char* what) {
  int value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size() || value < lo || value > hi) {
    throw UsageError(fmt::format("invalid {} '{}' in URL: expected {}..{}", what, text, lo, hi));
  }
  return value;
}

void parse_userinfo(std::string_view userinfo, ConnectionOptions& o) {
  auto colon = userinfo.find(':');
  if (colon == std::string_view::npos) {
    // A lone user-info is a user name, as ioredis, node-redis and redis-py read the REDIS_URL the apps share
    // (redis-cli -u reads it as a password); the password then comes from the other sources.
    o.user = percent_decode(userinfo, "user");
    return;
  }
  o.user = percent_decode(userinfo.substr(0, colon), "user");
  o.password = percent_decode(userinfo.substr(colon + 1), "password");
}

// "host", "host:port", "[v6]" or "[v6]:port"; the port defaults to `default_port`. The host may come back empty.
HostPort parse_hostport(std::string_view hostport, int default_port, const char* port_name) {
  HostPort out;
  out.port = default_port;
  std::string_view host = hostport;
  if (!hostport.empty() && hostport.front() == '[') {  // [ipv6]:port
    auto close = hostport.find(']');
    if (close == std::string_view::npos) throw UsageError("malformed URL: unterminated '[' in host");
    host = hostport.substr(1, close - 1);
    auto after = hostport.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') throw UsageError("malformed URL: expected ':' after ']'");
      out.port = parse_int(after.substr(1), 1, 65535, port_name);
    }
  } else if (auto colon = hostport.rfind(':'); colon != std::string_view::npos) {
    host = hostport.substr(0, colon);
    out.port = parse_int(hostport.substr(colon + 1), 1, 65535, port_name);
  }
  out.host = std::string(host);
  return out;
}

constexpr const char* kMalformed =
    "malformed URL: expected redis://host:port/db, rediss://…, unix:///path or redis+sentinel://…";
constexpr int kSentinelPort = 26379;
constexpr const char* kSentinelForm = "redis+sentinel://host:port[,host:port…]/master-name[/db]";

// "h1:p1,h2:p2/master[/db]": the sentinels to ask, the master's name, the data nodes' db.
void parse_sentinel_path(std::string_view rest, ConnectionOptions& o) {
  auto slash = rest.find('/');
  std::string_view list = rest.substr(0, slash);
  if (list.empty())
    throw UsageError(fmt::format("malformed sentinel URL: no sentinel addresses (expected {})", kSentinelForm));
  while (true) {
    auto comma = list.find(',');
    HostPort address = parse_hostport(list.substr(0, comma), kSentinelPort, "sentinel port");
    if (address.host.empty()) {
      throw UsageError(
          fmt::format("malformed sentinel URL: a sentinel address without a host (expected {})", kSentinelForm));
    }
    o.sentinel->sentinels.push_back(std::move(address));
    if (comma == std::string_view::npos) break;
    list = list.substr(comma + 1);
  }
  std::string_view path = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);
  auto db_slash = path.find('/');
  o.sentinel->master_name = percent_decode(path.substr(0, db_slash), "master name");
  if (o.sentinel->master_name.empty()) {
    throw UsageError(fmt::format("sentinel URL names no master: expected {}", kSentinelForm));
  }
  if (db_slash != std::string_view::npos) {
    std::string_view db = path.substr(db_slash + 1);
    if (!db.empty()) o.db = parse_int(db, 0, 1 << 20, "db");
  }
  // The primary's address is what connect() asks the sentinels for.
  o.host.clear();
  o.port = 0;
}

}  // namespace

ConnectionOptions parse_url(const std::string& url) {
  ConnectionOptions o;
  auto sep = url.find("://");
  if (sep == std::string::npos) {
    throw UsageError(kMalformed);
  }
  std::string scheme = url.substr(0, sep);
  std::string_view rest = std::string_view(url).substr(sep + 3);
  if (scheme == "redis") {
    o.scheme = Scheme::tcp;
  } else if (scheme == "rediss") {
    o.scheme = Scheme::tls;
  } else if (scheme == "unix") {
    o.scheme = Scheme::unix_socket;
  } else if (scheme == "redis+sentinel" || scheme == "rediss+sentinel") {
    o.scheme = scheme == "rediss+sentinel" ? Scheme::tls : Scheme::tcp;
    o.sentinel.emplace();
  } else {
    // Echo the scheme only when it looks like one: a malformed URL can put a password before "://".
    bool plausible = !scheme.empty() && scheme.size() <= 16 &&
                     scheme.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-") ==
                         std::string::npos;
    throw UsageError(
        plausible
            ? fmt::format("unknown URL scheme '{}': use redis://, rediss://, unix:// or redis+sentinel://", scheme)
            : std::string(kMalformed));
  }

  // Userinfo ends at the last '@' so that passwords may contain '@' unescaped.
  auto at = rest.rfind('@');
  if (at != std::string_view::npos) {
    parse_userinfo(rest.substr(0, at), o);
    rest = rest.substr(at + 1);
  }

  std::string_view query;
  if (auto q = rest.find('?'); q != std::string_view::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }

  if (o.scheme == Scheme::unix_socket) {
    if (rest.empty() || rest.front() != '/') {
      throw UsageError("malformed unix URL: expected unix:///absolute/path/redis.sock[?db=N]");
    }
    o.path = percent_decode(rest, "path");
    o.host.clear();
    o.port = 0;
  } else if (o.sentinel) {
    parse_sentinel_path(rest, o);
  } else {
    std::string_view hostport = rest;
    if (auto slash = rest.find('/'); slash != std::string_view::npos) {
      hostport = rest.substr(0, slash);
      std::string_view db = rest.substr(slash + 1);
      if (!db.empty()) o.db = parse_int(db, 0, 1 << 20, "db");
    }
    HostPort address = parse_hostport(hostport, o.port, "port");
    if (address.host.empty()) throw UsageError("malformed URL: no host (expected redis://host:port/db)");
    o.host = std::move(address.host);
    o.port = address.port;
  }

  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    auto eq = pair.find('=');
    std::string_view key = pair.substr(0, eq);
    std::string_view value = eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
    if (key == "db") {
      o.db = parse_int(value, 0, 1 << 20, "db");
    } else if (key == "password") {
      o.password = percent_decode(value, "password");
    } else if (key == "user" || key == "username") {
      o.user = percent_decode(value, "user");
    } else {
      throw UsageError(fmt::format("unknown URL parameter '{}': supported are db, user, password", key));
    }
  }
  return o;
}

std::string redacted_url(const ConnectionOptions& o) {
  std::string userinfo;
  if (!o.user.empty() || o.password) {
    userinfo = o.user;
    if (o.password) userinfo += ":***";
    userinfo += "@";
  }
  switch (o.scheme) {
    case Scheme::unix_socket:
      return fmt::format("unix://{}{}{}", userinfo, o.path, o.db != 0 ? fmt::format("?db={}", o.db) : "");
    case Scheme::tls:
    case Scheme::tcp:
      break;
  }
  const char* scheme = o.scheme == Scheme::tls ? "rediss" : "redis";
  if (o.sentinel) {
    // The sentinels' password never appears in a URL: it comes from a file or the environment.
    std::string list;
    for (const auto& s : o.sentinel->sentinels) list += (list.empty() ? "" : ",") + endpoint(s);
    return fmt::format("{}+sentinel://{}{}/{}/{}", scheme, userinfo, list, o.sentinel->master_name, o.db);
  }
  return fmt::format("{}://{}{}/{}", scheme, userinfo, endpoint(HostPort{o.host, o.port}), o.db);
}

std::string endpoint(const HostPort& a) {
  bool v6 = a.host.find(':') != std::string::npos;
  return v6 ? fmt::format("[{}]:{}", a.host, a.port) : fmt::format("{}:{}", a.host, a.port);
}

std::string endpoint(const ConnectionOptions& o) {
  if (o.scheme == Scheme::unix_socket) return o.path;
  if (o.sentinel && o.host.empty()) return fmt::format("master '{}' via sentinels", o.sentinel->master_name);
  return endpoint(HostPort{o.host, o.port});
}

}  // namespace sessionctl::redis
