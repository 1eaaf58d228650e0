#include "archive/format.h"

#include <fmt/format.h>

#include <cmath>
#include <limits>

#include "json/text.h"
#include "util/base64.h"
#include "util/utf8.h"

namespace sessionctl::archive {

using nlohmann::json;

const char* kind_name(KeyKind k) {
  switch (k) {
    case KeyKind::string:
      return "string";
    case KeyKind::hash:
      return "hash";
    case KeyKind::list:
      return "list";
    case KeyKind::set:
      return "set";
    case KeyKind::zset:
      return "zset";
  }
  return "?";
}

std::optional<KeyKind> parse_kind(std::string_view name) {
  for (KeyKind k : {KeyKind::string, KeyKind::hash, KeyKind::list, KeyKind::set, KeyKind::zset})
    if (name == kind_name(k)) return k;
  return std::nullopt;
}

namespace {

// Bytes as text when they are UTF-8, else {"b64":"…"}: binary-safe, and readable where they are text.
void append_blob(std::string& out, const std::string& bytes) {
  if (is_utf8(bytes)) {
    append_json_string(out, bytes);
    return;
  }
  out += "{\"b64\":\"";
  out += base64_encode(bytes);
  out += "\"}";
}

void append_score(std::string& out, double s) {
  if (std::isinf(s)) {
    out += s > 0 ? "\"inf\"" : "\"-inf\"";
  } else if (s == 0 && std::signbit(s)) {
    out += "-0.0";  // "-0" would read back as the integer 0: the sign would be lost
  } else {
    out += fmt::format("{}", s);  // shortest form that reads back as the same double
  }
}

[[noreturn]] void bad(const std::string& where, const std::string& what) {
  throw FormatError(fmt::format("{}: {}", where, what));
}

std::string blob(const json& v, const std::string& where, const char* what) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object() && v.size() == 1 && v.contains("b64") && v["b64"].is_string()) {
    try {
      return base64_decode(v["b64"].get<std::string>());
    } catch (const UsageError&) {
      bad(where, fmt::format("{} is not valid base64", what));
    }
  }
  bad(where, fmt::format("{} must be a string or {{\"b64\": …}}", what));
}

double score(const json& v, const std::string& where) {
  if (v.is_number()) return v.get<double>();
  if (v == "inf") return std::numeric_limits<double>::infinity();
  if (v == "-inf") return -std::numeric_limits<double>::infinity();
  bad(where, "a zset score must be a number, \"inf\" or \"-inf\"");
}

json parse_object(std::string_view line, const std::string& where, const char* what) {
  json doc = json::parse(line, nullptr, false);
  if (doc.is_discarded()) bad(where, fmt::format("not JSON (a damaged or hand-edited {})", what));
  if (!doc.is_object()) bad(where, fmt::format("a {} must be a JSON object", what));
  return doc;
}

}  // namespace

