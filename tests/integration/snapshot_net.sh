#!/usr/bin/env bash
# snapshot_net.sh EMBER NET_GUEST_ELF: a NIC across a snapshot. In a fresh network namespace
# the net guest (10.0.0.2) answers 20 pings through Ember's TAP (10.0.0.1); the VM is paused,
# snapshotted through the API and its Ember killed (SIGKILL: the TAP goes with it); a new
# Ember restores it (--restore makes the TAP again by name, with the same address and the
# guest's MAC) and the same guest answers 20 more: "answered 40 echo requests" in all.
set -u
. "$(dirname "$0")/lib.sh"
ember=$1 guest=$2
command -v curl >/dev/null || skip "needs curl"
in_fresh_netns ember-snap
call() {
    curl -sS --unix-socket "$dir/a.sock" -X "$1" -H 'Content-Type: application/json' "http://localhost$2" -d "$3" \
        -o "$dir/reply" -w '%{http_code}'
}
pings() {  # pings WHAT: 20 pings of the guest must all be answered
    in_ns ping -n -c 20 -i 0.05 -W 2 10.0.0.2 >"$dir/ping" 2>&1
    expect_eq "$1: replies to ping -c 20" 20 "$(grep -o '[0-9]* received' "$dir/ping" | cut -d' ' -f1)"
}

ip netns exec "$ns" "$ember" --debug-exit --virtio-mmio-cmdline --api-sock "$dir/a.sock" --serial "file=$dir/a.out" --rng off \
    --kernel "$guest" --cmdline "console=ttyS0 net.ip=10.0.0.2 net.count=40" \
    --net "tap=tap0,ip=10.0.0.1,mask=255.255.255.0,mac=52:54:00:12:34:56" </dev/null 2>"$dir/a.err" &
pid=$!
wait_for_socket "$dir/a.sock" "Ember" 200
expect_eq "InstanceStart" 204 "$(call PUT /actions '{"action_type": "InstanceStart"}')"
wait_for_output "$dir/a.out" "net: ready" "the net guest" 400
pings "before the snapshot"
expect_eq "PATCH /vm Paused" 204 "$(call PATCH /vm '{"state": "Paused"}')"
status=$(call PUT /snapshot/create "{\"snapshot_path\": \"$dir/vm.snap\", \"mem_file_path\": \"$dir/vm.mem\"}")
expect_eq "PUT /snapshot/create ($(cat "$dir/reply"))" 204 "$status"
kill -KILL "$pid"
wait "$pid" 2>/dev/null
pid=
for _ in $(seq 100); do in_ns ip link show tap0 >/dev/null 2>&1 || break; sleep 0.05; done

ip netns exec "$ns" timeout --kill-after=5 60 "$ember" --restore "snapshot=$dir/vm.snap,memory=$dir/vm.mem" --serial "file=$dir/b.out" \
    </dev/null 2>"$dir/b.err" &
pid=$!
for _ in $(seq 200); do in_ns ip addr show tap0 2>/dev/null | grep -q 'inet 10.0.0.1/' && break; sleep 0.05; done
pings "after the restore"
wait "$pid"
status=$?
pid=
cat "$dir/b.err" >&2
expect_eq "exit status of the restored VM (debug-exit: no failed check)" 1 "$status"
grep -q "^net: answered 40 echo requests" "$dir/b.out" || fail "the restored guest's report: $(cat "$dir/b.out")"
in_ns ip link show tap0 >/dev/null 2>&1 && fail "the restored Ember's TAP outlived it"
echo "ok: 20 pings answered before the snapshot, 20 after the restore in a new process, by the same guest"
