/* console: drives the first virtio-console device (one port, no MULTIPORT): says hello on its
 * transmit queue, then echoes on COM1 what arrives on its receive queue up to a '.'.
 * Exit code: number of failed checks. */
#include "runtime/runtime.h"
#include "runtime/virtio.h"

#define RX_BYTES 64
#define MAX_INPUT 128

static const char hello[] = "hello from virtio-console\n";
static char rx[RX_BYTES];
static char input[MAX_INPUT + 1];
static struct virtq receiveq, transmitq;
int guest_main(const struct boot_info *boot) {
    struct virtio_dev devs[VIRTIO_MAX_DEVICES];
    struct virtio_dev *con = virtio_find_device(boot->cmdline, devs, VIRTIO_ID_CONSOLE);
    if (!con) {
        print("console: no virtio-console device\n");
        return 0x7c;
    }
    print("console: virtio-console found, mmio version 2\n");
    check(virtio_negotiate(con, 0), "features accepted");
    check(virtio_setup_queue(con, &receiveq, 0) && virtio_setup_queue(con, &transmitq, 1), "queues ready");
    virtio_driver_ok(con);
    /* A receive buffer is posted before the hello goes out: a host that answers the hello
     * finds the guest ready. */
    struct vbuf in = {rx, RX_BYTES, true};
    bool posted = virtq_submit(&receiveq, &in, 1, false);
    struct vbuf out = {(void *)hello, sizeof hello - 1, false};
    check(virtq_run(&transmitq, &out, 1, false) >= 0, "transmit hello");

    int got = 0;
    bool done = false;
    while (!done && got < MAX_INPUT) {
        if (!posted && !virtq_submit(&receiveq, &in, 1, false))
            break;
        posted = false;
        const int64_t len = virtq_wait(&receiveq);
        if (len <= 0)
            break;
        for (int i = 0; i < len && got < MAX_INPUT; i++) {
            if (rx[i] == '.') {
                done = true;
                break;
            }
            input[got++] = rx[i];
        }
    }
    input[got] = 0;
    check(done, "input up to '.' received");
    print("received: ");
    print(input);
    print("\nconsole: done\n");
    return check_failures();
}
