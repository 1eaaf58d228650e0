#include "profile.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "errors.h"
#include "util/duration.h"

namespace sessionctl {

using nlohmann::json;

const json* json_path(const json& doc, const std::string& path) {
  const json* cur = &doc;
  std::size_t start = 0;
  while (start <= path.size()) {
    auto dot = path.find('.', start);
    std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (cur->is_object()) {
      auto it = cur->find(part);
      if (it == cur->end()) return nullptr;
      cur = &*it;
    } else if (cur->is_array() && !part.empty() && std::all_of(part.begin(), part.end(), ::isdigit)) {
      std::size_t i = std::stoul(part);
      if (i >= cur->size()) return nullptr;
      cur = &(*cur)[i];
    } else {
      return nullptr;
    }
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return cur;
}

std::string value_type_name(ValueType t) {
  switch (t) {
    case ValueType::string: return "string";
    case ValueType::hash: return "hash";
    case ValueType::list: return "list";
    case ValueType::set: return "set";
    case ValueType::zset: return "zset";
  }
  return "?";
}

bool Profile::shape_matches(const json& value) const {
  if (!value.is_object()) return false;
  for (const auto& f : shape_all) {
    if (!value.contains(f)) return false;
  }
  if (shape_any.empty()) return true;
  return std::any_of(shape_any.begin(), shape_any.end(), [&](const std::string& f) { return value.contains(f); });
}

std::optional<std::pair<const KeyRole*, std::string>> Profile::match_key(const std::string& key) const {
  for (const auto& ex : exclude) {
    if (ex.match(key)) return std::nullopt;
  }
  if (auto id = primary.pattern.match(key)) return std::make_pair(&primary, *id);
  for (const auto& r : related) {
    if (auto id = r.pattern.match(key)) return std::make_pair(&r, *id);
  }
  return std::nullopt;
}

const IndexSpec* Profile::match_index(const std::string& key) const {
  for (const auto& ix : indexes) {
    if (ix.pattern.match(key)) return &ix;
  }
  return nullptr;
}

std::vector<std::pair<const KeyRole*, std::string>> Profile::keys_for(const std::string& id) const {
  std::vector<std::pair<const KeyRole*, std::string>> out;
  out.emplace_back(&primary, primary.pattern.key_for(id));
  for (const auto& r : related) out.emplace_back(&r, r.pattern.key_for(id));
  return out;
}

namespace {

// Finds the line of `field` inside the profile named `name`, for error messages.
std::size_t line_of(const std::string& text, const std::string& name, const std::string& field) {
  std::size_t pos = name.empty() ? 0 : text.find("\"" + name + "\"");
  if (pos == std::string::npos) pos = 0;
  if (!field.empty()) {
    auto f = text.find("\"" + field + "\"", pos);
    if (f != std::string::npos) pos = f;
  }
  return static_cast<std::size_t>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(pos), '\n')) + 1;
}

struct Loader {
  const std::string& text;
  const std::string& origin;
  std::string current;  // profile name, for error positions

  [[noreturn]] void fail(const std::string& field, const std::string& message) const {
    throw UsageError(fmt::format("{}:{}: profile '{}', field '{}': {}", origin, line_of(text, current, field),
                                 current, field, message));
  }

  std::string str(const json& obj, const std::string& field, bool required, const std::string& fallback = "") const {
    auto it = obj.find(field);
    if (it == obj.end() || it->is_null()) {
      if (required) fail(field, "is required");
      return fallback;
    }
    if (!it->is_string()) fail(field, "must be a string");
    return it->get<std::string>();
  }

  std::vector<std::string> strings(const json& obj, const std::string& field) const {
    std::vector<std::string> out;
    auto it = obj.find(field);
    if (it == obj.end()) return out;
    if (!it->is_array()) fail(field, "must be an array of strings");
    for (const auto& v : *it) {
      if (!v.is_string()) fail(field, "must be an array of strings");
      out.push_back(v.get<std::string>());
    }
    return out;
  }

