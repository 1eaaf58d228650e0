// The one UTF-8 validator, UUID text and the clock (RFC 3339 and timestamps as apps store them).
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <string>

#include "json/probe.h"
#include "render/records.h"
#include "render/terminal.h"
#include "util/clock.h"
#include "util/utf8.h"
#include "util/uuid.h"

using namespace sessionctl;

TEST_CASE("helpers: UTF-8, UUIDs, RFC 3339", "[util]") {
  CHECK(is_utf8(""));
  CHECK(is_utf8("plain ascii"));
  CHECK(is_utf8("ünï€😀"));
  CHECK_FALSE(is_utf8("\xff"));
  CHECK_FALSE(is_utf8("\xc3"));              // truncated
  CHECK_FALSE(is_utf8("\xc3\x28"));          // bad continuation
  CHECK_FALSE(is_utf8("\xc0\x80"));          // overlong NUL
  CHECK_FALSE(is_utf8("\xe0\x80\xaf"));      // overlong
  CHECK_FALSE(is_utf8("\xed\xa0\x80"));      // surrogate
  CHECK_FALSE(is_utf8("\xf4\x90\x80\x80"));  // above U+10FFFF
  CHECK(is_utf8("\xf4\x8f\xbf\xbf"));        // U+10FFFF
  CHECK(is_uuid("0b9d6f3e-5c1a-4f7e-9a2b-3c4d5e6f7a8b"));
  CHECK(is_uuid("0B9D6F3E-5C1A-4F7E-9A2B-3C4D5E6F7A8B"));
  CHECK_FALSE(is_uuid("0b9d6f3e5c1a4f7e9a2b3c4d5e6f7a8b"));
  CHECK_FALSE(is_uuid("test-session-123"));
  CHECK_FALSE(is_uuid("0b9d6f3e-5c1a-4f7e-9a2b-3c4d5e6f7a8g"));
  CHECK(rfc3339(0) == "1970-01-01T00:00:00Z");
  CHECK(rfc3339(1767434400.9) == "2026-01-03T10:00:00Z");
}

namespace {

// Every class of bytes that is not UTF-8, each with the reason it is not.
const std::vector<std::pair<std::string, const char*>>& bad_utf8() {
  static const std::vector<std::pair<std::string, const char*>> cases = {
      {"\x80", "stray continuation byte"},
      {"\xbf", "stray continuation byte"},
      {"\xc0\xaf", "overlong '/' (2 bytes)"},
      {"\xc1\xbf", "overlong (2 bytes, C1 lead)"},
      {"\xc0\x80", "overlong NUL"},
      {"\xe0\x80\xaf", "overlong '/' (3 bytes)"},
      {"\xe0\x9f\xbf", "overlong U+07FF (3 bytes)"},
      {"\xf0\x80\x80\xaf", "overlong '/' (4 bytes)"},
      {"\xf0\x8f\xbf\xbf", "overlong U+FFFF (4 bytes)"},
      {"\xed\xa0\x80", "high surrogate U+D800"},
      {"\xed\xbf\xbf", "low surrogate U+DFFF"},
      {"\xed\xa0\xbd\xed\xb8\x80", "CESU-8 surrogate pair"},
      {"\xf4\x90\x80\x80", "U+110000"},
      {"\xf7\xbf\xbf\xbf", "U+1FFFFF"},
      {"\xf5\x80\x80\x80", "F5 lead"},
      {"\xf8\x88\x80\x80\x80", "5-byte form"},
      {"\xfc\x84\x80\x80\x80\x80", "6-byte form"},
      {"\xfe", "FE"},
      {"\xff", "FF"},
      {"\xc3", "truncated 2-byte"},
      {"\xe2\x82", "truncated 3-byte"},
      {"\xf0\x9f\x98", "truncated 4-byte"},
      {"\xc3\x28", "bad continuation"},
      {"\xe2\x28\xa1", "bad second byte"},
      {"\xe2\x82\x28", "bad third byte"},
  };
  return cases;
}

}  // namespace

TEST_CASE("utf8: one strict validator refuses every class of bad bytes", "[util][utf8]") {
  for (const auto& [bytes, what] : bad_utf8()) {
    INFO(what);
    CHECK_FALSE(is_utf8(bytes));
    CHECK_FALSE(is_utf8("ok " + bytes + " ok"));
    CHECK(utf8_sequence_length(bytes, 0) == 0);
    CHECK(utf8_valid_prefix("ab" + bytes) == 2);
  }
  // The edges that are valid.
  for (const std::string ok : {"\x7f", "\xc2\x80", "\xdf\xbf", "\xe0\xa0\x80", "\xed\x9f\xbf", "\xee\x80\x80",
                               "\xef\xbf\xbf", "\xf0\x90\x80\x80", "\xf4\x8f\xbf\xbf"}) {
    CHECK(is_utf8(ok));
    CHECK(utf8_sequence_length(ok, 0) == ok.size());
  }
  char32_t cp = 0;
  CHECK(utf8_decode("\xf0\x9f\x98\x80", 0, cp) == 4);
  CHECK(cp == 0x1F600);
  CHECK(utf8_decode("\xc0\xaf", 0, cp) == 0);
  CHECK(cp == 0x1F600);  // untouched
}

