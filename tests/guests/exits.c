/* exits: measures the cost of the VM exits a VMM serves, in TSC cycles per operation, for the
 * exit-cost benchmark (scripts/bench/run.sh), the same guest under Ember, QEMU microvm and the
 * raw KVM loop:
 *   pio:    `out` to port 0x80 (the POST-code port: a no-op, as Linux's io_delay uses it)
 *   mmio:   a 32-bit read of the first virtio-mmio device's MagicValue register
 *   notify: a QueueNotify write to that device's ready queue 0 (an ioeventfd where the VMM
 *           registers one: no exit to user space)
 * exits.count=N operations each (default 20000). Prints "<name>: <cycles> cycles per exit". */
#include "runtime/runtime.h"
#include "runtime/virtio.h"

#define QUEUE_NOTIFY 0x50

static struct virtq vq;

static void report(const char *name, uint64_t cycles, uint64_t count) {
    print(name);
    print(": ");
    print_dec(cycles / count);
    print(" cycles per exit\n");
}

int guest_main(const struct boot_info *boot) {
    uint64_t count = 20000;
    cmdline_number(boot->cmdline, "exits.count", &count);
    if (count == 0)
        count = 1;

    uint64_t start = rdtsc();
    for (uint64_t i = 0; i < count; i++)
        outb(0x80, 0);
    report("pio", rdtsc() - start, count);

    struct virtio_dev devs[VIRTIO_MAX_DEVICES];
    if (virtio_find(boot->cmdline, devs, VIRTIO_MAX_DEVICES) == 0) {
        print("mmio: no virtio-mmio device\n");
        return 1;
    }
    struct virtio_dev *dev = &devs[0];
    start = rdtsc();
    for (uint64_t i = 0; i < count; i++)
        (void)virtio_read32(dev, 0);
    report("mmio", rdtsc() - start, count);

    if (!virtio_negotiate(dev, 0) || !virtio_setup_queue(dev, &vq, 0)) {
        print("notify: the device did not take a queue\n");
        return 1;
    }
    virtio_driver_ok(dev);
    volatile uint32_t *notify = (volatile uint32_t *)(dev->base + QUEUE_NOTIFY);
    start = rdtsc();
    for (uint64_t i = 0; i < count; i++)
        *notify = 0;
    report("notify", rdtsc() - start, count);
    return 0;
}
