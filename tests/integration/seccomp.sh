#!/usr/bin/env bash
# seccomp.sh EMBER TRIP GUESTS: the seccomp filters of each kind of thread.
#  - TRIP (ember-seccomp-trip) makes a forbidden call in the kind of thread EMBER_SECCOMP_TRIP
#    names, right after its filter is in: vcpu, vmm and api each end the process with SIGSYS;
#    with --no-seccomp the same call is harmless and the guest's own status stands.
#  - Every thread of a running VM shows Seccomp 2 and NoNewPrivs 1 in /proc, from the command
#    line and through the API (whose threads are filtered before it serves a request, the
#    VM's when InstanceStart builds it); with --no-seccomp none is filtered.
#  - --seccomp-filter takes Firecracker's compiled format, each category to its threads.
set -u
. "$(dirname "$0")/lib.sh"
ember=$1 trip=$2 guests=$3
dir=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done; rm -rf "$dir"' EXIT
SIGSYS_STATUS=$((128 + 31))

# Each kind of thread: killed by its own filter.
for kind in vcpu vmm; do
    EMBER_SECCOMP_TRIP=$kind bounded "$trip" --kernel "$guests/hello.elf" </dev/null >"$dir/out" 2>"$dir/err"
    expect_eq "exit status when a $kind thread makes a forbidden call" "$SIGSYS_STATUS" "$?"
    grep -q "seccomp: a $kind thread made system call 135, which its filter forbids; stopping" "$dir/err" ||
        fail "stderr does not name the call: $(cat "$dir/err")"
    ! grep -q "Hello" "$dir/out" || [ "$kind" != vcpu ] || fail "the guest ran although its vCPU was killed first"
done
EMBER_SECCOMP_TRIP=api bounded "$trip" --api-sock "$dir/trip.sock" </dev/null >"$dir/out" 2>"$dir/err"
expect_eq "exit status when an API thread makes a forbidden call" "$SIGSYS_STATUS" "$?"
grep -q "seccomp: an api thread made system call 135" "$dir/err" || fail "stderr does not name the call: $(cat "$dir/err")"
# The call itself is harmless: without filters the guest runs to its end.
EMBER_SECCOMP_TRIP=vcpu bounded "$trip" --no-seccomp --kernel "$guests/hello.elf" </dev/null >"$dir/out" 2>"$dir/err"
expect_eq "exit status with --no-seccomp" 0 "$?"
grep -q "Hello from the Ember test guest" "$dir/out" || fail "no guest output with --no-seccomp: $(cat "$dir/out")"
grep -q -- "--no-seccomp: Ember runs without seccomp filters" "$dir/err" || fail "no warning: $(cat "$dir/err")"

# wait_threads PID COUNT SECCOMP: waits (bounded) until PID has COUNT threads of Ember's
# (KVM may add workers of its own, such as kvm-nx-lpage-recovery, which inherit the filter
# too), each with Seccomp SECCOMP; then checks NoNewPrivs on each when the mode is 2.
wait_threads() {
    local pid=$1 count=$2 mode=$3 tries=0 tid ok
    while :; do
        ok=1
        [ "$(grep -l '^ember' /proc/$pid/task/*/comm 2>/dev/null | wc -l)" = "$count" ] || ok=0
        for tid in $(ls "/proc/$pid/task" 2>/dev/null); do
            [ "$(field_of "$pid" "$tid" Seccomp)" = "$mode" ] || ok=0
        done
        [ $ok = 1 ] && break
        tries=$((tries + 1))
        [ $tries -lt 200 ] || fail "pid $pid: not $count threads with Seccomp $mode: $(grep -H Seccomp: /proc/$pid/task/*/status 2>&1)"
        sleep 0.05
    done
    if [ "$mode" = 2 ]; then
        for tid in $(ls "/proc/$pid/task"); do
            expect_eq "NoNewPrivs of thread $tid" 1 "$(field_of "$pid" "$tid" NoNewPrivs)"
        done
    fi
}

# stop PID STATUS: SIGTERM ends the VM with 143.
stop_vm() {
    kill -TERM "$1"
    wait "$1"
    expect_eq "exit status after SIGTERM" 143 "$?"
}

