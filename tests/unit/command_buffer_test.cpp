// CommandBuffer: commands serialised to RESP as they are added.
#include "redis/command_buffer.h"

#include <catch2/catch.hpp>
#include <string>

using sessionctl::redis::Command;
using sessionctl::redis::CommandBuffer;

TEST_CASE("an empty command buffer has no commands and no bytes", "[command_buffer]") {
  CommandBuffer b;
  CHECK(b.empty());
  CHECK(b.size() == 0);
  CHECK(b.resp().empty());
  CHECK(b.first_name() == "command");
}

TEST_CASE("commands are RESP arrays of bulk strings, one after the other", "[command_buffer]") {
  CommandBuffer b;
  b.add({"PING"});
  CHECK(b.resp() == "*1\r\n$4\r\nPING\r\n");
  b.add({"GET", "state:x"});
  b.add(Command{"PEXPIRE", "k", "1000"});
  CHECK_FALSE(b.empty());
  CHECK(b.size() == 3);
  CHECK(b.resp() ==
        "*1\r\n$4\r\nPING\r\n"
        "*2\r\n$3\r\nGET\r\n$7\r\nstate:x\r\n"
        "*3\r\n$7\r\nPEXPIRE\r\n$1\r\nk\r\n$4\r\n1000\r\n");
  CHECK(b.first_name() == "PING");
}

TEST_CASE("arguments are binary-safe: CR, LF, NUL and empty strings are counted, not parsed", "[command_buffer]") {
  CommandBuffer b;
  const std::string odd("a\r\nb\0c", 6);
  b.add(Command{"SET", odd, ""});
  CHECK(b.resp() == std::string("*3\r\n$3\r\nSET\r\n$6\r\na\r\nb\0c\r\n$0\r\n\r\n", 31));
  CHECK(b.first_name() == "SET");
}

TEST_CASE("long arguments and many commands keep their lengths exact", "[command_buffer]") {
  CommandBuffer b;
  const std::string big(100000, 'x');
  b.add({"SCAN", "0", "MATCH", big});
  CHECK(b.resp().find("$100000\r\n" + big + "\r\n") != std::string::npos);
  for (int i = 0; i < 10000; ++i) b.add({"TYPE", "k" + std::to_string(i)});
  CHECK(b.size() == 10001);
  CHECK(b.first_name() == "SCAN");
  CHECK(b.resp().size() > big.size());
  const std::string last = "*2\r\n$4\r\nTYPE\r\n$5\r\nk9999\r\n";
  CHECK(b.resp().substr(b.resp().size() - last.size()) == last);
}
