#!/usr/bin/env bash
# net_ping.sh EMBER NET_GUEST_ELF WITH_TAP_FD
# In a fresh network namespace: Ember creates a TAP with the host address 10.0.0.1, the net
# guest answers ARP and ICMP echo as 10.0.0.2, and the host's own `ping -c 20` must get 20
# replies; again with two queue pairs (a multiqueue TAP) unused and used by the guest (MQ,
# control queue, MQ_VQ_PAIRS_SET), and with a TAP handed over as an open fd (--net fd=N);
# then the same guest under QEMU microvm's virtio-net-device on a TAP, with one and with two
# queue pairs, must answer too, with the same serial reports.
set -u
. "$(dirname "$0")/lib.sh"
ember=("$1" --debug-exit --virtio-mmio-cmdline) guest=$2 with_tap_fd=$3
in_fresh_netns ember-net
cmdline="console=ttyS0 net.ip=10.0.0.2 net.count=20"
mac=52:54:00:12:34:56

# serve NAME BEFORE_PING COMMAND...: runs the VMM in the namespace with its serial output on
# a FIFO, reads it up to "net: ready", runs BEFORE_PING, pings 20 times, then collects the
# rest of the output and the exit status (RC) into DIR/NAME.txt.
serve() {
    local name=$1 before=$2
    shift 2
    rm -f "$dir/fifo" && mkfifo "$dir/fifo"
    in_ns timeout --kill-after=5 60 "$@" </dev/null >"$dir/fifo" 2>"$dir/$name.err" &
    pid=$!
    exec 3<"$dir/fifo"
    : >"$dir/$name.raw"
    local line ready=
    while IFS= read -r -t 30 line <&3; do
        printf '%s\n' "$line" >>"$dir/$name.raw"
        case $line in *"net: ready"*) ready=1; break ;; esac
    done
    [ -n "$ready" ] || fail "$name: the guest never said 'net: ready': $(cat "$dir/$name.raw" "$dir/$name.err")"
    eval "$before"
    in_ns ping -n -c 20 -i 0.05 -W 2 10.0.0.2 >"$dir/$name.ping" 2>&1
    cat <&3 >>"$dir/$name.raw"
    exec 3<&-
    wait "$pid"
    RC=$?
    pid=
    tr -d '\r' <"$dir/$name.raw" >"$dir/$name.txt"
    local received
    received=$(grep -o '[0-9]* received' "$dir/$name.ping" | cut -d' ' -f1)
    expect_eq "$name: replies to ping -c 20" 20 "${received:-0}"
    grep -q "^net: answered 20 echo requests" "$dir/$name.txt" || fail "$name: report: $(cat "$dir/$name.txt")"
    expect_eq "$name: exit status" 1 "$RC"
}

serve ember : "${ember[@]}" --kernel "$guest" --cmdline "$cmdline" --rng off \
    --net "tap=tap0,ip=10.0.0.1,mask=255.255.255.0,mac=$mac"
in_ns ip link show tap0 >/dev/null 2>&1 && fail "the TAP Ember created outlived it"
serve ember_mq : "${ember[@]}" --kernel "$guest" --cmdline "$cmdline" --rng off \
    --net "tap=tap0,ip=10.0.0.1,mac=$mac,num_queues=2"
diff -u "$dir/ember.txt" "$dir/ember_mq.txt" || fail "two queue pairs changed the report"
serve ember_fd "in_ns ip addr add 10.0.0.1/24 dev tapfd && in_ns ip link set tapfd up" \
    "$with_tap_fd" tapfd "${ember[@]}" --kernel "$guest" --cmdline "$cmdline" --rng off --net "fd={fd},mac=$mac"
diff -u "$dir/ember.txt" "$dir/ember_fd.txt" || fail "a TAP handed over as an fd changed the report"
serve ember_mq2 : "${ember[@]}" --kernel "$guest" --cmdline "$cmdline net.pairs=2" --rng off \
    --net "tap=tap0,ip=10.0.0.1,mac=$mac,num_queues=2"
grep -q "^MQ_VQ_PAIRS_SET 2 acknowledged: ok" "$dir/ember_mq2.txt" || fail "two pairs were not enabled"
echo "ok: 20/20 pings answered through Ember's virtio-net (1 pair, 2 pairs unused and used, fd=N)"

command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 is not installed (scripts/setup.sh installs it)"
serve qemu "in_ns ip addr add 10.0.0.1/24 dev tap1 && in_ns ip link set tap1 up" \
    "${QEMU_MICROVM[@]/#microvm/microvm,acpi=off}" -kernel "$guest" -append "$cmdline" \
    -global virtio-mmio.force-legacy=false \
    -netdev tap,id=n0,ifname=tap1,script=no,downscript=no -device "virtio-net-device,netdev=n0,mac=$mac"
diff -u "$dir/qemu.txt" "$dir/ember.txt" || fail "Ember's net report differs from QEMU microvm's"
serve qemu_mq2 "in_ns ip addr add 10.0.0.1/24 dev tap2 && in_ns ip link set tap2 up" \
    "${QEMU_MICROVM[@]/#microvm/microvm,acpi=off}" -kernel "$guest" -append "$cmdline net.pairs=2" \
    -global virtio-mmio.force-legacy=false \
    -netdev tap,id=n0,ifname=tap2,script=no,downscript=no,queues=2 \
    -device "virtio-net-device,netdev=n0,mac=$mac,mq=on"
diff -u "$dir/qemu_mq2.txt" "$dir/ember_mq2.txt" || fail "Ember's two-pair net report differs from QEMU microvm's"
echo "ok: QEMU microvm's virtio-net-device answered 20/20 too (1 and 2 pairs), with the same reports"
