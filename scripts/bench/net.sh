#!/usr/bin/env bash
# net.sh [SECONDS]: virtio-net device-path frame rate over a TAP, next to raw TAP writev/read
# in the same run (64 B and 1500 B frames). Needs root: it runs in a throwaway network
# namespace. A benchmark, not a test: target ratio >= 0.9, reported, never asserted.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-2}
[ "$(id -u)" = 0 ] || { echo "net.sh: needs root (a network namespace and a TAP)" >&2; exit 1; }
dir=$(scripts/build.sh release | tail -n 1)
ns=ember-bench-$$
ip netns add "$ns"
trap 'ip netns del "$ns"' EXIT
ip netns exec "$ns" ip tuntap add dev embbench0 mode tap
ip netns exec "$ns" ip link set embbench0 up
ip netns exec "$ns" "$dir/scripts/bench/bench_net_path" "$seconds"
