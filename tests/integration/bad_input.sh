#!/usr/bin/env bash
# bad_input.sh EMBER GUEST_DIR CASE
# Each case is one kind of bad user input. Ember must print exactly one line on stderr that
# names the problem (matched against a pattern), nothing on stdout, exit with the status of
# its kind (2: invalid input or not found; 10: held by someone else), and leave no file behind.
set -u
LIB_NO_KVM=1  # most cases fail before KVM is opened; those that get further are skipped below
. "$(dirname "$0")/lib.sh"
ember=("$1" --debug-exit --virtio-mmio-cmdline) guests=$2 case=$3
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
hello=$guests/hello.elf
serial_file=$dir/console.log  # must never be created by a failed start
run_as=()
expected_status=2

case $case in
missing_kernel)
    args=(--kernel "$dir/no-such-kernel"); pattern="kernel '.*no-such-kernel': No such file or directory" ;;
kernel_is_directory)
    args=(--kernel "$dir"); pattern="kernel '.*': not a regular file" ;;
not_a_kernel)
    echo "just some text, not a kernel" >"$dir/notes.txt"
    args=(--kernel "$dir/notes.txt"); pattern="not a kernel image \(neither a bzImage nor an ELF file\)" ;;
truncated_bzimage)
    head -c 1500 "$guests/hello.bzImage" >"$dir/short.bzImage"
    args=(--kernel "$dir/short.bzImage"); pattern="truncated bzImage: header declares [0-9]+ bytes of kernel, file has 476" ;;
elf_wrong_machine)
    cp "$hello" "$dir/arm.elf"
    printf '\xb7\x00' | dd of="$dir/arm.elf" bs=1 seek=18 conv=notrunc status=none  # e_machine = EM_AARCH64
    args=(--kernel "$dir/arm.elf"); pattern="ELF machine 183 is not x86_64" ;;
initramfs_too_big)
    head -c $((15 << 20)) /dev/zero >"$dir/big.cpio"
    args=(--kernel "$hello" --memory 16M --initramfs "$dir/big.cpio"); pattern="initramfs of 15728640 bytes does not fit in guest memory" ;;
missing_initramfs)
    args=(--kernel "$hello" --initramfs "$dir/none.cpio"); pattern="initramfs '.*none.cpio': No such file or directory" ;;
missing_initramfs_dir)
    args=(--kernel "$hello" --initramfs-dir "$dir/none"); pattern="initramfs directory '.*none': No such file or directory" ;;
initramfs_and_initramfs_dir)
    mkdir -p "$dir/tree"
    args=(--kernel "$hello" --initramfs "$hello" --initramfs-dir "$dir/tree"); pattern="--initramfs and --initramfs-dir cannot both be given" ;;
memory_too_small)
    args=(--kernel "$hello" --memory 1M); pattern="--memory 1 MiB is too small \(at least 8 MiB\)" ;;
memory_too_large)
    args=(--kernel "$hello" --memory 100T); pattern="--memory 104857600 MiB is more than the host's [0-9]+ MiB of RAM" ;;
memory_unparseable)
    args=(--kernel "$hello" --memory lots); pattern="memory size 'lots' is not a size like 256M or 2G" ;;
memory_bad_backend)
    args=(--kernel "$hello" --memory size=64M,backend=swap); pattern="--memory 'size=64M,backend=swap': bad 'backend=swap'" ;;
memory_hugepages_unaligned)
    args=(--kernel "$hello" --memory size=65M,hugepages=2M); pattern="hugepages=2M needs a size that is a multiple of 2 MiB" ;;
memory_hugepages_none_free)
    pool=/sys/kernel/mm/hugepages/hugepages-2048kB
    [ -d $pool ] || skip "the host kernel has no 2 MiB huge pages"
    [ $(($(cat $pool/free_hugepages) - $(cat $pool/resv_hugepages))) -lt 32 ] || skip "the host has 32 free huge pages"
    args=(--kernel "$hello" --memory size=64M,hugepages=2M)
    pattern="hugepages=2M: the guest needs 32 free 2 MiB huge pages, the host has [0-9]+ \(reserve them as root"
    expected_status=12 ;;
memory_mergeable_shared)
    args=(--kernel "$hello" --memory backend=memfd,mergeable=on); pattern="mergeable=on: KSM merges private memory only" ;;
