#!/usr/bin/env bash
# run_suite.sh EMBER GUESTS OUTDIR: Ember for arm64 on a real arm64 KVM. QEMU's TCG boots an L1
# (`-M virt,virtualization=on,gic-version=3 -cpu max`) with Debian's arm64 cloud kernel, whose
# built-in KVM gives it /dev/kvm (VHE, vGICv3); inside it the arm64 Ember (EMBER, a static
# binary) runs the arm64 test guests (GUESTS: tests/guests/aarch64/build.sh's Images).
# Two L1 boots: a GICv3 (every case), then a GICv2 (Ember's vGICv2 fallback). Writes
# OUTDIR/results.txt (one "CASE name PASS|FAIL why" line per case) and OUTDIR/l1-gicv{3,2}.log;
# fails if a case failed.
set -uo pipefail
[ -x "${1:-}" ] && [ -d "${2:-}" ] && [ -n "${3:-}" ] || { echo "usage: run_suite.sh EMBER GUESTS OUTDIR" >&2; exit 2; }
ember=$(realpath "$1") guests=$(realpath "$2")
out=$(mkdir -p "$3" && realpath "$3")
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cache=${EMBER_LINUX_CACHE:-$root/tests/linux/cache}
die() { echo "run_suite.sh: $*" >&2; exit 1; }
. "$here/arm64_programs.sh"
command -v qemu-system-aarch64 >/dev/null || die "qemu-system-aarch64 is needed (qemu-system-arm)"
file "$ember" | grep -q "ARM aarch64" || die "$ember is not an arm64 executable"

# Debian's arm64 cloud kernel and busybox (cached).
mkdir -p "$cache"
kernel_pkg=$(apt-cache depends linux-image-cloud-arm64:arm64 2>/dev/null | awk '/Depends: linux-image-[0-9]/{print $2; exit}')
kernel_pkg=${kernel_pkg%:arm64}
[ -n "$kernel_pkg" ] || die "no linux-image-cloud-arm64:arm64 in the apt lists (dpkg --add-architecture arm64; apt-get update)"
(cd "$cache" && for p in "$kernel_pkg" busybox-static; do
     ls "${p}"_*_arm64.deb >/dev/null 2>&1 || apt-get download -q "$p:arm64" >/dev/null 2>&1 || exit 1
 done) || die "apt-get download $kernel_pkg:arm64 busybox-static:arm64 failed"
work=$(mktemp -d /tmp/ember-arm64.XXXXXX)
trap 'rm -rf "$work"' EXIT
dpkg-deb -x "$cache/${kernel_pkg}"_*_arm64.deb "$work/kernel"
dpkg-deb -x "$cache"/busybox-static_*_arm64.deb "$work/busybox"

