#!/bin/busybox sh
# /init of the Linux suite's guest (L2): Debian's cloud kernel, unmodified, with busybox and the
# kernel's own virtio modules. The case to run comes from the command line (ember.case=NAME);
# every result is a line on ttyS0 that the host side (cases.sh) asserts on.
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
NET_MIB=64
for arg in $(cat /proc/cmdline); do
    case $arg in ember.case=*) CASE=${arg#ember.case=} ;;
                 ember.net_mib=*) NET_MIB=${arg#ember.net_mib=} ;; esac
done
load() { for m in "$@"; do insmod "/lib/modules/$m.ko" || echo "GUEST insmod $m failed"; done; }
# Modules in dependency order (modinfo -F depends).
load virtio_ring virtio virtio_mmio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci
echo "GUEST userspace nproc=$(nproc) case=$CASE"
# Every power-off first reports how the virtio devices interrupt (cases.sh check_irqs): MSI
# or MSI-X vectors, wired lines (IO-APIC), and how many functions virtio-pci drives.
poweroff() {
    msi=$(grep virtio /proc/interrupts | grep -c PCI-MSI)
    wired=$(grep virtio /proc/interrupts | grep -vc PCI-MSI)
    pci=$(ls -d /sys/bus/pci/drivers/virtio-pci/0000:* 2>/dev/null | wc -l)
    echo "GUEST virtio irqs msi=$msi wired=$wired pci=$pci"
    /bin/busybox poweroff "$@"
}

mount_share() {  # the host's directory with tag "share" at /mnt/share (virtio-fs)
    load fuse virtiofs
    mkdir -p /mnt/share
    if mount -t virtiofs share /mnt/share; then echo "GUEST virtiofs mounted"; else echo "GUEST virtiofs mount failed"; fi
}
use_vda() {  # mount vda, read the host's file, write one, 16 MiB of direct I/O, fstrim, unmount
    mkdir -p /mnt/a
    mount -t ext4 /dev/vda /mnt/a && echo "GUEST mounted vda"
    echo "GUEST read: $(cat /mnt/a/hello.txt)"
    echo "written by the guest" >/mnt/a/from-guest.txt
    # Linux's largest requests (seg_max segments, direct I/O of 1 MiB).
    dd if=/dev/zero of=/mnt/a/direct.bin bs=1M count=16 oflag=direct 2>/dev/null && echo "GUEST direct write ok"
    dd if=/mnt/a/direct.bin of=/dev/null bs=1M iflag=direct 2>/dev/null && echo "GUEST direct read ok"
    sync
    rm /mnt/a/direct.bin
    sync
    fstrim -v /mnt/a
    umount /mnt/a && echo "GUEST unmounted vda"
}
now_ms() { awk '{printf "%d", $1 * 1000}' /proc/uptime; }

wait_for() {  # wait_for PATH: a device node appearing after its driver probed
    i=0
    while [ ! -e "$1" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    [ -e "$1" ] || echo "GUEST missing $1"
}

case $CASE in
shell)
    # The host types a command line on ttyS0; a shell runs it and its answer comes back.
    echo "GUEST ready-for-input"
    read -r line
    sh -c "$line"
    reboot -f
    ;;
poweroff)
    poweroff -f
    ;;
reboot)
    echo "GUEST reboot type $(cat /sys/kernel/reboot/type 2>&1) mode $(cat /sys/kernel/reboot/mode 2>&1)"
    reboot -f
    ;;
blk)
    load virtio_blk
    wait_for /dev/vda
    wait_for /dev/vdb
    echo "GUEST vda queues $(ls /sys/block/vda/mq | wc -l)"
    use_vda
    mkdir -p /mnt/b
    mount -t ext4 -o ro /dev/vdb /mnt/b && echo "GUEST read-only: $(cat /mnt/b/hello.txt)"
    echo x | dd of=/dev/vdb bs=512 count=1 conv=sync,fsync 2>/dev/null || echo "GUEST read-only write refused"
    poweroff -f
    ;;
