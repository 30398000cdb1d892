#!/usr/bin/env bash
# fuzz.sh TARGET [SECONDS]: a longer libFuzzer run of one target, with a corpus kept in
# fuzz-corpus/TARGET. fuzz.sh all [RUNS]: every target for RUNS inputs each (default 10^7),
# one after the other, then a line-coverage report of devices/ and boot/ from the corpora
# (scripts/fuzz_coverage.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
targets=(virtqueue_fuzzer blk_request_fuzzer mmio_transport_fuzzer net_frame_fuzzer
         blk_queue_fuzzer console_fuzzer serial_fuzzer kernel_loader_fuzzer api_request_fuzzer)
target=${1:?usage: fuzz.sh TARGET [SECONDS] | fuzz.sh all [RUNS]  (targets: ${targets[*]})}
dir=$(scripts/build.sh fuzz | tail -n 1)
# The loader fuzzer starts from real kernels where the test guests are built (build/, the
# release build): each image behind the input's first two bytes (a 1-byte initramfs), so a run
# reaches the zero page, PVH start info and initramfs placement, not only the parsers.
seed_loaders() {
    local corpus=fuzz-corpus/kernel_loader_fuzzer image
    for image in build/tests/guests/hello.elf build/tests/guests/hello.bzImage build/tests/guests/hello32.elf; do
        [ -f "$image" ] || continue
        { printf '\001\000'; cat "$image"; } >"$corpus/seed-$(basename "$image")"
    done
}
run() {  # run TARGET LIBFUZZER-OPTIONS...
    mkdir -p "fuzz-corpus/$1"
    [ "$1" != kernel_loader_fuzzer ] || seed_loaders
    "$dir/tests/fuzz/$1" "${@:2}" -max_len=65536 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="fuzz-corpus/$1-" "fuzz-corpus/$1" $([ -d "tests/fuzz/seeds/$1" ] && echo "tests/fuzz/seeds/$1")
}
if [ "$target" = all ]; then
    runs=${2:-10000000}
    for t in "${targets[@]}"; do
        echo "== $t: $runs inputs"
        run "$t" -runs="$runs" 2>&1 | grep -E "^stat::|ERROR|SUMMARY|Done" || true
    done
    scripts/fuzz_coverage.sh
else
    run "$target" -max_total_time="${2:-600}"
fi
