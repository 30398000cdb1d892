#!/usr/bin/env bash
# run_suite.sh EMBER GUESTS OUTDIR: Ember for arm64 on a real arm64 KVM. QEMU's TCG boots an L1
# (`-M virt,virtualization=on,gic-version=3 -cpu max`) with Debian's arm64 cloud kernel, whose
# built-in KVM gives it /dev/kvm (VHE, vGICv3); inside it the arm64 Ember (EMBER, a static
# binary) runs the arm64 test guests (GUESTS: tests/guests/aarch64/build.sh's Images) and the
# Linux suite's cases with the same kernel, and QEMU's `-M virt` runs the same guests and
# cases (the differential). Two L1 boots: a GICv3 (every case), then a GICv2 (Ember's vGICv2
# fallback: its own tiny-guest cases and Linux on 2 and 4 vCPUs with virtio interrupts). Writes
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
# The kernel's modules: the guest's virtio drivers (the cloud kernel builds them as modules)
# and the L1's tun.
modules=$work/kernel/lib/modules/${kernel_pkg#linux-image-}/kernel

# The Linux suite's own cases (tests/linux/cases.sh with its guest, guest_init.sh: the same
# initramfs of busybox, the kernel's virtio modules and socat, the same assertions as on x86),
# run by the arm64 Ember in the GICv3 L1, then (the differential) by QEMU's `-M virt` on the
# same KVM; in the GICv2 L1, those of them that show Linux on the vGICv2 (SMP, the virtio
# interrupts of blk and rng), Ember only, named linux_<case>_gicv2. Their host-side tools come
# from Debian's arm64 packages: e2fsprogs (the blk case's ext4), socat (vsock, both sides),
# virtiofsd, qemu-img (qcow2) and qemu-system-aarch64 itself; ember-jailer (jailer_v2) is
# built beside Ember.
linux_cases=${EMBER_ARM64_LINUX_CASES-shell smp_reboot blk net console rng vsock virtiofs panic sigterm initramfs_dir qcow2 jailer_v2}
gicv2_cases=${EMBER_ARM64_GICV2_CASES-smp_reboot blk rng}
stage=$work/stage
unpack_arm64 "$cache/arm64-programs" "$stage" e2fsprogs socat qemu-system-common qemu-system-arm qemu-utils libc6 libblkid1 \
    libcap-ng0 libcom-err2 libext2fs2 libglib2.0-0 libgssapi-krb5-2 libk5crypto3 libkeyutils1 libkrb5-3 libkrb5support0 \
    libnsl2 libnuma1 libpcre2-8-0 libseccomp2 libss2 libssl3 libtirpc3 libuuid1 libwrap0 \
    libaio1 libbpf1 libcapstone4 libdaxctl1 libelf1 libfdt1 libffi8 libfuse3-3 libgcc-s1 libgmp10 libgnutls30 \
    libhogweed6 libibverbs1 libidn2-0 libjpeg62-turbo libkmod2 liblzma5 libmount1 libndctl6 libnettle8 libnl-3-200 \
    libnl-route-3-200 libp11-kit0 libpixman-1-0 libpmem1 libpng16-16 librdmacm1 libsasl2-2 libselinux1 libslirp0 \
    libtasn1-6 libudev1 libunistring2 liburing2 libvdeplug2 libzstd1 zlib1g ||
    die "could not fetch e2fsprogs, socat, virtiofsd, qemu-img and qemu-system-aarch64 for arm64"
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
[ -x "$(dirname "$ember")/ember-jailer" ] || die "no arm64 ember-jailer beside $ember"
cp "$(dirname "$ember")/ember-jailer" "$suite/ember-jailer"
cp "$root/tests/linux/cases.sh" "$suite/cases.sh"
for p in /sbin/mke2fs /sbin/e2fsck /sbin/debugfs /usr/bin/socat /usr/lib/qemu/virtiofsd /usr/bin/qemu-img /usr/bin/qemu-system-aarch64; do
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
mount -t cgroup2 cgroup2 /sys/fs/cgroup
mount -t tmpfs -o size=1200M tmpfs /suite/work
insmod /lib/modules/tun.ko || echo "L1: insmod tun failed"
ip link set lo up
echo "L1: $(ls -l /dev/kvm 2>&1)"
gic=$(sed -n 's/.*ember.gic=\([23]\).*/\1/p' /proc/cmdline)
sh /cases.sh /guests "$gic"
export EMBER_LINUX_CASES=$(sed -n 's/.*ember.cases=\([^ ]*\).*/\1/p' /proc/cmdline | tr , ' ')
export EMBER_LINUX_KERNEL=/suite/Image EMBER_LINUX_NET_MIB=16
export MKE2FS=/opt/bin/mke2fs E2FSCK=/opt/bin/e2fsck DEBUGFS=/opt/bin/debugfs QEMU_IMG=/opt/bin/qemu-img
export EMBER_VIRTIOFSD=/opt/bin/virtiofsd-chroot
if [ -n "$EMBER_LINUX_CASES" ] && [ "$gic" = 3 ]; then
    sh /suite/cases.sh /suite | grep -v '^CASES-DONE'
elif [ -n "$EMBER_LINUX_CASES" ]; then
    EMBER_LINUX_QEMU=0 sh /suite/cases.sh /suite | grep -v '^CASES-DONE' | sed 's/^CASE \([^ ]*\) /CASE linux_\1_gicv2 /'
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
    local cases=$linux_cases
    [ "$1" = 3 ] || cases=$gicv2_cases
    timeout "${EMBER_ARM64_TIMEOUT:-1500}" qemu-system-aarch64 -M "virt,virtualization=on,gic-version=$1" -cpu max \
        -smp 2 -m 2G -nographic -no-reboot -nodefaults -serial stdio \
        -kernel "$work/kernel/boot/vmlinuz-${kernel_pkg#linux-image-}" -initrd "$work/l1.cpio" \
        -append "console=ttyAMA0 panic=-1 quiet ember.gic=$1 ember.cases=$(echo $cases | tr ' ' ,)" </dev/null 2>&1 | sed -u 's/\r$//' >"$out/l1-gicv$1.log"
    grep -q '^CASES-DONE' "$out/l1-gicv$1.log" || echo "CASE l1_gicv$1 FAIL the L1 did not run its cases to the end (see $out/l1-gicv$1.log)"
}
{ l1 3; l1 2; } >"$out/l1-results.txt"
cat "$out/l1-results.txt"
cat "$out"/l1-gicv3.log "$out"/l1-gicv2.log "$out/l1-results.txt" | grep '^CASE ' >"$out/results.txt"
echo "run_suite.sh: $(grep -c ' PASS$' "$out/results.txt") passed, $(grep -c ' FAIL ' "$out/results.txt") failed"
! grep -q ' FAIL ' "$out/results.txt"