TEST_CASE("utf8: a prefix cut inside a sequence is a valid prefix, a wrong byte is not", "[util][utf8]") {
  CHECK(is_utf8_prefix(""));
  CHECK(is_utf8_prefix("abc\xc3"));
  CHECK(is_utf8_prefix("\xe2\x82"));
  CHECK(is_utf8_prefix("\xf0\x9f\x98"));
  CHECK(is_utf8_prefix("\xf4\x8f"));
  CHECK_FALSE(is_utf8_prefix("\xe0\x80"));  // the second byte already makes it overlong
  CHECK_FALSE(is_utf8_prefix("\xed\xa0"));  // already a surrogate
  CHECK_FALSE(is_utf8_prefix("\xf4\x90"));  // already above U+10FFFF
  CHECK_FALSE(is_utf8_prefix("\xc0"));
  CHECK_FALSE(is_utf8_prefix("\xc3\x28"));
  CHECK_FALSE(is_utf8_prefix("\xc3 x"));
}

TEST_CASE("utf8: append_utf8 round-trips through the validator", "[util][utf8]") {
  for (char32_t cp : {0x24u, 0x7Fu, 0x80u, 0x7FFu, 0x800u, 0xD7FFu, 0xE000u, 0xFFFFu, 0x10000u, 0x10FFFFu}) {
    std::string s;
    append_utf8(s, cp);
    char32_t back = 0;
    CHECK(is_utf8(s));
    CHECK(utf8_decode(s, 0, back) == s.size());
    CHECK(back == cp);
  }
}

TEST_CASE("clock: RFC 3339 is written only inside years 0000-9999", "[util][clock]") {
  CHECK(rfc3339(kRfc3339Min) == "0000-01-01T00:00:00Z");
  CHECK(rfc3339(kRfc3339Max) == "9999-12-31T23:59:59Z");
  CHECK(rfc3339(kRfc3339Max + 0.5) == "9999-12-31T23:59:59Z");
  CHECK(rfc3339(-1) == "1969-12-31T23:59:59Z");
  CHECK(rfc3339(951782400) == "2000-02-29T00:00:00Z");   // leap day
  CHECK(rfc3339(4107542400) == "2100-03-01T00:00:00Z");  // 2100 is no leap year
  CHECK_FALSE(rfc3339(kRfc3339Min - 1).has_value());
  CHECK_FALSE(rfc3339(kRfc3339Max + 1).has_value());
  CHECK_FALSE(rfc3339(1e300).has_value());
  CHECK_FALSE(rfc3339(-1e300).has_value());
  CHECK_FALSE(rfc3339(std::numeric_limits<double>::quiet_NaN()).has_value());
  CHECK_FALSE(rfc3339(std::numeric_limits<double>::infinity()).has_value());
}

TEST_CASE("clock: timestamps as apps store them, and nothing else", "[util][clock]") {
  CHECK(parse_timestamp("1767434400") == 1767434400.0);
  CHECK(parse_timestamp("1767434400.5") == 1767434400.5);
  CHECK(parse_timestamp("1767434400000") == 1767434400.0);  // milliseconds
  CHECK(parse_timestamp("-5") == -5.0);                     // readable; too early is the session's call
  CHECK(parse_timestamp("2026-01-03T10:00:00Z") == 1767434400.0);
  CHECK(parse_timestamp("2026-01-03T10:00:00") == 1767434400.0);
  CHECK(parse_timestamp("2026-01-03T10:00:00.250Z") == 1767434400.25);
  CHECK(parse_timestamp("2026-01-03T12:00:00+02:00") == 1767434400.0);
  CHECK(parse_timestamp("2026-01-03T05:00:00-0500") == 1767434400.0);
  for (const char* bad : {"", "1e300", "-1e300", "1e999", "nan", "NaN", "inf", "-inf", "Infinity", "0x5F5E100",
                          " 1767434400", "1767434400 ", "+1767434400", "soon", "2026-13-01T00:00:00Z",
                          "2026-01-03T25:00:00Z", "2026-01-03", "2026-01-03T10:00:00Zjunk", "99999-01-01T00:00:00Z"}) {
    INFO(bad);
    CHECK_FALSE(parse_timestamp(bad).has_value());
  }
}

TEST_CASE("utf8: the probe, JSON output, the terminal and tables agree on every bad class", "[util][utf8]") {
  for (const auto& [bytes, what] : bad_utf8()) {
    INFO(what);
    // The probe: not JSON text.
    CHECK_FALSE(probe_json("\"" + bytes + "\"", {}).valid);
    // JSON output: each bad byte is one U+FFFD, so the output parses.
    std::string json_text;
    append_json_string(json_text, bytes);
    CHECK(is_utf8(json_text));
    CHECK(json_text.find("\xEF\xBF\xBD") != std::string::npos);
    // The terminal: a bad byte as \xNN, as wide as it is shown.
    const std::string shown = printable(bytes);
    CHECK(is_utf8(shown));
    CHECK(shown.rfind("\\x", 0) == 0);
    CHECK(display_width(bytes) == display_width(shown));
  }
  std::string ok;
  append_json_string(ok, "\xf4\x8f\xbf\xbf");
  CHECK(ok == "\"\xf4\x8f\xbf\xbf\"");
  CHECK(printable("\xe2\x82\xac") == "\xe2\x82\xac");
}
