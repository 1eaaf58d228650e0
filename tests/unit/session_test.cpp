// Session analysis (problems, state, activity), field lookups for --where, the filter, value
// presentation and the stats buckets: pure logic on values as the scanner reads them, no Redis.
#include "session/session.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "redis/reply.h"
#include "render/value_view.h"
#include "report/stats.h"
#include "session/filter.h"
#include "session/profile.h"
#include "session/value_read.h"
#include "util/clock.h"
#include "util/errors.h"

using Catch::Matchers::Contains;
using nlohmann::json;
using namespace sessionctl;

namespace {

const ProfileSet& builtin() {
  static const ProfileSet set = ProfileSet::builtin();
  return set;
}
const Profile* profile(const std::string& name) { return builtin().find(name); }

KeyInfo string_key(const std::string& key, const std::string& raw, long long ttl_ms) {
  KeyInfo k;
  k.key = key;
  k.role = "state";
  k.type = KeyType::string;
  k.ttl_ms = ttl_ms;
  k.size = static_cast<long long>(raw.size());
  StoredValue v;
  v.type = ValueType::string;
  v.raw = raw;
  k.value = v;
  return k;
}

// A btrix session as the scanner builds it: one string key with its value.
Session btrix(const std::string& id, const std::string& raw, long long ttl_ms = 3'599'000) {
  Session s;
  s.id = id;
  s.profile = profile("btrix");
  s.keys.push_back(string_key("state:" + id, raw, ttl_ms));
  return s;
}

KeyInfo hash_key(const std::string& key, const std::string& role,
                 std::vector<std::pair<std::string, std::string>> fields, long long ttl_ms) {
  KeyInfo k;
  k.key = key;
  k.role = role;
  k.type = KeyType::hash;
  k.ttl_ms = ttl_ms;
  k.size = 100;
  StoredValue v;
  v.type = ValueType::hash;
  v.fields = std::move(fields);
  k.value = v;
  return k;
}

KeyInfo list_key(const std::string& key, std::vector<std::string> items, long long ttl_ms) {
  KeyInfo k;
  k.key = key;
  k.role = "history";
  k.type = KeyType::list;
  k.ttl_ms = ttl_ms;
  k.size = 200;
  StoredValue v;
  v.type = ValueType::list;
  v.items = std::move(items);
  k.value = v;
  return k;
}

// A trt session: state hash, history list, meta hash (no TTL, as the app writes it).
Session trt(std::vector<std::string> history, long long meta_ttl = -1) {
  Session s;
  s.id = "user_1";
  s.profile = profile("trt");
  s.keys.push_back(hash_key("trt:session:user_1:state", "state",
                            {{"current_stage", "stage_1_goal"},
                             {"last_interaction", "1763780500"},
                             {"stage_1_completion", R"({"goal_stated":true})"}},
                            86'000'000));
  s.keys.push_back(list_key("trt:session:user_1:history", std::move(history), 86'000'000));
  s.keys.push_back(hash_key("trt:session:user_1:meta", "meta", {{"created_via", "/api/v1/input"}}, meta_ttl));
  return s;
}

std::vector<std::string> analysed(Session s) {
  analyse_session(s);
  return s.problems;
}

}  // namespace

TEST_CASE("a healthy session has no problems and yields state and activity", "[session]") {
  Session s = btrix(
      "abc", R"({"current":"BOOK_EMAIL","data":{"email":"john@example.com"},"updatedAt":"2026-01-03T10:00:00Z"})");
  analyse_session(s);
  CHECK(s.problems.empty());
  CHECK(s.state == "BOOK_EMAIL");
  REQUIRE(s.last_activity.has_value());
  CHECK(*s.last_activity == 1767434400.0);
  CHECK(rfc3339(*s.last_activity) == "2026-01-03T10:00:00Z");
  CHECK(s.profile_name() == "btrix");
  CHECK(s.key_count() == 1);
  CHECK(s.ttl_ms() == 3'599'000);
}

