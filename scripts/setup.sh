#!/usr/bin/env bash
# setup.sh: installs Ember's build and test dependencies from Debian's packages.
# Idempotent: installs only what is missing. Needs root (or sudo) when something is missing.
set -euo pipefail

packages=(
    build-essential cmake ninja-build pkg-config     # toolchain
    linux-libc-dev                                   # KVM UAPI headers
    libspdlog-dev libfmt-dev libcli11-dev libfdt-dev # libraries
    liburing-dev                                     # virtio-blk engine=io_uring
    zlib1g-dev qemu-utils                            # qcow2: compressed clusters; qemu-img/qemu-io as references
    libseccomp-dev strace                            # seccomp filters; strace to find a call one forbids
    nlohmann-json3-dev libboost-dev                  # the API: JSON, HTTP (Boost.Beast, header-only)
    python3 python3-jsonschema curl                  # API tests: real clients, Firecracker's schemas
    libgtest-dev                                     # unit tests
    clang-14 libclang-rt-14-dev                      # libFuzzer targets
    qemu-system-x86 qemu-system-data seabios         # reference VMM for differential tests
    busybox-static cpio util-linux lz4 e2fsprogs     # Linux suite (vmlinux from the bzImage, ext4), setpriv
    socat                                            # Linux suite: vsock both ways (guest and host side)
    acpica-tools                                     # iasl: the DSDT test disassembles Ember's AML
    iproute2 iputils-ping                            # virtio-net test: netns, TAP, ping
    g++-aarch64-linux-gnu qemu-user-static file      # arm64: the cross build, its unit tests under qemu-user
    zlib1g-dev:arm64 liburing-dev:arm64              # the arm64 build's libraries (multiarch; libfdt: cross_test.sh)
    libseccomp-dev:arm64 libspdlog-dev:arm64 libboost-dev:arm64
    device-tree-compiler                             # dtc reads Ember's arm64 device tree back (unit test)
    qemu-system-arm                                  # the arm64 L1 whose KVM runs the arm64 Ember (tests/aarch64)
)

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "setup.sh: all dependencies are installed"
    exit 0
fi

sudo=()
if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null || { echo "setup.sh: run as root to install: ${missing[*]}" >&2; exit 1; }
    sudo=(sudo)
fi
echo "setup.sh: installing ${missing[*]}"
# The arm64 libraries come from Debian's multiarch packages.
dpkg --print-foreign-architectures | grep -qx arm64 || "${sudo[@]}" dpkg --add-architecture arm64
"${sudo[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
