#include "scenario/canary.h"

#include <fmt/format.h>

#include <algorithm>
#include <random>

#include "codec/jdk.h"
#include "redis/cluster/slot.h"
#include "util/clock.h"

namespace sessionctl::scenario {
namespace {

constexpr std::chrono::milliseconds kFallbackTtl = std::chrono::hours(1);
constexpr const char* kMarkField = "sessionctl_canary";

std::mt19937_64& rng() {
  thread_local std::mt19937_64 gen{std::random_device{}()};
  return gen;
}

std::string random_hex(int digits) {
  std::string out;
  std::uniform_int_distribution<int> d(0, 15);
  for (int i = 0; i < digits; ++i) out += "0123456789abcdef"[d(rng())];
  return out;
}

// A version 4 UUID, as the apps that make UUIDs make them.
std::string random_uuid() {
  std::string h = random_hex(32);
  h[12] = '4';
  h[16] = "89ab"[std::uniform_int_distribution<int>(0, 3)(rng())];
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) + "-" + h.substr(20);
}

// Sets a dotted path ("data.last_activity") in an object, making the objects on the way.
void set_path(nlohmann::json& doc, const std::string& path, nlohmann::json value) {
  nlohmann::json* at = &doc;
  std::size_t start = 0;
  for (std::size_t dot = path.find('.'); dot != std::string::npos; dot = path.find('.', start)) {
    nlohmann::json& next = (*at)[path.substr(start, dot - start)];
    if (!next.is_object()) next = nlohmann::json::object();
    at = &next;
    start = dot + 1;
  }
  (*at)[path.substr(start)] = std::move(value);
}

std::string now_text() { return rfc3339(unix_now()).value_or("1970-01-01T00:00:00Z"); }

// A JSON session value with the fields the profile reads: its shape, state and activity, the link to its
// pointer index, and the canary mark.
std::string json_value(const Profile& p, const std::string& tag, const std::string& link_value) {
  nlohmann::json v = nlohmann::json::object();
  for (const auto& f : p.shape_all) set_path(v, f, nlohmann::json::object());
  const bool voting = std::find(p.shape_any.begin(), p.shape_any.end(), "proposals") != p.shape_any.end();
  if (voting) {
    // A voting session as the telegram bot of seed 003 keeps it: participants, the session's votes and one
    // open proposal with votes of its own, so that the scenarios can vote on it as the bot's addVote does.
    const long long now_ms = static_cast<long long>(unix_now() * 1000);
    v["message"] = "sessionctl canary";
    v["participants"] = {"@sessionctl"};
    v["votes"] = nlohmann::json::object();
    v["createdByUsername"] = "sessionctl";
    v["proposals"] = {{{"id", std::to_string(now_ms)},
                       {"text", "sessionctl canary proposal"},
                       {"type", "buy"},
                       {"votes", {{"@sessionctl", {{"vote", "yes"}, {"amount", 0}}}}},
                       {"open", true},
                       {"createdByUsername", "sessionctl"},
                       {"duration", 5},
                       {"startTime", now_ms},
                       {"endTime", now_ms + 5 * 60 * 1000}}};
  } else if (!p.shape_any.empty()) {
    set_path(v, p.shape_any.front(), now_text());
  }
  if (!p.state_field.empty()) set_path(v, p.state_field, p.state_labels.is_object() ? nlohmann::json(true) : "SMOKE");
  if (!p.activity_field.empty()) set_path(v, p.activity_field, now_text());
  for (const auto& index : p.indexes) {
    if (index.kind == IndexSpec::Kind::pointer_key && !index.link_field.empty())
      set_path(v, index.link_field, link_value);
  }
  v[kMarkField] = tag;
  return v.dump();
}

// Little-endian 4 bytes, as pickle's BINUNICODE length.
std::string le32(std::size_t n) {
  std::string out(4, '\0');
  for (int i = 0; i < 4; ++i) out[static_cast<std::size_t>(i)] = static_cast<char>((n >> (8 * i)) & 0xff);
  return out;
}

// {"sessionctl_canary": tag} as each library serializes a session, for the formats that are not JSON.
std::optional<std::string> serialized_value(const std::string& format, const std::string& tag) {
  const std::string key = kMarkField;
  if (format == "php-session") return fmt::format("{}|s:{}:\"{}\";", key, tag.size(), tag);
  if (format == "pickle") {
    // Protocol 2: PROTO 2, EMPTY_DICT, BINUNICODE key, BINUNICODE value, SETITEM, STOP.
    return std::string("\x80\x02}X", 4) + le32(key.size()) + key + "X" + le32(tag.size()) + tag + "s.";
  }
  if (format == "marshal" && key.size() < 123 && tag.size() < 123) {
    // Marshal 4.8: a hash of one UTF-8 string to another; a fixnum n in 1..122 is the byte n + 5.
    const auto fixnum = [](std::size_t n) { return std::string(1, static_cast<char>(n + 5)); };
    return std::string("\x04\x08{\x06I\"", 6) + fixnum(key.size()) + key + std::string("\x06:\x06") + "ET" + "I\"" +
           fixnum(tag.size()) + tag + std::string("\x06;\x00T", 4);
  }
  return std::nullopt;
}

std::vector<std::string> values_for(const Profile& p, const KeyRole& role, const std::string& tag,
                                    const std::string& link_value, std::chrono::milliseconds ttl) {
  if (role.type == ValueType::string) {
    if (auto bytes = serialized_value(role.format, tag)) return {*bytes};
  }
  if (role.type == ValueType::hash && role.format == "jdk") {
    // Spring Session's own fields, each a JDK-serialized wrapper, and the canary mark as an attribute.
    const long long now_ms = static_cast<long long>(unix_now() * 1000);
    return {"creationTime",
            write_jdk_long(now_ms),
            "lastAccessedTime",
            write_jdk_long(now_ms),
            "maxInactiveInterval",
            write_jdk_int(static_cast<int>(ttl.count() / 1000)),
            std::string("sessionAttr:") + kMarkField,
            write_jdk_string(tag)};
  }
  switch (role.type) {
    case ValueType::string:
      if (role.encoding == Encoding::opaque) return {fmt::format("sessionctl canary {}", tag)};
      return {json_value(p, tag, link_value)};
    case ValueType::hash: {
      std::vector<std::string> fields{kMarkField, tag};
      if (!p.state_field.empty() && p.state_field != kMarkField) {
        fields.insert(fields.end(), {p.state_field, "SMOKE"});
      }
      if (!p.activity_field.empty() && p.activity_field != p.state_field) {
        fields.insert(fields.end(), {p.activity_field, fmt::format("{}", static_cast<long long>(unix_now()))});
      }
      return fields;
    }
    case ValueType::list:
      return {nlohmann::json{{kMarkField, tag}, {"timestamp", now_text()}}.dump()};
    case ValueType::set:
      return {tag};
    case ValueType::zset:
      return {tag, fmt::format("{}", static_cast<long long>(unix_now()))};
  }
  return {};
}

std::string short_text(const std::string& s) { return s.size() <= 200 ? s : s.substr(0, 200) + "…"; }

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : " ") + i;
  return short_text(out);
}

