#include "session/session.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>

#include "json/probe.h"

namespace sessionctl {

using nlohmann::json;

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

std::optional<json> parse_json(const std::string& text) {
  json doc = json::parse(text, nullptr, false);
  if (doc.is_discarded()) return std::nullopt;
  return doc;
}

bool is_utf8(const std::string& s) {
  // Strict (RFC 3629): no overlong forms, no surrogates, nothing above U+10FFFF, as JSON parsers demand.
  for (std::size_t i = 0; i < s.size();) {
    auto b = static_cast<unsigned char>(s[i]);
    std::size_t len = b < 0x80 ? 1 : (b >> 5) == 6 ? 2 : (b >> 4) == 14 ? 3 : (b >> 3) == 30 ? 4 : 0;
    if (len == 0 || i + len > s.size()) return false;
    char32_t cp = len == 1 ? b : len == 2 ? (b & 0x1F) : len == 3 ? (b & 0x0F) : (b & 0x07);
    for (std::size_t k = 1; k < len; ++k) {
      auto c = static_cast<unsigned char>(s[i + k]);
      if ((c >> 6) != 2) return false;
      cp = (cp << 6) | (c & 0x3F);
    }
    static constexpr char32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

bool is_uuid(const std::string& s) {
  if (s.size() != 36) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !std::isxdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  return true;
}

double unix_now() {
  using namespace std::chrono;
  return duration<double>(system_clock::now().time_since_epoch()).count();
}

std::string rfc3339(double t) {
  auto secs = static_cast<std::time_t>(std::floor(t));
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

namespace {

// Activity timestamps come as unix seconds, unix milliseconds, or ISO 8601 text.
std::optional<double> parse_time(const std::string& s) {
  char* end = nullptr;
  double num = std::strtod(s.c_str(), &end);
  if (end && *end == '\0' && end != s.c_str()) return num > 1e11 ? num / 1000.0 : num;
  std::tm tm{};
  const char* rest = strptime(s.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (!rest) return std::nullopt;
  return static_cast<double>(timegm(&tm));
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
    if (k.value->type == "string") {
      JsonProbe probe = probe_json(k.value->raw, {path});
      if (probe.valid && probe.values[0]) return probe.values[0];
    } else if (k.value->type == "hash") {
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

void analyse_session(Session& s) {
  if (s.keys.empty()) return;
  const Profile* p = s.profile;
  for (std::size_t i = 0; i < s.keys.size(); ++i) {
    const KeyInfo& k = s.keys[i];
    if (!k.exists()) continue;
    const KeyRole* role = s.role_of(i);
    if (role && k.type != value_type_name(role->type)) s.add_problem(problem::wrong_type);
    if (k.ttl_ms == -1 && (!role || role->expects_ttl)) s.add_problem(problem::no_ttl);
    if (p && p->max_ttl && k.ttl_ms > p->max_ttl->count() + 1000) s.add_problem(problem::ttl_too_long);
    if (role && role->max_items && k.value && k.value->items.size() > *role->max_items) {
      s.add_problem(problem::history_over_cap);
    }
    if (!k.value || !role) continue;
    if (k.value->type == "string" && (role->encoding == Encoding::json || role->encoding == Encoding::json_or_opaque)) {
      // One pass validates the value and picks out the state and activity fields.
      std::vector<std::string> paths;
      if (i == 0 && p) paths = {p->state_field, p->activity_field};
      JsonProbe probe = probe_json(k.value->raw, paths);
      if (!probe.valid && role->encoding == Encoding::json) {
        s.add_problem(is_utf8(k.value->raw) ? problem::corrupt : problem::binary);
      }
      if (probe.valid && i == 0) {
        if (!p->state_field.empty() && probe.values[0]) s.state = state_text(*p, *probe.values[0]);
        if (!p->activity_field.empty() && probe.values[1]) s.last_activity = parse_time(*probe.values[1]);
      }
    }
    if (k.value->type == "hash" && i == 0 && p) {
      if (!p->state_field.empty()) {
        if (auto v = hash_field(*k.value, p->state_field)) s.state = state_text(*p, *v);
      }
      if (!p->activity_field.empty()) {
        if (auto v = hash_field(*k.value, p->activity_field)) s.last_activity = parse_time(*v);
      }
    }
    if (role->encoding == Encoding::json_items) {
      for (const auto& item : k.value->items) {
        if (!probe_json(item, {}).valid) s.add_problem(is_utf8(item) ? problem::corrupt : problem::binary);
      }
    }
  }
  if (p && p->id_format == "uuid" && !is_uuid(s.id)) s.add_problem(problem::bad_id);
  if (p && p->max_size && s.size() > static_cast<long long>(*p->max_size)) s.add_problem(problem::too_big);
  if (!p) s.add_problem(problem::unclassified);

  if (!s.last_activity && s.index_score) s.last_activity = s.index_score;
}

}  // namespace sessionctl
