#!/usr/bin/env bash
# fuzz_coverage.sh: line coverage of devices/ and boot/ that the fuzz
# corpora in fuzz-corpus/ reach (clang-14 source-based coverage: a build in build-cov/,
# llvm-profdata-14, llvm-cov-14).
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build-cov -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEMBER_FUZZ=ON -DEMBER_TESTS=OFF \
      -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 \
      "-DCMAKE_CXX_FLAGS=-fprofile-instr-generate -fcoverage-mapping" \
      "-DCMAKE_EXE_LINKER_FLAGS=-fprofile-instr-generate" >/dev/null
cmake --build build-cov -j "$(nproc)" >/dev/null
rm -rf build-cov/profiles && mkdir -p build-cov/profiles
objects=()
for corpus in fuzz-corpus/*/; do
    t=$(basename "$corpus")
    [ -x "build-cov/tests/fuzz/$t" ] || continue
    LLVM_PROFILE_FILE="build-cov/profiles/$t.profraw" "build-cov/tests/fuzz/$t" -runs=0 "$corpus" >/dev/null 2>&1 || true
    objects+=(-object "build-cov/tests/fuzz/$t")
done
[ ${#objects[@]} -gt 0 ] || { echo "fuzz_coverage.sh: no corpora in fuzz-corpus/ (run scripts/fuzz.sh first)" >&2; exit 1; }
llvm-profdata-14 merge -sparse build-cov/profiles/*.profraw -o build-cov/fuzz.profdata
llvm-cov-14 report "${objects[@]:1}" -instr-profile=build-cov/fuzz.profdata \
    "$(pwd)/devices" "$(pwd)/boot" | tail -n 40
