// The archive format (docs/archive-format.md): JSON lines, readable with jq. A header line, one record
// per key (or per window of a big key), keys of one session adjacent, and a trailer with the record
// count, the session count and a SHA-256 over the record lines. Pure: no I/O here (archive/io.h).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/errors.h"

namespace sessionctl::archive {

inline constexpr const char* kFormat = "sessionctl.archive";
inline constexpr int kVersion = 1;
// A line longer than this is refused (a record holds one window of a big key, never a whole one).
inline constexpr std::size_t kMaxLine = 256u * 1024u * 1024u;

// An archive that cannot be read: exit 2, the message names the file and line.
class FormatError : public UsageError {
 public:
  explicit FormatError(const std::string& m) : UsageError(m) {}
};

enum class KeyKind { string, hash, list, set, zset };
const char* kind_name(KeyKind k);
std::optional<KeyKind> parse_kind(std::string_view name);

struct Header {
  int version = kVersion;
  std::string created;       // RFC 3339
  nlohmann::json source;     // {url (redacted), server_version, db, cluster}
  bool masked = false;       // values masked (a shareable archive, not a backup to restore)
  nlohmann::json selection;  // {profiles, filters…}: what verify counts as "extra"
};

// One key, or one window of a big key (part 0, 1, … of the same key, adjacent; `more` on all but the last).
struct Record {
  std::string key;
  KeyKind kind = KeyKind::string;
  std::string str;                                          // string
  std::vector<std::string> items;                           // list (in order), set
  std::vector<std::pair<std::string, std::string>> fields;  // hash
  std::vector<std::pair<std::string, double>> scored;       // zset
  std::optional<long long> expire_at_ms;                    // absolute unix ms (PEXPIRETIME); none: no expiry
  std::string session, profile;
  std::size_t part = 0;
  bool more = false;
  // An index entry of the session (trt:active_sessions's member, Telegram's session:chat:{id} pointer):
  // restored into the key as it is (ZADD of the member, SET of the pointer), never a conflict.
  bool index = false;
  std::size_t item_count() const { return items.size() + fields.size() + scored.size(); }
};

struct Trailer {
  long long records = 0;
  long long sessions = 0;
  std::string sha256;  // lowercase hex over every record line, '\n' included
};

// Lines, each ending in '\n'.
std::string header_line(const Header& h);
void append_record_line(std::string& out, const Record& r);
std::string trailer_line(const Trailer& t);

// Parsing one line (without its '\n'); throws FormatError with `where` ("backup.jsonl line 3") first.
Header parse_header(std::string_view line, const std::string& where);
// Whether a line is the trailer (then parse_trailer), without parsing the whole line as JSON.
bool is_trailer(std::string_view line);
Trailer parse_trailer(std::string_view line, const std::string& where);
Record parse_record(std::string_view line, const std::string& where);

}  // namespace sessionctl::archive
