#!/usr/bin/env bash
# signal_stop.sh EMBER ECHO_GUEST SIGNAL EXPECTED_EXIT [ember options...]
# The echo guest says "ready" and then waits for serial input forever. Once it is ready
# (read from Ember's stdout, no sleeping), SIGNAL must stop every vCPU thread and Ember
# must exit with EXPECTED_EXIT (128 + signal number).
set -u
. "$(dirname "$0")/lib.sh"
ember=$1 guest=$2 signal=$3 want_exit=$4
shift 4

coproc VM { exec "$ember" --kernel "$guest" "$@" 2>&1; }
pid=$VM_PID
trap 'kill -KILL "$pid" 2>/dev/null' EXIT  # never leave a spinning VM behind
IFS= read -r -t 20 line <&"${VM[0]}" || fail "guest did not report ready"
expect_eq "guest output" "ready" "${line%$'\r'}"
kill -"$signal" "$pid"
# Bounded wait: a VMM that ignores the signal fails the test instead of hanging it.
for ((i = 0; i < 200; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    read -r -t 0.05 _ <&"${VM[0]}" || true
done
kill -0 "$pid" 2>/dev/null && fail "Ember still runs 10 s after SIG$signal"
wait "$pid"
status=$?
expect_eq "exit status after SIG$signal" "$want_exit" "$status"
echo "ok: SIG$signal stopped the running VM with exit status $status"
