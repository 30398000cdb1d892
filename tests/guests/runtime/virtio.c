#include "virtio.h"

#include "runtime.h"

#define REG_MAGIC 0x000
#define REG_VERSION 0x004
#define REG_DEVICE_ID 0x008
#define REG_QUEUE_NOTIFY 0x050
#define REG_CONFIG 0x100
#define STATUS_ACK 1
#define STATUS_DRIVER 2
#define STATUS_DRIVER_OK 4
#define STATUS_FEATURES_OK 8
#define TIMEOUT_TSC 5000000000ull

static struct virtq_desc desc_table[VIRTIO_MAX_DEVICES][VQ_MAX] __attribute__((aligned(4096)));
static uint16_t avail_ring[VIRTIO_MAX_DEVICES][3 + VQ_MAX] __attribute__((aligned(4096)));
static uint32_t used_ring[VIRTIO_MAX_DEVICES][1 + 2 * VQ_MAX + 1] __attribute__((aligned(4096)));
static struct virtq_desc indirect_table[VQ_MAX] __attribute__((aligned(16)));
static int queues_set_up;

/* The transport registers the driver uses, at their virtio-mmio offset (all 32-bit) and
 * their virtio-pci common-configuration offset and width (VIRTIO 1.2 §4.2.2, §4.1.4.3). */
enum field {
    DEVICE_FEATURES_SEL, DEVICE_FEATURES, DRIVER_FEATURES_SEL, DRIVER_FEATURES, QUEUE_SEL,
    QUEUE_NUM_MAX, QUEUE_NUM, QUEUE_READY, STATUS, QUEUE_DESC, QUEUE_DRIVER, QUEUE_DEVICE, QUEUE_NOTIFY_OFF
};
static const struct { uint16_t mmio, pci; uint8_t pci_width; } fields[] = {
    [DEVICE_FEATURES_SEL] = {0x014, 0x00, 4}, [DEVICE_FEATURES] = {0x010, 0x04, 4},
    [DRIVER_FEATURES_SEL] = {0x024, 0x08, 4}, [DRIVER_FEATURES] = {0x020, 0x0c, 4},
    [QUEUE_SEL] = {0x030, 0x16, 2}, [QUEUE_NUM_MAX] = {0x034, 0x18, 2}, [QUEUE_NUM] = {0x038, 0x18, 2},
    [QUEUE_READY] = {0x044, 0x1c, 2}, [STATUS] = {0x070, 0x14, 1}, [QUEUE_DESC] = {0x080, 0x20, 4},
    [QUEUE_DRIVER] = {0x090, 0x28, 4}, [QUEUE_DEVICE] = {0x0a0, 0x30, 4}, [QUEUE_NOTIFY_OFF] = {0, 0x1e, 2},
};

static uint32_t get(const struct virtio_dev *dev, enum field f) {
    if (!dev->pci)
        return *(volatile uint32_t *)(dev->base + fields[f].mmio);
    const uint64_t at = dev->base + fields[f].pci;
    switch (fields[f].pci_width) {
    case 1: return *(volatile uint8_t *)at;
    case 2: return *(volatile uint16_t *)at;
    default: return *(volatile uint32_t *)at;
    }
}
static void set(const struct virtio_dev *dev, enum field f, uint32_t v) {
    if (!dev->pci) {
        *(volatile uint32_t *)(dev->base + fields[f].mmio) = v;
        return;
    }
    const uint64_t at = dev->base + fields[f].pci;
    switch (fields[f].pci_width) {
    case 1: *(volatile uint8_t *)at = (uint8_t)v; break;
    case 2: *(volatile uint16_t *)at = (uint16_t)v; break;
    default: *(volatile uint32_t *)at = v; break;
    }
}
/* A 64-bit queue address as two 32-bit halves (both transports allow it). */
static void set64(const struct virtio_dev *dev, enum field f, uint64_t v) {
    const uint16_t off = dev->pci ? fields[f].pci : fields[f].mmio;
    *(volatile uint32_t *)(dev->base + off) = (uint32_t)v;
    *(volatile uint32_t *)(dev->base + off + 4) = (uint32_t)(v >> 32);
}