TEST_CASE("each problem is found where it is and nowhere else", "[session]") {
  using V = std::vector<std::string>;
  CHECK(analysed(btrix("a", R"({"current":"BOOK_NAME","data":{)")) == V{problem::corrupt});
  CHECK(analysed(btrix("a", "")) == V{problem::corrupt});
  CHECK(analysed(btrix("a", std::string("\xff\xfe\x00\x01", 4))) == V{problem::binary});
  CHECK(analysed(btrix("a", "\xed\xa0\x80")) == V{problem::binary});  // a UTF-16 surrogate is not UTF-8
  CHECK(analysed(btrix("a", "\xc0\xaf")) == V{problem::binary});      // overlong
  CHECK(analysed(btrix("a", R"({"current":"MENU"})", -1)) == V{problem::no_ttl});
  CHECK(analysed(btrix("a", R"({"current":"MENU"})", 7'200'000)) == V{problem::ttl_too_long});
  CHECK(analysed(btrix("a", R"({"current":"MENU"})", 3'600'000)).empty());  // exactly the app's TTL
  CHECK(analysed(btrix("a", R"({"current":"MENU"})", 3'600'900)).empty());  // within a second of it
  CHECK(analysed(btrix("a", R"({"current":"MENU","pad":")" + std::string(3000, 'x') + "\"}")) == V{problem::too_big});

  Session wrong;
  wrong.id = "x";
  wrong.profile = profile("btrix");
  wrong.keys.push_back(hash_key("state:x", "state", {{"current", "MENU"}}, 3'000'000));
  CHECK(analysed(wrong) == V{problem::wrong_type});

  Session ov;
  ov.id = "client-chosen";
  ov.profile = profile("openvaa");
  ov.keys.push_back(string_key("conversation:state:client-chosen", R"({"messages":[]})", 86'000'000));
  CHECK(analysed(ov) == V{problem::bad_id});
  ov.id = "0b9d6f3e-5c1a-4f7e-9a2b-3c4d5e6f7a8b";
  CHECK(analysed(ov).empty());
  // Encrypted at rest: opaque bytes are not corrupt for openvaa.
  ov.keys[0] = string_key("conversation:state:x", std::string("enc:v1:\xa3\x9f\x00\x17", 11), 86'000'000);
  CHECK(analysed(ov).empty());

  Session unknown;
  unknown.id = "mystery";
  unknown.layout = "session:{id}";
  unknown.keys.push_back(string_key("session:mystery", R"({"foo":1})", 3'000'000));
  CHECK(analysed(unknown) == V{problem::unclassified});
  CHECK(unknown.profile_name() == "unknown");
}

TEST_CASE("trt: history cap, JSON items, and a meta hash the app never gives a TTL", "[session]") {
  std::vector<std::string> ok = {R"({"client_input":"hi","therapist_response":"hello"})"};
  CHECK(analysed(trt(ok)).empty());  // meta without TTL is the app's design
  std::vector<std::string> many(51, R"({"client_input":"x"})");
  CHECK(analysed(trt(many)) == std::vector<std::string>{problem::history_over_cap});
  CHECK(analysed(trt(std::vector<std::string>(50, R"({"a":1})"))).empty());
  CHECK(analysed(trt({R"({"a":1})", "not json"})) == std::vector<std::string>{problem::corrupt});
  CHECK(analysed(trt({std::string("\xff\x00", 2)})) == std::vector<std::string>{problem::binary});

  Session s = trt(ok);
  s.keys[0].ttl_ms = -1;  // the state hash should expire
  CHECK(analysed(s) == std::vector<std::string>{problem::no_ttl});

  Session t = trt(ok);
  analyse_session(t);
  CHECK(t.state == "stage_1_goal");
  CHECK(t.last_activity == 1763780500.0);
  CHECK(t.key_count() == 3);
  CHECK(t.size() == 400);
  t.keys[2].type = KeyType::none;  // a missing key counts for neither keys nor size
  CHECK(t.key_count() == 2);
  CHECK(t.size() == 300);
}