  KeyPattern pattern(const std::string& value, const std::string& field) const {
    try {
      return KeyPattern(value);
    } catch (const UsageError& e) {
      fail(field, e.what());
    }
  }

  ValueType type(const std::string& value, const std::string& field) const {
    if (value == "string") return ValueType::string;
    if (value == "hash") return ValueType::hash;
    if (value == "list") return ValueType::list;
    if (value == "set") return ValueType::set;
    if (value == "zset") return ValueType::zset;
    fail(field, fmt::format("unknown type '{}': use string, hash, list, set or zset", value));
  }

  Encoding encoding(const std::string& value, ValueType t, const std::string& field) const {
    if (value.empty()) {
      if (t == ValueType::hash) return Encoding::fields;
      if (t == ValueType::string) return Encoding::json;
      return Encoding::json_items;
    }
    if (value == "json") return Encoding::json;
    if (value == "json-or-opaque") return Encoding::json_or_opaque;
    if (value == "opaque") return Encoding::opaque;
    if (value == "fields") return Encoding::fields;
    if (value == "json-items") return Encoding::json_items;
    fail(field, fmt::format("unknown encoding '{}': use json, json-or-opaque, opaque, fields or json-items", value));
  }

  std::optional<std::chrono::milliseconds> duration(const json& obj, const std::string& field) const {
    auto it = obj.find(field);
    if (it == obj.end() || it->is_null()) return std::nullopt;
    if (it->is_number_integer()) return std::chrono::seconds(it->get<long long>());
    if (!it->is_string()) fail(field, "must be a duration such as \"24h\" or a number of seconds");
    try {
      return parse_duration(it->get<std::string>(), field);
    } catch (const UsageError& e) {
      fail(field, e.what());
    }
  }

  KeyRole role(const json& obj, const std::string& default_role) const {
    if (!obj.is_object()) fail("related", "each entry must be an object");
    KeyRole r;
    r.role = str(obj, "role", false, default_role);
    r.pattern = pattern(str(obj, "key", true), "key");
    if (!r.pattern.has_placeholder()) fail("key", "a session key needs an {id} placeholder");
    r.type = type(str(obj, "type", false, "string"), "type");
    r.encoding = encoding(str(obj, "encoding", false), r.type, "encoding");
    if (auto it = obj.find("ttl"); it != obj.end() && it->is_boolean()) r.expects_ttl = it->get<bool>();
    if (auto it = obj.find("max_items"); it != obj.end()) {
      if (!it->is_number_unsigned()) fail("max_items", "must be a positive integer");
      r.max_items = it->get<std::size_t>();
    }
    return r;
  }

