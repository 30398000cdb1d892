/* blk: drives the first virtio-blk device with the runtime's virtio driver and prints a
 * report whose every line the spec fixes (so QEMU microvm and Ember must agree). The host
 * fills the disk with `seq -f %015.0f 0 N`: 16-byte lines, line k holds the number k.
 * With blk.hold=1 it stops after the acknowledged flush and spins (durability test). With
 * blk.watch=1 it then prints "blk: watching" and waits for a configuration change (the host
 * gave the drive another file, filled the same way): it prints the new capacity and checks
 * the change interrupt and the new file's last sector.
 * Exit code: number of failed checks. */
#include "runtime/runtime.h"
#include "runtime/virtio.h"

#define T_IN 0
#define T_OUT 1
#define T_FLUSH 4
#define T_GET_ID 8
#define F_SEG_MAX (1ull << 2)
#define F_RO (1ull << 5)
#define F_BLK_SIZE (1ull << 6)
#define F_FLUSH (1ull << 9)
#define SECTOR 512

struct req_header {
    uint32_t type, reserved;
    uint64_t sector;
};

static struct req_header header;
static uint8_t data[4 * SECTOR] __attribute__((aligned(64)));
static uint8_t status;
static struct virtq vq;
static uint8_t big[VQ_MAX * SECTOR] __attribute__((aligned(4096)));
static struct vbuf big_bufs[VQ_MAX];

/* The largest request the configuration allows, as Linux sends it: header, seg_max segments
 * of one sector each, status, all through one indirect table of seg_max + 2 entries, on a
 * queue of VQ_MAX entries. Reads sectors 0 .. seg_max - 1. */
static uint8_t largest_read(uint32_t seg_max) {
    header.type = T_IN;
    header.reserved = 0;
    header.sector = 0;
    status = 0xee;
    big_bufs[0] = (struct vbuf){&header, sizeof header, false};
    for (uint32_t i = 0; i < seg_max; i++)
        big_bufs[1 + i] = (struct vbuf){big + i * SECTOR, SECTOR, true};
    big_bufs[1 + seg_max] = (struct vbuf){&status, 1, true};
    return virtq_run(&vq, big_bufs, (int)seg_max + 2, true) < 0 ? 0xff : status;
}
/* One request; returns the status byte, 0xff when the device never answered. */
static uint8_t request(uint32_t type, uint64_t sector, uint32_t len, bool device_writes, bool indirect) {
    header.type = type;
    header.reserved = 0;
    header.sector = sector;
    status = 0xee;
    struct vbuf bufs[3] = {{&header, sizeof header, false}, {data, len, device_writes}, {&status, 1, true}};
    if (len)
        return virtq_run(&vq, bufs, 3, indirect) < 0 ? 0xff : status;
    bufs[1] = bufs[2];
    return virtq_run(&vq, bufs, 2, indirect) < 0 ? 0xff : status;
}

static bool is_pattern(const uint8_t *p, uint64_t line) {
    char want[16];
    for (int i = 14; i >= 0; i--, line /= 10)
        want[i] = (char)('0' + line % 10);
    want[15] = '\n';
    for (int i = 0; i < 16; i++)
        if (p[i] != (uint8_t)want[i])
            return false;
    return true;
}

static void print_status(const char *what, uint8_t s) {
    print(what);
    print(": status ");
    print_dec(s);
    print("\n");
}

#define MMIO_INTERRUPT_STATUS 0x60
#define MMIO_INTERRUPT_ACK 0x64
#define MMIO_CONFIG_GENERATION 0xfc
#define INTERRUPT_CONFIG 2

static void watch_capacity(struct virtio_dev *blk) {
    const uint32_t generation = virtio_read32(blk, MMIO_CONFIG_GENERATION);
    print("blk: watching\n");
    while (virtio_read32(blk, MMIO_CONFIG_GENERATION) == generation)
        cpu_relax();
    check(virtio_read32(blk, MMIO_INTERRUPT_STATUS) & INTERRUPT_CONFIG, "configuration change interrupt");
    *(volatile uint32_t *)(blk->base + MMIO_INTERRUPT_ACK) = INTERRUPT_CONFIG;
    const uint64_t capacity = virtio_config64(blk, 0);
    print("blk: capacity now ");
    print_dec(capacity);
    print(" sectors\n");
    check(request(T_IN, capacity - 1, SECTOR, true, false) == 0 && is_pattern(data + 496, capacity * 32 - 1),
          "read the new last sector");
}

