// stats and doctor against a real redis-server: the figures must match what the keyspace holds, the
// table and -o json must agree, and doctor must find every anomaly the seeds warn about (and server
// configuration risks), each with a command that fixes it, exiting 1 when there is any and 0 when not.
#include <catch2/catch.hpp>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "process.h"
#include "redis_server.h"
#include "sessionctl_cli.h"
#include "temp_dir.h"

#ifndef SESSIONCTL_SOURCE_DIR
#error "SESSIONCTL_SOURCE_DIR must be defined to the source tree"
#endif

using Catch::Matchers::Contains;
using nlohmann::json;
using testsupport::fixture;
using testsupport::RedisServer;
using testsupport::RunResult;
using testsupport::sctl;
using testsupport::sctl_json;
using testsupport::ServerOptions;
constexpr auto q = &testsupport::cli_quote;

namespace {

long long info_field(const RedisServer& server, const std::string& section, const std::string& field) {
  std::istringstream in(server.cli({"INFO", section}));
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(field + ":", 0) == 0) return std::stoll(line.substr(field.size() + 1));
  }
  FAIL("INFO " << section << " has no " << field);
  return -1;
}

// The buckets the spec names, from the bounds their labels say.
const std::vector<std::string> kTtlBuckets = {"none", "<1h", "1-4h", "4-12h", "12-24h", "1-7d", ">7d"};
std::string ttl_bucket(long long ms) {
  const long long h = 3600000;
  if (ms < 0) return "none";
  if (ms < h) return "<1h";
  if (ms < 4 * h) return "1-4h";
  if (ms < 12 * h) return "4-12h";
  if (ms < 24 * h) return "12-24h";
  if (ms < 7 * 24 * h) return "1-7d";
  return ">7d";
}
const std::vector<std::string> kSizeBuckets = {"<256B",   "256B-512B", "512B-1KiB",  "1-2KiB", "2-4KiB",
                                               "4-16KiB", "16-64KiB",  "64KiB-1MiB", ">1MiB"};
std::string size_bucket(long long b) {
  const long long bounds[] = {256, 512, 1024, 2048, 4096, 16384, 65536, 1048576};
  for (std::size_t i = 0; i < 8; ++i) {
    if (b < bounds[i]) return kSizeBuckets[i];
  }
  return kSizeBuckets[8];
}

std::map<std::string, long long> histogram(const json& buckets) {
  std::map<std::string, long long> out;
  for (const auto& b : buckets) out[b["bucket"].get<std::string>()] = b["count"].get<long long>();
  return out;
}

const json& profile_stats(const json& doc, const std::string& name) {
  for (const auto& p : doc["profiles"]) {
    if (p["profile"] == name) return p;
  }
  FAIL("no stats for profile " << name);
  static json none;
  return none;
}

// The lines of one profile's block in the stats table (from its name line to the next blank line).
std::vector<std::string> table_block(const std::string& table, const std::string& profile) {
  std::istringstream in(table);
  std::vector<std::string> out;
  bool inside = false;
  for (std::string line; std::getline(in, line);) {
    if (!inside && line.rfind(profile + "  ", 0) == 0) inside = true;
    if (inside && line.empty()) break;
    if (inside) out.push_back(line);
  }
  return out;
}

// "    <label>  ███  <count>" rows of a histogram, from the block lines after `title`.
std::map<std::string, long long> table_histogram(const std::vector<std::string>& block, const std::string& title,
                                                 const std::vector<std::string>& labels) {
  std::map<std::string, long long> out;
  bool inside = false;
  for (const auto& line : block) {
    if (line == "  " + title) {
      inside = true;
      continue;
    }
    if (!inside) continue;
    std::istringstream words(line);
    std::string label;
    words >> label;
    if (std::find(labels.begin(), labels.end(), label) == labels.end()) break;
    std::string last;
    for (std::string w; words >> w;) last = w;
    out[label] = std::stoll(last);
  }
  return out;
}

bool has_finding(const json& doc, const std::string& code, const json& profile) {
  for (const auto& f : doc["findings"]) {
    if (f["code"] == code && f["profile"] == profile) return true;
  }
  return false;
}

const json& finding(const json& doc, const std::string& code, const json& profile) {
  for (const auto& f : doc["findings"]) {
    if (f["code"] == code && f["profile"] == profile) return f;
  }
  FAIL("no finding " << code << " for " << profile.dump() << " in " << doc.dump(2));
  static json none;
  return none;
}

std::string examples(const json& f) {
  std::string out;
  for (const auto& e : f["examples"]) out += e.get<std::string>() + "\n";
  return out;
}

}  // namespace

