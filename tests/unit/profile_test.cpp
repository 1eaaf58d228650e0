// Profiles (built-in and from a file), key layouts and Redis glob matching: pure logic, no Redis.
#include "session/profile.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "session/key_pattern.h"
#include "util/errors.h"

using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
using nlohmann::json;
using namespace sessionctl;

namespace {

// The message of the UsageError `f` throws; fails the test when it throws nothing.
template <typename F>
std::string usage_error(F&& f) {
  try {
    f();
  } catch (const UsageError& e) {
    CHECK(e.code() == ExitCode::usage);
    return e.what();
  }
  FAIL("no UsageError thrown");
  return "";
}

std::string parse_error(const std::string& text) {
  return usage_error([&] { ProfileSet::parse(text, "p.json"); });
}

}  // namespace

TEST_CASE("the built-in profiles: the five seed stores, then the framework stores", "[profile]") {
  ProfileSet set = ProfileSet::builtin();
  std::vector<std::string> names;
  for (const auto& p : set.all()) names.push_back(p.name);
  CHECK(names == std::vector<std::string>{"btrix", "openvaa", "channels", "telegram", "trt", "connect-redis", "spring",
                                          "php", "django", "rails"});
  CHECK(set.find("spring")->primary.format == "jdk");
  CHECK(set.find("php")->match_key("PHPREDIS_SESSION:abc")->second == "abc");
  CHECK_FALSE(set.find("php")->match_key("PHPREDIS_SESSION:abc_LOCK").has_value());  // phpredis's lock key
  CHECK(set.find("django")->match_key(":1:django.contrib.sessions.cacheq8z")->second == "q8z");

  const Profile& btrix = *set.find("btrix");
  CHECK(btrix.primary.pattern.text() == "state:{id}");
  CHECK(btrix.primary.type == ValueType::string);
  CHECK(btrix.primary.encoding == Encoding::json);
  CHECK(btrix.default_ttl == std::chrono::hours(1));  // SESSION_STATE_TTL_SECONDS default 3600
  CHECK(btrix.max_ttl == std::chrono::hours(1));
  CHECK(btrix.sliding_ttl);
  CHECK(btrix.state_field == "current");
  CHECK(btrix.max_size == 2000u);  // seed 000: 500-2000 bytes
  CHECK(btrix.pii.size() == 3);

  const Profile& openvaa = *set.find("openvaa");
  CHECK(openvaa.primary.pattern.text() == "conversation:state:{id}");
  CHECK(openvaa.primary.encoding == Encoding::json_or_opaque);  // may be encrypted
  CHECK(openvaa.default_ttl == std::chrono::hours(24));
  CHECK(openvaa.id_format == "uuid");

  const Profile& channels = *set.find("channels");
  const Profile& telegram = *set.find("telegram");
  CHECK(channels.primary.pattern.text() == "session:{id}");
  CHECK(telegram.primary.pattern.text() == "session:{id}");
  CHECK(channels.needs_shape());
  CHECK(telegram.needs_shape());
  CHECK(channels.default_ttl == std::chrono::hours(1));
  CHECK(telegram.default_ttl == std::chrono::hours(24));
  REQUIRE(telegram.indexes.size() == 1);
  CHECK(telegram.indexes[0].kind == IndexSpec::Kind::pointer_key);
  CHECK(telegram.indexes[0].link_field == "chatId");

  const Profile& trt = *set.find("trt");
  CHECK(trt.primary.type == ValueType::hash);
  REQUIRE(trt.related.size() == 2);
  CHECK(trt.related[0].role == "history");
  CHECK(trt.related[0].type == ValueType::list);
  CHECK(trt.related[0].max_items == 50u);
  CHECK(trt.related[0].expects_ttl);
  CHECK(trt.related[1].role == "meta");
  CHECK_FALSE(trt.related[1].expects_ttl);  // the app never sets one on :meta
  REQUIRE(trt.indexes.size() == 1);
  CHECK(trt.indexes[0].pattern.text() == "trt:active_sessions");
  CHECK(trt.indexes[0].score_is_activity);
  CHECK(trt.max_ttl == std::chrono::hours(24));
}

