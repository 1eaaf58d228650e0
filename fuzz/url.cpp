// parse_url on arbitrary bytes: a bad URL is a UsageError, never a crash; a good one round-trips
// through redacted_url and endpoint without touching freed or uninitialised memory.
#include <cstddef>
#include <cstdint>
#include <string>

#include "redis/options.h"
#include "util/errors.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string url(reinterpret_cast<const char*>(data), size);
  try {
    const sessionctl::redis::ConnectionOptions options = sessionctl::redis::parse_url(url);
    (void)sessionctl::redis::redacted_url(options);
    (void)sessionctl::redis::endpoint(options);
  } catch (const sessionctl::UsageError&) {
  }
  return 0;
}
