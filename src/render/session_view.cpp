#include "render/session_view.h"

#include <fmt/format.h>

#include <algorithm>

#include "mask/mask.h"
#include "render/value_view.h"
#include "util/bytes.h"
#include "util/clock.h"
#include "util/duration.h"
#include "util/utf8.h"

namespace sessionctl {

using nlohmann::json;

std::string ttl_text(long long ttl_ms) {
  if (ttl_ms == -1) return "no TTL";
  if (ttl_ms < 0) return "gone";
  return format_duration(std::chrono::milliseconds(ttl_ms));
}

namespace {

// Ids and keys are bytes. JSON strings must be UTF-8, so a name that is not gets the escaped form
// the table shows (which inspect accepts) and, beside it, NAME_base64 with the exact bytes.
void append_name(std::string& out, std::string_view field, const std::string& bytes) {
  out += '"';
  out += field;
  out += "\":";
  if (is_utf8(bytes)) {
    append_json_string(out, bytes);
    return;
  }
  append_json_string(out, printable(bytes));
  out += ",\"";
  out += field;
  out += "_base64\":";
  append_json_string(out, base64_encode(bytes));
}

void set_name(json& obj, const std::string& field, const std::string& bytes) {
  if (is_utf8(bytes)) {
    obj[field] = bytes;
    return;
  }
  obj[field] = printable(bytes);
  obj[field + "_base64"] = base64_encode(bytes);
}

}  // namespace

SessionRow::SessionRow(const Session& s, bool w, double now, bool reveal)
    : id(s.id),
      profile(s.profile_name()),
      layout(s.profile ? "" : s.layout),
      keys(s.key_count()),
      ttl_ms(s.ttl_ms()),
      size_bytes(s.size()),
      problems(s.problems),
      wide(w) {
  if (!reveal) {
    std::string shown = mask::mask_shown(id);
    id_masked = shown != id;
    id = std::move(shown);
  }
  if (!wide) return;
  state = s.state;
  if (state && !reveal) state = mask::mask_shown(*state);
  last_activity = s.last_activity;
  // analyse_session bounds last_activity (no future beyond clock skew), so idle is never negative.
  if (s.last_activity) idle_ms = static_cast<long long>(std::max(0.0, now - *s.last_activity) * 1000);
}

void SessionRow::append_json(std::string& out) const {
  out += '{';
  append_name(out, "id", id);
  if (id_masked) out += ",\"id_masked\":true";
  out += ",\"profile\":";
  append_json_string(out, profile);
  if (!layout.empty()) {
    out += ",\"layout\":";
    append_json_string(out, layout);
  }
  out += fmt::format(",\"keys\":{},\"ttl_ms\":{},\"size_bytes\":{},\"problems\":[", keys, ttl_ms, size_bytes);
  for (std::size_t i = 0; i < problems.size(); ++i) {
    if (i) out += ',';
    append_json_string(out, problems[i]);
  }
  out += ']';
  if (wide) {
    out += ",\"state\":";
    if (state) {
      append_json_string(out, *state);
    } else {
      out += "null";
    }
    out += ",\"last_activity\":";
    if (auto text = last_activity ? rfc3339(*last_activity) : std::nullopt) {
      append_json_string(out, *text);
    } else {
      out += "null";
    }
    out += idle_ms ? fmt::format(",\"idle_ms\":{}", *idle_ms) : std::string(",\"idle_ms\":null");
  }
  out += '}';
}

json SessionRow::to_json() const {
  std::string text;
  append_json(text);
  return json::parse(text);
}

std::vector<Cell> SessionRow::cells() const {
  std::vector<Cell> row;
  row.push_back({profile, profile == "unknown" ? Style::yellow : Style::plain});
  row.push_back({std::to_string(keys)});
  row.push_back({ttl_text(ttl_ms), ttl_ms == -1 ? Style::red : Style::plain});
  row.push_back({human_bytes(size_bytes)});
  if (wide) {
    row.push_back({state ? printable(*state) : "-"});
    row.push_back({idle_ms ? format_duration(std::chrono::milliseconds(*idle_ms)) : "-"});
  }
  std::string p;
  for (const auto& x : problems) p += (p.empty() ? "" : ",") + x;
  row.push_back({p, p.empty() ? Style::plain : Style::red});
  // Id last: it is the widest and most variable column, truncated on narrow terminals.
  row.push_back({printable(id)});
  return row;
}

std::vector<Table::Column> session_list_columns(bool wide) {
  std::vector<Table::Column> cols = {
      {"PROFILE"}, {"KEYS", Align::right}, {"TTL", Align::right}, {"SIZE", Align::right}};
  if (wide) {
    cols.push_back({"STATE"});
    cols.push_back({"IDLE", Align::right});
  }
  cols.push_back({"PROBLEMS"});
  cols.push_back({"ID"});
  return cols;
}

json present_key_value(const Session& s, std::size_t i, const StoredValue& value, bool reveal) {
  std::optional<Encoding> expected;
  if (const KeyRole* role = s.role_of(i)) {
    if (!role->format.empty() && (value.type == ValueType::string || value.type == ValueType::hash))
      return present_serialized(value, role->format, s.profile, reveal);
    expected = role->encoding;
  } else if (!s.profile && i == 0 && !s.layout.empty()) {
    expected = Encoding::json;  // unknown under a shared layout: every profile there stores JSON
  }
  return present_value(value, s.profile, reveal, expected);
}

json session_detail_json(const Session& s, bool reveal) {
  json j = SessionRow(s, true, unix_now(), reveal).to_json();
  j["masked"] = !reveal;
  if (!s.note.empty()) j["note"] = s.note;
  // Keys and index entries carry the id: they are shown masked like it.
  const auto shown = [reveal](const std::string& name) { return reveal ? name : mask::mask_shown(name); };
  json keys = json::array();
  for (std::size_t i = 0; i < s.keys.size(); ++i) {
    const KeyInfo& k = s.keys[i];
    json kj = json::object();
    set_name(kj, "key", shown(k.key));
    kj.update({{"role", k.role}, {"type", k.type_name()}, {"ttl_ms", k.ttl_ms}, {"size_bytes", k.size}});
    if (k.exists() && k.value) {
      json v = present_key_value(s, i, *k.value, reveal);
      kj["encoding"] = v["encoding"];
      if (v.contains("reason")) kj["reason"] = v["reason"];
      kj["value"] = v["value"];
      if (k.value->total && *k.value->total > k.value->read_count()) {
        // Only a window of a big aggregate was read: how many items it holds and how many are not shown.
        kj["items_total"] = *k.value->total;
        kj["items_omitted"] = *k.value->total - k.value->read_count();
      }
    }
    if (!k.note.empty()) kj["note"] = k.note;
    keys.push_back(kj);
  }
  j["key_details"] = keys;
  json indexes = json::array();
  if (s.profile) {
    for (const auto& ix : s.profile->indexes) {
      if (ix.kind == IndexSpec::Kind::zset_of_ids) {
        json e = {{"key", ix.pattern.text()},
                  {"present", s.index_score.has_value()},
                  {"score", s.index_score ? json(*s.index_score) : json(nullptr)}};
        set_name(e, "member", shown(s.id));
        indexes.push_back(std::move(e));
      }
    }
    for (const auto& e : s.pointers) {
      json ij = {{"role", e.role}, {"present", e.target == s.id && s.primary().exists()}, {"ttl_ms", e.ttl_ms}};
      set_name(ij, "key", shown(e.key));
      if (e.target) {
        set_name(ij, "points_to", shown(*e.target));
      } else {
        ij["points_to"] = nullptr;
      }
      indexes.push_back(std::move(ij));
    }
  }
  j["indexes"] = indexes;
  return j;
}

namespace {

std::string indent_lines(const std::string& text, const std::string& pad) {
  std::string out;
  std::size_t start = 0;
  while (start < text.size()) {
    auto end = text.find('\n', start);
    out += pad + text.substr(start, end == std::string::npos ? std::string::npos : end - start) + "\n";
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return out;
}

// A name written by set_name(): already escaped when it came with its base64 form.
std::string shown_name(const json& obj, const std::string& field) {
  const std::string& text = obj[field].get_ref<const std::string&>();
  return obj.contains(field + "_base64") ? text : printable(text);
}

std::string scalar_text(const json& v) { return v.is_string() ? printable(v.get<std::string>()) : dump_json(v, false); }

}  // namespace

std::string render_session_head(const json& d, const Terminal& term) {
  std::string out;
  out += term.paint(Style::bold, fmt::format("{} {}", d["profile"].get<std::string>(), shown_name(d, "id")));
  const auto nkeys = d["keys"].get<std::size_t>();
  out += fmt::format("  ({} {}, TTL {}, {})", nkeys, nkeys == 1 ? "key" : "keys",
                     ttl_text(d["ttl_ms"].get<long long>()), human_bytes(d["size_bytes"].get<long long>()));
  if (d["state"].is_string()) out += fmt::format(", state {}", printable(d["state"].get<std::string>()));
  if (d["last_activity"].is_string()) out += fmt::format(", last activity {}", d["last_activity"].get<std::string>());
  out += "\n";
  if (!d["problems"].empty()) {
    std::string p;
    for (const auto& x : d["problems"]) p += (p.empty() ? "" : ", ") + x.get<std::string>();
    out += term.paint(Style::red, "  problems: " + p) + "\n";
  }
  if (d.contains("note")) out += term.paint(Style::yellow, "  note: " + printable(d["note"].get<std::string>())) + "\n";
  return out;
}

std::string render_key_head(const json& k, const Terminal& term) {
  std::string out =
      fmt::format("\n  {} {}  {}  TTL {}  {}\n", term.paint(Style::cyan, shown_name(k, "key")),
                  term.paint(Style::dim, "(" + k["role"].get<std::string>() + ")"), k["type"].get<std::string>(),
                  ttl_text(k["ttl_ms"].get<long long>()), human_bytes(k["size_bytes"].get<long long>()));
  if (k.contains("note"))
    out += term.paint(Style::yellow, "    note: " + printable(k["note"].get<std::string>())) + "\n";
  return out;
}

std::string render_value(const json& presented, const Terminal& term, std::size_t first_number) {
  std::string out;
  const json& v = presented["value"];
  std::string enc = presented["encoding"].get<std::string>();
  if (enc.rfind("fields", 0) == 0) {
    Table t({{"FIELD"}, {"VALUE"}});
    for (const auto& [f, fv] : v.items()) t.add({{printable(f)}, {scalar_text(fv)}});
    out += indent_lines(t.render(term), "    ");
  } else if (enc.rfind("items", 0) == 0) {
    std::size_t n = first_number;
    for (const auto& item : v) out += fmt::format("    {:>3}. {}\n", n++, scalar_text(item));
  } else if (enc == "members") {
    Table t({{"MEMBER"}, {"SCORE", Align::right}});
    for (const auto& m : v) t.add({{scalar_text(m["member"])}, {dump_json(m["score"], false)}});
    out += indent_lines(t.render(term), "    ");
  } else if (enc == "json") {
    out += indent_lines(dump_json(v, true), "    ");
  } else {
    std::string label;
    if (enc == "base64") {
      label = "(binary, base64) ";
    } else if (enc == "corrupt") {
      const std::string reason = presented.contains("reason") ? presented["reason"].get<std::string>() : "";
      label = reason.rfind("nested deeper", 0) == 0
                  ? fmt::format("(not valid JSON: {}; shown by length) ", reason)
                  : fmt::format("(not valid JSON{}{}; shown by length, --reveal shows it) ", reason.empty() ? "" : ": ",
                                reason);
    }
    out += indent_lines(label + scalar_text(v), "    ");
  }
  return out;
}

std::string render_key_detail(const json& k, const Terminal& term) {
  std::string out = render_key_head(k, term);
  if (!k.contains("value")) return out;
  out += render_value(k, term, 1);
  if (k.contains("items_omitted")) {
    out += term.paint(Style::dim, fmt::format("    … and {} more (--all-items shows them)",
                                              k["items_omitted"].get<std::size_t>())) +
           "\n";
  }
  return out;
}

std::string render_session_indexes(const json& d, const Terminal&) {
  std::string out;
  for (const auto& ix : d["indexes"]) {
    std::string what;
    if (ix.contains("points_to")) {  // a pointer key such as session:chat:{chat_id}
      const bool to_here = ix["points_to"] == d["id"];
      what = !ix["points_to"].is_string() ? std::string("missing")
             : !to_here                   ? "points to another session: " + shown_name(ix, "points_to")
             : ix["present"].get<bool>()  ? fmt::format("points here, TTL {}", ttl_text(ix["ttl_ms"].get<long long>()))
                                          : fmt::format("points to this session, which is gone; TTL {}",
                                                        ttl_text(ix["ttl_ms"].get<long long>()));
    } else {
      what = ix["present"].get<bool>() ? fmt::format("member, score {}", dump_json(ix["score"], false))
                                       : std::string("not a member");
    }
    out += fmt::format("\n  index {}: {}\n", shown_name(ix, "key"), what);
  }
  return out;
}

std::string render_session_detail(const json& d, const Terminal& term) {
  std::string out = render_session_head(d, term);
  for (const auto& k : d["key_details"]) out += render_key_detail(k, term);
  return out + render_session_indexes(d, term);
}

}  // namespace sessionctl
