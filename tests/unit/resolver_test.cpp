// The resolver's pure parts: "did you mean" ranking and the other spellings a target may be given in.
#include "session/resolver.h"

#include <catch2/catch.hpp>

#include "render/terminal.h"
#include "util/suggest.h"

using namespace sessionctl;

TEST_CASE("edit distance counts insertions, deletions and substitutions", "[resolver][suggest]") {
  CHECK(edit_distance("", "") == 0);
  CHECK(edit_distance("abc", "abc") == 0);
  CHECK(edit_distance("abc", "") == 3);
  CHECK(edit_distance("test-session-123", "test-sesion-123") == 1);
  CHECK(edit_distance("kitten", "sitting") == 3);
}

TEST_CASE("did you mean: substrings first, then nearest by edits, never the id itself", "[resolver][suggest]") {
  const std::vector<std::string> ids = {"test-session-123", "test-456", "user_12345",
                                        "test-session-124", "zzz",      "test-sesion-123"};
  // A typo: the two one-edit neighbours, nearest first, ties in byte order; the wanted id is skipped.
  CHECK(rank_suggestions("test-sesion-123", ids) == std::vector<std::string>{"test-session-123", "test-session-124"});
  // A fragment: every id containing it is distance 0, in byte order, at most three.
  CHECK(rank_suggestions("test", ids) == std::vector<std::string>{"test-456", "test-sesion-123", "test-session-123"});
  CHECK(rank_suggestions("test", ids, 1) == std::vector<std::string>{"test-456"});
  // Nothing close: no hint rather than a wild one.
  CHECK(rank_suggestions("qqqqqqqqqqqqqqqqqqqqqq", ids).empty());
  // Short ids allow two edits, long ones a quarter of their length.
  CHECK(rank_suggestions("zq", {"zzz"}) == std::vector<std::string>{"zzz"});
  CHECK(rank_suggestions("abcdefghijklmnop", {"abcdefghijklXXXX", "abcdefghijkXXXXX"}) ==
        std::vector<std::string>{"abcdefghijklXXXX"});
  // Duplicates (one id under two profiles) are suggested once.
  CHECK(rank_suggestions("user_1234", {"user_12345", "user_12345"}) == std::vector<std::string>{"user_12345"});
}

TEST_CASE("a target may be given in the escaped form tables print, or as b64:", "[resolver][target]") {
  CHECK(decode_target("plain") == std::nullopt);
  CHECK(decode_target("bad\\xff\\xfeutf8") == std::string("bad\xff\xfeutf8"));
  CHECK(decode_target("new\\nline\\ttab\\r") == std::string("new\nline\ttab\r"));
  CHECK(decode_target("back\\\\slash") == std::string("back\\slash"));
  CHECK(decode_target("esc\\x1b[31mred") == std::string("esc\x1b[31mred"));
  CHECK(decode_target("nul\\x00byte") == std::string("nul\0byte", 8));
  // Not printable()'s output: no other spelling.
  CHECK(decode_target("a\\qb") == std::nullopt);
  CHECK(decode_target("trailing\\") == std::nullopt);
  CHECK(decode_target("short\\x4") == std::nullopt);
  // b64: standard or URL-safe alphabet, padding optional.
  CHECK(decode_target("b64:YmFk//51dGY4") == std::string("bad\xff\xfeutf8"));
  CHECK(decode_target("b64:YmFk__51dGY4") == std::string("bad\xff\xfeutf8"));
  CHECK(decode_target("b64:c3RhdGU6eA==") == std::string("state:x"));
  CHECK(decode_target("b64:c3RhdGU6eA") == std::string("state:x"));
  CHECK(decode_target("b64:not base64!") == std::nullopt);
  CHECK(decode_target("b64:") == std::nullopt);
  CHECK(decode_target("b64:c3R=hdGU") == std::nullopt);
}

TEST_CASE("what printable() shows, decode_target gives back", "[resolver][target]") {
  for (const std::string& id :
       {std::string("bad\xff\xfeutf8"), std::string("a\\nb"), std::string("new\nline"), std::string("esc\x1b[0m"),
        std::string("cut \xe2\x82"), std::string("\xc0\xaf"), std::string("mixed \\x41 \x7f")}) {
    INFO(id);
    REQUIRE(printable(id) != id);
    CHECK(decode_target(printable(id)) == id);
  }
}
