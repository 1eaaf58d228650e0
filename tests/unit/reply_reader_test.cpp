// parse_replies: the reader a connection uses, on bytes given directly.
#include <catch2/catch.hpp>
#include <string>

#include "redis/connection.h"
#include "util/errors.h"

using sessionctl::redis::parse_replies;
using sessionctl::redis::Reply;

TEST_CASE("the reply reader builds nested arrays in order and leaves an incomplete reply out", "[unit][reply]") {
  const auto r = parse_replies("*3\r\n:1\r\n*2\r\n$1\r\na\r\n$-1\r\n-ERR x\r\n+OK\r\n*2\r\n:5\r\n");
  REQUIRE(r.size() == 2);
  REQUIRE(r[0].type == Reply::Type::array);
  REQUIRE(r[0].elements.size() == 3);
  CHECK(r[0].elements[0].integer == 1);
  REQUIRE(r[0].elements[1].elements.size() == 2);
  CHECK(r[0].elements[1].elements[0].str == "a");
  CHECK(r[0].elements[1].elements[1].is_nil());
  CHECK(r[0].elements[2].is_error());
  CHECK(r[1].type == Reply::Type::status);
}

TEST_CASE("an array header far larger than the bytes that follow allocates nothing up front", "[unit][reply]") {
  // Two billion elements announced: made eagerly, that was ~160 GB and a crash (found by fuzzing).
  const auto r = parse_replies("*2000000000\r\n:1\r\n:2\r\n");
  CHECK(r.empty());
  const auto deep = parse_replies("*2\r\n*2000000000\r\n:1\r\n");
  CHECK(deep.empty());
}

TEST_CASE("a protocol error is a ConnectionError", "[unit][reply]") {
  CHECK_THROWS_AS(parse_replies("?nonsense\r\n"), sessionctl::ConnectionError);
}
