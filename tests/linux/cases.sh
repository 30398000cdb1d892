#!/bin/sh
# cases.sh DIR: the Linux suite's cases, run where /dev/kvm runs unmodified guests (inside the
# nested L1 that run_suite.sh boots under QEMU TCG, or directly on a VT-x/AMD-V host).
# DIR holds ember, bzImage, vmlinux, initramfs and a writable work/; busybox is on PATH, and
# e2fsprogs' mke2fs, e2fsck and debugfs are $MKE2FS, $E2FSCK, $DEBUGFS (full paths: a busybox
# shell runs its own applets of those names first). Prints one line per case: "CASE <name> PASS" or
# "CASE <name> FAIL <why>", then each failed case's output between LOG markers.
dir=$1
ember=$dir/ember
MKE2FS=${MKE2FS:-mke2fs} E2FSCK=${E2FSCK:-e2fsck} DEBUGFS=${DEBUGFS:-debugfs}
work=$dir/work
mkdir -p "$work"
base="console=ttyS0 panic=-1"

wait_for_line() {  # wait_for_line FILE TEXT [TENTHS]: until FILE has a line with TEXT
    n=0
    while ! grep -q -- "$2" "$1" 2>/dev/null; do
        n=$((n + 1))
        [ $n -gt "${3:-1200}" ] && return 1
        sleep 0.1
    done
}

# case_result NAME: PASS when every check() of the case held, else FAIL with the first reason.
failed=
check() {  # check WHAT COMMAND...: runs COMMAND; a failure is the case's reason
    what=$1
    shift
    if ! "$@" >/dev/null 2>&1; then
        [ -n "$failed" ] || failed=$what
    fi
}
has() { grep -q -- "$2" "$1"; }
lacks() { ! grep -q -- "$2" "$1"; }
equal() { [ "$1" = "$2" ]; }
case_result() {
    if [ -z "$failed" ]; then
        echo "CASE $1 PASS"
    else
        echo "CASE $1 FAIL $failed"
        echo "LOG-BEGIN $1"
        tail -n 60 "$work/$1.out" "$work/$1.err" 2>/dev/null
        echo "LOG-END $1"
    fi
    failed=
}

# run NAME ARGS...: Ember with a time limit, stdin closed, output in work/NAME.{out,err}.
run() {
    name=$1
    shift
    timeout 180 "$ember" $EMBER_ARGS "$@" </dev/null >"$work/$name.out" 2>"$work/$name.err"
    status=$?
}

case_shell() {  # 1 vCPU, bzImage; a command typed on the host runs in a shell on ttyS0
    out=$work/shell_1cpu.out
    : >"$out"
    { wait_for_line "$out" "GUEST ready-for-input" && echo 'echo ANSWER-$((6 * 7))'; } |
        timeout 180 "$ember" --kernel "$dir/bzImage" --initramfs "$dir/initramfs" --cpus 1 --memory 256M \
            --cmdline "$base ember.case=shell" >"$out" 2>"$work/shell_1cpu.err"
    status=$?
    check "exit status $status, not 0" equal "$status" 0
    check "no 'GUEST userspace nproc=1' on ttyS0" has "$out" "GUEST userspace nproc=1"
    check "no answer to the typed command" has "$out" "^ANSWER-42"
    case_result shell_1cpu
    boot_log "$out"
}

# What the boot log shows beyond QEMU microvm's for the same kernel in the same place: its
# warnings and rejected parameters, timestamps removed. Where QEMU is not at hand, all of them.
log_lines() { grep -E "$2" "$1" | sed 's/^\[ *[0-9.]*\] //' | sort -u; }
boot_log() {
    out=$1
    : >"$work/qemu.out"
    if command -v qemu-system-x86_64 >/dev/null; then
        timeout 180 qemu-system-x86_64 -M microvm,acpi=on,rtc=on -accel kvm -cpu host -m 256M -smp 1 \
            -nodefaults -no-user-config -nographic -serial stdio -no-reboot ${QEMU_FIRMWARE:+-L "$QEMU_FIRMWARE"} \
            -kernel "$dir/bzImage" -initrd "$dir/initramfs" -append "$base ember.case=reboot" \
            </dev/null >"$work/qemu.out" 2>"$work/qemu.err"
        check "QEMU microvm did not boot the same guest" has "$work/qemu.out" "GUEST userspace"
    fi
    for what in "WARNING|nknown parameter|\] ---\[ end trace"; do
        log_lines "$work/qemu.out" "$what" >"$work/qemu.out.lines"
        extra=$(log_lines "$out" "$what" | grep -vxF -f "$work/qemu.out.lines")
        check "boot log lines QEMU does not show: $(echo "$extra" | head -n 3 | tr '\n' '|')" test -z "$extra"
    done
    check "no ACPI S5 support announced" has "$out" "ACPI: PM: (supports S0 S5)"
    check "rtc_cmos probe failed" lacks "$out" "rtc_cmos: probe of rtc_cmos failed"
    check "i8042 not found" lacks "$out" "No PS/2 controller found"
    check "i8042 keylock warning" lacks "$out" "Keylock active"
    check "MTRRs disabled" lacks "$out" "MTRRs disabled"
    cp "$out" "$work/boot_log.out"
    case_result boot_log
}

