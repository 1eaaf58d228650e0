#include "codec/php_session.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <cmath>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "json/probe.h"

using sessionctl::detect_php_handler;
using sessionctl::for_each_string;
using sessionctl::parse_php_session;
using sessionctl::PhpHandler;
using sessionctl::PhpKind;
using sessionctl::PhpParseError;
using sessionctl::PhpSession;

namespace {

PhpSession parsed(const std::string& bytes, PhpHandler h) {
  PhpParseError error;
  auto session = parse_php_session(bytes, h, &error);
  INFO(bytes << " refused at " << error.offset << ": " << error.reason);
  REQUIRE(session);
  return *session;
}

// Replaces the string at `path` with `value`; fails the test when there is none.
void set_string(PhpSession& session, const std::string& path, const std::string& value) {
  int found = 0;
  for_each_string(session, [&](const std::string& p, std::string& v) {
    if (p == path) {
      v = value;
      ++found;
    }
  });
  INFO(path);
  REQUIRE(found == 1);
}

using namespace std::string_literals;

// Bytes as PHP 8.2's serialize() and session_encode() wrote them (see the integration test).
const std::string kObject = "O:1:\"P\":3:{s:1:\"a\";i:1;s:4:\"\0*\0b\";s:1:\"x\";s:4:\"\0P\0c\";N;}"s;
const std::string kEveryKind =
    "a:13:{i:0;"s + kObject +
    "i:1;E:11:\"Suit:Hearts\";i:2;d:1.5;i:3;d:-0;i:4;d:INF;i:5;d:NAN;i:6;d:1.0E+300;i:7;d:0.1;"
    "i:8;a:1:{i:0;i:1;}i:9;R:13;i:10;O:8:\"stdClass\":0:{}i:11;r:15;i:12;C:3:\"Foo\":5:{a;b:c}}";

}  // namespace

TEST_CASE("php_session: php handler reads name|value pairs", "[php_session]") {
  const std::string bytes = R"(user|s:5:"alice";count|i:3;flag|b:1;none|N;)";
  const PhpSession s = parsed(bytes, PhpHandler::php);
  REQUIRE(s.variables.size() == 4);
  CHECK(s.variables[0].key == "user");
  CHECK(s.variables[0].value.kind == PhpKind::string);
  CHECK(s.variables[0].value.text == "alice");
  CHECK(s.variables[1].value.integer == 3);
  CHECK(s.variables[2].value.boolean);
  CHECK(s.variables[3].value.kind == PhpKind::null);
  CHECK(serialize(s) == bytes);
  CHECK(to_json(s) == nlohmann::json{{"user", "alice"}, {"count", 3}, {"flag", true}, {"none", nullptr}});
  CHECK(detect_php_handler(bytes) == PhpHandler::php);
}

TEST_CASE("php_session: php_serialize handler reads one array of variables", "[php_session]") {
  const std::string bytes = R"(a:2:{s:4:"user";s:5:"alice";s:5:"count";i:3;})";
  const PhpSession s = parsed(bytes, PhpHandler::php_serialize);
  REQUIRE(s.variables.size() == 2);
  CHECK(serialize(s) == bytes);
  CHECK(to_json(s) == nlohmann::json{{"user", "alice"}, {"count", 3}});
  CHECK(detect_php_handler(bytes) == PhpHandler::php_serialize);
  // Integer keys at the top stay object keys: the variables are always an object.
  CHECK(to_json(parsed("a:1:{i:0;s:1:\"x\";}", PhpHandler::php_serialize)) == nlohmann::json{{"0", "x"}});
}

TEST_CASE("php_session: empty sessions", "[php_session]") {
  const PhpSession php = parsed("", PhpHandler::php);
  CHECK(php.variables.empty());
  CHECK(serialize(php).empty());
  CHECK(to_json(php) == nlohmann::json::object());
  const PhpSession ser = parsed("a:0:{}", PhpHandler::php_serialize);
  CHECK(serialize(ser) == "a:0:{}");
  CHECK(detect_php_handler("") == PhpHandler::php);
  CHECK(detect_php_handler("a:0:{}") == PhpHandler::php_serialize);
}

