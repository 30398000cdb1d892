/* pci: PCI enumeration and the modern virtio-pci transport with MSI-X, polled. Through ECAM
 * (MCFG, else _CBA): the host bridge at 00:00.0; every virtio function's BARs sized (and placed, where
 * the platform left them unassigned), its capabilities walked. Then the first virtio-rng:
 * MSI-X vectors for configuration and queue, a request whose interrupt must reach the local
 * APIC (its IRR: interrupts stay off); the vector masked (pending bit, nothing delivered,
 * delivered on unmask), the function masked (the same); MSI-X off (the ISR bit, read-clear);
 * the BAR moved (the queue notified at its new place). The first virtio-blk: its capacity from
 * the device configuration. With pci.cf8=1 (platforms with the 0xCF8 ports) every function's
 * header also reads the same through 0xCF8/0xCFC. Every line is fixed by the specs, so QEMU
 * microvm (pcie=on) and Ember must print the same. Exit code: number of failed checks. */
#include "runtime/runtime.h"
#include "runtime/virtio_pci.h"

#define BYTES 64
#define VQ_CONFIG_VECTOR 0
#define VQ_QUEUE_VECTOR 1

static uint8_t buffer[BYTES];
static struct virtq vq;
static struct virtio_dev devs[VIRTIO_MAX_DEVICES];
static struct virtio_pci info[VIRTIO_MAX_DEVICES];

static bool rng_request(void) {
    struct vbuf b = {buffer, BYTES, true};
    return virtq_run(&vq, &b, 1, false) == BYTES;
}

/* The header of every function reads the same through both mechanisms. */
static bool cf8_agrees(void) {
    for (uint8_t d = 0; d < 32; d++)
        for (uint16_t off = 0; off < 0x40; off += 4)
            if (pci_cf8_read32(d, off) != pci_read32(d, off))
                return false;
    return true;
}

static void rng_msix(struct virtio_dev *rng, struct virtio_pci *pci) {
    struct msix *m = &pci->msix;
    check(m->size >= 2, "msix: a vector for configuration and one for the queue");
    lapic_enable();
    msix_function_mask(m, false);
    msix_set(m, VQ_CONFIG_VECTOR, 0x50);
    msix_set(m, VQ_QUEUE_VECTOR, 0x51);
    msix_mask(m, VQ_CONFIG_VECTOR, false);
    msix_mask(m, VQ_QUEUE_VECTOR, false);
    check(m->table[4 * VQ_QUEUE_VECTOR + 2] == 0x51 && m->table[4 * VQ_QUEUE_VECTOR] == 0xfee00000u,
          "msix: table entry reads back");
    msix_enable(m, true);

    check(virtio_negotiate(rng, 0), "virtio: features accepted");
    virtio_pci_set_common16(rng, VIRTIO_PCI_CONFIG_MSIX_VECTOR, VQ_CONFIG_VECTOR);
    check(virtio_pci_common16(rng, VIRTIO_PCI_CONFIG_MSIX_VECTOR) == VQ_CONFIG_VECTOR, "virtio: config vector set");
    virtio_pci_set_common16(rng, VIRTIO_PCI_QUEUE_SELECT, 0);
    virtio_pci_set_common16(rng, VIRTIO_PCI_QUEUE_MSIX_VECTOR, VQ_QUEUE_VECTOR);
    check(virtio_pci_common16(rng, VIRTIO_PCI_QUEUE_MSIX_VECTOR) == VQ_QUEUE_VECTOR, "virtio: queue vector set");
    check(virtio_setup_queue_sized(rng, &vq, 0, 8), "virtio: queue 0 ready"); /* QEMU offers 8 */
    virtio_driver_ok(rng);

    check(rng_request() && lapic_wait(0x51), "msix: request done, its vector delivered");

    msix_mask(m, VQ_QUEUE_VECTOR, true);
    msix_set(m, VQ_QUEUE_VECTOR, 0x52);
    check(rng_request() && msix_wait_pending(m, VQ_QUEUE_VECTOR) && !lapic_requested(0x52),
          "msix: masked vector not delivered, pending");
    msix_mask(m, VQ_QUEUE_VECTOR, false);
    check(lapic_wait(0x52) && !msix_pending(m, VQ_QUEUE_VECTOR), "msix: delivered on unmask, pending clear");

    msix_mask(m, VQ_QUEUE_VECTOR, true);
    msix_set(m, VQ_QUEUE_VECTOR, 0x53);
    msix_mask(m, VQ_QUEUE_VECTOR, false);
    msix_function_mask(m, true);
    check(rng_request() && msix_wait_pending(m, VQ_QUEUE_VECTOR) && !lapic_requested(0x53),
          "msix: function masked, not delivered, pending");
    msix_function_mask(m, false);
    check(lapic_wait(0x53) && !msix_pending(m, VQ_QUEUE_VECTOR), "msix: delivered on function unmask");

    (void)*pci->isr; /* clears what was set while MSI-X was on */
    msix_enable(m, false);
    const bool done = rng_request();
    uint8_t isr = 0;
    for (const uint64_t start = rdtsc(); !(isr & 1) && rdtsc() - start < 2000000000ull;)
        isr = *pci->isr; /* set with the interrupt, after the used ring: waited for */
    check(done && (isr & 1) && *pci->isr == 0, "intx: ISR queue bit set, cleared on read");
}

