#!/usr/bin/env bash
# console_diff.sh EMBER CONSOLE_GUEST_ELF
# The console guest against Ember's virtio-console (--console tty: stdin in, stdout out; the
# serial report in a file) and QEMU microvm's virtio-serial-device + virtconsole on a pipe
# chardev. Same host input, same serial report, same console output, exit status 1 for both.
set -u
. "$(dirname "$0")/lib.sh"
ember=("$1" --debug-exit --virtio-mmio-cmdline) guest=$2
command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 is not installed (scripts/setup.sh installs it)"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
input='ping pong.'

printf '%s' "$input" | bounded "${ember[@]}" --kernel "$guest" --serial "file=$dir/ember.serial" --console tty \
    >"$dir/ember.console" 2>"$dir/ember.err"
ember_status=$?
cat "$dir/ember.err" >&2

# QEMU reads (and drops) chardev input before the guest is ready, so the input is written only
# once the guest's hello has come out of the console: by then its receive queue is set up.
mkfifo "$dir/pipe.in" "$dir/pipe.out"
{
    IFS= read -r first
    printf '%s\n' "$first"
    printf '%s' "$input" >"$dir/pipe.in"
    cat
} <"$dir/pipe.out" >"$dir/qemu.console" &
reader=$!
bounded "${QEMU_MICROVM[@]/#microvm/microvm,acpi=off}" -kernel "$guest" -append "console=ttyS0" \
    -global virtio-mmio.force-legacy=false -device virtio-serial-device \
    -chardev "pipe,id=c0,path=$dir/pipe" -device virtconsole,chardev=c0 </dev/null >"$dir/qemu.raw" 2>"$dir/qemu.err"
qemu_status=$?
wait "$reader"
tr -d '\r' <"$dir/qemu.raw" >"$dir/qemu.serial"

grep -q "^console: done" "$dir/ember.serial" || fail "the console guest did not finish under Ember: $(cat "$dir/ember.serial")"
diff -u "$dir/qemu.serial" "$dir/ember.serial" || fail "Ember's serial report differs from QEMU microvm's"
diff -u "$dir/qemu.console" "$dir/ember.console" || fail "Ember's console output differs from QEMU microvm's"
grep -q "^received: ping pong$" "$dir/ember.serial" || fail "the guest did not receive the host's input"
expect_eq "Ember exit status" 1 "$ember_status"
expect_eq "QEMU exit status" 1 "$qemu_status"
echo "ok: same serial report and console output under Ember and QEMU microvm"
