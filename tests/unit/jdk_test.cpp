// The JDK serialization codec against streams the JDK itself wrote (tests/fixtures/jdk/), and against
// streams cut short or corrupted by hand.
#include "codec/jdk.h"

#include <catch2/catch.hpp>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>
#include <vector>

#include "util/errors.h"

using sessionctl::is_jdk_stream;
using sessionctl::JdkValue;
using sessionctl::read_jdk;
using sessionctl::read_jdk_all;
using sessionctl::to_json;
using sessionctl::write_jdk_int;
using sessionctl::write_jdk_long;
using sessionctl::write_jdk_string;
using Kind = JdkValue::Kind;

namespace {

std::string fixture(const std::string& name) {
  std::ifstream in(std::string(SESSIONCTL_FIXTURES_DIR) + "/jdk/" + name, std::ios::binary);
  REQUIRE(in);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

TEST_CASE("jdk: Long and Integer as Spring Session writes its own fields") {
  const std::string creation = fixture("long_1733300000000.ser");
  REQUIRE(is_jdk_stream(creation));
  const JdkValue v = read_jdk(creation);
  CHECK(v.kind == Kind::long_);
  CHECK(v.class_name == "java.lang.Long");
  CHECK(v.integer == 1733300000000LL);
  CHECK(to_json(v) == 1733300000000LL);
  CHECK(write_jdk_long(1733300000000LL) == creation);

  const std::string min = fixture("long_min.ser");
  CHECK(read_jdk(min).integer == std::numeric_limits<long long>::min());
  CHECK(write_jdk_long(std::numeric_limits<long long>::min()) == min);

  const std::string interval = fixture("int_1800.ser");
  const JdkValue i = read_jdk(interval);
  CHECK(i.kind == Kind::int_);
  CHECK(i.integer == 1800);
  CHECK(write_jdk_int(1800) == interval);
  const std::string minus_one = fixture("int_minus_1.ser");
  CHECK(read_jdk(minus_one).integer == -1);
  CHECK(write_jdk_int(-1) == minus_one);
}

TEST_CASE("jdk: the other primitive wrappers") {
  const JdkValue s = read_jdk(fixture("short_minus_2.ser"));
  CHECK(s.kind == Kind::short_);
  CHECK(s.integer == -2);
  const JdkValue b = read_jdk(fixture("byte_127.ser"));
  CHECK(b.kind == Kind::byte_);
  CHECK(b.integer == 127);
  const JdkValue t = read_jdk(fixture("boolean_true.ser"));
  CHECK(t.kind == Kind::boolean);
  CHECK(to_json(t) == true);
  const JdkValue d = read_jdk(fixture("double_1_5.ser"));
  CHECK(d.kind == Kind::double_);
  CHECK(d.real == 1.5);
  const JdkValue f = read_jdk(fixture("float_minus_0_25.ser"));
  CHECK(f.kind == Kind::float_);
  CHECK(f.real == -0.25);
  const JdkValue c = read_jdk(fixture("char_e_acute.ser"));
  CHECK(c.kind == Kind::char_);
  CHECK(c.integer == 0xE9);
  CHECK(to_json(c) == "\xC3\xA9");
}

TEST_CASE("jdk: Strings in modified UTF-8, written back byte for byte") {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"string_ascii.ser", "spring"},
      {"string_multibyte.ser",
       "Gr\xC3\xBC\xC3\x9F"
       "e, \xE6\x9D\xB1\xE4\xBA\xAC"},
      {"string_nul.ser", std::string("a\0b", 3)},
      {"string_emoji.ser", "ok \xF0\x9F\x98\x80"},
      {"string_empty.ser", ""},
  };
  for (const auto& [file, text] : cases) {
    INFO(file);
    const std::string bytes = fixture(file);
    const JdkValue v = read_jdk(bytes);
    CHECK(v.kind == Kind::string);
    CHECK(v.class_name == "java.lang.String");
    CHECK_FALSE(v.bad_text);
    CHECK(v.text == text);
    CHECK(to_json(v) == text);
    CHECK(write_jdk_string(text) == bytes);
  }
}