case_smp_reboot() {  # 4 vCPUs; reboot -f ends Ember with 0
    run smp4_reboot --kernel "$dir/bzImage" --initramfs "$dir/initramfs" --cpus 4 --memory 256M \
        --cmdline "$base ember.case=reboot"
    check "exit status $status, not 0" equal "$status" 0
    check "nproc is not 4" has "$work/smp4_reboot.out" "GUEST userspace nproc=4"
    case_result smp4_reboot
}

case_pvh() {  # the same kernel's vmlinux through its PVH entry
    run pvh --kernel "$dir/vmlinux" --initramfs "$dir/initramfs" --cpus 2 --memory 256M \
        --cmdline "$base ember.case=reboot" --log-level info
    check "exit status $status, not 0" equal "$status" 0
    check "not loaded as PVH" has "$work/pvh.err" "loaded PVH"
    check "no userspace" has "$work/pvh.out" "GUEST userspace nproc=2"
    case_result pvh
}

allocated_kib() { du -k "$1" | cut -f1; }

case_blk() {  # ext4 made on the host: read, write, direct I/O, fstrim; a read-only disk
    rm -rf "$work/files" && mkdir -p "$work/files"
    echo "hello from the host" >"$work/files/hello.txt"
    for img in rw ro; do
        rm -f "$work/$img.img"
        truncate -s 256M "$work/$img.img"
        "$MKE2FS" -q -t ext4 -d "$work/files" "$work/$img.img"
    done
    before=$(allocated_kib "$work/rw.img")
    ro_sum=$(md5sum <"$work/ro.img")
    run blk --kernel "$dir/bzImage" --initramfs "$dir/initramfs" --cpus 2 --memory 256M \
        --cmdline "$base ember.case=blk" --disk "path=$work/rw.img" --disk "path=$work/ro.img,readonly=on"
    out=$work/blk.out
    check "exit status $status after poweroff, not 0" equal "$status" 0
    check "vda not mounted" has "$out" "GUEST mounted vda"
    check "the host's file was not read" has "$out" "GUEST read: hello from the host"
    check "1 MiB direct writes failed" has "$out" "GUEST direct write ok"
    check "1 MiB direct reads failed" has "$out" "GUEST direct read ok"
    check "fstrim trimmed nothing" has "$out" "trimmed"
    check "vda not unmounted" has "$out" "GUEST unmounted vda"
    check "the read-only disk was not readable" has "$out" "GUEST read-only: hello from the host"
    check "the read-only disk took a write" has "$out" "GUEST read-only write refused"
    check "e2fsck -n found errors" "$E2FSCK" -fn "$work/rw.img"
    check "debugfs does not show the guest's file" sh -c \
        "'$DEBUGFS' -R 'cat /from-guest.txt' '$work/rw.img' 2>/dev/null | grep -q 'written by the guest'"
    after=$(allocated_kib "$work/rw.img")
    # The guest wrote 16 MiB and deleted it; after fstrim those blocks are holes again.
    check "fstrim did not shrink the image ($before KiB -> $after KiB)" test $((after - before)) -lt 8192
    check "the read-only image changed" equal "$ro_sum" "$(md5sum <"$work/ro.img")"
    case_result blk
}

case_net() {  # ping both ways; 64 MiB over TCP with the same checksum; the TAP goes away
    out=$work/net.out
    : >"$out"
    timeout 240 "$ember" --kernel "$dir/bzImage" --initramfs "$dir/initramfs" --cpus 2 --memory 512M \
        --cmdline "$base ember.case=net" --net tap=embnet0,ip=10.0.2.1 </dev/null >"$out" 2>"$work/net.err" &
    pid=$!
    if wait_for_line "$out" "GUEST net ready" 1800; then
        check "the host could not ping the guest" ping -c 3 -W 5 10.0.2.15
        timeout 180 nc -l -p 5000 >"$work/received.bin"
    else
        check "the guest never got ready" false
    fi
    wait $pid
    status=$?
    check "exit status $status, not 0" equal "$status" 0
    check "the guest could not ping the host" has "$out" "GUEST ping host ok"
    sent=$(sed -n 's/^GUEST blob md5 \([0-9a-f]*\).*/\1/p' "$out")
    got=$(md5sum <"$work/received.bin" | cut -d' ' -f1)
    check "64 MiB arrived as $got, sent $sent" equal "$sent" "$got"
    check "received $(wc -c <"$work/received.bin") bytes" equal "$(wc -c <"$work/received.bin")" 67108864
    check "the TAP outlived Ember" test ! -e /sys/class/net/embnet0
    rm -f "$work/received.bin"
    case_result net
}