TEST_CASE("state labels and activity formats", "[session]") {
  Session tg;
  tg.id = "1734567890123";
  tg.profile = profile("telegram");
  tg.keys.push_back(
      string_key("session:1734567890123", R"({"participants":[],"chatId":-100,"open":false})", 86'000'000));
  analyse_session(tg);
  CHECK(tg.state == "closed");
  CHECK_FALSE(tg.last_activity.has_value());
  tg.keys[0] = string_key("session:1", R"({"participants":[],"open":true})", 86'000'000);
  tg.state.reset();
  analyse_session(tg);
  CHECK(tg.state == "open");

  Session ch;
  ch.id = "my-session";
  ch.profile = profile("channels");
  for (const std::string raw : {R"({"data":{"last_activity":1640995200.0},"ttl":3600})",
                                R"({"data":{"last_activity":1640995200000},"ttl":3600})",
                                R"({"data":{"last_activity":"1640995200"},"ttl":3600})",
                                R"({"data":{"last_activity":"2022-01-01T00:00:00Z"},"ttl":3600})"}) {
    INFO(raw);
    ch.keys = {string_key("session:my-session", raw, 3'000'000)};
    ch.last_activity.reset();
    analyse_session(ch);
    CHECK(ch.last_activity == 1640995200.0);
  }

  // No activity field in the value: the index score (TRT's last interaction) stands in.
  Session s = btrix("a", R"({"current":"MENU"})");
  s.index_score = 1700000000.0;
  analyse_session(s);
  CHECK(s.last_activity == 1700000000.0);
}

TEST_CASE("field_value reads raw values for --where", "[session]") {
  Session s = btrix("a", R"({"current":"BOOK_PHONE","data":{"email":"maria@example.com","age":41,"vip":true}})");
  CHECK(field_value(s, "data.email") == "maria@example.com");
  CHECK(field_value(s, "current") == "BOOK_PHONE");
  CHECK(field_value(s, "data.age") == "41");
  CHECK(field_value(s, "data.vip") == "true");
  CHECK_FALSE(field_value(s, "data.phone").has_value());
  Session t = trt({R"({"a":1})"});
  CHECK(field_value(t, "current_stage") == "stage_1_goal");
  CHECK(field_value(t, "stage_1_completion.goal_stated") == "true");
  CHECK(field_value(t, "created_via") == "/api/v1/input");  // meta is part of the session
  CHECK_FALSE(field_value(t, "nope").has_value());
}

TEST_CASE("the filter selects by id, glob, state, TTL, idle time and raw fields", "[session][filter]") {
  auto filter = [](std::vector<std::string> ids, std::string match, std::string state, std::string below,
                   std::string above, bool no_ttl, std::string idle, std::vector<std::string> where) {
    return SessionFilter::from_flags(std::move(ids), std::move(match), std::move(state), below, above, no_ttl, idle,
                                     where, std::nullopt);
  };
  const double now = 1767434400.0;
  Session s = btrix("test-456",
                    R"({"current":"BOOK_PHONE","data":{"email":"m@example.com"},"updatedAt":"2026-01-03T08:00:00Z"})",
                    1'800'000);
  analyse_session(s);
  CHECK(filter({}, "", "", "", "", false, "", {}).matches(s, now));
  CHECK(filter({"test-456"}, "", "", "", "", false, "", {}).matches(s, now));
  CHECK_FALSE(filter({"test-45"}, "", "", "", "", false, "", {}).matches(s, now));
  CHECK(filter({}, "test-*", "", "", "", false, "", {}).matches(s, now));
  CHECK_FALSE(filter({}, "x*", "", "", "", false, "", {}).matches(s, now));
  CHECK(filter({}, "", "BOOK_PHONE", "", "", false, "", {}).matches(s, now));
  CHECK_FALSE(filter({}, "", "MENU", "", "", false, "", {}).matches(s, now));
  CHECK(filter({}, "", "", "1h", "", false, "", {}).matches(s, now));
  CHECK_FALSE(filter({}, "", "", "30m", "", false, "", {}).matches(s, now));  // 30m left is not below 30m
  CHECK(filter({}, "", "", "", "29m", false, "", {}).matches(s, now));
  CHECK_FALSE(filter({}, "", "", "", "30m", false, "", {}).matches(s, now));
  CHECK_FALSE(filter({}, "", "", "", "", true, "", {}).matches(s, now));
  CHECK(filter({}, "", "", "", "", false, "1h", {}).matches(s, now));  // idle 2h
  CHECK_FALSE(filter({}, "", "", "", "", false, "3h", {}).matches(s, now));
  CHECK(filter({}, "", "", "", "", false, "", {"data.email=m@example.com"}).matches(s, now));
  CHECK_FALSE(filter({}, "", "", "", "", false, "", {"data.email=m***@example.com"}).matches(s, now));
  CHECK(filter({}, "", "", "", "", false, "", {"data.email=m@example.com", "current=BOOK_PHONE"}).matches(s, now));
  CHECK_FALSE(filter({}, "", "", "", "", false, "", {"data.email=m@example.com", "current=MENU"}).matches(s, now));
  CHECK(filter({}, "", "", "", "", false, "", {"data.note=a=b"})
            .matches(btrix("n", R"({"data":{"note":"a=b"}})"), now));  // only the first '=' splits

  Session forever = btrix("f", R"({"current":"MENU"})", -1);
  CHECK(filter({}, "", "", "", "", true, "", {}).matches(forever, now));
  CHECK_FALSE(filter({}, "", "", "1h", "", false, "", {}).matches(forever, now));
  CHECK(filter({}, "", "", "", "1h", false, "", {}).matches(forever, now));  // no expiry: above any TTL
  Session quiet = btrix("q", R"({"current":"MENU"})");
  analyse_session(quiet);
  CHECK_FALSE(filter({}, "", "", "", "", false, "1s", {}).matches(quiet, now));  // no activity known

  CHECK(filter({"star*"}, "", "", "", "", false, "", {}).scan_id_glob() == "star\\*");
  CHECK(filter({}, "st*", "", "", "", false, "", {}).scan_id_glob() == "st*");
  CHECK(filter({}, "", "MENU", "", "", false, "", {}).needs_values());
  CHECK_FALSE(filter({}, "", "", "1h", "", false, "", {}).needs_values());

  CHECK_THROWS_AS(filter({}, "", "", "soon", "", false, "", {}), UsageError);
  CHECK_THROWS_AS(filter({}, "", "", "1h", "", true, "", {}), UsageError);
  CHECK_THROWS_AS(filter({}, "", "", "", "", false, "", {"novalue"}), UsageError);
  CHECK_THROWS_AS(filter({}, "", "", "", "", false, "", {"=x"}), UsageError);
}

