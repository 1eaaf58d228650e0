#include "session/session.h"

#include <fmt/format.h>

#include <algorithm>

#include "json/probe.h"
#include "util/clock.h"
#include "util/utf8.h"
#include "util/uuid.h"

namespace sessionctl {

using nlohmann::json;

KeyType key_type(ValueType t) {
  switch (t) {
    case ValueType::string:
      return KeyType::string;
    case ValueType::hash:
      return KeyType::hash;
    case ValueType::list:
      return KeyType::list;
    case ValueType::set:
      return KeyType::set;
    case ValueType::zset:
      return KeyType::zset;
  }
  return KeyType::other;
}

KeyType parse_key_type(std::string_view t) {
  if (t == "string") return KeyType::string;
  if (t == "hash") return KeyType::hash;
  if (t == "list") return KeyType::list;
  if (t == "set") return KeyType::set;
  if (t == "zset") return KeyType::zset;
  if (t == "none") return KeyType::none;
  return KeyType::other;
}

const char* key_type_name(KeyType t) {
  switch (t) {
    case KeyType::none:
      return "none";
    case KeyType::string:
      return "string";
    case KeyType::hash:
      return "hash";
    case KeyType::list:
      return "list";
    case KeyType::set:
      return "set";
    case KeyType::zset:
      return "zset";
    case KeyType::other:
      break;
  }
  return "";
}

std::string KeyInfo::type_name() const {
  if (type != KeyType::other) return key_type_name(type);
  return other_type.empty() ? "?" : other_type;
}

long long Session::size() const {
  long long total = 0;
  for (const auto& k : keys) total += k.exists() ? k.size : 0;
  return total;
}

std::size_t Session::key_count() const {
  return static_cast<std::size_t>(std::count_if(keys.begin(), keys.end(), [](const KeyInfo& k) { return k.exists(); }));
}

bool Session::has_problem(const std::string& p) const {
  return std::find(problems.begin(), problems.end(), p) != problems.end();
}

void Session::add_problem(const std::string& p) {
  if (!has_problem(p)) problems.push_back(p);
}

const char* json_problem(const std::string& raw, bool too_deep) {
  return too_deep || is_utf8(raw) ? problem::corrupt : problem::binary;
}

namespace {

// An activity time that a session can have: readable, after kEarliestActivity, not in the future
// beyond clock skew. Anything else is bad_timestamp, never a wrapped date or a negative idle time.
std::optional<double> activity_time(const std::string& raw, double now) {
  auto t = parse_timestamp(raw);
  if (!t || *t < kEarliestActivity || *t > now + kActivitySkewSeconds) return std::nullopt;
  return t;
}

// Whether a state value of this kind fits the profile: a string, or a scalar the labels name
// (Telegram's "open": true); absent or null is no state, not a wrong one.
bool state_fits(const Profile& p, JsonKind kind, const std::string& raw) {
  if (kind == JsonKind::none || kind == JsonKind::null || kind == JsonKind::string) return true;
  if (kind == JsonKind::object || kind == JsonKind::array) return false;
  return p.state_labels.is_object() && p.state_labels.contains(raw);
}

// A state as shown: its raw text (JSON text for non-strings), through the profile's labels.
std::string state_text(const Profile& p, const std::string& raw) {
  if (p.state_labels.is_object() && p.state_labels.contains(raw) && p.state_labels[raw].is_string()) {
    return p.state_labels[raw].get<std::string>();
  }
  return raw;
}

// The value of a hash field, or nullopt.
std::optional<std::string> hash_field(const StoredValue& v, const std::string& field) {
  for (const auto& [f, val] : v.fields) {
    if (f == field) return val;
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> field_value(const Session& s, const std::string& path) {
  for (const auto& k : s.keys) {
    if (!k.value) continue;
    if (k.value->type == ValueType::string) {
      JsonProbe probe = probe_json(k.value->raw, {path});
      if (probe.valid && probe.values[0]) return probe.values[0];
    } else if (k.value->type == ValueType::hash) {
      auto dot = path.find('.');
      auto v = hash_field(*k.value, path.substr(0, dot));
      if (!v) continue;
      if (dot == std::string::npos) return v;
      JsonProbe probe = probe_json(*v, {path.substr(dot + 1)});
      if (probe.valid && probe.values[0]) return probe.values[0];
    }
  }
  return std::nullopt;
}

void analyse_session(Session& s) { analyse_session(s, unix_now()); }

void analyse_session(Session& s, double now) {
  if (s.keys.empty()) return;
  const Profile* p = s.profile;
  for (std::size_t i = 0; i < s.keys.size(); ++i) {
    const KeyInfo& k = s.keys[i];
    if (!k.exists()) continue;
    const KeyRole* role = s.role_of(i);
    if (role && k.type != key_type(role->type)) s.add_problem(problem::wrong_type);
    if (k.ttl_ms == -1 && (!role || role->expects_ttl)) s.add_problem(problem::no_ttl);
    if (p && p->max_ttl && k.ttl_ms > p->max_ttl->count() + 1000) s.add_problem(problem::ttl_too_long);
    // The length (LLEN), not the items held: long lists are read in a window.
    if (role && role->max_items && k.value && k.value->item_count() > *role->max_items) {
      s.add_problem(problem::history_over_cap);
    }
    if (!k.value || !role) continue;
    if (k.value->type == ValueType::string &&
        (role->encoding == Encoding::json || role->encoding == Encoding::json_or_opaque)) {
      // One pass validates the value, picks out the state and activity fields and the kinds of the
      // containers the profile's paths go through (for the shape check).
      std::vector<std::string> paths;
      const auto* containers = p ? &p->shape_containers : nullptr;
      if (i == 0 && p) {
        paths = {p->state_field, p->activity_field};
        for (const auto& c : p->shape_containers) paths.push_back(c.first);
      }
      JsonProbe probe = probe_json(k.value->raw, paths);
      if (!probe.valid && role->encoding == Encoding::json) s.add_problem(json_problem(k.value->raw, probe.too_deep));
      if (probe.valid && i == 0) {
        // Shape: a JSON profile stores an object; its state is a scalar; the objects its paths name
        // are objects. A value that misses one is wrong_shape, and its fields are not trusted.
        bool fits = role->encoding != Encoding::json || probe.kind == JsonKind::object;
        const bool state_ok =
            !p->state_field.empty() && probe.values[0] && state_fits(*p, probe.kinds[0], *probe.values[0]);
        if (!p->state_field.empty() && probe.values[0] && !state_ok) fits = false;
        for (std::size_t c = 0; c < containers->size(); ++c) {
          const JsonKind kind = probe.kinds[2 + c];
          if (kind == JsonKind::none || kind == JsonKind::null || kind == JsonKind::object) continue;
          if (kind == JsonKind::array && !(*containers)[c].second) continue;
          fits = false;
        }
        if (!fits && role->encoding == Encoding::json) s.add_problem(problem::wrong_shape);
        if (state_ok && probe.kinds[0] != JsonKind::null) s.state = state_text(*p, *probe.values[0]);
        if (!p->activity_field.empty() && probe.values[1] && probe.kinds[1] != JsonKind::null) {
          s.last_activity = activity_time(*probe.values[1], now);
          if (!s.last_activity) s.add_problem(problem::bad_timestamp);
        }
      }
    }
    if (k.value->type == ValueType::hash && i == 0 && p) {
      if (!p->state_field.empty()) {
        if (auto v = hash_field(*k.value, p->state_field)) s.state = state_text(*p, *v);
      }
      if (!p->activity_field.empty()) {
        if (auto v = hash_field(*k.value, p->activity_field)) {
          s.last_activity = activity_time(*v, now);
          if (!s.last_activity) s.add_problem(problem::bad_timestamp);
        }
      }
    }
    if (role->encoding == Encoding::json_items) {
      for (const auto& item : k.value->items) {
        const JsonProbe probe = probe_json(item, {});
        if (!probe.valid) s.add_problem(json_problem(item, probe.too_deep));
      }
    }
  }
  if (p && p->id_format == "uuid" && !is_uuid(s.id)) s.add_problem(problem::bad_id);
  if (p && p->max_size && s.size() > static_cast<long long>(*p->max_size)) s.add_problem(problem::too_big);
  if (!p) s.add_problem(problem::unclassified);

  if (!s.last_activity && s.index_score && !s.has_problem(problem::bad_timestamp)) {
    // TRT's index score is the last interaction in unix seconds: held to the same bounds.
    if (*s.index_score >= kEarliestActivity && *s.index_score <= now + kActivitySkewSeconds) {
      s.last_activity = s.index_score;
    } else {
      s.add_problem(problem::bad_timestamp);
    }
  }
}

}  // namespace sessionctl