TEST_CASE("profiles match their keys and only theirs", "[profile]") {
  ProfileSet set = ProfileSet::builtin();
  auto owner = [&](const std::string& key) {
    std::vector<std::string> out;
    for (const auto& p : set.all()) {
      if (auto m = p.match_key(key)) out.push_back(p.name + "/" + m->first->role + "/" + m->second);
    }
    return out;
  };
  CHECK(owner("state:abc123def456") == std::vector<std::string>{"btrix/state/abc123def456"});
  CHECK(owner("conversation:state:0b9d") == std::vector<std::string>{"openvaa/state/0b9d"});
  CHECK(owner("session:my-session") ==
        std::vector<std::string>{"channels/state/my-session", "telegram/state/my-session"});
  CHECK(owner("session:chat:-1001234567890").empty());  // an index, never a session
  CHECK(owner("trt:session:user_1:state") == std::vector<std::string>{"trt/state/user_1"});
  CHECK(owner("trt:session:user_1:history") == std::vector<std::string>{"trt/history/user_1"});
  CHECK(owner("trt:session:user_1:meta") == std::vector<std::string>{"trt/meta/user_1"});
  CHECK(owner("trt:active_sessions").empty());
  CHECK(owner("state:").empty());  // an empty id is no session
  CHECK(owner("key:123").empty());
  CHECK(owner("trt:session:a:b:state") == std::vector<std::string>{"trt/state/a:b"});

  CHECK(set.find("telegram")->match_index("session:chat:-42") != nullptr);
  CHECK(set.find("channels")->match_index("session:chat:-42") == nullptr);
  CHECK(set.find("trt")->match_index("trt:active_sessions") != nullptr);

  auto keys = set.find("trt")->keys_for("u1");
  REQUIRE(keys.size() == 3);
  CHECK(keys[0].second == "trt:session:u1:state");
  CHECK(keys[1].second == "trt:session:u1:history");
  CHECK(keys[2].second == "trt:session:u1:meta");
}

TEST_CASE("session:* values are claimed by shape", "[profile]") {
  ProfileSet set = ProfileSet::builtin();
  const Profile& channels = *set.find("channels");
  const Profile& telegram = *set.find("telegram");
  json ch = json::parse(R"({"data":{"count":5,"last_activity":1640995200.0},"created_at":1640991600.0,"ttl":3600})");
  json tg =
      json::parse(R"({"message":"Buy","participants":["@a"],"votes":{},"chatId":-100,"open":true,"proposals":[]})");
  CHECK(channels.shape_matches(ch));
  CHECK_FALSE(telegram.shape_matches(ch));
  CHECK(telegram.shape_matches(tg));
  CHECK_FALSE(channels.shape_matches(tg));
  CHECK_FALSE(channels.shape_matches(json::parse(R"({"data":{}})")));  // needs created_at or ttl too
  CHECK(telegram.shape_matches(json::parse(R"({"chatId":1})")));
  for (const auto& other : {json::array(), json("text"), json(5), json::parse(R"({"foo":1})")}) {
    CHECK_FALSE(channels.shape_matches(other));
    CHECK_FALSE(telegram.shape_matches(other));
  }
}

