#!/usr/bin/env bash
# qcow2.sh EMBER BLKWRITE_GUEST BLK_GUEST CASE: qcow2 disks judged by QEMU's own tools.
#   replay COMPAT CLUSTER BACKING [ENGINE]
#                                  the blkwrite guest's requests on an Ember overlay, the same
#                                  requests by qemu-io on a second one: `qemu-img compare` says
#                                  identical, `qemu-img check` is clean, the base never changes
#                                  (BACKING: none, raw or qcow2, a chain raw <- qcow2 <- overlay)
#   images                         the blk guest boots from images qemu-img made: every cluster
#                                  size from 4 KiB to 2 MiB, versions 2 and 3, with and without
#                                  a backing file
#   sigkill                        Ember killed in the middle of the guest's writes leaves an
#                                  image `qemu-img check` finds no corruption in
#   many                           10 VMs at once, each on its overlay of one base
#   refused                        format=qcow2 on a raw file, a missing backing file: one clear
#                                  error; a raw disk with the qcow2 magic: a warning
set -u
here=$(dirname "$0")
. "$here/lib.sh"
. "$here/disk_image.sh"
ember=("$1" --debug-exit --virtio-mmio-cmdline --rng off) blkwrite=$2 blk=$3 case=$4
shift 4
command -v qemu-img >/dev/null && command -v qemu-io >/dev/null || fail "qemu-img/qemu-io missing (qemu-utils)"
dir=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$dir"' EXIT
cd "$dir" || exit 1

# A 16 MiB raw base: the blk guest's pattern, repeated.
make_base() { make_pattern_disk p.raw; for _ in $(seq 16); do cat p.raw; done >base.raw; rm p.raw; }

# run_blkwrite DISK SEED [ENGINE] [COUNT]: the guest's requests on DISK (qcow2); its output in out.SEED.
run_blkwrite() {
    local disk=$1 seed=$2 engine=${3:-sync} count=${4:-96}
    bounded "${ember[@]}" --kernel "$blkwrite" --cmdline "console=ttyS0 blkwrite.seed=$seed blkwrite.count=$count" \
        --disk "path=$disk,format=qcow2,engine=$engine" </dev/null >"out.$seed" 2>"err.$seed"
    local status=$?
    [ "$status" = 1 ] || fail "blkwrite seed $seed on $disk exited $status: $(cat "out.$seed" "err.$seed")"
    grep -q '^blkwrite: done' "out.$seed" || fail "blkwrite seed $seed did not finish: $(cat "out.$seed")"
}

# replay_with_qemu_io OUTPUT DISK: the requests the guest printed, done by qemu-io on DISK.
replay_with_qemu_io() {
    local args=()
    while IFS= read -r line; do args+=(-c "${line#blkwrite: }"); done < <(grep -E '^blkwrite: (write|discard)' "$1")
    [ ${#args[@]} -gt 10 ] || fail "the guest printed only ${#args[@]} requests"
    qemu-io -f qcow2 "${args[@]}" "$2" >/dev/null || fail "qemu-io could not replay the requests"
}

expect_check_clean() {
    local out
    out=$(qemu-img check "$1" 2>&1) || fail "qemu-img check $1: $out"
}

case $case in
replay)
    compat=$1 cluster=$2 backing=$3 engine=${4:-sync}
    make_base
    sum=$(sha256sum <base.raw)
    opts=(-o "compat=$compat,cluster_size=$cluster")
    case $backing in
    none) ;;
    raw) opts+=(-b base.raw -F raw) ;;
    qcow2)
        qemu-img create -q -f qcow2 -b base.raw -F raw mid.qcow2
        qemu-io -f qcow2 -c 'write -P 0x66 1M 3M' mid.qcow2 >/dev/null
        opts+=(-b mid.qcow2 -F qcow2) ;;
    esac
    size=(); [ "$backing" = none ] && size=(16M)
    qemu-img create -q -f qcow2 "${opts[@]}" ember.qcow2 "${size[@]}"
    qemu-img create -q -f qcow2 "${opts[@]}" qemu.qcow2 "${size[@]}"
    run_blkwrite ember.qcow2 7 "$engine"
    replay_with_qemu_io out.7 qemu.qcow2
    expect_check_clean ember.qcow2
    result=$(qemu-img compare -f qcow2 -F qcow2 ember.qcow2 qemu.qcow2 2>&1) ||
        fail "Ember's overlay differs from qemu-io's: $result"
    expect_eq "base checksum" "$sum" "$(sha256sum <base.raw)"
    echo "ok: compat=$compat cluster=$cluster backing=$backing engine=$engine: $(grep -c '^blkwrite: [wd]' out.7) requests," \
         "identical to qemu-io's, qemu-img check clean"
    ;;
