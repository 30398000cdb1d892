#!/usr/bin/env bash
# startup.sh [RUNS]: exec-to-first-serial-byte and exec-to-exit of the hello guest (PVH ELF,
# 64 MiB) under Ember and under QEMU microvm, alternating A/B runs; prints medians and the
# Ember/QEMU ratio. A benchmark, not a test: it never fails on a number.
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-21}
dir=$(scripts/build.sh release | tail -n 1)
guest=$dir/tests/guests/hello.elf
timer=$dir/scripts/bench/bench_first_byte
ember=("$dir/ember" --kernel "$guest" --memory 64M)
qemu=(qemu-system-x86_64 -accel kvm -M microvm -nodefaults -no-user-config -nographic -serial stdio
      -device isa-debug-exit,iobase=0xf4,iosize=4 -no-reboot -m 64M -kernel "$guest")

declare -a ember_first ember_exit qemu_first qemu_exit
field() { sed -n "s/.*$1=\([0-9-]*\).*/\1/p" <<<"$2"; }
for ((i = 0; i < runs; i++)); do
    r=$("$timer" -- "${ember[@]}" 2>/dev/null)
    ember_first+=("$(field first_byte_us "$r")"); ember_exit+=("$(field exit_us "$r")")
    r=$("$timer" -- "${qemu[@]}" 2>/dev/null)
    qemu_first+=("$(field first_byte_us "$r")"); qemu_exit+=("$(field exit_us "$r")")
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ef=$(median "${ember_first[@]}") ee=$(median "${ember_exit[@]}")
qf=$(median "${qemu_first[@]}") qe=$(median "${qemu_exit[@]}")
echo "startup, hello guest (PVH, 64 MiB), median of $runs alternating runs"
printf '%-28s %12s %12s %8s\n' metric "ember (us)" "qemu (us)" ratio
printf '%-28s %12s %12s %8s\n' "exec -> first serial byte" "$ef" "$qf" "$(awk -v a="$ef" -v b="$qf" 'BEGIN{printf "%.3f", a/b}')"
printf '%-28s %12s %12s %8s\n' "exec -> exit" "$ee" "$qe" "$(awk -v a="$ee" -v b="$qe" 'BEGIN{printf "%.3f", a/b}')"