TEST_CASE("php_session: every value kind is read, shown and written back", "[php_session]") {
  const PhpSession s = parsed(kEveryKind, PhpHandler::php_serialize);
  CHECK(serialize(s) == kEveryKind);
  const std::vector<PhpKind> kinds = {
      PhpKind::object,   PhpKind::enum_case,        PhpKind::floating, PhpKind::floating, PhpKind::floating,
      PhpKind::floating, PhpKind::floating,         PhpKind::floating, PhpKind::array,    PhpKind::reference,
      PhpKind::object,   PhpKind::object_reference, PhpKind::custom};
  REQUIRE(s.variables.size() == kinds.size());
  for (std::size_t i = 0; i < kinds.size(); ++i) CHECK(s.variables[i].value.kind == kinds[i]);
  CHECK(std::signbit(s.variables[3].value.floating));
  CHECK(std::isnan(s.variables[5].value.floating));
  CHECK(s.variables[6].value.floating == 1e300);
  CHECK(s.variables[12].value.data == "a;b:c");

  nlohmann::json j = to_json(s);
  CHECK(j["0"] == nlohmann::json{{"__class", "P"}, {"a", 1}, {"b", "x"}, {"c", nullptr}});
  CHECK(j["1"] == nlohmann::json{{"__enum", "Suit:Hearts"}});
  CHECK(j["2"] == 1.5);
  CHECK(j["4"] == "INF");
  CHECK(j["5"] == "NAN");
  CHECK(j["8"] == nlohmann::json::array({1}));
  CHECK(j["9"] == nlohmann::json{{"__R", 13}});
  CHECK(j["10"] == nlohmann::json{{"__class", "stdClass"}});
  CHECK(j["11"] == nlohmann::json{{"__r", 15}});
  CHECK(j["12"] == nlohmann::json{{"__class", "Foo"}, {"__custom", "a;b:c"}});
  CHECK_NOTHROW(j.dump());
}

TEST_CASE("php_session: integers, floats and booleans in their edge forms", "[php_session]") {
  for (const std::string v : {"i:9223372036854775807;", "i:-9223372036854775808;", "i:+5;", "i:007;", "d:-INF;",
                              "d:1.;", "d:.5;", "d:-1e-5;", "d:1e999;", "d:+2.5E+3;", "b:0;"}) {
    const std::string bytes = "x|" + v;
    CHECK(serialize(parsed(bytes, PhpHandler::php)) == bytes);
  }
  CHECK(parsed("x|i:-9223372036854775808;", PhpHandler::php).variables[0].value.integer == INT64_MIN);
  CHECK(parsed("x|i:+5;", PhpHandler::php).variables[0].value.integer == 5);
  CHECK(parsed("x|d:+2.5E+3;", PhpHandler::php).variables[0].value.floating == 2500.0);
  CHECK(to_json(parsed("x|d:1e999;", PhpHandler::php))["x"] == "INF");
  for (const std::string v :
       {"i:9223372036854775808;", "i:-9223372036854775809;", "i:99999999999999999999999;", "i:;", "i:-;", "i:1.5;",
        "d:;", "d:.;", "d:1e;", "d:0x10;", "d:inf;", "b:2;", "b:;", "N", "r:0;", "R:-1;"}) {
    INFO(v);
    CHECK_FALSE(parse_php_session("x|" + v, PhpHandler::php));
  }
}

TEST_CASE("php_session: one changed string is re-encoded with its byte length, the rest kept", "[php_session]") {
  const std::string bytes = R"(user|s:5:"alice";cart|a:2:{i:0;s:3:"pen";i:1;d:0.10000000000000001;}n|i:1;)";
  PhpSession s = parsed(bytes, PhpHandler::php);
  set_string(s, "cart.0", "crème");
  CHECK(serialize(s) == R"(user|s:5:"alice";cart|a:2:{i:0;s:6:"crème";i:1;d:0.10000000000000001;}n|i:1;)");
  set_string(s, "user", "");
  CHECK(serialize(s) == R"(user|s:0:"";cart|a:2:{i:0;s:6:"crème";i:1;d:0.10000000000000001;}n|i:1;)");
  // The new bytes parse back to the new value.
  const PhpSession again = parsed(serialize(s), PhpHandler::php);
  CHECK(to_json(again)["cart"][0] == "crème");

  PhpSession ser = parsed(kEveryKind, PhpHandler::php_serialize);
  set_string(ser, "0.b", "yz");
  std::string expected = kEveryKind;
  expected.replace(expected.find("s:1:\"x\""), 7, "s:2:\"yz\"");
  CHECK(serialize(ser) == expected);
}

