#!/usr/bin/env bash
# build.sh OUTDIR: the arm64 test guests as Images (hello, exitcode, smp, rng), with Debian's
# aarch64-linux-gnu-gcc: the x86 guests' C sources and runtime over the arm64 entry and runtime.
# The same Images run under Ember and under QEMU `-M virt` (tests/aarch64/cases.sh).
set -euo pipefail
out=$1
here=$(cd "$(dirname "$0")" && pwd)
guests=$(cd "$here/.." && pwd)
mkdir -p "$out"
cc=aarch64-linux-gnu-gcc
flags=(-ffreestanding -nostdlib -nostartfiles -static -fno-pic -fno-pie -no-pie -mgeneral-regs-only -mstrict-align
       -fno-stack-protector -fno-asynchronous-unwind-tables -O2 -Wall -Wextra -Werror -I "$guests"
       -Wl,--build-id=none -Wl,-z,max-page-size=4096 -Wl,-z,noexecstack -Wl,--emit-relocs -T "$here/guest.ld")
runtime=("$here/entry.S" "$here/runtime.c" "$guests/runtime/runtime.c" "$guests/runtime/virtio.c")
for guest in hello exitcode rng smp; do
    src=$guests/$guest.c
    [ "$guest" = smp ] && src=$here/smp.c
    "$cc" "${flags[@]}" -o "$out/$guest.elf" "$src" "${runtime[@]}"
    # Loaded at 2 GiB by Ember and at 1 GiB by QEMU `virt`: no absolute address may be linked in.
    if aarch64-linux-gnu-readelf -rW "$out/$guest.elf" | grep -E "R_AARCH64_(ABS(64|32|16)|MOVW_UABS)"; then
        echo "build.sh: $guest.elf holds absolute addresses (above): it would run only where it is linked" >&2
        exit 1
    fi
    aarch64-linux-gnu-objcopy -O binary "$out/$guest.elf" "$out/$guest.Image"
done
