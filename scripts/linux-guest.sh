#!/usr/bin/env bash
# linux-guest.sh OUTDIR
# Builds the Linux boot-suite guest from Debian packages only: the cloud kernel
# (linux-image-*-cloud-amd64, fetched with apt-get download) and a busybox-static initramfs
# whose /init prints a marker and reboots (Ember exits 0 on the i8042 reset, reboot=k).
# Leaves OUTDIR/vmlinuz and OUTDIR/initramfs.cpio.gz; does nothing when both exist.
set -euo pipefail
out=$1
mkdir -p "$out"
[ -s "$out/vmlinuz" ] && [ -s "$out/initramfs.cpio.gz" ] && exit 0

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
kernel_pkg=$(apt-cache depends linux-image-cloud-amd64 | awk '/Depends: linux-image-[0-9]/{print $2; exit}')
[ -n "$kernel_pkg" ] || { echo "linux-guest.sh: no linux-image-cloud-amd64 in the apt lists (run apt-get update)" >&2; exit 1; }
apt-get download -q "$kernel_pkg" busybox-static >/dev/null
dpkg-deb -x linux-image-*.deb kernel
dpkg-deb -x busybox-static_*.deb busybox

mkdir -p root/bin root/dev root/proc root/sys
cp busybox/bin/busybox root/bin/busybox
cat >root/init <<'INIT'
#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
/bin/busybox echo "EMBER-LINUX-INIT-OK cpus=$(/bin/busybox nproc)"
/bin/busybox reboot -f
INIT
chmod +x root/init
(cd root && find . | cpio -o -H newc --quiet | gzip -9) >"$out/initramfs.cpio.gz"
cp kernel/boot/vmlinuz-* "$out/vmlinuz"
echo "linux-guest.sh: $kernel_pkg + busybox-static in $out"