TEST_CASE("php_session: strings hold quotes, semicolons, pipes, NUL and multi-byte UTF-8, counted in bytes",
          "[php_session]") {
  const std::string tricky = "a\";b|c\0d}"s;
  const std::string bytes = "t|s:9:\"" + tricky + "\";u|s:6:\"h\xc3\xa9\xe2\x82\xac\";";
  const PhpSession s = parsed(bytes, PhpHandler::php);
  REQUIRE(s.variables.size() == 2);
  CHECK(s.variables[0].value.text == tricky);
  CHECK(s.variables[1].value.text == "h\xc3\xa9\xe2\x82\xac");
  CHECK(serialize(s) == bytes);
  CHECK(to_json(s)["u"] == "h\xc3\xa9\xe2\x82\xac");
  // The length counts bytes: 4 characters are 6 bytes, so s:4 is refused.
  CHECK_FALSE(parse_php_session("u|s:4:\"h\xc3\xa9\xe2\x82\xac\";", PhpHandler::php));

  PhpSession changed = s;
  set_string(changed, "t", "\";\0"s);
  CHECK(serialize(changed) == "t|s:3:\"\";\0\";u|s:6:\"h\xc3\xa9\xe2\x82\xac\";"s);
}

TEST_CASE("php_session: bytes that are not UTF-8 are marked in the JSON view", "[php_session]") {
  const std::string bytes = "bin|s:2:\"\xff\xfe\";\xff|i:1;obj|O:2:\"\xc3(\":0:{}"s;
  const PhpSession s = parsed(bytes, PhpHandler::php);
  nlohmann::json j = to_json(s);
  CHECK(j["bin"] == nlohmann::json{{"__bytes_base64", "//4="}});
  CHECK(j["__bytes_base64:/w=="] == 1);
  CHECK(j["obj"]["__class"] == "__bytes_base64:wyg=");
  CHECK_NOTHROW(j.dump());
  CHECK(serialize(s) == bytes);
}

TEST_CASE("php_session: object properties drop visibility prefixes unless names would collide", "[php_session]") {
  const std::string bytes = "o|O:1:\"C\":3:{s:4:\"\0*\0p\";s:1:\"a\";s:4:\"\0C\0p\";s:1:\"b\";s:1:\"q\";s:1:\"c\";}"s;
  PhpSession s = parsed(bytes, PhpHandler::php);
  nlohmann::json j = to_json(s);
  CHECK(j["o"]["\0*\0p"s] == "a");
  CHECK(j["o"]["\0C\0p"s] == "b");
  CHECK(j["o"]["q"] == "c");
  std::vector<std::string> paths;
  for_each_string(s, [&](const std::string& path, std::string&) { paths.push_back(path); });
  CHECK(paths == std::vector<std::string>{"o.\0*\0p"s, "o.\0C\0p"s, "o.q"});
}

TEST_CASE("php_session: arrays: lists as JSON arrays, others as objects by key text", "[php_session]") {
  const PhpSession s =
      parsed(R"(l|a:2:{i:0;s:1:"a";i:1;s:1:"b";}g|a:2:{i:1;s:1:"a";i:0;s:1:"b";}m|a:2:{i:0;i:1;s:1:"k";i:2;}e|a:0:{})",
             PhpHandler::php);
  nlohmann::json j = to_json(s);
  CHECK(j["l"] == nlohmann::json::array({"a", "b"}));
  CHECK(j["g"] == nlohmann::json{{"1", "a"}, {"0", "b"}});
  CHECK(j["m"] == nlohmann::json{{"0", 1}, {"k", 2}});
  CHECK(j["e"] == nlohmann::json::array());
}

TEST_CASE("php_session: for_each_string visits every string leaf with its dotted path", "[php_session]") {
  PhpSession s = parsed(
      R"(a:3:{s:4:"user";a:2:{s:5:"email";s:3:"a@b";s:4:"tags";a:1:{i:0;s:1:"x";}}s:1:"n";i:1;s:1:"o";O:1:"K":1:{s:4:"name";s:1:"y";}})",
      PhpHandler::php_serialize);
  std::vector<std::string> paths;
  for_each_string(s, [&](const std::string& path, std::string& value) { paths.push_back(path + "=" + value); });
  CHECK(paths == std::vector<std::string>{"user.email=a@b", "user.tags.0=x", "o.name=y"});
  // Keys, class names and custom data are not leaves.
  PhpSession c = parsed(R"(c|C:3:"Foo":3:{abc}e|E:3:"A:B";)", PhpHandler::php);
  int visits = 0;
  for_each_string(c, [&](const std::string&, std::string&) { ++visits; });
  CHECK(visits == 0);
}

