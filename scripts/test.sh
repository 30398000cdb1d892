#!/usr/bin/env bash
# test.sh: the whole test suite from a fresh machine: dependencies, a release build and an
# ASan+UBSan build with every CTest test (unit, test guests, QEMU differential, virtio-blk,
# bad input, signals, Linux boot; the sanitizer build its device cases) in both, then a clang
# build of the libFuzzer targets with a smoke run of each, and arm64 (the whole of Ember
# cross-compiled, its portable unit tests under qemu-aarch64-static, the arm64 guests and
# Debian's arm64 kernel under the arm64 Ember on a nested arm64 KVM).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
for kind in release asan fuzz; do
    dir=$(scripts/build.sh "$kind" | tail -n 1)
    echo "== tests: $kind build ($dir)"
    ctest --test-dir "$dir" --output-on-failure -j "$(nproc)"
done
echo "== tests: arm64 (build-aarch64)"
scripts/cross_test.sh
