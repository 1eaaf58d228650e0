#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "json/probe.h"

using sessionctl::probe_json;

TEST_CASE("probe_json validates like a full parser", "[json_probe]") {
  const std::vector<std::string> good = {R"({})",
                                         R"([])",
                                         R"("x")",
                                         "0",
                                         "-1.5e+3",
                                         "true",
                                         "null",
                                         R"({"a":[1,2,{"b":"c"}],"d":"\u00e9\ud83d\ude00"})",
                                         " \n{\"k\" : \"v\"}\t",
                                         R"({"emoji":"😀","name":"Émile"})"};
  const std::vector<std::string> bad = {"",
                                        "{",
                                        R"({"a":})",
                                        R"({"a":1,})",
                                        "[1,]",
                                        "01",
                                        "1.",
                                        "-",
                                        "tru",
                                        R"("unterminated)",
                                        R"({"a":1} x)",
                                        "{'a':1}",
                                        "\"\\x\"",
                                        "\"\\ud800\"",
                                        std::string("\"\xff\""),
                                        "not json at all",
                                        R"({"a" 1})",
                                        "[1 2]"};
  for (const auto& text : good) {
    INFO(text);
    CHECK(probe_json(text, {}).valid);
    CHECK(nlohmann::json::accept(text));
  }
  for (const auto& text : bad) {
    INFO(text);
    CHECK_FALSE(probe_json(text, {}).valid);
    CHECK_FALSE(nlohmann::json::accept(text));
  }
}

TEST_CASE("probe_json extracts values by dotted path", "[json_probe]") {
  const std::string doc =
      R"({"current":"BOOK_EMAIL","data":{"email":"jo\"hn@example.com","n":5,"nested":{"x":[1,2]}},"open":true,)"
      R"("items":[{"id":"a"},{"id":"b"}],"updatedAt":"2026-11-22T03:10:00Z"})";
  auto p = probe_json(
      doc, {"current", "data.email", "data.n", "open", "items.1.id", "data.nested", "missing", "data.nested.x.1"},
      true);
  REQUIRE(p.valid);
  CHECK(p.object);
  CHECK(*p.values[0] == "BOOK_EMAIL");
  CHECK(*p.values[1] == "jo\"hn@example.com");  // unescaped
  CHECK(*p.values[2] == "5");                   // non-strings as raw JSON text
  CHECK(*p.values[3] == "true");
  CHECK(*p.values[4] == "b");
  CHECK(*p.values[5] == R"({"x":[1,2]})");
  CHECK_FALSE(p.values[6].has_value());
  CHECK(*p.values[7] == "2");
  CHECK(p.top_keys == std::vector<std::string>{"current", "data", "open", "items", "updatedAt"});
}

TEST_CASE("probe_json refuses nesting beyond the limit without overflowing, and says why", "[json_probe]") {
  // Issue 11: 100,000 levels crashed inspect. Refused at the limit, so the stack stays bounded.
  for (const char open : {'[', '{'}) {
    std::string deep;
    for (int i = 0; i < 100000; ++i) deep += open == '[' ? "[" : "{\"a\":";
    deep += open == '[' ? std::string(100000, ']') : "1" + std::string(100000, '}');
    const auto p = probe_json(deep, {"a"});
    CHECK_FALSE(p.valid);
    CHECK(p.too_deep);
    CHECK(p.error.find("nested deeper than 64 levels") == 0);
    CHECK_FALSE(sessionctl::parse_json(deep).has_value());
  }
  const auto nest = [](int levels) { return std::string(levels, '[') + std::string(levels, ']'); };
  CHECK(probe_json(nest(sessionctl::kMaxJsonDepth), {}).valid);
  CHECK(sessionctl::parse_json(nest(sessionctl::kMaxJsonDepth)).has_value());
  const auto over = probe_json(nest(sessionctl::kMaxJsonDepth + 1), {});
  CHECK_FALSE(over.valid);
  CHECK(over.too_deep);
  CHECK(over.error == "nested deeper than 64 levels at byte 64");
  // Deep but inside the limit under a wanted path still extracts it.
  CHECK(*probe_json(R"({"a":)" + nest(60) + "}", {"a"}).values[0] == nest(60));
}

TEST_CASE("probe_json: the one strict UTF-8 validator inside strings", "[json_probe][utf8]") {
  // Issue 6 item 5: the probe took overlong forms that every other decoder refused.
  for (const std::string bad : {"\xc0\xaf", "\xc1\xbf", "\xe0\x80\xaf", "\xf0\x80\x80\xaf", "\xed\xa0\x80",
                                "\xed\xbf\xbf", "\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "\xff", "\x80", "\xc3"}) {
    const auto p = probe_json("{\"current\":\"" + bad + "\"}", {"current"});
    CHECK_FALSE(p.valid);
    CHECK(p.error == "invalid UTF-8 at byte 12");
  }
  CHECK(probe_json("{\"current\":\"\xf4\x8f\xbf\xbf \xe2\x82\xac\"}", {}).valid);
  CHECK(probe_json("{\"current\":\"x\"", {}).error == "unexpected end of text at byte 14");
  CHECK(probe_json("{\"current\":x}", {}).error == "syntax error at byte 11");
  CHECK(probe_json("{} {}", {}).error == "text after the value at byte 3");
}

TEST_CASE("probe_json: kinds of wanted values, nothing inside an unwanted container matches", "[json_probe]") {
  const auto p = probe_json(R"({"current":{"nested":["x"]},"data":[1,{"data":2}],"n":null,"b":true,"s":"t","x":-1})",
                            {"current", "data", "n", "b", "s", "x", "missing"});
  REQUIRE(p.valid);
  CHECK(p.kind == sessionctl::JsonKind::object);
  using K = sessionctl::JsonKind;
  CHECK(p.kinds == std::vector<K>{K::object, K::array, K::null, K::boolean, K::string, K::number, K::none});
  CHECK(*p.values[0] == R"({"nested":["x"]})");  // not "x", a string deeper down
  CHECK(*p.values[1] == R"([1,{"data":2}])");
  CHECK(probe_json("[1,2,3]", {}).kind == K::array);
  CHECK(probe_json(" 42 ", {}).kind == K::number);
  CHECK(probe_json("\"just a string\"", {}).kind == K::string);
}