TEST_CASE("stats: counts, TTL and size histograms, states, anomalies, the table and -o json agree",
          "[readpath][stats]") {
  RedisServer server;
  server.cli_script(fixture("sample_sessions.redis"));
  server.cli_script(fixture("more_sessions.redis"));
  server.cli_script(fixture("anomalies.redis"));
  // channels sessions (seed 002's store_session, SET … EX ttl) spread over every TTL bucket and several sizes.
  struct Spread {
    std::string id;
    std::string ex;  // "" = no EX (an app bug)
    std::size_t pad;
  };
  const std::vector<Spread> spread = {
      {"ttl-none", "", 10},       {"ttl-30m", "1800", 300},    {"ttl-2h", "7200", 700},     {"ttl-6h", "21600", 1500},
      {"ttl-18h", "64800", 3000}, {"ttl-3d", "259200", 10000}, {"ttl-10d", "864000", 30000}};
  std::string script;
  for (const auto& s : spread) {
    json v = {{"data", {{"count", 1}, {"last_activity", 1767434400.0}, {"note", std::string(s.pad, 'n')}}},
              {"created_at", 1767430800.0},
              {"ttl", s.ex.empty() ? 0 : std::stoll(s.ex)}};
    script += "SET session:" + s.id + " " + q(v.dump()) + (s.ex.empty() ? "" : " EX " + s.ex) + "\n";
  }
  server.cli_script(script);

  RunResult jr = sctl(server, {"stats", "-o", "json"});
  INFO(jr);
  REQUIRE(jr.exit_code == 0);
  json doc = json::parse(jr.out);
  CHECK(doc["schema"] == "sessionctl.stats");
  CHECK(doc["vanished_during_scan"] == 0);

  // channels: every figure recomputed from the keys themselves.
  std::vector<std::string> channel_ids = {"my-session", "test-session-999", "ws-lobby"};
  for (const auto& s : spread) channel_ids.push_back(s.id);
  std::map<std::string, long long> want_ttl, want_size;
  long long total = 0, min = -1, max = 0;
  for (const auto& id : channel_ids) {
    long long ttl = std::stoll(server.cli({"PTTL", "session:" + id}));
    long long size = std::stoll(server.cli({"STRLEN", "session:" + id}));
    ++want_ttl[ttl_bucket(ttl)];
    ++want_size[size_bucket(size)];
    total += size;
    min = min < 0 ? size : std::min(min, size);
    max = std::max(max, size);
  }
  const json& ch = profile_stats(doc, "channels");
  CHECK(ch["sessions"] == channel_ids.size());
  CHECK(ch["keys"] == channel_ids.size());
  auto ttl_h = histogram(ch["ttl_histogram"]);
  auto size_h = histogram(ch["size_histogram"]);
  std::vector<std::string> ttl_labels, size_labels;
  for (const auto& b : ch["ttl_histogram"]) ttl_labels.push_back(b["bucket"].get<std::string>());
  for (const auto& b : ch["size_histogram"]) size_labels.push_back(b["bucket"].get<std::string>());
  CHECK(ttl_labels == kTtlBuckets);
  CHECK(size_labels == kSizeBuckets);
  for (const auto& label : kTtlBuckets) {
    INFO("TTL bucket " << label);
    CHECK(ttl_h[label] == (want_ttl.count(label) ? want_ttl[label] : 0));
    CHECK(ttl_h[label] >= 1);  // the spread covers every bucket
  }
  for (const auto& label : kSizeBuckets) {
    INFO("size bucket " << label);
    CHECK(size_h[label] == (want_size.count(label) ? want_size[label] : 0));
  }
  CHECK(ch["size_bytes"]["total"] == total);
  CHECK(ch["size_bytes"]["min"] == min);
  CHECK(ch["size_bytes"]["max"] == max);
  CHECK(std::fabs(ch["size_bytes"]["average"].get<double>() -
                  static_cast<double>(total) / static_cast<double>(channel_ids.size())) < 1e-6);
  CHECK(ch["keys_without_ttl"] == 1);
  CHECK(ch["orphans"] == 0);
  CHECK(ch["corrupt"] == 0);
  CHECK(ch["problems"]["no_ttl"] == 1);

  // btrix: sample (3) + more (1) + anomalies (5: truncated, binary, forever, too-long, hashed).
  const json& bt = profile_stats(doc, "btrix");
  CHECK(bt["sessions"] == 9);
  CHECK(bt["states"] == json({{"BOOK_EMAIL", 1}, {"BOOK_PHONE", 1}, {"WELCOME", 1}, {"BOOK_NAME", 1}, {"MENU", 2}}));
  CHECK(bt["corrupt"] == 1);
  CHECK(bt["keys_without_ttl"] == 1);
  CHECK(bt["problems"] ==
        json({{"corrupt_json", 1}, {"binary_value", 1}, {"no_ttl", 1}, {"ttl_above_max", 1}, {"wrong_type", 1}}));
  auto bt_ttl = histogram(bt["ttl_histogram"]);
  CHECK(bt_ttl["none"] == 1);
  CHECK(bt_ttl["<1h"] == 7);
  CHECK(bt_ttl["1-4h"] == 1);
  long long bt_sizes = 0;
  for (const auto& [label, n] : histogram(bt["size_histogram"])) bt_sizes += n;
  CHECK(bt_sizes == 9);

  // telegram: states from open true/false; the chat pointer to an expired session is an orphan.
  const json& tg = profile_stats(doc, "telegram");
  CHECK(tg["sessions"] == 2);
  CHECK(tg["states"] == json({{"open", 1}, {"closed", 1}}));
  CHECK(tg["orphans"] == 1);

  // trt: two sessions of three keys; a zset member and a meta hash without their session are orphans;
  // the meta hashes are the app's keys without TTL by design, not anomalies.
  const json& trt = profile_stats(doc, "trt");
  CHECK(trt["sessions"] == 2);
  CHECK(trt["keys"] == 6);
  CHECK(trt["states"] == json({{"stage_1_goal", 1}, {"stage_2_vision", 1}}));
  CHECK(trt["orphans"] == 2);
  CHECK(trt["keys_without_ttl"] == 0);
  CHECK(trt["keys_without_ttl_by_design"] == 2);

  const json& ov = profile_stats(doc, "openvaa");
  CHECK(ov["sessions"] == 4);
  CHECK(ov["problems"]["id_not_uuid"] == 1);
  CHECK(ov["corrupt"] == 0);  // the encrypted value is opaque, not corrupt
  const json& unknown = profile_stats(doc, "unknown");
  CHECK(unknown["sessions"] == 1);
  CHECK(unknown["problems"]["unclassified"] == 1);

  // The table carries the same figures.
  RunResult table = sctl(server, {"stats"});
  REQUIRE(table.exit_code == 0);
  for (const auto& p : doc["profiles"]) {
    const std::string name = p["profile"].get<std::string>();
    INFO(name << "\n" << table.out);
    auto block = table_block(table.out, name);
    REQUIRE_FALSE(block.empty());
    std::smatch m;
    REQUIRE(std::regex_search(block[0], m, std::regex("(\\d+) sessions?, (\\d+) keys?")));
    CHECK(std::stoll(m[1]) == p["sessions"].get<long long>());
    CHECK(std::stoll(m[2]) == p["keys"].get<long long>());
    if (p["sessions"] == 0) continue;
    CHECK(table_histogram(block, "TTL", kTtlBuckets) == histogram(p["ttl_histogram"]));
    CHECK(table_histogram(block, "size", kSizeBuckets) == histogram(p["size_histogram"]));
    for (const auto& [state, n] : p["states"].items()) {
      bool found = false;
      for (const auto& line : block) {
        std::istringstream words(line);
        std::string a, b;
        words >> a >> b;
        if (a == state && b == std::to_string(n.get<long long>())) found = true;
      }
      CHECK(found);
    }
    std::string text;
    for (const auto& line : block) text += line + "\n";
    // "1 key", "2 keys": counts agree with their noun.
    auto counted = [](long long n, const std::string& noun) {
      return std::to_string(n) + " " + noun + (n == 1 ? "" : "s");
    };
    if (p["keys_without_ttl"] > 0)
      CHECK_THAT(text, Contains(counted(p["keys_without_ttl"].get<long long>(), "key") + " without TTL"));
    if (p["orphans"] > 0) CHECK_THAT(text, Contains(counted(p["orphans"].get<long long>(), "orphan")));
    if (p["corrupt"] > 0) CHECK_THAT(text, Contains("corrupt_json"));
  }
}