memory_file_wrong_size)
    head -c 1048576 /dev/zero >"$dir/ram"
    args=(--kernel "$hello" --memory "size=64M,backend=file:$dir/ram")
    pattern="memory file '.*/ram' is 1048576 bytes, the guest's memory 67108864" ;;
memory_file_in_use)
    truncate -s 8M "$dir/ram"
    exec 9<>"$dir/ram"  # this shell holds the lock, as another Ember would
    flock -x 9
    args=(--kernel "$hello" --memory "size=8M,backend=file:$dir/ram"); pattern="memory file '.*/ram' is in use by another process"
    expected_status=10 ;;
memory_file_late_failure_leaves_no_file)
    memory_file=$dir/ram
    args=(--kernel "$guests/hello.bzImage" --memory "size=64M,backend=file:$memory_file"
          --cmdline "$(head -c 3000 /dev/zero | tr '\0' y)")
    pattern="kernel command line is 30[0-9][0-9] bytes" ;;
restore_missing_snapshot)
    args=(--restore "snapshot=$dir/none.snap,memory=$dir/none.mem"); pattern="snapshot '.*none.snap': No such file or directory" ;;
restore_not_a_snapshot)
    args=(--restore "snapshot=$hello,memory=$hello"); pattern="snapshot '.*hello.elf' is not an Ember snapshot state file" ;;
restore_with_kernel)
    args=(--kernel "$hello" --restore "snapshot=$dir/a,memory=$dir/b"); pattern="--restore takes the VM from the snapshot" ;;
timeout_zero)
    args=(--kernel "$hello" --timeout 0); pattern="--timeout: '0' is not a number of seconds \(1\.\.31536000\)" ;;
cpus_zero)
    args=(--kernel "$hello" --cpus 0); pattern="--cpus 0 is out of range \(1..254\)" ;;
cpus_too_many)
    args=(--kernel "$hello" --cpus 1000); pattern="--cpus 1000 is out of range \(1..254\)" ;;
cpus_not_a_number)
    args=(--kernel "$hello" --cpus two); pattern="--cpus.*two" ;;
cmdline_too_long)
    args=(--kernel "$guests/hello.bzImage" --cmdline "$(head -c 3000 /dev/zero | tr '\0' x)")
    pattern="kernel command line is 30[0-9][0-9] bytes; the kernel accepts at most 2047" ;;
kvm_missing)
    args=(--kernel "$hello" --kvm-device "$dir/kvm"); pattern="cannot open KVM device .*/kvm: No such file or directory" ;;
kvm_not_a_kvm_device)
    args=(--kernel "$hello" --kvm-device /dev/null); pattern="/dev/null is not a KVM device" ;;
kvm_no_permission)
    [ "$(id -u)" = 0 ] || skip "needs root to drop to an unprivileged user"
    [ -e /dev/kvm ] || skip "no /dev/kvm"
    command -v setpriv >/dev/null || skip "setpriv (util-linux) is not installed"
    chmod 755 "$dir" && cp "$hello" "$dir/hello.elf" && chmod 644 "$dir/hello.elf"
    [ "$(stat -c %a /dev/kvm)" = 600 ] || skip "/dev/kvm is accessible to other users here"
    run_as=(setpriv --reuid=65534 --regid=65534 --clear-groups)
    args=(--kernel "$dir/hello.elf"); pattern="cannot open KVM device /dev/kvm: Permission denied" ;;
serial_file_unwritable)
    args=(--kernel "$hello" --serial "file=$dir/missing-dir/console.log"); pattern="serial output file '.*': No such file or directory" ;;
serial_bad_mode)
    args=(--kernel "$hello" --serial bogus); pattern="serial 'bogus' is not one of tty, off, file=PATH" ;;
late_failure_leaves_no_file)
    args=(--kernel "$guests/hello.bzImage" --serial "file=$serial_file" --cmdline "$(head -c 3000 /dev/zero | tr '\0' y)")
    pattern="kernel command line is 30[0-9][0-9] bytes" ;;
disk_missing)
    args=(--kernel "$hello" --disk "path=$dir/none.img"); pattern="disk '.*none.img': No such file or directory" ;;
