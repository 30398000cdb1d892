#!/usr/bin/env bash
# jailer_bad_input.sh JAILER STATIC CASE: ember-jailer given bad input prints one line naming
# the problem, exits with the status of its kind (2 invalid or not found, 10 in use) and leaves
# nothing behind: no chroot folder, no cgroup (nor their parents), no file in the jail.
set -u
LIB_NO_KVM=1  # the jailer refuses bad input before any VM exists
. "$(dirname "$0")/lib.sh"
jailer=$1 static=$2 case=$3  # STATIC: any static executable (none of these cases gets to exec)
[ "$(id -u)" = 0 ] || skip "the jailer needs root"
dir=$(mktemp -d)
base=$dir/jails id=bad-${case//_/-} parent=ember-bad-$$
cleanup() {
    rmdir /sys/fs/cgroup/*/"$parent"/"$id" /sys/fs/cgroup/*/"$parent" 2>/dev/null
    rm -rf "$dir"
}
trap cleanup EXIT
uid=61234 gid=61235 flags=() expected_status=2

case $case in
existing_id)  # a jail with this id was built and not taken down
    jail=$base/${static##*/}/$id/root
    mkdir -p "$jail" && echo stale >"$jail/${static##*/}"
    expected_status=10 pattern="--id $id is in use: $jail/${static##*/} exists" ;;
existing_cgroup)
    mkdir -p /sys/fs/cgroup/pids/"$parent"/"$id"
    flags=(--cgroup pids.max=10)
    expected_status=10 pattern="--id $id is in use: /sys/fs/cgroup/pids/$parent/$id exists" ;;
missing_exec_file)
    static=$dir/no-such-ember pattern="--exec-file $dir/no-such-ember: No such file or directory" ;;
exec_file_dynamic)
    static=$(type -P true) pattern="--exec-file .* is dynamically linked: the jail holds the binary alone" ;;
exec_file_not_elf)
    printf '#!/bin/sh\necho hi\n' >"$dir/script" && chmod +x "$dir/script"
    static=$dir/script pattern="--exec-file $dir/script is not a 64-bit ELF executable" ;;
exec_file_relative)
    static=ember pattern="--exec-file 'ember' must be an absolute path" ;;
chroot_base_relative)
    base=jails pattern="--chroot-base-dir 'jails' must be an absolute path" ;;
uid_zero)
    uid=0 pattern="--uid 0 is refused: the jail exists to drop root" ;;
gid_zero)
    gid=0 pattern="--gid 0 is refused: the jail exists to drop root" ;;
id_malformed)
    id=with_underscore pattern="--id 'with_underscore' must be 1 to 64 letters, digits and hyphens" ;;
id_too_long)
    id=$(head -c 65 /dev/zero | tr '\0' a) pattern="--id 'a{65}' must be 1 to 64 letters" ;;
cgroup_not_file_value)
    flags=(--cgroup pids.max) pattern="--cgroup 'pids.max' is not FILE=VALUE" ;;
cgroup_bad_file_name)
    flags=(--cgroup ../pids.max=1) pattern="--cgroup '../pids.max=1': '../pids.max' is not a cgroup file name" ;;
cgroup_no_such_controller)
    flags=(--cgroup nosuch.max=1) pattern="--cgroup nosuch.max: no cgroup v1 hierarchy holds the 'nosuch' controller" ;;
cgroup_no_such_file)  # made, found wanting, taken down again
    flags=(--cgroup pids.max=10 --cgroup pids.bogus=1) pattern="--cgroup pids.bogus=1: the cgroup has no file 'pids.bogus'" ;;
cgroup_bad_value)
    flags=(--cgroup pids.max=lots) pattern="--cgroup pids.max=lots: the kernel refused it \(Invalid argument\)" ;;
cgroup_version_bad)
    flags=(--cgroup-version 3) pattern="--cgroup-version 3 is not 1 or 2" ;;
cgroup_v2_no_controller)
    flags=(--cgroup-version 2 --cgroup nosuch.max=1)
    pattern="(--cgroup nosuch.max: the cgroup v2 hierarchy at .* offers no 'nosuch' controller|--cgroup-version 2: no cgroup2 file system is mounted)" ;;
parent_cgroup_escapes)
    parent=../up pattern="--parent-cgroup '../up': component '..' is not allowed" ;;
netns_missing)
    flags=(--netns /var/run/netns/ember-no-such-ns) pattern="--netns /var/run/netns/ember-no-such-ns: No such file or directory" ;;
netns_not_a_netns)
    flags=(--netns /etc/hostname) pattern="--netns /etc/hostname is not a network namespace" ;;
resource_limit_unknown)
    flags=(--resource-limit cpu=5) pattern="--resource-limit 'cpu=5' is not fsize=N or no-file=N" ;;
*) fail "unknown case $case" ;;
esac

before=$(ls -d /sys/fs/cgroup/*/"$parent" 2>/dev/null)
bounded "$jailer" --id "$id" --exec-file "$static" --uid "$uid" --gid "$gid" --chroot-base-dir "$base" \
    --parent-cgroup "$parent" "${flags[@]}" -- --kernel /none </dev/null >"$dir/out" 2>"$dir/err"
status=$?
expect_eq "exit status" "$expected_status" "$status"
[ ! -s "$dir/out" ] || fail "stdout is not empty: $(cat "$dir/out")"
expect_eq "lines on stderr" 1 "$(wc -l <"$dir/err")"
grep -Eq "^ember-jailer: error: $pattern" "$dir/err" || fail "stderr does not match '$pattern': $(cat "$dir/err")"
if [ "$case" = existing_id ]; then
    expect_eq "what the jail holds" "${static##*/}" "$(ls "$jail")"
else
    [ ! -e "$base" ] || fail "the jailer left $(find "$base" | tr '\n' ' ')"
fi
expect_eq "cgroups after" "$before" "$(ls -d /sys/fs/cgroup/*/"$parent" 2>/dev/null)"
echo "PASS: $case: $(cat "$dir/err")"
