// A Session is the group of keys one app session owns (primary key, related keys, index entries),
// with what sessionctl read about them. Values are only present when they were fetched.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "session/profile.h"

namespace sessionctl {

// A key's value as read from Redis, by type. Aggregates may be read in a window: then `total` (LLEN,
// HLEN, SCARD, ZCARD) is larger than what is held.
struct StoredValue {
  ValueType type = ValueType::string;
  std::string raw;                                          // string
  std::vector<std::pair<std::string, std::string>> fields;  // hash
  std::vector<std::string> items;                           // list, set
  std::vector<std::pair<std::string, double>> scored;       // zset
  // Items (fields, members) the key holds when only a window of them was read; nullopt when whole.
  std::optional<std::size_t> total;

  std::size_t read_count() const { return items.size() + fields.size() + scored.size(); }
  std::size_t item_count() const { return total ? *total : read_count(); }
  std::size_t held() const { return read_count(); }
};

// What TYPE says a key holds: `none` when it does not exist, `other` for types no profile stores
// (stream, module types; KeyInfo::other_type keeps the name).
enum class KeyType { none, string, hash, list, set, zset, other };

// The key type a profile's value type is stored as.
KeyType key_type(ValueType t);
// TYPE's word for a key type ("string", "hash", …; "none"); "" for `other` (KeyInfo::other_type has it).
const char* key_type_name(KeyType t);
// Parses a TYPE reply ("string", "none", "stream"…); anything unknown is `other`.
KeyType parse_key_type(std::string_view type_reply);

struct KeyInfo {
  std::string key;
  std::string role;  // "state", "history", "meta"
  KeyType type = KeyType::none;
  std::string other_type;  // TYPE's reply when type is `other` ("stream"; "?" when not known)
  long long ttl_ms = -2;   // PTTL: -1 no expiry, -2 missing
  // PEXPIRETIME (unix ms; -1 none, -2 missing) when asked for (ScanOptions::expire_times), else nullopt.
  std::optional<long long> expire_at_ms;
  long long size = 0;  // bytes: value length for strings, MEMORY USAGE otherwise
  std::optional<StoredValue> value;
  std::string note;  // why the value was not read ("too large"), shown with the key
  bool exists() const { return type != KeyType::none; }
  // The type as TYPE names it, as it appears in output ("string", "none", "stream").
  std::string type_name() const;
};

// Problems found on a session; their names appear in JSON output and in doctor.
namespace problem {
inline constexpr const char* corrupt = "corrupt_json";        // JSON expected, not JSON
inline constexpr const char* binary = "binary_value";         // not UTF-8 where text is expected
inline constexpr const char* wrong_type = "wrong_type";       // the key holds another type than the profile says
inline constexpr const char* no_ttl = "no_ttl";               // a key that should expire never will
inline constexpr const char* ttl_too_long = "ttl_above_max";  // longer than the profile allows
inline constexpr const char* bad_id = "id_not_uuid";          // openvaa ids are server-made UUIDs
inline constexpr const char* too_big = "size_above_max";
inline constexpr const char* too_large_to_read = "too_large_to_read";  // above the read cap: size known, value not read
inline constexpr const char* unclassified = "unclassified";            // shared layout, value fits no profile
inline constexpr const char* history_over_cap = "history_over_cap";
inline constexpr const char* orphan = "orphan";                // related keys or index entries whose session is gone
inline constexpr const char* wrong_shape = "wrong_shape";      // valid JSON that does not fit the profile
inline constexpr const char* bad_timestamp = "bad_timestamp";  // activity time unreadable, out of range or future
}  // namespace problem

// Activity times before this (2000-01-01T00:00:00Z) are not a session's: a counter, a typo, a unit error.
inline constexpr double kEarliestActivity = 946684800.0;
// How far an activity time may lie in the future (clock skew between app hosts) before it is bad.
inline constexpr double kActivitySkewSeconds = 300.0;

// A pointer index entry of a session (Telegram's session:chat:{chat_id} -> id), as inspect reads it.
struct PointerEntry {
  std::string role;                   // "chat"
  std::string key;                    // the index key named by the session's link field
  std::optional<std::string> target;  // the id it holds; nullopt when the key is missing
  long long ttl_ms = -2;
};

struct Session {
  std::string id;
  const Profile* profile = nullptr;    // nullptr = unknown (could not be classified)
  std::string layout;                  // the key layout it was found under, for unknown sessions
  std::vector<KeyInfo> keys;           // primary first
  std::optional<double> index_score;   // e.g. TRT's trt:active_sessions score
  std::vector<PointerEntry> pointers;  // filled by SessionResolver::lookup only
  std::optional<std::string> state;
  std::optional<double> last_activity;  // unix seconds
  std::vector<std::string> problems;
  std::string note;  // said with the session, e.g. that no profile claims its key

  const KeyInfo& primary() const { return keys.front(); }
  long long ttl_ms() const { return keys.empty() ? -2 : keys.front().ttl_ms; }
  long long size() const;
  std::size_t key_count() const;
  std::string profile_name() const { return profile ? profile->name : "unknown"; }
  bool has_problem(const std::string& p) const;
  void add_problem(const std::string& p);
  // The profile's role for keys[i] (primary, then related in order); nullptr for unknown sessions.
  const KeyRole* role_of(std::size_t i) const {
    if (!profile) return nullptr;
    if (i == 0) return &profile->primary;
    return i - 1 < profile->related.size() ? &profile->related[i - 1] : nullptr;
  }
};

// An index entry or related key that outlived its session.
struct Orphan {
  std::string profile;
  std::string key;     // the key holding the entry
  std::string member;  // zset member / pointer target, empty for a whole related key
  std::string reason;  // "session missing"
  long long ttl_ms = -2;
};

// Fills state, last_activity and problems from the fetched values and metadata (no I/O), `now`
// being unix seconds (activity times later than now + kActivitySkewSeconds are bad_timestamp).
void analyse_session(Session& session, double now);
void analyse_session(Session& session);  // now = unix_now()

// The raw value of a field for --where: a dotted JSON path in the primary value or a hash field
// (optionally continuing into JSON held by that field). nullopt when absent.
std::optional<std::string> field_value(const Session& session, const std::string& path);

// The problem a value that failed the JSON probe has: corrupt_json, or binary_value when it is not
// even UTF-8 (a nesting too deep is corrupt whatever the bytes).
const char* json_problem(const std::string& raw, bool too_deep);

}  // namespace sessionctl
