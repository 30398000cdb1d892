#!/usr/bin/env bash
# timeout.sh EMBER GUESTS: --timeout, the test runner's hard limit. The idle guest never ends:
# with --timeout 1 Ember stops it and exits with 14, saying why on stderr; with 4 vCPUs too.
# The hello guest ends on its own well before --timeout 60: its own status (0) stands.
set -u
. "$(dirname "$0")/lib.sh"
ember=$1 guests=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

for cpus in 1 4; do
    bounded "$ember" --kernel "$guests/idle.elf" --cpus "$cpus" --timeout 1 </dev/null >"$dir/out" 2>"$dir/err"
    expect_eq "exit status of an idle guest with --timeout 1 and $cpus vCPUs" 14 "$?"
    grep -q -- "--timeout 1 s ran out" "$dir/err" || fail "stderr does not say why: $(cat "$dir/err")"
    [ "$(wc -l <"$dir/err")" = 1 ] || fail "more than one line on stderr: $(cat "$dir/err")"
done
bounded "$ember" --kernel "$guests/hello.elf" --timeout 60 </dev/null >"$dir/out" 2>"$dir/err"
expect_eq "exit status of a guest that ends before its --timeout" 0 "$?"
echo "ok: --timeout stops a running VM with 14 and leaves a finished one's status alone"
