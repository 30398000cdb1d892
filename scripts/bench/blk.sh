#!/usr/bin/env bash
# blk.sh [SECONDS]: virtio-blk device-path throughput against a file on tmpfs (/dev/shm) and
# on disk (/var/tmp), next to plain preadv/pwritev on the same file in the same run.
# A benchmark, not a test: target ratio >= 0.9, reported, never asserted.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-2}
dir=$(scripts/build.sh release | tail -n 1)
for where in /dev/shm /var/tmp; do
    echo "== $where"
    "$dir/scripts/bench/bench_blk_path" "$where/ember-blk-bench.img" "$seconds"
done