TEST_CASE("a profiles file in the built-in format loads", "[profile]") {
  ProfileSet set = ProfileSet::parse(R"({"profiles": [
    {"name": "connect", "key": "sess:{id}", "ttl": {"default": 86400, "max": "2d", "sliding": true},
     "state_field": "stage", "activity_field": "lastSeen", "max_size": 4096,
     "related": [{"role": "flash", "key": "sess:{id}:flash", "type": "list", "max_items": 10, "ttl": false}],
     "indexes": [{"role": "by_user", "key": "user:{uid}", "type": "pointer", "link": "user.id"},
                 {"key": "sess:active", "score": "last_activity"}],
     "shape": {"all": ["cookie"]}, "exclude": ["sess:active"],
     "pii": {"user.email": "email", "user.name": "name"}}
  ]})",
                                     "connect.json");
  REQUIRE(set.all().size() == 1);
  const Profile& p = set.all()[0];
  CHECK(p.primary.pattern.text() == "sess:{id}");
  CHECK(p.primary.type == ValueType::string);
  CHECK(p.primary.encoding == Encoding::json);  // the default for strings
  CHECK(p.default_ttl == std::chrono::hours(24));
  CHECK(p.max_ttl == std::chrono::hours(48));
  CHECK(p.sliding_ttl);
  CHECK(p.max_size == 4096u);
  REQUIRE(p.related.size() == 1);
  CHECK(p.related[0].encoding == Encoding::json_items);
  CHECK_FALSE(p.related[0].expects_ttl);
  CHECK(p.related[0].max_items == 10u);
  REQUIRE(p.indexes.size() == 2);
  CHECK(p.indexes[0].kind == IndexSpec::Kind::pointer_key);
  CHECK(p.indexes[1].kind == IndexSpec::Kind::zset_of_ids);
  CHECK(p.indexes[1].score_is_activity);
  CHECK_FALSE(p.match_key("sess:active").has_value());
  CHECK(p.match_key("sess:abc")->second == "abc");
  CHECK(p.pii.size() == 2);

  // Merged over the built-ins: a same-named profile replaces, a new one is added; --profile narrows.
  ProfileSet all = ProfileSet::builtin();
  all.merge(ProfileSet::parse(R"({"profiles":[{"name":"btrix","key":"bt:{id}"},{"name":"x","key":"x:{id}"}]})", "m"));
  const std::size_t builtins = ProfileSet::builtin().all().size();
  CHECK(all.all().size() == builtins + 1);
  CHECK(all.find("btrix")->primary.pattern.text() == "bt:{id}");
  CHECK(all.select({"x", "trt"}).all().size() == 2);
  CHECK(all.select({}).all().size() == builtins + 1);
  // A profile of the user's on a built-in layout comes first, so detection tries it first.
  all.merge(ProfileSet::parse(R"({"profiles":[{"name":"mine","key":"sess:{id}"}]})", "m"));
  const auto mine = std::find_if(all.all().begin(), all.all().end(), [](const Profile& q) { return q.name == "mine"; });
  const auto builtin =
      std::find_if(all.all().begin(), all.all().end(), [](const Profile& q) { return q.name == "connect-redis"; });
  CHECK(mine < builtin);
  std::string err = usage_error([&] { (void)all.select({"nope"}); });
  CHECK_THAT(err, Contains("nope") && Contains("btrix") && Contains("trt"));
}

