/* A small polling virtio driver for test guests, on virtio-mmio (version 2) and on the modern
 * virtio-pci transport: finds virtio-mmio devices on the command line the way Linux does
 * (virtio_mmio.device=<size>@<addr>:<irq>), else where the platform describes them (arm64: the
 * device tree's virtio,mmio nodes), and virtio-pci ones on PCI bus 0 (virtio_pci.h),
 * negotiates features, sets up split queues and submits chains, waiting on the used ring. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#define VIRTIO_MAX_DEVICES 8
#define VQ_SIZE 16  /* what virtio_setup_queue() asks for */
#define VQ_MAX 256  /* the largest queue, and indirect table, the storage holds */

#define VIRTIO_ID_NET 1
#define VIRTIO_ID_BLOCK 2
#define VIRTIO_ID_CONSOLE 3
#define VIRTIO_ID_ENTROPY 4
#define VIRTIO_F_INDIRECT_DESC (1ull << 28)
#define VIRTIO_F_VERSION_1 (1ull << 32)
#define VIRTQ_DESC_F_NEXT 1
#define VIRTQ_DESC_F_WRITE 2
#define VIRTQ_DESC_F_INDIRECT 4

struct virtio_dev {
    uint64_t base; /* virtio-mmio: the registers; virtio-pci: the common configuration */
    uint32_t irq;
    uint32_t device_id;
    uint64_t features; /* negotiated */
    bool pci;
    uint64_t config;      /* the device-specific configuration */
    uint64_t notify;      /* virtio-pci: the notification area and its offset multiplier */
    uint32_t notify_mult;
};

struct virtq_desc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
    uint16_t next;
};

struct virtq {
    struct virtio_dev *dev;
    uint16_t index;
    uint16_t size;
    struct virtq_desc *desc;
    volatile uint16_t *avail; /* flags, idx, ring[VQ_SIZE], used_event */
    volatile uint32_t *used;  /* flags|idx, then {id, len} pairs */
    uint16_t next_avail;
    uint16_t last_used;
    uint64_t notify; /* where the queue's notification is written */
};

struct vbuf {
    void *addr;
    uint32_t len;
    bool device_writes;
};

/* Fills devs from the command line, or if it names none from platform_virtio_mmio(); returns
 * how many were found. */
int virtio_find(const char *cmdline, struct virtio_dev *devs, int max);
/* The first device of `device_id` on the command line (devs: VIRTIO_MAX_DEVICES of storage),
 * or null. */
struct virtio_dev *virtio_find_device(const char *cmdline, struct virtio_dev *devs, uint32_t device_id);
uint32_t virtio_read32(const struct virtio_dev *dev, uint32_t offset);
uint8_t virtio_config8(const struct virtio_dev *dev, uint32_t offset);
uint32_t virtio_config32(const struct virtio_dev *dev, uint32_t offset);
uint64_t virtio_config64(const struct virtio_dev *dev, uint32_t offset);
/* Reset, ACKNOWLEDGE, DRIVER, features (wanted & offered, VERSION_1 required), FEATURES_OK. */
bool virtio_negotiate(struct virtio_dev *dev, uint64_t wanted);
/* Queue `index` of VQ_SIZE entries in static memory; _sized: of `size` (<= VQ_MAX). */
bool virtio_setup_queue(struct virtio_dev *dev, struct virtq *vq, uint16_t index);
bool virtio_setup_queue_sized(struct virtio_dev *dev, struct virtq *vq, uint16_t index, uint16_t size);
void virtio_driver_ok(struct virtio_dev *dev);
uint32_t virtio_status(const struct virtio_dev *dev);
/* Makes the buffers available as one chain (through an indirect table of up to VQ_MAX
 * entries when `indirect`) and notifies the device. One chain per queue may be outstanding. */
bool virtq_submit(struct virtq *vq, const struct vbuf *bufs, int n, bool indirect);
/* Polls for the outstanding chain's completion: its used length, or -1 on timeout. */
int64_t virtq_wait(struct virtq *vq);
/* The outstanding chain's used length if the device has returned it, else -1 at once. */
int64_t virtq_poll(struct virtq *vq);
/* Notifies the device of new buffers on the queue. */
void virtq_notify(const struct virtq *vq);
/* virtq_submit + virtq_wait. */
int64_t virtq_run(struct virtq *vq, const struct vbuf *bufs, int n, bool indirect);
