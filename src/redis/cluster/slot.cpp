#include "redis/cluster/slot.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <iterator>
#include <string>

namespace sessionctl::redis::cluster {
namespace {

constexpr std::array<std::uint16_t, 256> make_crc_table() {
  std::array<std::uint16_t, 256> table{};
  for (unsigned i = 0; i < 256; ++i) {
    auto crc = static_cast<std::uint16_t>(i << 8);
    for (int bit = 0; bit < 8; ++bit)
      crc = static_cast<std::uint16_t>((crc & 0x8000) != 0 ? (crc << 1) ^ 0x1021 : crc << 1);
    table[i] = crc;
  }
  return table;
}

constexpr std::array<std::uint16_t, 256> kCrcTable = make_crc_table();

// CRC16-CCITT (XMODEM): polynomial 0x1021, initial value 0, as in Redis's crc16.c.
std::uint16_t crc16(std::string_view bytes) {
  std::uint16_t crc = 0;
  for (unsigned char c : bytes) crc = static_cast<std::uint16_t>((crc << 8) ^ kCrcTable[((crc >> 8) ^ c) & 0xff]);
  return crc;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::toupper(static_cast<unsigned char>(a[i])) != std::toupper(static_cast<unsigned char>(b[i]))) return false;
  return true;
}

// Reads argument `index` of the RESP command starting at `at` ("*N\r\n$L\r\n…\r\n…").
std::string_view resp_arg(const std::string& resp, std::size_t at, std::size_t index, std::size_t* argc_out) {
  auto number = [&](std::size_t& pos) {
    std::size_t n = 0;
    while (pos < resp.size() && resp[pos] >= '0' && resp[pos] <= '9')
      n = n * 10 + static_cast<std::size_t>(resp[pos++] - '0');
    pos += 2;  // "\r\n"
    return n;
  };
  std::size_t pos = at + 1;  // past '*'
  const std::size_t argc = number(pos);
  if (argc_out != nullptr) *argc_out = argc;
  for (std::size_t i = 0; i < argc; ++i) {
    ++pos;  // '$'
    const std::size_t len = number(pos);
    if (i == index) return std::string_view(resp).substr(pos, len);
    pos += len + 2;
  }
  return {};
}

}  // namespace

int key_slot(std::string_view key) {
  // A hash tag: the bytes between the first '{' and the next '}', if there are any.
  if (auto open = key.find('{'); open != std::string_view::npos) {
    if (auto close = key.find('}', open + 1); close != std::string_view::npos && close > open + 1)
      key = key.substr(open + 1, close - open - 1);
  }
  return crc16(key) & (kSlots - 1);
}

std::optional<std::size_t> key_index(std::string_view name, std::string_view second_arg, std::size_t argc) {
  // Sorted, upper case: a binary search per command (this runs for every command of every batch).
  static constexpr std::string_view kKeyless[] = {
      "ACL",    "ASKING", "AUTH",    "BGREWRITEAOF", "BGSAVE",    "CLIENT",   "CLUSTER",   "COMMAND",   "CONFIG",
      "DBSIZE", "DEBUG",  "DISCARD", "ECHO",         "EXEC",      "FAILOVER", "FLUSHALL",  "FLUSHDB",   "FUNCTION",
      "HELLO",  "INFO",   "KEYS",    "LASTSAVE",     "LATENCY",   "LOLWUT",   "MODULE",    "MONITOR",   "MULTI",
      "PING",   "PSYNC",  "PUBLISH", "QUIT",         "RANDOMKEY", "READONLY", "READWRITE", "REPLICAOF", "RESET",
      "ROLE",   "SAVE",   "SCAN",    "SCRIPT",       "SELECT",    "SENTINEL", "SHUTDOWN",  "SLAVEOF",   "SLOWLOG",
      "SWAPDB", "SYNC",   "TIME",    "UNWATCH",      "WAIT",      "WAITAOF"};
  char upper[24];
  if (name.empty() || name.size() > sizeof upper) return argc >= 2 ? std::optional<std::size_t>(1) : std::nullopt;
  for (std::size_t i = 0; i < name.size(); ++i)
    upper[i] = static_cast<char>(std::toupper(static_cast<unsigned char>(name[i])));
  const std::string_view up(upper, name.size());
  if (std::binary_search(std::begin(kKeyless), std::end(kKeyless), up)) return std::nullopt;
  if (up == "MEMORY") {
    if (iequals(second_arg, "USAGE") && argc > 2) return 2;
    return std::nullopt;
  }
  if (up == "OBJECT" || up == "XINFO") return argc > 2 ? std::optional<std::size_t>(2) : std::nullopt;
  if (up == "EVAL" || up == "EVALSHA" || up == "EVAL_RO" || up == "EVALSHA_RO" || up == "FCALL" || up == "FCALL_RO") {
    // The key count is the second argument; a script with keys names its first key third.
    if (argc < 4) return std::nullopt;
    return 3;
  }
  if (argc < 2) return std::nullopt;
  return 1;
}

std::optional<int> command_slot(const Command& argv) {
  if (argv.empty()) return std::nullopt;
  auto index = key_index(argv[0], argv.size() > 1 ? std::string_view(argv[1]) : std::string_view(), argv.size());
  if (!index) return std::nullopt;
  if (*index == 3 && argv.size() > 2 && argv[2] == "0") return std::nullopt;  // EVAL … 0: no keys
  if (*index >= argv.size()) return std::nullopt;
  return key_slot(argv[*index]);
}

std::optional<int> command_slot(const CommandBuffer& commands, std::size_t index) {
  const std::string& resp = commands.resp();
  const std::size_t at = commands.offset(index);
  std::size_t argc = 0;
  const std::string_view name = resp_arg(resp, at, 0, &argc);
  const std::string_view second = argc > 1 ? resp_arg(resp, at, 1, nullptr) : std::string_view();
  auto key_at = key_index(name, second, argc);
  if (!key_at) return std::nullopt;
  if (*key_at == 3 && resp_arg(resp, at, 2, nullptr) == "0") return std::nullopt;
  if (*key_at >= argc) return std::nullopt;
  return key_slot(resp_arg(resp, at, *key_at, nullptr));
}

}  // namespace sessionctl::redis::cluster
