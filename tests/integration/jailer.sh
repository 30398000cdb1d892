#!/usr/bin/env bash
# jailer.sh JAILER EMBER GUESTS CASE: ember-jailer's walls, each case on a jailed Ember running
# the hog guest (cgroup v1 here: these hosts mount its controllers; v2 is the Linux suite's
# jailer_v2 case, in the nested L1).
#  walls        every thread: Seccomp 2, NoNewPrivs 1, no capability in any set, the target
#               uid and gid; its own mount and PID namespaces and cgroup; the jail as its root;
#               no inherited fd, no environment; SIGTERM to the jailer ends Ember (143) and
#               the jail and cgroup are gone after
#  cpu_quota    spinning, capped by cpu.cfs_quota_us at 20% of a core, it uses at most ~20%
#               (uncapped, the same guest takes far more: the measure can fail)
#  memory_limit a guest touching 256 MiB under a 64 MiB limit: that VM alone is killed, the
#               jailer says so and exits 137; a process beside it lives on
#  netns        --netns joins the named network namespace
#  daemonize    --daemonize: a session of its own, standard I/O on /dev/null
set -u
. "$(dirname "$0")/lib.sh"
jailer=$1 ember=$2 guests=$3 case=$4
[ "$(id -u)" = 0 ] || skip "the jailer needs root (namespaces, cgroups, mknod)"
readelf -l "$ember" 2>/dev/null | grep -q 'program interpreter' &&
    skip "this Ember is dynamically linked (a sanitizer build); the jail holds a static one only"
dir=$(mktemp -d)
base=$dir/jails id=jt-${case//_/-} parent=ember-test-$$ uid=61234 gid=61235
jail=$base/ember/$id/root
pids=() netns=
cleanup() {
    for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
    wait 2>/dev/null
    rmdir /sys/fs/cgroup/*/"$parent"/"$id" /sys/fs/cgroup/*/"$parent" 2>/dev/null
    [ -z "$netns" ] || ip netns del "$netns" 2>/dev/null
    rm -rf "$dir"
}
trap cleanup EXIT
mkdir -p "$jail"
cp "$guests/hog.elf" "$jail/hog.elf"

# start_jailed [JAILER FLAGS...] -- [EMBER ARGS...]: in the background; sets jailer_pid.
start_jailed() {
    local flags=()
    while [ "$1" != -- ]; do flags+=("$1"); shift; done
    shift
    "$jailer" --id "$id" --exec-file "$ember" --uid $uid --gid $gid --chroot-base-dir "$base" \
        --parent-cgroup "$parent" "${flags[@]}" -- --kernel /hog.elf "$@" </dev/null >"$dir/out" 2>"$dir/err" &
    jailer_pid=$!
    pids+=("$jailer_pid")
}

# Sets pid to Ember's, from the jailer's pid file, once the guest spins.
wait_spinning() {
    wait_for_output "$dir/out" "hog: spinning" "the jailed guest"
    pid=$(cat "$jail/ember.pid")
}

# stop_jailed STATUS: SIGTERM to the jailer; the jailer's exit status.
stop_jailed() {
    kill -TERM "$jailer_pid"
    wait "$jailer_pid"
    local status=$?
    [ "$status" = "$1" ] || fail "the jailer ended with $status, not $1: $(cat "$dir/err")"
}

# Nothing the jailer made is left: the binary, its pid file, the device nodes, the cgroups.
check_taken_down() {
    for f in ember ember.pid dev; do
        [ ! -e "$jail/$f" ] || fail "the jailer left $jail/$f behind"
    done
    [ -e "$jail/hog.elf" ] || fail "the jailer removed the guest it was given ($jail/hog.elf)"
    local left
    left=$(ls -d /sys/fs/cgroup/*/"$parent" 2>/dev/null)
    [ -z "$left" ] || fail "cgroups left behind: $left"
}

# cpu_percent PID SECONDS: the share of one core PID used over SECONDS of wall time.
cpu_percent() {
    local ticks0 ticks1 t0 t1
    ticks0=$(awk '{ print $14 + $15 }' "/proc/$1/stat") t0=$(date +%s%N)
    sleep "$2"
    ticks1=$(awk '{ print $14 + $15 }' "/proc/$1/stat") t1=$(date +%s%N)
    echo $(( (ticks1 - ticks0) * 100 * 1000000000 / ($(getconf CLK_TCK) * (t1 - t0) / 100) / 100 ))
}

case $case in
walls)
    exec 7</etc/hostname
    export EMBER_TEST_SECRET=leaked
    start_jailed --new-pid-ns --cgroup pids.max=64 --cgroup cpu.shares=512 -- --memory 64M --cpus 2
    wait_spinning
    threads=0
    for task in /proc/"$pid"/task/*; do
        tid=${task##*/}
        threads=$((threads + 1))
        expect_eq "Seccomp of thread $tid" 2 "$(field_of "$pid" "$tid" Seccomp)"
        expect_eq "NoNewPrivs of thread $tid" 1 "$(field_of "$pid" "$tid" NoNewPrivs)"
        for set in CapInh CapPrm CapEff CapBnd CapAmb; do
            expect_eq "$set of thread $tid" 0000000000000000 "$(field_of "$pid" "$tid" $set)"
        done
        expect_eq "uids of thread $tid" "$uid $uid $uid $uid" "$(awk '$1 == "Uid:" { print $2, $3, $4, $5 }' "$task/status")"
        expect_eq "gids of thread $tid" "$gid $gid $gid $gid" "$(awk '$1 == "Gid:" { print $2, $3, $4, $5 }' "$task/status")"
        expect_eq "supplementary groups of thread $tid" "" "$(awk '$1 == "Groups:" { print $2 }' "$task/status")"
    done
    [ $threads -ge 3 ] || fail "only $threads threads (the VMM and two vCPUs expected)"
    for ns in mnt pid; do
        [ "$(readlink /proc/"$pid"/ns/$ns)" != "$(readlink /proc/self/ns/$ns)" ] || fail "Ember shares the host's $ns namespace"
    done
    expect_eq "Ember's pid in its own namespace" 1 "$(awk '$1 == "NSpid:" { print $3 }' /proc/"$pid"/status)"
    for controller in pids cpu; do
        grep -Eq "^[0-9]+:([a-z]+,)*$controller(,[a-z]+)*:/$parent/$id\$" /proc/"$pid"/cgroup ||
            fail "Ember is not in $parent/$id of the $controller hierarchy: $(cat /proc/"$pid"/cgroup)"
    done
    expect_eq "pids.max in Ember's cgroup" 64 "$(cat /sys/fs/cgroup/pids/"$parent"/"$id"/pids.max)"
    expect_eq "what Ember sees as /" "dev ember ember.pid hog.elf" "$(ls /proc/"$pid"/root | tr '\n' ' ' | sed 's/ $//')"
    [ ! -s /proc/"$pid"/environ ] || fail "Ember has an environment: $(tr '\0' ' ' </proc/"$pid"/environ)"
    for fd in /proc/"$pid"/fd/*; do
        [ "$(readlink "$fd")" != /etc/hostname ] || fail "Ember inherited the jailer's fd ${fd##*/}"
    done
    stop_jailed 143
    check_taken_down
    ;;
cpu_quota)
    start_jailed --cgroup cpu.shares=1024 -- --memory 64M
    wait_spinning
    free=$(cpu_percent "$pid" 3)
    stop_jailed 143
    start_jailed --cgroup cpu.cfs_period_us=100000 --cgroup cpu.cfs_quota_us=20000 -- --memory 64M
    wait_spinning
    capped=$(cpu_percent "$pid" 3)
    stop_jailed 143
    echo "the spinning guest's VMM used ${free}% of a core uncapped, ${capped}% under a 20% quota"
    [ "$free" -ge 40 ] || fail "uncapped, the spinning guest used only ${free}% of a core: the measure means nothing here"
    [ "$capped" -le 26 ] || fail "under a 20% quota the VM used ${capped}% of a core"
    check_taken_down
    ;;