qcow2)
    load virtio_blk
    wait_for /dev/vda
    use_vda
    poweroff -f
    ;;
snapshot)
    # The host snapshots the VM once it says so, and goes on in a new Ember that types a line.
    load virtio_blk failover net_failover virtio_net
    wait_for /dev/vda
    wait_for /sys/class/net/eth0
    ip addr add 10.0.2.15/24 dev eth0
    ip link set eth0 up
    mkdir -p /mnt/a
    mount -t ext4 /dev/vda /mnt/a && echo "GUEST mounted vda"
    echo "GUEST snapshot-ready"
    read -r line
    echo "GUEST snapshot got: $line"
    i=0
    until ping -c 1 -W 2 10.0.2.1 >/dev/null || [ $i -ge 15 ]; do i=$((i + 1)); done
    [ $i -lt 15 ] && echo "GUEST snapshot ping ok"
    echo "written after restore" >/mnt/a/after.txt && sync
    echo "GUEST snapshot read: $(cat /mnt/a/after.txt)"
    umount /mnt/a && echo "GUEST unmounted vda"
    poweroff -f
    ;;
net)
    load failover net_failover virtio_net
    wait_for /sys/class/net/eth0
    ip addr add 10.0.2.15/24 dev eth0
    ip link set eth0 up
    ping -c 3 -W 5 10.0.2.1 >/dev/null && echo "GUEST ping host ok"
    dd if=/dev/urandom of=/tmp/blob bs=1M count="$NET_MIB" 2>/dev/null
    echo "GUEST blob md5 $(md5sum </tmp/blob | cut -d' ' -f1)"
    echo "GUEST net ready"
    # The host listens once it has pinged us; retry until its listener is up.
    i=0
    until nc 10.0.2.1 5000 </tmp/blob || [ $i -ge 100 ]; do sleep 0.2; i=$((i + 1)); done
    echo "GUEST sent blob"
    poweroff -f
    ;;
console)
    load virtio_console
    wait_for /dev/hvc0
    echo "hello from hvc0" >/dev/hvc0
    read -r line </dev/hvc0
    echo "GUEST hvc0 got: $line"
    poweroff -f
    ;;
rng)
    load virtio-rng
    wait_for /dev/hwrng
    echo "GUEST rng_current $(cat /sys/class/misc/hw_random/rng_current)"
    echo "GUEST hwrng bytes $(dd if=/dev/hwrng bs=32 count=1 2>/dev/null | wc -c)"
    poweroff -f
    ;;
vsock)
    # AF_VSOCK through the kernel's own virtio transport: 16 MiB from the host (it connects to
    # port 5000), then 16 MiB to the host's port 5001 (its listener at the socket path _5001).
    load vsock vmw_vsock_virtio_transport_common vmw_vsock_virtio_transport
    dd if=/dev/urandom of=/tmp/out bs=1M count=16 2>/dev/null
    echo "GUEST vsock out md5 $(md5sum </tmp/out | cut -d' ' -f1)"
    socat -u VSOCK-LISTEN:5000 CREATE:/tmp/in &
    echo "GUEST vsock listening"
    wait
    echo "GUEST vsock in md5 $(md5sum </tmp/in | cut -d' ' -f1) bytes $(wc -c </tmp/in)"
    rm -f /tmp/in
    socat -u FILE:/tmp/out VSOCK-CONNECT:2:5001 && echo "GUEST vsock sent"
    poweroff -f
    ;;
panic)
    echo c >/proc/sysrq-trigger
    ;;
keyboard)
    # The host presses Ctrl+Alt+Del through Ember's API; the kernel's own answer (C_A_D on, as
    # init did not turn it off) restarts the machine, which ends the VMM.
    echo "GUEST keyboard $(grep -o 'AT [A-Za-z]* Set 2 keyboard' /proc/bus/input/devices | head -n 1)"
    echo "GUEST ready-for-keys"
    while :; do sleep 60; done
    ;;
