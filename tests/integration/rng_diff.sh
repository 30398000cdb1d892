#!/usr/bin/env bash
# rng_diff.sh EMBER RNG_GUEST_ELF
# The rng guest against Ember's virtio-rng (on by default) and QEMU microvm's
# virtio-rng-device: the same report, and exit status 1 (no failed check) under both.
set -u
. "$(dirname "$0")/lib.sh"
ember=("$1" --debug-exit --virtio-mmio-cmdline) guest=$2
command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 is not installed (scripts/setup.sh installs it)"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
run_virtio_both "$dir" "${ember[0]}" "$guest" -- \
    -object rng-random,id=rng0,filename=/dev/urandom -device virtio-rng-device,rng=rng0
grep -q "^rng: done" "$dir/ember.txt" || fail "the rng guest did not finish under Ember: $(cat "$dir/ember.txt")"
diff -u "$dir/qemu.txt" "$dir/ember.txt" || fail "Ember's rng report differs from QEMU microvm's"
expect_eq "Ember exit status" 1 "$EMBER_STATUS"
expect_eq "QEMU exit status" 1 "$QEMU_STATUS"
echo "ok: same $(wc -l <"$dir/ember.txt")-line rng report under Ember and QEMU microvm"
