#include "report/profiles.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <set>
#include <unordered_set>

#include "mask/mask.h"
#include "render/format.h"
#include "render/table.h"
#include "session/detection.h"
#include "util/duration.h"

namespace sessionctl {
namespace {

constexpr std::size_t kBatch = 1000;          // keys per pipelined round of TYPE and PTTL
constexpr long long kValueBytes = 64 * 1024;  // read of a value to guess its encoding
constexpr long long kSharedBytes = 1 << 20;   // read of a value under a shared layout, to tell its profile
constexpr std::size_t kValuesPerPrefix = 5;
constexpr std::size_t kExamples = 3;

std::string encoding_name(Encoding e) {
  switch (e) {
    case Encoding::json:
      return "json";
    case Encoding::json_or_opaque:
      return "json-or-opaque";
    case Encoding::opaque:
      return "opaque";
    case Encoding::fields:
      return "fields";
    case Encoding::json_items:
      return "json-items";
  }
  return "json";
}

std::optional<ValueType> value_type_of(const std::string& type) {
  if (type == "string") return ValueType::string;
  if (type == "hash") return ValueType::hash;
  if (type == "list") return ValueType::list;
  if (type == "set") return ValueType::set;
  if (type == "zset") return ValueType::zset;
  return std::nullopt;
}

nlohmann::json role_json(const KeyRole& r) {
  nlohmann::json j = {{"role", r.role},
                      {"key", r.pattern.text()},
                      {"type", value_type_name(r.type)},
                      {"encoding", encoding_name(r.encoding)},
                      {"expects_ttl", r.expects_ttl}};
  if (!r.format.empty()) j["format"] = r.format;
  if (r.max_items) j["max_items"] = *r.max_items;
  return j;
}

nlohmann::json seconds_or_null(const std::optional<std::chrono::milliseconds>& d) {
  return d ? nlohmann::json(d->count() / 1000) : nlohmann::json(nullptr);
}

std::string ttl_text(const Profile& p) {
  if (!p.default_ttl) return "none";
  std::string out = format_duration(*p.default_ttl);
  if (p.sliding_ttl) out += " sliding";
  if (p.max_ttl && *p.max_ttl != *p.default_ttl) out += ", max " + format_duration(*p.max_ttl);
  return out;
}

bool looks_like_id(const std::string& segment) {
  if (segment.empty()) return false;
  const bool digits = std::all_of(segment.begin(), segment.end(), [](unsigned char c) { return std::isdigit(c); });
  const bool any_digit = std::any_of(segment.begin(), segment.end(), [](unsigned char c) { return std::isdigit(c); });
  return digits || (segment.size() >= 8 && any_digit) || segment.size() >= 16;
}

// A profile name from a prefix: "PHPREDIS_SESSION:" → "phpredis-session", unique among `taken`.
std::string name_for(const std::string& prefix, std::set<std::string>& taken) {
  std::string base;
  for (const unsigned char c : prefix) {
    if (std::isalnum(c)) {
      base += static_cast<char>(std::tolower(c));
    } else if (!base.empty() && base.back() != '-') {
      base += '-';
    }
  }
  while (!base.empty() && base.back() == '-') base.pop_back();
  if (base.empty()) base = "store";
  std::string name = base;
  for (int n = 2; taken.count(name); ++n) name = fmt::format("{}-{}", base, n);
  taken.insert(name);
  return name;
}

// Rounded up to whole minutes, as an operator would write the TTL.
std::string ttl_setting(long long max_ttl_ms) {
  const long long minutes = std::max<long long>(1, (max_ttl_ms + 59999) / 60000);
  if (minutes % (24 * 60) == 0) return fmt::format("{}d", minutes / (24 * 60));
  if (minutes % 60 == 0) return fmt::format("{}h", minutes / 60);
  return fmt::format("{}m", minutes);
}

nlohmann::json starter_for(const std::vector<UnexplainedPrefix>& unexplained, const ProfileSet& profiles) {
  std::set<std::string> taken;
  for (const auto& p : profiles.known()) taken.insert(p.name);
  nlohmann::json list = nlohmann::json::array();
  for (const auto& u : unexplained) {
    if (u.prefix.empty()) continue;  // no prefix to build a layout on
    std::string type = "string";
    long long most = -1;
    for (const auto& [t, n] : u.types) {
      if (n > most && value_type_of(t)) {
        type = t;
        most = n;
      }
    }
    std::string encoding = "opaque";
    if (type == "hash") {
      encoding = "fields";
    } else if (type == "string" || type == "list") {
      if (u.values_sampled > 0 && u.values_json == u.values_sampled) {
        encoding = type == "string" ? "json" : "json-items";
      } else if (type == "string" && u.values_json > 0) {
        encoding = "json-or-opaque";
      }
    }
    nlohmann::json p = {
        {"name", name_for(u.prefix, taken)},
        {"description", fmt::format("found by sessionctl profiles --detect: {} under {}; check the layout, type, "
                                    "encoding and TTL against the app",
                                    count_of(u.keys, "key"), u.prefix)},
        {"key", u.prefix + "{id}"},
        {"type", type},
        {"encoding", encoding}};
    if (u.with_ttl > 0) p["ttl"] = {{"default", ttl_setting(u.max_ttl_ms)}};
    list.push_back(std::move(p));
  }
  return {{"profiles", list}};
}

struct Claim {
  const Profile* profile = nullptr;
  bool primary = false;
  bool bookkeeping = false;
  bool index = false;
  std::string id;
};

}  // namespace

std::string key_prefix(const std::string& key) {
  std::vector<std::string> segments;
  std::size_t start = 0;
  for (std::size_t colon = key.find(':'); colon != std::string::npos; colon = key.find(':', start)) {
    segments.push_back(key.substr(start, colon - start));
    start = colon + 1;
  }
  segments.push_back(key.substr(start));
  if (segments.size() < 2) return "";
  std::string prefix;
  for (std::size_t i = 0; i + 1 < segments.size(); ++i) {
    if (looks_like_id(segments[i])) break;
    prefix += segments[i] + ":";
  }
  return prefix;
}

ProfilesReport describe_profiles(const ProfileSet& profiles) {
  ProfilesReport r;
  r.profiles = profiles.known();
  return r;
}

nlohmann::json ProfilesReport::to_json() const {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& p : profiles) {
    nlohmann::json related = nlohmann::json::array();
    for (const auto& k : p.related) related.push_back(role_json(k));
    nlohmann::json indexes = nlohmann::json::array();
    for (const auto& ix : p.indexes) {
      indexes.push_back({{"role", ix.role},
                         {"key", ix.pattern.text()},
                         {"type", ix.kind == IndexSpec::Kind::zset_of_ids ? "zset" : "string"},
                         {"link", ix.link_field.empty() ? nlohmann::json(nullptr) : nlohmann::json(ix.link_field)}});
    }
    nlohmann::json excluded = nlohmann::json::array();
    for (const auto& ex : p.exclude) excluded.push_back(ex.text());
    list.push_back({{"name", p.name},
                    {"description", p.description},
                    {"origin", p.origin},
                    {"primary", role_json(p.primary)},
                    {"related", related},
                    {"indexes", indexes},
                    {"excluded", excluded},
                    {"ttl",
                     {{"default_seconds", seconds_or_null(p.default_ttl)},
                      {"max_seconds", seconds_or_null(p.max_ttl)},
                      {"sliding", p.sliding_ttl}}},
                    {"shared_layout_told_by_shape", p.needs_shape()}});
  }
  return {{"schema", "sessionctl.profiles"}, {"version", 1}, {"profiles", list}};
}