int guest_main(const struct boot_info *boot) {
    struct virtio_dev devs[VIRTIO_MAX_DEVICES];
    struct virtio_dev *blk = virtio_find_device(boot->cmdline, devs, VIRTIO_ID_BLOCK);
    if (!blk) {
        print("blk: no virtio-blk device\n");
        return 0x7c;
    }
    print("blk: virtio-blk found, mmio version 2\n");
    check(virtio_negotiate(blk, F_SEG_MAX | F_RO | F_BLK_SIZE | F_FLUSH | VIRTIO_F_INDIRECT_DESC), "features accepted");
    check(blk->features & F_FLUSH, "flush offered");
    check(blk->features & VIRTIO_F_INDIRECT_DESC, "indirect descriptors offered");
    const bool ro = (blk->features & F_RO) != 0;
    print(ro ? "read-only: yes\n" : "read-only: no\n");
    const uint64_t capacity = virtio_config64(blk, 0);
    print("capacity: ");
    print_dec(capacity);
    print(" sectors\n");
    const uint32_t seg_max = virtio_config32(blk, 12);
    print("seg_max: ");
    print_dec(seg_max);
    print("\n");
    check(virtio_setup_queue_sized(blk, &vq, 0, VQ_MAX), "queue 0 ready with 256 entries");
    virtio_driver_ok(blk);
    check((virtio_status(blk) & 0x4f) == 0x0f, "status DRIVER_OK");

    check(request(T_IN, 0, SECTOR, true, false) == 0 && is_pattern(data, 0) && is_pattern(data + 496, 31),
          "read sector 0 matches the host pattern");
    check(request(T_IN, capacity - 1, SECTOR, true, true) == 0 && is_pattern(data + 496, capacity * 32 - 1),
          "read last sector through an indirect table");
    if (seg_max + 2 <= VQ_MAX && seg_max <= capacity) {
        bool same = largest_read(seg_max) == 0;
        for (uint32_t i = 0; i < seg_max && same; i++)
            same = is_pattern(big + i * SECTOR, i * 32) && is_pattern(big + i * SECTOR + 496, i * 32 + 31);
        check(same, "read seg_max sectors in one request through a seg_max + 2 indirect table");
    }
    print_status("read past the end", request(T_IN, capacity, SECTOR, true, false));
    print_status("read of half a sector", request(T_IN, 0, SECTOR / 2, true, false));
    print_status("unknown request type 0x55", request(0x55, 0, 0, false, false));

    for (int i = 0; i < 4 * SECTOR; i++)
        data[i] = (uint8_t)(i * 13 + 7);
    const uint8_t written = request(T_OUT, 1, 4 * SECTOR, false, false);
    if (ro) {
        print_status("write on the read-only disk", written);
    } else {
        check(written == 0, "write sectors 1-4");
        check(request(T_FLUSH, 0, 0, false, false) == 0, "flush");
        uint64_t hold = 0;
        if (cmdline_number(boot->cmdline, "blk.hold", &hold) && hold) {
            print("blk: flush acknowledged, holding\n"); /* the durability test kills the VMM now */
            for (;;)
                cpu_relax();
        }
        memset(data, 0, sizeof data);
        bool same = request(T_IN, 1, 4 * SECTOR, true, false) == 0;
        for (int i = 0; i < 4 * SECTOR && same; i++)
            same = data[i] == (uint8_t)(i * 13 + 7);
        check(same, "read back sectors 1-4");
    }
    memset(data, 0, 32);
    check(request(T_GET_ID, 0, 20, true, false) == 0, "get id");
    print("id: ");
    print((const char *)data);
    print("\n");
    print("blk: done\n");
    uint64_t watch = 0;
    if (cmdline_number(boot->cmdline, "blk.watch", &watch) && watch)
        watch_capacity(blk);
    return check_failures();
}