TEST_CASE("values are presented decoded and masked unless revealed", "[session][value_view]") {
  StoredValue v;
  v.type = ValueType::string;
  v.raw = R"({"current":"BOOK_EMAIL","data":{"name":"John Doe","email":"john@example.com","phone":"+1 415 555 7890"}})";
  json masked = present_value(v, profile("btrix"), false);
  CHECK(masked["encoding"] == "json");
  CHECK(masked["value"]["data"]["email"] == "jo***@example.com");
  CHECK(masked["value"]["data"]["name"] == "J***");
  CHECK(masked["value"]["data"]["phone"] == "***7890");
  CHECK(masked["value"]["current"] == "BOOK_EMAIL");
  json revealed = present_value(v, profile("btrix"), true);
  CHECK(revealed["value"]["data"]["email"] == "john@example.com");

  StoredValue bin;
  bin.type = ValueType::string;
  bin.raw = std::string("\xff\x00\x01", 3);
  json b = present_value(bin, profile("btrix"), false);
  CHECK(b["encoding"] == "base64");
  CHECK(base64_decode(b["value"].get<std::string>()) == bin.raw);

  StoredValue text;
  text.type = ValueType::string;
  text.raw = "call me at +44 20 7946 0958";
  json t = present_value(text, nullptr, false);
  CHECK(t["encoding"] == "text");
  CHECK(t["value"].get<std::string>().find("7946 0958") == std::string::npos);

  StoredValue hist;
  hist.type = ValueType::list;
  hist.items = {R"({"client_input":"I need help","therapist_response":"ok"})", "plain text"};
  json h = present_value(hist, profile("trt"), false);
  CHECK(h["encoding"] == "items");
  CHECK(h["value"][0]["client_input"] == "[redacted: 11 chars]");
  CHECK(h["value"][1] == "plain text");

  StoredValue meta;
  meta.type = ValueType::hash;
  meta.fields = {{"user_agent", "curl/8.5.0"}, {"stage_1_completion", R"({"goal_stated":true})"}};
  json m = present_value(meta, profile("trt"), false);
  CHECK(m["encoding"] == "fields");
  CHECK(m["value"]["user_agent"] == "***");
  CHECK(m["value"]["stage_1_completion"]["goal_stated"] == true);

  StoredValue z;
  z.type = ValueType::zset;
  z.scored = {{"user_1", 1763780500.0}};
  json zj = present_value(z, profile("trt"), false);
  CHECK(zj["encoding"] == "members");
  CHECK(zj["value"][0]["member"] == "user_1");
  CHECK(zj["value"][0]["score"] == 1763780500.0);

  for (const std::string& raw :
       std::vector<std::string>{"", "f", "fo", "foo", "foob", std::string("\x00\xff\x10", 3)}) {
    CHECK(base64_decode(base64_encode(raw)) == raw);
  }
  CHECK(base64_encode("foobar") == "Zm9vYmFy");
  CHECK_THROWS_AS(base64_decode("abc"), UsageError);
}

