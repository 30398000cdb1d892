# Helpers for the tests that drive Ember's API and follow the counter guest across a snapshot
# or a migration (sourced after lib.sh). Sets $dir (removed at exit) and $pids (killed at exit).
command -v curl >/dev/null || skip "curl is not installed"
dir=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done; rm -rf "$dir"' EXIT

# call SOCKET METHOD PATH [BODY]: the HTTP status; the body lands in $dir/reply.
call() {
    curl -sS --unix-socket "$1" -X "$2" -H 'Content-Type: application/json' "http://localhost$3" \
        ${4:+-d "$4"} -o "$dir/reply" -w '%{http_code}'
}
# ended PID: the exit status of a background Ember, bounded.
ended() {
    for _ in $(seq 600); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
    wait "$1"
}
# check_ticks FILE...: the counter's ticks in the files, in order, are one undisturbed run's:
# each of 0..999 once, in order, then "memory intact" and "done" (with $disk set, also "disk
# intact" in the second file).
check_ticks() {
    cat "$@" | tr -d '\r' | awk -v disk="${disk:-}" '
        /^tick / { if ($2 != n) { print "tick " $2 " where tick " n " was due"; bad = 1; exit } n++; next }
        /^counter: done$/ { done = 1; next }
        /^counter: memory intact$/ { intact = 1; next }
        /^counter: disk intact$/ && disk { next }
        { print "unexpected line: " $0; bad = 1; exit }
        END { if (!bad && (n != 1000 || !done || !intact)) print n " ticks, done=" done ", memory intact=" intact; }' >"$dir/ticks.err"
    [ -z "${disk:-}" ] || grep -q "^counter: disk intact" "$2" || echo "no 'disk intact' line" >>"$dir/ticks.err"
    [ ! -s "$dir/ticks.err" ] || fail "the output is not one run's: $(cat "$dir/ticks.err")"
}
# refused WHAT STATUS PATTERN COMMAND...: COMMAND exits STATUS with a line matching PATTERN.
refused() {
    local what=$1 status=$2 pattern=$3
    shift 3
    bounded "$@" </dev/null 2>"$dir/err"
    expect_eq "exit status of $what" "$status" $?
    grep -Eq "$pattern" "$dir/err" || fail "$what: $(cat "$dir/err")"
}