TEST_CASE("jdk: a String above 65535 bytes of modified UTF-8 is a TC_LONGSTRING") {
  // Built by hand from the spec (a 66 KB fixture would add nothing): tag 0x7C, 8-byte length.
  const std::string text(70000, 'x');
  const std::string bytes = write_jdk_string(text);
  REQUIRE(bytes.size() == 4 + 1 + 8 + 70000);
  CHECK(bytes.substr(0, 13) == std::string("\xAC\xED\x00\x05\x7C\x00\x00\x00\x00\x00\x01\x11\x70", 13));
  const JdkValue v = read_jdk(bytes);
  CHECK(v.kind == Kind::string);
  CHECK(v.text == text);

  // 65535 bytes exactly still fits TC_STRING.
  const std::string edge = write_jdk_string(std::string(65535, 'y'));
  CHECK(edge.substr(4, 3) == "\x74\xFF\xFF");
}

TEST_CASE("jdk: invalid modified UTF-8 and lone surrogates are marked, not fatal") {
  const std::string header("\xAC\xED\x00\x05\x74", 5);
  const std::vector<std::string> bodies = {
      std::string("\x00\x04"
                  "a\xED\xA0\xBD",
                  6),                              // a high surrogate with no low half
      std::string("\x00\x03\xED\xB8\x80", 5),      // a low surrogate alone
      std::string("\x00\x02\xC1\x81", 4),          // an overlong 'A'
      std::string("\x00\x01\x00", 3),              // a raw NUL (writeUTF writes C0 80)
      std::string("\x00\x04\xF0\x9F\x98\x80", 6),  // a 4-byte form, which Java never writes
      std::string("\x00\x02\xE6\x9D", 4),          // a 3-byte form cut short
  };
  for (const std::string& body : bodies) {
    const JdkValue v = read_jdk(header + body);
    CHECK(v.kind == Kind::string);
    CHECK(v.bad_text);
    CHECK(v.text.find("\xEF\xBF\xBD") != std::string::npos);
    const nlohmann::json j = to_json(v);
    CHECK(j.at("__invalid_utf") == true);
    CHECK(j.at("__class") == "java.lang.String");
  }
  CHECK(read_jdk(header + std::string("\x00\x05"
                                      "a\xED\xA0\xBD",
                                      6))
            .kind == Kind::opaque);  // length past the end
}

TEST_CASE("jdk: an enum constant") {
  const JdkValue v = read_jdk(fixture("enum_timeunit_seconds.ser"));
  CHECK(v.kind == Kind::enum_);
  CHECK(v.class_name == "java.util.concurrent.TimeUnit");
  CHECK(v.text == "SECONDS");
  CHECK(to_json(v) == nlohmann::json({{"__class", "java.util.concurrent.TimeUnit"}, {"__enum", "SECONDS"}}));
}

TEST_CASE("jdk: later objects of a stream refer to earlier descriptors") {
  // The second Long is TC_OBJECT TC_REFERENCE 0x7E0000 (Long's descriptor).
  const std::vector<JdkValue> longs = read_jdk_all(fixture("two_longs.ser"));
  REQUIRE(longs.size() == 2);
  CHECK(longs[0].integer == 1);
  CHECK(longs[1].kind == Kind::long_);
  CHECK(longs[1].integer == 2);

  // Integer's descriptor is new, its superclass a TC_REFERENCE 0x7E0001 to Long's java.lang.Number.
  const std::vector<JdkValue> mixed = read_jdk_all(fixture("long_then_int.ser"));
  REQUIRE(mixed.size() == 2);
  CHECK(mixed[0].kind == Kind::long_);
  CHECK(mixed[0].integer == 7);
  CHECK(mixed[1].kind == Kind::int_);
  CHECK(mixed[1].integer == 8);

  CHECK(read_jdk(fixture("two_longs.ser")).integer == 1);  // one object, as readObject reads it

  // A reference to an earlier String object, and one to a handle that does not exist.
  const std::vector<JdkValue> strings = read_jdk_all(write_jdk_string("ab") + std::string("\x71\x00\x7E\x00\x00", 5));
  REQUIRE(strings.size() == 2);
  CHECK(strings[1].text == "ab");
  const std::vector<JdkValue> dangling = read_jdk_all(write_jdk_string("ab") + std::string("\x71\x00\x7E\x00\x05", 5));
  REQUIRE(dangling.size() == 2);
  CHECK(dangling[1].kind == Kind::opaque);
  CHECK(dangling[1].bytes == 5);
}

