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

}  // namespace

ConnectionOptions parse_url(const std::string& url) {
  ConnectionOptions o;
  auto sep = url.find("://");
  if (sep == std::string::npos) {
    throw UsageError("malformed URL: expected redis://host:port/db, rediss://… or unix:///path");
  }
  std::string scheme = url.substr(0, sep);
  std::string_view rest = std::string_view(url).substr(sep + 3);
  if (scheme == "redis") {
    o.scheme = Scheme::tcp;
  } else if (scheme == "rediss") {
    o.scheme = Scheme::tls;
  } else if (scheme == "unix") {
    o.scheme = Scheme::unix_socket;
  } else {
    // Echo the scheme only when it looks like one: a malformed URL can put a password before "://".
    bool plausible = !scheme.empty() && scheme.size() <= 16 &&
                     scheme.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-") ==
                         std::string::npos;
    throw UsageError(plausible
                         ? fmt::format("unknown URL scheme '{}': use redis://, rediss:// or unix://", scheme)
                         : std::string("malformed URL: expected redis://host:port/db, rediss://… or unix:///path"));
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
  } else {
    std::string_view hostport = rest;
    if (auto slash = rest.find('/'); slash != std::string_view::npos) {
      hostport = rest.substr(0, slash);
      std::string_view db = rest.substr(slash + 1);
      if (!db.empty()) o.db = parse_int(db, 0, 1 << 20, "db");
    }
    std::string_view host = hostport;
    if (!hostport.empty() && hostport.front() == '[') {  // [ipv6]:port
      auto close = hostport.find(']');
      if (close == std::string_view::npos) throw UsageError("malformed URL: unterminated '[' in host");
      host = hostport.substr(1, close - 1);
      auto after = hostport.substr(close + 1);
      if (!after.empty()) {
        if (after.front() != ':') throw UsageError("malformed URL: expected ':' after ']'");
        o.port = parse_int(after.substr(1), 1, 65535, "port");
      }
    } else if (auto colon = hostport.rfind(':'); colon != std::string_view::npos) {
      host = hostport.substr(0, colon);
      o.port = parse_int(hostport.substr(colon + 1), 1, 65535, "port");
    }
    if (host.empty()) throw UsageError("malformed URL: no host (expected redis://host:port/db)");
    o.host = std::string(host);
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
  bool v6 = o.host.find(':') != std::string::npos;
  return fmt::format("{}://{}{}{}{}:{}/{}", o.scheme == Scheme::tls ? "rediss" : "redis", userinfo, v6 ? "[" : "",
                     o.host, v6 ? "]" : "", o.port, o.db);
}

std::string endpoint(const ConnectionOptions& o) {
  if (o.scheme == Scheme::unix_socket) return o.path;
  bool v6 = o.host.find(':') != std::string::npos;
  return v6 ? fmt::format("[{}]:{}", o.host, o.port) : fmt::format("{}:{}", o.host, o.port);
}

}  // namespace sessionctl::redis
