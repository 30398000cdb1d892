#!/usr/bin/env bash
# test.sh: the whole test suite from a fresh machine: dependencies, a release build and an
# ASan+UBSan build, and every CTest test (unit, test guests, QEMU differential, bad input,
# signals, Linux boot) in both.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
for kind in release asan; do
    dir=$(scripts/build.sh "$kind" | tail -n 1)
    echo "== tests: $kind build ($dir)"
    ctest --test-dir "$dir" --output-on-failure -j "$(nproc)"
done