TEST_CASE("jdk: other classes are opaque with their class name") {
  const std::string date = fixture("date.ser");  // java.util.Date has its own writeObject
  const JdkValue v = read_jdk(date);
  CHECK(v.kind == Kind::opaque);
  CHECK(v.class_name == "java.util.Date");
  CHECK(v.bytes == date.size());
  CHECK(to_json(v) == nlohmann::json({{"__class", "java.util.Date"}, {"__bytes", date.size()}}));

  const JdkValue array = read_jdk(fixture("string_array.ser"));
  CHECK(array.kind == Kind::opaque);
  CHECK(array.class_name == "[Ljava.lang.String;");

  // A class named java.lang.Long with another serialVersionUID is not the JDK's Long.
  std::string forged = fixture("long_1733300000000.ser");
  forged[0x17] ^= 1;
  const JdkValue f = read_jdk(forged);
  CHECK(f.kind == Kind::opaque);
  CHECK(f.class_name == "java.lang.Long");
}

TEST_CASE("jdk: truncated and corrupt streams are opaque") {
  const std::string whole = fixture("long_1733300000000.ser");
  for (std::size_t n = 0; n < whole.size(); ++n) {
    INFO(n);
    const JdkValue v = read_jdk(whole.substr(0, n));
    CHECK(v.kind == Kind::opaque);
    CHECK(v.bytes == n);
    // The class name is known once the first descriptor's name has been read.
    CHECK(v.class_name == (n >= 22 ? "java.lang.Long" : ""));
  }
  CHECK_FALSE(is_jdk_stream(std::string("\xAC\xED\x00", 3)));
  CHECK_FALSE(is_jdk_stream("{\"a\":1}"));
  CHECK(read_jdk("{\"a\":1}").kind == Kind::opaque);
  CHECK(to_json(read_jdk("{\"a\":1}")) == nlohmann::json({{"__bytes", 7}}));
  CHECK(read_jdk(std::string("\xAC\xED\x00\x05\x70", 5)).kind == Kind::null);
  CHECK(read_jdk(std::string("\xAC\xED\x00\x05\x7B", 5)).kind == Kind::opaque);  // TC_EXCEPTION
  // A TC_LONGSTRING whose length is far beyond the input allocates nothing.
  CHECK(read_jdk(std::string("\xAC\xED\x00\x05\x7C\x7F\xFF\xFF\xFF\xFF\xFF\xFF\xFF"
                             "abc",
                             16))
            .kind == Kind::opaque);

  // A descriptor chain of superclasses deeper than any real class stops at the depth limit.
  std::string deep("\xAC\xED\x00\x05\x73", 5);
  for (int i = 0; i < 10000; ++i)
    deep += std::string("\x72\x00\x01X\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x00\x78", 16);
  const JdkValue d = read_jdk(deep);
  CHECK(d.kind == Kind::opaque);
  CHECK(d.class_name == "X");
}

TEST_CASE("jdk: writers round-trip through the reader") {
  for (const long long x : {0LL, 1LL, -1LL, 1733300000000LL, std::numeric_limits<long long>::max()}) {
    const JdkValue v = read_jdk(write_jdk_long(x));
    CHECK(v.kind == Kind::long_);
    CHECK(v.integer == x);
  }
  for (const int x : {0, 1800, -1800, std::numeric_limits<int>::min(), std::numeric_limits<int>::max()}) {
    const JdkValue v = read_jdk(write_jdk_int(x));
    CHECK(v.kind == Kind::int_);
    CHECK(v.integer == x);
  }
  for (const std::string_view text : {"", "x", "\xE2\x82\xAC 5", "\xF4\x8F\xBF\xBF", "\xEF\xBF\xBF"}) {
    const JdkValue v = read_jdk(write_jdk_string(text));
    CHECK(v.kind == Kind::string);
    CHECK_FALSE(v.bad_text);
    CHECK(v.text == text);
  }
  CHECK_THROWS_AS(write_jdk_string("\xFF"), sessionctl::UsageError);
  CHECK_THROWS_AS(write_jdk_string("\xED\xA0\x80"), sessionctl::UsageError);  // a surrogate in UTF-8
}
