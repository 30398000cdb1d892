#!/usr/bin/env bash
# signal_stop.sh EMBER ECHO_GUEST SIGNAL EXPECTED_EXIT [ember options...]
# The echo guest says "ready" and then waits for serial input forever. Once it is ready
# (read from Ember's stdout, no sleeping), SIGNAL must stop every vCPU thread and Ember
# must exit with EXPECTED_EXIT (128 + signal number).
set -u
. "$(dirname "$0")/lib.sh"
ember=("$1" --debug-exit --virtio-mmio-cmdline) guest=$2 signal=$3 want_exit=$4
shift 4

coproc VM { exec "${ember[@]}" --kernel "$guest" "$@" 2>&1; }
pid=$VM_PID
trap 'kill -KILL "$pid" 2>/dev/null' EXIT  # never leave a spinning VM behind
IFS= read -r -t 20 line <&"${VM[0]}" || fail "guest did not report ready"
expect_eq "guest output" "ready" "${line%$'\r'}"
kill -"$signal" "$pid"
# A watchdog bounds the wait: a VMM that ignores the signal is killed after 10 s and the
# test fails on its status (a deadline, not synchronisation).
( exec >/dev/null 2>&1; sleep 10 & sleeper=$!; trap "kill $sleeper; exit 0" TERM; wait $sleeper; kill -KILL "$pid" ) &
watchdog=$!
wait "$pid"
status=$?
kill "$watchdog" 2>/dev/null
[ "$status" = 137 ] && fail "Ember still ran 10 s after SIG$signal"
expect_eq "exit status after SIG$signal" "$want_exit" "$status"
echo "ok: SIG$signal stopped the running VM with exit status $status"
