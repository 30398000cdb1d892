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
ember=("$1" --debug-exit --virtio-mmio-cmdline) guest=$2 mode=$3 engine=${4:-sync}
command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 is not installed (scripts/setup.sh installs it)"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
make_pattern_disk "$dir/ember.img"
cp "$dir/ember.img" "$dir/qemu.img"
[ "$mode" = ro ] && ro=on || ro=off
qemu_ro=$([ "$mode" = ro ] && echo ",readonly=on")

run_virtio_both "$dir" "${ember[0]}" "$guest" --disk "path=$dir/ember.img,serial=ember-disk-0,readonly=$ro,engine=$engine" \
    -- -drive "file=$dir/qemu.img,if=none,id=d0,format=raw$qemu_ro" -device virtio-blk-device,drive=d0,serial=ember-disk-0
grep -q "^blk: done" "$dir/ember.txt" || fail "the blk guest did not finish under Ember: $(cat "$dir/ember.txt")"
diff -u "$dir/qemu.txt" "$dir/ember.txt" || fail "Ember's blk report differs from QEMU microvm's"
expect_eq "Ember exit status" 1 "$EMBER_STATUS"
expect_eq "QEMU exit status" 1 "$QEMU_STATUS"
cmp "$dir/qemu.img" "$dir/ember.img" || fail "disk contents differ after the runs"
echo "ok: $mode disk, engine $engine: same $(wc -l <"$dir/ember.txt")-line report and same disk contents under Ember and QEMU microvm"