case_console() {  # one line each way on hvc0
    out=$work/console.out
    : >"$out"
    { wait_for_line "$out" "hello from hvc0" && echo "line from the host"; } |
        timeout 180 "$ember" --kernel "$dir/bzImage" --initramfs "$dir/initramfs" --cpus 1 --memory 256M \
            --cmdline "$base ember.case=console" --serial "file=$work/console.serial" --console tty \
            >"$out" 2>"$work/console.err"
    status=$?
    check "exit status $status, not 0" equal "$status" 0
    check "nothing from the guest on hvc0" has "$out" "hello from hvc0"
    check "the host's line did not reach hvc0" has "$work/console.serial" "GUEST hvc0 got: line from the host"
    case_result console
}

case_rng() {
    run rng --kernel "$dir/bzImage" --initramfs "$dir/initramfs" --cpus 1 --memory 256M --cmdline "$base ember.case=rng"
    check "exit status $status, not 0" equal "$status" 0
    check "rng_current is not virtio_rng" has "$work/rng.out" "GUEST rng_current virtio_rng"
    check "/dev/hwrng gave no 32 bytes" has "$work/rng.out" "GUEST hwrng bytes 32"
    case_result rng
}

case_panic() {  # panic=-1 reboots at once: Ember ends with 0, the panic on ttyS0
    run panic --kernel "$dir/bzImage" --initramfs "$dir/initramfs" --cpus 1 --memory 256M --cmdline "$base ember.case=panic"
    check "exit status $status, not 0" equal "$status" 0
    check "no kernel panic on ttyS0" has "$work/panic.out" "Kernel panic"
    case_result panic
}

case_sigterm() {  # SIGTERM during boot: 128 + 15, and the TAP Ember created is gone
    out=$work/sigterm.out
    : >"$out"
    "$ember" --kernel "$dir/bzImage" --initramfs "$dir/initramfs" --cpus 2 --memory 256M \
        --cmdline "$base ember.case=hold" --net tap=embterm0 </dev/null >"$out" 2>"$work/sigterm.err" &
    pid=$!
    wait_for_line "$out" "Linux version" 600
    kill -TERM $pid
    wait $pid
    status=$?
    check "exit status $status, not 143" equal "$status" 143
    check "the TAP outlived Ember" test ! -e /sys/class/net/embterm0
    case_result sigterm
}

# Not a test (never in the default list): Linux boot times for scripts/bench/run.sh, Ember and
# QEMU microvm alternating, in this place's clock (nested: TCG time). exec -> the first line
# /init writes on ttyS0, exec -> exit after `poweroff -f`; 10 ms resolution (/proc/uptime).
now_ms() { awk '{printf "%d", $1 * 1000}' /proc/uptime; }
bench_one() {
    name=$1
    shift
    out=$work/bench.out
    : >"$out"
    t0=$(now_ms)
    "$@" </dev/null >"$out" 2>/dev/null &
    pid=$!
    first=
    while kill -0 $pid 2>/dev/null; do
        [ -z "$first" ] && grep -q "GUEST userspace" "$out" && first=$(now_ms)
        usleep 10000
    done
    wait $pid
    t2=$(now_ms)
    grep -q "GUEST userspace" "$out" && echo "BENCH vmm=$name first_userspace_ms=$((${first:-$t2} - t0)) exit_ms=$((t2 - t0))"
}
case_bench() {
    for i in $(seq "${EMBER_BENCH_RUNS:-5}"); do
        bench_one ember "$ember" --kernel "$dir/bzImage" --initramfs "$dir/initramfs" --cpus 1 --memory 256M \
            --cmdline "$base ember.case=poweroff"
        command -v qemu-system-x86_64 >/dev/null || continue
        bench_one qemu qemu-system-x86_64 -M microvm,acpi=on,rtc=on -accel kvm -cpu host -m 256M -smp 1 \
            -nodefaults -no-user-config -nographic -serial stdio -no-reboot ${QEMU_FIRMWARE:+-L "$QEMU_FIRMWARE"} \
            -kernel "$dir/bzImage" -initrd "$dir/initramfs" -append "$base ember.case=poweroff"
    done
}

for c in ${EMBER_LINUX_CASES:-shell smp_reboot pvh blk net console rng panic sigterm}; do
    "case_$c"
done
echo "CASES-DONE"
