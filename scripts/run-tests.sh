#!/usr/bin/env bash
# Runs every test suite (lit FileCheck tests and gtest unit tests through lit)
# and ends with one line `N passed, N failed`.
#   scripts/run-tests.sh BUILD_DIR LIT
set -u
build=${1:-build}
lit=${2:-/usr/lib/llvm-22/bin/lit}
log=$(mktemp)
trap 'rm -f "$log"' EXIT

"$lit" -sv "$build/test" "$build/unittests" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}

# lit's summary lines look like "  Passed           : 12 (100.00%)".
count() { awk -F: -v key="$1" '$1 ~ "^ *"key" *$" { split($2, a, " "); n += a[1] } END { print n + 0 }' "$log"; }
passed=$(( $(count Passed) + $(count "Expectedly Failed") ))
failed=$(( $(count Failed) + $(count Unresolved) + $(count "Timed Out") + $(count "Unexpectedly Passed") ))
echo
echo "$passed passed, $failed failed"
[ "$status" = 0 ] && [ "$failed" = 0 ]