TEST_CASE("decode_value: a nil reply is a key that vanished, not an empty value", "[session][scanner]") {
  redis::Reply nil;
  nil.type = redis::Reply::Type::nil;
  StoredValue out;
  CHECK_FALSE(decode_value(nil, KeyType::string, out));
  redis::Reply err;
  err.type = redis::Reply::Type::error;
  err.str = "WRONGTYPE Operation against a key holding the wrong kind of value";
  CHECK_FALSE(decode_value(err, KeyType::string, out));
  redis::Reply str;
  str.type = redis::Reply::Type::string;
  str.str = "{}";
  CHECK(decode_value(str, KeyType::string, out));
  CHECK(out.raw == "{}");
  redis::Reply hash;
  hash.type = redis::Reply::Type::array;
  for (const std::string s : {"a", "1", "b", "2"}) {
    redis::Reply e;
    e.type = redis::Reply::Type::string;
    e.str = s;
    hash.elements.push_back(e);
  }
  StoredValue h;
  CHECK(decode_value(hash, KeyType::hash, h));
  CHECK(h.fields == std::vector<std::pair<std::string, std::string>>{{"a", "1"}, {"b", "2"}});
}

TEST_CASE("shape: a btrix value is an object, its state a string, its data an object", "[session][shape]") {
  const auto problems_of = [](const std::string& raw) {
    Session s = btrix("x", raw);
    analyse_session(s, 1767434400.0);
    return s;
  };
  for (const std::string wrong :
       {"[1,2,3]", "42", "null", "\"just a string\"", "true", R"({"current":{"nested":["x"]},"data":[1,2]})",
        R"({"current":["MENU"]})", R"({"current":"MENU","data":[1,2]})", R"({"current":"MENU","data":"x"})",
        R"({"current":"MENU","data":5})", R"({"current":5})"}) {
    INFO(wrong);
    const Session s = problems_of(wrong);
    CHECK(s.problems == std::vector<std::string>{problem::wrong_shape});
    // A state that is there and a string is still shown; anything else is no state.
    CHECK(s.state.has_value() == (wrong.find(R"("current":"MENU")") != std::string::npos));
  }
  for (const std::string fine :
       {R"({})", R"({"current":"MENU"})", R"({"current":null,"data":{}})",
        R"({"current":"MENU","data":{"name":"Jo"},"history":[1],"extra":[{}]})", R"({"current":"MENU","data":null})"}) {
    INFO(fine);
    CHECK(problems_of(fine).problems.empty());
  }
  // Telegram: the state is a boolean its labels name; participants may be a list, votes an object.
  Session tg;
  tg.id = "t";
  tg.profile = profile("telegram");
  tg.keys.push_back(string_key("session:t", R"({"chatId":1,"open":false,"participants":["@a"],"votes":{}})", 1000));
  analyse_session(tg, 1767434400.0);
  CHECK(tg.problems.empty());
  CHECK(tg.state == "closed");
  tg.problems.clear();
  tg.keys[0].value->raw = R"({"chatId":1,"open":"yes","votes":[]})";
  analyse_session(tg, 1767434400.0);
  CHECK(tg.problems == std::vector<std::string>{problem::wrong_shape});  // votes.{keys} needs an object
}

