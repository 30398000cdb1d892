#!/usr/bin/env bash
# cross_test.sh: Ember for arm64. Cross-compiles the whole of Ember (Debian's
# g++-aarch64-linux-gnu, the multiarch libraries) with the unit tests that do not depend on the
# machine, runs those under qemu-aarch64-static, builds the arm64 test guests, and runs them
# under the arm64 Ember on a real arm64 KVM: an L1 that QEMU's TCG boots with Debian's arm64
# cloud kernel (tests/aarch64/run_suite.sh). Builds into build-aarch64/.
# cross_test.sh build: the build alone (Ember, the unit tests, the guests); cross_test.sh test:
# the tests alone, on that build; neither: both.
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-all}
case $what in all | build | test) ;; *) echo "cross_test.sh: unknown '$what' (build, test)" >&2; exit 2 ;; esac
for tool in aarch64-linux-gnu-g++ qemu-aarch64-static qemu-system-aarch64; do
    command -v "$tool" >/dev/null || { echo "cross_test.sh: $tool is missing (scripts/setup.sh installs it)" >&2; exit 1; }
done
build() {
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
    PKG_CONFIG_LIBDIR=/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig \
        cmake -S . -B build-aarch64 -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE="-O2 -DNDEBUG" \
          -DCMAKE_C_FLAGS_RELEASE="-O2 -DNDEBUG" -DEMBER_TESTS=OFF -DEMBER_PORTABLE=OFF \
          -DCMAKE_UNITY_BUILD="$([ "${EMBER_UNITY:-0}" = 0 ] && echo OFF || echo ON)" -DCMAKE_UNITY_BUILD_BATCH_SIZE=16 \
          -DCMAKE_TOOLCHAIN_FILE="$(pwd)/scripts/cmake/aarch64-linux-gnu.cmake" \
          -DFDT_LIBRARY="$(pwd)/$fdt" -DFDT_INCLUDE_DIR="$(pwd)/$sysroot/usr/include" >/dev/null
    cmake --build build-aarch64 -j "$(nproc)" --target ember ember-jailer portable_unit_tests
    for binary in build-aarch64/ember build-aarch64/ember-jailer build-aarch64/tests/unit/portable_unit_tests; do
        file "$binary" | grep -q "ARM aarch64" || { echo "cross_test.sh: $binary is not an arm64 executable" >&2; exit 1; }
    done
    tests/guests/aarch64/build.sh build-aarch64/guests
}
run_tests() {
    echo "== arm64: unit tests under qemu-aarch64-static"
    qemu-aarch64-static build-aarch64/tests/unit/portable_unit_tests --gtest_brief=1
    echo "== arm64: test guests and Debian's kernel on arm64 KVM (nested, QEMU TCG)"
    status=0
    tests/aarch64/run_suite.sh build-aarch64/ember build-aarch64/guests build-aarch64/suite || status=$?
    cat build-aarch64/suite/results.txt
    return "$status"
}
[ "$what" = test ] || build
[ "$what" = build ] || run_tests
