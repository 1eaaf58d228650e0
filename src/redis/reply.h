// A Redis reply as a plain value: no redisReply* ever leaves the Redis layer.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace sessionctl::redis {

struct Reply {
  enum class Type { string, array, integer, nil, status, error };
  Type type = Type::nil;
  std::string str;  // bulk string, status or error text
  long long integer = 0;
  std::vector<Reply> elements;  // arrays

  bool is_error() const { return type == Type::error; }
  bool is_nil() const { return type == Type::nil; }
  bool is_string() const { return type == Type::string || type == Type::status; }
  // The error's first word: "WRONGTYPE", "NOPERM", "LOADING"…; empty when not an error.
  std::string error_code() const;
};

using Command = std::vector<std::string>;

// Turns an error reply into the typed error its classification means (redis/reply_error.h: AuthError for
// auth and NOPERM, ConnectionError for loading, busy and refused, ReplyError otherwise) and throws it.
// `context` names the command or the work it was part of.
[[noreturn]] void throw_reply_error(const Reply& reply, const std::string& context);

// Returns the reply, or throws the typed error when it is an error reply.
const Reply& checked(const Reply& reply, const std::string& context);

}  // namespace sessionctl::redis
