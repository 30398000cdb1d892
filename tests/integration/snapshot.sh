#!/usr/bin/env bash
# snapshot.sh EMBER GUEST_DIR CASE: full snapshots through Firecracker's API.
#   counter       the counter guest (32 MiB of pattern, a log of its ticks in memory) is paused
#                 mid-run, snapshotted, its Ember killed (SIGKILL); a new Ember loads the snapshot
#                 with resume_vm: the two serial outputs together are one undisturbed run's: tick
#                 0 .. tick 999 once each, in order, then "memory intact"; exit 0.
#   paused_load   the same, loaded without resume_vm: the VM reports "Paused" and has printed
#                 nothing until PATCH /vm resumes it; snapshotted again onto the files it was
#                 restored from, it runs on unharmed, and that snapshot restores too.
#   disk          the counter with counter.disk=1: a virtio-blk request per tick, so the disk's
#                 queue is mid-use at the snapshot; the restored VM reopens the disk by its path,
#                 its driver goes on where it was ("disk intact"), and so do the ticks.
#   cli           the same snapshot restored from the command line (--restore), no API.
#   two_restores  one snapshot loaded by two Embers at once (the memory file mapped privately by
#                 both): each continues the run on its own to the end.
#   diff          the counter booted with track_dirty_pages: a Full snapshot (by ember
#                 --snapshot-create, which pauses and resumes the VM), the VM runs on, a
#                 Diff snapshot (its memory file far smaller), SIGKILL; ember-rebase-snap applies
#                 the diff to the full memory file, a new Ember loads it with track_dirty_pages,
#                 runs on and takes a second Diff (relative to what it restored), SIGKILL; that
#                 diff rebased too, --restore runs the counter to its end: the three outputs
#                 together are one undisturbed run's.
#   console       the console guest says hello on its virtio console and waits for input with a
#                 receive buffer posted: snapshotted there, killed, restored by --restore with
#                 --console tty, it gets "abc." on stdin in that same buffer and echoes it.
#   vsock         the vsock guest, its event buffer posted, snapshotted and killed (its host
#                 socket left behind); --restore binds the socket again and the guest gets
#                 VIRTIO_VSOCK_EVENT_TRANSPORT_RESET: the host side of its connections is gone.
#   uffd          the counter's snapshot loaded with mem_backend Uffd (HANDLER, the 4th argument,
#                 serves the page faults from the memory file): one run's ticks, memory intact,
#                 and the handler served at least the 8192 pages the guest checks at the end.
#   refusals      what a bad request or file gets: 400 and a line naming the problem (running VM,
#                 Diff without dirty tracking, corrupted, truncated, other version, wrong memory
#                 file size, missing file).
set -u
. "$(dirname "$0")/lib.sh"
ember=$1 guests=$2 case=$3 handler=${4:-}
. "$(dirname "$0")/counter_api.sh"

