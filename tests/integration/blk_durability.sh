#!/usr/bin/env bash
# blk_durability.sh EMBER BLK_GUEST [sync|io_uring]
# The blk guest writes sectors 1-4, gets its FLUSH acknowledged, says so and spins. Ember is
# then killed with SIGKILL; every acknowledged write must be in the disk file.
set -u
here=$(dirname "$0")
. "$here/lib.sh"
. "$here/disk_image.sh"
ember=("$1" --debug-exit --virtio-mmio-cmdline) guest=$2 engine=${3:-sync}
dir=$(mktemp -d)
make_pattern_disk "$dir/disk.img"

# Ember itself is the coprocess (no timeout wrapper: SIGKILL must reach Ember, and a wrapper
# would leave it running); the trap kills it on every exit path.
coproc VM { exec "${ember[@]}" --kernel "$guest" --cmdline "console=ttyS0 blk.hold=1" \
            --disk "path=$dir/disk.img,cache=writeback,engine=$engine" 2>&1; }
pid=$VM_PID
trap 'kill -KILL "$pid" 2>/dev/null; rm -rf "$dir"' EXIT
while IFS= read -r -t 30 line <&"${VM[0]}"; do
    case $line in "blk: flush acknowledged, holding"*) break ;; esac
done
[[ ${line:-} == "blk: flush acknowledged, holding"* ]] || fail "the guest never reported an acknowledged flush"
kill -KILL "$pid"
wait "$pid" 2>/dev/null
kill -0 "$pid" 2>/dev/null && fail "Ember survived SIGKILL"

# The guest wrote byte i*13+7 (mod 256) at offset i of sectors 1-4.
expected=$(for ((i = 0; i < 2048; i++)); do printf '%02x' $(((i * 13 + 7) % 256)); done)
actual=$(dd if="$dir/disk.img" bs=512 skip=1 count=4 status=none | od -An -v -tx1 | tr -d ' \n')
expect_eq "sectors 1-4 after SIGKILL" "$expected" "$actual"
echo "ok: engine $engine: 2048 acknowledged bytes are in the file after SIGKILL"
