// Running the real binary with its peak memory, for tests that bound RSS.
#pragma once

#include <string>
#include <vector>

#include "process.h"

namespace testsupport {

// What run_measured() saw: the result and the child's peak resident set (getrusage via wait4).
struct MeasuredRun {
  RunResult result;
  long max_rss_kb = 0;
};

// run_sessionctl() that also reports the child's peak RSS; stdout and stderr go through files so
// that a big output costs the test no memory while it runs.
MeasuredRun run_measured(const std::vector<std::string>& args, const EnvOverrides& env = {}, int timeout_ms = 60000);

// Whether this build runs under AddressSanitizer (whose quarantine inflates RSS).
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kAsan = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kAsan = true;
#else
constexpr bool kAsan = false;
#endif
#else
constexpr bool kAsan = false;
#endif

}  // namespace testsupport
