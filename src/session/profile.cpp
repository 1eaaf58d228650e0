#include "session/profile.h"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>
#include <string_view>

#include "json/probe.h"
#include "util/duration.h"
#include "util/errors.h"

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

const std::vector<std::string>& known_formats() {
  static const std::vector<std::string> formats = {"php-session", "jdk", "pickle", "marshal", "msgpack"};
  return formats;
}

std::string value_type_name(ValueType t) {
  switch (t) {
    case ValueType::string:
      return "string";
    case ValueType::hash:
      return "hash";
    case ValueType::list:
      return "list";
    case ValueType::set:
      return "set";
    case ValueType::zset:
      return "zset";
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
  // An exclusion keeps a key from being read as a primary key; it may still be a related key (Spring's
  // spring:session:sessions:expires:{id} also has the layout of its hash, spring:session:sessions:{id}).
  const bool excluded =
      std::any_of(exclude.begin(), exclude.end(), [&](const KeyPattern& ex) { return ex.match(key); });
  if (!excluded) {
    if (auto id = primary.pattern.match(key)) return std::make_pair(&primary, *id);
  }
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

// The line of every member and element of a JSON text, keyed by JSON pointer ("/profiles/0/key"), so that
// errors point at the line that holds the bad field. Only run on text nlohmann already accepted.
class LineMap {
 public:
  explicit LineMap(const std::string& text) : t_(text) { value(""); }
  // The line of `pointer`, else of its nearest recorded ancestor, else 1.
  std::size_t line(std::string pointer) const {
    for (;;) {
      if (auto it = lines_.find(pointer); it != lines_.end()) return it->second;
      auto slash = pointer.rfind('/');
      if (slash == std::string::npos || pointer.empty()) return 1;
      pointer.resize(slash);
    }
  }

 private:
  void ws() {
    while (i_ < t_.size() && (t_[i_] == ' ' || t_[i_] == '\t' || t_[i_] == '\r' || t_[i_] == '\n')) {
      if (t_[i_] == '\n') ++line_;
      ++i_;
    }
  }
  std::string str() {  // at the opening quote; escapes are kept except \" and \\ (keys here are plain words)
    std::string s;
    for (++i_; i_ < t_.size() && t_[i_] != '"'; ++i_) {
      if (t_[i_] == '\\' && i_ + 1 < t_.size()) ++i_;
      s += t_[i_];
    }
    ++i_;
    return s;
  }
  static std::string escape(const std::string& key) {
    std::string out;
    for (char c : key) out += c == '~' ? "~0" : c == '/' ? "~1" : std::string(1, c);
    return out;
  }
  void value(const std::string& at) {
    ws();
    lines_.emplace(at, line_);
    if (i_ >= t_.size()) return;
    char c = t_[i_];
    if (c == '{' || c == '[') {
      ++i_;
      for (std::size_t n = 0;; ++n) {
        ws();
        if (i_ >= t_.size()) return;
        if (t_[i_] == '}' || t_[i_] == ']') {
          ++i_;
          return;
        }
        if (t_[i_] == ',') {
          ++i_;
          ws();
        }
        if (c == '{') {
          std::size_t key_line = line_;
          std::string child = at + "/" + escape(str());
          ws();
          if (i_ < t_.size() && t_[i_] == ':') ++i_;
          value(child);
          lines_[child] = key_line;  // a member's line is its key's
        } else {
          value(at + "/" + std::to_string(n));
        }
      }
    }
    if (c == '"') {
      str();
      return;
    }
    while (i_ < t_.size() && std::string_view(",]} \t\r\n").find(t_[i_]) == std::string_view::npos) ++i_;
  }

  const std::string& t_;
  std::size_t i_ = 0, line_ = 1;
  std::map<std::string, std::size_t> lines_;
};

// The containers a profile's paths pass through ("data" for "data.email", "participants" for
// "participants.*"), each with whether it must be an object (a name or {keys} follows) or may also
// be an array (an index or * follows). Paths are followed up to their first wildcard only.
std::vector<std::pair<std::string, bool>> shape_containers_of(const Profile& p) {
  std::vector<std::pair<std::string, bool>> out;
  auto add = [&](const std::string& path) {
    std::string prefix;
    std::size_t start = 0;
    while (true) {
      const auto dot = path.find('.', start);
      if (dot == std::string::npos) return;
      const std::string segment = path.substr(start, dot - start);
      if (segment.empty() || segment == "*" || segment == "{keys}") return;
      prefix += (prefix.empty() ? "" : ".") + segment;
      start = dot + 1;
      const std::string next = path.substr(start, path.find('.', start) - start);
      const bool may_be_array =
          next == "*" ||
          (!next.empty() && std::all_of(next.begin(), next.end(), [](char c) { return c >= '0' && c <= '9'; }));
      auto it = std::find_if(out.begin(), out.end(), [&](const auto& e) { return e.first == prefix; });
      if (it == out.end()) {
        out.emplace_back(prefix, !may_be_array);
      } else if (!may_be_array) {
        it->second = true;
      }
    }
  };
  for (const auto& rule : p.pii) add(rule.path);
  add(p.state_field);
  add(p.activity_field);
  return out;
}

struct Loader {
  const std::string& origin;
  LineMap lines;
  std::string current;     // profile name, for error messages
  std::string profile_at;  // JSON pointer of the profile being read

  // `at` is the JSON pointer of the object holding `field`. The message names the field by its path
  // inside the profile ("related[0].type") and the line that holds it (or its object, when missing).
  [[noreturn]] void fail(const std::string& at, const std::string& field, const std::string& message) const {
    std::string pointer = field.empty() ? at : at + "/" + field;
    std::string path;
    std::string rel = pointer.starts_with(profile_at) ? pointer.substr(profile_at.size()) : pointer;
    for (std::size_t pos = 0; pos < rel.size();) {
      auto next = rel.find('/', pos + 1);
      std::string seg = rel.substr(pos + 1, next == std::string::npos ? std::string::npos : next - pos - 1);
      bool index = !seg.empty() && std::all_of(seg.begin(), seg.end(), ::isdigit);
      path += index ? "[" + seg + "]" : (path.empty() ? "" : ".") + seg;
      pos = next == std::string::npos ? rel.size() : next;
    }
    if (path.empty())
      throw UsageError(fmt::format("{}:{}: profile '{}': {}", origin, lines.line(pointer), current, message));
    throw UsageError(
        fmt::format("{}:{}: profile '{}', field '{}': {}", origin, lines.line(pointer), current, path, message));
  }

  std::string str(const json& obj, const std::string& at, const std::string& field, bool required,
                  const std::string& fallback = "") const {
    auto it = obj.find(field);
    if (it == obj.end() || it->is_null()) {
      if (required) fail(at, field, "is required");
      return fallback;
    }
    if (!it->is_string()) fail(at, field, "must be a string");
    return it->get<std::string>();
  }

  std::vector<std::string> strings(const json& obj, const std::string& at, const std::string& field) const {
    std::vector<std::string> out;
    auto it = obj.find(field);
    if (it == obj.end()) return out;
    if (!it->is_array()) fail(at, field, "must be an array of strings");
    for (std::size_t i = 0; i < it->size(); ++i) {
      if (!(*it)[i].is_string()) fail(std::string(at).append("/").append(field), std::to_string(i), "must be a string");
      out.push_back((*it)[i].get<std::string>());
    }
    return out;
  }

  const json& array(const json& obj, const std::string& at, const std::string& field) const {
    static const json empty = json::array();
    auto it = obj.find(field);
    if (it == obj.end()) return empty;
    if (!it->is_array()) fail(at, field, "must be an array of objects");
    return *it;
  }

  KeyPattern pattern(const std::string& value, const std::string& at, const std::string& field) const {
    try {
      return KeyPattern(value);
    } catch (const UsageError& e) {
      fail(at, field, e.what());
    }
  }

  ValueType type(const std::string& value, const std::string& at) const {
    if (value == "string") return ValueType::string;
    if (value == "hash") return ValueType::hash;
    if (value == "list") return ValueType::list;
    if (value == "set") return ValueType::set;
    if (value == "zset") return ValueType::zset;
    fail(at, "type", fmt::format("unknown type '{}': use string, hash, list, set or zset", value));
  }

  Encoding encoding(const std::string& value, ValueType t, const std::string& at) const {
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
    fail(at, "encoding",
         fmt::format("unknown encoding '{}': use json, json-or-opaque, opaque, fields or json-items", value));
  }

  std::optional<std::chrono::milliseconds> duration(const json& obj, const std::string& at,
                                                    const std::string& field) const {
    auto it = obj.find(field);
    if (it == obj.end() || it->is_null()) return std::nullopt;
    if (it->is_number_integer()) {
      if (it->get<long long>() <= 0) fail(at, field, "must be a positive number of seconds");
      return std::chrono::seconds(it->get<long long>());
    }
    if (!it->is_string()) fail(at, field, "must be a duration such as \"24h\" or a number of seconds");
    try {
      return parse_duration(it->get<std::string>(), field);
    } catch (const UsageError& e) {
      fail(at, field, e.what());
    }
  }

  bool boolean(const json& obj, const std::string& at, const std::string& field, bool fallback) const {
    auto it = obj.find(field);
    if (it == obj.end() || it->is_null()) return fallback;
    if (!it->is_boolean()) fail(at, field, "must be true or false");
    return it->get<bool>();
  }

  // A misspelt field ("PII", "tll") would otherwise be ignored and silently change what is masked or
  // checked, so every field must be known. Fields starting with '_' or '$' are comments.
  void only(const json& obj, const std::string& at, std::initializer_list<const char*> known) const {
    for (const auto& item : obj.items()) {
      const std::string& name = item.key();  // not a structured binding: clang 14 cannot capture one
      if (!name.empty() && (name[0] == '_' || name[0] == '$')) continue;
      if (std::none_of(known.begin(), known.end(), [&](const char* k) { return name == k; })) {
        std::string list;
        for (const char* k : known) list += (list.empty() ? "" : ", ") + std::string(k);
        fail(at, name, "unknown field: known fields here are " + list);
      }
    }
  }

  // `related` is false for the primary key, whose fields sit on the profile itself (there "ttl" is the policy).
  KeyRole role(const json& obj, const std::string& at, const std::string& default_role, bool related) const {
    if (!obj.is_object()) fail(at, "", "must be an object");
    if (related) only(obj, at, {"role", "key", "type", "encoding", "format", "ttl", "max_items"});
    KeyRole r;
    r.role = str(obj, at, "role", false, default_role);
    r.pattern = pattern(str(obj, at, "key", true), at, "key");
    if (!r.pattern.has_placeholder()) fail(at, "key", "a session key needs an {id} placeholder");
    r.type = type(str(obj, at, "type", false, "string"), at);
    r.encoding = encoding(str(obj, at, "encoding", false), r.type, at);
    // In a related key, "ttl": false says the app never sets one (TRT's :meta).
    if (related) r.expects_ttl = boolean(obj, at, "ttl", true);
    r.format = str(obj, at, "format", false);
    if (!r.format.empty()) {
      const auto& known = known_formats();
      if (std::find(known.begin(), known.end(), r.format) == known.end()) {
        std::string list;
        for (const auto& f : known) list += (list.empty() ? "" : ", ") + f;
        fail(at, "format", fmt::format("unknown format '{}': use {}", r.format, list));
      }
    }
    if (auto it = obj.find("max_items"); it != obj.end()) {
      if (!it->is_number_unsigned()) fail(at, "max_items", "must be a positive integer");
      r.max_items = it->get<std::size_t>();
    }
    return r;
  }

  Profile profile(const json& obj, const std::string& at) {
    profile_at = at;
    current = obj.is_object() && obj.contains("name") && obj["name"].is_string() ? obj["name"].get<std::string>() : "";
    if (!obj.is_object()) fail(at, "", "each profile must be an object");
    only(obj, at,
         {"name", "description", "role", "key", "type", "encoding", "format", "max_items", "related", "indexes", "ttl",
          "state_field", "state_labels", "activity_field", "shape", "exclude", "id_format", "max_size", "pii"});
    Profile p;
    p.name = str(obj, at, "name", true);
    if (p.name.empty() || p.name.find_first_of(" \t\n,") != std::string::npos) fail(at, "name", "must be one word");
    p.description = str(obj, at, "description", false);
    p.primary = role(obj, at, "state", false);
    const json& related = array(obj, at, "related");
    for (std::size_t i = 0; i < related.size(); ++i) {
      p.related.push_back(role(related[i], at + "/related/" + std::to_string(i), "related", true));
    }
    const json& indexes = array(obj, at, "indexes");
    for (std::size_t i = 0; i < indexes.size(); ++i) {
      const json& ix = indexes[i];
      std::string ix_at = at + "/indexes/" + std::to_string(i);
      if (!ix.is_object()) fail(ix_at, "", "must be an object");
      only(ix, ix_at, {"role", "key", "type", "score", "link"});
      IndexSpec spec;
      spec.role = str(ix, ix_at, "role", false, "index");
      spec.pattern = pattern(str(ix, ix_at, "key", true), ix_at, "key");
      std::string kind = str(ix, ix_at, "type", false, "zset");
      if (kind == "zset") {
        spec.kind = IndexSpec::Kind::zset_of_ids;
        spec.score_is_activity = str(ix, ix_at, "score", false) == "last_activity";
      } else if (kind == "pointer") {
        spec.kind = IndexSpec::Kind::pointer_key;
        spec.link_field = str(ix, ix_at, "link", true);
        if (!spec.pattern.has_placeholder()) {
          fail(ix_at, "key", "a pointer index key needs a placeholder such as {chat_id}");
        }
      } else {
        fail(ix_at, "type", fmt::format("unknown index type '{}': use zset or pointer", kind));
      }
      p.indexes.push_back(std::move(spec));
    }
    if (auto it = obj.find("ttl"); it != obj.end()) {
      std::string ttl_at = at + "/ttl";
      if (!it->is_object()) fail(at, "ttl", "must be an object such as {\"default\": \"1h\", \"max\": \"2h\"}");
      only(*it, ttl_at, {"default", "max", "sliding"});
      p.default_ttl = duration(*it, ttl_at, "default");
      p.max_ttl = duration(*it, ttl_at, "max");
      p.sliding_ttl = boolean(*it, ttl_at, "sliding", false);
    }
    p.state_field = str(obj, at, "state_field", false);
    if (auto it = obj.find("state_labels"); it != obj.end()) {
      if (!it->is_object()) fail(at, "state_labels", "must map a raw state to a label, e.g. {\"true\": \"open\"}");
      p.state_labels = *it;
    } else {
      p.state_labels = json::object();
    }
    p.activity_field = str(obj, at, "activity_field", false);
    if (auto it = obj.find("shape"); it != obj.end()) {
      if (!it->is_object()) fail(at, "shape", "must be an object with \"all\" and/or \"any\" field lists");
      only(*it, at + "/shape", {"all", "any"});
      p.shape_all = strings(*it, at + "/shape", "all");
      p.shape_any = strings(*it, at + "/shape", "any");
    }
    auto excludes = strings(obj, at, "exclude");
    for (std::size_t i = 0; i < excludes.size(); ++i) {
      p.exclude.push_back(pattern(excludes[i], at + "/exclude", std::to_string(i)));
    }
    p.id_format = str(obj, at, "id_format", false);
    if (!p.id_format.empty() && p.id_format != "uuid") fail(at, "id_format", "only \"uuid\" is known");
    if (auto it = obj.find("max_size"); it != obj.end()) {
      if (!it->is_number_unsigned()) fail(at, "max_size", "must be a number of bytes");
      p.max_size = it->get<std::size_t>();
    }
    if (auto it = obj.find("pii"); it != obj.end()) {
      if (!it->is_object()) fail(at, "pii", "must map a field path to a rule, e.g. {\"data.email\": \"email\"}");
      for (const auto& [path, rule] : it->items()) {
        auto parsed = rule.is_string() ? mask::parse_rule(rule.get<std::string>()) : std::nullopt;
        if (!parsed) {
          fail(at + "/pii", path, "unknown rule: use email, phone, name, username, text, free_text or redact");
        }
        p.pii.push_back({path, *parsed});
      }
    }
    p.shape_containers = shape_containers_of(p);
    return p;
  }
};

}  // namespace

ProfileSet ProfileSet::parse(const std::string& text, const std::string& origin) {
  // nlohmann's DOM recurses on destruction: a file nested past the limit is refused before it is built.
  if (const JsonProbe probe = probe_json(text, {}); probe.too_deep) {
    const auto at = static_cast<std::ptrdiff_t>(std::min(probe.error_offset, text.size()));
    const auto line = std::count(text.begin(), text.begin() + at, '\n') + 1;
    throw UsageError(fmt::format("{}:{}: not valid JSON: arrays and objects nested deeper than {} levels", origin, line,
                                 kMaxJsonDepth));
  }
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::parse_error& e) {
    std::size_t byte = std::min<std::size_t>(e.byte, text.size());
    auto line = std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(byte), '\n') + 1;
    throw UsageError(fmt::format("{}:{}: not valid JSON: {}", origin, line, e.what()));
  } catch (const json::out_of_range& e) {
    // A number too large for a double ("1e99999") is JSON the parser cannot hold (found by fuzz/profiles).
    throw UsageError(fmt::format("{}: not usable JSON: {}", origin, e.what()));
  }
  Loader loader{origin, LineMap(text), "", ""};
  const json* list = doc.is_object() && doc.contains("profiles") ? &doc["profiles"] : nullptr;
  if (!list || !list->is_array()) {
    throw UsageError(fmt::format("{}:{}: expected an object with a \"profiles\" array", origin,
                                 loader.lines.line(list ? "/profiles" : "")));
  }
  for (const auto& [name, v] : doc.items()) {
    if (name != "profiles" && !name.empty() && name[0] != '_' && name[0] != '$') {
      throw UsageError(fmt::format("{}:{}: unknown top-level field '{}': a profiles file holds a \"profiles\" array",
                                   origin, loader.lines.line("/" + name), name));
    }
  }
  ProfileSet set;
  for (std::size_t i = 0; i < list->size(); ++i) {
    std::string at = "/profiles/" + std::to_string(i);
    Profile p = loader.profile((*list)[i], at);
    p.origin = origin;
    if (set.find(p.name)) loader.fail(at, "name", "is defined twice");
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
      continue;
    }
    // Detection tries profiles in order: one the user wrote for a layout a built-in profile also has
    // (their own sess:{id} store) goes before it, so that the user's description wins.
    auto same_layout = std::find_if(profiles_.begin(), profiles_.end(), [&](const Profile& q) {
      return q.primary.pattern.text() == p.primary.pattern.text();
    });
    profiles_.insert(same_layout, std::move(p));
  }
}

ProfileSet ProfileSet::select(const std::vector<std::string>& names) const {
  if (names.empty()) return *this;
  ProfileSet out;
  out.known_ = known_ ? known_ : std::make_shared<const std::vector<Profile>>(profiles_);
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
