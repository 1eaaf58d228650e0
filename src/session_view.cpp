#include "session_view.h"

#include <fmt/format.h>

#include "status.h"
#include "util/duration.h"
#include "value_view.h"

namespace sessionctl {

using nlohmann::json;

std::string ttl_text(long long ttl_ms) {
  if (ttl_ms == -1) return "no TTL";
  if (ttl_ms < 0) return "gone";
  return format_duration(std::chrono::milliseconds(ttl_ms));
}

json session_summary_json(const Session& s, bool wide, double now) {
  json j = {{"id", s.id},
            {"profile", s.profile_name()},
            {"keys", s.key_count()},
            {"ttl_ms", s.ttl_ms()},
            {"size_bytes", s.size()},
            {"problems", s.problems}};
  if (!s.profile) j["layout"] = s.layout;
  if (wide) {
    j["state"] = s.state ? json(*s.state) : json(nullptr);
    j["last_activity"] = s.last_activity ? json(rfc3339(*s.last_activity)) : json(nullptr);
    j["idle_ms"] = s.last_activity ? json(static_cast<long long>((now - *s.last_activity) * 1000)) : json(nullptr);
  }
  return j;
}

std::vector<RecordColumn> session_list_columns(bool wide) {
  std::vector<RecordColumn> cols = {
      {"PROFILE", Align::left,
       [](const json& r) {
         return Cell{r["profile"].get<std::string>(), r["profile"] == "unknown" ? Style::yellow : Style::plain};
       }},
      {"KEYS", Align::right, [](const json& r) { return Cell{std::to_string(r["keys"].get<std::size_t>())}; }},
      {"TTL", Align::right,
       [](const json& r) {
         long long t = r["ttl_ms"].get<long long>();
         return Cell{ttl_text(t), t == -1 ? Style::red : Style::plain};
       }},
      {"SIZE", Align::right, [](const json& r) { return Cell{human_bytes(r["size_bytes"].get<long long>())}; }},
  };
  if (wide) {
    cols.push_back({"STATE", Align::left,
                    [](const json& r) { return Cell{r["state"].is_string() ? printable(r["state"].get<std::string>()) : "-"}; }});
    cols.push_back({"IDLE", Align::right, [](const json& r) {
                      return Cell{r["idle_ms"].is_number() ? format_duration(std::chrono::milliseconds(r["idle_ms"].get<long long>())) : "-"};
                    }});
  }
  cols.push_back({"PROBLEMS", Align::left, [](const json& r) {
                    std::string p;
                    for (const auto& x : r["problems"]) p += (p.empty() ? "" : ",") + x.get<std::string>();
                    return Cell{p, p.empty() ? Style::plain : Style::red};
                  }});
  // Id last: it is the widest and most variable column, truncated on narrow terminals.
  cols.push_back({"ID", Align::left, [](const json& r) { return Cell{printable(r["id"].get<std::string>())}; }});
  return cols;
}

json session_detail_json(const Session& s, bool reveal) {
  json j = session_summary_json(s, true, unix_now());
  j["masked"] = !reveal;
  json keys = json::array();
  for (const auto& k : s.keys) {
    json kj = {{"key", k.key}, {"role", k.role}, {"type", k.type}, {"ttl_ms", k.ttl_ms}, {"size_bytes", k.size}};
    if (k.exists() && k.value) {
      json v = present_value(*k.value, s.profile, reveal);
      kj["encoding"] = v["encoding"];
      kj["value"] = v["value"];
    }
    keys.push_back(kj);
  }
  j["key_details"] = keys;
  json indexes = json::array();
  if (s.profile) {
    for (const auto& ix : s.profile->indexes) {
      if (ix.kind == IndexSpec::Kind::zset_of_ids) {
        indexes.push_back({{"key", ix.pattern.text()},
                           {"member", s.id},
                           {"present", s.index_score.has_value()},
                           {"score", s.index_score ? json(*s.index_score) : json(nullptr)}});
      }
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

std::string scalar_text(const json& v) { return v.is_string() ? printable(v.get<std::string>()) : dump_json(v, false); }

}  // namespace

std::string render_session_detail(const json& d, const Terminal& term) {
  std::string out;
  out += term.paint(Style::bold, fmt::format("{} {}", d["profile"].get<std::string>(), printable(d["id"].get<std::string>())));
  out += fmt::format("  ({} keys, TTL {}, {})", d["keys"].get<std::size_t>(), ttl_text(d["ttl_ms"].get<long long>()),
                     human_bytes(d["size_bytes"].get<long long>()));
  if (d["state"].is_string()) out += fmt::format(", state {}", printable(d["state"].get<std::string>()));
  if (d["last_activity"].is_string()) out += fmt::format(", last activity {}", d["last_activity"].get<std::string>());
  out += "\n";
  if (!d["problems"].empty()) {
    std::string p;
    for (const auto& x : d["problems"]) p += (p.empty() ? "" : ", ") + x.get<std::string>();
    out += term.paint(Style::red, "  problems: " + p) + "\n";
  }
  for (const auto& k : d["key_details"]) {
    out += fmt::format("\n  {} {}  {}  TTL {}  {}\n", term.paint(Style::cyan, printable(k["key"].get<std::string>())),
                       term.paint(Style::dim, "(" + k["role"].get<std::string>() + ")"), k["type"].get<std::string>(),
                       ttl_text(k["ttl_ms"].get<long long>()), human_bytes(k["size_bytes"].get<long long>()));
    if (!k.contains("value")) continue;
    const json& v = k["value"];
    std::string enc = k["encoding"].get<std::string>();
    if (enc.rfind("fields", 0) == 0) {
      Table t({{"FIELD"}, {"VALUE"}});
      for (const auto& [f, fv] : v.items()) t.add({{printable(f)}, {scalar_text(fv)}});
      out += indent_lines(t.render(term), "    ");
    } else if (enc.rfind("items", 0) == 0) {
      std::size_t n = 0;
      for (const auto& item : v) out += fmt::format("    {:>3}. {}\n", ++n, scalar_text(item));
    } else if (enc == "members") {
      Table t({{"MEMBER"}, {"SCORE", Align::right}});
      for (const auto& m : v) t.add({{scalar_text(m["member"])}, {dump_json(m["score"], false)}});
      out += indent_lines(t.render(term), "    ");
    } else if (enc == "json") {
      out += indent_lines(dump_json(v, true), "    ");
    } else {
      out += indent_lines(enc == "base64" ? "(binary, base64) " + v.get<std::string>() : scalar_text(v), "    ");
    }
  }
  for (const auto& ix : d["indexes"]) {
    out += fmt::format("\n  index {}: {}\n", printable(ix["key"].get<std::string>()),
                       ix["present"].get<bool>() ? fmt::format("member, score {}", dump_json(ix["score"], false))
                                                 : std::string("not a member"));
  }
  return out;
}

}  // namespace sessionctl