TEST_CASE("doctor finds every anomaly, each with a fix, and exits 1", "[readpath][doctor]") {
  RedisServer server;
  server.cli_script(fixture("sample_sessions.redis"));
  server.cli_script(fixture("anomalies.redis"));
  // btrix above seed 000's 500-2000 bytes, and a trt history an app version without LTRIM let grow past 50.
  json big = {{"current", "BOOK_EMAIL"}, {"data", {{"name", "Ann"}, {"notes", std::string(3000, 'n')}}}};
  std::string script = "SET state:oversize " + q(big.dump()) + " EX 3600\n";
  script +=
      "HSET trt:session:chatty:state session_id chatty current_stage stage_1_goal last_interaction 1767434000\n"
      "EXPIRE trt:session:chatty:state 86400\n";
  for (int i = 0; i < 55; ++i) {
    json item = {
        {"client_input", "message " + std::to_string(i)}, {"therapist_response", "ok"}, {"timestamp", 1767430000 + i}};
    script += "RPUSH trt:session:chatty:history " + q(item.dump()) + "\n";
  }
  script += "EXPIRE trt:session:chatty:history 86400\nZADD trt:active_sessions 1767434000 chatty\n";
  server.cli_script(script);

  json doc = sctl_json(server, {"doctor"}, 1);
  CHECK(doc["schema"] == "sessionctl.doctor");
  CHECK(doc["ok"] == false);
  CHECK(doc["sessions_checked"].get<long long>() >= 16);
  for (const auto& f : doc["findings"]) {
    INFO(f.dump());
    CHECK((f["severity"] == "error" || f["severity"] == "warning"));
    CHECK_FALSE(f["message"].get<std::string>().empty());
    const std::string fix = f["fix"].get<std::string>();
    CHECK((fix.rfind("sessionctl ", 0) == 0 || fix.rfind("redis-cli ", 0) == 0));
    CHECK(f["count"].get<long long>() >= 1);
  }
  const json btrix = "btrix";
  CHECK(examples(finding(doc, "no_ttl", btrix)) == "forever\n");
  CHECK(examples(finding(doc, "corrupt_json", btrix)) == "truncated\n");
  CHECK(examples(finding(doc, "binary_value", btrix)) == "binary\n");
  CHECK(examples(finding(doc, "ttl_above_max", btrix)) == "too-long\n");
  CHECK(examples(finding(doc, "wrong_type", btrix)) == "hashed\n");
  CHECK(examples(finding(doc, "size_above_max", btrix)) == "oversize\n");
  CHECK(examples(finding(doc, "id_not_uuid", "openvaa")) == "client-chosen-id\n");
  CHECK(examples(finding(doc, "history_over_cap", "trt")) == "chatty\n");
  CHECK_THAT(examples(finding(doc, "unclassified", "unknown")), Contains("mystery"));
  const json& trt_orphans = finding(doc, "orphan", "trt");
  CHECK(trt_orphans["count"] == 2);
  CHECK_THAT(examples(trt_orphans), Contains("ghost_user") && Contains("trt:session:gone_user:meta"));
  const json& tg_orphans = finding(doc, "orphan", "telegram");
  CHECK(tg_orphans["count"] == 1);
  CHECK_THAT(examples(tg_orphans), Contains("session:chat:-1005555555555"));
  CHECK(has_finding(doc, "persistence_off", nullptr));
  // The fixes name the profile and what to do.
  CHECK_THAT(finding(doc, "no_ttl", btrix)["fix"].get<std::string>(), Contains("--profile btrix") && Contains("--ttl"));
  CHECK_THAT(finding(doc, "orphan", "trt")["fix"].get<std::string>(), Contains("cleanup") && Contains("trt"));
  CHECK_THAT(finding(doc, "persistence_off", nullptr)["fix"].get<std::string>(), Contains("appendonly"));
  // When every affected id is known, the fix names them: a command to copy, not a template.
  CHECK(finding(doc, "id_not_uuid", "openvaa")["fix"] ==
        "sessionctl delete --profile openvaa --yes -- client-chosen-id");
  // Nothing about healthy sessions, nor about the meta hash trt never gives a TTL.
  CHECK_FALSE(has_finding(doc, "no_ttl", "trt"));
  for (const auto& f : doc["findings"]) {
    for (const std::string healthy : {"test-session-123", "test-456", "user_12345", "my-session"}) {
      CHECK(examples(f).find(healthy + "\n") == std::string::npos);
    }
  }

  RunResult table = sctl(server, {"doctor"});
  CHECK(table.exit_code == 1);
  CHECK_THAT(table.err, Contains("problems found"));
  std::size_t fixes = 0;
  for (std::size_t at = 0; (at = table.out.find("fix: ", at)) != std::string::npos; ++at) ++fixes;
  CHECK(fixes == doc["findings"].size());
  for (const auto& f : doc["findings"]) {
    CHECK_THAT(table.out, Contains("[" + f["code"].get<std::string>() + "]") && Contains(f["fix"].get<std::string>()));
  }
  RunResult jl = sctl(server, {"doctor", "-o", "jsonl"});
  CHECK(jl.exit_code == 1);
  CHECK(static_cast<std::size_t>(std::count(jl.out.begin(), jl.out.end(), '\n')) == doc["findings"].size());
}