virtiofs | virtiofs_ro)
    # The host's directory shared with tag "share": read a file, write one, list 1000 files.
    mount_share
    echo "GUEST virtiofs read: $(cat /mnt/share/hello.txt)"
    if echo "written by the guest" >/mnt/share/from-guest.txt 2>/dev/null; then
        echo "GUEST virtiofs write ok"
    else
        echo "GUEST virtiofs write refused"
    fi
    echo "GUEST virtiofs files $(ls /mnt/share/many | wc -l)"
    umount /mnt/share && echo "GUEST virtiofs unmounted"
    poweroff -f
    ;;
virtiofs_kill)
    # The host kills the virtiofsd behind "share" while these reads keep requests in flight;
    # the device then reports DEVICE_NEEDS_RESET (0x40) in its status register, which sysfs
    # reads afresh each time. Requests in flight never complete (Linux's virtiofs has no
    # answer to a device that needs a reset), so the poweroff does not sync.
    mount_share
    for d in /sys/bus/virtio/devices/*; do [ "$(cat "$d/device")" = 0x001a ] && fs=$d; done
    (while :; do cat /mnt/share/many/*; done) >/dev/null 2>&1 &
    echo "GUEST virtiofs busy"
    i=0
    until [ $(($(cat "$fs/status") & 0x40)) != 0 ] || [ $i -ge 600 ]; do sleep 0.1; i=$((i + 1)); done
    [ $i -lt 600 ] && echo "GUEST virtiofs needs reset"
    echo "GUEST virtiofs alive after the backend"
    poweroff -n -f
    ;;
hello)
    # A test runner's smallest test: its output, then its status as the VMM's.
    echo "hello"
    ember-guest-exit 0
    ;;
fs_read)
    # The benchmark's virtio-fs read of a 64 MiB file, timed by the guest's own clock.
    mount_share
    t0=$(now_ms)
    cat /mnt/share/blob >/dev/null && echo "GUEST virtiofs read_ms $(($(now_ms) - t0))"
    umount /mnt/share
    poweroff -f
    ;;
blk_dd)
    # The benchmark's 64 MiB of 1 MiB direct writes, then reads, on vda, by the guest's clock.
    load virtio_blk
    wait_for /dev/vda
    t0=$(now_ms)
    dd if=/dev/zero of=/dev/vda bs=1M count=64 oflag=direct 2>/dev/null && t1=$(now_ms) &&
        dd if=/dev/vda of=/dev/null bs=1M count=64 iflag=direct 2>/dev/null &&
        echo "GUEST blk_dd write_ms $((t1 - t0)) read_ms $(($(now_ms) - t1))"
    poweroff -f
    ;;
net_stream)
    # The benchmark's TCP stream: NET_MIB MiB of zeros to the host's listener (already up
    # before the VMM started), by the guest's clock.
    load failover net_failover virtio_net
    wait_for /sys/class/net/eth0
    ip addr add 10.0.2.15/24 dev eth0
    ip link set eth0 up
    i=0
    until ping -c 1 -W 2 10.0.2.1 >/dev/null || [ $i -ge 15 ]; do i=$((i + 1)); done
    t0=$(now_ms)
    dd if=/dev/zero bs=64k count=$((NET_MIB * 16)) 2>/dev/null | nc 10.0.2.1 5000 &&
        echo "GUEST net_stream send_ms $(($(now_ms) - t0))"
    poweroff -f
    ;;
exit3)
    # The test's verdict as the VMM's exit status (Ember --debug-exit: (3 << 1) | 1).
    ember-guest-exit 3
    echo "GUEST ember-guest-exit returned"
    ;;
hold)
    echo "GUEST holding"
    while :; do sleep 1; done
    ;;
esac
echo "GUEST unknown case '$CASE'"
poweroff -f