disk_not_sector_multiple)
    head -c 1000 /dev/zero >"$dir/odd.img"
    args=(--kernel "$hello" --disk "path=$dir/odd.img"); pattern="disk '.*odd.img': size 1000 is not a multiple of 512 bytes" ;;
disk_bad_option)
    args=(--kernel "$hello" --disk "path=$dir/x.img,cache=sometimes"); pattern="--disk '.*': bad 'cache=sometimes'" ;;
disk_bad_engine)
    args=(--kernel "$hello" --disk "path=$dir/x.img,engine=aio"); pattern="--disk '.*': bad 'engine=aio'" ;;
console_and_serial_both_tty)
    args=(--kernel "$hello" --console tty); pattern="--serial tty and --console tty cannot share the terminal" ;;
console_bad_mode)
    args=(--kernel "$hello" --console pty); pattern="console 'pty' is not one of tty, off, file=PATH" ;;
rng_bad_value)
    args=(--kernel "$hello" --rng maybe); pattern="--rng 'maybe' is not one of on, off" ;;
pit_bad_value)
    args=(--kernel "$hello" --pit 8254); pattern="--pit '8254' is not one of on, off" ;;
disk_without_path)
    args=(--kernel "$hello" --disk "readonly=on"); pattern="--disk 'readonly=on': path=PATH is required" ;;
disk_locked_by_another_vm)
    head -c 1048576 /dev/zero >"$dir/shared.img"
    # A first VM holds the disk (the echo guest waits for input forever); the second must refuse.
    coproc HOLDER { exec timeout 30 "${ember[@]}" --kernel "$guests/echo.elf" --disk "path=$dir/shared.img" 2>&1; }
    IFS= read -r -t 20 ready <&"${HOLDER[0]}" || fail "the first VM did not start"
    args=(--kernel "$hello" --disk "path=$dir/shared.img"); pattern="disk '.*shared.img': locked by another process"
    expected_status=10 ;;
device_id_twice)
    head -c 4096 /dev/zero >"$dir/a.img"
    args=(--kernel "$hello" --disk "id=data,path=$dir/a.img" --net "id=data,tap=embdup$$")
    pattern="device id 'data' is given twice" ;;
device_id_malformed)
    args=(--kernel "$hello" --disk "id=a/b,path=$dir/a.img"); pattern="--disk '.*': bad 'id=a/b'" ;;
net_bad_option)
    args=(--kernel "$hello" --net "tap=t0,speed=10"); pattern="--net 'tap=t0,speed=10': bad 'speed=10'" ;;
net_multicast_mac)
    args=(--kernel "$hello" --net "tap=t0,mac=01:00:5e:00:00:01"); pattern="mac '01:00:5e:00:00:01' is a multicast address" ;;
net_fd_not_a_tap)
    args=(--kernel "$hello" --net fd=0); pattern="net fd=0: not a TAP device" ;;
net_tap_without_permission)
    [ "$(id -u)" = 0 ] || skip "needs root to drop to an unprivileged user"
    command -v setpriv >/dev/null || skip "setpriv (util-linux) is not installed"
    [ -c /dev/net/tun ] || skip "/dev/net/tun is missing"
    chmod 755 "$dir" && cp "$hello" "$dir/hello.elf" && chmod 644 "$dir/hello.elf"
    run_as=(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all)
    args=(--kernel "$dir/hello.elf" --net tap=embnope$$); pattern="tap 'embnope[0-9]+': .*needs CAP_NET_ADMIN.*: (Permission denied|Operation not permitted)" ;;
vsock_cid_reserved)
    vsock_sock=$dir/v.sock
    args=(--kernel "$hello" --vsock "cid=2,uds=$vsock_sock"); pattern="vsock: guest CID 2 is reserved or out of range \(3 to 4294967294\)" ;;
vsock_socket_path_taken)
    : >"$dir/v.sock"
    args=(--kernel "$hello" --vsock "cid=3,uds=$dir/v.sock"); pattern="vsock socket '.*v.sock': the path exists; remove it or choose another"
    expected_status=10 ;;
vsock_late_failure_leaves_no_socket)
    # The socket is bound before KVM is opened; a failure there must take it away again.
    vsock_sock=$dir/v.sock
    args=(--kernel "$hello" --vsock "cid=3,uds=$vsock_sock" --kvm-device "$dir/no-kvm"); pattern="no-kvm" ;;