# From the command line: the VMM thread and two vCPUs.
for mode in filtered unfiltered; do
    flags=() seccomp=2
    [ $mode = unfiltered ] && flags=(--no-seccomp) seccomp=0
    "$ember" "${flags[@]}" --kernel "$guests/idle.elf" --cpus 2 --timeout 60 </dev/null >"$dir/out" 2>"$dir/err" &
    pid=$!
    pids+=("$pid")
    wait_threads "$pid" 3 "$seccomp"
    stop_vm "$pid"
done

# Through the API: its five threads filtered before any request, then the VM's at InstanceStart.
sock=$dir/api.sock
"$ember" --api-sock "$sock" </dev/null >"$dir/out" 2>"$dir/err" &
pid=$!
pids+=("$pid")
wait_for_socket "$sock" "ember --api-sock" 200
for tid in $(ls "/proc/$pid/task"); do
    if [ "$tid" = "$pid" ]; then
        expect_eq "Seccomp of the main thread before InstanceStart" 0 "$(field_of "$pid" "$tid" Seccomp)"
    else
        expect_eq "Seccomp of API thread $tid" 2 "$(field_of "$pid" "$tid" Seccomp)"
    fi
done
api() { curl -sS --unix-socket "$sock" -X PUT -H 'Content-Type: application/json' "http://localhost$1" -d "$2" -o /dev/null -w '%{http_code}'; }
expect_eq "PUT /boot-source" 204 "$(api /boot-source "{\"kernel_image_path\": \"$guests/idle.elf\"}")"
expect_eq "PUT /machine-config" 204 "$(api /machine-config '{"vcpu_count": 2, "mem_size_mib": 128}')"
expect_eq "InstanceStart" 204 "$(api /actions '{"action_type": "InstanceStart"}')"
wait_threads "$pid" 8 2
stop_vm "$pid"

# --seccomp-filter: Firecracker's format (bincode: u64 count, then u64 name length, name, u64
# instruction count, 8-byte instructions). vcpu kills on personality() and allows the rest;
# vmm allows everything; api is empty (unfiltered).
python3 - "$dir" <<'PY'
import struct, sys
LD_NR, JEQ, RET = 0x20, 0x15, 0x06
ALLOW, KILL = 0x7fff0000, 0x80000000
insn = lambda code, jt, jf, k: struct.pack("<HBBI", code, jt, jf, k)
kill_personality = [insn(LD_NR, 0, 0, 0), insn(JEQ, 0, 1, 135), insn(RET, 0, 0, KILL), insn(RET, 0, 0, ALLOW)]
def write(path, programs):
    out = struct.pack("<Q", len(programs))
    for name, prog in programs.items():
        out += struct.pack("<Q", len(name)) + name.encode() + struct.pack("<Q", len(prog)) + b"".join(prog)
    open(path, "wb").write(out)
write(sys.argv[1] + "/ok.bpf", {"vcpu": kill_personality, "vmm": [insn(RET, 0, 0, ALLOW)], "api": []})
write(sys.argv[1] + "/refused.bpf", {"vcpu": [insn(0xffff, 0, 0, 0)], "vmm": [], "api": []})
write(sys.argv[1] + "/no_api.bpf", {"vcpu": [], "vmm": []})
PY
for kind in vcpu vmm api; do
    want=0
    [ $kind = vcpu ] && want=$SIGSYS_STATUS
    EMBER_SECCOMP_TRIP=$kind bounded "$trip" --seccomp-filter "$dir/ok.bpf" --kernel "$guests/hello.elf" \
        </dev/null >"$dir/out" 2>"$dir/err"
    expect_eq "exit status with the file's filters when a $kind thread calls personality()" "$want" "$?"
done
for case in "refused.bpf|the kernel refuses the 'vcpu' program: Invalid argument" \
            "no_api.bpf|no filter for thread category 'api'"; do
    file=${case%%|*} pattern=${case#*|}
    bounded "$ember" --seccomp-filter "$dir/$file" --kernel "$guests/hello.elf" </dev/null >"$dir/out" 2>"$dir/err"
    expect_eq "exit status with $file" 2 "$?"
    grep -q -- "$pattern" "$dir/err" || fail "$file: stderr does not say '$pattern': $(cat "$dir/err")"
    expect_eq "lines on stderr with $file" 1 "$(wc -l <"$dir/err")"
done
echo "ok: each kind of thread is filtered (SIGSYS on a forbidden call), /proc shows it, Firecracker's filter files work"
