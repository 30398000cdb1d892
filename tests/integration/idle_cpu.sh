#!/usr/bin/env bash
# idle_cpu.sh EMBER GUEST: the idle guest posts buffers on every device and halts; over the
# next 3 s Ember's own CPU time (user + system, all threads) must stay under 1 % of a core.
# Regression test for the event loop re-kicking queues that had buffers but no work.
set -u
. "$(dirname "$0")/lib.sh"
ember=$1 guest=$2
dir=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null; rm -rf "$dir"' EXIT
truncate -s 1M "$dir/disk.img"
"$ember" --virtio-mmio-cmdline --kernel "$guest" --console "file=$dir/console.out" --disk "path=$dir/disk.img" \
    --rng on </dev/null >"$dir/serial.out" 2>"$dir/err" &
pid=$!
for _ in $(seq 300); do grep -q "idle: ready" "$dir/serial.out" && break; sleep 0.1; done
grep -q "idle: ready" "$dir/serial.out" || fail "the idle guest never got ready: $(cat "$dir/serial.out" "$dir/err")"
grep -q FAILED "$dir/serial.out" && fail "the guest could not post its buffers: $(cat "$dir/serial.out")"
ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
hz=$(getconf CLK_TCK)
before=$(ticks)
sleep 3  # the measurement window, not a synchronisation
after=$(ticks)
used=$((after - before))
limit=$((hz * 3 / 100))  # 1 % of one core over 3 s
echo "Ember used $used ticks of CPU in 3 s while the guest idled (limit $limit, $hz ticks/s)"
[ "$used" -le "$limit" ] || fail "an idle VM burned $used ticks in 3 s (more than 1 % of a core)"
kill -TERM "$pid"
wait "$pid"
expect_eq "exit status after SIGTERM" 143 $?
echo "ok: idle VM with console, disk and rng costs $used ticks in 3 s"