TEST_CASE("php_session: PHP 5 undefined variables and PHP 7 names starting with an exclamation mark", "[php_session]") {
  const PhpSession old = parsed(R"(!gone|kept|i:1;!last|)", PhpHandler::php);
  REQUIRE(old.variables.size() == 3);
  CHECK(old.variables[0].key == "gone");
  CHECK(old.variables[0].value.kind == PhpKind::undefined);
  CHECK(old.variables[2].value.kind == PhpKind::undefined);
  CHECK(to_json(old) == nlohmann::json{{"gone", nullptr}, {"kept", 1}, {"last", nullptr}});
  CHECK(serialize(old) == R"(!gone|kept|i:1;!last|)");
  const PhpSession modern = parsed(R"(!x|i:1;)", PhpHandler::php);
  REQUIRE(modern.variables.size() == 1);
  CHECK(modern.variables[0].key == "!x");
  CHECK(modern.variables[0].value.integer == 1);
}

TEST_CASE("php_session: malformed sessions are refused with the offset", "[php_session]") {
  const std::string good = R"(user|s:5:"alice";cart|a:1:{i:0;O:1:"K":1:{s:1:"p";d:1.5;}})";
  // Every proper prefix that does not end between two variables is refused.
  for (std::size_t n = 1; n < good.size(); ++n) {
    const std::string cut = good.substr(0, n);
    if (cut == R"(user|s:5:"alice";)") continue;
    INFO(cut);
    CHECK_FALSE(parse_php_session(cut, PhpHandler::php));
  }
  const std::vector<std::string> bad = {
      "user",                  // no '|'
      R"(user|s:6:"alice";)",  // length beyond the content
      R"(user|s:4:"alice";)",  // length short of it
      R"(user|s:99999999999999999999:"a";)",
      R"(user|S:5:"alice";)",   // the escaped S: form is not read
      R"(a|a:1:{i:0;i:1;)",     // no '}'
      R"(a|a:1:{d:0.5;i:1;})",  // keys are i: or s: only
      R"(a|a:2:{i:0;i:1;})",    // fewer members than declared
      R"(a|a:0:{i:0;i:1;})",    // more
      R"(o|O:1:"K":1:{s:1:"p";i:1;)",
      R"(c|C:3:"Foo":9:{abc})",  // custom length beyond the end
      R"(e|E:4:"Suit";)",        // no ':' between enum and case
      R"(x|i:1;trailing)",       // bytes that are no variable
      "x|i:1;\xff",
  };
  for (const auto& b : bad) {
    INFO(b);
    PhpParseError error;
    CHECK_FALSE(parse_php_session(b, PhpHandler::php, &error));
    CHECK(error.offset <= b.size());
    CHECK_FALSE(error.reason.empty());
  }
  PhpParseError error;
  CHECK_FALSE(parse_php_session(R"(user|s:5:"alice";n|i:x;)", PhpHandler::php, &error));
  CHECK(error.offset == 21);
  // php_serialize: one array, nothing after it.
  CHECK_FALSE(parse_php_session(R"(s:1:"a";)", PhpHandler::php_serialize));
  CHECK_FALSE(parse_php_session(R"(a:0:{}a:0:{})", PhpHandler::php_serialize));
  CHECK_FALSE(parse_php_session(R"(a:0:{} )", PhpHandler::php_serialize));
  CHECK_FALSE(detect_php_handler(R"(a:0:{)"));
}

TEST_CASE("php_session: huge declared counts and lengths are refused before allocating", "[php_session]") {
  const auto start = std::chrono::steady_clock::now();
  for (const std::string b : {"a|a:999999999:{", "a|a:999999999:{i:0;i:1;}", "a|a:18446744073709551615:{}",
                              "a|a:18446744073709551616:{}", "a|s:999999999:\"", "a|s:18446744073709551615:\"x\";",
                              "a|O:1:\"K\":999999999:{}", "a|C:1:\"K\":999999999:{}", "a|E:999999999:\"a:b\";"}) {
    INFO(b);
    CHECK_FALSE(parse_php_session(b, PhpHandler::php));
  }
  CHECK_FALSE(parse_php_session("a:999999999:{", PhpHandler::php_serialize));
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(1));
}

