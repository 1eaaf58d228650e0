// `profiles`: the profiles sessionctl knows (built-in and --profiles-file) with their key layouts, and
// `profiles --detect`: which of them a live keyspace holds, sampled, and the key prefixes none explains,
// with a starter profiles file for those.
#pragma once

#include <cstddef>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "redis/client.h"
#include "render/emit.h"
#include "render/terminal.h"
#include "session/profile.h"

namespace sessionctl {

// Every known profile as a document and as a table: name, where it comes from, its keys, TTL policy.
struct ProfilesReport : Report {
  std::vector<Profile> profiles;
  nlohmann::json to_json() const override;
  std::string to_table(const Terminal& term) const override;
};

ProfilesReport describe_profiles(const ProfileSet& profiles);

// A profile found in the sample.
struct DetectedProfile {
  std::string name;
  long long sessions = 0;             // primary keys
  long long keys = 0;                 // primary and related keys
  long long bookkeeping = 0;          // its index keys and the keys its layout excludes (lock keys, expiry markers)
  std::vector<std::string> examples;  // a few session ids, as found (masked when shown unless reveal)
};

// Keys under one prefix that no profile claims.
struct UnexplainedPrefix {
  std::string prefix;  // "cart:" ("" for keys without a prefix)
  long long keys = 0;
  std::map<std::string, long long> types;  // TYPE → keys
  long long with_ttl = 0;
  long long max_ttl_ms = 0;           // the longest remaining TTL seen
  long long values_sampled = 0;       // strings (or first list items) read to guess the encoding
  long long values_json = 0;          // of those, JSON objects or arrays
  std::vector<std::string> examples;  // a few keys
};

struct DetectReport : Report {
  std::size_t sample_limit = 0;
  long long sampled = 0;                       // distinct keys looked at
  bool complete = false;                       // the scan ended before the limit: every key was looked at
  std::vector<DetectedProfile> present;        // in profile order, only those with keys
  std::vector<UnexplainedPrefix> unexplained;  // most keys first
  nlohmann::json starter;                      // a profiles file ({"profiles": [...]}) for the unexplained
  bool reveal = false;
  nlohmann::json to_json() const override;
  std::string to_table(const Terminal& term) const override;
};

// SCANs up to `sample` distinct keys and classifies each by every known profile (ProfileSet::known()):
// TYPE and PTTL for all, and for keys under a layout several profiles share (session:*) the value, to tell
// them apart by shape, as list does. Unexplained keys are grouped by the prefix before their id; a few
// values per prefix are read (at most 64 KiB each) to guess the encoding. Read-only, bounded.
DetectReport detect_profiles(redis::Client& client, const ProfileSet& profiles, std::size_t sample);

// The part of `key` before its id: the ':'-separated segments up to the first that looks like an id
// (digits, or 8+ characters with a digit, or 16+ characters), with the ':' after them; "" when the key has
// no such prefix. "cart:user:42" → "cart:user:", "sess:abc123def" → "sess:", "plain" → "".
std::string key_prefix(const std::string& key);

}  // namespace sessionctl
