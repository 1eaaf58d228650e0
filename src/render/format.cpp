#include "render/format.h"

#include <fmt/format.h>

#include "util/errors.h"

namespace sessionctl {

Format parse_format(const std::string& name) {
  if (name == "table") return Format::table;
  if (name == "json") return Format::json;
  if (name == "jsonl") return Format::jsonl;
  throw UsageError(fmt::format("unknown output format '{}': use table, json or jsonl", name));
}

std::string count_of(long long n, const std::string& singular, const std::string& plural) {
  return fmt::format("{} {}", n, n == 1 ? singular : plural.empty() ? singular + "s" : plural);
}

}  // namespace sessionctl
