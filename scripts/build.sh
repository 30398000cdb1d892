#!/usr/bin/env bash
# build.sh [release|asan|fuzz]: configures and builds into build/, build-asan/ or build-fuzz/.
set -euo pipefail
cd "$(dirname "$0")/.."
kind=${1:-release}
# Debug information is line tables only (-g1): enough for backtraces, sanitizer reports and
# profiles, at a fraction of the build time full variable information takes.
case $kind in
release) dir=build; flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -g1 -DNDEBUG"
                            "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O2 -g1 -DNDEBUG") ;;
asan)    dir=build-asan; flags=(-DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG=-g1 -DCMAKE_C_FLAGS_DEBUG=-g1
                                -DEMBER_SANITIZE=ON) ;;
fuzz)    dir=build-fuzz; flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DEMBER_FUZZ=ON -DEMBER_TESTS=OFF
                                -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14) ;;
*) echo "build.sh: unknown build kind '$kind' (release, asan, fuzz)" >&2; exit 2 ;;
esac
# EMBER_UNITY=1 (the test command's one-shot builds): unity builds, a few sources of a target
# compiled as one file, which parses each header once per batch rather than once per source.
# The fuzz build stays one file per source (so each still compiles on its own).
[ "${EMBER_UNITY:-0}" = 0 ] || [ "$kind" = fuzz ] || flags+=(-DCMAKE_UNITY_BUILD=ON -DCMAKE_UNITY_BUILD_BATCH_SIZE=16)
cmake -S . -B "$dir" -G Ninja "${flags[@]}" >/dev/null
# The fuzz build serves the fuzzers' smoke runs alone: the binaries are the other builds'.
targets=()
[ "$kind" = fuzz ] && targets=(--target fuzzers)
cmake --build "$dir" -j "$(nproc)" "${targets[@]}"
echo "$dir"