net_tap_name_taken)
    [ "$(id -u)" = 0 ] || skip "needs root to open TAP devices"
    [ -c /dev/net/tun ] || skip "/dev/net/tun is missing"
    args=(--kernel "$hello" --net tap=lo); pattern="tap 'lo': exists as another kind of device"
    expected_status=10 ;;
net_late_failure_leaves_no_tap)
    [ "$(id -u)" = 0 ] || skip "needs root to open TAP devices"
    [ -c /dev/net/tun ] || skip "/dev/net/tun is missing"
    tap=embleft$$
    args=(--kernel "$guests/hello.bzImage" --net "tap=$tap,ip=10.254.0.1"
          --cmdline "$(head -c 3000 /dev/zero | tr '\0' y)")
    pattern="kernel command line is 30[0-9][0-9] bytes" ;;
fs_missing_dir)
    args=(--kernel "$hello" --fs "tag=t,dir=$dir/no-such-dir"); pattern="--fs dir=.*no-such-dir: not a directory" ;;
fs_no_backend)
    args=(--kernel "$hello" --fs "tag=t,socket=$dir/no-such.sock")
    pattern="connecting to the vhost-user backend at .*no-such.sock: No such file or directory" ;;
fs_tag_too_long)
    args=(--kernel "$hello" --fs "tag=$(head -c 37 /dev/zero | tr '\0' t),dir=$dir"); pattern="bad 'tag=t{37}'" ;;
fs_socket_and_dir)
    args=(--kernel "$hello" --fs "tag=t,socket=$dir/s,dir=$dir"); pattern="give exactly one of socket=PATH and dir=DIR" ;;
seccomp_filter_missing)
    args=(--kernel "$hello" --seccomp-filter "$dir/none.bpf"); pattern="seccomp filter file '.*none.bpf': No such file or directory" ;;
seccomp_filter_not_a_filter)
    echo "not a filter" >"$dir/text.bpf"
    args=(--kernel "$hello" --seccomp-filter "$dir/text.bpf")
    pattern="seccomp filter file '.*text.bpf': (not a seccompiler-bin filter file|truncated).*" ;;
seccomp_filter_and_no_seccomp)
    args=(--kernel "$hello" --no-seccomp --seccomp-filter "$dir/x.bpf"); pattern="--no-seccomp and --seccomp-filter exclude each other" ;;
unknown_option)
    args=(--kernel "$hello" --frobnicate); pattern="The following argument was not expected: --frobnicate" ;;
bad_cpu_template)
    args=(--kernel "$hello" --cpu-template fancy); pattern="--cpu-template 'fancy' is not one of host, baseline" ;;
*)
    fail "unknown case $case" ;;
esac

bounded "${run_as[@]}" "${ember[@]}" "${args[@]}" </dev/null >"$dir/stdout" 2>"$dir/stderr"
status=$?
[ -n "${HOLDER_PID:-}" ] && kill "$HOLDER_PID" 2>/dev/null
cat "$dir/stderr" >&2
# A case whose check comes after Ember opens KVM cannot reach it on a host without one.
if ! have_kvm && ! grep -Eq "$pattern" "$dir/stderr" && grep -q "cannot open KVM device /dev/kvm" "$dir/stderr"; then
    skip "no usable /dev/kvm on this host: Ember stops there before it reaches this check"
fi
expect_eq "exit status" "$expected_status" "$status"
expect_eq "stderr line count" 1 "$(wc -l <"$dir/stderr")"
grep -Eq "^ember: error: .*$pattern" "$dir/stderr" || fail "stderr does not match /$pattern/"
[ ! -s "$dir/stdout" ] || fail "stdout is not empty"
[ ! -e "$serial_file" ] || fail "a failed start left $serial_file behind"
[ -z "${tap:-}" ] || ! ip link show "$tap" >/dev/null 2>&1 || fail "a failed start left TAP $tap behind"
[ -z "${vsock_sock:-}" ] || [ ! -e "$vsock_sock" ] || fail "a failed start left the vsock socket $vsock_sock behind"
[ -z "${memory_file:-}" ] || [ ! -e "$memory_file" ] || fail "a failed start left the memory file $memory_file behind"
echo "ok: $case -> $(cat "$dir/stderr")"
