#!/usr/bin/env bash
# fs_virtiofsd.sh EMBER GUEST CASE: the fs test guest (a FUSE client) on virtio-fs, served by
# Debian's virtiofsd (it needs root).
#   dir:           Ember starts virtiofsd on a directory; the guest reads hello.txt and writes
#                  guest.txt, which the host then finds
#   readonly:      the same with readonly=on: the read works, the creation fails with EROFS
#   backend_killed: a virtiofsd the test started (socket=) is killed after the guest's I/O:
#                  the device needs a reset, Ember says so in one line and neither hangs
#   qemu_diff:     the same guest under QEMU microvm's vhost-user-fs-device prints the same
set -u
. "$(dirname "$0")/lib.sh"
ember=$1 guest=$2 case=$3
[ "$(id -u)" = 0 ] || skip "virtiofsd needs root"
virtiofsd=${EMBER_VIRTIOFSD:-}
for v in /usr/libexec/virtiofsd /usr/lib/qemu/virtiofsd; do
    [ -n "$virtiofsd" ] || { [ -x "$v" ] && virtiofsd=$v; }
done
[ -n "$virtiofsd" ] || skip "no virtiofsd"
dir=$(mktemp -d)
trap 'kill $daemon 2>/dev/null; rm -rf "$dir"' EXIT
daemon=
mkdir "$dir/share"
echo "hello from the host" >"$dir/share/hello.txt"
ember_fs=("$ember" --debug-exit --virtio-mmio-cmdline --rng off --kernel "$guest")

# start_virtiofsd: a virtiofsd of the test's own on $dir/share, listening at $dir/vfs.sock.
start_virtiofsd() {
    "$virtiofsd" --socket-path="$dir/vfs.sock" -o source="$dir/share" -o log_level=err &
    daemon=$!
    wait_for_socket "$dir/vfs.sock" virtiofsd
}

case $case in
dir)
    bounded "${ember_fs[@]}" --fs "tag=share,dir=$dir/share" </dev/null >"$dir/out" 2>"$dir/err"
    status=$?
    cat "$dir/out" "$dir/err"
    expect_eq "exit status (guest: no failed checks)" 1 "$status"
    grep -q "^fs: read: hello from the host" "$dir/out" || fail "the guest did not read hello.txt"
    expect_eq "guest.txt on the host" "written by the guest" "$(cat "$dir/share/guest.txt" 2>/dev/null)"
    ;;
readonly)
    bounded "${ember_fs[@]}" --cmdline "console=ttyS0 fs.readonly=1" --fs "tag=share,dir=$dir/share,readonly=on" \
        </dev/null >"$dir/out" 2>"$dir/err"
    status=$?
    cat "$dir/out" "$dir/err"
    expect_eq "exit status (guest: no failed checks)" 1 "$status"
    grep -q "^guest.txt refused: read-only file system: ok" "$dir/out" || fail "the creation was not refused"
    [ ! -e "$dir/share/guest.txt" ] || fail "guest.txt was created on a read-only share"
    ;;
backend_killed)
    start_virtiofsd
    : >"$dir/out"
    bounded "${ember_fs[@]}" --cmdline "console=ttyS0 fs.wait=1" --fs "tag=share,socket=$dir/vfs.sock" \
        </dev/null >"$dir/out" 2>"$dir/err" &
    vm=$!
    # The guest's I/O is done when it says so; then its backend goes away.
    timeout 30 tail -f "$dir/out" | grep -q -m1 "^fs: done" || fail "the guest did not finish its I/O"
    kill "$daemon"
    wait "$vm"
    status=$?
    cat "$dir/out" "$dir/err"
    expect_eq "exit status (guest: no failed checks)" 1 "$status"
    grep -q "^fs: device needs reset" "$dir/out" || fail "the device did not signal DEVICE_NEEDS_RESET"
    expect_eq "stderr lines" 1 "$(wc -l <"$dir/err")"
    grep -q "vhost-user backend .*vfs.sock closed the connection; device needs reset" "$dir/err" ||
        fail "no error line naming the backend"
    ;;
qemu_diff)
    start_virtiofsd
    bounded "${ember_fs[@]}" --fs "tag=share,socket=$dir/vfs.sock" </dev/null 2>"$dir/ember.err" |
        tr -d '\r' >"$dir/ember.txt"
    kill "$daemon"; wait "$daemon" 2>/dev/null
    rm -f "$dir/share/guest.txt" "$dir/vfs.sock"
    start_virtiofsd
    bounded "${QEMU_MICROVM[@]/#microvm/microvm,acpi=off,memory-backend=mem}" -m 256M \
        -object memory-backend-memfd,id=mem,size=256M,share=on -kernel "$guest" -append console=ttyS0 \
        -global virtio-mmio.force-legacy=false -chardev socket,id=vfs,path="$dir/vfs.sock" \
        -device vhost-user-fs-device,chardev=vfs,tag=share </dev/null 2>"$dir/qemu.err" | tr -d '\r' >"$dir/qemu.txt"
    cat "$dir/ember.err"
    grep -q "^fs: done" "$dir/qemu.txt" || skip "QEMU's vhost-user-fs-device did not run the guest: $(head -3 "$dir/qemu.err")"
    diff -u "$dir/qemu.txt" "$dir/ember.txt" || fail "Ember's output differs from QEMU's"
    expect_eq "guest.txt after QEMU" "written by the guest" "$(cat "$dir/share/guest.txt" 2>/dev/null)"
    ;;
*)
    fail "unknown case $case" ;;
esac
echo "ok: $case"
