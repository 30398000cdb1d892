/* rng: drives the first virtio-rng device with the runtime's virtio driver: two 64-byte
 * requests must each come back full, not all zero, and different from each other.
 * Exit code: number of failed checks. */
#include "runtime/runtime.h"
#include "runtime/virtio.h"

#define BYTES 64

static uint8_t first[BYTES], second[BYTES];
static struct virtq vq;
static bool all_zero(const uint8_t *p) {
    for (int i = 0; i < BYTES; i++)
        if (p[i])
            return false;
    return true;
}

int guest_main(const struct boot_info *boot) {
    struct virtio_dev devs[VIRTIO_MAX_DEVICES];
    struct virtio_dev *rng = virtio_find_device(boot->cmdline, devs, VIRTIO_ID_ENTROPY);
    if (!rng) {
        print("rng: no virtio-rng device\n");
        return 0x7c;
    }
    print("rng: virtio-rng found, mmio version 2\n");
    check(virtio_negotiate(rng, 0), "features accepted");
    check(virtio_setup_queue(rng, &vq, 0), "queue 0 ready");
    virtio_driver_ok(rng);
    struct vbuf a = {first, BYTES, true}, b = {second, BYTES, true};
    check(virtq_run(&vq, &a, 1, false) == BYTES, "first request filled");
    check(virtq_run(&vq, &b, 1, false) == BYTES, "second request filled");
    check(!all_zero(first) && !all_zero(second), "bytes are not all zero");
    bool same = true;
    for (int i = 0; i < BYTES; i++)
        same = same && first[i] == second[i];
    check(!same, "two requests differ");
    print("rng: done\n");
    return check_failures();
}
