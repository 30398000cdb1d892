#!/usr/bin/env bash
# demo.sh: builds Ember and boots the bundled demo guests: hello (PVH ELF, then as a bzImage)
# and smp on 4 vCPUs, printing their serial output.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh >/dev/null
dir=$(scripts/build.sh release | tail -n 1)
set +e  # a guest's exit status is part of what the demo shows
guests=$dir/tests/guests
run() { echo "\$ ember $*"; "$dir/ember" "$@"; echo "(exit status $?)"; echo; }
run --kernel "$guests/hello.elf"
run --kernel "$guests/hello.bzImage" --memory 64M
run --kernel "$guests/smp.elf" --cpus 4 --memory 128M --debug-exit
run --kernel "$guests/cmdline.elf" --cmdline "console=ttyS0 greeting=hello" --debug-exit