# start NAME [ember options...]: an Ember serving the API on $dir/NAME.sock, serial to $dir/NAME.out.
start() {
    local name=$1
    shift
    "$ember" --api-sock "$dir/$name.sock" --serial "file=$dir/$name.out" "$@" </dev/null 2>"$dir/$name.err" &
    pids+=($!)
    eval "${name}_pid=$!"
    wait_for_socket "$dir/$name.sock" "Ember $name" 200
}
# boot NAME KERNEL [EXTRA PUTS...]: configures and starts the VM of Ember NAME (the counter
# guest fills and checks 32 MiB).
boot() {
    local sock=$dir/$1.sock
    expect_eq "PUT /boot-source" 204 \
        "$(call "$sock" PUT /boot-source "{\"kernel_image_path\": \"$2\", \"boot_args\": \"console=ttyS0 counter.mem=32 $args\"}")"
    expect_eq "PUT /machine-config" 204 "$(call "$sock" PUT /machine-config "{\"vcpu_count\": 1, \"mem_size_mib\": 64, \"track_dirty_pages\": ${track_dirty:-false}}")"
    shift 2
    for put in "$@"; do expect_eq "PUT ${put%% *}" 204 "$(call "$sock" PUT "${put%% *}" "${put#* }")"; done
    expect_eq "InstanceStart" 204 "$(call "$sock" PUT /actions '{"action_type": "InstanceStart"}')"
}
# snapshot NAME [TYPE [FILES]]: pauses Ember NAME's VM and writes a TYPE (Full) snapshot,
# $dir/FILES.snap and $dir/FILES.mem (FILES: vm).
snapshot() {
    local sock=$dir/$1.sock type=${2:-Full} files=$dir/${3:-vm}
    expect_eq "PATCH /vm Paused" 204 "$(call "$sock" PATCH /vm '{"state": "Paused"}')"
    local status
    status=$(call "$sock" PUT /snapshot/create \
        "{\"snapshot_type\": \"$type\", \"snapshot_path\": \"$files.snap\", \"mem_file_path\": \"$files.mem\"}")
    expect_eq "PUT /snapshot/create $type ($(cat "$dir/reply"))" 204 "$status"
}
# load_body RESUME [FILES [TRACK_DIRTY]]: snapshot-load of $dir/FILES.snap and .mem (FILES: vm).
load_body() {
    local files=$dir/${2:-vm}
    echo "{\"snapshot_path\": \"$files.snap\", \"mem_backend\": {\"backend_type\": \"File\", \"backend_path\": \"$files.mem\"}, \"resume_vm\": $1, \"track_dirty_pages\": ${3:-false}}"
}
# kill_vm NAME: SIGKILLs Ember NAME.
kill_vm() {
    local pid_var=${1}_pid
    kill -KILL "${!pid_var}"
    wait "${!pid_var}" 2>/dev/null
}
# on_disk FILE: the KiB a file takes on disk (holes take none).
on_disk() { du -k "$1" | cut -f1; }

args= disk=
case $case in
counter|paused_load|disk|two_restores|cli)
    if [ "$case" = disk ]; then
        truncate -s 1M "$dir/disk.img"
        args=counter.disk=1 disk=1
        start a --virtio-mmio-cmdline
        boot a "$guests/counter.elf" \
            "/drives/d0 {\"drive_id\": \"d0\", \"path_on_host\": \"$dir/disk.img\", \"is_root_device\": false}"
    else
        start a
        boot a "$guests/counter.elf"
    fi
    wait_for_output "$dir/a.out" "^tick 2[0-9][0-9]" "the counter guest" 400
    snapshot a
    kill -KILL "$a_pid"
    wait "$a_pid" 2>/dev/null
    before=$(grep -c '^tick' "$dir/a.out")
    echo "snapshot after $before ticks: state $(stat -c %s "$dir/vm.snap") bytes, memory $(du -k "$dir/vm.mem" | cut -f1) KiB on disk of $(($(stat -c %s "$dir/vm.mem") >> 10))"
    if [ "$case" = cli ]; then
        bounded "$ember" --restore "snapshot=$dir/vm.snap,memory=$dir/vm.mem" --serial "file=$dir/b.out" </dev/null
        expect_eq "exit status of the VM restored by --restore" 0 $?
        check_ticks "$dir/a.out" "$dir/b.out"
        echo "ok: $before ticks before the snapshot, the rest after --restore"
        exit 0
    fi
    start b
    if [ "$case" = two_restores ]; then
        start c
        for vm in b c; do
            expect_eq "PUT /snapshot/load ($vm)" 204 "$(call "$dir/$vm.sock" PUT /snapshot/load "$(load_body true)")"
        done
        ended "$c_pid"
        expect_eq "exit status of the second restored VM" 0 $?
        check_ticks "$dir/a.out" "$dir/c.out"
    elif [ "$case" = counter ] || [ "$case" = disk ]; then
        expect_eq "PUT /snapshot/load ($(cat "$dir/reply" 2>/dev/null))" 204 "$(call "$dir/b.sock" PUT /snapshot/load "$(load_body true)")"
    else
        expect_eq "PUT /snapshot/load" 204 "$(call "$dir/b.sock" PUT /snapshot/load "$(load_body false)")"
        expect_eq "GET /" 200 "$(call "$dir/b.sock" GET /)"
        grep -q '"state":"Paused"' "$dir/reply" || fail "a snapshot loaded without resume_vm is not paused: $(cat "$dir/reply")"
        [ ! -s "$dir/b.out" ] || fail "the paused VM printed: $(head -3 "$dir/b.out")"
        # Snapshotted again onto the very files it was restored from (its RAM maps vm.mem):
        # the new files replace the old ones, and the running VM keeps its pages.
        status=$(call "$dir/b.sock" PUT /snapshot/create \
            "{\"snapshot_path\": \"$dir/vm.snap\", \"mem_file_path\": \"$dir/vm.mem\"}")
        expect_eq "PUT /snapshot/create of the restored VM onto its own files ($(cat "$dir/reply"))" 204 "$status"
        expect_eq "PATCH /vm Resumed" 204 "$(call "$dir/b.sock" PATCH /vm '{"state": "Resumed"}')"
    fi
    ended "$b_pid"
    status=$?
    cat "$dir/b.err" >&2
    expect_eq "exit status of the restored VM" 0 "$status"
    check_ticks "$dir/a.out" "$dir/b.out"
    if [ "$case" = paused_load ]; then
        # The second snapshot, taken before the restored VM ran, goes on from the same tick.
        bounded "$ember" --restore "snapshot=$dir/vm.snap,memory=$dir/vm.mem" --serial "file=$dir/c.out" </dev/null
        expect_eq "exit status of the VM restored from the second snapshot" 0 $?
        check_ticks "$dir/a.out" "$dir/c.out"
        [ -z "$(ls "$dir" | grep -E 'vm\.(snap|mem)\.')" ] || fail "temporary snapshot files left: $(ls "$dir")"
    fi
    echo "ok: $before ticks before the snapshot, $(grep -c '^tick' "$dir/b.out") after it in a new process, none repeated or missing" ;;
