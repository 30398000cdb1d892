#!/usr/bin/env bash
# ksm.sh EMBER HOG_GUEST: two VMs with --memory mergeable=on run the hog guest, which writes
# the same byte to every page from 4 MiB up and halts, so the two VMs' pages are alike. With
# KSM running on the host, most of each VM's pages must be merged (/proc/PID/ksm_merging_pages).
# Root only (it starts ksmd for the test and puts its settings back after); skipped where the
# host kernel has no KSM.
set -u
. "$(dirname "$0")/lib.sh"
ember=$1 guest=$2
ksm=/sys/kernel/mm/ksm
[ -e $ksm/run ] || skip "the host kernel has no KSM (/sys/kernel/mm/ksm)"
[ "$(id -u)" = 0 ] || skip "starting ksmd needs root"
dir=$(mktemp -d)
saved=$(for f in run pages_to_scan sleep_millisecs; do echo "$f=$(cat $ksm/$f)"; done)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
    while IFS== read -r f v; do echo "$v" >$ksm/$f; done <<<"$saved"
    rm -rf "$dir"
}
trap cleanup EXIT

for vm in 1 2; do
    "$ember" --kernel "$guest" --memory size=64M,mergeable=on --rng off --cmdline "hog.touch=1 hog.halt=1" \
        </dev/null >"$dir/vm$vm.out" 2>"$dir/vm$vm.err" &
    pids+=($!)
done
for vm in 1 2; do wait_for_output "$dir/vm$vm.out" "hog: halted" "VM $vm" 1200; done
grep -h "touched" "$dir"/vm*.out
echo 5000 >$ksm/pages_to_scan
echo 20 >$ksm/sleep_millisecs
echo 1 >$ksm/run
# 60 MiB touched per VM: 15360 pages each, all alike. Most must end up merged.
want=12000
merged() { cat "/proc/$1/ksm_merging_pages" 2>/dev/null || echo 0; }
[ -e "/proc/${pids[0]}/ksm_merging_pages" ] || skip "the host kernel has no /proc/PID/ksm_merging_pages (Linux 5.19)"
for _ in $(seq 600); do
    [ "$(merged "${pids[0]}")" -ge $want ] && [ "$(merged "${pids[1]}")" -ge $want ] && break
    sleep 0.1
done
echo "merged pages: VM 1 $(merged "${pids[0]}"), VM 2 $(merged "${pids[1]}"); host pages_sharing $(cat $ksm/pages_sharing)"
for p in "${pids[@]}"; do
    [ "$(merged "$p")" -ge $want ] || fail "KSM merged only $(merged "$p") of a VM's 15360 alike pages (want $want)"
    kill -0 "$p" || fail "a VM ended while KSM merged its memory"
done
echo "ok: two mergeable VMs have their alike pages merged by KSM"
