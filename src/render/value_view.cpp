#include "render/value_view.h"

#include "json/probe.h"
#include "mask/mask.h"
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

std::string base64_encode(const std::string& in) {
  static const char* tbl = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    unsigned n = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8) |
                 static_cast<unsigned char>(in[i + 2]);
    out += tbl[(n >> 18) & 63];
    out += tbl[(n >> 12) & 63];
    out += tbl[(n >> 6) & 63];
    out += tbl[n & 63];
  }
  if (i < in.size()) {
    unsigned n = static_cast<unsigned char>(in[i]) << 16;
    if (i + 1 < in.size()) n |= static_cast<unsigned char>(in[i + 1]) << 8;
    out += tbl[(n >> 18) & 63];
    out += tbl[(n >> 12) & 63];
    out += i + 1 < in.size() ? tbl[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::string base64_decode(const std::string& in) {
  auto val = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  if (in.size() % 4 != 0) throw UsageError("malformed base64 value");
  std::string out;
  for (std::size_t i = 0; i < in.size(); i += 4) {
    int a = val(in[i]), b = val(in[i + 1]);
    int c = in[i + 2] == '=' ? 0 : val(in[i + 2]);
    int d = in[i + 3] == '=' ? 0 : val(in[i + 3]);
    if (a < 0 || b < 0 || c < 0 || d < 0) throw UsageError("malformed base64 value");
    unsigned n = (static_cast<unsigned>(a) << 18) | (static_cast<unsigned>(b) << 12) | (static_cast<unsigned>(c) << 6) |
                 static_cast<unsigned>(d);
    out += static_cast<char>((n >> 16) & 0xFF);
    if (in[i + 2] != '=') out += static_cast<char>((n >> 8) & 0xFF);
    if (in[i + 3] != '=') out += static_cast<char>(n & 0xFF);
  }
  return out;
}

}  // namespace sessionctl
