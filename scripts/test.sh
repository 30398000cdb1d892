#!/usr/bin/env bash
# test.sh: the whole test suite from a fresh machine: dependencies, a release build and an
# ASan+UBSan build with every CTest test (unit, test guests, QEMU differential, virtio-blk,
# bad input, signals, Linux boot; the sanitizer build its device cases) in both, then a clang
# build of the libFuzzer targets with a smoke run of each, and arm64 (the whole of Ember
# cross-compiled, its portable unit tests under qemu-aarch64-static, the arm64 guests and
# Debian's arm64 kernel under the arm64 Ember on a nested arm64 KVM).
#
# Builds run beside the tests at the lowest CPU priority (nice 19: the tests' timing is not
# theirs to change): the sanitizer build beside the release tests; the fuzz build with its
# smoke runs, then the arm64 build, beside the sanitizer tests. The arm64 tests come last, on
# their own: two nested L1s at once (the x86 suite's and the arm64 suite's) starved each other
# into time-outs. A background job's output is shown when it is joined; build-logs/ keeps it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export EMBER_UNITY=1  # one-shot builds: unity builds (scripts/build.sh)
logs=build-logs
mkdir -p "$logs"
start=$(date +%s)
phase() { echo "== test.sh +$(( $(date +%s) - start ))s: $*"; }
declare -A bg_pids
# Background jobs each lead their own process group; one still running when this ends (a
# failure elsewhere) ends with it.
trap 'for pid in "${bg_pids[@]}"; do kill -- "-$pid" 2>/dev/null || true; done' EXIT
background() {  # background NAME COMMAND...: starts COMMAND, output in build-logs/NAME.log
    local name=$1
    shift
    setsid "$@" >"$logs/$name.log" 2>&1 &
    bg_pids[$name]=$!
    phase "started in the background: $name"
}
join() {  # join NAME: waits for it, shows its output, and stops here if it failed
    local status=0
    wait "${bg_pids[$1]}" || status=$?
    unset "bg_pids[$1]"
    phase "joined: $1 (status $status)"
    sed "s/^/[$1] /" "$logs/$1.log"
    [ "$status" = 0 ] || { echo "test.sh: $1 failed with status $status (build-logs/$1.log)" >&2; exit 1; }
}
tests() { ctest --test-dir "$1" --output-on-failure -j "$(nproc)"; }
# The fuzz build, its smoke runs and the arm64 build: one background job, in that order.
fuzz_and_arm64_build() {
    set -euo pipefail
    scripts/build.sh fuzz
    tests build-fuzz
    echo "== build: arm64 (build-aarch64)"
    scripts/cross_test.sh build
}

phase "build: release"
scripts/build.sh release
background asan-build nice -n 19 scripts/build.sh asan
phase "tests: release build (build)"
tests build
join asan-build
export -f tests fuzz_and_arm64_build
background fuzz-arm64-build nice -n 19 bash -c fuzz_and_arm64_build
phase "tests: asan build (build-asan)"
tests build-asan
join fuzz-arm64-build
phase "tests: arm64 (build-aarch64)"
scripts/cross_test.sh test
phase "all passed"