std::string ProfilesReport::to_table(const Terminal& term) const {
  Table t({{"PROFILE"}, {"FROM"}, {"KEYS"}, {"VALUE"}, {"TTL"}, {"DESCRIPTION"}});
  for (const auto& p : profiles) {
    std::string keys = p.primary.pattern.text();
    for (const auto& k : p.related) keys += ", " + k.pattern.text();
    for (const auto& ix : p.indexes) keys += ", " + ix.pattern.text() + " (index)";
    std::string value = value_type_name(p.primary.type) + " " +
                        (p.primary.format.empty() ? encoding_name(p.primary.encoding) : p.primary.format);
    t.add({{p.name, Style::bold}, {p.origin}, {keys}, {value}, {ttl_text(p)}, {p.description, Style::dim}});
  }
  return t.render(term);
}

DetectReport detect_profiles(redis::Client& client, const ProfileSet& profiles, std::size_t sample) {
  DetectReport report;
  report.sample_limit = sample;
  const std::vector<Profile>& known = profiles.known();
  std::vector<DetectedProfile> found(known.size());
  for (std::size_t i = 0; i < known.size(); ++i) found[i].name = known[i].name;
  std::map<std::string, UnexplainedPrefix> unexplained;
  std::unordered_set<std::string> seen;

  const auto index_of = [&](const Profile* p) { return static_cast<std::size_t>(p - known.data()); };
  const auto classify = [&](std::vector<std::string>& keys) {
    std::vector<redis::Command> cmds;
    cmds.reserve(keys.size() * 2);
    for (const auto& k : keys) {
      cmds.push_back({"TYPE", k});
      cmds.push_back({"PTTL", k});
    }
    const std::vector<redis::Reply> meta = client.run(cmds);
    // Keys under a layout several profiles share are told apart by their value, read in a second round.
    std::vector<std::pair<std::size_t, std::vector<const Profile*>>> shared;
    std::vector<std::size_t> orphan_keys;  // no profile claims them
    for (std::size_t i = 0; i < keys.size(); ++i) {
      const std::string& key = keys[i];
      const std::string type = meta[2 * i].is_error() ? "" : meta[2 * i].str;
      if (type == "none") continue;  // gone since the scan saw it
      const auto vt = value_type_of(type);
      std::vector<Claim> claims;
      for (const auto& p : known) {
        if (p.match_index(key)) {
          claims.push_back({&p, false, true, true, ""});
          continue;
        }
        bool excluded = false;
        for (const auto& ex : p.exclude) excluded = excluded || ex.match(key).has_value();
        if (excluded) {
          claims.push_back({&p, false, true, false, ""});
          continue;
        }
        if (auto m = p.match_key(key); m && vt && m->first->type == *vt)
          claims.push_back({&p, m->first == &p.primary, false, false, m->second});
      }
      // An index or bookkeeping key of one profile is that profile's, whatever layouts it also matches; an
      // index (telegram's session:chat:{chat_id}) before a layout's exclusion of it (channels').
      auto book = std::find_if(claims.begin(), claims.end(), [](const Claim& c) { return c.index; });
      if (book == claims.end())
        book = std::find_if(claims.begin(), claims.end(), [](const Claim& c) { return c.bookkeeping; });
      if (book != claims.end()) {
        ++found[index_of(book->profile)].bookkeeping;
        continue;
      }
      if (claims.empty()) {
        orphan_keys.push_back(i);
        continue;
      }
      std::vector<const Profile*> shaped;
      for (const auto& c : claims)
        if (c.primary && c.profile->needs_shape()) shaped.push_back(c.profile);
      if (claims.size() > 1 && shaped.size() == claims.size() && *vt == ValueType::string) {
        shared.emplace_back(i, shaped);
        continue;
      }
      const Claim& c = claims.front();
      DetectedProfile& d = found[index_of(c.profile)];
      ++d.keys;
      if (c.primary) {
        ++d.sessions;
        if (d.examples.size() < kExamples) d.examples.push_back(c.id);
      }
    }
    if (!shared.empty()) {
      std::vector<redis::Command> gets;
      gets.reserve(shared.size());
      for (const auto& [i, candidates] : shared)
        gets.push_back({"GETRANGE", keys[i], "0", std::to_string(kSharedBytes - 1)});
      const std::vector<redis::Reply> values = client.run(gets);
      for (std::size_t n = 0; n < shared.size(); ++n) {
        const auto& [i, candidates] = shared[n];
        const std::string* value = values[n].is_string() ? &values[n].str : nullptr;
        const Detection d = detect_profile(value, candidates, known);
        if (d.profile == nullptr) {
          orphan_keys.push_back(i);
          continue;
        }
        DetectedProfile& f = found[index_of(d.profile)];
        ++f.keys;
        ++f.sessions;
        if (f.examples.size() < kExamples) {
          if (auto m = d.profile->match_key(keys[i])) f.examples.push_back(m->second);
        }
      }
    }
    // Unexplained keys by prefix, with a few values read to guess their encoding.
    std::vector<redis::Command> reads;
    std::vector<UnexplainedPrefix*> read_for;
    for (const std::size_t i : orphan_keys) {
      const std::string& key = keys[i];
      UnexplainedPrefix& u = unexplained[key_prefix(key)];
      u.prefix = key_prefix(key);
      ++u.keys;
      const std::string type = meta[2 * i].is_error() ? "unknown" : meta[2 * i].str;
      ++u.types[type];
      if (meta[2 * i + 1].integer >= 0) {
        ++u.with_ttl;
        u.max_ttl_ms = std::max(u.max_ttl_ms, meta[2 * i + 1].integer);
      }
      if (u.examples.size() < kExamples) u.examples.push_back(key);
      const auto pending = static_cast<long long>(std::count(read_for.begin(), read_for.end(), &u));
      if (u.values_sampled + pending < static_cast<long long>(kValuesPerPrefix) &&
          (type == "string" || type == "list")) {
        reads.push_back(type == "string" ? redis::Command{"GETRANGE", key, "0", std::to_string(kValueBytes - 1)}
                                         : redis::Command{"LINDEX", key, "0"});
        read_for.push_back(&u);
      }
    }
    if (!reads.empty()) {
      const std::vector<redis::Reply> values = client.run(reads);
      for (std::size_t n = 0; n < values.size(); ++n) {
        if (!values[n].is_string()) continue;
        ++read_for[n]->values_sampled;
        const auto doc = nlohmann::json::parse(values[n].str, nullptr, false);
        if (!doc.is_discarded() && (doc.is_object() || doc.is_array())) ++read_for[n]->values_json;
      }
    }
  };

  redis::ScanRequest request;
  request.count = std::min<std::size_t>(request.count, std::max<std::size_t>(sample, 10));
  std::vector<std::string> pending;
  report.complete = true;
  client.scan(request, [&](std::vector<std::string>& batch) {
    for (auto& k : batch) {
      if (static_cast<std::size_t>(report.sampled) >= sample) break;
      if (!seen.insert(k).second) continue;  // SCAN may return a key twice
      ++report.sampled;
      pending.push_back(std::move(k));
      if (pending.size() >= kBatch) {
        classify(pending);
        pending.clear();
      }
    }
    if (static_cast<std::size_t>(report.sampled) >= sample) {
      report.complete = false;
      return false;
    }
    return true;
  });
  if (!pending.empty()) classify(pending);

  for (auto& f : found)
    if (f.keys > 0 || f.bookkeeping > 0) report.present.push_back(std::move(f));
  for (auto& [prefix, u] : unexplained) report.unexplained.push_back(std::move(u));
  std::stable_sort(report.unexplained.begin(), report.unexplained.end(),
                   [](const UnexplainedPrefix& a, const UnexplainedPrefix& b) { return a.keys > b.keys; });
  report.starter = starter_for(report.unexplained, profiles);
  return report;
}

