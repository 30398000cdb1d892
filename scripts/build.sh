#!/usr/bin/env bash
# build.sh [release|asan]: configures and builds into build/ or build-asan/.
set -euo pipefail
cd "$(dirname "$0")/.."
kind=${1:-release}
case $kind in
release) dir=build; flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo) ;;
asan)    dir=build-asan; flags=(-DCMAKE_BUILD_TYPE=Debug -DEMBER_SANITIZE=ON) ;;
*) echo "build.sh: unknown build kind '$kind' (release, asan)" >&2; exit 2 ;;
esac
cmake -S . -B "$dir" -G Ninja "${flags[@]}" >/dev/null
cmake --build "$dir" -j "$(nproc)"
echo "$dir"