/* Moves the BAR holding the notification area; the next request must be noticed there. */
static void rng_moved(struct virtio_dev *rng, struct virtio_pci *pci, uint64_t *next) {
    for (int b = 0; b < PCI_BARS; b++) {
        struct pci_bar *bar = &pci->bars[b];
        if (!bar->size || bar->io || rng->notify < bar->addr || rng->notify >= bar->addr + bar->size)
            continue;
        *next = (*next + bar->size - 1) & ~(bar->size - 1);
        pci_set_bar(pci->dev, pci->bars, b, *next);
        *next += bar->size;
    }
    const uint64_t queue_offset = vq.notify - rng->notify;
    virtio_pci_locate(rng, pci);
    vq.notify = rng->notify + queue_offset;
}

int guest_main(const struct boot_info *boot) {
    if (!pci_ecam_init()) {
        print("pci: no ECAM window (MCFG, _CBA)\n");
        return 0x7c;
    }
    check(pci_read32(0, PCI_VENDOR) == 0x00081b36 && pci_read16(0, PCI_CLASS) == 0x0600,
          "pci: host bridge 1b36:0008 at 00:00.0");
    uint64_t bar_space = 0xc0000000ull + 0x8000000ull;
    const int n = virtio_pci_find(devs, info, VIRTIO_MAX_DEVICES, &bar_space);
    struct virtio_dev *rng = 0, *blk = 0;
    struct virtio_pci *rng_pci = 0;
    for (int i = 0; i < n; i++) {
        if (devs[i].device_id == VIRTIO_ID_ENTROPY && !rng) {
            rng = &devs[i];
            rng_pci = &info[i];
        }
        if (devs[i].device_id == VIRTIO_ID_BLOCK && !blk)
            blk = &devs[i];
    }
    uint64_t cf8 = 0;
    if (cmdline_number(boot->cmdline, "pci.cf8", &cf8) && cf8)
        check(cf8_agrees(), "pci: 0xcf8 reads what ECAM reads");
    if (!rng) {
        print("pci: no virtio-rng\n");
        return 0x7d;
    }
    const uint8_t dev = rng_pci->dev;
    check(pci_read8(dev, PCI_HEADER_TYPE) == 0 && pci_read8(dev, PCI_REVISION) >= 1, "rng: type 0 header, revision 1");
    pci_write32(dev, PCI_VENDOR, 0);
    check(pci_read32(dev, PCI_VENDOR) == 0x10441af4, "rng: 1af4:1044, IDs read-only");
    check((rng_pci->caps_found & 0x2e) == 0x2e, "rng: common, notify, ISR and PCI-config capabilities");
    check(rng_pci->msix.cap != 0, "rng: MSI-X capability");
    rng_msix(rng, rng_pci);
    rng_moved(rng, rng_pci, &bar_space);
    msix_mask(&rng_pci->msix, VQ_QUEUE_VECTOR, true);
    msix_set(&rng_pci->msix, VQ_QUEUE_VECTOR, 0x54);
    msix_mask(&rng_pci->msix, VQ_QUEUE_VECTOR, false);
    msix_enable(&rng_pci->msix, true);
    check(rng_request() && lapic_wait(0x54), "rng: request after the BAR moved, its vector delivered");
    if (blk)
        check(virtio_config64(blk, 0) == 2048, "blk: capacity 2048 sectors from the device configuration");
    print("pci: done\n");
    return check_failures();
}
