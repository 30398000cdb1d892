/* busy: keeps every virtio device it finds saturated, forever: back-to-back reads on each
 * virtio-blk disk, 64 KiB requests on virtio-rng, writes on virtio-console's transmit queue.
 * For the benchmark of SIGTERM-to-exit latency under load (scripts/bench/run.sh). Prints
 * "busy: running" once every device has completed one request. */
#include "runtime/runtime.h"
#include "runtime/virtio.h"

#define BYTES 65536

static uint8_t buf[VIRTIO_MAX_DEVICES][BYTES] __attribute__((aligned(4096)));
static struct virtq vqs[VIRTIO_MAX_DEVICES];
static struct { uint32_t type, reserved; uint64_t sector; } header[VIRTIO_MAX_DEVICES];
static uint8_t status[VIRTIO_MAX_DEVICES];

static bool submit(int i, const struct virtio_dev *dev) {
    struct vbuf bufs[3];
    switch (dev->device_id) {
    case VIRTIO_ID_BLOCK:
        bufs[0] = (struct vbuf){&header[i], sizeof header[i], false};
        bufs[1] = (struct vbuf){buf[i], 4096, true};
        bufs[2] = (struct vbuf){&status[i], 1, true};
        return virtq_submit(&vqs[i], bufs, 3, false);
    case VIRTIO_ID_ENTROPY:
        bufs[0] = (struct vbuf){buf[i], BYTES, true};
        return virtq_submit(&vqs[i], bufs, 1, false);
    default: /* console: its transmit queue */
        bufs[0] = (struct vbuf){buf[i], 1024, false};
        return virtq_submit(&vqs[i], bufs, 1, false);
    }
}

int guest_main(const struct boot_info *boot) {
    struct virtio_dev devs[VIRTIO_MAX_DEVICES];
    const int n = virtio_find(boot->cmdline, devs, VIRTIO_MAX_DEVICES);
    bool active[VIRTIO_MAX_DEVICES] = {false};
    for (int i = 0; i < n; i++) {
        memset(buf[i], 'b', BYTES);
        const uint16_t queue = devs[i].device_id == VIRTIO_ID_CONSOLE ? 1 : 0;
        if (!virtio_negotiate(&devs[i], 0))
            continue;
        if (devs[i].device_id == VIRTIO_ID_CONSOLE) {
            struct virtq rx;
            if (!virtio_setup_queue(&devs[i], &rx, 0))
                continue;
        }
        if (virtio_setup_queue(&devs[i], &vqs[i], queue)) {
            virtio_driver_ok(&devs[i]);
            active[i] = submit(i, &devs[i]);
        }
    }
    bool announced = false;
    for (;;) {
        bool all = true;
        for (int i = 0; i < n; i++) {
            if (!active[i])
                continue;
            if (virtq_poll(&vqs[i]) >= 0)
                active[i] = submit(i, &devs[i]);
            else
                all = false;
        }
        if (!announced && all) {
            print("busy: running\n");
            announced = true;
        }
    }
    return 0;
}
