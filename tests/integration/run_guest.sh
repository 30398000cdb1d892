#!/usr/bin/env bash
# run_guest.sh EMBER KERNEL EXPECTED_EXIT EXPECTED_OUTPUT [ember options...]
# Boots KERNEL under Ember; the serial output must equal EXPECTED_OUTPUT and the exit status
# EXPECTED_EXIT. GUEST_INPUT, when set, is fed to the guest's serial port through stdin;
# CLOSE_STDIN=1 starts Ember with stdin closed; NO_DEBUG_EXIT=1 leaves out --debug-exit.
set -u
. "$(dirname "$0")/lib.sh"
ember=("$1" --virtio-mmio-cmdline) kernel=$2 want_exit=$3 want_output=$4
shift 4
[ -n "${NO_DEBUG_EXIT:-}" ] || ember+=(--debug-exit)
out=$(mktemp) err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT

if [ -n "${CLOSE_STDIN:-}" ]; then
    bounded "${ember[@]}" --kernel "$kernel" "$@" <&- >"$out" 2>"$err"
elif [ -n "${GUEST_INPUT:-}" ]; then
    printf '%s' "$GUEST_INPUT" | bounded "${ember[@]}" --kernel "$kernel" "$@" >"$out" 2>"$err"
else
    bounded "${ember[@]}" --kernel "$kernel" "$@" </dev/null >"$out" 2>"$err"
fi
status=$?
cat "$err" >&2
if ! diff -u "$want_output" "$out"; then
    fail "serial output differs from $(basename "$want_output")"
fi
expect_eq "exit status" "$want_exit" "$status"
echo "ok: $(basename "$kernel") printed $(wc -l <"$out") expected lines, exit status $status"
