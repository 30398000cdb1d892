/* blkwrite: a scripted sequence of writes, write-zeroes and discards on the first virtio-blk
 * disk, each printed as the qemu-io command that repeats it ("blkwrite: write -P 0x5a 4096
 * 1536"), so the host can replay the same requests through QEMU's own image code on a second
 * overlay and compare the two (tests/integration/qcow2.sh). Writes fill with one byte each,
 * start at any sector and reach up to 128 KiB, so they cross and partly cover clusters.
 * blkwrite.seed=N picks the sequence and blkwrite.count=N its length (default 96);
 * blkwrite.forever=1 keeps writing without printing, after "blkwrite: running" (the SIGKILL
 * test). Ends with a FLUSH and "blkwrite: done". Exit code: number of failed checks. */
#include "runtime/runtime.h"
#include "runtime/virtio.h"

#define T_OUT 1
#define T_FLUSH 4
#define T_DISCARD 11
#define T_WRITE_ZEROES 13
#define F_FLUSH (1ull << 9)
#define F_DISCARD (1ull << 13)
#define F_WRITE_ZEROES (1ull << 14)
#define SECTOR 512
#define MAX_SECTORS 256

struct req_header {
    uint32_t type, reserved;
    uint64_t sector;
};
struct segment {
    uint64_t sector;
    uint32_t num_sectors, flags;
};

static struct req_header header;
static struct segment seg;
static uint8_t data[MAX_SECTORS * SECTOR] __attribute__((aligned(4096)));
static uint8_t status;
static struct virtq vq;
static uint64_t state;

static uint64_t next_random(void) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return state >> 33;
}

static uint8_t request(uint32_t type, uint64_t sector, const void *buf, uint32_t len) {
    header = (struct req_header){type, 0, sector};
    status = 0xee;
    struct vbuf bufs[3] = {{&header, sizeof header, false}, {(void *)buf, len, false}, {&status, 1, true}};
    if (len)
        return virtq_run(&vq, bufs, 3, false) < 0 ? 0xff : status;
    bufs[1] = bufs[2];
    return virtq_run(&vq, bufs, 2, false) < 0 ? 0xff : status;
}

static void print_op(const char *op, uint64_t sector, uint64_t sectors) {
    print(op);
    print_dec(sector * SECTOR);
    print(" ");
    print_dec(sectors * SECTOR);
    print("\n");
}

/* One request of the sequence; `quiet` does not print it. */
static bool one_request(uint64_t capacity, bool quiet) {
    const uint64_t sectors = 1 + next_random() % MAX_SECTORS;
    const uint64_t sector = next_random() % (capacity - sectors + 1);
    const uint64_t kind = next_random() % 10;
    if (kind < 7) {
        const uint8_t fill = (uint8_t)next_random();
        memset(data, fill, sectors * SECTOR);
        if (!quiet) {
            print("blkwrite: write -P ");
            print_hex(fill);
            print_op(" ", sector, sectors);
        }
        return request(T_OUT, sector, data, (uint32_t)(sectors * SECTOR)) == 0;
    }
    seg = (struct segment){sector, (uint32_t)sectors, 0};
    if (!quiet)
        print_op(kind < 9 ? "blkwrite: write -z " : "blkwrite: discard ", sector, sectors);
    return request(kind < 9 ? T_WRITE_ZEROES : T_DISCARD, 0, &seg, sizeof seg) == 0;
}

int guest_main(const struct boot_info *boot) {
    struct virtio_dev devs[VIRTIO_MAX_DEVICES];
    struct virtio_dev *blk = virtio_find_device(boot->cmdline, devs, VIRTIO_ID_BLOCK);
    if (!blk) {
        print("blkwrite: no virtio-blk device\n");
        return 0x7c;
    }
    const uint64_t wanted = F_FLUSH | F_DISCARD | F_WRITE_ZEROES;
    check(virtio_negotiate(blk, wanted) && (blk->features & wanted) == wanted, "flush, discard, write-zeroes");
    const uint64_t capacity = virtio_config64(blk, 0);
    check(capacity > MAX_SECTORS, "the disk holds the largest write");
    check(virtio_setup_queue(blk, &vq, 0), "queue 0 ready");
    virtio_driver_ok(blk);
    uint64_t seed = 1, count = 96, forever = 0;
    cmdline_number(boot->cmdline, "blkwrite.seed", &seed);
    cmdline_number(boot->cmdline, "blkwrite.count", &count);
    cmdline_number(boot->cmdline, "blkwrite.forever", &forever);
    state = seed;
    if (check_failures())
        return check_failures();
    if (forever) {
        for (uint64_t i = 0;; i++) {
            if (!one_request(capacity, true))
                check(false, "a request failed");
            if (i == 32)
                print("blkwrite: running\n");
        }
    }
    uint64_t failed = 0;
    for (uint64_t i = 0; i < count; i++)
        failed += !one_request(capacity, false);
    check(failed == 0, "every request succeeded");
    check(request(T_FLUSH, 0, 0, 0) == 0, "flush");
    print("blkwrite: done\n");
    return check_failures();
}
