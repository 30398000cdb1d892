#!/usr/bin/env bash
# cross_test.sh: the portability check. Cross-compiles base/, boot/'s generic formats and
# devices/ with their unit tests for arm64 (Debian's g++-aarch64-linux-gnu, EMBER_PORTABLE) and
# runs the tests under qemu-aarch64-static. Builds into build-aarch64/.
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in aarch64-linux-gnu-g++ qemu-aarch64-static; do
    command -v "$tool" >/dev/null || { echo "cross_test.sh: $tool is missing (scripts/setup.sh installs it)" >&2; exit 1; }
done
# libfdt-dev:arm64 cannot be installed beside the host's libfdt-dev (same files, not
# multiarch): its static library is unpacked from Debian's package into build-aarch64/sysroot.
sysroot=build-aarch64/sysroot
fdt=$sysroot/usr/lib/aarch64-linux-gnu/libfdt.a
if [ ! -f "$fdt" ]; then
    mkdir -p build-aarch64/debs
    (cd build-aarch64/debs && apt-get download -q libfdt-dev:arm64 >/dev/null) ||
        { echo "cross_test.sh: apt-get download libfdt-dev:arm64 failed (dpkg --add-architecture arm64; apt-get update)" >&2; exit 1; }
    dpkg-deb -x build-aarch64/debs/libfdt-dev_*_arm64.deb "$sysroot"
fi
cmake -S . -B build-aarch64 -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEMBER_PORTABLE=ON \
      -DCMAKE_TOOLCHAIN_FILE="$(pwd)/scripts/cmake/aarch64-linux-gnu.cmake" \
      -DFDT_LIBRARY="$(pwd)/$fdt" -DFDT_INCLUDE_DIR="$(pwd)/$sysroot/usr/include" >/dev/null
cmake --build build-aarch64 -j "$(nproc)" --target portable_unit_tests
file build-aarch64/tests/unit/portable_unit_tests | grep -q "ARM aarch64" ||
    { echo "cross_test.sh: the test binary is not an arm64 executable" >&2; exit 1; }
qemu-aarch64-static build-aarch64/tests/unit/portable_unit_tests --gtest_brief=1
