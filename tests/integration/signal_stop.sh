#!/usr/bin/env bash
# signal_stop.sh EMBER ECHO_GUEST SIGNAL EXPECTED_EXIT [ember options...]
# The echo guest says "ready" and then waits for serial input forever. Once it is ready
# (read from Ember's stdout, no sleeping), SIGNAL must stop every vCPU thread and Ember
# must exit with EXPECTED_EXIT (128 + signal number).
set -u
. "$(dirname "$0")/lib.sh"
ember=$1 guest=$2 signal=$3 want_exit=$4
shift 4

coproc VM { exec timeout --kill-after=5 30 "$ember" --kernel "$guest" "$@" 2>&1; }
pid=$VM_PID
IFS= read -r -t 20 line <&"${VM[0]}" || fail "guest did not report ready"
expect_eq "guest output" "ready" "${line%$'\r'}"
kill -"$signal" "$pid"
wait "$pid"
status=$?
expect_eq "exit status after SIG$signal" "$want_exit" "$status"
echo "ok: SIG$signal stopped the running VM with exit status $status"