TEST_CASE("profile file errors name the file, the line and the field", "[profile]") {
  CHECK_THAT(parse_error("{\n  \"profiles\": [\n    {\"name\": \"x\",\n  ]\n}\n"),
             StartsWith("p.json:4: not valid JSON"));
  CHECK_THAT(parse_error("[]"), StartsWith("p.json:1:") && Contains("\"profiles\""));
  CHECK_THAT(parse_error("{\"profiles\": {}}"), StartsWith("p.json:1:"));

  // The line of the offending field, even when the same field name appears earlier in the file.
  std::string related =
      "{\"profiles\": [\n"
      "  {\"name\": \"a\", \"key\": \"a:{id}\", \"type\": \"hash\",\n"
      "   \"related\": [\n"
      "     {\"key\": \"a:{id}:h\", \"type\": \"list\"},\n"
      "     {\"key\": \"a:{id}:m\", \"type\": \"hsh\"}\n"
      "   ]}\n"
      "]}\n";
  CHECK_THAT(parse_error(related), StartsWith("p.json:5: profile 'a', field 'related[1].type': unknown type 'hsh'"));

  // A missing field points at its profile, not at the same field of the next profile.
  std::string missing =
      "{\"profiles\": [\n"
      "  {\"name\": \"first\", \"type\": \"string\"},\n"
      "  {\"name\": \"second\", \"key\": \"b:{id}\"}\n"
      "]}\n";
  CHECK_THAT(parse_error(missing), StartsWith("p.json:2: profile 'first', field 'key': is required"));

  auto one = [](const std::string& body) {
    return "{\"profiles\": [\n{\"name\": \"p\", \"key\": \"p:{id}\",\n" + body + "}\n]}";
  };
  CHECK_THAT(parse_error(one("\"type\": \"strng\"")),
             StartsWith("p.json:3:") && Contains("'type'") && Contains("strng"));
  CHECK_THAT(parse_error(one("\"encoding\": \"yaml\"")), StartsWith("p.json:3:") && Contains("'encoding'"));
  CHECK_THAT(parse_error(one("\"ttl\": {\"default\": \"soon\"}")),
             StartsWith("p.json:3:") && Contains("'ttl.default'"));
  CHECK_THAT(parse_error(one("\"ttl\": {\"max\": -5}")), StartsWith("p.json:3:") && Contains("'ttl.max'"));
  CHECK_THAT(parse_error(one("\"ttl\": {\"sliding\": \"yes\"}")), StartsWith("p.json:3:") && Contains("'ttl.sliding'"));
  CHECK_THAT(parse_error(one("\"ttl\": \"1h\"")), StartsWith("p.json:3:") && Contains("'ttl'"));
  CHECK_THAT(parse_error(one("\"pii\": {\"data.email\": \"scramble\"}")),
             StartsWith("p.json:3:") && Contains("data.email"));
  CHECK_THAT(parse_error(one("\"id_format\": \"ulid\"")), StartsWith("p.json:3:") && Contains("'id_format'"));
  CHECK_THAT(parse_error(one("\"max_size\": \"big\"")), StartsWith("p.json:3:") && Contains("'max_size'"));
  CHECK_THAT(parse_error(one("\"related\": {\"key\": \"p:{id}:h\"}")),
             StartsWith("p.json:3:") && Contains("'related'"));
  CHECK_THAT(parse_error(one("\"related\": [{\"type\": \"list\"}]")),
             StartsWith("p.json:3:") && Contains("'related[0].key'"));
  CHECK_THAT(parse_error(one("\"indexes\": [{\"key\": \"i:{x}\", \"type\": \"pointer\"}]")),
             StartsWith("p.json:3:") && Contains("'indexes[0].link'"));
  CHECK_THAT(parse_error(one("\"indexes\": [{\"key\": \"i\", \"type\": \"btree\"}]")), Contains("'indexes[0].type'"));
  CHECK_THAT(parse_error(one("\"shape\": {\"any\": [1]}")), StartsWith("p.json:3:") && Contains("shape.any"));
  CHECK_THAT(parse_error(one("\"state_labels\": [\"open\"]")), StartsWith("p.json:3:") && Contains("'state_labels'"));
  // A misspelt field is an error, not silently ignored: "PII" would otherwise leave e-mails unmasked.
  CHECK_THAT(parse_error(one("\"PII\": {\"data.email\": \"email\"}")),
             StartsWith("p.json:3:") && Contains("'PII'") && Contains("unknown field") && Contains("pii"));
  CHECK_THAT(parse_error(one("\"ttl\": {\"defualt\": \"1h\"}")), StartsWith("p.json:3:") && Contains("'ttl.defualt'"));
  CHECK_THAT(parse_error(one("\"related\": [{\"key\": \"p:{id}:h\", \"tll\": false}]")), Contains("'related[0].tll'"));
  CHECK_THAT(parse_error(one("\"indexes\": [{\"key\": \"i\", \"scor\": \"x\"}]")), Contains("'indexes[0].scor'"));
  CHECK_THAT(parse_error("{\"profiles\": [], \"profile\": []}"), Contains("unknown top-level field 'profile'"));
  CHECK_NOTHROW(ProfileSet::parse(one("\"_comment\": \"why\", \"$note\": 1"), "p.json"));
  CHECK_THAT(parse_error("{\"profiles\": [{\"name\": \"p\", \"key\": \"p:fixed\"}]}"),
             Contains("'key'") && Contains("{id}"));
  CHECK_THAT(parse_error("{\"profiles\": [{\"name\": \"p\", \"key\": \"p:{a}:{b}\"}]}"), Contains("'key'"));
  CHECK_THAT(parse_error("{\"profiles\": [{\"name\": \"two words\", \"key\": \"p:{id}\"}]}"), Contains("'name'"));
  CHECK_THAT(parse_error(
                 "{\"profiles\": [\n{\"name\": \"p\", \"key\": \"p:{id}\"},\n{\"name\": \"p\", \"key\": \"q:{id}\"}]}"),
             StartsWith("p.json:3:") && Contains("twice"));
  CHECK_THAT(parse_error("{\"profiles\": [\"btrix\"]}"), StartsWith("p.json:1:"));

  std::string missing_file = usage_error([] { ProfileSet::load_file("/nonexistent/profiles.json"); });
  CHECK_THAT(missing_file, Contains("/nonexistent/profiles.json"));
}