  Profile profile(const json& obj) {
    if (!obj.is_object()) fail("profiles", "each profile must be an object");
    current = obj.contains("name") && obj["name"].is_string() ? obj["name"].get<std::string>() : "";
    Profile p;
    p.name = str(obj, "name", true);
    if (p.name.empty() || p.name.find_first_of(" \t\n,") != std::string::npos) fail("name", "must be one word");
    p.description = str(obj, "description", false);
    p.primary = role(obj, "state");
    for (const auto& r : obj.value("related", json::array())) p.related.push_back(role(r, "related"));
    for (const auto& ix : obj.value("indexes", json::array())) {
      if (!ix.is_object()) fail("indexes", "each entry must be an object");
      IndexSpec spec;
      spec.role = str(ix, "role", false, "index");
      spec.pattern = pattern(str(ix, "key", true), "key");
      std::string kind = str(ix, "type", false, "zset");
      if (kind == "zset") {
        spec.kind = IndexSpec::Kind::zset_of_ids;
        spec.score_is_activity = str(ix, "score", false) == "last_activity";
      } else if (kind == "pointer") {
        spec.kind = IndexSpec::Kind::pointer_key;
        spec.link_field = str(ix, "link", true);
        if (!spec.pattern.has_placeholder()) fail("key", "a pointer index key needs a placeholder such as {chat_id}");
      } else {
        fail("type", fmt::format("unknown index type '{}': use zset or pointer", kind));
      }
      p.indexes.push_back(std::move(spec));
    }
    if (auto it = obj.find("ttl"); it != obj.end()) {
      if (!it->is_object()) fail("ttl", "must be an object such as {\"default\": \"1h\", \"max\": \"2h\"}");
      p.default_ttl = duration(*it, "default");
      p.max_ttl = duration(*it, "max");
      p.sliding_ttl = it->value("sliding", false);
    }
    p.state_field = str(obj, "state_field", false);
    p.state_labels = obj.value("state_labels", json::object());
    p.activity_field = str(obj, "activity_field", false);
    if (auto it = obj.find("shape"); it != obj.end()) {
      if (!it->is_object()) fail("shape", "must be an object with \"all\" and/or \"any\" field lists");
      p.shape_all = strings(*it, "all");
      p.shape_any = strings(*it, "any");
    }
    for (const auto& ex : strings(obj, "exclude")) p.exclude.push_back(pattern(ex, "exclude"));
    p.id_format = str(obj, "id_format", false);
    if (!p.id_format.empty() && p.id_format != "uuid") fail("id_format", "only \"uuid\" is known");
    if (auto it = obj.find("max_size"); it != obj.end()) {
      if (!it->is_number_unsigned()) fail("max_size", "must be a number of bytes");
      p.max_size = it->get<std::size_t>();
    }
    if (auto it = obj.find("pii"); it != obj.end()) {
      if (!it->is_object()) fail("pii", "must map a field path to a rule, e.g. {\"data.email\": \"email\"}");
      for (const auto& [path, rule] : it->items()) {
        auto parsed = rule.is_string() ? mask::parse_rule(rule.get<std::string>()) : std::nullopt;
        if (!parsed) {
          fail("pii", fmt::format("unknown rule for '{}': use email, phone, name, username, text, free_text or redact",
                                  path));
        }
        p.pii.push_back({path, *parsed});
      }
    }
    return p;
  }
};

}  // namespace

ProfileSet ProfileSet::parse(const std::string& text, const std::string& origin) {
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::parse_error& e) {
    std::size_t byte = std::min<std::size_t>(e.byte, text.size());
    auto line = std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(byte), '\n') + 1;
    throw UsageError(fmt::format("{}:{}: not valid JSON: {}", origin, line, e.what()));
  }
  Loader loader{text, origin, ""};
  const json* list = doc.is_object() && doc.contains("profiles") ? &doc["profiles"] : nullptr;
  if (!list || !list->is_array()) {
    throw UsageError(fmt::format("{}:1: expected an object with a \"profiles\" array", origin));
  }
  ProfileSet set;
  for (const auto& obj : *list) {
    Profile p = loader.profile(obj);
    if (set.find(p.name)) loader.fail("name", "is defined twice");
    set.profiles_.push_back(std::move(p));
  }
  return set;
}

ProfileSet ProfileSet::load_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw UsageError(fmt::format("cannot read profiles file {}: check the path", path));
  std::stringstream ss;
  ss << in.rdbuf();
  return parse(ss.str(), path);
}

void ProfileSet::merge(ProfileSet other) {
  for (auto& p : other.profiles_) {
    auto it = std::find_if(profiles_.begin(), profiles_.end(), [&](const Profile& q) { return q.name == p.name; });
    if (it != profiles_.end()) {
      *it = std::move(p);
    } else {
      profiles_.push_back(std::move(p));
    }
  }
}

ProfileSet ProfileSet::select(const std::vector<std::string>& names) const {
  if (names.empty()) return *this;
  ProfileSet out;
  for (const auto& n : names) {
    const Profile* p = find(n);
    if (!p) {
      std::string known;
      for (const auto& q : profiles_) known += (known.empty() ? "" : ", ") + q.name;
      throw UsageError(fmt::format("unknown profile '{}': known profiles are {}", n, known));
    }
    if (!out.find(n)) out.profiles_.push_back(*p);
  }
  return out;
}

const Profile* ProfileSet::find(const std::string& name) const {
  for (const auto& p : profiles_) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

}  // namespace sessionctl
