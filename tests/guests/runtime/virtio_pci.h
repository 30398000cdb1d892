/* Virtio devices on PCI bus 0 (VIRTIO 1.2 §4.1): found through ECAM, their BARs sized and
 * placed where the platform left them unassigned, their capabilities walked; each becomes a
 * struct virtio_dev that virtio.h drives like a virtio-mmio one. */
#pragma once

#include "pci.h"
#include "virtio.h"

struct virtio_pci {
    uint8_t dev;
    uint16_t pci_device_id;
    struct pci_bar bars[PCI_BARS];
    volatile uint8_t *isr;
    uint8_t caps_found; /* bit per cfg_type found (1 common .. 5 pci) */
    struct msix msix;
};

/* Fills up to `max` devices (and their PCI details) from bus 0; the first unassigned memory
 * BAR goes at *next and upward. Returns how many. Memory decoding and bus mastering on. */
int virtio_pci_find(struct virtio_dev *devs, struct virtio_pci *info, int max, uint64_t *next);
/* Re-reads the capability addresses after BARs moved. */
void virtio_pci_locate(struct virtio_dev *dev, struct virtio_pci *info);
uint16_t virtio_pci_common16(const struct virtio_dev *dev, uint16_t off);
void virtio_pci_set_common16(const struct virtio_dev *dev, uint16_t off, uint16_t v);

#define VIRTIO_PCI_CONFIG_MSIX_VECTOR 0x10
#define VIRTIO_PCI_NUM_QUEUES 0x12
#define VIRTIO_PCI_QUEUE_SELECT 0x16
#define VIRTIO_PCI_QUEUE_MSIX_VECTOR 0x1a
#define VIRTIO_MSI_NO_VECTOR 0xffff