TEST_CASE("key patterns build, match and glob-escape keys", "[profile][key_pattern]") {
  KeyPattern p("trt:session:{id}:state");
  CHECK(p.has_placeholder());
  CHECK(p.placeholder() == "id");
  CHECK(p.prefix() == "trt:session:");
  CHECK(p.match("trt:session:u1:state") == "u1");
  CHECK_FALSE(p.match("trt:session::state").has_value());
  CHECK_FALSE(p.match("trt:session:u1:history").has_value());
  CHECK(p.key_for("a b") == "trt:session:a b:state");
  CHECK(p.scan_glob() == "trt:session:*:state");
  CHECK(KeyPattern("trt:active_sessions").match("trt:active_sessions") == "");
  CHECK_FALSE(KeyPattern("trt:active_sessions").match("trt:active_session").has_value());
  CHECK(KeyPattern("a*[b]:{id}").scan_glob() == "a\\*\\[b\\]:*");
  for (const std::string id : {"star*", "q?", "[x]", "back\\slash", "new\nline", "ünï"}) {
    CHECK(KeyPattern("state:{id}").match(KeyPattern("state:{id}").key_for(id)) == id);
    CHECK(glob_match(glob_escape(id), id));
  }
  CHECK_FALSE(glob_match(glob_escape("star*"), "starlight"));
  CHECK_THROWS_AS(KeyPattern("a:{id}:{x}"), UsageError);
  CHECK_THROWS_AS(KeyPattern("a:{}"), UsageError);
  CHECK_THROWS_AS(KeyPattern("a:{id"), UsageError);
}

TEST_CASE("glob_match follows Redis's rules", "[profile][key_pattern]") {
  CHECK(glob_match("*", ""));
  CHECK(glob_match("test-*", "test-456"));
  CHECK_FALSE(glob_match("test-*", "atest-456"));
  CHECK(glob_match("*-*-*", "a-b-c"));
  CHECK(glob_match("?ello", "hello"));
  CHECK_FALSE(glob_match("?ello", "ello"));
  CHECK(glob_match("h[ae]llo", "hallo"));
  CHECK_FALSE(glob_match("h[ae]llo", "hillo"));
  CHECK(glob_match("h[^e]llo", "hallo"));
  CHECK_FALSE(glob_match("h[^e]llo", "hello"));
  CHECK(glob_match("user_[0-9]*", "user_67890"));
  CHECK_FALSE(glob_match("user_[0-9]*", "user_x"));
  CHECK(glob_match("a\\*b", "a*b"));
  CHECK_FALSE(glob_match("a\\*b", "axb"));
  CHECK(glob_match("*abc", "ababc"));  // backtracking on the last '*'
  CHECK(glob_match("a*b*c", "axxbyyc"));
  CHECK_FALSE(glob_match("a*b*c", "axxbyy"));
}

TEST_CASE("json_path reads dotted paths", "[profile]") {
  json doc = json::parse(R"({"data":{"email":"a@b.c","n":5},"proposals":[{"id":"p1"}],"a.b":1})");
  REQUIRE(json_path(doc, "data.email") != nullptr);
  CHECK(*json_path(doc, "data.email") == "a@b.c");
  CHECK(*json_path(doc, "proposals.0.id") == "p1");
  CHECK(json_path(doc, "proposals.1.id") == nullptr);
  CHECK(json_path(doc, "data.missing") == nullptr);
  CHECK(json_path(doc, "data.email.x") == nullptr);
  CHECK(json_path(json("text"), "a") == nullptr);
  CHECK(value_type_name(ValueType::zset) == "zset");
}

TEST_CASE("a profiles file with a number too large for a double is a usage error, not an internal one", "[profile]") {
  // Found by fuzz/profiles: nlohmann throws out_of_range, not parse_error, for such a number.
  for (const char* text :
       {"66666.666e6666661", R"({"profiles": [{"name": "x", "key": "x:{id}", "max_size": 1e999}]})"}) {
    INFO(text);
    CHECK_THROWS_AS(sessionctl::ProfileSet::parse(text, "big.json"), sessionctl::UsageError);
  }
}
