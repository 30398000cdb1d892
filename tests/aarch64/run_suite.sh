#!/usr/bin/env bash
# run_suite.sh EMBER GUESTS OUTDIR: Ember for arm64 on a real arm64 KVM. QEMU's TCG boots an L1
# (`-M virt,virtualization=on,gic-version=3 -cpu max`) with Debian's arm64 cloud kernel, whose
# built-in KVM gives it /dev/kvm (VHE, vGICv3); inside it the arm64 Ember (EMBER, a static
# binary) runs the arm64 test guests (GUESTS: tests/guests/aarch64/build.sh's Images).
# Writes OUTDIR/results.txt (one "CASE name PASS|FAIL why" line per case) and OUTDIR/l1.log.
set -uo pipefail
[ -x "${1:-}" ] && [ -d "${2:-}" ] && [ -n "${3:-}" ] || { echo "usage: run_suite.sh EMBER GUESTS OUTDIR" >&2; exit 2; }
ember=$(realpath "$1") guests=$(realpath "$2")
out=$(mkdir -p "$3" && realpath "$3")
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cache=${EMBER_LINUX_CACHE:-$root/tests/linux/cache}
die() { echo "run_suite.sh: $*" >&2; exit 1; }
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
cat >"$l1/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
echo "L1: $(ls -l /dev/kvm 2>&1)"
sh /cases.sh /guests
echo "CASES-DONE"
poweroff -f
INIT
chmod +x "$l1/init"
(cd "$l1" && find . | cpio -o -H newc --quiet) >"$work/l1.cpio"
echo "run_suite.sh: booting the arm64 L1 under QEMU TCG (-M virt,virtualization=on,gic-version=3 -cpu max)"
timeout "${EMBER_ARM64_TIMEOUT:-600}" qemu-system-aarch64 -M virt,virtualization=on,gic-version=3 -cpu max -smp 2 -m 2G \
    -nographic -no-reboot -nodefaults -serial stdio -kernel "$work/kernel/boot/vmlinuz-${kernel_pkg#linux-image-}" \
    -initrd "$work/l1.cpio" -append "console=ttyAMA0 panic=-1 quiet" </dev/null 2>&1 |
    sed -u 's/\r$//' >"$out/l1.log"
grep '^CASE ' "$out/l1.log" >"$out/results.txt"
grep -q '^CASES-DONE' "$out/l1.log" || die "the arm64 suite did not run to the end (see $out/l1.log)"
echo "run_suite.sh: $(grep -c ' PASS$' "$out/results.txt") passed, $(grep -c ' FAIL ' "$out/results.txt") failed"
