#!/usr/bin/env bash
# migration.sh EMBER GUEST_DIR CASE: live migration between two Embers on this host.
#   unix     the counter guest (32 MiB of pattern, its ticks logged in memory) runs under an
#            Ember with the API; a second Ember waits with --migrate-from unix:PATH; ember
#            --api-sock --migrate-to moves the VM: the sender exits 16 (migrated), the receiver runs the guest to its
#            end (exit 0), and the two serial outputs together are one undisturbed run's.
#   tcp      the same over loopback TCP, by PUT /migrate.
#   churn    the same with counter.churn=1: every tick rewrites 1/64 of the 32 MiB, so the
#            pre-copy takes more than one round; the memory check at the end counts each write.
#   disk     the same with counter.disk=1 (a virtio-blk write every tick) on a writable disk
#            that both Embers on this host open: the sender syncs and unlocks it for the
#            receiver, whose ticks and disk check go on ("disk intact").
#   refusals the sender's VM runs on after a migration that cannot happen: no receiver (400), a
#            receiver that cannot take the VM (no KVM there: 400 with the receiver's reason;
#            the sender locks its disk again and runs the guest to its end); a receiver fed
#            garbage exits with one line naming it; bad URLs are refused on the command line.
set -u
. "$(dirname "$0")/lib.sh"
ember=$1 guests=$2 case=$3
. "$(dirname "$0")/counter_api.sh"

# sender [BOOT ARGS] [EXTRA PUT] [EMBER OPTIONS...]: the counter guest booted through the API of an Ember on
# $dir/s.sock (serial to $dir/s.out, log to $dir/s.err), running past tick 100.
sender() {
    "$ember" --api-sock "$dir/s.sock" --serial "file=$dir/s.out" --log-level info "${@:3}" </dev/null 2>"$dir/s.err" &
    s_pid=$!
    pids+=($s_pid)
    wait_for_socket "$dir/s.sock" "the sending Ember" 200
    expect_eq "PUT /boot-source" 204 "$(call "$dir/s.sock" PUT /boot-source \
        "{\"kernel_image_path\": \"$guests/counter.elf\", \"boot_args\": \"console=ttyS0 counter.mem=32 $1\"}")"
    expect_eq "PUT /machine-config" 204 "$(call "$dir/s.sock" PUT /machine-config '{"vcpu_count": 1, "mem_size_mib": 64}')"
    [ -z "${2:-}" ] || expect_eq "PUT ${2%% *}" 204 "$(call "$dir/s.sock" PUT "${2%% *}" "${2#* }")"
    expect_eq "InstanceStart" 204 "$(call "$dir/s.sock" PUT /actions '{"action_type": "InstanceStart"}')"
    wait_for_output "$dir/s.out" "^tick 1[0-9][0-9]" "the counter guest" 400
}
# receiver URL [OPTIONS...]: an Ember waiting for the VM at URL (serial to $dir/r.out, log to
# $dir/r.err).
receiver() {
    local url=$1
    shift
    "$ember" --migrate-from "$url" --serial "file=$dir/r.out" --log-level info "$@" </dev/null 2>"$dir/r.err" &
    r_pid=$!
    pids+=($r_pid)
}

case $case in
unix|tcp|churn|disk)
    if [ "$case" = tcp ]; then
        url=tcp:127.0.0.1:$((20000 + RANDOM % 40000))
        receiver "$url"
        # Up when it listens: a connection then succeeds (a probe would be taken as the sender).
        for _ in $(seq 100); do grep -q "${url#tcp:127.0.0.1}" <(ss -ltn 2>/dev/null) && break; sleep 0.05; done
    else
        url=unix:$dir/m.sock
        receiver "$url"
        wait_for_socket "$dir/m.sock" "the receiving Ember" 200
    fi
    if [ "$case" = disk ]; then
        truncate -s 1M "$dir/disk.img"
        disk=1
        sender "counter.disk=1" "/drives/d0 {\"drive_id\": \"d0\", \"path_on_host\": \"$dir/disk.img\", \"is_root_device\": false}" --virtio-mmio-cmdline
    else
        sender "$([ "$case" = churn ] && echo counter.churn=1)"
    fi
    if [ "$case" = unix ]; then  # from the command line
        "$ember" --api-sock "$dir/s.sock" --migrate-to "$url" </dev/null
        expect_eq "exit status of ember --migrate-to" 0 $?
    else
        status=$(call "$dir/s.sock" PUT /migrate "{\"destination_url\": \"$url\"}")
        expect_eq "PUT /migrate ($(cat "$dir/reply"))" 204 "$status"
    fi
    ended "$s_pid"
    expect_eq "exit status of the sender (migrated)" 16 $?
    ended "$r_pid"
    status=$?
    cat "$dir/r.err" >&2
    expect_eq "exit status of the receiver" 0 "$status"
    check_ticks "$dir/s.out" "$dir/r.out"
    summary=$(grep -o "migrated to .*paused [0-9]* ms" "$dir/s.err" | head -1)
    [ -n "$summary" ] || fail "the sender did not log its migration: $(cat "$dir/s.err")"
    rounds=$(sed -n 's/.* in \([0-9]*\) rounds.*/\1/p' <<<"$summary")
    [ "$case" != churn ] || [ "$rounds" -ge 2 ] || fail "a guest rewriting memory was moved in $rounds pre-copy round"
    [ ! -e "$dir/m.sock" ] || fail "the receiver left its socket behind"
    echo "ok: $summary; $(grep -c '^tick' "$dir/s.out") ticks before, $(grep -c '^tick' "$dir/r.out") after, none repeated or missing" ;;