uint32_t virtio_read32(const struct virtio_dev *dev, uint32_t offset) { return *(volatile uint32_t *)(dev->base + offset); }
uint8_t virtio_config8(const struct virtio_dev *dev, uint32_t offset) { return *(volatile uint8_t *)(dev->config + offset); }
uint32_t virtio_config32(const struct virtio_dev *dev, uint32_t offset) {
    return *(volatile uint32_t *)(dev->config + offset);
}
uint64_t virtio_config64(const struct virtio_dev *dev, uint32_t offset) {
    return virtio_config32(dev, offset) | ((uint64_t)virtio_config32(dev, offset + 4) << 32);
}
uint32_t virtio_status(const struct virtio_dev *dev) { return get(dev, STATUS); }

static uint64_t parse_number(const char **p, int base) {
    uint64_t v = 0;
    for (;; (*p)++) {
        char c = **p;
        int d = c >= '0' && c <= '9' ? c - '0' : base == 16 && c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (d < 0)
            return v;
        v = v * (uint64_t)base + (uint64_t)d;
    }
}

static bool starts_with(const char *s, const char *prefix) {
    while (*prefix)
        if (*s++ != *prefix++)
            return false;
    return true;
}

/* One "virtio_mmio.device=<size>[K|M]@0x<addr>:<irq>" token at p; false if malformed. */
static bool parse_device(const char *p, struct virtio_dev *dev) {
    parse_number(&p, 10);
    if (*p == 'K' || *p == 'k' || *p == 'M')
        p++;
    if (!starts_with(p, "@0x"))
        return false;
    p += 3;
    dev->base = parse_number(&p, 16);
    if (*p++ != ':')
        return false;
    dev->irq = (uint32_t)parse_number(&p, 10);
    return true;
}

/* Whether a virtio-mmio (version 2) device with a device ID answers at dev->base. */
static bool probe_mmio(struct virtio_dev *dev) {
    map_mmio(dev->base);
    if (virtio_read32(dev, REG_MAGIC) != 0x74726976 || virtio_read32(dev, REG_VERSION) != 2)
        return false;
    dev->device_id = virtio_read32(dev, REG_DEVICE_ID);
    dev->pci = false;
    dev->config = dev->base + REG_CONFIG;
    return dev->device_id != 0;
}

int virtio_find(const char *cmdline, struct virtio_dev *devs, int max) {
    static const char key[] = "virtio_mmio.device=";
    int n = 0;
    for (const char *p = cmdline; *p && n < max; p++) {
        if ((p != cmdline && p[-1] != ' ') || !starts_with(p, key) || !parse_device(p + sizeof key - 1, &devs[n]))
            continue;
        if (probe_mmio(&devs[n]))
            n++;
    }
    if (n)
        return n;
    uint64_t bases[PLATFORM_MAX_VIRTIO_MMIO];
    const int described = platform_virtio_mmio(bases, PLATFORM_MAX_VIRTIO_MMIO);
    for (int i = 0; i < described && n < max; i++) {
        devs[n].base = bases[i];
        devs[n].irq = 0;
        if (probe_mmio(&devs[n]))
            n++;
    }
    return n;
}

struct virtio_dev *virtio_find_device(const char *cmdline, struct virtio_dev *devs, uint32_t device_id) {
    const int n = virtio_find(cmdline, devs, VIRTIO_MAX_DEVICES);
    for (int i = 0; i < n; i++)
        if (devs[i].device_id == device_id)
            return &devs[i];
    return 0;
}

bool virtio_negotiate(struct virtio_dev *dev, uint64_t wanted) {
    set(dev, STATUS, 0);
    set(dev, STATUS, STATUS_ACK);
    set(dev, STATUS, STATUS_ACK | STATUS_DRIVER);
    set(dev, DEVICE_FEATURES_SEL, 0);
    uint64_t offered = get(dev, DEVICE_FEATURES);
    set(dev, DEVICE_FEATURES_SEL, 1);
    offered |= (uint64_t)get(dev, DEVICE_FEATURES) << 32;
    if (!(offered & VIRTIO_F_VERSION_1))
        return false;
    dev->features = offered & (wanted | VIRTIO_F_VERSION_1);
    set(dev, DRIVER_FEATURES_SEL, 0);
    set(dev, DRIVER_FEATURES, (uint32_t)dev->features);
    set(dev, DRIVER_FEATURES_SEL, 1);
    set(dev, DRIVER_FEATURES, (uint32_t)(dev->features >> 32));
    set(dev, STATUS, STATUS_ACK | STATUS_DRIVER | STATUS_FEATURES_OK);
    return (virtio_status(dev) & STATUS_FEATURES_OK) != 0;
}

