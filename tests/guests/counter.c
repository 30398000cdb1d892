/* counter: prints "tick 0" .. "tick 999" on COM1, one about every 2 million TSC cycles (about a
 * millisecond: the run takes a second or two on any host, long enough to be paused and resumed
 * many times), then resets through the i8042 (Ember exits 0). Its output does not depend on
 * timing, so a paused and resumed run must print exactly what an undisturbed one does.
 * With counter.mem=N (MiB, up to 256) it first writes a pattern into N MiB from 16 MiB (the
 * first and last word of every page: cheap to write, yet each page's own) and
 * records each tick in a log at 8 MiB, and at the end checks both: "counter: memory intact"
 * (or "counter: memory CORRUPTED at ADDR"), so a snapshot or migration that loses or
 * reorders a page shows.
 * With counter.churn=1 as well, tick i rewrites one part in CHURN_PARTS of that memory (part
 * i % CHURN_PARTS, its pattern plus i), so memory keeps changing while the guest runs, as a
 * live migration's pre-copy must follow; the check at the end expects each part's last write.
 * With counter.disk=1 it also writes each tick into sector (tick % 16) of the first virtio-blk
 * disk (one request per tick) and at the end reads the 16 sectors back: "counter: disk intact"
 * when each holds its last tick, so a device whose queue state a snapshot lost hangs or fails. */
#include "runtime/runtime.h"
#include "runtime/virtio.h"

#define TICKS 1000
#define TICK_TSC 2000000ull
#define LOG_BASE (8ull << 20)
#define FILL_BASE (16ull << 20)
#define CHURN_PARTS 64

#define SECTOR 512
#define DISK_SECTORS 16

struct blk_header {
    uint32_t type, reserved;
    uint64_t sector;
};
static struct blk_header header;
static uint64_t sector_data[SECTOR / 8];
static uint8_t status;
static struct virtq disk_queue;

/* One request of one sector: 1 writes sector_data, 0 reads into it; the status, or 0xff. */
static uint8_t disk_request(uint32_t type, uint64_t sector) {
    header = (struct blk_header){type, 0, sector};
    const struct vbuf bufs[] = {{&header, sizeof header, false}, {sector_data, SECTOR, type == 0}, {&status, 1, true}};
    return virtq_run(&disk_queue, bufs, 3, false) < 0 ? 0xff : status;
}

static bool disk_setup(const char *cmdline) {
    static struct virtio_dev devs[VIRTIO_MAX_DEVICES];
    struct virtio_dev *blk = virtio_find_device(cmdline, devs, VIRTIO_ID_BLOCK);
    if (!blk || !virtio_negotiate(blk, 0) || !virtio_setup_queue(blk, &disk_queue, 0))
        return false;
    virtio_driver_ok(blk);
    return true;
}

static bool disk_intact(void) {
    for (uint64_t s = 0; s < DISK_SECTORS; s++) {
        const uint64_t last = s + (TICKS - 1 - s) / DISK_SECTORS * DISK_SECTORS;  /* the last tick written there */
        if (disk_request(0, s) != 0 || sector_data[0] != last)
            return false;
    }
    return true;
}

static uint64_t pattern(uint64_t addr) { return (addr * 0x9e3779b97f4a7c15ull) ^ 0x5555aaaa5555aaaaull; }

/* The part of the fill memory a page is in, with churn: pages are dealt out in turn. */
static uint64_t part_of(uint64_t page) { return (page - FILL_BASE) / 4096 % CHURN_PARTS; }

/* What a word of the fill memory holds once `ticks` ticks ran (each part rewritten by the
 * ticks i with i % CHURN_PARTS == part). */
static uint64_t expected(uint64_t addr, bool churn, uint64_t ticks) {
    const uint64_t part = part_of(addr & ~4095ull);
    if (!churn || ticks <= part)
        return pattern(addr);
    return pattern(addr) + part + (ticks - 1 - part) / CHURN_PARTS * CHURN_PARTS;
}

static void churn(uint64_t fill_bytes, uint64_t tick) {
    const uint64_t first = FILL_BASE + tick % CHURN_PARTS * 4096;
    for (uint64_t page = first; page < FILL_BASE + fill_bytes; page += CHURN_PARTS * 4096) {
        for (uint64_t addr = page; addr < page + 4096; addr += 4088)
            *(volatile uint64_t *)addr = pattern(addr) + tick;
    }
}

static uint64_t check_memory(uint64_t fill_bytes, bool churned) {
    for (uint64_t i = 0; i < TICKS; i++) {
        if (((volatile uint64_t *)LOG_BASE)[i] != i)
            return LOG_BASE + i * 8;
    }
    for (uint64_t page = FILL_BASE; page < FILL_BASE + fill_bytes; page += 4096) {
        for (uint64_t addr = page; addr < page + 4096; addr += 4088) {
            if (*(volatile uint64_t *)addr != expected(addr, churned, TICKS))
                return addr;
        }
    }
    return 0;
}

int guest_main(const struct boot_info *boot) {
    uint64_t mib = 0;
    const bool memory = cmdline_number(boot->cmdline, "counter.mem", &mib) && mib > 0 && mib <= 256;
    const uint64_t fill_bytes = memory ? mib << 20 : 0;
    for (uint64_t page = FILL_BASE; page < FILL_BASE + fill_bytes; page += 4096) {
        for (uint64_t addr = page; addr < page + 4096; addr += 4088)
            *(volatile uint64_t *)addr = pattern(addr);
    }
    uint64_t churning = 0;
    const bool churns = memory && cmdline_number(boot->cmdline, "counter.churn", &churning) && churning;
    uint64_t disk = 0;
    if (cmdline_number(boot->cmdline, "counter.disk", &disk) && disk && !disk_setup(boot->cmdline)) {
        print("counter: no usable virtio-blk disk\n");
        return 0x7c;
    }
    for (uint64_t i = 0; i < TICKS; i++) {
        const uint64_t start = rdtsc();
        while (rdtsc() - start < TICK_TSC)
            cpu_relax();
        if (memory)
            ((volatile uint64_t *)LOG_BASE)[i] = i;
        if (churns)
            churn(fill_bytes, i);
        if (disk) {
            sector_data[0] = i;
            if (disk_request(1, i % DISK_SECTORS) != 0) {
                print("counter: disk write FAILED\n");
                return 0x7d;
            }
        }
        print("tick ");
        print_dec(i);
        print("\n");
    }
    if (memory) {
        const uint64_t bad = check_memory(fill_bytes, churns);
        if (bad) {
            print("counter: memory CORRUPTED at ");
            print_hex(bad);
            print("\n");
        } else {
            print("counter: memory intact\n");
        }
    }
    if (disk)
        print(disk_intact() ? "counter: disk intact\n" : "counter: disk CORRUPTED\n");
    print("counter: done\n");
    i8042_reset();
    return 0x7f;
}
