/* flood: a hostile guest that tries to flood the VMM's log: flood.count times an illegal
 * virtio status transition (DRIVER_OK straight after reset: DEVICE_NEEDS_RESET each time),
 * a write to an unknown MMIO address and a write to an unknown port. Ends through the
 * debug-exit port with 0. */
#include "runtime/runtime.h"
#include "runtime/virtio.h"

#define REG_STATUS 0x70
#define UNKNOWN_MMIO 0xc0000000ull /* in the 32-bit hole, below the virtio windows */
#define UNKNOWN_PORT 0x2f8         /* COM2: not emulated */

int guest_main(const struct boot_info *boot) {
    struct virtio_dev devs[VIRTIO_MAX_DEVICES];
    uint64_t count = 100000;
    cmdline_number(boot->cmdline, "flood.count", &count);
    const int n = virtio_find(boot->cmdline, devs, VIRTIO_MAX_DEVICES);
    check(n > 0, "flood: a virtio device found");
    if (n <= 0)
        return check_failures();
    volatile uint32_t *status = (volatile uint32_t *)(devs[0].base + REG_STATUS);
    map_mmio(UNKNOWN_MMIO);
    volatile uint32_t *unknown = (volatile uint32_t *)UNKNOWN_MMIO;
    for (uint64_t i = 0; i < count; i++) {
        *status = 0;
        *status = 0x4; /* DRIVER_OK without ACKNOWLEDGE, DRIVER, FEATURES_OK */
        *unknown = (uint32_t)i;
        outb(UNKNOWN_PORT, (uint8_t)i);
    }
    print("flood: done\n");
    return check_failures();
}
