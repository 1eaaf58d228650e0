#include "redis/reply.h"

#include <fmt/format.h>

#include "util/errors.h"

namespace sessionctl::redis {

std::string Reply::error_code() const {
  if (type != Type::error) return {};
  return str.substr(0, str.find(' '));
}

void throw_reply_error(const Reply& reply, const std::string& context) {
  const std::string code = reply.error_code();
  // Redis < 6 has no WRONGPASS: "ERR invalid password", "ERR Client sent AUTH, but no password is set".
  const bool legacy_auth =
      code == "ERR" &&
      (reply.str.find("invalid password") != std::string::npos ||
       (reply.str.find("AUTH") != std::string::npos && (reply.str.find("without any password") != std::string::npos ||
                                                        reply.str.find("no password is set") != std::string::npos)));
  if (code == "WRONGPASS" || code == "NOAUTH" || code == "NOPERM" || legacy_auth) {
    if (code == "NOPERM") {
      throw AuthError(fmt::format("permission denied for {}: {} (grant the ACL user this command or use another user)",
                                  context, reply.str));
    }
    throw AuthError(
        fmt::format("authentication failed: {} (check the user and password: URL, --password-file, "
                    "REDISCLI_AUTH or REDIS_PASSWORD)",
                    reply.str));
  }
  if (code == "LOADING") {
    throw ConnectionError("the server is still loading its dataset into memory; retry in a few seconds");
  }
  if (code == "MASTERDOWN" || code == "BUSY" || code == "TRYAGAIN" || code == "CLUSTERDOWN") {
    throw ConnectionError(fmt::format("the server cannot serve {} now: {}; retry later", context, reply.str));
  }
  throw ReplyError(fmt::format("{} failed: {}", context, reply.str));
}

const Reply& checked(const Reply& reply, const std::string& context) {
  if (reply.is_error()) throw_reply_error(reply, context);
  return reply;
}

}  // namespace sessionctl::redis
