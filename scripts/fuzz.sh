#!/usr/bin/env bash
# fuzz.sh TARGET [SECONDS]: a longer libFuzzer run of one target (virtqueue_fuzzer,
# blk_request_fuzzer, mmio_transport_fuzzer, net_frame_fuzzer) with a corpus kept in fuzz-corpus/TARGET.
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:?usage: fuzz.sh TARGET [SECONDS]}
seconds=${2:-600}
dir=$(scripts/build.sh fuzz | tail -n 1)
mkdir -p "fuzz-corpus/$target"
"$dir/tests/fuzz/$target" -max_total_time="$seconds" -max_len=8192 -rss_limit_mb=2048 \
    -artifact_prefix="fuzz-corpus/$target-" "fuzz-corpus/$target"