memory_limit)
    limits=(--cgroup memory.limit_in_bytes=64M)
    if [ "$(awk '$1 == "SwapTotal:" { print $2 }' /proc/meminfo)" != 0 ]; then
        [ -e /sys/fs/cgroup/memory/memory.memsw.limit_in_bytes ] || skip "swap without memsw accounting: the limit would swap"
        limits+=(--cgroup memory.memsw.limit_in_bytes=64M)
    fi
    sleep 600 &
    canary=$!
    pids+=("$canary")
    start_jailed "${limits[@]}" -- --memory 256M --cmdline "hog.touch=1"
    TEST_TIMEOUT=60 bounded tail --pid="$jailer_pid" -f /dev/null
    wait "$jailer_pid"
    expect_eq "the jailer's exit status (Ember killed)" 137 "$?"
    grep -q "^ember-jailer: error: ember (id $id) was killed by the kernel's OOM killer: its cgroup's memory limit was reached" "$dir/err" ||
        fail "no clear line: $(cat "$dir/err")"
    ! grep -q "hog: touched" "$dir/out" || fail "the guest touched all its memory under the limit"
    kill -0 "$canary" || fail "a process beside the jailed VM died"
    check_taken_down
    ;;
netns)
    netns=ember-jt-$$
    ip netns add "$netns" || skip "cannot create a network namespace"
    start_jailed --netns "/var/run/netns/$netns" --cgroup pids.max=64 -- --memory 64M
    wait_spinning
    expect_eq "Ember's network namespace" "$(stat -L -c %i "/var/run/netns/$netns")" "$(stat -L -c %i /proc/"$pid"/ns/net)"
    stop_jailed 143
    check_taken_down
    ;;
daemonize)
    start_jailed --daemonize -- --memory 64M
    for _ in $(seq 200); do [ -s "$jail/ember.pid" ] && break; sleep 0.05; done
    [ -s "$jail/ember.pid" ] || fail "no pid file: $(cat "$dir/err")"
    expect_eq "the daemonized jailer's session" "$jailer_pid" "$(awk '{ print $6 }' /proc/"$jailer_pid"/stat)"
    for fd in 0 1 2; do
        expect_eq "the daemonized jailer's fd $fd" /dev/null "$(readlink /proc/"$jailer_pid"/fd/$fd)"
    done
    stop_jailed 143
    [ ! -s "$dir/out" ] || fail "a daemonized jail wrote to its caller's stdout: $(cat "$dir/out")"
    check_taken_down
    ;;
*) fail "unknown case $case" ;;
esac
echo "PASS: jailer $case"