// Field/value (or member/score) pairs in order, for comparing replies whose order the server chooses.
std::vector<std::pair<std::string, std::string>> pairs_sorted(const std::vector<std::string>& flat) {
  std::vector<std::pair<std::string, std::string>> out;
  for (std::size_t i = 0; i + 1 < flat.size(); i += 2) out.emplace_back(flat[i], flat[i + 1]);
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> strings_of(const redis::Reply& r) {
  std::vector<std::string> out;
  for (const auto& e : r.elements) out.push_back(e.str);
  return out;
}

bool in_ranges(int slot, const std::vector<std::pair<int, int>>& ranges) {
  return std::any_of(ranges.begin(), ranges.end(), [&](const auto& r) { return slot >= r.first && slot <= r.second; });
}

std::string reply_text(const redis::Reply& r) {
  if (r.is_nil()) return "(nil)";
  if (r.is_error()) return r.str;
  if (r.type == redis::Reply::Type::integer) return std::to_string(r.integer);
  if (!r.elements.empty()) return joined(strings_of(r));
  return short_text(r.str);
}

}  // namespace

Canary make_canary(const Profile& profile, const std::string& tag, std::optional<std::chrono::milliseconds> ttl) {
  Canary c;
  c.profile = &profile;
  const std::string unique = random_hex(12);
  c.id = profile.id_format == "uuid" ? random_uuid() : fmt::format("sessionctl-{}-{}", tag, unique);
  const std::string mark = fmt::format("{}-{}", tag, unique);
  const std::chrono::milliseconds session_ttl = ttl.value_or(profile.default_ttl.value_or(kFallbackTtl));
  const std::string link_value = fmt::format("sessionctl-{}-{}", tag, unique);
  for (const auto& [role, key] : profile.keys_for(c.id)) {
    CanaryKey k;
    k.key = key;
    k.role = role->role;
    k.type = role->type;
    k.items = values_for(profile, *role, mark, link_value, session_ttl);
    k.ttl = session_ttl;  // also where the app sets none (:meta): a canary must expire if it cannot be removed
    c.keys.push_back(std::move(k));
  }
  for (const auto& index : profile.indexes) {
    CanaryKey k;
    k.role = index.role;
    if (index.kind == IndexSpec::Kind::zset_of_ids) {
      k.key = index.pattern.key_for("");
      k.type = ValueType::zset;
      k.items = {c.id, fmt::format("{}", static_cast<long long>(unix_now()))};
      k.shared_index = true;
    } else {
      k.key = index.pattern.key_for(link_value);
      k.type = ValueType::string;
      k.items = {c.id};
      k.ttl = session_ttl;
    }
    c.keys.push_back(std::move(k));
  }
  return c;
}

