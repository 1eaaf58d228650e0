// The point lookup of one session by id, and the whole-value reads it uses.
#include "session/value_read.h"

#include <algorithm>
#include <cstdlib>

#include "redis/reply_error.h"
#include "session/scanner.h"

namespace sessionctl {

using redis::Command;
using redis::Reply;

void append_value_command(std::vector<Command>& cmds, const std::string& key, KeyType type) {
  switch (type) {
    case KeyType::hash:
      cmds.push_back({"HGETALL", key});
      break;
    case KeyType::list:
      cmds.push_back({"LRANGE", key, "0", "-1"});
      break;
    case KeyType::set:
      cmds.push_back({"SMEMBERS", key});
      break;
    case KeyType::zset:
      cmds.push_back({"ZRANGE", key, "0", "-1", "WITHSCORES"});
      break;
    default:
      cmds.push_back({"GET", key});
  }
}

bool decode_value(const Reply& r, KeyType type, StoredValue& out) {
  // An error is WRONGTYPE; nil means the key expired or was deleted after TYPE said it existed.
  if (r.is_error() || r.is_nil()) return false;
  switch (type) {
    case KeyType::string:
      out.type = ValueType::string;
      out.raw = r.str;
      return true;
    case KeyType::hash:
      out.type = ValueType::hash;
      for (std::size_t i = 0; i + 1 < r.elements.size(); i += 2)
        out.fields.emplace_back(r.elements[i].str, r.elements[i + 1].str);
      break;
    case KeyType::zset:
      out.type = ValueType::zset;
      for (std::size_t i = 0; i + 1 < r.elements.size(); i += 2) {
        out.scored.emplace_back(r.elements[i].str, std::strtod(r.elements[i + 1].str.c_str(), nullptr));
      }
      break;
    case KeyType::list:
    case KeyType::set:
      out.type = type == KeyType::list ? ValueType::list : ValueType::set;
      for (const auto& e : r.elements) out.items.push_back(e.str);
      break;
    default:
      return false;
  }
  out.total = out.held();
  return true;
}

}  // namespace sessionctl