TEST_CASE("doctor reports server configuration risks with their fixes", "[readpath][doctor][config]") {
  SECTION("persistence off, allkeys-lru, evicted keys") {
    RedisServer server(ServerOptions{.config = {{"maxmemory", "3mb"}, {"maxmemory-policy", "allkeys-lru"}}});
    server.cli_script(fixture("sample_sessions.redis"));
    std::string filler;
    for (int i = 0; i < 6000; ++i) filler += "SET filler:" + std::to_string(i) + " " + std::string(1000, 'f') + "\n";
    server.cli_script(filler);
    REQUIRE(info_field(server, "stats", "evicted_keys") > 0);

    json doc = sctl_json(server, {"doctor"}, 1);
    const json& off = finding(doc, "persistence_off", nullptr);
    CHECK(off["severity"] == "error");
    CHECK_THAT(off["fix"].get<std::string>(), Contains("CONFIG SET appendonly yes"));
    const json& policy = finding(doc, "eviction_policy", nullptr);
    CHECK_THAT(policy["message"].get<std::string>(), Contains("allkeys-lru"));
    CHECK_THAT(policy["fix"].get<std::string>(), Contains("maxmemory-policy") && Contains("volatile"));
    const json& evicted = finding(doc, "evicted_keys", nullptr);
    CHECK(evicted["count"].get<long long>() > 0);
    CHECK_THAT(evicted["fix"].get<std::string>(), Contains("maxmemory"));
    RunResult table = sctl(server, {"doctor"});
    CHECK(table.exit_code == 1);
    CHECK_THAT(table.out, Contains("[persistence_off]") && Contains("[eviction_policy]") && Contains("[evicted_keys]"));
  }
  SECTION("memory above 80% of maxmemory, nothing else") {
    RedisServer server(ServerOptions{.config = {{"appendonly", "yes"}, {"maxmemory-policy", "noeviction"}}});
    server.cli_script(fixture("sample_sessions.redis"));
    const long long used = info_field(server, "memory", "used_memory");
    server.cli({"CONFIG", "SET", "maxmemory", std::to_string(used + used / 8)});
    const long long max = info_field(server, "memory", "maxmemory");
    REQUIRE(static_cast<double>(info_field(server, "memory", "used_memory")) > 0.8 * static_cast<double>(max));

    json doc = sctl_json(server, {"doctor"}, 1);
    std::set<std::string> codes;
    for (const auto& f : doc["findings"]) codes.insert(f["code"].get<std::string>());
    CHECK(codes == std::set<std::string>{"memory_high"});
    CHECK_THAT(finding(doc, "memory_high", nullptr)["fix"].get<std::string>(), Contains("maxmemory"));
  }
  SECTION("a user who may not read INFO or CONFIG gets no clean bill of health") {
    RedisServer server(ServerOptions{.acl_users = {"app on >apppw ~* +@read +scan +ping +client -info -config"},
                                     .config = {{"appendonly", "yes"}, {"maxmemory-policy", "volatile-lru"}}});
    server.cli_script(fixture("sample_sessions.redis"));
    RunResult r = testsupport::sctl_as(server, "app:apppw", {"doctor", "-o", "json"});
    INFO(r);
    REQUIRE(r.exit_code == 1);
    json doc = json::parse(r.out);
    std::set<std::string> codes;
    for (const auto& f : doc["findings"]) codes.insert(f["code"].get<std::string>());
    CHECK(codes == std::set<std::string>{"config_unchecked"});
    CHECK_THAT(finding(doc, "config_unchecked", nullptr)["message"].get<std::string>(),
               Contains("INFO and CONFIG GET are not permitted"));
    CHECK(doc["sessions_checked"].get<long long>() > 0);
  }
  SECTION("a clean store with AOF on and volatile-lru passes") {
    RedisServer server(ServerOptions{.config = {{"appendonly", "yes"}, {"maxmemory-policy", "volatile-lru"}}});
    server.cli_script(fixture("sample_sessions.redis"));
    server.cli_script(fixture("more_sessions.redis"));
    json doc = sctl_json(server, {"doctor"}, 0);
    CHECK(doc["ok"] == true);
    CHECK(doc["findings"].empty());
    CHECK(doc["sessions_checked"] == 14);
    RunResult table = sctl(server, {"doctor"});
    CHECK(table.exit_code == 0);
    CHECK_THAT(table.out, Contains("no problems found"));
  }
}