nlohmann::json DetectReport::to_json() const {
  const auto shown = [this](const std::string& s) { return reveal ? s : mask::mask_shown(s); };
  nlohmann::json present_json = nlohmann::json::array();
  for (const auto& p : present) {
    nlohmann::json examples = nlohmann::json::array();
    for (const auto& e : p.examples) examples.push_back(shown(e));
    present_json.push_back({{"profile", p.name},
                            {"sessions", p.sessions},
                            {"keys", p.keys},
                            {"bookkeeping_keys", p.bookkeeping},
                            {"example_ids", examples}});
  }
  nlohmann::json unexplained_json = nlohmann::json::array();
  for (const auto& u : unexplained) {
    nlohmann::json examples = nlohmann::json::array();
    for (const auto& e : u.examples) examples.push_back(shown(e));
    unexplained_json.push_back({{"prefix", u.prefix},
                                {"keys", u.keys},
                                {"types", u.types},
                                {"with_ttl", u.with_ttl},
                                {"max_ttl_seconds", u.max_ttl_ms / 1000},
                                {"values_sampled", u.values_sampled},
                                {"values_json", u.values_json},
                                {"example_keys", examples}});
  }
  return {{"schema", "sessionctl.profiles-detect"},
          {"version", 1},
          {"sample_limit", sample_limit},
          {"sampled_keys", sampled},
          {"complete", complete},
          {"present", present_json},
          {"unexplained", unexplained_json},
          {"starter", starter}};
}

