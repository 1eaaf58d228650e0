// The three output formats every command renders to.
#pragma once

#include <string>

namespace sessionctl {

enum class Format { table, json, jsonl };

// Parses "table", "json" or "jsonl"; throws UsageError otherwise.
Format parse_format(const std::string& name);

// "1 session", "2 sessions", "0 sessions"; `plural` defaults to singular + "s".
std::string count_of(long long n, const std::string& singular, const std::string& plural = "");

}  // namespace sessionctl
