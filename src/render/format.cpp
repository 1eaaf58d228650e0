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

}  // namespace sessionctl
