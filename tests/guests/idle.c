/* idle: what an idle Linux guest leaves behind: every driver has posted buffers (receive
 * buffers on virtio-console, an outstanding request on virtio-rng's queue is answered at once,
 * the block queue is empty), then the vCPU halts with interrupts off. The host then measures
 * that Ember itself burns no CPU. Prints "idle: ready" once everything is posted. */
#include "runtime/runtime.h"
#include "runtime/virtio.h"

static char rx[4][64];
static struct virtq con_rx, con_tx, blk_q, rng_q;

int guest_main(const struct boot_info *boot) {
    struct virtio_dev devs[VIRTIO_MAX_DEVICES];
    const int n = virtio_find(boot->cmdline, devs, VIRTIO_MAX_DEVICES);
    for (int i = 0; i < n; i++) {
        struct virtio_dev *dev = &devs[i];
        if (!virtio_negotiate(dev, 0))
            continue;
        if (dev->device_id == VIRTIO_ID_CONSOLE && virtio_setup_queue(dev, &con_rx, 0) &&
            virtio_setup_queue(dev, &con_tx, 1)) {
            virtio_driver_ok(dev);
            /* Linux's hvc driver fills its receive queue at probe: buffers with no input. */
            for (int b = 0; b < 4; b++) {
                struct vbuf in = {rx[b], sizeof rx[b], true};
                check(virtq_submit(&con_rx, &in, 1, false), "console receive buffer posted");
            }
        } else if ((dev->device_id == VIRTIO_ID_BLOCK && virtio_setup_queue(dev, &blk_q, 0)) ||
                   (dev->device_id == VIRTIO_ID_ENTROPY && virtio_setup_queue(dev, &rng_q, 0))) {
            virtio_driver_ok(dev);
        }
    }
    print("idle: ready\n");
    for (;;)
        __asm__ volatile("cli; hlt");
    return 0;
}
