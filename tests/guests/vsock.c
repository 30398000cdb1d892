/* vsock: drives the first virtio-vsock device (VIRTIO 1.2 §5.10) far enough for a snapshot's
 * transport reset: negotiates VIRTIO_VSOCK_F_STREAM, sets up the receive, transmit and event
 * queues, posts one event buffer, prints "vsock: ready, guest cid N" and waits, as long as it
 * takes, for an event: after a snapshot restore the device must report
 * VIRTIO_VSOCK_EVENT_TRANSPORT_RESET (id 0), since the host side of every connection is gone.
 * Prints the event and ends; exit code: number of failed checks. */
#include "runtime/runtime.h"
#include "runtime/virtio.h"

#define VIRTIO_ID_VSOCK 19
#define VSOCK_F_STREAM 1ull
#define EVENT_TRANSPORT_RESET 0

static struct virtq rxq, txq, eventq;
static uint32_t event[2] = {0xffffffff, 0xffffffff};

int guest_main(const struct boot_info *boot) {
    struct virtio_dev devs[VIRTIO_MAX_DEVICES];
    struct virtio_dev *vsock = virtio_find_device(boot->cmdline, devs, VIRTIO_ID_VSOCK);
    if (!vsock) {
        print("vsock: no virtio-vsock device\n");
        return 0x7c;
    }
    check(virtio_negotiate(vsock, VSOCK_F_STREAM), "features accepted");
    check(virtio_setup_queue(vsock, &rxq, 0) && virtio_setup_queue(vsock, &txq, 1) &&
              virtio_setup_queue(vsock, &eventq, 2),
          "queues ready");
    virtio_driver_ok(vsock);
    const struct vbuf buffer = {event, sizeof event, true};
    check(virtq_submit(&eventq, &buffer, 1, false), "event buffer posted");
    print("vsock: ready, guest cid ");
    print_dec(virtio_config64(vsock, 0));
    print("\n");
    int64_t len;
    while ((len = virtq_poll(&eventq)) < 0)
        cpu_relax();
    check(len == 4, "an event of 4 bytes");
    print("vsock: event id ");
    print_dec(event[0]);
    print("\n");
    check(event[0] == EVENT_TRANSPORT_RESET, "the event is a transport reset");
    print("vsock: done\n");
    return check_failures();
}
