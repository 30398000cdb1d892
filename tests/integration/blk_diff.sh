#!/usr/bin/env bash
# blk_diff.sh EMBER BLK_GUEST_ELF rw|ro [sync|io_uring]
# The blk guest runs against Ember's virtio-blk and against QEMU microvm's
# (virtio-blk-device, modern virtio-mmio). Every line of the report must match, both exit
# statuses must be 1 (debug-exit 0: no failed check), and the disk files must be identical
# afterwards.
set -u
here=$(dirname "$0")
. "$here/lib.sh"
. "$here/disk_image.sh"
ember=$1 guest=$2 mode=$3 engine=${4:-sync}
command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 is not installed (scripts/setup.sh installs it)"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
make_pattern_disk "$dir/ember.img"
cp "$dir/ember.img" "$dir/qemu.img"
[ "$mode" = ro ] && ro=on || ro=off
qemu_ro=$([ "$mode" = ro ] && echo ",readonly=on")

bounded "$ember" --kernel "$guest" --disk "path=$dir/ember.img,serial=ember-disk-0,readonly=$ro,engine=$engine" \
    <&- >"$dir/ember.raw" 2>"$dir/ember.err"
got_ember=$?
# acpi=off: QEMU then announces its virtio-mmio devices on the command line, as Ember does.
bounded "${QEMU_MICROVM[@]/#microvm/microvm,acpi=off}" -kernel "$guest" -append "console=ttyS0" \
    -global virtio-mmio.force-legacy=false \
    -drive "file=$dir/qemu.img,if=none,id=d0,format=raw$qemu_ro" \
    -device virtio-blk-device,drive=d0,serial=ember-disk-0 <&- >"$dir/qemu.raw" 2>"$dir/qemu.err"
got_qemu=$?
cat "$dir/ember.err" >&2
tr -d '\r' <"$dir/qemu.raw" >"$dir/qemu.txt"
tr -d '\r' <"$dir/ember.raw" >"$dir/ember.txt"
grep -q "^blk: done" "$dir/ember.txt" || fail "the blk guest did not finish under Ember: $(cat "$dir/ember.txt")"
diff -u "$dir/qemu.txt" "$dir/ember.txt" || fail "Ember's blk report differs from QEMU microvm's"
expect_eq "Ember exit status" 1 "$got_ember"
expect_eq "QEMU exit status" 1 "$got_qemu"
cmp "$dir/qemu.img" "$dir/ember.img" || fail "disk contents differ after the runs"
echo "ok: $mode disk, engine $engine: same $(wc -l <"$dir/ember.txt")-line report and same disk contents under Ember and QEMU microvm"