images)
    make_pattern_disk base.raw
    n=0
    for compat in 0.10 1.1; do
        for cluster in 4096 65536 2097152; do
            for backing in none raw; do
                if [ "$backing" = raw ]; then
                    qemu-img create -q -f qcow2 -o "compat=$compat,cluster_size=$cluster" -b base.raw -F raw i.qcow2
                else
                    qemu-img convert -O qcow2 -o "compat=$compat,cluster_size=$cluster" base.raw i.qcow2
                fi
                bounded "${ember[@]}" --kernel "$blk" --disk "path=i.qcow2,format=qcow2,serial=ember-disk-0" \
                    </dev/null >out 2>err
                status=$?
                diff -u "$here/expected/blk_rw.txt" out >&2 ||
                    fail "compat=$compat cluster=$cluster backing=$backing: output differs"
                expect_eq "compat=$compat cluster=$cluster backing=$backing exit" 1 "$status"
                expect_check_clean i.qcow2
                rm -f i.qcow2
                n=$((n + 1))
            done
        done
    done
    echo "ok: the blk guest read and wrote $n images qemu-img made (v2/v3, 4K-2M clusters, +-backing)"
    ;;
sigkill)
    make_base
    qemu-img create -q -f qcow2 -o cluster_size=4096 -b base.raw -F raw k.qcow2
    coproc VM { exec "${ember[@]}" --kernel "$blkwrite" --cmdline "console=ttyS0 blkwrite.forever=1 blkwrite.seed=3" \
                --disk "path=k.qcow2,format=qcow2" 2>&1; }
    pid=$VM_PID
    while IFS= read -r -t 60 line <&"${VM[0]}"; do
        case $line in "blkwrite: running"*) break ;; esac
    done
    [[ ${line:-} == "blkwrite: running"* ]] || fail "the guest never started writing"
    kill -KILL "$pid"
    wait "$pid" 2>/dev/null
    qemu-img check k.qcow2 >check.txt 2>&1
    status=$?
    # 0: clean; 3: leaked clusters only (allowed). 2 is corruption.
    [ "$status" = 0 ] || [ "$status" = 3 ] || fail "qemu-img check after SIGKILL exited $status: $(cat check.txt)"
    echo "ok: after SIGKILL mid-write qemu-img check exits $status ($(grep -c leaked check.txt) leak lines)"
    ;;
many)
    make_base
    sum=$(sha256sum <base.raw)
    pids=()
    for i in $(seq 10); do
        qemu-img create -q -f qcow2 -b base.raw -F raw "vm$i.qcow2"
        run_blkwrite "vm$i.qcow2" "$i" sync 24 &
        pids+=($!)
    done
    for p in "${pids[@]}"; do wait "$p" || fail "a VM failed (see above)"; done
    for i in $(seq 10); do expect_check_clean "vm$i.qcow2"; done
    qemu-io -f qcow2 -r -c 'read -P 0 0 512' vm1.qcow2 >/dev/null 2>&1 && fail "vm1 reads as zeroes, not the base"
    expect_eq "base checksum after 10 VMs" "$sum" "$(sha256sum <base.raw)"
    echo "ok: 10 VMs ran at once from one base, each overlay clean, the base unchanged"
    ;;
refused)
    make_pattern_disk raw.img
    out=$("${ember[@]}" --kernel "$blk" --disk path=raw.img,format=qcow2 2>&1 </dev/null)
    status=$?
    [ "$status" != 0 ] || fail "format=qcow2 on a raw file was accepted"
    expect_eq "error lines" 1 "$(printf '%s\n' "$out" | wc -l)"
    [[ $out == *"raw.img"*"qcow2"* ]] || fail "unclear error: $out"
    qemu-img create -q -f qcow2 -u -b gone.raw -F raw lost.qcow2 1M
    out=$("${ember[@]}" --kernel "$blk" --disk path=lost.qcow2,format=qcow2 2>&1 </dev/null)
    [ $? != 0 ] && [[ $out == *gone.raw* ]] || fail "a missing backing file was not named: $out"
    qemu-img create -q -f qcow2 magic.img 1M && truncate -s 1M magic.img
    out=$(bounded "${ember[@]}" --kernel "$blk" --disk path=magic.img 2>&1 </dev/null)
    [[ $out == *"starts with the qcow2 magic"* ]] || fail "no warning for a raw disk holding the qcow2 magic"
    echo "ok: bad qcow2 input refused in one line; the qcow2 magic on a raw disk warned about, not obeyed"
    ;;
*) fail "unknown case $case" ;;
esac