l1=$work/l1
mkdir -p "$l1/bin" "$l1/guests" "$l1/dev" "$l1/proc" "$l1/sys" "$l1/tmp"
cp "$work/busybox/bin/busybox" "$l1/bin/busybox"
cp "$ember" "$l1/bin/ember"
cp "$guests"/*.Image "$l1/guests/"
cp "$here/cases.sh" "$l1/cases.sh"
# The same Debian kernel as Ember's guest (its gzip-compressed Image), with an initramfs of
# busybox whose /init reports and powers off (PSCI SYSTEM_OFF).
# The virtio modules (the cloud kernel builds them as modules) for the devices case.
mkdir -p "$l1/linux" "$work/l2/bin" "$work/l2/proc" "$work/l2/sys" "$work/l2/dev" "$work/l2/modules"
cp "$work/kernel/boot/vmlinuz-${kernel_pkg#linux-image-}" "$l1/linux/vmlinuz"
cp "$work/busybox/bin/busybox" "$work/l2/bin/busybox"
modules=$work/kernel/lib/modules/${kernel_pkg#linux-image-}/kernel
for m in drivers/virtio/virtio drivers/virtio/virtio_ring drivers/virtio/virtio_mmio drivers/block/virtio_blk \
         drivers/char/hw_random/virtio-rng drivers/char/virtio_console; do
    cp "$modules/$m.ko" "$work/l2/modules/" || die "kernel module $m missing"
done
cat >"$work/l2/init" <<'L2INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
echo "GUEST userspace nproc=$(nproc) $(uname -m)"
if grep -q ember.case=devices /proc/cmdline; then
    # virtio-blk and virtio-rng through the device tree's virtio,mmio nodes and their SPIs.
    for m in virtio_ring virtio virtio_mmio virtio_blk virtio-rng virtio_console; do insmod /modules/$m.ko; done
    i=0
    while [ ! -b /dev/vda ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    echo "GUEST vda says: $(dd if=/dev/vda bs=16 count=1 2>/dev/null)"
    [ -b /dev/vda ] && echo "written by the arm64 guest" | dd of=/dev/vda bs=512 seek=1 conv=fsync 2>/dev/null && echo "GUEST vda written"
    [ "$(dd if=/dev/hwrng bs=32 count=1 2>/dev/null | od -An -tx1 | tr -d ' \n' | wc -c)" = 64 ] && echo "GUEST hwrng 32 bytes"
    i=0
    while [ ! -c /dev/hvc0 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    echo "hello from hvc0 on arm64" >/dev/hvc0 && echo "GUEST hvc0 written"
    echo "GUEST virtio irqs $(grep -c virtio /proc/interrupts)"
fi
poweroff -f
L2INIT
chmod +x "$work/l2/init"
(cd "$work/l2" && find . | cpio -o -H newc --quiet | gzip -1) >"$l1/linux/initramfs"

# The Linux suite's own cases (tests/linux/cases.sh with its guest, guest_init.sh: the same
# initramfs of busybox, the kernel's virtio modules and socat, the same assertions as on x86),
# run by the arm64 Ember in the GICv3 L1. Their host-side tools come from Debian's arm64
# packages: e2fsprogs (the blk case's ext4), socat (vsock, both sides) and virtiofsd.
linux_cases=${EMBER_ARM64_LINUX_CASES-shell smp_reboot blk net console rng vsock virtiofs panic sigterm initramfs_dir}
stage=$work/stage
unpack_arm64 "$cache/arm64-programs" "$stage" e2fsprogs socat qemu-system-common libc6 libblkid1 libcap-ng0 \
    libcom-err2 libext2fs2 libglib2.0-0 libgssapi-krb5-2 libk5crypto3 libkeyutils1 libkrb5-3 libkrb5support0 libnsl2 \
    libnuma1 libpcre2-8-0 libseccomp2 libss2 libssl3 libtirpc3 libuuid1 libwrap0 ||
    die "could not fetch e2fsprogs, socat and qemu-system-common (virtiofsd) for arm64"
suite=$l1/suite guest=$work/guest
mkdir -p "$suite/work" "$guest/bin" "$guest/lib/modules" "$guest/dev" "$guest/proc" "$guest/sys" "$guest/tmp"
cp "$work/busybox/bin/busybox" "$guest/bin/busybox"
cp "$root/tests/linux/guest_init.sh" "$guest/init"
. "$root/tests/linux/guest_modules.sh"
for m in $GUEST_MODULES; do
    cp "$modules/$m.ko" "$guest/lib/modules/" || die "kernel module $m missing"
done
copy_arm64 "$stage" "$guest" /bin /usr/bin/socat || die "socat for the guest"
(cd "$guest" && find . | cpio -o -H newc --quiet | gzip -1) >"$suite/initramfs"
cp -a "$guest" "$suite/guest-dir"  # the same tree for --initramfs-dir
cp "$work/kernel/boot/vmlinuz-${kernel_pkg#linux-image-}" "$suite/Image"
cp "$ember" "$suite/ember"
cp "$root/tests/linux/cases.sh" "$suite/cases.sh"
for p in /sbin/mke2fs /sbin/e2fsck /sbin/debugfs /usr/bin/socat /usr/lib/qemu/virtiofsd; do
    copy_arm64 "$stage" "$l1" /opt/bin "$p" || die "$p for the L1"
done
# L1's root is the initramfs, which virtiofsd's default sandbox (pivot_root) cannot leave:
# there it confines itself with chroot instead (as in the x86 suite's L1).
printf '#!/bin/sh\nexec /opt/bin/virtiofsd "$@" -o sandbox=chroot\n' >"$l1/opt/bin/virtiofsd-chroot"
chmod +x "$l1/opt/bin/virtiofsd-chroot"
mkdir -p "$l1/lib/modules"
cp "$modules/drivers/net/tun.ko" "$l1/lib/modules/" || die "kernel module tun missing"
cat >"$l1/init" <<'INIT'
#!/bin/busybox sh
# The initramfs is rootfs, which pivot_root cannot leave (virtiofsd's sandbox): go on from a
# bind mount of it, which can.
if [ -z "$L1_REROOTED" ]; then
    /bin/busybox mkdir -p /l1root
    /bin/busybox mount --bind / /l1root
    export L1_REROOTED=1
    exec /bin/busybox chroot /l1root /init
fi
/bin/busybox --install -s /bin
export PATH=/opt/bin:/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs -o size=1200M tmpfs /suite/work
insmod /lib/modules/tun.ko || echo "L1: insmod tun failed"
ip link set lo up
echo "L1: $(ls -l /dev/kvm 2>&1)"
gic=$(sed -n 's/.*ember.gic=\([23]\).*/\1/p' /proc/cmdline)
sh /cases.sh /guests "$gic"
if [ "$gic" = 3 ]; then
    export EMBER_LINUX_CASES=$(sed -n 's/.*ember.cases=\([^ ]*\).*/\1/p' /proc/cmdline | tr , ' ')
    export EMBER_LINUX_QEMU=0 EMBER_LINUX_KERNEL=/suite/Image EMBER_LINUX_NET_MIB=16
    export MKE2FS=/opt/bin/mke2fs E2FSCK=/opt/bin/e2fsck DEBUGFS=/opt/bin/debugfs EMBER_VIRTIOFSD=/opt/bin/virtiofsd-chroot
    [ -z "$EMBER_LINUX_CASES" ] || sh /suite/cases.sh /suite | grep -v '^CASES-DONE'