void use_app_ttls(Canary& canary) {
  for (auto& k : canary.keys) {
    for (const auto& [role, key] : canary.profile->keys_for(canary.id)) {
      if (key == k.key && !role->expects_ttl) k.ttl = std::chrono::milliseconds(0);
    }
  }
}

Canary make_canary_on(const Profile& profile, const std::string& tag, const std::vector<std::pair<int, int>>& slots,
                      std::optional<std::chrono::milliseconds> ttl) {
  // A node owning a third of the slots takes about three tries; a node with one slot about 16384.
  for (int attempt = 0; attempt < 1000000; ++attempt) {
    Canary c = make_canary(profile, tag, ttl);
    if (in_ranges(redis::cluster::key_slot(c.keys.front().key), slots)) return c;
  }
  throw std::runtime_error("no canary id found for the node's slots");
}

std::vector<redis::Command> write_commands(const Canary& canary) {
  std::vector<redis::Command> out;
  for (const auto& k : canary.keys) {
    const std::string px = std::to_string(k.ttl.count());
    switch (k.type) {
      case ValueType::string:
        if (k.ttl.count() > 0) {
          out.push_back({"SET", k.key, k.items.at(0), "PX", px});
        } else {
          out.push_back({"SET", k.key, k.items.at(0)});
        }
        continue;
      case ValueType::hash: {
        redis::Command c{"HSET", k.key};
        c.insert(c.end(), k.items.begin(), k.items.end());
        out.push_back(std::move(c));
        break;
      }
      case ValueType::list: {
        redis::Command c{"RPUSH", k.key};
        c.insert(c.end(), k.items.begin(), k.items.end());
        out.push_back(std::move(c));
        break;
      }
      case ValueType::set: {
        redis::Command c{"SADD", k.key};
        c.insert(c.end(), k.items.begin(), k.items.end());
        out.push_back(std::move(c));
        break;
      }
      case ValueType::zset: {
        redis::Command c{"ZADD", k.key};
        for (std::size_t i = 0; i + 1 < k.items.size(); i += 2) c.insert(c.end(), {k.items[i + 1], k.items[i]});
        out.push_back(std::move(c));
        break;
      }
    }
    if (!k.shared_index && k.ttl.count() > 0) out.push_back({"PEXPIRE", k.key, px});
  }
  return out;
}

std::string write_canary(redis::Client& client, const Canary& canary) {
  const auto commands = write_commands(canary);
  const auto replies = client.run(commands);
  for (std::size_t i = 0; i < replies.size(); ++i) {
    if (replies[i].is_error()) return fmt::format("{} {}: {}", commands[i][0], commands[i][1], replies[i].str);
  }
  return "";
}