TEST_CASE("php_session: nesting is bounded so that the JSON view stays within the JSON depth limit", "[php_session]") {
  // The deepest accepted session, with a marked (non-UTF-8) leaf at the bottom.
  auto nested = [](int depth, const std::string& leaf) {
    std::string s = "x|";
    for (int i = 0; i < depth; ++i) s += "a:1:{i:0;";
    s += leaf;
    for (int i = 0; i < depth; ++i) s += "}";
    return s;
  };
  const std::string deepest = nested(sessionctl::kMaxPhpDepth, "s:1:\"\xff\";");
  const PhpSession s = parsed(deepest, PhpHandler::php);
  CHECK(serialize(s) == deepest);
  CHECK(sessionctl::probe_json(to_json(s).dump(), {}).valid);
  PhpParseError error;
  CHECK_FALSE(parse_php_session(nested(sessionctl::kMaxPhpDepth + 1, "N;"), PhpHandler::php, &error));
  CHECK(error.reason.find("deeper") != std::string::npos);
  // A depth bomb far beyond the limit is refused quickly and without exhausting the stack.
  std::string bomb = "x|";
  for (int i = 0; i < 100000; ++i) bomb += "a:1:{i:0;";
  CHECK_FALSE(parse_php_session(bomb, PhpHandler::php));
  // The same limit for php_serialize, whose outer array is the session itself.
  std::string ser = "a:1:{i:0;";
  for (int i = 0; i < sessionctl::kMaxPhpDepth; ++i) ser += "a:1:{i:0;";
  ser += "N;";
  ser += std::string(sessionctl::kMaxPhpDepth + 1, '}');
  CHECK(parse_php_session(ser, PhpHandler::php_serialize));
  CHECK_FALSE(parse_php_session("a:1:{i:0;" + ser + "}", PhpHandler::php_serialize));
}

TEST_CASE("php_session: a large flat session parses fast", "[php_session]") {
  std::string bytes;
  for (int i = 0; i < 100000; ++i) bytes += "v" + std::to_string(i) + "|s:5:\"hello\";";
  const auto start = std::chrono::steady_clock::now();
  const PhpSession s = parsed(bytes, PhpHandler::php);
  CHECK(serialize(s) == bytes);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(2));
}

TEST_CASE("php_session: php_binary handler reads length-prefixed names", "[php_session]") {
  const std::string bytes =
      "\x04users:5:\"alice\";\x05"
      "counti:3;\x84gone\x04kepti:1;\x03!x|N;"s;
  const PhpSession s = parsed(bytes, PhpHandler::php_binary);
  REQUIRE(s.variables.size() == 5);
  CHECK(s.variables[2].key == "gone");
  CHECK(s.variables[2].value.kind == PhpKind::undefined);
  CHECK(s.variables[4].key == "!x|");
  CHECK(to_json(s) ==
        nlohmann::json{{"user", "alice"}, {"count", 3}, {"gone", nullptr}, {"kept", 1}, {"!x|", nullptr}});
  CHECK(serialize(s) == bytes);
  CHECK(detect_php_handler(bytes.substr(0, bytes.find('\x03'))) == PhpHandler::php_binary);
  // With a '|' in it the same bytes also read as one php variable, and detection prefers php: a
  // profile that knows its handler should name it.
  CHECK(detect_php_handler(bytes) == PhpHandler::php);
  // A name byte with bit 7 and a value after it is PHP 7's reading: the mark ignored.
  CHECK(parsed("\x81xi:1;", PhpHandler::php_binary).variables[0].value.integer == 1);

  PhpSession changed = s;
  set_string(changed, "user", "bob");
  CHECK(serialize(changed) ==
        "\x04users:3:\"bob\";\x05"
        "counti:3;\x84gone\x04kepti:1;\x03!x|N;"s);

  CHECK(parsed("", PhpHandler::php_binary).variables.empty());
  for (const std::string& b : {"\x05user"s, "\x04user"s, "\x04users:5:\"alice\""s, "\x7f"s, "\x04userX"s}) {
    INFO(b);
    CHECK_FALSE(parse_php_session(b, PhpHandler::php_binary));
  }
}