bool virtio_setup_queue(struct virtio_dev *dev, struct virtq *vq, uint16_t index) {
    return virtio_setup_queue_sized(dev, vq, index, VQ_SIZE);
}

bool virtio_setup_queue_sized(struct virtio_dev *dev, struct virtq *vq, uint16_t index, uint16_t size) {
    if (queues_set_up >= VIRTIO_MAX_DEVICES || size > VQ_MAX)
        return false;
    const int slot = queues_set_up++;
    set(dev, QUEUE_SEL, index);
    if (get(dev, QUEUE_READY) || get(dev, QUEUE_NUM_MAX) < size)
        return false;
    vq->dev = dev;
    vq->index = index;
    vq->size = size;
    vq->desc = desc_table[slot];
    vq->avail = avail_ring[slot];
    vq->used = used_ring[slot];
    vq->next_avail = vq->last_used = 0;
    vq->notify = dev->pci ? dev->notify + (uint64_t)get(dev, QUEUE_NOTIFY_OFF) * dev->notify_mult
                          : dev->base + REG_QUEUE_NOTIFY;
    set(dev, QUEUE_NUM, size);
    set64(dev, QUEUE_DESC, (uint64_t)vq->desc);
    set64(dev, QUEUE_DRIVER, (uint64_t)vq->avail);
    set64(dev, QUEUE_DEVICE, (uint64_t)vq->used);
    set(dev, QUEUE_READY, 1);
    return get(dev, QUEUE_READY) == 1;
}

void virtio_driver_ok(struct virtio_dev *dev) {
    set(dev, STATUS, STATUS_ACK | STATUS_DRIVER | STATUS_FEATURES_OK | STATUS_DRIVER_OK);
}

static void fill(struct virtq_desc *table, const struct vbuf *bufs, int n) {
    for (int i = 0; i < n; i++) {
        table[i].addr = (uint64_t)bufs[i].addr;
        table[i].len = bufs[i].len;
        table[i].flags = (uint16_t)((bufs[i].device_writes ? VIRTQ_DESC_F_WRITE : 0) | (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0));
        table[i].next = (uint16_t)(i + 1);
    }
}

void virtq_notify(const struct virtq *vq) {
    if (vq->dev->pci)
        *(volatile uint16_t *)vq->notify = vq->index; /* §4.1.4.4: the queue's index, 16 bits */
    else
        *(volatile uint32_t *)vq->notify = vq->index;
}

bool virtq_submit(struct virtq *vq, const struct vbuf *bufs, int n, bool indirect) {
    if (n <= 0 || n > (indirect ? VQ_MAX : vq->size))
        return false;
    if (indirect) {
        fill(indirect_table, bufs, n);
        vq->desc[0].addr = (uint64_t)indirect_table;
        vq->desc[0].len = (uint32_t)(n * sizeof(struct virtq_desc));
        vq->desc[0].flags = VIRTQ_DESC_F_INDIRECT;
        vq->desc[0].next = 0;
    } else {
        fill(vq->desc, bufs, n);
    }
    vq->avail[2 + vq->next_avail % vq->size] = 0; /* head: descriptor 0 */
    write_barrier(); /* the ring entry before the index that publishes it */
    vq->avail[1] = ++vq->next_avail;
    full_barrier(); /* the index before the notification */
    virtq_notify(vq);
    return true;
}

int64_t virtq_run(struct virtq *vq, const struct vbuf *bufs, int n, bool indirect) {
    return virtq_submit(vq, bufs, n, indirect) ? virtq_wait(vq) : -1;
}

int64_t virtq_wait(struct virtq *vq) {
    const uint64_t start = rdtsc();
    int64_t len;
    while ((len = virtq_poll(vq)) < 0) {
        if (rdtsc() - start > TIMEOUT_TSC)
            return -1;
        cpu_relax();
    }
    return len;
}

int64_t virtq_poll(struct virtq *vq) {
    volatile uint16_t *used_idx = (volatile uint16_t *)vq->used + 1;
    if (*used_idx == vq->last_used)
        return -1;
    read_barrier(); /* the index before the element it covers */
    const uint32_t len = vq->used[2 + 2 * (vq->last_used % vq->size)]; /* {id, len} after flags|idx */
    vq->last_used++;
    return len;
}
