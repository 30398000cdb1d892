#!/usr/bin/env bash
# qemu_diff.sh EMBER GUEST_ELF CPUS MEMORY EMBER_EXIT QEMU_EXIT [CMDLINE]
# Differential test: the same PVH guest under Ember and under QEMU microvm must print the
# same serial output. Lines the spec leaves to the VMM ("memmap:", the firmware's memory map)
# are left out of the comparison; exit statuses are checked against each VMM's own.
set -u
. "$(dirname "$0")/lib.sh"
ember=("$1" --debug-exit --virtio-mmio-cmdline) guest=$2 cpus=$3 memory=$4 ember_exit=$5 qemu_exit=$6 cmdline=${7:-}
command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 is not installed (scripts/setup.sh installs it)"

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
# --rng off: QEMU gets no virtio devices here, and the cmdline guest prints the command line.
bounded "${ember[@]}" --kernel "$guest" --cpus "$cpus" --memory "$memory" --cmdline "$cmdline" --rng off \
    </dev/null >"$dir/ember.raw" 2>"$dir/ember.err"
got_ember=$?
bounded "${QEMU_MICROVM[@]}" -kernel "$guest" -smp "$cpus" -m "$memory" -append "$cmdline" \
    </dev/null >"$dir/qemu.raw" 2>"$dir/qemu.err"
got_qemu=$?
cat "$dir/ember.err" >&2

for vmm in ember qemu; do
    tr -d '\r' <"$dir/$vmm.raw" | grep -v '^memmap: ' >"$dir/$vmm.txt"
done
[ -s "$dir/ember.txt" ] || fail "Ember printed nothing"
diff -u "$dir/qemu.txt" "$dir/ember.txt" || fail "Ember's output differs from QEMU microvm's"
expect_eq "Ember exit status" "$ember_exit" "$got_ember"
expect_eq "QEMU exit status" "$qemu_exit" "$got_qemu"
echo "ok: $(basename "$guest") printed the same $(wc -l <"$dir/ember.txt") lines under Ember and QEMU microvm"
