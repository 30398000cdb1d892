#!/usr/bin/env bash
# build.sh OUTDIR: the arm64 test guests as Images (hello, exitcode, smp, rng), with Debian's
# aarch64-linux-gnu-gcc: the x86 guests' C sources and runtime over the arm64 entry and runtime.
set -euo pipefail
out=$1
here=$(cd "$(dirname "$0")" && pwd)
guests=$(cd "$here/.." && pwd)
mkdir -p "$out"
cc=aarch64-linux-gnu-gcc
flags=(-ffreestanding -nostdlib -nostartfiles -static -fno-pic -fno-pie -no-pie -mgeneral-regs-only -mstrict-align
       -fno-stack-protector -fno-asynchronous-unwind-tables -O2 -Wall -Wextra -Werror -I "$guests"
       -Wl,--build-id=none -Wl,-z,max-page-size=4096 -Wl,-z,noexecstack -T "$here/guest.ld")
runtime=("$here/entry.S" "$here/runtime.c" "$guests/runtime/runtime.c" "$guests/runtime/virtio.c")
for guest in hello exitcode rng smp; do
    src=$guests/$guest.c
    [ "$guest" = smp ] && src=$here/smp.c
    "$cc" "${flags[@]}" -o "$out/$guest.elf" "$src" "${runtime[@]}"
    aarch64-linux-gnu-objcopy -O binary "$out/$guest.elf" "$out/$guest.Image"
done
