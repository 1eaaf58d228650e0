// The single-pass JSON probe on arbitrary bytes, with the paths the read path asks for: no crash,
// no read out of bounds, and one answer per path for a text it calls valid.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "json/probe.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::vector<std::string> kPaths = {"current", "updatedAt", "data.email", "items.0.id", "a.b.c.d"};
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const sessionctl::JsonProbe p = sessionctl::probe_json(text, kPaths, true);
  if (p.values.size() != kPaths.size() && p.valid) std::abort();
  return 0;
}
