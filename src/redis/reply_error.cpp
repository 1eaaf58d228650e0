#include "redis/reply_error.h"

#include <fmt/format.h>

#include <charconv>

#include "util/errors.h"

namespace sessionctl::redis {
namespace {

bool contains(std::string_view text, std::string_view part) { return text.find(part) != std::string_view::npos; }

// "MOVED 3999 127.0.0.1:6381" / "ASK 3999 [::1]:6381" / "MOVED 3999 :6381": the slot and the address after it.
std::optional<Redirect> parse_redirect(std::string_view text) {
  auto first = text.find(' ');
  if (first == std::string_view::npos) return std::nullopt;
  std::string_view rest = text.substr(first + 1);
  auto second = rest.find(' ');
  if (second == std::string_view::npos) return std::nullopt;
  std::string_view slot = rest.substr(0, second);
  std::string_view address = rest.substr(second + 1);
  if (auto end = address.find_first_of(" \r\n"); end != std::string_view::npos) address = address.substr(0, end);
  auto colon = address.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  std::string_view host = address.substr(0, colon);
  std::string_view port = address.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  Redirect r;
  r.host = std::string(host);
  auto whole = [](std::string_view digits, int& into) {
    auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), into);
    return !digits.empty() && ec == std::errc() && ptr == digits.data() + digits.size();
  };
  if (!whole(slot, r.slot) || r.slot < 0 || r.slot > 16383) return std::nullopt;
  if (!whole(port, r.port) || r.port < 1 || r.port > 65535) return std::nullopt;
  return r;
}

// Redis < 6 has no WRONGPASS: "ERR invalid password", "ERR Client sent AUTH, but no password is set";
// Redis 6+ says "ERR AUTH <password> called without any password configured for the default user".
bool is_legacy_auth(std::string_view text) {
  return contains(text, "invalid password") ||
         (contains(text, "AUTH") && (contains(text, "without any password") || contains(text, "no password is set")));
}

}  // namespace

ReplyErrorInfo classify_reply_error(std::string_view text) {
  ReplyErrorInfo info;
  info.code = std::string(text.substr(0, text.find(' ')));
  auto set = [&info](ErrorScope scope, ErrorCause cause) {
    info.scope = scope;
    info.cause = cause;
    return info;
  };
  const std::string& code = info.code;
  if (code == "WRONGPASS" || code == "NOAUTH") return set(ErrorScope::connection, ErrorCause::auth);
  if (code == "NOPERM") return set(ErrorScope::command, ErrorCause::permission);
  if (code == "LOADING") return set(ErrorScope::connection, ErrorCause::loading);
  if (code == "BUSY" || code == "MASTERDOWN" || code == "CLUSTERDOWN") {
    return set(ErrorScope::connection, ErrorCause::unavailable);
  }
  // TRYAGAIN (multi-key command during a slot migration) and NOREPLICAS concern one command, but no answer is data.
  if (code == "TRYAGAIN" || code == "NOREPLICAS") return set(ErrorScope::command, ErrorCause::unavailable);
  if (code == "DENIED") return set(ErrorScope::connection, ErrorCause::refused);
  if (code == "WRONGTYPE") return set(ErrorScope::data, ErrorCause::wrong_type);
  // RESTORE's "target key exists" and XGROUP's "group exists" are facts about that key.
  if (code == "BUSYKEY" || code == "BUSYGROUP") return set(ErrorScope::data, ErrorCause::other);
  if (code == "MOVED" || code == "ASK") {
    info.redirect = parse_redirect(text);
    if (!info.redirect) return set(ErrorScope::command, ErrorCause::other);
    return set(ErrorScope::redirect, code == "MOVED" ? ErrorCause::moved : ErrorCause::ask);
  }
  if (code == "ERR") {
    if (contains(text, "max number of clients reached")) return set(ErrorScope::connection, ErrorCause::refused);
    if (is_legacy_auth(text)) return set(ErrorScope::connection, ErrorCause::auth);
  }
  return set(ErrorScope::command, ErrorCause::other);
}

ReplyErrorInfo classify_reply_error(const Reply& reply) { return classify_reply_error(std::string_view(reply.str)); }

bool is_data_error(const Reply& reply) {
  return reply.is_error() && classify_reply_error(reply).scope == ErrorScope::data;
}

bool is_redirect(const Reply& reply) {
  if (!reply.is_error()) return false;
  const ErrorCause cause = classify_reply_error(reply).cause;
  return cause == ErrorCause::moved || cause == ErrorCause::ask;
}

void throw_if_fatal(const Reply& reply, const std::string& context) {
  if (reply.is_error() && !is_data_error(reply)) throw_reply_error(reply, context);
}

void throw_reply_error(const Reply& reply, const std::string& context) {
  const ReplyErrorInfo info = classify_reply_error(reply);
  switch (info.cause) {
    case ErrorCause::auth:
      throw AuthError(
          fmt::format("authentication failed: {} (check the user and password: URL, --password-file, "
                      "REDISCLI_AUTH or REDIS_PASSWORD)",
                      reply.str));
    case ErrorCause::permission:
      throw AuthError(fmt::format("permission denied for {}: {} (grant the ACL user this command or use another user)",
                                  context, reply.str));
    case ErrorCause::loading:
      throw ConnectionError("the server is still loading its dataset into memory; retry in a few seconds");
    case ErrorCause::unavailable:
      if (info.code == "BUSY") {
        throw ConnectionError(
            fmt::format("the server is busy running a script or function (BUSY) and cannot serve {}: wait for it "
                        "to finish, or stop it with SCRIPT KILL or FUNCTION KILL",
                        context));
      }
      throw ConnectionError(fmt::format("the server cannot serve {} now: {}; retry later", context, reply.str));
    case ErrorCause::refused:
      if (info.code == "DENIED") {
        throw ConnectionError(
            "the server refused the connection (DENIED): it runs in protected mode, which accepts only "
            "loopback clients while the default user has no password; set a password on the server, or "
            "protected-mode no");
      }
      throw ConnectionError(
          "the server refused the connection: max number of clients reached (its maxclients limit); "
          "close idle clients or raise maxclients");
    case ErrorCause::moved:
    case ErrorCause::ask: {
      const Redirect& to = *info.redirect;
      throw Error(ExitCode::usage,
                  fmt::format("{}: the key is served by another cluster node ({} slot {} at {}:{}); sessionctl is "
                              "reading this node only (--single-node, or INFO denied so the cluster went unseen): "
                              "drop --single-node, or allow the user INFO",
                              context, info.code, to.slot, to.host.empty() ? "?" : to.host, to.port));
    }
    case ErrorCause::wrong_type:
    case ErrorCause::other:
      break;
  }
  if (info.code == "READONLY") {
    throw UsageError(
        fmt::format("{}: the server is a read-only replica ({}); point --url at the primary", context, reply.str));
  }
  if (info.code == "OOM") {
    throw ReplyError(
        fmt::format("{}: the server is out of memory and refuses writes (maxmemory with "
                    "noeviction: {}); free memory or raise maxmemory, then run again",
                    context, reply.str));
  }
  throw ReplyError(fmt::format("{} failed: {}", context, reply.str));
}

const Reply& checked(const Reply& reply, const std::string& context) {
  if (reply.is_error()) throw_reply_error(reply, context);
  return reply;
}

}  // namespace sessionctl::redis
