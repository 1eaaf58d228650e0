// The three output formats every command renders to.
#pragma once

#include <string>

namespace sessionctl {

enum class Format { table, json, jsonl };

// Parses "table", "json" or "jsonl"; throws UsageError otherwise.
Format parse_format(const std::string& name);

}  // namespace sessionctl
