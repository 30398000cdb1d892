#!/bin/sh
# cases.sh GUESTS GIC: inside the arm64 L1, Ember runs each arm64 test guest; one
# "CASE name PASS" or "CASE name FAIL why" line per case. GIC: the L1's interrupt controller,
# 3 (every case) or 2 (a host with no GICv3: the cases that show Ember's vGICv2 fallback).
guests=$1 gic=${2:-3}
case_run() {  # case_run NAME STATUS LINE EMBER_ARGS...: one case; LINE on the serial port or stderr
    name=$1 want=$2 line=$3
    shift 3
    timeout "${LIMIT:-60}" ember --memory "${MEMORY:-128M}" "$@" </dev/null >"/tmp/$name.out" 2>"/tmp/$name.err"
    status=$?
    sed "s/^/$name| /" "/tmp/$name.out" "/tmp/$name.err"
    if [ "$status" != "$want" ]; then
        echo "CASE $name FAIL exit status $status, not $want"
    elif ! grep -q -- "$line" "/tmp/$name.out" "/tmp/$name.err"; then
        echo "CASE $name FAIL no '$line' from the guest or Ember"
    else
        echo "CASE $name PASS"
    fi
}
# A host whose KVM has only a vGICv2: Ember says it falls back to it, the guests and Debian's
# kernel run on it (interrupts through the v2 distributor and CPU interface), and more vCPUs
# than a GICv2 serves (KVM's limit there, 8) are refused with one line, status 2.
if [ "$gic" = 2 ]; then
    case_run hello_gicv2 0 "interrupt controller: vGICv2" --kernel "$guests/hello.Image" --log-level info
    case_run smp4_gicv2 1 "smp: 4 cpus online" --kernel "$guests/smp.Image" --cpus 4 --debug-exit --cmdline "cpus=4"
    case_run rng_gicv2 1 "rng: done" --kernel "$guests/rng.Image" --debug-exit --virtio-mmio-cmdline
    case_run cpus9_gicv2 2 "this KVM allows at most 8 vCPUs" --kernel "$guests/hello.Image" --cpus 9
    printf 'EMBER-ARM64-DISK' >/tmp/disk.img && truncate -s 1M /tmp/disk.img
    LIMIT=300 MEMORY=512M case_run linux_devices_gicv2 0 "GUEST hwrng 32 bytes" --kernel /linux/vmlinuz \
        --initramfs /linux/initramfs --disk path=/tmp/disk.img --cpus 2 --console file=/tmp/hvc0.out \
        --cmdline "console=ttyS0 panic=-1 quiet ember.case=devices"
    grep -q "GUEST userspace nproc=2 aarch64" /tmp/linux_devices_gicv2.out &&
        echo "CASE linux_smp2_gicv2 PASS" || echo "CASE linux_smp2_gicv2 FAIL the guest did not see 2 CPUs"
    grep -q "GUEST virtio irqs [1-9]" /tmp/linux_devices_gicv2.out &&
        echo "CASE linux_irqs_gicv2 PASS" || echo "CASE linux_irqs_gicv2 FAIL no virtio interrupt in /proc/interrupts"
    exit 0
fi
# PSCI SYSTEM_RESET ends Ember with 0; on this host Ember takes a vGICv3.
case_run hello 0 "Hello from the Ember test guest!" --kernel "$guests/hello.Image"
case_run gicv3 0 "interrupt controller: vGICv3" --kernel "$guests/hello.Image" --log-level info
# The debug-exit register: (42 << 1) | 1.
case_run exitcode 85 "exitcode: exiting with 42" --kernel "$guests/exitcode.Image" --debug-exit --cmdline "exitcode=42"
# Four vCPUs, the secondaries started with PSCI CPU_ON; no failed check: (0 << 1) | 1.
case_run smp4 1 "smp: 4 cpus online" --kernel "$guests/smp.Image" --cpus 4 --debug-exit --cmdline "cpus=4"
# virtio-rng over virtio-mmio (the device announced on the command line), polled.
case_run rng 1 "rng: done" --kernel "$guests/rng.Image" --debug-exit --virtio-mmio-cmdline
# Without the debug-exit register a guest cannot choose the status: PSCI SYSTEM_OFF, 0.
case_run exitcode_no_port 0 "exitcode: exiting with 42" --kernel "$guests/exitcode.Image" --cmdline "exitcode=42"
# A file that is not an arm64 Image: one line naming the problem, status 2.
case_run not_an_image 2 "ember: error: kernel: not an arm64 Image" --kernel /init
# Debian's arm64 cloud kernel (gzip-compressed Image) to its /init on two vCPUs: the device
# tree's memory, PSCI CPUs, GIC, timer and UART; poweroff -f is PSCI SYSTEM_OFF, status 0.
LIMIT=300 MEMORY=512M case_run linux_boot 0 "GUEST userspace nproc=2 aarch64" --kernel /linux/vmlinuz \
    --initramfs /linux/initramfs --cpus 2 --cmdline "console=ttyS0 panic=-1 quiet"
# The Linux suite's own cases (typed shell, SMP, blk, net, console, rng, vsock, virtio-fs,
# panic, SIGTERM, --initramfs-dir) follow in this L1: tests/linux/cases.sh, run_suite.sh.
