#!/bin/sh
# cases.sh GUESTS GIC: inside the arm64 L1, Ember runs each arm64 test guest, then QEMU's own
# `-M virt` runs the same guests on the same KVM (the differential); one "CASE name PASS" or
# "CASE name FAIL why" line per case. GIC: the L1's interrupt controller, 3 (every case) or 2
# (a host with no GICv3: the cases that show Ember's vGICv2 fallback).
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
# A host whose KVM has only a vGICv2: Ember says it falls back to it, the guests run on it, and
# more vCPUs than a GICv2 serves (KVM's limit there, 8) are refused with one line, status 2.
# (Debian's kernel on it, its interrupts through the v2 distributor and CPU interface: the
# Linux suite's cases that follow in this L1, run_suite.sh.)
if [ "$gic" = 2 ]; then
    case_run hello_gicv2 0 "interrupt controller: vGICv2" --kernel "$guests/hello.Image" --log-level info
    case_run smp4_gicv2 1 "smp: 4 cpus online" --kernel "$guests/smp.Image" --cpus 4 --debug-exit --cmdline "cpus=4"
    case_run rng_gicv2 1 "rng: done" --kernel "$guests/rng.Image" --debug-exit --virtio-mmio-cmdline
    case_run cpus9_gicv2 2 "this KVM allows at most 8 vCPUs" --kernel "$guests/hello.Image" --cpus 9
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
# virtio-rng found through the device tree's virtio,mmio nodes alone (no command line).
case_run rng_dt 1 "rng: done" --kernel "$guests/rng.Image" --debug-exit
# A file that is not an arm64 Image: one line naming the problem, status 2.
case_run not_an_image 2 "ember: error: kernel: not an arm64 Image" --kernel /init

# The differential: each guest again under QEMU `-M virt` (KVM, the host's GICv3), which gives
# it a PL011 and virtio-mmio transports of its own, RAM at 1 GiB, PSCI; the guest finds them
# in QEMU's device tree as it found Ember's. Its serial output must be the same, line for line,
# as under Ember (EMBER_CASE's). QEMU has no debug-exit register: every guest ends through
# PSCI, SYSTEM_OFF or (hello) SYSTEM_RESET, and QEMU with status 0.
qemu_case() {  # qemu_case NAME EMBER_CASE QEMU_ARGS...
    name=$1 ember_case=$2
    shift 2
    timeout "${LIMIT:-60}" qemu-system-aarch64 -M virt,gic-version=host -accel kvm -cpu host -m 128M -nodefaults \
        -no-user-config -display none -no-reboot -serial stdio "$@" </dev/null >"/tmp/$name.out" 2>"/tmp/$name.err"
    status=$?
    sed "s/^/$name| /" "/tmp/$name.out" "/tmp/$name.err"
    if [ "$status" != 0 ] || grep -q "terminating on signal" "/tmp/$name.err"; then
        echo "CASE $name FAIL exit status $status, not 0 (or QEMU ran out of time)"
    elif [ ! -s "/tmp/$name.out" ]; then
        echo "CASE $name FAIL the guest printed nothing"
    elif ! diff "/tmp/$ember_case.out" "/tmp/$name.out" >"/tmp/$name.diff"; then
        echo "CASE $name FAIL its output differs from Ember's ($ember_case): $(tr '\n' '|' <"/tmp/$name.diff" | head -c 400)"
    else
        echo "CASE $name PASS"
    fi
}
if command -v qemu-system-aarch64 >/dev/null; then
    qemu_case qemu_hello hello -kernel "$guests/hello.Image"
    qemu_case qemu_exitcode exitcode -kernel "$guests/exitcode.Image" -append "exitcode=42"
    qemu_case qemu_smp4 smp4 -kernel "$guests/smp.Image" -smp 4 -append "cpus=4"
    qemu_case qemu_rng rng_dt -kernel "$guests/rng.Image" -device virtio-rng-device -global virtio-mmio.force-legacy=false
else
    echo "CASE qemu FAIL no qemu-system-aarch64 in this L1 (run_suite.sh carries it)"
fi
# The Linux suite's own cases, with Debian's arm64 cloud kernel (its gzip-compressed Image),
# follow in this L1: tests/linux/cases.sh, run_suite.sh.