refusals)
    truncate -s 1M "$dir/disk.img"
    sender "" "/drives/d0 {\"drive_id\": \"d0\", \"path_on_host\": \"$dir/disk.img\", \"is_root_device\": false}"
    expect_eq "PUT /migrate to no receiver" 400 "$(call "$dir/s.sock" PUT /migrate "{\"destination_url\": \"unix:$dir/none.sock\"}")"
    grep -q "connecting to 'unix:$dir/none.sock'.*No such file" "$dir/reply" || fail "reply: $(cat "$dir/reply")"
    refused "ember --migrate-to with no receiver" 8 "^ember: error: migration: connecting to" \
        "$ember" --api-sock "$dir/s.sock" --migrate-to "unix:$dir/none.sock"
    expect_eq "PUT /migrate without a URL" 400 "$(call "$dir/s.sock" PUT /migrate '{}')"
    grep -q "destination_url" "$dir/reply" || fail "reply: $(cat "$dir/reply")"
    receiver "unix:$dir/m.sock" --kvm-device /dev/null
    wait_for_socket "$dir/m.sock" "the receiving Ember" 200
    expect_eq "PUT /migrate to a receiver without KVM" 400 \
        "$(call "$dir/s.sock" PUT /migrate "{\"destination_url\": \"unix:$dir/m.sock\"}")"
    grep -q "the receiver could not take the VM: .*/dev/null" "$dir/reply" || fail "reply: $(cat "$dir/reply")"
    ended "$r_pid"
    expect_eq "exit status of the receiver that could not take the VM" 2 $?
    # The sender's disk is its own again: a third process cannot take it.
    exec {probe}<"$dir/disk.img"
    if flock -n "$probe"; then fail "the sender did not lock its disk again after the failed migration"; fi
    exec {probe}<&-
    ended "$s_pid"
    expect_eq "exit status of the sender whose migrations failed" 0 $?
    check_ticks "$dir/s.out"
    echo "  failed migrations: the sender ran the guest to its end"
    receiver "unix:$dir/g.sock"
    wait_for_socket "$dir/g.sock" "the receiving Ember" 200
    curl -sS --unix-socket "$dir/g.sock" http://localhost/ -m 5 >/dev/null 2>&1
    ended "$r_pid"
    status=$?
    [ "$status" -ne 0 ] || fail "a receiver fed an HTTP request exited 0"
    grep -q "migration: the other side sent a message of unknown type" "$dir/r.err" || fail "receiver: $(cat "$dir/r.err")"
    [ "$(grep -c error "$dir/r.err")" = 1 ] || fail "the receiver said more than one line: $(cat "$dir/r.err")"
    refused "--migrate-to without --api-sock" 2 "give its --api-sock" "$ember" --migrate-to "unix:$dir/m.sock"
    for url in "unix:" "tcp:1.2.3.4" "tcp:host.example:80" "tcp:127.0.0.1:0" "ftp:x"; do
        refused "--migrate-from $url" 2 "migration URL" "$ember" --migrate-from "$url"
    done
    echo "ok: failed migrations leave the sender running; bad input to a receiver is refused by name" ;;
*) fail "unknown case $case" ;;
esac