diff)
    rebase=$(dirname "$ember")/ember-rebase-snap
    track_dirty=true
    start a
    boot a "$guests/counter.elf"
    wait_for_output "$dir/a.out" "^tick 1[0-9][0-9]" "the counter guest" 400
    # The full one from the command line: it pauses the running VM, snapshots it, resumes it.
    "$ember" --api-sock "$dir/a.sock" --snapshot-create "snapshot=$dir/full.snap,memory=$dir/full.mem" </dev/null
    expect_eq "exit status of --snapshot-create" 0 $?
    expect_eq "GET /" 200 "$(call "$dir/a.sock" GET /)"
    grep -q '"state":"Running"' "$dir/reply" || fail "the VM is not running again after --snapshot-create: $(cat "$dir/reply")"
    wait_for_output "$dir/a.out" "^tick 3[0-9][0-9]" "the counter guest after the full snapshot" 400
    snapshot a Diff diff1
    kill_vm a
    full_kib=$(on_disk "$dir/full.mem") diff_kib=$(on_disk "$dir/diff1.mem")
    echo "full snapshot: $full_kib KiB on disk; diff after $(grep -c '^tick' "$dir/a.out") ticks: $diff_kib KiB"
    expect_eq "diff memory file size" "$(stat -c %s "$dir/full.mem")" "$(stat -c %s "$dir/diff1.mem")"
    [ "$diff_kib" -lt $((full_kib / 4)) ] || fail "the diff ($diff_kib KiB) is not much smaller than the full snapshot ($full_kib KiB)"
    cp --sparse=always "$dir/full.mem" "$dir/merged.mem"
    "$rebase" --base-file "$dir/merged.mem" --diff-file "$dir/diff1.mem" || fail "ember-rebase-snap of the first diff failed"
    cp "$dir/diff1.snap" "$dir/merged.snap"
    start b
    expect_eq "PUT /snapshot/load of the rebased diff ($(cat "$dir/reply" 2>/dev/null))" 204 \
        "$(call "$dir/b.sock" PUT /snapshot/load "$(load_body true merged true)")"
    before=$(grep -c '^tick' "$dir/a.out")
    wait_for_output "$dir/b.out" "^tick [56][0-9][0-9]" "the VM restored from the rebased diff" 400
    snapshot b Diff diff2
    kill_vm b
    "$rebase" --base-file "$dir/merged.mem" --diff-file "$dir/diff2.mem" || fail "ember-rebase-snap of the second diff failed"
    bounded "$ember" --restore "snapshot=$dir/diff2.snap,memory=$dir/merged.mem" --serial "file=$dir/c.out" </dev/null
    expect_eq "exit status of the VM restored from two diffs" 0 $?
    check_ticks "$dir/a.out" "$dir/b.out" "$dir/c.out"
    ! "$rebase" --base-file "$dir/merged.mem" --diff-file "$dir/diff1.snap" 2>"$dir/rebase.err" || fail "a state file rebased as a memory file"
    grep -q "is .* bytes and base memory file" "$dir/rebase.err" || fail "ember-rebase-snap's refusal: $(cat "$dir/rebase.err")"
    echo "ok: $before ticks, full + diff, $(grep -c '^tick' "$dir/b.out") after the first rebase, diff, the rest after the second: none repeated or missing" ;;
