#!/usr/bin/env bash
# log_flood.sh EMBER GUEST: 100000 illegal status writes, unknown MMIO and port writes from
# the guest; Ember's stderr must stay under 64 KiB (every guest-triggered message draws from
# one rate-limited, capped budget) and the guest must run to its end.
set -u
. "$(dirname "$0")/lib.sh"
ember=$1 guest=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
TEST_TIMEOUT=120 bounded "$ember" --debug-exit --virtio-mmio-cmdline --kernel "$guest" --log-level debug \
    --cmdline "console=ttyS0 flood.count=100000" </dev/null >"$dir/serial.out" 2>"$dir/err"
status=$?
bytes=$(wc -c <"$dir/err")
echo "stderr after the flood: $bytes bytes, $(wc -l <"$dir/err") lines"
head -n 5 "$dir/err"
grep -q "flood: done" "$dir/serial.out" || fail "the guest did not finish: $(cat "$dir/serial.out")"
expect_eq "exit status" 1 "$status"
[ "$bytes" -lt 65536 ] || fail "a guest made Ember write $bytes bytes of log"
echo "ok: 100000 x 3 hostile accesses logged in $bytes bytes"