std::string header_line(const Header& h) {
  nlohmann::ordered_json j;
  j["format"] = kFormat;
  j["version"] = h.version;
  j["created"] = h.created;
  j["source"] = h.source.is_null() ? json::object() : h.source;
  j["masked"] = h.masked;
  j["selection"] = h.selection.is_null() ? json::object() : h.selection;
  return j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

void append_record_line(std::string& out, const Record& r) {
  out += "{\"key\":";
  append_blob(out, r.key);
  out += ",\"type\":\"";
  out += kind_name(r.kind);
  out += "\",\"value\":";
  switch (r.kind) {
    case KeyKind::string:
      append_blob(out, r.str);
      break;
    case KeyKind::list:
    case KeyKind::set:
      out += '[';
      for (std::size_t i = 0; i < r.items.size(); ++i) {
        if (i > 0) out += ',';
        append_blob(out, r.items[i]);
      }
      out += ']';
      break;
    case KeyKind::hash:
      out += '[';
      for (std::size_t i = 0; i < r.fields.size(); ++i) {
        out += i > 0 ? ",[" : "[";
        append_blob(out, r.fields[i].first);
        out += ',';
        append_blob(out, r.fields[i].second);
        out += ']';
      }
      out += ']';
      break;
    case KeyKind::zset:
      out += '[';
      for (std::size_t i = 0; i < r.scored.size(); ++i) {
        out += i > 0 ? ",[" : "[";
        append_blob(out, r.scored[i].first);
        out += ',';
        append_score(out, r.scored[i].second);
        out += ']';
      }
      out += ']';
      break;
  }
  out += ",\"expire_at_ms\":";
  out += r.expire_at_ms ? std::to_string(*r.expire_at_ms) : "null";
  out += ",\"session\":";
  append_blob(out, r.session);
  out += ",\"profile\":";
  append_json_string(out, r.profile);
  if (r.part > 0 || r.more) out += fmt::format(",\"part\":{},\"more\":{}", r.part, r.more);
  if (r.index) out += ",\"index\":true";
  out += "}\n";
}

std::string trailer_line(const Trailer& t) {
  return fmt::format("{{\"trailer\":true,\"records\":{},\"sessions\":{},\"sha256\":\"{}\"}}\n", t.records, t.sessions,
                     t.sha256);
}

Header parse_header(std::string_view line, const std::string& where) {
  if (line.empty()) bad(where, "empty: not a sessionctl archive");
  if (line.front() != '{') bad(where, "not a sessionctl archive (no JSON header line)");
  const json j = parse_object(line, where, "header");
  auto text = [&j](const char* name) {
    auto it = j.find(name);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  if (text("format") != kFormat) bad(where, "not a sessionctl archive (no \"format\": \"sessionctl.archive\")");
  if (!j.contains("version") || !j["version"].is_number_integer()) bad(where, "the header has no version");
  Header h;
  h.version = j["version"].get<int>();
  if (h.version > kVersion || h.version < 1)
    bad(where,
        fmt::format("archive version {} is not one this sessionctl reads (it reads version {})", h.version, kVersion));
  h.created = text("created");
  h.source = j.contains("source") && j["source"].is_object() ? j["source"] : json::object();
  if (!j.contains("masked") || !j["masked"].is_boolean()) bad(where, "the header does not say whether it is masked");
  h.masked = j["masked"].get<bool>();
  h.selection = j.contains("selection") && j["selection"].is_object() ? j["selection"] : json::object();
  return h;
}

bool is_trailer(std::string_view line) { return line.rfind("{\"trailer\":", 0) == 0; }

Trailer parse_trailer(std::string_view line, const std::string& where) {
  const json j = parse_object(line, where, "trailer");
  Trailer t;
  auto count = [&](const char* name) {
    if (!j.contains(name) || !j[name].is_number_integer() || j[name].get<long long>() < 0)
      bad(where, fmt::format("the trailer's {} is not a count", name));
    return j[name].get<long long>();
  };
  t.records = count("records");
  t.sessions = count("sessions");
  if (!j.contains("sha256") || !j["sha256"].is_string() || j["sha256"].get<std::string>().size() != 64)
    bad(where, "the trailer has no SHA-256");
  t.sha256 = j["sha256"].get<std::string>();
  return t;
}

Record parse_record(std::string_view line, const std::string& where) {
  const json j = parse_object(line, where, "record");
  Record r;
  if (!j.contains("key")) bad(where, "a record without a key");
  r.key = blob(j["key"], where, "the key");
  const auto kind =
      j.contains("type") && j["type"].is_string() ? parse_kind(j["type"].get<std::string>()) : std::nullopt;
  if (!kind) bad(where, "a record's type must be string, hash, list, set or zset");
  r.kind = *kind;
  if (!j.contains("value")) bad(where, "a record without a value");
  const json& v = j["value"];
  if (r.kind == KeyKind::string) {
    r.str = blob(v, where, "the value");
  } else {
    if (!v.is_array()) bad(where, fmt::format("a {}'s value must be an array", kind_name(r.kind)));
    for (const auto& e : v) {
      if (r.kind == KeyKind::list || r.kind == KeyKind::set) {
        r.items.push_back(blob(e, where, "an item"));
        continue;
      }
      if (!e.is_array() || e.size() != 2) bad(where, "a hash field or zset member must be a [name, value] pair");
      if (r.kind == KeyKind::hash) {
        r.fields.emplace_back(blob(e[0], where, "a field"), blob(e[1], where, "a field's value"));
      } else {
        r.scored.emplace_back(blob(e[0], where, "a member"), score(e[1], where));
      }
    }
  }
  if (!j.contains("expire_at_ms")) bad(where, "a record without expire_at_ms (null when the key has no expiry)");
  if (j["expire_at_ms"].is_number_integer()) {
    r.expire_at_ms = j["expire_at_ms"].get<long long>();
    if (*r.expire_at_ms <= 0) bad(where, "expire_at_ms must be a positive unix time in ms or null");
  } else if (!j["expire_at_ms"].is_null()) {
    bad(where, "expire_at_ms must be a whole number of ms or null");
  }
  if (!j.contains("session") || !j.contains("profile") || !j["profile"].is_string())
    bad(where, "a record must name its session and profile");
  r.session = blob(j["session"], where, "the session");
  r.profile = j["profile"].get<std::string>();
  if (j.contains("index")) {
    if (!j["index"].is_boolean()) bad(where, "index must be true or false");
    r.index = j["index"].get<bool>();
    if (r.index && !(r.kind == KeyKind::zset || r.kind == KeyKind::string))
      bad(where, "an index entry is a zset member or a pointer string");
  }
  if (j.contains("part")) {
    if (!j["part"].is_number_unsigned() || !j.contains("more") || !j["more"].is_boolean())
      bad(where, "part must be a whole number, with more true or false");
    r.part = j["part"].get<std::size_t>();
    r.more = j["more"].get<bool>();
  }
  return r;
}

}  // namespace sessionctl::archive
