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

TEST_CASE("probe_json does not overflow on deep nesting and does not call it corrupt", "[json_probe]") {
  std::string deep(100000, '[');
  deep += std::string(100000, ']');
  CHECK(probe_json(deep, {"a"}).valid);
}
