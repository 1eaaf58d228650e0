#include "redis/reply.h"

namespace sessionctl::redis {

std::string Reply::error_code() const {
  if (type != Type::error) return {};
  return str.substr(0, str.find(' '));
}

}  // namespace sessionctl::redis