console)
    start a --virtio-mmio-cmdline --debug-exit --console tty >"$dir/a.console"
    expect_eq "PUT /boot-source" 204 "$(call "$dir/a.sock" PUT /boot-source "{\"kernel_image_path\": \"$guests/console.elf\"}")"
    expect_eq "InstanceStart" 204 "$(call "$dir/a.sock" PUT /actions '{"action_type": "InstanceStart"}')"
    wait_for_output "$dir/a.console" "hello from virtio-console" "the console guest" 400
    wait_for_output "$dir/a.out" "transmit hello: ok" "the console guest" 400
    snapshot a
    kill_vm a
    bounded "$ember" --restore "snapshot=$dir/vm.snap,memory=$dir/vm.mem" --serial "file=$dir/b.out" --console tty \
        < <(printf 'abc.') >"$dir/b.console"
    expect_eq "exit status of the restored console guest (no failed check)" 1 $?
    tr -d '\r' <"$dir/b.out" >"$dir/b.txt"
    grep -qx "input up to '.' received: ok" "$dir/b.txt" || fail "the restored guest got no input: $(cat "$dir/b.txt")"
    grep -qx "received: abc" "$dir/b.txt" || fail "the restored guest received: $(cat "$dir/b.txt")"
    echo "ok: the console's posted buffer survived the snapshot and took the restored process's input" ;;
vsock)
    start a --virtio-mmio-cmdline --debug-exit
    expect_eq "PUT /boot-source" 204 "$(call "$dir/a.sock" PUT /boot-source "{\"kernel_image_path\": \"$guests/vsock.elf\"}")"
    expect_eq "PUT /vsock" 204 "$(call "$dir/a.sock" PUT /vsock "{\"guest_cid\": 5, \"uds_path\": \"$dir/v.sock\"}")"
    expect_eq "InstanceStart" 204 "$(call "$dir/a.sock" PUT /actions '{"action_type": "InstanceStart"}')"
    wait_for_output "$dir/a.out" "vsock: ready, guest cid 5" "the vsock guest" 400
    snapshot a
    kill_vm a
    [ -S "$dir/v.sock" ] || fail "the killed Ember left no vsock socket (the case needs a stale one)"
    bounded "$ember" --restore "snapshot=$dir/vm.snap,memory=$dir/vm.mem" --serial "file=$dir/b.out" </dev/null
    expect_eq "exit status of the restored vsock guest (no failed check)" 1 $?
    tr -d '\r' <"$dir/b.out" >"$dir/b.txt"
    grep -qx "vsock: event id 0" "$dir/b.txt" || fail "the restored guest got no transport reset: $(cat "$dir/b.txt")"
    grep -qx "the event is a transport reset: ok" "$dir/b.txt" || fail "$(cat "$dir/b.txt")"
    echo "ok: the restored vsock device announced a transport reset on its stale socket's path" ;;
uffd)
    [ "$(id -u)" = 0 ] || skip "a userfaultfd that sees KVM's faults needs root"
    start a
    boot a "$guests/counter.elf"
    wait_for_output "$dir/a.out" "^tick 2[0-9][0-9]" "the counter guest" 400
    snapshot a
    kill_vm a
    "$handler" "$dir/pf.sock" "$dir/vm.mem" >"$dir/pf.out" 2>&1 &
    pf_pid=$!
    pids+=($pf_pid)
    wait_for_socket "$dir/pf.sock" "the page fault handler" 200
    start b
    status=$(call "$dir/b.sock" PUT /snapshot/load "{\"snapshot_path\": \"$dir/vm.snap\", \"mem_backend\": {\"backend_type\": \"Uffd\", \"backend_path\": \"$dir/pf.sock\"}, \"resume_vm\": true}")
    expect_eq "PUT /snapshot/load with Uffd ($(cat "$dir/reply" 2>/dev/null))" 204 "$status"
    ended "$b_pid"
    expect_eq "exit status of the VM restored through the handler" 0 $?
    check_ticks "$dir/a.out" "$dir/b.out"
    ended "$pf_pid"
    expect_eq "exit status of the page fault handler ($(cat "$dir/pf.out"))" 0 $?
    served=$(sed -n 's/^uffd_handler: \([0-9]*\) faults served$/\1/p' "$dir/pf.out")
    [ "${served:-0}" -ge 8192 ] || fail "the handler served ${served:-no} faults, fewer than the guest's 8192 checked pages"
    # No handler at the socket: the load fails with the reason, the process lives on.
    start c
    expect_eq "load with Uffd and no handler" 400 "$(call "$dir/c.sock" PUT /snapshot/load "{\"snapshot_path\": \"$dir/vm.snap\", \"mem_backend\": {\"backend_type\": \"Uffd\", \"backend_path\": \"$dir/none.sock\"}}")"
    grep -q "the page fault handler at '$dir/none.sock'.*No such file" "$dir/reply" || fail "reply: $(cat "$dir/reply")"
    echo "ok: restored through a userfaultfd handler ($served faults served), the run goes on unbroken" ;;
