#!/usr/bin/env bash
# Installs what is missing (Debian packages only), builds sessionctl and runs the whole test suite.
# With CI=true warnings are errors, a second build runs every test under ASan + UBSan, the format and
# clang-tidy checks must pass (scripts/lint.sh) and every fuzz target runs for a while (scripts/fuzz.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(build-essential cmake pkg-config git libhiredis-dev libzstd-dev zlib1g-dev zstd libcli11-dev nlohmann-json3-dev libfmt-dev catch2 php-cli
          libssl-dev redis-server redis-tools openssl groff-base man-db zsh fish libxml2-utils)
# CI also lints and fuzzes: clang-format, clang-tidy and clang with libFuzzer.
[ "${CI:-}" = true ] && packages+=(clang clang-format clang-tidy libclang-rt-14-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  if [ "$(id -u)" -ne 0 ]; then sudo=sudo; else sudo=; fi
  $sudo apt-get update -qq
  # Debian's redis-server package tries to start a service; tests start their own servers anyway.
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

jobs=${JOBS:-2}
werror=OFF
[ "${CI:-}" = true ] && werror=ON

cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSESSIONCTL_WERROR=$werror >/dev/null
cmake --build build -j"$jobs"
ctest --test-dir build -j"$jobs" --output-on-failure

if [ "${CI:-}" = true ] || [ "${SANITIZE:-}" = 1 ]; then
  cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DSESSIONCTL_SANITIZE=ON -DSESSIONCTL_WERROR=$werror >/dev/null
  cmake --build build-asan -j"$jobs"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-asan -j"$jobs" --output-on-failure
fi
if [ "${CI:-}" = true ]; then
  JOBS=$jobs scripts/lint.sh all
  JOBS=$jobs FUZZ_SECONDS=${FUZZ_SECONDS:-30} scripts/fuzz.sh
fi
echo "setup-and-test: all tests passed" >&2