std::vector<Mismatch> check_canary(redis::Client& client, const Canary& canary,
                                   std::optional<std::chrono::milliseconds> min_ttl_left) {
  std::vector<redis::Command> reads;
  for (const auto& k : canary.keys) {
    switch (k.type) {
      case ValueType::string:
        reads.push_back({"GET", k.key});
        break;
      case ValueType::hash:
        reads.push_back({"HGETALL", k.key});
        break;
      case ValueType::list:
        reads.push_back({"LRANGE", k.key, "0", "-1"});
        break;
      case ValueType::set:
        reads.push_back({"SMEMBERS", k.key});
        break;
      case ValueType::zset:
        if (k.shared_index) {
          reads.push_back({"ZSCORE", k.key, k.items.at(0)});
        } else {
          reads.push_back({"ZRANGE", k.key, "0", "-1", "WITHSCORES"});
        }
        break;
    }
    reads.push_back({"PTTL", k.key});
  }
  const auto replies = client.run(reads);
  std::vector<Mismatch> out;
  for (std::size_t i = 0; i < canary.keys.size(); ++i) {
    const CanaryKey& k = canary.keys[i];
    const redis::Reply& value = replies.at(2 * i);
    const redis::Reply& pttl = replies.at(2 * i + 1);
    if (value.is_error()) {
      out.push_back({k.key, "a readable value", value.str});
      continue;
    }
    bool same = false;
    std::string expected = joined(k.items);
    switch (k.type) {
      case ValueType::string:
        same = value.is_string() && value.str == k.items.at(0);
        break;
      case ValueType::list:
        same = strings_of(value) == k.items;
        break;
      case ValueType::set: {
        auto got = strings_of(value);
        auto want = k.items;
        std::sort(got.begin(), got.end());
        std::sort(want.begin(), want.end());
        same = got == want;
        break;
      }
      case ValueType::hash:
        same = pairs_sorted(strings_of(value)) == pairs_sorted(k.items);
        break;
      case ValueType::zset:
        if (k.shared_index) {
          expected = fmt::format("member {} with score {}", k.items.at(0), k.items.at(1));
          same = value.is_string() && value.str == k.items.at(1);
        } else {
          same = pairs_sorted(strings_of(value)) == pairs_sorted(k.items);
        }
        break;
    }
    if (!same) {
      out.push_back({k.key, expected,
                     value.is_nil() || (value.elements.empty() && !value.is_string()) ? "missing" : reply_text(value)});
      continue;
    }
    if (k.shared_index) continue;
    if (k.ttl.count() == 0) {
      if (pttl.type != redis::Reply::Type::integer || pttl.integer != -1)
        out.push_back({k.key, "no TTL, as the app writes it", fmt::format("{} ms", reply_text(pttl))});
      continue;
    }
    const long long left = pttl.type == redis::Reply::Type::integer ? pttl.integer : -3;
    const long long set = k.ttl.count();
    const long long floor = min_ttl_left ? min_ttl_left->count() : 1;
    if (left <= 0 || left > set || left < floor) {
      out.push_back({k.key,
                     min_ttl_left ? fmt::format("a TTL between {} and {} ms", floor, set)
                                  : fmt::format("a TTL of at most {} ms", set),
                     left == -1   ? "no TTL"
                     : left == -2 ? "missing"
                                  : fmt::format("{} ms", left)});
    }
  }
  return out;
}

std::vector<std::string> remove_canary(redis::Client& client, const Canary& canary) {
  std::vector<redis::Command> removes;
  std::vector<redis::Command> checks;
  for (const auto& k : canary.keys) {
    if (k.shared_index) {
      removes.push_back({"ZREM", k.key, k.items.at(0)});
      checks.push_back({"ZSCORE", k.key, k.items.at(0)});
    } else {
      removes.push_back({"UNLINK", k.key});
      checks.push_back({"EXISTS", k.key});
    }
  }
  client.run(removes);
  const auto replies = client.run(checks);
  std::vector<std::string> left;
  for (std::size_t i = 0; i < replies.size(); ++i) {
    const redis::Reply& r = replies[i];
    const bool gone =
        canary.keys[i].shared_index ? r.is_nil() : (r.type == redis::Reply::Type::integer && r.integer == 0);
    if (!gone)
      left.push_back(canary.keys[i].shared_index ? canary.keys[i].key + " member " + canary.id : canary.keys[i].key);
  }
  return left;
}

void CanaryGuard::removed(const std::string& id) {
  canaries_.erase(std::remove_if(canaries_.begin(), canaries_.end(), [&](const Canary& c) { return c.id == id; }),
                  canaries_.end());
}

std::vector<std::string> CanaryGuard::remove_all() {
  std::vector<std::string> left;
  if (canaries_.empty()) return left;
  std::unique_ptr<redis::Client> client = connect_();
  for (const auto& c : canaries_) {
    for (auto& k : remove_canary(*client, c)) left.push_back(std::move(k));
  }
  canaries_.clear();
  return left;
}

CanaryGuard::~CanaryGuard() {
  try {
    remove_all();
  } catch (...) {
    // A destructor runs while another error is on its way out; that error is the one to report, and every
    // canary key expires by itself.
  }
}

}  // namespace sessionctl::scenario
