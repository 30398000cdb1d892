#!/usr/bin/env bash
# linux_boot.sh EMBER PROBE_GUEST
# Boots a Debian cloud kernel with a busybox initramfs on 2 vCPUs; /init must run and the VM
# must end through reboot=k (exit 0). Where KVM only emulates instructions (no VT-x/AMD-V,
# e.g. PVM), a stock kernel cannot boot in reasonable time: a probe guest measures that and
# the test skips with the measured reason.
set -u
. "$(dirname "$0")/lib.sh"
ember=$1 probe=$2
root=$(cd "$(dirname "$0")/../.." && pwd)

probe_out=$(TEST_TIMEOUT=30 bounded "$ember" --kernel "$probe" </dev/null 2>&1)
cycles=$(sed -n 's/^probe: cycles-per-iteration \([0-9]*\).*/\1/p' <<<"$probe_out")
[ -n "$cycles" ] || fail "probe guest gave no measurement: $probe_out"
if [ "$cycles" -gt 500 ]; then
    skip "KVM on this host emulates guest instructions (probe loop: $cycles TSC cycles per iteration, hardware-backed KVM takes < 50); a stock Linux boot needs VT-x/AMD-V"
fi

cache=${EMBER_LINUX_CACHE:-$root/tests/linux/cache}
"$root/scripts/linux-guest.sh" "$cache" || fail "could not build the Linux guest"
out=$(TEST_TIMEOUT=300 bounded "$ember" --kernel "$cache/vmlinuz" --initramfs "$cache/initramfs.cpio.gz" \
      --cpus 2 --memory 512M --cmdline "console=ttyS0 reboot=k panic=-1 i8042.noaux" </dev/null 2>&1)
status=$?
tail -n 40 <<<"$out"
grep -q "EMBER-LINUX-INIT-OK cpus=2" <<<"$out" || fail "Linux did not reach /init with 2 CPUs"
expect_eq "exit status" 0 "$status"
echo "ok: Linux reached /init on 2 vCPUs and rebooted (probe: $cycles cycles per iteration)"
