// The profiles-file loader on arbitrary bytes: a bad file is a UsageError naming the problem, never
// a crash; a good one gives profiles whose key patterns can be used.
#include <cstddef>
#include <cstdint>
#include <string>

#include "session/profile.h"
#include "util/errors.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    sessionctl::ProfileSet set = sessionctl::ProfileSet::parse(text, "fuzz.json");
    for (const auto& p : set.all()) (void)p.keys_for("fuzz-id");
    sessionctl::ProfileSet all = sessionctl::ProfileSet::builtin();
    all.merge(std::move(set));
  } catch (const sessionctl::UsageError&) {
  }
  return 0;
}
