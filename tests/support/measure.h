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
// that a big output costs the test no memory while it runs. The binary is started by a fresh copy of
// the test program (see measure_child_main): Linux counts a forked child's pages from before exec in
// its peak, so forking it from a test process that already holds a big output would inflate it.
MeasuredRun run_measured(const std::vector<std::string>& args, const EnvOverrides& env = {}, int timeout_ms = 60000);

// The test program's main calls this for `--measure-rss FILE PROGRAM ARGS...`: runs PROGRAM, writes
// its peak RSS in KiB to FILE and exits with its exit status (128 + signal when killed).
int measure_child_main(int argc, char** argv);

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