std::string DetectReport::to_table(const Terminal& term) const {
  const auto shown = [this](const std::string& s) { return printable(reveal ? s : mask::mask_shown(s)); };
  std::string out =
      fmt::format("{} {}\n\n", count_of(sampled, "key"),
                  complete ? "looked at: the whole keyspace" : "sampled (the --sample limit); more keys exist");
  if (present.empty()) {
    out += "No known profile's sessions found.\n";
  } else {
    Table t(
        {{"PROFILE"}, {"SESSIONS", Align::right}, {"KEYS", Align::right}, {"BOOKKEEPING", Align::right}, {"EXAMPLES"}});
    for (const auto& p : present) {
      std::string examples;
      for (const auto& e : p.examples) examples += (examples.empty() ? "" : ", ") + shown(e);
      t.add({{p.name, Style::bold},
             {std::to_string(p.sessions)},
             {std::to_string(p.keys)},
             {std::to_string(p.bookkeeping)},
             {examples}});
    }
    out += t.render(term);
  }
  if (unexplained.empty()) {
    out += "\nEvery key sampled belongs to a known profile.\n";
    return out;
  }
  out += "\nKeys no profile explains:\n";
  Table t({{"PREFIX"}, {"KEYS", Align::right}, {"TYPES"}, {"WITH TTL", Align::right}, {"EXAMPLES"}});
  for (const auto& u : unexplained) {
    std::string types;
    for (const auto& [type, n] : u.types) types += fmt::format("{}{} {}", types.empty() ? "" : ", ", type, n);
    std::string examples;
    for (const auto& e : u.examples) examples += (examples.empty() ? "" : ", ") + shown(e);
    t.add({{u.prefix.empty() ? "(no prefix)" : printable(u.prefix)},
           {std::to_string(u.keys)},
           {types},
           {std::to_string(u.with_ttl)},
           {examples}});
  }
  out += t.render(term);
  if (!starter.at("profiles").empty()) {
    out += "\nA starter profiles file for them (check each field, then pass it with --profiles-file):\n";
    out += terminal_safe(starter.dump(2, ' ', false, nlohmann::json::error_handler_t::replace)) + "\n";
  }
  return out;
}

}  // namespace sessionctl