refusals)
    start a
    boot a "$guests/counter.elf"
    wait_for_output "$dir/a.out" "^tick 1" "the counter guest" 400
    create='{"snapshot_path": "'$dir'/vm.snap", "mem_file_path": "'$dir'/vm.mem"}'
    refused "--snapshot-create without memory=" 2 "snapshot=PATH and memory=PATH are required" \
        "$ember" --api-sock "$dir/a.sock" --snapshot-create "snapshot=$dir/x.snap"
    refused "--snapshot-create type=diff without dirty tracking" 8 "Diff snapshot needs dirty page tracking" \
        "$ember" --api-sock "$dir/a.sock" --snapshot-create "snapshot=$dir/x.snap,memory=$dir/x.mem,type=diff"
    expect_eq "GET /" 200 "$(call "$dir/a.sock" GET /)"
    grep -q '"state":"Running"' "$dir/reply" || fail "a refused --snapshot-create left the VM paused: $(cat "$dir/reply")"
    expect_eq "snapshot of a running VM" 400 "$(call "$dir/a.sock" PUT /snapshot/create "$create")"
    grep -q "must be paused" "$dir/reply" || fail "reply: $(cat "$dir/reply")"
    expect_eq "PATCH /vm Paused" 204 "$(call "$dir/a.sock" PATCH /vm '{"state": "Paused"}')"
    expect_eq "Diff snapshot without track_dirty_pages" 400 "$(call "$dir/a.sock" PUT /snapshot/create '{"snapshot_type": "Diff", "snapshot_path": "'$dir'/d.snap", "mem_file_path": "'$dir'/d.mem"}')"
    grep -q 'Diff snapshot needs dirty page tracking' "$dir/reply" || fail "reply: $(cat "$dir/reply")"
    expect_eq "PUT /snapshot/create" 204 "$(call "$dir/a.sock" PUT /snapshot/create "$create")"
    kill -KILL "$a_pid"
    wait "$a_pid" 2>/dev/null
    cp "$dir/vm.snap" "$dir/good.snap"
    # try WHAT PATTERN: a fresh Ember's load of $dir/vm.snap gets 400 and PATTERN; the process lives on.
    try() {
        start b
        expect_eq "load of $1" 400 "$(call "$dir/b.sock" PUT /snapshot/load "$(load_body true)")"
        grep -Eq "$2" "$dir/reply" || fail "load of $1: the reply does not match /$2/: $(cat "$dir/reply")"
        echo "  $1 -> $(cat "$dir/reply")"
        kill -KILL "$b_pid"
        wait "$b_pid" 2>/dev/null
        rm -f "$dir/b.sock"
    }
    size=$(stat -c %s "$dir/good.snap")
    printf '\xff' | dd of="$dir/vm.snap" bs=1 seek=$((size - 100)) conv=notrunc status=none
    try "a corrupted state file" "is corrupted: its CRC-64 does not match"
    head -c $((size / 2)) "$dir/good.snap" >"$dir/vm.snap"
    try "a truncated state file" "truncated"
    cp "$dir/good.snap" "$dir/vm.snap"
    printf '\x07' | dd of="$dir/vm.snap" bs=1 seek=8 conv=notrunc status=none
    try "another version" "has state file version 7; this Ember reads version 1"
    echo "not a snapshot" >"$dir/vm.snap"
    try "a text file" "is not an Ember snapshot state file"
    cp "$dir/good.snap" "$dir/vm.snap"
    truncate -s 1M "$dir/vm.mem"
    try "a short memory file" "memory file '.*vm.mem' is 1048576 bytes; the snapshot's guest has 67108864"
    rm "$dir/vm.mem"
    try "a missing memory file" "vm.mem.*No such file or directory"
    echo "ok: every bad snapshot request and file is refused with its reason" ;;
*) fail "unknown case $case" ;;
esac