TEST_CASE("activity times: bounded below, no future beyond clock skew, never wrapped", "[session][timestamp]") {
  const double now = 1767434400.0;  // 2026-01-03T10:00:00Z
  const auto activity = [&](const std::string& t) {
    Session s = btrix("x", R"({"current":"MENU","updatedAt":)" + t + "}");
    analyse_session(s, now);
    return s;
  };
  for (const std::string bad : {"1e300", "-1e300", "-5", "0", "946684799", "1767434701", "1767520800000", "\"NaN\"",
                                "\"nan\"", "\"inf\"", "\"-Infinity\"", "\"0x10\"", "\"\"", "\"soon\"", "[1]", "{}",
                                "true", "\"2026-01-03T10:06:00Z\"", "\"1999-12-31T23:59:59Z\""}) {
    INFO(bad);
    const Session s = activity(bad);
    CHECK(s.problems == std::vector<std::string>{problem::bad_timestamp});
    CHECK_FALSE(s.last_activity.has_value());
  }
  CHECK(activity("946684800").last_activity == 946684800.0);       // 2000-01-01: the earliest
  CHECK(activity("1767434700").last_activity == 1767434700.0);     // 5 minutes ahead: skew
  CHECK(activity("1767434400000").last_activity == 1767434400.0);  // milliseconds
  CHECK(activity("\"2026-01-03T09:00:00Z\"").problems.empty());
  CHECK(activity("null").problems.empty());  // no activity recorded is not a bad one
  // The TRT index score is held to the same bounds.
  Session t = trt({});
  t.keys[0].value->fields = {{"current_stage", "stage_1_goal"}};
  t.index_score = -5;
  analyse_session(t, now);
  CHECK(t.has_problem(problem::bad_timestamp));
  CHECK_FALSE(t.last_activity.has_value());
}

TEST_CASE("stats buckets: TTL as RedisInsight draws them, sizes by powers of two", "[session][stats]") {
  auto ttl_label = [](long long ms) { return ttl_histogram().labels[ttl_bucket(ms)]; };
  CHECK(ttl_histogram().labels == std::vector<std::string>{"none", "<1h", "1-4h", "4-12h", "12-24h", "1-7d", ">7d"});
  const long long h = 3'600'000;
  CHECK(ttl_label(-1) == "none");
  CHECK(ttl_label(0) == "<1h");
  CHECK(ttl_label(h - 1) == "<1h");
  CHECK(ttl_label(h) == "1-4h");
  CHECK(ttl_label(4 * h - 1) == "1-4h");
  CHECK(ttl_label(4 * h) == "4-12h");
  CHECK(ttl_label(12 * h) == "12-24h");
  CHECK(ttl_label(24 * h - 1) == "12-24h");
  CHECK(ttl_label(2 * 24 * h) == "1-7d");
  CHECK(ttl_label(8 * 24 * h) == ">7d");
  auto size_label = [](long long b) { return size_histogram().labels[size_bucket(b)]; };
  CHECK(size_label(0) == "<256B");
  CHECK(size_label(255) == "<256B");
  CHECK(size_label(256) == "256B-512B");
  CHECK(size_label(1500) == "1-2KiB");
  CHECK(size_label(20 * 1024 * 1024) == ">1MiB");

  ProfileStats ps;
  ps.profile = "btrix";
  Session a = btrix("a", R"({"current":"MENU"})");
  Session b = btrix("b", R"({"current":"BOOK_NAME","data":{"name":"Jo"}})", -1);
  analyse_session(a);
  analyse_session(b);
  ps.add(a);
  ps.add(b);
  CHECK(ps.sessions == 2);
  CHECK(ps.keys == 2);
  CHECK(ps.keys_without_ttl == 1);
  CHECK(ps.states == std::map<std::string, long long>{{"MENU", 1}, {"BOOK_NAME", 1}});
  CHECK(ps.problems == std::map<std::string, long long>{{problem::no_ttl, 1}});
  CHECK(ps.ttl.counts[0] == 1);
  CHECK(ps.ttl.counts[1] == 1);
  CHECK(ps.size_total == a.size() + b.size());
  CHECK(ps.size_average() == static_cast<double>(a.size() + b.size()) / 2);
  CHECK(ps.size_min == std::min(a.size(), b.size()));
  CHECK(ps.size_max == std::max(a.size(), b.size()));
}
