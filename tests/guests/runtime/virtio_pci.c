#include "virtio_pci.h"

#include "runtime.h"

#define CAP_COMMON 1
#define CAP_NOTIFY 2
#define CAP_ISR 3
#define CAP_DEVICE 4
#define CAP_PCI_CFG 5

/* §4.1.4: struct virtio_pci_cap (cfg_type at 3, bar at 4, offset at 8, length at 12) and
 * the notify capability's notify_off_multiplier at 16. */
void virtio_pci_locate(struct virtio_dev *dev, struct virtio_pci *info) {
    info->caps_found = 0;
    for (uint8_t at = pci_find_cap(info->dev, PCI_CAP_VENDOR, 0); at; at = pci_find_cap(info->dev, PCI_CAP_VENDOR, at)) {
        const uint8_t type = pci_read8(info->dev, at + 3), bar = pci_read8(info->dev, at + 4);
        if (type < CAP_COMMON || type > CAP_PCI_CFG || (info->caps_found & (1u << type)))
            continue; /* §4.1.4.1: the first of each type is the one to use */
        info->caps_found |= (uint8_t)(1u << type);
        if (type == CAP_PCI_CFG || bar >= PCI_BARS || !info->bars[bar].size || info->bars[bar].io)
            continue;
        const uint64_t addr = info->bars[bar].addr + pci_read32(info->dev, at + 8);
        switch (type) {
        case CAP_COMMON: dev->base = addr; break;
        case CAP_NOTIFY:
            dev->notify = addr;
            dev->notify_mult = pci_read32(info->dev, at + 16);
            break;
        case CAP_ISR: info->isr = (volatile uint8_t *)addr; break;
        case CAP_DEVICE: dev->config = addr; break;
        }
    }
    msix_init(&info->msix, info->dev, info->bars);
}

int virtio_pci_find(struct virtio_dev *devs, struct virtio_pci *info, int max, uint64_t *next) {
    int n = 0;
    for (uint8_t d = 0; d < 32 && n < max; d++) {
        const uint32_t id = pci_read32(d, PCI_VENDOR);
        const uint16_t device = (uint16_t)(id >> 16);
        if ((id & 0xffff) != 0x1af4 || device < 0x1040 || device > 0x107f)
            continue;
        struct virtio_dev *dev = &devs[n];
        struct virtio_pci *pci = &info[n];
        *dev = (struct virtio_dev){0};
        *pci = (struct virtio_pci){0};
        pci->dev = d;
        pci->pci_device_id = device;
        pci_size_bars(d, pci->bars, next);
        pci_write16(d, PCI_COMMAND, pci_read16(d, PCI_COMMAND) | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
        dev->pci = true;
        dev->device_id = device - 0x1040u;
        virtio_pci_locate(dev, pci);
        if (dev->base && dev->notify)
            n++;
    }
    return n;
}

uint16_t virtio_pci_common16(const struct virtio_dev *dev, uint16_t off) { return *(volatile uint16_t *)(dev->base + off); }
void virtio_pci_set_common16(const struct virtio_dev *dev, uint16_t off, uint16_t v) {
    *(volatile uint16_t *)(dev->base + off) = v;
}
