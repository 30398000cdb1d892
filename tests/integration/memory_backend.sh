#!/usr/bin/env bash
# memory_backend.sh EMBER GUESTS CASE: boots the idle guest with one --memory backend (64 MiB)
# and checks, while it runs, that its RAM is the mapping the backend promises, as the host
# kernel reports it in /proc/PID/smaps (the one mapping of 65536 kB): anonymous or a file,
# huge pages, KSM's and THP's flags, resident pages; then SIGTERM ends it with 143.
set -u
. "$(dirname "$0")/lib.sh"
ember=$1 guests=$2 case=$3
dir=$(mktemp -d)
pool=/proc/sys/vm/nr_hugepages
pool_before=$(cat $pool)
grown=
# Only the case that grew the pool gives it back: the others run in parallel with it, and one
# ending while a huge-page case ran used to shrink the pool under that guest.
cleanup() {
    [ -n "${pid:-}" ] && kill -KILL "$pid" 2>/dev/null
    [ -z "$grown" ] || echo "$pool_before" >$pool
    rm -rf "$dir"
}
trap cleanup EXIT

# reserve_huge_pages N: grows the host's pool by N 2 MiB pages for this test (root only).
reserve_huge_pages() {
    [ "$(id -u)" = 0 ] || skip "hugepages=2M needs reserved huge pages, and only root can reserve them"
    grown=1
    echo $((pool_before + $1)) >$pool 2>/dev/null
    [ "$(cat $pool)" -ge $((pool_before + $1)) ] || skip "the host could not reserve $1 more 2 MiB huge pages"
}

case $case in
anon)        memory=size=64M,backend=anon ;;
memfd)       memory=size=64M,backend=memfd ;;
file)        memory=size=64M,backend=file:$dir/ram ;;
directory)   memory=size=64M,backend=file:$dir ;;
transparent) memory=size=64M,hugepages=transparent ;;
mergeable)   memory=size=64M,mergeable=on ;;
prefault)    memory=size=64M,prefault=on ;;
huge_anon)   reserve_huge_pages 32; memory=size=64M,hugepages=2M ;;
huge_memfd)  reserve_huge_pages 32; memory=size=64M,backend=memfd,hugepages=2M ;;
*) fail "unknown case $case" ;;
esac

"$ember" --kernel "$guests/idle.elf" --memory "$memory" --rng off </dev/null >"$dir/serial.out" 2>"$dir/err" &
pid=$!
wait_for_vm "$pid" "$dir/serial.out" "idle: ready" "the idle guest (--memory $memory)" "$dir/err"
# The smaps entry of guest RAM: its header line (range, perms, offset, device, inode, path) and fields.
ram=$(awk '/^[0-9a-f]+-[0-9a-f]+ / { head = $0; body = ""; next }
           { body = body "\n" $0 }
           /^Size: +65536 kB/ { found = 1 }
           /^VmFlags:/ && found { print head body; exit }' "/proc/$pid/smaps")
[ -n "$ram" ] || fail "no 64 MiB mapping in Ember's smaps"
head=$(head -1 <<<"$ram")
field() { awk -v f="$1:" '$1 == f { print $2 }' <<<"$ram"; }
flags=$(grep '^VmFlags:' <<<"$ram")
echo "guest RAM: $head; Rss $(field Rss) kB; page $(field KernelPageSize) kB; $flags"
path=$(awk '{ $1 = $2 = $3 = $4 = $5 = ""; sub(/^ +/, ""); print }' <<<"$head")
case $case in
anon|transparent|mergeable|prefault)
    [ -z "$path" ] || fail "backend '$memory' is mapped from '$path', not anonymous memory"
    grep -q ' p ' <<<"$head " || [[ $(awk '{print $2}' <<<"$head") == *p ]] || fail "anonymous guest RAM is not private: $head" ;;
memfd|huge_memfd)
    [[ $path == /memfd:ember-guest-ram* ]] || fail "backend=memfd is mapped from '$path'"
    [[ $(awk '{print $2}' <<<"$head") == *s ]] || fail "memfd guest RAM is not shared: $head" ;;
file)  # made unnamed and named once built: smaps keeps the first name, the inode is the file's
    expect_eq "inode of the mapped file (backend=file:$dir/ram)" "$(stat -c %i "$dir/ram")" "$(awk '{print $5}' <<<"$head")" ;;
directory)
    [[ $path == "$dir/"*"(deleted)" ]] || fail "backend=file:$dir is mapped from '$path', not an unnamed file in it"
    [ -z "$(ls -A "$dir" | grep -v -e serial.out -e err)" ] || fail "the directory got a named file: $(ls -A "$dir")" ;;
esac
case $case in
transparent) grep -qw hg <<<"$flags" || fail "hugepages=transparent: no 'hg' (MADV_HUGEPAGE) flag" ;;
mergeable)   grep -qw mg <<<"$flags" || fail "mergeable=on: no 'mg' (MADV_MERGEABLE) flag" ;;
*)           ! grep -qw mg <<<"$flags" || fail "memory is mergeable without mergeable=on" ;;
esac
case $case in
prefault)        [ "$(field Rss)" = 65536 ] || fail "prefault=on: only $(field Rss) of 65536 kB resident" ;;
anon)            [ "$(field Rss)" -lt 32768 ] || fail "lazy memory has $(field Rss) kB resident before the guest used it" ;;
huge_anon|huge_memfd)
    [ "$(field KernelPageSize)" = 2048 ] || fail "hugepages=2M: pages of $(field KernelPageSize) kB"
    grep -qw ht <<<"$flags" || fail "hugepages=2M: no 'ht' (hugetlb) flag" ;;
esac
kill -TERM "$pid"
wait "$pid"
status=$?
pid=
expect_eq "exit status after SIGTERM" 143 "$status"
if [ "$case" = file ]; then
    expect_eq "memory file size" 67108864 "$(stat -c %s "$dir/ram")"
    grep -qa "idle: ready" "$dir/ram" || fail "the memory file does not hold the guest's image"
fi
echo "ok: --memory $memory gives the mapping it names"
