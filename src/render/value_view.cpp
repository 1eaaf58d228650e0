#include "render/value_view.h"

#include <algorithm>

#include "codec/jdk.h"
#include "codec/php_session.h"
#include "json/probe.h"
#include "mask/mask.h"
#include "render/terminal.h"
#include "util/errors.h"
#include "util/utf8.h"

namespace sessionctl {

using nlohmann::json;

namespace {

const std::vector<mask::FieldRule>& rules_of(const Profile* p) {
  static const std::vector<mask::FieldRule> none;
  return p ? p->pii : none;
}

// A text that holds a JSON object or array is shown decoded; other text stays text.
json decode_text(const std::string& text, bool& binary) {
  if (!is_utf8(text)) {
    binary = true;
    return base64_encode(text);
  }
  if (!text.empty() && (text.front() == '{' || text.front() == '[')) {
    if (auto doc = parse_json(text)) return *doc;
    // Nested beyond the limit: a length, never the text (it would be megabytes of brackets).
    if (probe_json(text, {}).too_deep) return mask::mask_text(text);
  }
  return text;
}

}  // namespace

json present_value(const StoredValue& v, const Profile* profile, bool reveal, std::optional<Encoding> expected) {
  const auto& rules = rules_of(profile);
  const bool json_expected = expected == Encoding::json || expected == Encoding::json_items;
  auto masked = [&](const json& doc) { return reveal ? doc : mask::mask_json(doc, rules); };
  json out;
  if (v.type == ValueType::string) {
    const bool utf8 = is_utf8(v.raw);
    auto corrupt = [&](std::string reason) {
      out["encoding"] = "corrupt";
      out["reason"] = std::move(reason);
      out["value"] = mask::mask_text(v.raw);
    };
    std::optional<nlohmann::json> doc = utf8 ? parse_json(v.raw) : std::nullopt;
    const JsonProbe probe = utf8 && !doc ? probe_json(v.raw, {}) : JsonProbe{};
    if (json_expected && !reveal && !utf8) {
      // Bytes that are not UTF-8 where JSON is expected (a Latin-1 name, say) are as corrupt as broken
      // JSON, and base64 would hand the whole value back to anyone who decodes it.
      corrupt(probe_json(v.raw, {}).error);
    } else if (!utf8) {
      out["encoding"] = "base64";
      out["value"] = base64_encode(v.raw);
    } else if (doc) {
      out["encoding"] = "json";
      out["value"] = masked(*doc);
    } else if (probe.too_deep || (json_expected && !reveal)) {
      // Too deep is corrupt even with --reveal: the limit protects the terminal, not only privacy.
      corrupt(probe.error);
    } else {
      out["encoding"] = "text";
      out["value"] = reveal ? json(v.raw) : json(mask::mask_free_text(v.raw));
    }
    return out;
  }
  if (v.type == ValueType::hash) {
    json fields = json::object();
    bool binary = false;
    for (const auto& [f, val] : v.fields) fields[f] = decode_text(val, binary);
    out["encoding"] = binary ? "fields+base64" : "fields";
    out["value"] = masked(fields);
    return out;
  }
  if (v.type == ValueType::zset) {
    json members = json::array();
    for (const auto& [m, score] : v.scored) {
      members.push_back({{"member", reveal ? json(m) : json(mask::mask_free_text(m))}, {"score", score}});
    }
    out["encoding"] = "members";
    out["value"] = members;
    return out;
  }
  json items = json::array();
  bool binary = false;
  for (const auto& item : v.items) {
    json decoded = decode_text(item, binary);
    if (json_expected && !reveal && decoded.is_string()) {
      items.push_back(mask::mask_text(item));  // a corrupt (or binary) item: its length, not its text
      continue;
    }
    items.push_back(masked(decoded));
  }
  out["encoding"] = binary ? "items+base64" : "items";
  out["value"] = items;
  return out;
}

namespace {

constexpr std::size_t kMaxRuns = 32;       // printable runs shown per value
constexpr std::size_t kMaxRunBytes = 200;  // each cut to this

// The runs of at least four printable ASCII bytes, as strings(1) finds them; PII inside masked.
json printable_runs(const std::string& bytes, bool reveal) {
  json runs = json::array();
  std::size_t start = 0;
  const auto flush = [&](std::size_t end) {
    if (end - start >= 4 && runs.size() < kMaxRuns) {
      const std::string run = bytes.substr(start, std::min(end - start, kMaxRunBytes));
      runs.push_back(reveal ? run : mask::mask_free_text(run));
    }
  };
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    const auto c = static_cast<unsigned char>(bytes[i]);
    if (c < 0x20 || c > 0x7e) {
      flush(i);
      start = i + 1;
    }
  }
  flush(bytes.size());
  return runs;
}

json serialized_summary(const std::string& bytes, bool reveal) {
  json out = {{"bytes", bytes.size()}, {"strings", printable_runs(bytes, reveal)}};
  if (reveal) out["base64"] = base64_encode(bytes);
  return out;
}

// Text a person can read as it is (a Rails JSON session, a field holding a plain number).
bool plain_text(const std::string& s) {
  return is_utf8(s) && std::none_of(s.begin(), s.end(), [](char c) {
           const auto u = static_cast<unsigned char>(c);
           return u < 0x20 && c != '\n' && c != '\t';
         });
}

}  // namespace

json present_serialized(const StoredValue& v, const std::string& format, const Profile* profile, bool reveal) {
  json out = {{"encoding", format}};
  const auto masked = [&](const json& doc) { return reveal ? doc : mask::mask_json(doc, rules_of(profile)); };
  if (v.type == ValueType::hash) {
    json fields = json::object();
    for (const auto& [f, val] : v.fields) {
      // A field name that is not UTF-8 is shown escaped (\xNN), as printable() writes it and ids are given.
      const std::string name = is_utf8(f) ? f : printable(f);
      if (format == "jdk" && is_jdk_stream(val)) {
        // Spring's own fields (creationTime, maxInactiveInterval…) are wrappers and strings; anything else
        // is opaque with its class name.
        fields[name] = masked(to_json(read_jdk(val)));
      } else {
        fields[name] =
            plain_text(val) ? json(reveal ? val : mask::mask_free_text(val)) : serialized_summary(val, reveal);
      }
    }
    out["value"] = fields;
    return out;
  }
  if (format == "php-session") {
    if (auto handler = detect_php_handler(v.raw)) {
      if (auto session = parse_php_session(v.raw, *handler)) {
        out["value"] = masked(to_json(*session));
        return out;
      }
    }
    out["reason"] = "not PHP session serialization";
  }
  out["value"] = serialized_summary(v.raw, reveal);
  return out;
}

}  // namespace sessionctl
