#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/) with clang, ASan and UBSan in build-fuzz/ and runs each one
# for FUZZ_SECONDS (default 30) from its seed corpus in fuzz/corpus/. A crash, leak or sanitizer
# report fails the run and leaves the reproducer in build-fuzz/artifacts/.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-30}
jobs=${JOBS:-2}
targets=(url profiles json_probe present_value server_replies archive_reader jdk php_session)

launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S . -B build-fuzz -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSESSIONCTL_FUZZ=ON \
  -DSESSIONCTL_TESTS=OFF "${launcher[@]}" >/dev/null
cmake --build build-fuzz -j"$jobs" --target "${targets[@]/#/fuzz_}"

mkdir -p build-fuzz/artifacts
for t in "${targets[@]}"; do
  # New inputs go to a scratch corpus, so the checked-in seeds stay small.
  work=build-fuzz/corpus/$t
  mkdir -p "$work"
  echo "fuzz: $t for ${seconds}s" >&2
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "build-fuzz/fuzz/fuzz_$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="build-fuzz/artifacts/$t-" "$work" "fuzz/corpus/$t" 2>"build-fuzz/fuzz_$t.log" || {
    tail -40 "build-fuzz/fuzz_$t.log" >&2
    echo "fuzz: $t failed; reproducer in build-fuzz/artifacts/ (run build-fuzz/fuzz/fuzz_$t FILE)" >&2
    exit 1
  }
  grep -E '^stat::number_of_executed_units' "build-fuzz/fuzz_$t.log" | sed "s/^/fuzz: $t: /" >&2 || true
done
echo "fuzz: ${#targets[@]} targets ran ${seconds}s each without a crash" >&2
