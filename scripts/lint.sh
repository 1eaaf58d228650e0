#!/usr/bin/env bash
# Format and lint, as CI runs them; exits non-zero on the first kind of violation it finds.
#   format: every tracked .h/.cpp must be what clang-format makes of it (.clang-format);
#   tidy:   the checks .clang-tidy keeps, as errors, over every src/, commands/ and tools/ file,
#           using the compile commands of BUILD_DIR (default build/, configured by the caller).
# Usage: scripts/lint.sh [format|tidy|all]
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-all}
build=${BUILD_DIR:-build}
jobs=${JOBS:-2}

if [ "$what" = format ] || [ "$what" = all ]; then
  mapfile -t files < <(git ls-files '*.h' '*.cpp')
  clang-format --dry-run --Werror "${files[@]}"
  echo "lint: clang-format: ${#files[@]} files clean" >&2
fi

if [ "$what" = tidy ] || [ "$what" = all ]; then
  [ -f "$build/compile_commands.json" ] || { echo "lint: $build/compile_commands.json missing: configure first" >&2; exit 2; }
  mapfile -t files < <(git ls-files 'src/*.cpp' 'commands/*.cpp' 'tools/*.cpp')
  start=$(date +%s)
  if command -v run-clang-tidy-14 >/dev/null; then
    # Each argument is a regex over compile_commands.json's file names: anchor them on the tree.
    run-clang-tidy-14 -p "$build" -j "$jobs" -quiet "${files[@]/#/^$PWD/}" >"$build/clang-tidy.log" 2>&1 || {
      grep -E 'error:|warning:' "$build/clang-tidy.log" | sort -u >&2
      echo "lint: clang-tidy found the errors above (full log: $build/clang-tidy.log)" >&2
      exit 1
    }
  else
    status=0
    for f in "${files[@]}"; do clang-tidy -p "$build" --quiet "$f" 2>/dev/null || status=1; done
    [ $status -eq 0 ] || { echo "lint: clang-tidy found errors" >&2; exit 1; }
  fi
  echo "lint: clang-tidy: ${#files[@]} files clean in $(($(date +%s) - start)) s" >&2
fi