fi
echo "CASES-DONE"
poweroff -f
INIT
chmod +x "$l1/init"
(cd "$l1" && find . | cpio -o -H newc --quiet) >"$work/l1.cpio"
# l1 GIC: one L1 boot with a GICv3 (every case) or a GICv2 (the fallback's cases); its
# serial output in OUTDIR/l1-gicvGIC.log.
l1() {
    echo "run_suite.sh: booting the arm64 L1 under QEMU TCG (-M virt,virtualization=on,gic-version=$1 -cpu max)"
    timeout "${EMBER_ARM64_TIMEOUT:-1500}" qemu-system-aarch64 -M "virt,virtualization=on,gic-version=$1" -cpu max \
        -smp 2 -m 2G -nographic -no-reboot -nodefaults -serial stdio \
        -kernel "$work/kernel/boot/vmlinuz-${kernel_pkg#linux-image-}" -initrd "$work/l1.cpio" \
        -append "console=ttyAMA0 panic=-1 quiet ember.gic=$1 ember.cases=$(echo $linux_cases | tr ' ' ,)" </dev/null 2>&1 | sed -u 's/\r$//' >"$out/l1-gicv$1.log"
    grep -q '^CASES-DONE' "$out/l1-gicv$1.log" || echo "CASE l1_gicv$1 FAIL the L1 did not run its cases to the end (see $out/l1-gicv$1.log)"
}
{ l1 3; l1 2; } >"$out/l1-results.txt"
cat "$out/l1-results.txt"
cat "$out"/l1-gicv3.log "$out"/l1-gicv2.log "$out/l1-results.txt" | grep '^CASE ' >"$out/results.txt"
echo "run_suite.sh: $(grep -c ' PASS$' "$out/results.txt") passed, $(grep -c ' FAIL ' "$out/results.txt") failed"
! grep -q ' FAIL ' "$out/results.txt"
