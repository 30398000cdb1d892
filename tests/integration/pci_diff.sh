#!/usr/bin/env bash
# pci_diff.sh EMBER PCI_GUEST_ELF
# The pci guest (PCI enumeration through ECAM, virtio-rng and virtio-blk on the modern
# virtio-pci transport, MSI-X delivery, masking and pending bits, the ISR with MSI-X off, a
# moved BAR) under Ember's --transport pci and under QEMU microvm with pcie=on and QEMU's
# non-transitional virtio-*-pci devices: the same report, no failed check under either. Then,
# Ember only (QEMU microvm has no 0xCF8 ports), with pci.cf8=1: every function's header reads
# the same through 0xCF8/0xCFC as through ECAM.
set -u
. "$(dirname "$0")/lib.sh"
ember=$1 guest=$2
command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 is not installed (scripts/setup.sh installs it)"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
truncate -s 1M "$dir/disk.img"  # 2048 sectors: the capacity the guest checks

bounded "$ember" --debug-exit --transport pci --kernel "$guest" --disk "path=$dir/disk.img" \
    </dev/null >"$dir/ember.txt" 2>"$dir/ember.err"
ember_status=$?
bounded "${QEMU_MICROVM[@]/#microvm/microvm,acpi=on,pcie=on}" -kernel "$guest" -append "console=ttyS0" \
    -object rng-random,id=rng0,filename=/dev/urandom -device virtio-rng-pci-non-transitional,rng=rng0 \
    -drive "id=d0,if=none,format=raw,file=$dir/disk.img" -device virtio-blk-pci-non-transitional,drive=d0 \
    </dev/null 2>"$dir/qemu.err" | tr -d '\r' >"$dir/qemu.txt"
qemu_status=${PIPESTATUS[0]}
grep -q "^pci: done" "$dir/ember.txt" || fail "the pci guest did not finish under Ember: $(cat "$dir/ember.txt" "$dir/ember.err")"
diff -u "$dir/qemu.txt" "$dir/ember.txt" || fail "Ember's PCI report differs from QEMU microvm's (pcie=on)"
[ ! -s "$dir/ember.err" ] || fail "Ember logged: $(cat "$dir/ember.err")"
expect_eq "Ember exit status" 1 "$ember_status"
expect_eq "QEMU exit status" 1 "$qemu_status"

bounded "$ember" --debug-exit --transport pci --kernel "$guest" --cmdline "console=ttyS0 pci.cf8=1" \
    --disk "path=$dir/disk.img" </dev/null >"$dir/cf8.txt" 2>&1
cf8_status=$?
grep -qx "pci: 0xcf8 reads what ECAM reads: ok" "$dir/cf8.txt" || fail "0xCF8 and ECAM disagree: $(cat "$dir/cf8.txt")"
expect_eq "Ember exit status with pci.cf8=1" 1 "$cf8_status"
echo "ok: same $(wc -l <"$dir/ember.txt")-line PCI report under Ember and QEMU microvm (pcie=on); 0xCF8 agrees with ECAM"
