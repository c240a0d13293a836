#!/usr/bin/env bash
# Runs every test suite (lit FileCheck tests and gtest unit tests through lit)
# and ends with one line `N passed, N failed`.
#   scripts/run-tests.sh BUILD_DIR LIT
set -u
build=${1:-build}
lit=${2:-/usr/lib/llvm-22/bin/lit}
log=$(mktemp)
trap 'rm -f "$log" "$pylog"' EXIT

# make test-asan: report every ASan/UBSan finding with a stack and fail;
# lsan.supp lists the one-time allocations of uninstrumented libraries.
pyenv=()
if [ "${SATTN_SANITIZER:-}" = address ]; then
  export ASAN_OPTIONS=abort_on_error=0:detect_stack_use_after_return=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  export LSAN_OPTIONS=suppressions=$(pwd)/test/lsan.supp:print_suppressions=0
  runtime=$(sed -n 's/^SATTN_ASAN_RUNTIME:INTERNAL=//p' "$build/CMakeCache.txt")
  pyenv=(env "LD_PRELOAD=$runtime" "ASAN_OPTIONS=$ASAN_OPTIONS:detect_leaks=0")
fi

"$lit" -sv "$build/test" "$build/unittests" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}

# The Python package's tests (pytest), against this build's libsattn-capi.so.
pylog=$(mktemp)
SATTN_LIBRARY="$build/lib/libsattn-capi.so" "${pyenv[@]}" "${PYTHON:-python3}" -m pytest -q python/tests 2>&1 | tee "$pylog"
[ "${PIPESTATUS[0]}" = 0 ] || status=1

# lit's summary lines look like "  Passed           : 12 (100.00%)".
count() { awk -F: -v key="$1" '$1 ~ "^ *"key" *$" { split($2, a, " "); n += a[1] } END { print n + 0 }' "$log"; }
# pytest's summary: "27 passed, 1 failed in 3.2s".
pycount() { grep -oE "[0-9]+ $1" "$pylog" | tail -1 | cut -d' ' -f1; }
pyPassed=$(pycount passed); pyFailed=$(pycount failed); pyErrors=$(pycount error)
passed=$(( $(count Passed) + $(count "Expectedly Failed") + ${pyPassed:-0} ))
failed=$(( $(count Failed) + $(count Unresolved) + $(count "Timed Out") + $(count "Unexpectedly Passed") + ${pyFailed:-0} + ${pyErrors:-0} ))
echo
echo "$passed passed, $failed failed"
[ "$status" = 0 ] && [ "$failed" = 0 ]
