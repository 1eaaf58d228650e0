// A Profile describes one session store: its key layout, value types, TTL policy, state and PII fields.
// Built-in profiles and custom ones (--profiles-file) are read by the same loader from the same JSON format.
#pragma once

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "mask/mask.h"
#include "session/key_pattern.h"

namespace sessionctl {

enum class ValueType { string, hash, list, set, zset };
enum class Encoding {
  json,            // must parse as JSON; otherwise the value is corrupt
  json_or_opaque,  // JSON when it parses, otherwise opaque bytes (e.g. encrypted): never corrupt
  opaque,          // never decoded
  fields,          // hash fields, each plain text or embedded JSON
  json_items,      // list/zset items, each a JSON document
};

// One key of a session: the primary key, or a related key such as TRT's ":history".
struct KeyRole {
  std::string role;    // "state", "history", "meta"
  KeyPattern pattern;  // "trt:session:{id}:history"
  ValueType type = ValueType::string;
  Encoding encoding = Encoding::json;
  bool expects_ttl = true;               // false where the app never sets one (TRT's :meta)
  std::optional<std::size_t> max_items;  // TRT keeps the newest 50 history entries
  // The serialization of an opaque value (or of each hash field's value), when a framework library wrote
  // it: "php-session", "jdk", "pickle", "marshal", "msgpack"; empty for JSON and plain text. Never executed
  // or unpickled: what sessionctl cannot decode is shown by size, its printable runs masked.
  std::string format;
};

// The serialization formats a KeyRole may name.
const std::vector<std::string>& known_formats();

// An index that points at sessions: a zset of ids (TRT's active sessions) or a key per lookup
// value holding the session id (Telegram's session:chat:{chat_id}).
struct IndexSpec {
  enum class Kind { zset_of_ids, pointer_key };
  std::string role;  // "active_sessions", "chat"
  Kind kind = Kind::zset_of_ids;
  KeyPattern pattern;              // "trt:active_sessions" or "session:chat:{chat_id}"
  std::string link_field;          // pointer_key: the session value's field that names the index key (chatId)
  bool score_is_activity = false;  // zset score = last interaction (unix seconds)
};

struct Profile {
  std::string name;
  std::string description;
  std::string origin;  // where it was defined: "built-in" or the --profiles-file path
  KeyRole primary;
  std::vector<KeyRole> related;
  std::vector<IndexSpec> indexes;
  std::optional<std::chrono::milliseconds> default_ttl;  // what the app sets
  std::optional<std::chrono::milliseconds> max_ttl;      // above this a TTL is an anomaly
  bool sliding_ttl = false;                              // the app refreshes TTL on access
  std::string state_field;                               // dotted JSON path or hash field holding the state
  nlohmann::json state_labels;                           // optional map from raw state ("true") to label ("open")
  std::string activity_field;                            // dotted JSON path or hash field holding the last activity
  std::vector<std::string> shape_all;                    // a JSON value must have all of these top-level fields…
  std::vector<std::string> shape_any;                    // …and at least one of these, to be claimed by this profile
  std::vector<KeyPattern> exclude;                       // keys that match the layout but are not sessions
  std::string id_format;                                 // "uuid" when the app makes UUIDs, else empty
  std::optional<std::size_t> max_size;                   // session size above which doctor warns
  std::vector<mask::FieldRule> pii;
  // The containers the profile's paths (pii, state, activity) pass through, each with whether it must
  // be an object (true) or may be an array (an index or * follows); set by the loader, for wrong_shape.
  std::vector<std::pair<std::string, bool>> shape_containers;

  // Whether the layout is shared with another profile, so that detection needs the value.
  bool needs_shape() const { return !shape_all.empty() || !shape_any.empty(); }
  // Whether a parsed JSON value has this profile's shape.
  bool shape_matches(const nlohmann::json& value) const;
  // The role whose layout `key` has, with the id; nullopt when the key is not this profile's.
  std::optional<std::pair<const KeyRole*, std::string>> match_key(const std::string& key) const;
  // The index spec whose layout `key` has, when `key` is one of this profile's index keys.
  const IndexSpec* match_index(const std::string& key) const;
  // Every key of the session `id` (primary first, then related), not counting indexes.
  std::vector<std::pair<const KeyRole*, std::string>> keys_for(const std::string& id) const;
};

class ProfileSet {
 public:
  // The five built-in profiles from the seeds.
  static ProfileSet builtin();
  // Parses a profiles file (JSON). Errors name the file, line and field; throws UsageError.
  static ProfileSet parse(const std::string& text, const std::string& origin);
  static ProfileSet load_file(const std::string& path);

  // Adds or replaces (same name) profiles; an added profile goes before any other of its primary key layout.
  void merge(ProfileSet other);
  // Keeps only the named profiles; throws UsageError naming unknown ones and the known names.
  ProfileSet select(const std::vector<std::string>& names) const;
  const Profile* find(const std::string& name) const;
  const std::vector<Profile>& all() const { return profiles_; }
  // Every profile known before select() narrowed the set (built-ins merged with --profiles-file):
  // what decides whether a value under a shared layout belongs to a profile that was not selected.
  const std::vector<Profile>& known() const { return known_ ? *known_ : profiles_; }
  bool empty() const { return profiles_.empty(); }

 private:
  std::vector<Profile> profiles_;
  std::shared_ptr<const std::vector<Profile>> known_;  // set by select()
};

// Reads a dotted path ("data.email") from a JSON value; nullptr when absent.
const nlohmann::json* json_path(const nlohmann::json& doc, const std::string& path);

std::string value_type_name(ValueType t);

}  // namespace sessionctl
